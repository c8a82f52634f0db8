"""Accounts receivable as of any date: open items, aging buckets, roll rates, collection curves.

Conventions (all "as of the end of ``as_of``")
----------------------------------------------
* An invoice counts once it is issued on or before ``as_of``.
* **Settled amount**, with a payments export: the sum of its payments dated on or before
  ``as_of`` (partial payments included, later payments ignored), plus credit notes applied to it
  (a credit note is an invoice row with a negative amount and ``applies_to_invoice_id``; it
  counts from its own invoice date). Without a payments export: ``paid_amount`` once
  ``paid_date`` is on or before ``as_of`` (a ``paid_amount`` with no date counts as known, since
  its timing is unknown); ``paid_amount`` is then taken to include applied credits, so credit
  notes are not applied twice.
* **Open amount** = amount − settled amount. An applied credit note is never open itself; an
  unapplied one is an open negative item (unapplied credit) and lowers the balance.
* Written-off invoices carry no write-off date in the canonical tables, so they are left out of
  AR as of every date.
* Payments that name no known invoice are **unapplied cash**: reported by
  :func:`unapplied_cash`, never subtracted from an invoice.

Aging buckets are the open amount by days past due (``due_date`` basis, default) or days since
invoice (``invoice_date`` basis). The buckets always sum to the open balance:
:func:`aging_buckets` checks it and raises :class:`ReconciliationError` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._errors import ReconciliationError
from .days import NO_DAY, as_timestamp, day_number, day_numbers
from .ids import isin_ids, row_positions

__all__ = [
    "Ledger",
    "aging_buckets",
    "bucket_labels",
    "collection_curves",
    "open_items",
    "isin_ids",
    "rate_factors",
    "roll_rates",
    "row_positions",
    "unapplied_cash",
    "with_sales_owner",
]

CENT = 0.005
#: Days whose balances a :class:`Ledger` keeps (arrays over all invoice rows; oldest forgotten)
REMEMBERED_DAYS = 4


def rate_factors(currency: pd.Series | None, rates: dict[str, float], n: int) -> np.ndarray:
    """Return ``rates[currency]`` per row (1.0 where the currency has no rate)."""
    if currency is None or not rates:
        return np.ones(n)
    arr = pa.array(currency.astype("str"), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = pc.dictionary_encode(arr)
    per_code = np.array([rates.get(c, 1.0) for c in enc.dictionary.to_pylist()] + [1.0])
    idx = enc.indices.fill_null(len(per_code) - 1).to_numpy(zero_copy_only=False)
    return per_code[idx]


class Ledger:
    """Invoices and their settlements, matched once, answering "as of" questions fast.

    Building a ledger matches every payment (and applied credit note) to its invoice row; each
    :meth:`open_items`, :meth:`snapshot` or :meth:`balances` call for a date is then a few
    vectorized numpy passes, so month-end trends and day-over-day changes stay cheap on a
    million invoices.

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices.
    payments : DataFrame, optional
        Canonical payments; ``None`` means "no payments export" (see the module notes).
    activities : DataFrame, optional
        Canonical activities, matched to their invoice rows in the same pass
        (:attr:`activity_rows`, -1 where none): one hash of the invoice ids serves all three.
    """

    def __init__(
        self,
        invoices: pd.DataFrame,
        payments: pd.DataFrame | None = None,
        *,
        activities: pd.DataFrame | None = None,
    ) -> None:
        self.invoices = invoices.reset_index(drop=True)
        self.payments = None if payments is None else payments.reset_index(drop=True)
        self.activities = activities
        self._balances: dict[int, tuple] = {}  # as-of day -> open balances: cheap repeat questions
        self._last_payment: dict[int, np.ndarray] = {}
        inv = self.invoices
        self.amount = inv["amount"].to_numpy(dtype="float64", na_value=0.0)
        self.issued = day_numbers(inv["invoice_date"])
        self.due = day_numbers(inv["due_date"])
        self.written_off = (
            (inv["status"] == "written_off").to_numpy(dtype=bool, na_value=False)
            if "status" in inv
            else np.zeros(len(inv), bool)
        )
        self.is_credit_note = self.amount < 0
        self.currency = inv["currency"] if "currency" in inv else None
        n = len(inv)
        self.applies_to = np.full(n, -1, dtype=np.int64)
        self.applied_cn = np.zeros(n, bool)
        queries = []
        if "applies_to_invoice_id" in inv:
            self.applied_cn = inv["applies_to_invoice_id"].notna().to_numpy() & self.is_credit_note
            queries.append(inv.loc[self.applied_cn, "applies_to_invoice_id"])
        if self.payments is not None:
            queries.append(self.payments["invoice_id"])
        if activities is not None:
            queries.append(activities["invoice_id"])
        # one hash of the invoice ids serves credit notes, payments and activities alike
        pos = (
            row_positions(pd.concat(queries, ignore_index=True), inv["invoice_id"])
            if queries
            else np.zeros(0, dtype=np.int64)
        )
        n_cn = int(self.applied_cn.sum())
        n_pay = 0 if self.payments is None else len(self.payments)
        self.applies_to[self.applied_cn] = pos[:n_cn]
        self.activity_rows = None if activities is None else pos[n_cn + n_pay :]
        if self.payments is not None:
            pay = self.payments
            self.pay_row = pos[n_cn : n_cn + n_pay]
            self.pay_day = day_numbers(pay["payment_date"])
            self.pay_amount = pay["amount"].to_numpy(dtype="float64", na_value=0.0)
            self.pay_currency = pay["currency"] if "currency" in pay else None
        else:
            self.paid_day = day_numbers(inv["paid_date"])
            self.paid_amount = inv["paid_amount"].to_numpy(dtype="float64", na_value=0.0)

    def in_currency(self, rates: dict[str, float], currency: str) -> Ledger:
        """Return a copy whose amounts are multiplied by ``rates[currency of the row]`` (1 for
        currencies not in ``rates``)."""
        import copy

        out = copy.copy(self)
        out._balances = {}
        out._last_payment = {}

        f = rate_factors(self.currency, rates, len(self.amount))
        out.amount = self.amount * f
        if self.payments is not None:
            out.pay_amount = self.pay_amount * rate_factors(
                self.pay_currency, rates, len(self.pay_amount)
            )
        else:
            out.paid_amount = self.paid_amount * f
        paid = self.invoices["paid_amount"].to_numpy(dtype="float64", na_value=0.0) * f
        as_column = partial(pd.Series, index=self.invoices.index, copy=False)
        out.invoices = self.invoices.assign(
            amount=as_column(out.amount), paid_amount=as_column(paid), currency=currency
        )
        return out

    def balances(self, as_of) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(issued, open_amount, last_payment_day)`` arrays over all invoice rows.

        The arrays are shared between calls for the same day: do not modify them.
        """
        d = day_number(as_of)
        issued, open_amount = self.open_balances(as_of)
        if d not in self._last_payment:
            self._last_payment[d] = self._compute_last_payment(d)
            if len(self._last_payment) > REMEMBERED_DAYS:
                del self._last_payment[next(iter(self._last_payment))]
        return issued, open_amount, self._last_payment[d]

    def open_balances(self, as_of) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(issued, open_amount)`` arrays over all invoice rows (cheaper than
        :meth:`balances`: no last payment dates). Shared between calls: do not modify them."""
        d = day_number(as_of)
        if d not in self._balances:
            self._balances[d] = self._compute_balances(d)
            if len(self._balances) > REMEMBERED_DAYS:
                del self._balances[next(iter(self._balances))]
        return self._balances[d]

    def _compute_balances(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.amount)
        issued = self.issued <= d
        if self.payments is not None:
            m = (self.pay_day <= d) & (self.pay_row >= 0)
            # float even when no payment counts yet (bincount of nothing is int64 zeros)
            settled = np.bincount(self.pay_row[m], weights=self.pay_amount[m], minlength=n)
            settled = settled.astype(np.float64, copy=False)
            cn = self.applied_cn & (self.applies_to >= 0) & issued
            settled += np.bincount(self.applies_to[cn], weights=-self.amount[cn], minlength=n)
        else:
            known = (self.paid_day == NO_DAY) | (self.paid_day <= d)
            settled = np.where(known, self.paid_amount, 0.0)
        settled = np.where(self.applied_cn, self.amount, settled)
        open_amount = np.round(self.amount - settled, 2)
        open_amount[self.written_off | ~issued] = 0.0
        return issued, open_amount

    def _compute_last_payment(self, d: int) -> np.ndarray:
        n = len(self.amount)
        if self.payments is None:
            return np.where(self.paid_day <= d, self.paid_day, NO_DAY)
        m = (self.pay_day <= d) & (self.pay_row >= 0)
        last = np.full(n, NO_DAY, dtype=np.int64)
        np.minimum.at(last, self.pay_row[m], -self.pay_day[m])  # max day, as min of negatives
        return np.where(last == NO_DAY, NO_DAY, -last)

    def snapshot(self, as_of) -> dict:
        """Return ``{"ar": open balance, "current": not-yet-due part}`` at the end of ``as_of``."""
        _, open_amount = self.open_balances(as_of)
        current = self.due >= day_number(as_of)
        return {"ar": float(open_amount.sum()), "current": float(open_amount[current].sum())}

    def monthly_sales(self, as_of, months: int = 24) -> np.ndarray:
        """Return credit sales of the calendar months back from ``as_of``, most recent first
        (the first is the month to date)."""
        if not hasattr(self, "_issued_month"):
            issued = np.where(self.issued == NO_DAY, 0, self.issued)
            self._issued_month = (
                issued.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
            )
        d = day_number(as_of)
        m0 = int(np.datetime64(d, "D").astype("datetime64[M]").astype(np.int64))
        back = m0 - self._issued_month
        m = (self.issued <= d) & (back >= 0) & (back < months)
        return np.bincount(back[m], weights=self.amount[m], minlength=months)[:months]

    def credit_sales(self, start, end) -> float:
        """Return the amount of invoices dated after ``start`` up to ``end`` (net of credits)."""
        m = (self.issued > day_number(start)) & (self.issued <= day_number(end))
        return float(self.amount[m].sum())

    def open_items(self, as_of, *, open_only: bool = False) -> pd.DataFrame:
        """Return the invoices issued by ``as_of`` with their balances (see :func:`open_items`);
        with ``open_only``, just those with an open amount."""
        as_of = as_timestamp(as_of)
        d = day_number(as_of)
        issued, open_amount, last = self.balances(as_of)
        if open_only:
            issued = issued & (np.abs(open_amount) >= CENT)
        items = self.invoices.loc[issued].copy()
        amount = self.amount[issued]
        items["settled_amount"] = np.round(amount - open_amount[issued], 2)
        items["open_amount"] = open_amount[issued]
        items["is_open"] = np.abs(open_amount[issued]) >= CENT
        lp = last[issued]
        items["last_payment_date"] = np.where(
            lp == NO_DAY, np.datetime64("NaT"), lp.astype("datetime64[D]")
        ).astype("datetime64[us]")
        items["days_past_due"] = (d - self.due[issued]).astype("float64")
        items["days_since_invoice"] = (d - self.issued[issued]).astype("float64")
        return items


def open_items(
    invoices: pd.DataFrame, payments: pd.DataFrame | None = None, *, as_of
) -> pd.DataFrame:
    """Return every invoice issued by ``as_of`` with its open amount at the end of that day.

    Parameters
    ----------
    invoices : DataFrame
        Canonical invoices (credit notes have negative amounts).
    payments : DataFrame, optional
        Canonical payments. When given (even empty), balances come from payments dated on or
        before ``as_of``; when ``None``, from ``paid_amount`` and ``paid_date``.
    as_of : date-like
        The day whose end the balances describe.

    Returns
    -------
    DataFrame
        The invoice columns plus ``settled_amount``, ``open_amount``, ``is_open``,
        ``last_payment_date`` (on or before ``as_of``), ``days_past_due`` and
        ``days_since_invoice``.

    See Also
    --------
    Ledger : the same for many dates without matching payments again.

    Examples
    --------
    >>> inv = pd.DataFrame({"invoice_id": ["I1"], "customer_id": ["C1"], "currency": ["USD"],
    ...     "invoice_date": pd.to_datetime(["2025-01-01"]), "due_date": pd.to_datetime(
    ...     ["2025-01-31"]), "amount": [100.0], "status": ["open"], "paid_amount": [0.0],
    ...     "paid_date": pd.to_datetime([None])})
    >>> pay = pd.DataFrame({"invoice_id": ["I1", "I1"], "payment_date": pd.to_datetime(
    ...     ["2025-02-01", "2025-03-01"]), "amount": [30.0, 70.0]})
    >>> open_items(inv, pay, as_of="2025-02-15")[["open_amount", "days_past_due"]].values.tolist()
    [[70.0, 15.0]]
    """
    return Ledger(invoices, payments).open_items(as_of)


def unapplied_cash(invoices: pd.DataFrame, payments: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """Return payments dated by ``as_of`` whose invoice is not in ``invoices``."""
    as_of = as_timestamp(as_of)
    pay = payments.loc[payments["payment_date"] <= as_of]
    return pay.loc[row_positions(pay["invoice_id"], invoices["invoice_id"]) < 0]


def with_sales_owner(items: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Return ``items`` with ``sales_rep`` and ``team`` from the invoice's order, or else from
    the customer's latest order (``"unassigned"`` when neither is known)."""
    out = items.copy()
    rep = np.full(len(out), "unassigned", dtype=object)
    team = np.full(len(out), "unassigned", dtype=object)
    if len(orders) and len(out):
        # positions into the orders as they are (no filtered copy of a million orders);
        # only the matched rows' text is read
        has_rep = orders["sales_rep"].notna().to_numpy()
        pos = row_positions(out["order_id"], orders["order_id"])
        hit = pos >= 0
        hit[hit] = has_rep[pos[hit]]
        rep[hit] = orders["sales_rep"].iloc[pos[hit]].to_numpy()
        team[hit] = orders["team"].iloc[pos[hit]].fillna("unassigned").to_numpy()
        if (~hit).any():  # no order of its own: the customer's latest order decides
            missing = out.loc[~hit, "customer_id"]
            theirs = orders.loc[has_rep & isin_ids(orders["customer_id"], missing)]
            latest = theirs.sort_values("order_date").drop_duplicates("customer_id", keep="last")
            pos2 = row_positions(missing, latest["customer_id"])
            idx = np.flatnonzero(~hit)[pos2 >= 0]
            rep[idx] = latest["sales_rep"].to_numpy()[pos2[pos2 >= 0]]
            team[idx] = latest["team"].fillna("unassigned").to_numpy()[pos2[pos2 >= 0]]
    out["sales_rep"] = rep
    out["team"] = team
    return out


def bucket_labels(edges: Sequence[int] = (30, 60, 90), basis: str = "due_date") -> list[str]:
    """Return the bucket names for ``edges``: ``current, 1_30, 31_60, 61_90, 90_plus``.

    With the ``invoice_date`` basis the first bucket is ``0_30`` (days since invoice).
    """
    edges = list(edges)
    first = "current" if basis == "due_date" else f"0_{edges[0]}"
    middle = [f"{lo + 1}_{hi}" for lo, hi in zip([0, *edges[:-1]], edges, strict=True)]
    if basis != "due_date":
        middle = middle[1:]
    return [first, *middle, f"{edges[-1]}_plus"]


def bucket_index(days: np.ndarray, edges: Sequence[int], basis: str) -> np.ndarray:
    """Return the position in :func:`bucket_labels` of each item's aging bucket."""
    if basis == "due_date":
        # <= 0: current; (0, e1]: 1; (e1, e2]: 2; ...; > e_last: last
        return np.searchsorted(np.array([0, *edges]), days, side="left")
    return np.searchsorted(np.array(list(edges)), days, side="left")


def aging_buckets(
    items: pd.DataFrame,
    *,
    edges: Sequence[int] = (30, 60, 90),
    basis: str = "due_date",
    by: str | list[str] | None = None,
    amount: str = "open_amount",
) -> pd.DataFrame:
    """Return open amounts per aging bucket, with a ``total`` column that they sum to.

    Parameters
    ----------
    items : DataFrame
        :func:`open_items` output (only open items are counted).
    edges : sequence of int
        Upper edges, in days, of the buckets after ``current``.
    basis : {"due_date", "invoice_date"}
        Days past due, or days since the invoice date.
    by : str or list of str, optional
        Columns to group by (customer_id, currency, sales_rep, team, ...). One ``total`` row
        when omitted.
    amount : str
        The amount column to age.

    Returns
    -------
    DataFrame
        One row per group; one column per bucket, then ``total``.

    Raises
    ------
    ReconciliationError
        The buckets do not sum to the open balance (a bug; never silently reported).
    """
    if basis not in ("due_date", "invoice_date"):
        raise ValueError(f"basis must be due_date or invoice_date, got {basis!r}")
    labels = bucket_labels(edges, basis)
    open_ = items.loc[items["is_open"]]
    days = open_["days_past_due" if basis == "due_date" else "days_since_invoice"].to_numpy()
    idx = bucket_index(days, edges, basis)
    keys = [by] if isinstance(by, str) else list(by or [])
    values = open_[amount].astype("float64")
    if not keys:
        sums = np.bincount(idx, weights=values.to_numpy(), minlength=len(labels))
        table = pd.DataFrame([sums], columns=labels, index=pd.Index(["total"], name="group"))
        expected = pd.Series([values.sum()], index=table.index)
    else:
        bucket = pd.Categorical.from_codes(idx, categories=labels)
        group = [open_[k] for k in keys] + [bucket]
        table = values.groupby(group, observed=True, dropna=False).sum().unstack(fill_value=0.0)
        table = table.reindex(columns=labels, fill_value=0.0)
        expected = values.groupby([open_[k] for k in keys], dropna=False).sum()
        expected = expected.reindex(table.index, fill_value=0.0)
    table = table.round(2)
    table["total"] = expected.round(2).to_numpy()
    diff = (table[labels].sum(axis=1) - table["total"]).abs()
    if (diff > CENT * (len(labels) + 1)).any():
        raise ReconciliationError(
            f"aging buckets do not sum to the open balance (largest gap {diff.max():.2f})"
        )
    table.columns.name = None
    return table


def roll_rates(
    invoices: pd.DataFrame,
    payments: pd.DataFrame | None,
    *,
    start,
    end,
    edges: Sequence[int] = (30, 60, 90),
    normalize: bool = False,
    ledger: Ledger | None = None,
) -> pd.DataFrame:
    """Return how the open amount in each bucket at ``start`` moved by ``end``.

    Rows are the buckets at ``start``; columns the buckets at ``end`` plus ``closed`` (paid,
    credited or written off in between). Values are the amounts open at ``start`` (in the
    document currency); with ``normalize`` each row is a share summing to 1.
    """
    led = ledger or Ledger(invoices, payments)
    labels = bucket_labels(edges)
    _, open_a, _ = led.balances(start)
    _, open_b, _ = led.balances(end)
    was_open = np.abs(open_a) >= CENT
    frm = bucket_index(day_number(start) - led.due[was_open], edges, "due_date")
    to = bucket_index(day_number(end) - led.due[was_open], edges, "due_date")
    to = np.where(np.abs(open_b[was_open]) >= CENT, to, len(labels))  # closed
    cols = [*labels, "closed"]
    flat = np.bincount(
        frm * len(cols) + to, weights=open_a[was_open], minlength=len(labels) * len(cols)
    )
    table = pd.DataFrame(
        flat.reshape(len(labels), len(cols)).round(2),
        index=pd.Index(labels, name="from"),
        columns=pd.Index(cols, name="to"),
    )
    if normalize:
        table = table.div(table.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    return table


def collection_curves(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    *,
    as_of,
    days: Sequence[int] = (0, 15, 30, 45, 60, 90, 120),
    months: int = 12,
) -> pd.DataFrame:
    """Return, per invoicing month, the share of its invoiced amount collected by day N.

    Credit notes are left out. A cell is NaN until every invoice of the month is at least N
    days old on ``as_of`` (the cohort has not reached day N yet).
    """
    as_of = as_timestamp(as_of)
    first_month = (as_of.to_period("M") - (months - 1)).start_time
    led = Ledger(invoices, payments)
    d = day_number(as_of)
    inv_month = led.invoices["invoice_date"].dt.to_period("M")
    cohort = (led.amount > 0) & (led.issued <= d) & (led.issued >= day_number(first_month))
    invoiced = pd.Series(led.amount[cohort]).groupby(inv_month[cohort].to_numpy()).sum()
    m = (led.pay_day <= d) & (led.pay_row >= 0)
    rows = led.pay_row[m]
    keep = cohort[rows]
    rows = rows[keep]
    age = led.pay_day[m][keep] - led.issued[rows]
    amounts = led.pay_amount[m][keep]
    pay_month = inv_month.to_numpy()[rows]
    out = {}
    for n in days:  # a handful of columns, each a vectorized sum
        within = age <= n
        collected = pd.Series(amounts[within]).groupby(pay_month[within]).sum()
        out[f"day_{n}"] = collected.reindex(invoiced.index, fill_value=0.0) / invoiced
    curves = pd.DataFrame(out).reindex(pd.period_range(first_month, as_of, freq="M"))
    month_end = curves.index.to_timestamp(how="end").normalize()
    reached = np.array([[(as_of - me).days >= n for n in days] for me in month_end])
    curves = curves.where(reached)
    curves.index.name = "invoice_month"
    return curves
