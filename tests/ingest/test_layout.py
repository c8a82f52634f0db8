"""Report layouts: the header found below a title block, report lines skipped and counted."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

import salesops_analysis as so
from salesops_analysis.config import config_from_dict
from salesops_analysis.ingest import read_export
from salesops_analysis.ingest.layout import (
    BLANK,
    GRAND_TOTAL,
    SECTION,
    SHORT,
    SUBTOTAL,
    TITLE,
)
from tests.conftest import write

COLUMNS = {
    "Num": "invoice_id",
    "Customer": "customer_id",
    "Date": "invoice_date",
    "Due Date": "due_date",
    "Amount": "amount",
    "Open Balance": "open_balance",
}
CFG = config_from_dict({"kinds": {"invoices": {"columns": COLUMNS}}})

# A/R aging detail as an accounting system prints it: title block, an unheaded first column
# holding the section labels, subtotals, a grand total, blank lines and a footer.
AGING = """Acme Ltd
A/R Aging Detail
As of January 5, 2021

,Date,Transaction Type,Num,Customer,Due Date,Amount,Open Balance
Current,,,,,,,
,12/28/2020,Invoice,1001,Cust A,01/27/2021,100.00,100.00
,12/30/2020,Invoice,1002,Cust B,01/29/2021,50.00,50.00
Total for Current,,,,,,150.00,150.00
1 - 30 days past due,,,,,,,
,11/20/2020,Invoice,1000,Cust A,12/20/2020,"1,000.00",400.00
Total for 1 - 30 days past due,,,,,,"1,000.00",400.00
,,,,,,,
TOTAL,,,,,,"1,150.00",550.00
,,,,,,,
"Tuesday, Jan 05, 2021 10:33:12 AM GMT-8 - Accrual Basis",,,,,,,
"""

EXPECTED_SKIPS = {
    1: TITLE,
    2: TITLE,
    3: TITLE,
    4: TITLE,
    6: SECTION,
    9: SUBTOTAL,
    10: SECTION,
    12: SUBTOTAL,
    13: BLANK,
    14: GRAND_TOTAL,
    15: BLANK,
    16: SECTION,
}


def test_header_is_found_below_the_title_block(tmp_path):
    p = write(tmp_path / "aging.csv", AGING)
    raw = read_export(p, CFG.kind("invoices"), "invoices")
    assert raw.header_line == 5
    assert raw.columns[0] == "(column 1)"  # unheaded, allowed since it is not mapped
    assert [s.line for s in raw.skipped] == [1, 2, 3, 4, 13, 15]  # title block, blank lines


def test_report_lines_are_skipped_and_counted_never_loaded(tmp_path):
    result = so.clean_file(write(tmp_path / "aging.csv", AGING), "invoices", CFG)
    assert result.data["invoice_id"].tolist() == ["1001", "1002", "1000"]  # file order
    assert result.data["amount"].sum() == 1150.0
    assert (result.rows_read, result.loaded, result.rejected, result.duplicates) == (15, 3, 0, 0)
    assert result.skipped == 12
    assert result.rows_read == result.loaded + result.rejected + result.duplicates + result.skipped
    skipped = result.skipped_frame
    assert dict(zip(skipped["line"], skipped["reason"], strict=True)) == EXPECTED_SKIPS
    texts = dict(zip(skipped["line"], skipped["text"], strict=True))
    assert texts[9] == "Total for Current,,,,,,150.00,150.00"
    assert texts[16].startswith("Tuesday, Jan 05, 2021")


def test_grand_total_that_does_not_tie_refuses_the_file(tmp_path):
    p = write(
        tmp_path / "aging.csv", AGING.replace('TOTAL,,,,,,"1,150.00"', 'TOTAL,,,,,,"1,200.00"')
    )
    with pytest.raises(
        so.FileRefusedError, match=r"grand total on line 14 does not tie.*1,200\.00"
    ):
        so.clean_file(p, "invoices", CFG)


def test_refused_report_leaves_the_warehouse_unchanged(tmp_path):
    p = write(tmp_path / "aging.csv", AGING.replace('TOTAL,,,,,,"1,150.00"', 'TOTAL,,,,,,"9.00"'))
    with so.open_warehouse(tmp_path / "w.duckdb") as wh:
        with pytest.raises(so.FileRefusedError):
            so.ingest_file(wh, p, CFG, kind="invoices")
        assert wh.ingest_log().empty and wh.skipped_lines().empty
        assert wh.table("invoices").empty


def test_skipped_lines_are_listed_from_the_warehouse_and_reingest_is_a_no_op(tmp_path):
    p = write(tmp_path / "aging.csv", AGING)
    with so.open_warehouse(tmp_path / "w.duckdb") as wh:
        r = so.ingest_file(wh, p, CFG, kind="invoices")
        assert "+ skipped 12 (report lines)" in r.line()
        log = wh.ingest_log().iloc[0]
        assert (log.rows_read, log.rows_loaded, log.rows_skipped) == (15, 3, 12)
        listed = wh.skipped_lines(r.file_id)
        assert listed["line"].tolist() == sorted(EXPECTED_SKIPS)
        assert set(listed.columns) >= {"file_name", "line", "text", "reason"}
        assert so.ingest_file(wh, p, CFG, kind="invoices").status == "already ingested"
        assert len(wh.skipped_lines()) == 12 and len(wh.table("invoices")) == 3


def test_aging_report_as_a_workbook(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Acme Ltd"])
    ws.append(["A/R Aging Detail"])
    ws.append([])
    ws.append([None, "Date", "Num", "Customer", "Due Date", "Amount"])
    ws.append(["Current"])
    ws.append([None, dt.datetime(2020, 12, 28), 1001, "Cust A", dt.datetime(2021, 1, 27), 100])
    ws.append([None, dt.datetime(2020, 12, 30), 1002, "Cust B", dt.datetime(2021, 1, 29), 50.5])
    ws.append(["Total for Current", None, None, None, None, 150.5])
    ws.append(["TOTAL", None, None, None, None, 150.5])
    wb.save(tmp_path / "aging.xlsx")
    result = so.clean_file(tmp_path / "aging.xlsx", "invoices", CFG)
    assert result.data["amount"].tolist() == [100.0, 50.5]
    skipped = result.skipped_frame
    assert dict(zip(skipped["line"], skipped["reason"], strict=True)) == {
        1: TITLE,
        2: TITLE,
        3: TITLE,
        5: SECTION,
        8: SUBTOTAL,
        9: GRAND_TOTAL,
    }
    assert result.rows_read == 8 == result.loaded + result.skipped


def test_workbook_grand_total_is_checked(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["invoice_id", "customer_id", "invoice_date", "due_date", "amount"])
    ws.append(["I1", "C1", dt.datetime(2021, 1, 1), dt.datetime(2021, 1, 31), 10])
    ws.append(["Total", None, None, None, 11])
    wb.save(tmp_path / "invoices.xlsx")
    with pytest.raises(so.FileRefusedError, match="does not tie"):
        so.clean_file(tmp_path / "invoices.xlsx", "invoices", so.Config())


def test_explicit_header_row(tmp_path):
    p = write(tmp_path / "payments.csv", "Bank receipts\nref,inv,day,amt\nP1,I1,2025-01-02,10\n")
    cfg = config_from_dict(
        {
            "kinds": {
                "payments": {
                    "header_row": 2,
                    "columns": {
                        "ref": "payment_id",
                        "inv": "invoice_id",
                        "day": "payment_date",
                        "amt": "amount",
                    },
                }
            }
        }
    )
    result = so.clean_file(p, "payments", cfg)
    assert (result.loaded, result.skipped) == (1, 1)


def test_header_row_must_be_auto_or_a_line_number():
    with pytest.raises(so.ConfigError, match="header_row"):
        config_from_dict({"kinds": {"payments": {"header_row": 0}}})


def test_row_with_data_but_no_key_is_rejected_not_skipped(tmp_path):
    p = write(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount\n"
        "I1,C1,2025-01-01,2025-01-31,10\n"
        ",C2,2025-01-02,2025-02-01,20\n"  # a date: a data row with its key missing
        ",C3,,,30\n",  # several cells, no Total label: a data row too
    )
    result = so.clean_file(p, "invoices", so.Config())
    assert (result.loaded, result.rejected, result.skipped) == (1, 2, 0)
    rejects = result.rejects_frame
    assert set(rejects["line"]) == {3, 4}
    assert set(rejects.loc[rejects["column"] == "invoice_id", "reason"]) == {"blank key"}


def test_blank_lines_and_one_cell_footer_in_a_plain_export(tmp_path):
    p = write(
        tmp_path / "payments.csv",
        "payment_id,invoice_id,payment_date,amount\n"
        "P1,I1,2025-01-02,10\n"
        "\n"
        ",,,\n"
        "P2,I2,2025-01-03,20\n"
        "Printed 2025-01-05 by admin\n",  # wrong width, one cell
    )
    result = so.clean_file(p, "payments", so.Config())
    assert (result.rows_read, result.loaded, result.skipped) == (5, 2, 3)
    skipped = result.skipped_frame
    assert dict(zip(skipped["line"], skipped["reason"], strict=True)) == {
        3: BLANK,
        4: BLANK,
        6: SHORT,
    }


def test_total_label_in_the_key_column(tmp_path):
    p = write(
        tmp_path / "payments.csv",
        "payment_id,invoice_id,payment_date,amount\nP1,I1,2025-01-02,10\nP2,I2,2025-01-02,5\n"
        "Total,,,15\n",
    )
    result = so.clean_file(p, "payments", so.Config())
    assert (result.loaded, result.skipped) == (2, 1)
    assert result.skipped_frame["reason"].tolist() == [GRAND_TOTAL]


def test_several_total_rows_are_subtotals_and_not_checked(tmp_path):
    p = write(
        tmp_path / "payments.csv",
        "payment_id,invoice_id,payment_date,amount\nP1,I1,2025-01-02,10\nTotal,,,10\n"
        "P2,I2,2025-01-02,5\nTotal,,,5\n",
    )
    result = so.clean_file(p, "payments", so.Config())
    assert (result.loaded, result.skipped) == (2, 2)


def test_empty_header_of_a_mapped_column_is_still_missing(tmp_path):
    p = write(tmp_path / "payments.csv", "payment_id,,payment_date,amount\nP1,I1,2025-01-02,10\n")
    with pytest.raises(so.FileRefusedError, match="invoice_id missing"):
        so.clean_file(p, "payments", so.Config())


def test_one_row_report_and_header_only_report(tmp_path):
    one = write(
        tmp_path / "a.csv",
        "Report\n" + "payment_id,invoice_id,payment_date,amount\nP1,I1,2025-01-02,1\n",
    )
    assert so.clean_file(one, "payments", so.Config()).loaded == 1
    empty = write(tmp_path / "b.csv", "Report\npayment_id,invoice_id,payment_date,amount\n")
    with pytest.raises(so.FileRefusedError, match="no data rows"):
        so.clean_file(empty, "payments", so.Config())


def test_report_with_only_report_lines_loads_nothing_and_checks_its_total(tmp_path):
    head = "Receipts\npayment_id,invoice_id,payment_date,amount\n"
    result = so.clean_file(write(tmp_path / "payments.csv", head + "Total,,,0.00\n"), "payments")
    assert (result.rows_read, result.loaded, result.skipped) == (2, 0, 2)
    with pytest.raises(so.FileRefusedError, match="does not tie"):
        so.clean_file(write(tmp_path / "payments2.csv", head + "Total,,,5.00\n"), "payments")
