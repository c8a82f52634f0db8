"""A tiny hand-made book whose cash timing is known: each customer always pays a fixed number
of days after the due date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesops_analysis.metrics import Tables

AS_OF = "2025-01-15"
LATE_DAYS = {"C1": 0, "C2": 14}


def cash_book(
    *,
    late_days: dict[str, int] | None = None,
    first: str = "2024-01-01",
    last: str = AS_OF,
    every: int = 3,
    terms: int = 30,
    currency: dict[str, str] | None = None,
) -> Tables:
    """Return tables of invoices issued every ``every`` days per customer, each paid in full
    ``late_days[customer]`` days after its due date (payments dated after ``last`` included:
    a forecast as of ``last`` must not see them)."""
    late_days = LATE_DAYS if late_days is None else late_days
    currency = currency or {}
    inv, pay = [], []
    days = pd.date_range(first, last, freq=f"{every}D")
    for c, late in late_days.items():
        for i, day in enumerate(days):
            inv_id = f"{c}-{i:04d}"
            due = day + pd.Timedelta(days=terms)
            amount = 100.0 + 10.0 * (i % 7)
            ccy = currency.get(c, "USD")
            inv.append((inv_id, c, day, due, amount, ccy))
            pay.append((f"P{inv_id}", inv_id, c, due + pd.Timedelta(days=late), amount, ccy))
    invoices = pd.DataFrame(
        inv, columns=["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency"]
    )
    invoices["order_id"] = pd.Series([None] * len(invoices), dtype="str")
    invoices["status"] = "open"
    invoices["paid_amount"] = 0.0
    invoices["paid_date"] = pd.NaT
    invoices["applies_to_invoice_id"] = pd.Series([None] * len(invoices), dtype="str")
    for c in ("invoice_date", "due_date", "paid_date"):
        invoices[c] = invoices[c].astype("datetime64[us]")
    payments = pd.DataFrame(
        pay,
        columns=["payment_id", "invoice_id", "customer_id", "payment_date", "amount", "currency"],
    )
    payments["payment_date"] = payments["payment_date"].astype("datetime64[us]")
    return Tables(invoices=invoices, payments=payments)


def due_in_week(tables: Tables, as_of: str, weeks: int = 13) -> np.ndarray:
    """Return the cash each week brings if every customer pays as it always did (the known
    answer), computed plainly from the payments."""
    d = pd.Timestamp(as_of)
    pay = tables.payments
    inv = tables.invoices.set_index("invoice_id")
    open_then = inv.loc[pay["invoice_id"], "invoice_date"].to_numpy() <= d
    later = pay.loc[open_then & (pay["payment_date"] > d).to_numpy()]
    week = (later["payment_date"] - d).dt.days.add(6) // 7
    out = later.groupby(week)["amount"].sum().reindex(range(1, weeks + 1), fill_value=0.0)
    return out.to_numpy()
