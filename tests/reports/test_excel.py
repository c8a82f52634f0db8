"""The worklist files on their own: every formula-like prefix neutralized, types kept."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from salesops_analysis.reports.excel import write_worklist_csv, write_worklist_xlsx

RISKY = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
SAFE = ["a=b", "Acme Ltd", None]


def _frame() -> pd.DataFrame:
    names = RISKY + SAFE
    n = len(names)
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "customer_id": pd.Series([f"C{i:03d}" for i in range(n)], dtype="str"),
            "customer_name": pd.Series(names, dtype="str"),
            "due_date": pd.to_datetime(["2025-06-30"] * (n - 1) + [None]),
            "open_amount_reporting": [1234.5] * (n - 1) + [np.nan],
            "probability": np.linspace(0.1, 0.9, n),
        }
    )


def test_csv_neutralizes_every_formula_prefix(tmp_path):
    path = write_worklist_csv(_frame(), tmp_path / "w.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    names = [r["customer_name"] for r in rows]
    assert names[: len(RISKY)] == ["'" + v for v in RISKY]
    assert names[len(RISKY) :] == ["a=b", "Acme Ltd", ""]
    assert rows[0]["due_date"] == "2025-06-30" and rows[-1]["due_date"] == ""
    assert rows[0]["customer_id"] == "C000" and rows[-1]["open_amount_reporting"] == ""


def test_xlsx_keeps_text_as_text_and_numbers_formatted(tmp_path):
    path = write_worklist_xlsx(_frame(), tmp_path / "w.xlsx")
    ws = load_workbook(path).active
    assert [c.value for c in ws[1]][:3] == ["rank", "customer id", "customer name"]
    assert ws.freeze_panes == "E2" and ws.auto_filter.ref == "A1:F10"
    for r, value in enumerate(RISKY, start=2):
        cell = ws.cell(row=r, column=3)
        # a carriage return is stored escaped (_x000D_), which Excel reads back as "\r"
        assert cell.value.replace("_x000D_", "\r") == value
        assert cell.data_type == "s" and cell.quotePrefix
    assert ws.cell(row=8, column=3).value == "a=b" and not ws.cell(row=8, column=3).quotePrefix
    assert ws.cell(row=10, column=3).value is None
    assert ws.cell(row=2, column=4).value == dt.datetime(2025, 6, 30)
    assert ws.cell(row=2, column=4).number_format == "yyyy-mm-dd"
    assert ws.cell(row=2, column=5).value == 1234.5
    assert ws.cell(row=2, column=5).number_format == "#,##0.00"
    assert ws.cell(row=10, column=5).value is None


def _width(ws, col: int) -> int:
    """The width of column ``col`` (1-based) in characters (xlsxwriter stores w as w + 0.71)."""
    for dim in ws.column_dimensions.values():
        if dim.min <= col <= dim.max:
            return int(dim.width)
    raise AssertionError(f"no width for column {col}")


def test_sheet_names_are_valid_unique_and_at_most_31_characters():
    from salesops_analysis.reports.excel import sheet_name

    used: set[str] = set()
    assert sheet_name("Calls a/b:c[d]*?\\", used) == "Calls a_b_c_d____"
    assert sheet_name("  'Calls Ana'  ", used) == "Calls Ana"
    assert sheet_name("calls ana", used) == "calls ana (2)"  # unique ignoring case
    assert sheet_name("CALLS ANA", used) == "CALLS ANA (3)"
    assert sheet_name("   ", used) == "Sheet"
    assert sheet_name("XCalls X'", used) == "XCalls X"  # only quotes and spaces are stripped
    long = "Calls " + "x" * 40
    assert sheet_name(long, used) == long[:31]
    assert sheet_name(long, used) == long[:27] + " (2)"
    assert len(long[:27] + " (2)") == 31
    assert used == {
        "calls a_b_c_d____",
        "calls ana",
        "calls ana (2)",
        "calls ana (3)",
        "sheet",
        "xcalls x",
        long[:31].lower(),
        (long[:27] + " (2)").lower(),
    }


def test_workbook_sheets_header_widths_freeze_filters_and_cell_types(tmp_path):
    frame = pd.DataFrame(
        {
            "rank": [1, 2],
            "customer_id": pd.Series(["C1", "C2"], dtype="str"),
            "reason_1": pd.Series(["late twice", ""], dtype="str"),
            "a_very_long_column_name_here_x": [0.25, np.nan],
            "probability": [0.125, 0.5],
            "in_dispute": [True, False],
            "invoice_date": pd.to_datetime(["2025-06-01", None]),
            "open_amount": [1234.5, 0.0],
        }
    )
    customers = frame[["customer_id", "open_amount"]]
    path = write_worklist_xlsx(
        frame,
        tmp_path / "w.xlsx",
        title="Today",
        customers=customers,
        calls={"Ana": frame.iloc[:0], "ana": frame.iloc[:1]},
    )
    wb = load_workbook(path)
    assert wb.sheetnames == ["Customers", "Today", "Calls Ana", "Calls ana (2)"]
    ws = wb["Today"]
    header = list(ws[1])
    assert [c.value for c in header] == [
        "rank",
        "customer id",
        "reason 1",
        "a very long column name here x",
        "probability",
        "in dispute",
        "invoice date",
        "open amount",
    ]
    for c in header:
        assert c.font.b and c.font.color.rgb == "FFFFFFFF" and c.fill.fgColor.rgb == "FF1F3A5F"
        assert c.alignment.wrap_text and c.alignment.vertical == "center"
    # widths: reason 38; else the name's length + 2, at least 10 and at most 24
    assert [_width(ws, j) for j in range(1, 9)] == [10, 13, 38, 24, 13, 12, 14, 13]
    assert ws.freeze_panes == "E2" and ws.auto_filter.ref == "A1:H3"
    assert [c.value for c in ws[2]] == [
        1,
        "C1",
        "late twice",
        0.25,
        0.125,
        "yes",
        dt.datetime(2025, 6, 1),
        1234.5,
    ]
    assert [c.number_format for c in ws[2]] == [
        "0",
        "General",
        "General",
        "General",
        "0.0%",
        "General",
        "yyyy-mm-dd",
        "#,##0.00",
    ]
    # blank: an empty text, a missing number, False, a missing date; 0 is a number
    assert [c.value for c in ws[3]] == [2, "C2", None, None, 0.5, None, None, 0]
    assert not any(c.quotePrefix for c in ws[2])
    # the customers sheet freezes its first three columns, unless it has no more than three
    cust = wb["Customers"]
    assert cust.freeze_panes == "A2" and cust.auto_filter.ref == "A1:B3"
    assert [c.value for c in cust[2]] == ["C1", 1234.5]
    calls = wb["Calls ana (2)"]
    assert calls.freeze_panes == "D2" and calls.max_row == 2
    # an empty sheet still has its header and a filter over one row
    assert wb["Calls Ana"].auto_filter.ref == "A1:H2" and wb["Calls Ana"].max_row == 1


def test_workbook_without_customers_or_calls_is_one_sheet(tmp_path):
    path = write_worklist_xlsx(_frame(), tmp_path / "w.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Worklist"]
    assert wb["Worklist"]["C8"].value == "a=b"


def test_headers_stay_text_dates_keep_their_format_and_the_first_columns_freeze(tmp_path):
    """Column names that look like a formula, a number or a link are written as text; a date
    column without a format of its own is shown as a date; the Customers sheet freezes its
    first three columns once it has more than three."""
    import zipfile

    frame = pd.DataFrame(
        {
            "=1+1": [1.0],
            "2025": [2.0],
            "https://x.test": [3.0],
            "promised_date": pd.to_datetime(["2025-07-01"]),
        }
    )
    customers = pd.DataFrame({c: ["v"] for c in ["a", "b", "c", "d", "e"]})
    path = write_worklist_xlsx(frame, tmp_path / "w.xlsx", customers=customers)
    wb = load_workbook(path)
    ws = wb["Worklist"]
    assert [c.value for c in ws[1]] == ["=1+1", "2025", "https://x.test", "promised date"]
    assert [c.data_type for c in ws[1]] == ["s"] * 4 and ws["C1"].hyperlink is None
    assert ws["D2"].value == dt.datetime(2025, 7, 1) and ws["D2"].number_format == "yyyy-mm-dd"
    assert wb["Customers"].freeze_panes == "D2"
    three = write_worklist_xlsx(frame, tmp_path / "3.xlsx", customers=customers.iloc[:, :3])
    assert load_workbook(three)["Customers"].freeze_panes == "A2"
    # constant-memory mode: rows are streamed with their strings inline (no shared table)
    with zipfile.ZipFile(path) as z:
        assert "xl/sharedStrings.xml" not in z.namelist()
