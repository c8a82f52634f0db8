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
    columns, filters, number and date formats, column widths; text cells never formulas.

    Uses openpyxl's streaming (write-only) mode: a worklist of 50,000 rows writes in seconds.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    columns = list(worklist.columns)
    for j, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(j)].width = _WIDTHS.get(
            c, max(10, min(24, len(c) + 2)))
    ws.freeze_panes = "E2" if len(columns) > 4 else "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(worklist) + 1)}"
    header_font, header_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid",
                                                                             fgColor="1F3A5F")
    header = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=name.replace("_", " "))
        cell.font, cell.fill = header_font, header_fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        header.append(cell)
    ws.append(header)
    text_cols = [c for c in columns if worklist[c].dtype == object
                 or pd.api.types.is_string_dtype(worklist[c])]
    date_cols = [c for c in columns if pd.api.types.is_datetime64_any_dtype(worklist[c])]
    data = {}
    for c in columns:  # plain Python values per column, converted once, vectorized
        col = worklist[c]
        if c in date_cols:
            data[c] = [None if pd.isna(v) else v for v in col.dt.to_pydatetime()]
        elif c in text_cols:
            data[c] = col.astype("str").where(col.notna(), "").tolist()
        else:
            data[c] = col.tolist()
    risky = {c: {i for i, v in enumerate(data[c]) if v.startswith(_DANGEROUS)}
             for c in text_cols}
    formats = [_FORMATS.get(c) for c in columns]
    for i in range(len(worklist)):  # openpyxl writes row by row; this is its fast path
        row = []
        for c, fmt in zip(columns, formats, strict=True):
            v = data[c][i]
            if fmt is None and c not in risky and not (isinstance(v, str) and v[:1] == "="):
                row.append(v)
                continue
            cell = WriteOnlyCell(ws, value=v)
            if c in risky:
                cell.data_type = "s"  # a string, even if it looks like a formula
                if i in risky[c]:
                    cell.quotePrefix = True
            if fmt:
                cell.number_format = fmt
            row.append(cell)
        ws.append(row)
    path = Path(path)
    wb.save(path)
    return path
