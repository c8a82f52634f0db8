"""What was known at the end of a day ``T``: the input of every point-in-time feature.

A :class:`Knowledge` holds, per invoice row, only what the warehouse knew at the end of ``T``:
when each invoice was settled (if by ``T``), which customer it belongs to, its categories,
and the activities dated on or before ``T``. Rows after ``T`` are dropped here, once; the
features then read a day ``s <= T`` out of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..metrics.days import NO_DAY, day_number, day_numbers
from ..metrics.ids import id_keys, row_positions
from ..metrics.receivables import CENT, Ledger
from .events import stable_order

__all__ = ["CATEGORICAL_DEFAULT", "CONTACT_TYPES", "Knowledge", "settlement_days"]

#: Categorical features, read from the invoices or else from the customers export.
CATEGORICAL_DEFAULT = ["segment", "country"]
#: Activity types that count as a collector contact.
CONTACT_TYPES = ["call", "email", "meeting", "follow_up"]


@dataclass(frozen=True, kw_only=True, eq=False)
class Knowledge:
    """What was known at the end of day ``T``: invoices, when each was settled, activities.

    Build it with :meth:`of` (from warehouse tables) or :meth:`at` (from the frames). Arrays
    "per invoice row" follow the rows of ``ledger.invoices``; "per activity" arrays hold the
    activities dated on or before ``T`` that name a known invoice, in the export's order.

    Attributes
    ----------
    T : int
        The knowledge day (days since 1970-01-01).
    ledger : Ledger
        The invoices and their matched settlements (training may keep only its ``amount``,
        ``issued`` and ``due`` arrays).
    grace_days : int
        Days after the due date before a payment counts as late.
    customer : ndarray of int
        Customer code per invoice row (ids compared ignoring case and surrounding spaces;
        -1: no customer id).
    closed : ndarray of int
        Day the invoice was fully settled, if on or before ``T``; else ``NO_DAY``.
    modelled : ndarray of bool
        Rows that are invoices (positive amount) issued on or before ``T``.
    categories : dict of str to (ndarray, ndarray)
        Per categorical feature: a code per invoice row (-1: unknown) and the values; the last
        value is ``"unknown"``.
    act_row : ndarray of int
        Per activity: the invoice row it names.
    act_day : ndarray of int
        Per activity: its day (on or before ``T``).
    act_contact : ndarray of bool
        Per activity: a collector contact (:data:`CONTACT_TYPES`).
    act_promise : ndarray of bool
        Per activity: its outcome is a promise to pay.
    act_promised_day : ndarray of int
        Per activity: the promised payment day (``NO_DAY`` where none; it may be after ``T``).
    dispute_day : ndarray of int
        Per invoice row: the day of its first dispute activity (on or before ``T``), else
        ``NO_DAY``. The invoice's own undated ``disputed`` flag is never used.
    """

    T: int
    ledger: Ledger
    grace_days: int
    customer: np.ndarray
    closed: np.ndarray
    modelled: np.ndarray
    categories: dict[str, tuple[np.ndarray, np.ndarray]]
    act_row: np.ndarray
    act_day: np.ndarray
    act_contact: np.ndarray
    act_promise: np.ndarray
    act_promised_day: np.ndarray
    dispute_day: np.ndarray

    @classmethod
    def of(
        cls,
        tables,
        as_of,
        *,
        grace_days: int = 0,
        categorical: list[str] | tuple[str, ...] = (),
        ledger: Ledger | None = None,
    ) -> Knowledge:
        """Return what the warehouse ``tables`` knew at the end of ``as_of``.

        The one way the package builds its knowledge from a
        :class:`~salesops_analysis.metrics.tables.Tables`: invoices, payments, activities and
        customers as of ``as_of``, later rows ignored (see :meth:`at`).
        """
        return cls.at(
            as_of,
            tables.invoices,
            tables.payments,
            tables.activities,
            tables.customers,
            grace_days=grace_days,
            categorical=list(categorical),
            ledger=ledger,
        )

    @classmethod
    def at(
        cls,
        T,
        invoices: pd.DataFrame,
        payments: pd.DataFrame | None,
        activities: pd.DataFrame | None = None,
        customers: pd.DataFrame | None = None,
        *,
        grace_days: int = 0,
        categorical: list[str] | None = None,
        ledger: Ledger | None = None,
    ) -> Knowledge:
        """Return what was known at the end of ``T`` (later rows are ignored).

        ``ledger``, when given, must be the :class:`Ledger` of the same invoices and payments
        (it is reused, not rebuilt); ``categorical`` defaults to :data:`CATEGORICAL_DEFAULT`.
        """
        t = day_number(T)
        led = ledger or Ledger(invoices, payments, activities=activities)
        customer, distinct = _customer_codes(led.invoices["customer_id"])
        categorical = CATEGORICAL_DEFAULT if categorical is None else categorical
        return cls(
            T=t,
            ledger=led,
            grace_days=grace_days,
            customer=customer,
            closed=settlement_days(led, t),
            modelled=(led.amount > 0) & (led.issued <= t),
            categories=_categories(led.invoices, customers, categorical, customer, distinct),
            **_known_activities(led, activities, t),
        )

    # -- outcomes --------------------------------------------------------------------------
    def late_label(self, cutoff: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(known, late)`` per invoice row as seen at the end of ``cutoff``.

        Late means settled more than ``grace_days`` after the due date, or still unsettled
        past that point; an invoice neither settled nor past due + grace at ``cutoff`` is
        censored (``known`` False), never counted as on time.
        """
        deadline = self.ledger.due + self.grace_days
        closed = np.where(self.closed <= cutoff, self.closed, NO_DAY)
        settled = closed != NO_DAY
        late = np.where(settled, closed > deadline, cutoff > deadline)
        known = (settled | (cutoff > deadline)) & self.modelled & (self.ledger.issued <= cutoff)
        return known, late


def settlement_days(led: Ledger, T: int) -> np.ndarray:
    """Return the day each invoice became fully settled (on or before ``T``), else ``NO_DAY``.

    With payments: the first day on which its payments (and applied credit notes) reach the
    amount. Without: ``paid_date`` once ``paid_amount`` covers the amount. Written-off invoices
    are never settled.
    """
    n = len(led.amount)
    closed = np.full(n, NO_DAY, dtype=np.int64)
    if led.payments is not None:
        m = (led.pay_day <= T) & (led.pay_row >= 0)
        cn = led.applied_cn & (led.applies_to >= 0) & (led.issued <= T)
        rows = np.concatenate([led.pay_row[m], led.applies_to[cn]])
        days = np.concatenate([led.pay_day[m], led.issued[cn]])
        amts = np.concatenate([led.pay_amount[m], -led.amount[cn]])
        if len(rows):
            # by invoice row, then day; ties keep their input order
            order = stable_order(rows * (int(days.max()) - int(days.min()) + 1) + days - days.min())
            rows, days, amts = rows[order], days[order], amts[order]
            cum = np.cumsum(amts)
            starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
            before = np.r_[0.0, cum][starts]
            cum_in_group = cum - np.repeat(before, np.diff(np.r_[starts, len(rows)]))
            done = np.flatnonzero(cum_in_group >= led.amount[rows] - CENT)
            # rows are sorted: the first settling event of each row starts a run in rows[done]
            done_rows = rows[done]
            first = np.flatnonzero(np.r_[len(done_rows) > 0, done_rows[1:] != done_rows[:-1]])
            closed[done_rows[first]] = days[done[first]]
    else:
        paid = (led.paid_day <= T) & (led.paid_amount >= led.amount - CENT)
        closed = np.where(paid, led.paid_day, NO_DAY)
    closed[led.written_off] = NO_DAY
    return closed


def _customer_codes(customer_id: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Return a code per invoice row (ids compared ignoring case and surrounding spaces; -1
    where missing) and the distinct customer keys."""
    keys = id_keys(customer_id)
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    encoded = pc.dictionary_encode(keys)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return codes.astype(np.int64), encoded.dictionary


def _categories(
    inv: pd.DataFrame,
    customers: pd.DataFrame | None,
    categorical: list[str],
    customer: np.ndarray,
    distinct: pa.Array,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return, per categorical feature, a code per invoice row and its values (the last one
    ``"unknown"``, for code -1): from the invoice's own column, else from its customer's row
    of the customers export (matched once per distinct customer, not once per invoice).
    Values stay codes here; a feature table turns only its own rows into text."""
    cats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    cust_pos = None
    for name in categorical:
        if name in inv.columns:
            codes, values = _codes(inv[name])
        elif customers is not None and name in customers.columns and len(customers):
            if cust_pos is None:
                keys = pd.Series(distinct.cast(pa.string()), dtype="str")
                per_customer = row_positions(keys, customers["customer_id"])
                cust_pos = np.append(per_customer, -1)[customer]  # a missing id: -1
            cust_codes, values = _codes(customers[name])
            codes = np.where(cust_pos >= 0, cust_codes[np.maximum(cust_pos, 0)], -1)
        else:
            codes, values = np.full(len(inv), -1, dtype=np.int64), np.zeros(0, dtype=object)
        cats[name] = (codes, np.append(values, "unknown"))  # code -1 reads "unknown"
    return cats


def _known_activities(led: Ledger, activities: pd.DataFrame | None, t: int) -> dict:
    """Return the :class:`Knowledge` activity fields: the activities dated on or before ``t``
    that name a known invoice, and each invoice row's first dispute day."""
    dispute_day = np.full(len(led.amount), NO_DAY, dtype=np.int64)
    if activities is None or not len(activities):
        none = np.zeros(0, dtype=np.int64)
        flag = np.zeros(0, dtype=bool)
        return dict(
            act_row=none,
            act_day=none,
            act_contact=flag,
            act_promise=flag,
            act_promised_day=none,
            dispute_day=dispute_day,
        )
    if led.activities is activities:  # matched with the payments, in one pass
        rows = led.activity_rows
    else:
        rows = row_positions(activities["invoice_id"], led.invoices["invoice_id"])
    # each column is read whole (no copy of the activities table), then kept for the
    # activities known by the end of t that name a known invoice
    a_day = day_numbers(activities["activity_date"])
    keep = np.flatnonzero((a_day <= t) & (rows >= 0))
    rows, a_day = rows[keep], a_day[keep]
    outcome = activities["outcome"]
    dispute = _text_in(outcome, ["dispute"])[keep]
    np.minimum.at(dispute_day, rows[dispute], a_day[dispute])
    return dict(
        act_row=rows,
        act_day=a_day,
        act_contact=_text_in(activities["type"], CONTACT_TYPES)[keep],
        act_promise=_text_in(outcome, ["promise_to_pay"])[keep],
        act_promised_day=day_numbers(activities["promised_date"])[keep],
        dispute_day=dispute_day,
    )


def _text_in(values: pd.Series, texts: list[str]) -> np.ndarray:
    """Return where a text column equals one of ``texts`` (a missing value never does)."""
    arr = pa.array(values.astype("str"), from_pandas=True)
    hit = pc.is_in(arr, value_set=pa.array(texts, type=arr.type), skip_nulls=True)
    return hit.fill_null(False).to_numpy(zero_copy_only=False)


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return an int code per row and the distinct texts (missing, "nan", "<NA>" -> -1)."""
    codes, uniques = pd.factorize(values.astype("str"))
    uniques = np.asarray(uniques.astype(object), dtype=object)
    bad = np.flatnonzero(np.isin(uniques, ["nan", "<NA>"]))
    if len(bad):
        remap = np.arange(len(uniques))
        remap[bad] = -1
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return codes.astype(np.int64), uniques
