"""What a series of open-items snapshots implies: settlements, cash collected, changes.

The rules, written once (each one SQL over the whole history, recomputed after every snapshot
or payments ingest by :func:`refresh_implied`):

* **Paid to date.** On a snapshot that lists an invoice, the invoice has been paid
  ``amount - open_amount``. On the first snapshot after one that listed it and that does not
  list it any more, it is wholly paid: it **left the list**.
* **Implied payment.** Every rise of the paid-to-date between two consecutive pictures of an
  invoice is a payment dated on the later snapshot's date, the first day it is known to have
  happened. ``gap_days`` records how many days earlier it may have been (the days since the
  earlier picture): with daily snapshots, 1.
* **First seen part-paid.** An invoice first listed already part-paid was paid the difference
  on or before that first snapshot: the payment is dated on that snapshot
  (``source = 'first seen part-paid'``); its ``gap_days`` count from the invoice date, or from
  the previous snapshot when the invoice was issued after it.
* A fall of the paid-to-date (an invoice back on the list, a balance that rose) is a negative
  implied payment (``source = 'balance rose'``), so that balances still match every snapshot.

The balance these payments give on a snapshot date is the snapshot's own open amount, invoice by
invoice, so aging as of a snapshot date reconciles to that snapshot's total
(:func:`snapshot_reconciliation` checks it). A cash collection and a credit note look alike in
an open-items list: both lower a balance, both are implied payments.

``implied_payments`` has the canonical payments columns (``payment_id``, ``invoice_id``,
``customer_id``, ``payment_date``, ``amount``, ``currency``) plus ``gap_days`` and ``source``.
:func:`~salesops_analysis.metrics.tables.load_tables` reads it as the payments when there is no
payments export. With a payments export, the export wins; ``snapshot_contradictions`` lists each
snapshot balance that invoices minus payments (and applied credit notes) to that date do not
give.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from ..warehouse import Warehouse

__all__ = [
    "SETTLEMENT_NOTE",
    "has_snapshots",
    "implied_payments",
    "refresh_implied",
    "snapshot_changes",
    "snapshot_contradictions",
    "snapshot_dates",
    "snapshot_reconciliation",
]

#: One sentence a report or model card shows when payments are implied by snapshots.
SETTLEMENT_NOTE = (
    "Payments are implied by open-items snapshots (no payments export): an invoice that leaves "
    "the list is taken as settled on the first snapshot without it, and a balance that falls "
    "as paid on the later snapshot's date, so settlement dates are known only to within the "
    "days between snapshots (gap_days)."
)

_CURRENT = "SELECT * FROM invoice_snapshots WHERE superseded_by IS NULL"

# Pictures of each invoice over time: where it is listed (its paid-to-date) and the first
# snapshot after a listing that no longer lists it (wholly paid).
_STATES = f"""
    WITH cur AS ({_CURRENT}),
    dates AS (
        SELECT snapshot_date AS day,
               lead(snapshot_date) OVER (ORDER BY snapshot_date) AS next_day,
               lag(snapshot_date) OVER (ORDER BY snapshot_date) AS prev_day
        FROM (SELECT DISTINCT snapshot_date FROM cur)),
    seen AS (
        SELECT c.*, d.next_day, d.prev_day,
               lead(c.snapshot_date) OVER (PARTITION BY c._key ORDER BY c.snapshot_date)
                   AS next_seen
        FROM cur c JOIN dates d ON d.day = c.snapshot_date)
    SELECT _key, invoice_id, customer_id, currency, invoice_date, prev_day,
           snapshot_date AS day, amount - open_amount AS paid, true AS listed
    FROM seen
    UNION ALL
    SELECT _key, invoice_id, customer_id, currency, invoice_date, snapshot_date,
           next_day, amount, false
    FROM seen
    WHERE next_day IS NOT NULL AND (next_seen IS NULL OR next_seen > next_day)"""

_IMPLIED = f"""
    CREATE OR REPLACE TABLE implied_payments AS
    WITH states AS ({_STATES}),
    steps AS (
        SELECT *, lag(day) OVER w AS before_day,
               round(paid - coalesce(lag(paid) OVER w, 0), 2) AS change
        FROM states
        WINDOW w AS (PARTITION BY _key ORDER BY day))
    SELECT 'SNAP-' || strftime(day, '%Y%m%d') || '-' || invoice_id AS payment_id,
           invoice_id, customer_id, day AS payment_date, change AS amount, currency,
           CAST(CASE
               WHEN before_day IS NOT NULL THEN day - before_day
               ELSE day - coalesce(greatest(invoice_date, prev_day), invoice_date, day)
           END AS INTEGER) AS gap_days,
           CASE
               WHEN before_day IS NULL THEN 'first seen part-paid'
               WHEN change < 0 THEN 'balance rose'
               WHEN NOT listed THEN 'left the list'
               ELSE 'balance fell'
           END AS source
    FROM steps
    WHERE abs(change) >= 0.005
    ORDER BY payment_date, invoice_id"""

# Snapshot balances against the payments export: for each listing (and each departure), the
# balance that invoices minus payments and applied credit notes dated up to then leave.
_CONTRADICTIONS = f"""
    CREATE OR REPLACE TABLE snapshot_contradictions AS
    WITH states AS ({_STATES}),
    inv AS (SELECT lower(invoice_id) AS _key, amount FROM invoices),
    pays AS (SELECT lower(invoice_id) AS _key, payment_date AS day, amount FROM payments
             WHERE invoice_id IS NOT NULL),
    credits AS (SELECT lower(applies_to_invoice_id) AS _key, invoice_date AS day,
                       -amount AS amount
                FROM invoices WHERE applies_to_invoice_id IS NOT NULL AND amount < 0),
    settled AS (SELECT * FROM pays UNION ALL SELECT * FROM credits),
    paid AS (
        SELECT s._key, s.day, sum(p.amount) AS settled
        FROM states s JOIN settled p ON p._key = s._key AND p.day <= s.day
        GROUP BY ALL),
    checked AS (
        SELECT s.day AS snapshot_date, s.invoice_id, s.customer_id, s.currency, s.listed,
               round(coalesce(i.amount, s.paid) - s.paid, 2) AS snapshot_open,
               round(coalesce(i.amount, s.paid) - coalesce(p.settled, 0), 2) AS payments_open
        FROM states s
        LEFT JOIN inv i ON i._key = s._key
        LEFT JOIN paid p ON p._key = s._key AND p.day = s.day)
    SELECT snapshot_date, invoice_id, customer_id, currency, snapshot_open, payments_open,
           round(snapshot_open - payments_open, 2) AS difference,
           CASE
               WHEN NOT listed THEN 'left the list, but payments leave it open'
               WHEN snapshot_open > payments_open
                   THEN 'snapshot balance larger than invoice minus payments'
               ELSE 'snapshot balance smaller than invoice minus payments'
           END AS problem
    FROM checked
    WHERE abs(snapshot_open - payments_open) >= 0.005
    ORDER BY snapshot_date, invoice_id"""


def has_snapshots(con: duckdb.DuckDBPyConnection) -> bool:
    """Return whether the warehouse holds any open-items snapshot."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'invoice_snapshots'"
    ).fetchall()[0][0]
    return bool(found) and bool(
        con.execute("SELECT count(*) FROM invoice_snapshots").fetchall()[0][0]
    )


def refresh_implied(con: duckdb.DuckDBPyConnection, *, has_payments: bool) -> int:
    """Recompute ``implied_payments`` and ``snapshot_contradictions`` from the whole history;
    return the number of contradictions with the payments export (0 without one).

    Run inside the ingest's transaction, after a snapshot or a payments export is loaded.
    """
    con.execute(_IMPLIED)
    if not has_payments:
        con.execute(
            "CREATE OR REPLACE TABLE snapshot_contradictions AS SELECT * FROM "
            "(SELECT NULL::DATE AS snapshot_date, NULL::VARCHAR AS invoice_id, NULL::VARCHAR AS "
            "customer_id, NULL::VARCHAR AS currency, NULL::DOUBLE AS snapshot_open, "
            "NULL::DOUBLE AS payments_open, NULL::DOUBLE AS difference, NULL::VARCHAR AS "
            "problem) WHERE false"
        )
        return 0
    con.execute(_CONTRADICTIONS)
    return int(con.execute("SELECT count(*) FROM snapshot_contradictions").fetchall()[0][0])


def _frame(wh: Warehouse, query: str, params: list | None = None) -> pd.DataFrame:
    if not has_snapshots(wh.con):
        import pandas as pd

        return pd.DataFrame()
    return wh.sql(query, params)


def implied_payments(wh: Warehouse) -> pd.DataFrame:
    """Return the payments the snapshots imply (empty without snapshots), oldest first."""
    return _frame(wh, "SELECT * FROM implied_payments ORDER BY payment_date, invoice_id")


def snapshot_contradictions(wh: Warehouse) -> pd.DataFrame:
    """Return the snapshot balances the payments export contradicts (empty without one)."""
    return _frame(wh, "SELECT * FROM snapshot_contradictions ORDER BY snapshot_date, invoice_id")


def snapshot_dates(wh: Warehouse) -> list[dt.date]:
    """Return the snapshot dates in the warehouse, oldest first."""
    frame = _frame(wh, "SELECT DISTINCT snapshot_date FROM invoice_snapshots ORDER BY 1")
    return [] if frame.empty else [d.date() for d in frame["snapshot_date"]]


def snapshot_changes(wh: Warehouse, day: dt.date | str) -> pd.DataFrame:
    """Return what changed on snapshot ``day`` against the snapshot before it.

    One row per invoice and change: ``paid`` (left the list), ``part-paid`` (its balance
    fell), ``newly overdue`` (listed, due before ``day`` and not yet past due on the previous
    snapshot date), ``new`` (first listed). ``amount`` is the payment for the first two, the
    open amount for the others. Empty when ``day`` is the first snapshot or not one at all.
    """
    return _frame(
        wh,
        f"""
        WITH cur AS ({_CURRENT}),
        prev AS (SELECT max(snapshot_date) AS d FROM cur WHERE snapshot_date < $day),
        today AS (SELECT * FROM cur WHERE snapshot_date = $day),
        before AS (SELECT * FROM cur WHERE snapshot_date = (SELECT d FROM prev))
        SELECT p.invoice_id, p.customer_id, p.currency, 'paid' AS change,
               p.open_amount AS amount
        FROM before p ANTI JOIN today t ON t._key = p._key
        WHERE EXISTS (SELECT 1 FROM today)
        UNION ALL
        SELECT t.invoice_id, t.customer_id, t.currency, 'part-paid',
               round(p.open_amount - t.open_amount, 2)
        FROM today t JOIN before p ON p._key = t._key
        WHERE p.open_amount - t.open_amount >= 0.005
        UNION ALL
        SELECT t.invoice_id, t.customer_id, t.currency, 'newly overdue', t.open_amount
        FROM today t, prev
        WHERE prev.d IS NOT NULL AND t.due_date < $day AND t.due_date >= prev.d
        UNION ALL
        SELECT t.invoice_id, t.customer_id, t.currency, 'new', t.open_amount
        FROM today t, prev
        WHERE prev.d IS NOT NULL AND t._key NOT IN (SELECT _key FROM before)
        ORDER BY 4, 1""",
        {"day": dt.date.fromisoformat(str(day)[:10])},
    )


def snapshot_reconciliation(wh: Warehouse) -> pd.DataFrame:
    """Return, per snapshot date and currency, the snapshot's own open total beside the open
    balance the warehouse's tables give on that date, and the difference.

    The difference is zero when the history is consistent: every invoice open on a snapshot
    date is on that snapshot. An invoice dated before a snapshot but first listed later
    (entered late, or backdated) makes it non-zero; so does a payments export that contradicts
    the snapshots (see ``snapshot_contradictions``).
    """
    import numpy as np
    import pandas as pd

    from .receivables import Ledger
    from .tables import load_tables

    totals = _frame(
        wh,
        "SELECT snapshot_date, currency, round(sum(open_amount), 2) AS snapshot_open "
        f"FROM ({_CURRENT}) GROUP BY ALL ORDER BY 1, 2",
    )
    if totals.empty:
        return pd.DataFrame(
            columns=["snapshot_date", "currency", "snapshot_open", "ledger_open", "difference"]
        )
    tables = load_tables(wh)
    led = Ledger(tables.invoices, tables.payments)
    currency = tables.invoices["currency"].astype("str").to_numpy()
    ledger_open = []
    for day, cur in zip(totals["snapshot_date"], totals["currency"], strict=True):
        _, open_amount = led.open_balances(day)
        ledger_open.append(round(float(open_amount[currency == str(cur)].sum()), 2))
    out = totals.assign(ledger_open=ledger_open)
    out["difference"] = np.round(out["snapshot_open"] - out["ledger_open"], 2)
    return out
