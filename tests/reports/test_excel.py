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
