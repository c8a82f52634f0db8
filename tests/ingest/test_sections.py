"""``section_column``: a section line's text is a column's value for the rows below it."""

from __future__ import annotations

import salesops_analysis as so
from salesops_analysis.config import config_from_dict
from tests.conftest import write

HEADER = "Invoice Date,Invoice Number,Due Date,Total\n"


def cfg(**extra):
    kind = {
        "columns": {
            "Invoice Date": "invoice_date",
            "Invoice Number": "invoice_id",
            "Due Date": "due_date",
            "Total": "amount",
        },
        "default_currency": "USD",
        "date_formats": ["%Y-%m-%d"],
        "section_column": "customer_id",
        **extra,
    }
    return config_from_dict({"kinds": {"invoices": kind}})


def test_each_row_gets_the_section_above_it(tmp_path):
    p = write(
        tmp_path / "aged.csv",
        "Aged Receivables Detail\nAs at 30 June 2025\n\n"
        + HEADER
        + "Bayside Club,,,\n"
        + "2025-05-01,INV-1,2025-05-31,100.00\n"
        + "2025-05-02,INV-2,2025-06-01,50.00\n"
        + "Total Bayside Club,,,150.00\n"
        + ",,,\n"
        + "City Agency,,,\n"
        + "2025-05-03,INV-3,2025-06-02,(20.00)\n"
        + "Total City Agency,,,(20.00)\n"
        + "Total,,,130.00\n",
    )
    result = so.clean_file(p, "invoices", cfg())
    data = result.data.set_index("invoice_id")
    assert data["customer_id"].to_dict() == {
        "INV-1": "Bayside Club",
        "INV-2": "Bayside Club",
        "INV-3": "City Agency",
    }
    assert (result.rows_read, result.loaded, result.rejected, result.skipped) == (12, 3, 0, 9)
    reasons = result.skipped_frame.set_index("line")["reason"]
    assert reasons[5].startswith("section") and reasons[10].startswith("section")
    assert reasons[8] == "subtotal" and reasons[13] == "grand total"


def test_rows_above_the_first_section_have_no_customer_and_are_rejected(tmp_path):
    p = write(
        tmp_path / "aged.csv",
        HEADER + "2025-05-01,INV-0,2025-05-31,1.00\nAcme,,,\n2025-05-02,INV-1,2025-06-01,2.00\n",
    )
    result = so.clean_file(p, "invoices", cfg())
    assert result.data["customer_id"].tolist() == ["Acme"]
    r = result.rejects_frame
    assert r[["line", "column", "reason"]].values.tolist() == [[2, "customer_id", "missing value"]]


def test_a_customer_column_in_the_file_wins_over_the_sections(tmp_path):
    p = write(
        tmp_path / "aged.csv",
        "Invoice Date,Invoice Number,Due Date,Total,Customer\nAcme,,,,\n"
        "2025-05-02,INV-1,2025-06-01,2.00,C-9\n",
    )
    config = cfg()
    config.kinds["invoices"].columns["Customer"] = "customer_id"
    assert so.clean_file(p, "invoices", config).data["customer_id"].tolist() == ["C-9"]


def test_identical_rows_under_two_customers_are_not_duplicates(tmp_path):
    row = "2025-05-01,INV-1,2025-05-31,100.00\n"
    p = write(tmp_path / "aged.csv", HEADER + "A,,,\n" + row + "B,,,\n" + row + row)
    result = so.clean_file(p, "invoices", cfg())
    assert result.duplicates == 1  # the second row under B
    assert result.rejected == 1  # INV-1 under A is superseded by INV-1 under B
    assert result.data["customer_id"].tolist() == ["B"]


def test_a_date_alone_on_a_line_is_still_rejected_not_a_section(tmp_path):
    p = write(tmp_path / "aged.csv", HEADER + "A,,,\n2025-05-01,,,\n")
    result = so.clean_file(p, "invoices", cfg())
    assert result.rejected == 1 and "blank key" in result.rejects_frame["reason"].tolist()
    assert result.skipped_frame["line"].tolist() == [2]


def test_section_column_must_be_an_id_or_text_column(tmp_path):
    p = write(tmp_path / "aged.csv", HEADER + "A,,,\n2025-05-01,INV-1,2025-05-31,1\n")
    try:
        so.clean_file(p, "invoices", cfg(section_column="amount"))
    except so.FileRefusedError as exc:
        assert "section_column names 'amount'" in str(exc)
    else:
        raise AssertionError("not refused")
