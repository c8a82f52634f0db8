"""Worklist files for collectors: a formatted .xlsx and a .csv, safe against formula injection.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return could be
run as a formula by a spreadsheet (OWASP "CSV injection"). In the .xlsx such cells are written
as text with Excel's quote prefix (shown as typed, never evaluated); in the .csv they get a
leading apostrophe. Numbers and dates are written as numbers and dates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["neutralize", "write_worklist_csv", "write_worklist_xlsx"]

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")

_FORMATS = {
    "open_amount": "#,##0.00",
    "open_amount_reporting": "#,##0.00",
    "expected_late_amount": "#,##0.00",
    "probability": "0.0%",
    "invoice_date": "yyyy-mm-dd",
    "due_date": "yyyy-mm-dd",
    "days_past_due": "0",
    "rank": "0",
}
_WIDTHS = {"reason_1": 38, "reason_2": 38, "reason_3": 38, "next_action": 34,
           "last_activity": 30, "promise_status": 30, "customer_name": 28}


def neutralize(values: pd.Series) -> pd.Series:
    """Return text values with an apostrophe before any that a spreadsheet would evaluate."""
    s = values.astype("str")
    risky = s.str.startswith(_DANGEROUS) & values.notna()
    return s.where(~risky, "'" + s).where(values.notna(), "")


def write_worklist_csv(worklist: pd.DataFrame, path: str | Path) -> Path:
    """Write the worklist as CSV with text columns neutralized."""
    out = worklist.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = neutralize(out[col])
    path = Path(path)
    out.to_csv(path, index=False)
    return path


def write_worklist_xlsx(worklist: pd.DataFrame, path: str | Path, *, title: str = "Worklist"
                        ) -> Path:
    """Write the worklist as a formatted workbook: bold header, frozen header row and first
    columns, filters, number and date formats, column widths; text cells never formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = title[:31]
    columns = list(worklist.columns)
    header_fill = PatternFill("solid", fgColor="1F3A5F")
    for j, name in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=j, value=name.replace("_", " "))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    text_cols = {c for c in columns if worklist[c].dtype == object
                 or pd.api.types.is_string_dtype(worklist[c])}
    date_cols = {c for c in columns if pd.api.types.is_datetime64_any_dtype(worklist[c])}
    values = {c: worklist[c].to_numpy() for c in columns}
    for i in range(len(worklist)):  # openpyxl writes cell by cell; worklists are thousands
        r = i + 2
        for j, c in enumerate(columns, start=1):
            v = values[c][i]
            if c in date_cols:
                v = None if pd.isna(v) else pd.Timestamp(v).to_pydatetime()
            elif c in text_cols:
                v = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            elif isinstance(v, np.generic):
                v = v.item()
            cell = ws.cell(row=r, column=j, value=v)
            if c in text_cols:
                cell.data_type = "s"  # a string, even if it looks like a formula
                if str(v).startswith(_DANGEROUS):
                    cell.quotePrefix = True
            if c in _FORMATS:
                cell.number_format = _FORMATS[c]
    for j, c in enumerate(columns, start=1):
        width = _WIDTHS.get(c, max(10, min(24, len(c) + 2)))
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = "E2" if len(columns) > 4 else "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(worklist) + 1)}"
    ws.row_dimensions[1].height = 30
    path = Path(path)
    wb.save(path)
    return path
