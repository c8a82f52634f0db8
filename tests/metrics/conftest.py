"""Small hand-made frames whose right answers are obvious."""

from __future__ import annotations

import pandas as pd
import pytest


def invoices(rows: list[tuple]) -> pd.DataFrame:
    """(invoice_id, invoice_date, due_date, amount[, currency[, applies_to]])."""
    out = []
    for r in rows:
        inv_id, issued, due, amount = r[:4]
        out.append(
            {
                "invoice_id": inv_id,
                "customer_id": "C1",
                "order_id": None,
                "invoice_date": pd.Timestamp(issued),
                "due_date": pd.Timestamp(due),
                "amount": float(amount),
                "currency": r[4] if len(r) > 4 else "USD",
                "status": "open",
                "paid_amount": 0.0,
                "paid_date": pd.NaT,
                "disputed": False,
                "payment_terms": "NET30",
                "applies_to_invoice_id": r[5] if len(r) > 5 else None,
            }
        )
    frame = pd.DataFrame(out)
    for c in ("order_id", "applies_to_invoice_id"):
        frame[c] = frame[c].astype("str").where(frame[c].notna())
    return frame


def payments(rows: list[tuple]) -> pd.DataFrame:
    """(invoice_id, payment_date, amount[, currency])."""
    return pd.DataFrame(
        [
            {
                "payment_id": f"P{i}",
                "invoice_id": r[0],
                "customer_id": "C1",
                "payment_date": pd.Timestamp(r[1]),
                "amount": float(r[2]),
                "currency": r[3] if len(r) > 3 else "USD",
            }
            for i, r in enumerate(rows)
        ],
        columns=["payment_id", "invoice_id", "customer_id", "payment_date", "amount", "currency"],
    )


@pytest.fixture
def make_invoices():
    return invoices


@pytest.fixture
def make_payments():
    return payments
