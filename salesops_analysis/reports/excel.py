"""Worklist files for collectors: a formatted .xlsx and a .csv, safe against formula injection.

Which text cells a spreadsheet could run as a formula is the one rule of
:mod:`~salesops_analysis.reports.tables_out` (:func:`~salesops_analysis.reports.tables_out.risky`).
In the .xlsx such cells are written as text with Excel's quote prefix (shown as typed, never
evaluated); in the .csv they get a leading apostrophe. Numbers and dates are written as numbers
and dates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .tables_out import is_risky, neutralize, write_csv

__all__ = ["neutralize", "sheet_name", "write_worklist_csv", "write_worklist_xlsx"]


_FORMATS = {
    "open_amount": "#,##0.00",
    "open_amount_reporting": "#,##0.00",
    "expected_late_amount": "#,##0.00",
    "probability": "0.0%",
    "invoice_date": "yyyy-mm-dd",
    "due_date": "yyyy-mm-dd",
    "days_past_due": "0",
    "rank": "0",
    "overdue_amount_reporting": "#,##0.00",
    "open_invoices": "0",
    "overdue_invoices": "0",
    "oldest_days_past_due": "0",
}
_WIDTHS = {
    "reason_1": 38,
    "reason_2": 38,
    "reason_3": 38,
    "next_action": 34,
    "last_activity": 30,
    "promise_status": 30,
    "customer_name": 28,
    "last_contact": 36,
    "invoice_1": 40,
    "invoice_2": 40,
    "invoice_3": 40,
}


def write_worklist_csv(worklist: pd.DataFrame, path: str | Path) -> Path:
    """Write the worklist as CSV (UTF-8, text quoted, dates as YYYY-MM-DD) with text columns
    neutralized: :func:`~salesops_analysis.reports.tables_out.write_csv`."""
    return write_csv(worklist, path)


def write_worklist_xlsx(
    worklist: pd.DataFrame,
    path: str | Path,
    *,
    title: str = "Worklist",
    customers: pd.DataFrame | None = None,
    calls: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the worklist as a formatted workbook: bold header, frozen header row and first
    columns, filters, number and date formats, column widths; text cells never formulas.

    With ``customers`` (:func:`~salesops_analysis.risk.accounts.account_worklist`), a sheet
    ``Customers`` comes first; the invoice worklist follows in a sheet named ``title``; with
    ``calls`` (:func:`~salesops_analysis.risk.accounts.collector_calls`), one sheet per
    collector lists their calls for the day (sheet names made valid and unique).

    Uses XlsxWriter in constant-memory mode, which streams rows to disk and writes about twice
    as many cells a second as openpyxl's write-only mode (benchmarks/RESULTS.md). Text
    is always written as a string (never parsed as a formula, number or link); text that a
    spreadsheet would evaluate on editing also gets Excel's quote prefix.
    """
    import xlsxwriter

    path = Path(path)
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    try:
        used: set[str] = set()
        if customers is not None:
            _write_sheet(wb, sheet_name("Customers", used), customers, first_columns=3)
        _write_sheet(wb, sheet_name(title, used), worklist, first_columns=4)
        for collector, frame in (calls or {}).items():
            _write_sheet(wb, sheet_name(f"Calls {collector}", used), frame, first_columns=3)
    finally:
        wb.close()
    return path


_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def sheet_name(wanted: str, used: set[str]) -> str:
    """Return ``wanted`` made a valid, unused Excel sheet name (at most 31 characters, none of
    ``[]:*?/\\``, not blank, unique ignoring case) and record it in ``used``."""
    base = str(wanted).translate(_SHEET_FORBIDDEN).strip().strip("'") or "Sheet"
    name = base[:31]
    k = 2
    while name.lower() in used:
        suffix = f" ({k})"
        name = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(name.lower())
    return name


def _write_sheet(wb, name: str, frame: pd.DataFrame, *, first_columns: int) -> None:
    """Add one formatted sheet holding ``frame`` to the workbook ``wb``."""
    columns = list(frame.columns)
    n = len(frame)
    ws = wb.add_worksheet(name)
    header_fmt = wb.add_format(
        {
            "bold": True,
            "font_color": "#FFFFFF",
            "bg_color": "#1F3A5F",
            "text_wrap": True,
            "valign": "vcenter",
        }
    )
    quoted = wb.add_format({"quote_prefix": True})
    formats = {f: wb.add_format({"num_format": f}) for f in set(_FORMATS.values())}
    for j, c in enumerate(columns):
        ws.set_column(j, j, _WIDTHS.get(c, max(10, min(24, len(c) + 2))))
    ws.freeze_panes(1, first_columns if len(columns) > first_columns else 0)
    ws.autofilter(0, 0, max(n, 1), len(columns) - 1)
    ws.write_row(0, 0, [c.replace("_", " ") for c in columns], header_fmt)
    # per column: a writer, its values as plain Python objects (converted once,
    # vectorized) and the format of each cell
    plan = []
    for c in columns:
        col = frame[c]
        fmt = formats.get(_FORMATS.get(c))
        if pd.api.types.is_datetime64_any_dtype(col):
            values = [None if pd.isna(v) else v for v in col.dt.to_pydatetime()]
            plan.append((ws.write_datetime, values, [fmt or formats["yyyy-mm-dd"]] * n))
        elif pd.api.types.is_bool_dtype(col):
            plan.append((ws.write_string, np.where(col, "yes", "").tolist(), [None] * n))
        elif col.dtype == object or pd.api.types.is_string_dtype(col):
            text = col.astype("str").where(col.notna(), "")
            risky = is_risky(col)
            plan.append((ws.write_string, text.tolist(), np.where(risky, quoted, None).tolist()))
        else:
            values = [None if v != v else v for v in col.tolist()]  # NaN -> blank
            plan.append((ws.write_number, values, [fmt] * n))
    for i in range(n):  # constant-memory mode writes row by row
        r = i + 1
        for j, (write, values, fmts) in enumerate(plan):
            v = values[i]
            if v is None or v == "":
                continue
            write(r, j, v, fmts[i])
