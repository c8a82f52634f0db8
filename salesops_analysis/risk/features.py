"""Features for the late-payment model, known on the scoring date only.

Everything here is computed from a :class:`Knowledge` snapshot: the invoices, settlements and
activities known at the end of a knowledge date ``T`` (rows after ``T`` are dropped first). A
feature for an invoice at snapshot day ``s <= T`` then reads only

* other invoices of the same customer **settled strictly before** ``s`` (history),
* invoices issued on or before ``s`` and not settled by ``s`` (open / overdue exposure),
* activities dated on or before ``s`` (contacts, promises, disputes).

The invoice's own ``disputed`` flag is never used (it has no date: it may have been set after
``s``); a dispute counts from the day an activity with outcome ``dispute`` records it.

Counting "events of the same group up to day s" is done for all rows at once with sorted keys
and ``np.searchsorted`` (no per-invoice loops, no pandas merges).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..metrics.days import NO_DAY, day_number, day_numbers
from ..metrics.ids import id_keys
from ..metrics.receivables import CENT, Ledger, row_positions

__all__ = [
    "CATEGORICAL_DEFAULT",
    "NUMERIC_FEATURES",
    "Knowledge",
    "features_at",
]

#: Numeric features, in model order. ``days_past_due`` is used by the overdue model only.
NUMERIC_FEATURES = [
    "hist_n_log",
    "new_customer",
    "hist_late_share",
    "hist_recent_late_share",
    "hist_trend",
    "hist_mean_days_late",
    "hist_recent_days_late",
    "amount_log",
    "amount_ratio_log",
    "terms_days",
    "month_end",
    "quarter_end",
    "cust_open_other_n",
    "cust_overdue_other_n",
    "cust_overdue_amount_ratio",
    "dispute_known",
    "contacts",
    "promises",
    "broken_promises",
    "days_past_due",
]
CATEGORICAL_DEFAULT = ["segment", "country"]
RECENT = 5  # "recent" history = the customer's last RECENT settled invoices
_SHIFT = 17
_K = np.int64(1 << _SHIFT)  # day offset inside a combined (group, day) sort key


def _combined(group: np.ndarray, day: np.ndarray) -> np.ndarray:
    return group.astype(np.int64) * _K + day.astype(np.int64)


def stable_order(keys: np.ndarray) -> np.ndarray:
    """Return ``np.argsort(keys, kind="stable")`` for int64 ``keys``.

    When each key's offset from the smallest and its position fit in one int64 together, the
    order is read off one plain sort of those packed numbers (a vectorized sort, no index
    array carried along): 0.014 s instead of 0.11 s for 900k keys, and 0.28 s for ``lexsort``
    of the same pairs.
    """
    keys = np.asarray(keys, dtype=np.int64)
    n = len(keys)
    if n < 2:
        return np.arange(n, dtype=np.intp)
    bits = int(n - 1).bit_length()
    low = int(keys.min())
    if int(keys.max()) - low >= 1 << (62 - bits):
        return np.argsort(keys, kind="stable")
    packed = np.left_shift(keys - low, bits)
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    packed &= (1 << bits) - 1
    return packed.astype(np.intp, copy=False)


class _Counter:
    """Cumulative sums of event weights per group, queried at (group, day) points."""

    def __init__(
        self,
        group: np.ndarray,
        day: np.ndarray,
        weights: dict[str, np.ndarray],
    ):
        """Events with equal (group, day) keep their input order (it matters where a window is
        cut by position: the last ``RECENT`` events)."""
        keys = _combined(group, day)
        order = stable_order(keys)
        self.keys = keys[order]
        self.cum = {
            k: np.concatenate([[0.0], np.cumsum(w[order], dtype="float64")])
            for k, w in weights.items()
        }

    def window(
        self,
        group: np.ndarray,
        day: np.ndarray,
        *,
        inclusive: bool,
        order: np.ndarray | None = None,
    ):
        """Return (lo, hi) event index bounds: same group, day <= (or <) the query day.

        ``order`` sorts the queries by (group, day); sorted needles make the binary searches
        about ten times faster on large tables, so callers compute it once and share it.
        Queries all on one day with dense group codes need neither order nor search: each
        code's bounds are counted (events of the codes before it, and of its own those on or
        before the day: they come first, as events are sorted by day within a group).
        """
        side = "right" if inclusive else "left"
        if len(group) and day.min() == day.max():
            first, last = int(group.min()), int(group.max())
            if last - first <= 4 * len(group) + 1024:
                width = last - first + 1
                a, b = np.searchsorted(self.keys, np.array([first, last + 1], dtype=np.int64) * _K)
                keys = self.keys[a:b]
                g = (keys >> _SHIFT) - first  # the group part of a key (floor division by _K)
                d = keys & (_K - 1)  # its day part
                within = d <= day[0] if inclusive else d < day[0]
                per_code = np.bincount(g, minlength=width)
                lo_c = np.cumsum(per_code) - per_code + a
                hi_c = lo_c + np.bincount(g[within], minlength=width)
                return lo_c[group - first], hi_c[group - first]
        if order is None:
            order = np.argsort(_combined(group, day))
        g, d = group[order], day[order]
        lo = np.empty(len(group), dtype=np.int64)
        hi = np.empty(len(group), dtype=np.int64)
        lo[order] = np.searchsorted(self.keys, _combined(g, np.zeros_like(d)), side="left")
        hi[order] = np.searchsorted(self.keys, _combined(g, d), side=side)
        return lo, hi

    def total(self, name: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        c = self.cum[name]
        return c[hi] - c[lo]


@dataclass
class Knowledge:
    """What was known at the end of day ``T``: invoices, when each was settled, activities."""

    T: int
    ledger: Ledger
    grace_days: int
    customer: np.ndarray  # int code per invoice row
    closed: np.ndarray  # day the invoice was fully settled (<= T), else NO_DAY
    modelled: np.ndarray  # rows that are invoices (positive amount), issued by T
    categories: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (code per row, values)
    act_row: np.ndarray
    act_day: np.ndarray
    act_contact: np.ndarray
    act_promise: np.ndarray
    act_promised_day: np.ndarray
    dispute_day: np.ndarray  # first dispute activity per invoice row (<= T), else NO_DAY

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
        """Return what was known at the end of ``T`` (later rows are ignored)."""
        t = day_number(T)
        led = ledger or Ledger(invoices, payments, activities=activities)
        inv = led.invoices
        closed = settlement_days(led, t)
        # one code per customer (ids compared ignoring case and surrounding spaces); the
        # customers export is matched once per distinct customer, not once per invoice
        keys = id_keys(inv["customer_id"])
        if isinstance(keys, pa.ChunkedArray):
            keys = keys.combine_chunks()
        encoded = pc.dictionary_encode(keys)
        customer = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        modelled = (led.amount > 0) & (led.issued <= t)
        categorical = CATEGORICAL_DEFAULT if categorical is None else categorical
        # categorical values are kept as codes per invoice row and turned into text only for
        # the rows a feature table asks for
        cats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        cust_pos = None
        for name in categorical:
            if name in inv.columns:
                codes, values = _codes(inv[name])
            elif customers is not None and name in customers.columns and len(customers):
                if cust_pos is None:
                    distinct = pd.Series(encoded.dictionary.cast(pa.string()), dtype="str")
                    per_customer = row_positions(distinct, customers["customer_id"])
                    cust_pos = np.append(per_customer, -1)[customer]  # a missing id: -1
                cust_codes, values = _codes(customers[name])
                codes = np.where(cust_pos >= 0, cust_codes[np.maximum(cust_pos, 0)], -1)
            else:
                codes, values = np.full(len(inv), -1, dtype=np.int64), np.zeros(0, dtype=object)
            cats[name] = (codes, np.append(values, "unknown"))  # code -1 reads "unknown"
        if activities is not None and len(activities):
            if led.activities is activities:  # matched with the payments, in one pass
                rows = led.activity_rows
            else:
                rows = row_positions(activities["invoice_id"], inv["invoice_id"])
            # each column is read whole (no copy of the activities table) and then kept for
            # the activities known by the end of t that name a known invoice
            a_day = day_numbers(activities["activity_date"])
            keep = np.flatnonzero((a_day <= t) & (rows >= 0))
            rows, a_day = rows[keep], a_day[keep]
            contact = _text_in(activities["type"], ["call", "email", "meeting", "follow_up"])
            outcome = activities["outcome"]
            promise = _text_in(outcome, ["promise_to_pay"])[keep]
            dispute = _text_in(outcome, ["dispute"])[keep]
            contact = contact[keep]
            promised = day_numbers(activities["promised_date"])[keep]
            dispute_day = np.full(len(inv), NO_DAY, dtype=np.int64)
            np.minimum.at(dispute_day, rows[dispute], a_day[dispute])
        else:
            rows = a_day = promised = np.zeros(0, dtype=np.int64)
            contact = promise = np.zeros(0, dtype=bool)
            dispute_day = np.full(len(inv), NO_DAY, dtype=np.int64)
        return cls(
            t,
            led,
            grace_days,
            customer.astype(np.int64),
            closed,
            modelled,
            cats,
            rows,
            a_day,
            contact,
            promise,
            promised,
            dispute_day,
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


def _calendar(day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (month_end, quarter_end) flags of int64 days: within the last 3 days of a month,
    within the last 5 of a quarter."""
    if not len(day):
        return np.zeros(0), np.zeros(0)
    # computed once per calendar day of the range, then read off per row (when the range is
    # no longer than the rows)
    first, last = int(day.min()), int(day.max())
    if last - first > len(day) + 1024:
        first, d = 0, day.astype("datetime64[D]")
        day = np.arange(len(day))
    else:
        d = np.arange(first, last + 1).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    days_left = ((month + 1).astype("datetime64[D]") - d).astype(np.int64)
    month_end = (days_left <= 3).astype(float)
    quarter_end = ((month.astype(np.int64) % 3 == 2) & (days_left <= 5)).astype(float)
    return month_end[day - first], quarter_end[day - first]


def features_at(k: Knowledge, rows: np.ndarray, snap: np.ndarray) -> pd.DataFrame:
    """Return the feature table for invoice ``rows`` scored at days ``snap`` (each <= ``k.T``).

    Besides :data:`NUMERIC_FEATURES` and the categorical columns, the result carries a few
    ``_``-prefixed columns used to phrase reasons (counts behind the shares, last promise).
    """
    rows = np.asarray(rows, dtype=np.int64)
    snap = np.asarray(snap, dtype=np.int64)
    if (snap > k.T).any():
        raise ValueError("a snapshot day is after the knowledge date: that would leak")
    led = k.ledger
    g = k.customer[rows]
    amount = led.amount[rows]
    due = led.due[rows]
    grace = k.grace_days
    out: dict[str, np.ndarray] = {}
    # query orders (ties cannot matter); one scoring day needs none (see _Counter.window)
    one_day_query = len(snap) > 0 and snap.min() == snap.max()
    by_customer = None if one_day_query else stable_order(_combined(g, snap))
    by_invoice = None if one_day_query else stable_order(_combined(rows, snap))

    # -- history: the customer's invoices settled strictly before s ------------------------
    inv_mask = k.modelled & (k.closed != NO_DAY)
    ev = np.flatnonzero(inv_mask)
    closed = k.closed[ev]
    late = (closed > led.due[ev] + grace).astype(float)
    days_late = np.maximum(0, closed - led.due[ev]).astype(float)
    # the "recent" window below is cut by position: ties keep their input order
    hist = _Counter(
        k.customer[ev],
        closed,
        {"n": np.ones(len(ev)), "late": late, "days_late": days_late},
    )
    lo, hi = hist.window(g, snap, inclusive=False, order=by_customer)
    n = hist.total("n", lo, hi)
    n_late = hist.total("late", lo, hi)
    sum_days = hist.total("days_late", lo, hi)
    rlo = np.maximum(lo, hi - RECENT)
    rn = hist.total("n", rlo, hi)
    r_late = hist.total("late", rlo, hi)
    r_days = hist.total("days_late", rlo, hi)
    base = 0.3  # shrink small histories towards a neutral share, not towards 0 or 1
    share = (n_late + base) / (n + 1.0)
    recent_share = (r_late + base) / (rn + 1.0)
    out["hist_n_log"] = np.log1p(n)
    out["new_customer"] = (n == 0).astype(float)
    out["hist_late_share"] = share
    out["hist_recent_late_share"] = recent_share
    out["hist_trend"] = recent_share - share
    out["hist_mean_days_late"] = np.where(n > 0, sum_days / np.maximum(n, 1), 0.0)
    out["hist_recent_days_late"] = np.where(rn > 0, r_days / np.maximum(rn, 1), 0.0)

    # -- amount against the customer's usual (invoices issued strictly before s) -----------
    iv = np.flatnonzero(k.modelled)
    # scoring asks for one day only: per-customer sums then need no sorting at all
    one_day = int(snap[0]) if len(snap) and snap.min() == snap.max() else None

    def sums(group, day, weights, *, inclusive: bool, counter: _Counter | None = None):
        """Per query row: the weights of the customer's events dated up to (or before) s."""
        if one_day is not None:
            m = day <= one_day if inclusive else day < one_day
            n_groups = int(k.customer.max(initial=-1)) + 2  # codes shifted by one: -1 -> 0
            return [
                np.bincount(group[m] + 1, weights=w[m], minlength=n_groups)[g + 1] for w in weights
            ]
        c = counter or _Counter(group, day, dict(enumerate(weights)))
        a, b = c.window(g, snap, inclusive=inclusive, order=by_customer)
        return [c.total(i, a, b) for i in range(len(weights))]

    log_amount = np.log(led.amount[iv])
    usual = (
        None
        if one_day is not None
        else _Counter(k.customer[iv], led.issued[iv], {0: np.ones(len(iv)), 1: log_amount})
    )
    n_prior, sum_log = sums(
        k.customer[iv],
        led.issued[iv],
        [np.ones(len(iv)), log_amount],
        inclusive=False,
        counter=usual,
    )
    mean_log = np.where(n_prior > 0, sum_log / np.maximum(n_prior, 1), np.log(amount))
    out["amount_log"] = np.log(amount)
    out["amount_ratio_log"] = np.log(amount) - mean_log
    out["terms_days"] = (due - led.issued[rows]).astype(float)
    out["month_end"], out["quarter_end"] = _calendar(led.issued[rows])

    # -- exposure: the customer's other invoices open / overdue at the end of s ------------
    # issued by s (the "usual" counter) minus settled by s (the history counter)
    closed_iv = k.closed[iv]
    has_closed = closed_iv != NO_DAY
    od_start = led.due[iv] + grace + 1  # first day overdue
    od_end_day = np.maximum(closed_iv, od_start)
    self_open = ((led.issued[rows] <= snap) & (k.closed[rows] > snap)).astype(float)
    self_overdue = self_open * (due + grace < snap)
    (issued_n,) = sums(
        k.customer[iv], led.issued[iv], [np.ones(len(iv))], inclusive=True, counter=usual
    )
    if one_day is not None:
        (settled_n,) = sums(k.customer[ev], closed, [np.ones(len(ev))], inclusive=True)
    else:
        a, b = hist.window(g, snap, inclusive=True, order=by_customer)
        settled_n = hist.total("n", a, b)
    od_n, od_amt = sums(
        k.customer[iv], od_start, [np.ones(len(iv)), led.amount[iv]], inclusive=True
    )
    od_end_n, od_end_amt = sums(
        k.customer[iv][has_closed],
        od_end_day[has_closed],
        [np.ones(int(has_closed.sum())), led.amount[iv][has_closed]],
        inclusive=True,
    )
    open_n = issued_n - settled_n - self_open
    overdue_n = od_n - od_end_n - self_overdue
    overdue_amt = np.round(od_amt - od_end_amt - self_overdue * amount, 2)
    usual_amount = np.exp(mean_log)
    out["cust_open_other_n"] = np.maximum(open_n, 0)
    out["cust_overdue_other_n"] = np.maximum(overdue_n, 0)
    out["cust_overdue_amount_ratio"] = np.maximum(overdue_amt, 0) / usual_amount

    # -- activities on this invoice up to s --------------------------------------------------
    acts = _Counter(
        k.act_row,
        k.act_day,
        {"contact": k.act_contact.astype(float), "promise": k.act_promise.astype(float)},
    )
    lo3, hi3 = acts.window(rows, snap, inclusive=True, order=by_invoice)
    out["contacts"] = acts.total("contact", lo3, hi3)
    out["promises"] = acts.total("promise", lo3, hi3)
    pm = k.act_promise & (k.act_promised_day != NO_DAY)
    prom = _Counter(
        k.act_row[pm],
        k.act_promised_day[pm],
        {"n": np.ones(int(pm.sum())), "day": k.act_promised_day[pm].astype(float)},
    )
    lo4, hi4 = prom.window(rows, snap, inclusive=False, order=by_invoice)
    # a promise whose date passed while the invoice is still open at s was broken
    broken = prom.total("n", lo4, hi4) * self_open
    out["broken_promises"] = broken
    last_broken_day = np.where(
        (hi4 > lo4) & (self_open > 0),
        np.r_[0, np.diff(prom.cum["day"])][np.maximum(hi4, 1)] if len(prom.keys) else 0,
        -1,
    )
    out["dispute_known"] = (k.dispute_day[rows] <= snap).astype(float)
    out["days_past_due"] = (snap - due).astype(float)

    frame = pd.DataFrame(out, copy=False)  # one block per column: no consolidating copy
    for name, (codes, values) in k.categories.items():
        # code -1 reads the last value ("unknown"); the text is decoded by Arrow
        text = pa.DictionaryArray.from_arrays(
            pa.array(np.where(codes[rows] >= 0, codes[rows], len(values) - 1).astype(np.int32)),
            pa.array(values.astype(str), type=pa.large_string()),
        ).dictionary_decode()
        frame[name] = pd.array(text, dtype="str")
    frame["_hist_n"] = n
    frame["_hist_late"] = n_late
    frame["_recent_n"] = rn
    frame["_recent_late"] = r_late
    frame["_usual_amount"] = usual_amount
    frame["_overdue_amount"] = np.maximum(overdue_amt, 0)
    frame["_last_broken_day"] = last_broken_day
    frame["_dispute_day"] = np.where(k.dispute_day[rows] <= snap, k.dispute_day[rows], NO_DAY)
    return frame
