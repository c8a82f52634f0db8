"""Small hand-made canonical frames for tests: give the columns that matter, the rest is null."""

from __future__ import annotations

import pandas as pd

from salesops_analysis.metrics.tables import _empty
from salesops_analysis.risk.worklist import WORKLIST_COLUMNS


def canonical(kind: str, rows: list[dict]) -> pd.DataFrame:
    """Return a canonical ``kind`` frame (the warehouse's dtypes) holding ``rows``."""
    empty = _empty(kind)
    data = {}
    for col, dtype in empty.dtypes.items():
        values = [r.get(col) for r in rows]
        if str(dtype).startswith("datetime64"):
            data[col] = pd.to_datetime(pd.Series(values, dtype=object)).astype(dtype)
        elif str(dtype) == "bool":
            data[col] = pd.Series([bool(v) for v in values], dtype=bool)
        else:
            data[col] = pd.Series(values, dtype=dtype)
    extra = {k for r in rows for k in r} - set(empty.columns)
    assert not extra, f"not canonical {kind} columns: {extra}"
    return pd.DataFrame(data, columns=empty.columns)


def worklist_frame(rows: list[dict], *, currency: str = "USD") -> pd.DataFrame:
    """Return an invoice worklist (ranked as given) with the columns that matter filled."""
    n = len(rows)
    defaults = {
        "customer_name": "",
        "invoice_date": "2025-05-01",
        "due_date": "2025-06-01",
        "currency": currency,
        "reporting_currency": currency,
        "score_kind": "p_unpaid_30d",
        "probability": 0.5,
        "reason_1": "",
        "reason_2": "",
        "reason_3": "",
        "promise_status": "none",
        "last_activity": "none",
        "owner": "unassigned",
        "next_action": "",
        "dunning_stage": "",
    }
    full = []
    for i, r in enumerate(rows):
        row = {**defaults, **r, "rank": i + 1}
        row.setdefault("open_amount", row["open_amount_reporting"])
        row.setdefault(
            "expected_late_amount", round(row["probability"] * row["open_amount_reporting"], 2)
        )
        full.append(row)
    frame = pd.DataFrame(full, columns=WORKLIST_COLUMNS)
    for col in ("invoice_date", "due_date"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[us]")
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("str")
    assert len(frame) == n
    return frame
