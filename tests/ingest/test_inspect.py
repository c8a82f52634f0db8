"""`salesops inspect`: each guess on small hand-made exports, and the config it proposes."""

from __future__ import annotations

import pytest
import yaml

import salesops_analysis as so
from salesops_analysis.ingest.inspect import guess_header, inspect_export
from tests.conftest import IBM_CONFIG, IBM_CSV, requires_realdata, write


def proposed(tmp_path, name, text, kind=None):
    p = write(tmp_path / name, text)
    found = inspect_export(p, kind=kind)
    return found, yaml.safe_load(found.config_text)["kinds"][found.kind], p


def load(tmp_path, found, path):
    cfg_path = write(tmp_path / "proposed.yml", found.config_text)
    return so.clean_file(path, found.kind, str(cfg_path))


def test_header_below_a_title_block_is_guessed():
    rows = [(1, ["Acme Ltd"]), (2, ["Invoices", "2021"]), (3, []), (4, ["No", "Client", "Date"])]
    rows.append((5, ["1", "A", "01/02/2021"]))
    assert guess_header(rows) == 4
    assert guess_header([]) == 1
    assert guess_header([(1, ["a", "b"])]) == 1


def test_month_first_dates_with_evidence(tmp_path):
    found, kind, path = proposed(
        tmp_path,
        "invoices.csv",
        "Invoice No,Client,Date,Due Date,Total\n"
        "1,A,01/02/2021,01/31/2021,10.00\n2,B,01/05/2021,02/04/2021,20.00\n",
    )
    assert kind["date_formats"] == ["%m/%d/%Y"]
    assert "Due Date: 2 of 2 values parse as %m/%d/%Y; 1 are impossible as %d/%m/%Y" in (
        found.config_text
    )
    assert kind["columns"] == {
        "Invoice No": "invoice_id",
        "Client": "customer_id",
        "Date": "invoice_date",
        "Due Date": "due_date",
        "Total": "amount",
    }
    assert load(tmp_path, found, path).loaded == 2


def test_ambiguous_day_month_is_said(tmp_path):
    found, kind, _ = proposed(
        tmp_path,
        "payments.csv",
        "payment_id,invoice_id,payment_date,amount\nP1,I1,01/02/2021,1\nP2,I2,03/04/2021,2\n",
    )
    assert "# ambiguous: dates: every value parses as any of" in found.config_text
    assert "%d/%m/%Y" in found.config_text and "%m/%d/%Y" in found.config_text


def test_decimal_comma_and_day_first_dates(tmp_path):
    found, kind, path = proposed(
        tmp_path,
        "payments.csv",
        "Zahlung;Rechnung;Datum;Betrag\nZ1;R1;31.01.2021;1.234,56\nZ2;R2;28.02.2021;99,00-\n",
    )
    assert (kind["delimiter"], kind["decimal"], kind["thousands"]) == (";", ",", ".")
    assert kind["date_formats"] == ["%d.%m.%Y"]
    # no header names the columns: the dates and amounts are found by content
    assert kind["columns"]["Datum"] == "payment_date" and kind["columns"]["Betrag"] == "amount"
    assert "NEEDS EDITS" in found.config_text  # no invoice column: said, not guessed


def test_required_columns_taken_by_content(tmp_path):
    found, kind, path = proposed(
        tmp_path,
        "invoices.csv",
        "Invoice No,Client,Issued,Payable by,Value\n1,A,2021-01-02,2021-02-01,10.50\n"
        "2,B,2021-01-03,2021-02-02,20.25\n",
    )
    assert kind["columns"]["Issued"] == "invoice_date"
    assert kind["columns"]["Payable by"] == "due_date"
    assert kind["columns"]["Value"] == "amount"
    assert "by content" in found.config_text
    assert load(tmp_path, found, path).loaded == 2


def test_line_level_orders_get_summed_amounts(tmp_path):
    found, kind, path = proposed(
        tmp_path,
        "orders.csv",
        "Order No,Customer,Order Date,Line Total,Line No\n"
        "O1,C1,2021-01-02,10.00,1\nO1,C1,2021-01-02,15.50,2\nO2,C2,2021-01-03,7.00,1\n",
    )
    assert kind["lines"] == {"sum": ["amount"]}
    assert kind["columns"]["Line No"] == "line_id"
    result = load(tmp_path, found, path)
    assert (result.loaded, result.documents) == (3, 2)
    assert sorted(result.data["amount"]) == [7.0, 25.5]


def test_unknown_status_words_leave_status_unmapped_and_say_so(tmp_path):
    found, kind, path = proposed(
        tmp_path,
        "invoices.csv",
        "Invoice No,Client,Date,Due Date,Total,Status\n"
        "1,A,2021-01-02,2021-02-01,10.00,Sent\n2,B,2021-01-03,2021-02-02,5.00,Zorgle\n",
    )
    assert kind["columns"]["Status"] == "status_text"
    assert "'zorgle'" in found.config_text
    assert load(tmp_path, found, path).loaded == 2


def test_payments_without_id_are_said_to_get_derived_ids(tmp_path):
    found, kind, path = proposed(
        tmp_path, "payments.csv", "Invoice,Date,Amount\nI1,2021-01-02,10\nI2,2021-01-03,5\n"
    )
    assert "derives a stable id" in found.config_text
    assert load(tmp_path, found, path).loaded == 2


def test_file_name_without_kind_gets_a_file_pattern(tmp_path):
    found, kind, _ = proposed(
        tmp_path,
        "export.csv",
        "Invoice No,Client,Date,Due Date,Total\n1,A,2021-01-02,2021-02-01,10.00\n",
    )
    assert found.kind == "invoices" and kind["file_patterns"] == ["export.csv"]


def test_big_file_is_profiled_on_a_sample_and_says_so(tmp_path, monkeypatch):
    from salesops_analysis.ingest import inspect

    monkeypatch.setattr(inspect, "SAMPLE_ROWS", 10)
    rows = "".join(f"P{i},I{i},2021-01-{i % 28 + 1:02d},{i}.50\n" for i in range(100))
    found, _, _ = proposed(
        tmp_path, "payments.csv", "payment_id,invoice_id,payment_date,amount\n" + rows
    )
    assert found.sampled and "evenly spread sample of 10" in found.config_text
    assert "read 10 = loaded 10 + rejected 0 + duplicates 0 + skipped 0 (on the sample)" in (
        found.config_text
    )


def test_unreadable_file_is_refused(tmp_path):
    with pytest.raises(so.FileRefusedError):
        inspect_export(tmp_path / "missing.csv")
    with pytest.raises(so.FileRefusedError):
        inspect_export(write(tmp_path / "empty.csv", ""))


def test_sampled_config_still_reads_the_whole_file(tmp_path, monkeypatch):
    from salesops_analysis.ingest import inspect

    monkeypatch.setattr(inspect, "SAMPLE_ROWS", 7)
    rows = "".join(f'P{i},I{i},01/{i % 28 + 1:02d}/2021,"{i},000.50"\n' for i in range(60))
    found, _, path = proposed(
        tmp_path, "payments.csv", "payment_id,invoice_id,payment_date,amount\n" + rows
    )
    assert load(tmp_path, found, path).loaded == 60


def test_workbook_report_with_title_block_and_unheaded_column(tmp_path):
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Acme Ltd"])
    ws.append(["A/R Aging Detail"])
    ws.append([None, "Date", "Num", "Customer", "Due Date", "Amount"])
    ws.append(["Current"])
    ws.append([None, dt.datetime(2020, 12, 28), 1001, "Cust A", dt.datetime(2021, 1, 27), 100])
    ws.append([None, dt.datetime(2020, 12, 30), 1002, "Cust B", dt.datetime(2021, 1, 29), 50.5])
    ws.append(["TOTAL", None, None, None, None, 150.5])
    path = tmp_path / "aging.xlsx"
    wb.save(path)
    found = inspect_export(path)
    assert found.kind == "invoices" and found.header_line == 3
    assert "# header on line 3: lines 1-2 are a title block" in found.config_text
    assert "read 6 = loaded 2 + rejected 0 + duplicates 0 + skipped 4" in found.config_text
    assert load(tmp_path, found, path).data["amount"].sum() == 150.5


def test_line_level_balance_that_differs_between_lines_is_left_out(tmp_path):
    found, kind, path = proposed(
        tmp_path,
        "invoices.csv",
        "Invoice No,Client,Date,Due Date,Line Amount,Balance\n"
        "I1,A,2021-01-02,2021-02-01,10.00,4.00\nI1,A,2021-01-02,2021-02-01,5.00,1.00\n"
        "I2,B,2021-01-03,2021-02-02,7.00,7.00\n",
    )
    assert kind["lines"] == {"sum": ["amount"]}
    assert "Balance" not in kind["columns"]
    assert "differs between lines of one document: not mapped" in found.config_text
    result = load(tmp_path, found, path)
    assert sorted(result.data["amount"]) == [7.0, 15.0]


def test_camel_case_headers_are_read_as_words():
    from salesops_analysis.ingest.guess_columns import header_words as _words

    assert _words("customerID") == "customer id"
    assert _words("InvoiceAmount") == "invoice amount"
    assert _words(" Invoice No. ") == "invoice no"
    assert _words("") == ""


@requires_realdata
def test_inspect_reads_the_real_ibm_export_as_the_hand_written_example(tmp_path):
    found = inspect_export(IBM_CSV, kind="invoices")
    assert "NEEDS EDITS" not in found.config_text
    cfg_path = write(tmp_path / "proposed.yml", found.config_text)
    by_inspect = so.clean_file(IBM_CSV, "invoices", str(cfg_path)).data
    by_hand = so.clean_file(IBM_CSV, "invoices", str(IBM_CONFIG)).data
    cols = ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "paid_date"]
    cols += ["disputed", "status", "paid_amount"]
    assert by_inspect[cols].equals(by_hand[cols])
