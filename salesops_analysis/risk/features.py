"""Features for the late-payment model, known on the scoring date only.

A feature row is an invoice scored at a day ``s`` (its snapshot day) out of a
:class:`~salesops_analysis.risk.knowledge.Knowledge` of day ``T``, with ``s <= T``
(:func:`features_at` refuses a later ``s``). The knowledge holds only what was known by the end
of ``T``; each feature then reads, for its invoice's customer or for the invoice itself, only

* **history**: the customer's invoices **settled strictly before** ``s``
  (:func:`history_features`);
* **amount**: the invoice's own amount and terms, against the customer's invoices **issued
  strictly before** ``s`` (:func:`amount_features`), and the calendar of its issue day
  (:func:`calendar_features`);
* **exposure**: the customer's other invoices issued, settled and overdue **on or before**
  ``s`` (:func:`exposure_features`);
* **activities**: the invoice's activities dated **on or before** ``s``: contacts, promises
  to pay (broken: its promised day passed **strictly before** ``s``), a dispute
  (:func:`activity_features`).

Every count goes through one primitive, :class:`~salesops_analysis.risk.events.Events`:
``events.before(s)`` or ``events.up_to(s)`` over events each dated by the day it happened
(:func:`customer_events`, :func:`invoice_events`), so the property that matters, that nothing
after ``s`` is seen, is read off the calls below. The invoice's own ``disputed`` flag is never
used (it has no date: it may have been set after ``s``).

Only an invoice's own customer's events are counted (and the calendar): features computed on a
customer's invoices alone are those computed on the whole book.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from ..metrics.days import NO_DAY
from .events import Events, Query, stable_order
from .knowledge import CATEGORICAL_DEFAULT, Knowledge, settlement_days

__all__ = [
    "BLOCK_ROWS",
    "CATEGORICAL_DEFAULT",
    "EVIDENCE_COLUMNS",
    "NUMERIC_FEATURES",
    "RECENT",
    "CustomerEvents",
    "InvoiceEvents",
    "Knowledge",
    "FeatureRows",
    "activity_features",
    "amount_features",
    "calendar_features",
    "calendar_flags",
    "customer_blocks",
    "customer_events",
    "exposure_features",
    "features_at",
    "history_features",
    "invoice_events",
    "settlement_days",
    "stable_order",
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
#: Columns of a feature table that are no model input: the counts and days behind the
#: features, read to phrase a score's reasons in plain words.
EVIDENCE_COLUMNS = {
    "hist_n": "the customer's invoices settled strictly before s",
    "hist_late_n": "of those, settled late (after due date + grace days)",
    "hist_recent_n": "the last RECENT of those (fewer for a short history)",
    "hist_recent_late_n": "of the last RECENT, settled late",
    "usual_amount": "the customer's usual amount: geometric mean of its invoices issued "
    "strictly before s (the invoice's own amount without any)",
    "cust_overdue_other_amount": "open amount of the customer's other invoices overdue at s",
    "last_broken_promise_day": "promised day of the invoice's last broken promise to pay "
    "(recorded on or before s, promised day before s, invoice still open at s; day number; "
    "-1: none)",
    "dispute_day": "day of the invoice's first dispute activity, if on or before s (day "
    "number; NO_DAY: none)",
}
#: Above this many invoice rows, :func:`features_at` counts block by block of whole
#: customers (:func:`customer_blocks`): one block's events are held at a time, not the book's.
BLOCK_ROWS = BLOCK_ROWS_DEFAULT = 2_000_000
RECENT = 5  # "recent" history = the customer's last RECENT settled invoices
SHRINK_BASE = 0.3  # small histories shrink towards a neutral late share, not towards 0 or 1


@dataclass(frozen=True)
class FeatureRows:
    """The feature rows asked for: invoice ``rows`` of a knowledge, each scored at ``day``.

    ``by_customer`` and ``by_invoice`` are the same points as :class:`Query` of the invoice's
    customer or of the invoice itself (each sorted once, when a count first needs it);
    ``open_at_day`` is 1.0 where the invoice itself is open at the end of its day (issued on
    or before it, not settled on or before it), else 0.0.
    """

    rows: np.ndarray
    day: np.ndarray
    by_customer: Query
    by_invoice: Query
    open_at_day: np.ndarray

    @classmethod
    def of(cls, k: Knowledge, rows, day) -> FeatureRows:
        """Return the rows and days asked for, refusing a day after the knowledge date."""
        rows = np.asarray(rows, dtype=np.int64)
        day = np.asarray(day, dtype=np.int64)
        if (day > k.T).any():
            raise ValueError("a snapshot day is after the knowledge date: that would leak")
        is_open = (k.ledger.issued[rows] <= day) & (k.closed[rows] > day)
        return cls(rows, day, Query(k.customer[rows], day), Query(rows, day), is_open.astype(float))

    def take(self, positions: np.ndarray) -> FeatureRows:
        """Return only the feature rows at ``positions`` (their queries sorted anew)."""
        rows, day = self.rows[positions], self.day[positions]
        return FeatureRows(
            rows,
            day,
            Query(self.by_customer.group[positions], day),
            Query(rows, day),
            self.open_at_day[positions],
        )


@dataclass(frozen=True)
class CustomerEvents:
    """Per customer, its invoices' events, each dated by the day it happened (all by ``T``)."""

    #: invoices settled by ``T``, dated by the day they were settled (``n``, ``late``,
    #: ``days_late``)
    settled: Events
    #: invoices issued by ``T``, dated by their issue day (``n``, ``log_amount``)
    issued: Events
    #: invoices issued by ``T``, dated by their first day overdue (``n``, ``amount``)
    overdue_from: Events
    #: of those, the ones settled by ``T``, dated by the day they stopped being overdue (the
    #: day they were settled, not before their first day overdue) (``n``, ``amount``)
    overdue_until: Events


@dataclass(frozen=True)
class InvoiceEvents:
    """Per invoice row, its activities known by ``T``."""

    #: activities, dated by their own day (``contact``, ``promise``)
    activities: Events
    #: promises to pay with a promised day, dated by the first day they are known to be
    #: broken if still unpaid: the day after the promised day, or the day the promise was
    #: recorded if that is later (``n``; ``day``: the promised day)
    promise_passed: Events


def customer_events(k: Knowledge, within: np.ndarray | None = None) -> CustomerEvents:
    """Return each customer's invoice events known at the end of ``k.T`` (of the invoice rows
    ``within``, a mask per invoice row, when given: a block of whole customers)."""
    led, grace = k.ledger, k.grace_days
    modelled = k.modelled if within is None else k.modelled & within
    ev = np.flatnonzero(modelled & (k.closed != NO_DAY))
    closed = k.closed[ev]
    settled = Events(
        k.customer[ev],
        closed,
        {
            "n": np.ones(len(ev)),
            "late": (closed > led.due[ev] + grace).astype(float),
            "days_late": np.maximum(0, closed - led.due[ev]).astype(float),
        },
    )
    iv = np.flatnonzero(modelled)
    group, amount = k.customer[iv], led.amount[iv]
    issued = Events(group, led.issued[iv], {"n": np.ones(len(iv)), "log_amount": np.log(amount)})
    first_overdue = led.due[iv] + grace + 1
    overdue_from = Events(group, first_overdue, {"n": np.ones(len(iv)), "amount": amount})
    closed_iv = k.closed[iv]
    done = closed_iv != NO_DAY
    overdue_until = Events(
        group[done],
        np.maximum(closed_iv, first_overdue)[done],
        {"n": np.ones(int(done.sum())), "amount": amount[done]},
    )
    return CustomerEvents(settled, issued, overdue_from, overdue_until)


def invoice_events(k: Knowledge, within: np.ndarray | None = None) -> InvoiceEvents:
    """Return each invoice row's activity events known at the end of ``k.T`` (of the invoice
    rows ``within``, a mask per invoice row, when given)."""
    act = np.arange(len(k.act_row)) if within is None else np.flatnonzero(within[k.act_row])
    row, day = k.act_row[act], k.act_day[act]
    promise = k.act_promise[act]
    activities = Events(
        row,
        day,
        {"contact": k.act_contact[act].astype(float), "promise": promise.astype(float)},
    )
    pm = promise & (k.act_promised_day[act] != NO_DAY)
    promised_day = k.act_promised_day[act][pm]
    promise_passed = Events(
        row[pm],
        np.maximum(promised_day + 1, day[pm]),
        {"n": np.ones(int(pm.sum())), "day": promised_day.astype(float)},
    )
    return InvoiceEvents(activities, promise_passed)


def history_features(ce: CustomerEvents, q: FeatureRows) -> dict[str, np.ndarray]:
    """Return the customer's payment history: its invoices **settled strictly before** s.

    Late shares are shrunk towards :data:`SHRINK_BASE` (``(late + 0.3) / (n + 1)``); "recent"
    is the last :data:`RECENT` of those invoices by settlement day.
    """
    past = ce.settled.before(q.by_customer)
    recent = past.last(RECENT)
    n, n_late, days_late = past.total("n"), past.total("late"), past.total("days_late")
    rn, r_late, r_days = recent.total("n"), recent.total("late"), recent.total("days_late")
    share = (n_late + SHRINK_BASE) / (n + 1.0)
    recent_share = (r_late + SHRINK_BASE) / (rn + 1.0)
    return {
        "hist_n_log": np.log1p(n),
        "new_customer": (n == 0).astype(float),
        "hist_late_share": share,
        "hist_recent_late_share": recent_share,
        "hist_trend": recent_share - share,
        "hist_mean_days_late": np.where(n > 0, days_late / np.maximum(n, 1), 0.0),
        "hist_recent_days_late": np.where(rn > 0, r_days / np.maximum(rn, 1), 0.0),
        "hist_n": n,
        "hist_late_n": n_late,
        "hist_recent_n": rn,
        "hist_recent_late_n": r_late,
    }


def amount_features(k: Knowledge, ce: CustomerEvents, q: FeatureRows) -> dict[str, np.ndarray]:
    """Return the invoice's amount and terms, and its amount against the customer's usual
    one: the mean log amount of its invoices **issued strictly before** s."""
    led = k.ledger
    amount = led.amount[q.rows]
    prior = ce.issued.before(q.by_customer)
    n_prior, sum_log = prior.total("n"), prior.total("log_amount")
    mean_log = np.where(n_prior > 0, sum_log / np.maximum(n_prior, 1), np.log(amount))
    return {
        "amount_log": np.log(amount),
        "amount_ratio_log": np.log(amount) - mean_log,
        "terms_days": (led.due[q.rows] - led.issued[q.rows]).astype(float),
        "usual_amount": np.exp(mean_log),
    }


def calendar_features(k: Knowledge, q: FeatureRows) -> dict[str, np.ndarray]:
    """Return the month-end and quarter-end flags of the invoice's issue day."""
    month_end, quarter_end = calendar_flags(k.ledger.issued[q.rows])
    return {"month_end": month_end, "quarter_end": quarter_end}


def exposure_features(
    k: Knowledge, ce: CustomerEvents, q: FeatureRows, usual_amount: np.ndarray
) -> dict[str, np.ndarray]:
    """Return the customer's *other* invoices open and overdue at the end of s.

    Open: issued **on or before** s and not settled on or before s. Overdue: past their first
    day overdue **on or before** s and not settled on or before s. The invoice itself is taken
    out; the overdue amount is also given against the customer's ``usual_amount``.
    """
    led, c = k.ledger, q.by_customer
    amount, due = led.amount[q.rows], led.due[q.rows]
    self_open = q.open_at_day
    self_overdue = self_open * (due + k.grace_days < q.day)
    became_overdue, stopped = ce.overdue_from.up_to(c), ce.overdue_until.up_to(c)
    open_n = ce.issued.up_to(c).total("n") - ce.settled.up_to(c).total("n") - self_open
    overdue_n = became_overdue.total("n") - stopped.total("n") - self_overdue
    overdue_amount = np.round(
        became_overdue.total("amount") - stopped.total("amount") - self_overdue * amount, 2
    )
    return {
        "cust_open_other_n": np.maximum(open_n, 0),
        "cust_overdue_other_n": np.maximum(overdue_n, 0),
        "cust_overdue_amount_ratio": np.maximum(overdue_amount, 0) / usual_amount,
        "cust_overdue_other_amount": np.maximum(overdue_amount, 0),
    }


def activity_features(k: Knowledge, ie: InvoiceEvents, q: FeatureRows) -> dict[str, np.ndarray]:
    """Return what collectors recorded on the invoice: contacts and promises to pay dated
    **on or before** s; promises recorded on or before s whose promised day passed
    **strictly before** s while the invoice is still open at s (broken); a dispute recorded
    **on or before** s."""
    done = ie.activities.up_to(q.by_invoice)
    passed = ie.promise_passed.up_to(q.by_invoice)
    self_open = q.open_at_day
    dispute_known = k.dispute_day[q.rows] <= q.day
    return {
        "contacts": done.total("contact"),
        "promises": done.total("promise"),
        "broken_promises": passed.total("n") * self_open,
        "dispute_known": dispute_known.astype(float),
        "last_broken_promise_day": np.where(
            self_open > 0, passed.last_value("day", default=-1.0), -1.0
        ),
        "dispute_day": np.where(dispute_known, k.dispute_day[q.rows], NO_DAY),
    }


def features_at(k: Knowledge, rows: np.ndarray, snap: np.ndarray) -> pd.DataFrame:
    """Return the feature table for invoice ``rows`` scored at days ``snap`` (each <= ``k.T``).

    Columns: :data:`NUMERIC_FEATURES`, the categorical columns of ``k``, then the
    :data:`EVIDENCE_COLUMNS` (no model input: the counts and days behind the features, used
    to phrase reasons).

    Raises
    ------
    ValueError
        A snapshot day is after the knowledge date.
    """
    q = FeatureRows.of(k, rows, snap)
    columns = _numeric_columns_by_block(k, q, BLOCK_ROWS)
    frame = pd.DataFrame({name: columns[name] for name in _NUMERIC_ORDER}, copy=False)
    for name, (codes, values) in k.categories.items():
        frame[name] = _category_text(codes[q.rows], values)
    for name in EVIDENCE_COLUMNS:
        frame[name] = columns[name]
    return frame


def customer_blocks(customer: np.ndarray, block_rows: int) -> tuple[np.ndarray, int]:
    """Return a block number per invoice row and the number of blocks: whole customers per
    block (customer code modulo the number of blocks; -1, no customer, is one customer),
    about ``block_rows`` invoice rows each."""
    n_blocks = max(1, -(-len(customer) // max(int(block_rows), 1)))
    return np.remainder(customer, n_blocks), n_blocks


def _numeric_columns_by_block(
    k: Knowledge, q: FeatureRows, block_rows: int
) -> dict[str, np.ndarray]:
    """Return :func:`_numeric_columns` computed for blocks of whole customers, one at a time.

    An invoice's features read its own customer's events only, so each block's events hold
    only its customers' invoices and activities: the book's events are never all held at once
    (a few hundred bytes per invoice row). A book of at most ``block_rows`` invoice rows is
    one block. Running sums over fewer events may round differently in the last bits.
    """
    block, n_blocks = customer_blocks(k.customer, block_rows)
    if n_blocks == 1:
        return _numeric_columns(k, q)
    of_query = block[q.rows]
    parts, where = [], []
    for b in range(n_blocks):
        sel = np.flatnonzero(of_query == b)
        if len(sel) or (b == n_blocks - 1 and not parts):
            parts.append(_numeric_columns(k, q.take(sel), block == b))
            where.append(sel)
    at = np.concatenate(where)
    out = {}
    for name in parts[0]:
        values = np.concatenate([p[name] for p in parts])
        out[name] = np.empty_like(values)
        out[name][at] = values
    return out


def _numeric_columns(
    k: Knowledge, q: FeatureRows, within: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Return every numeric and evidence column of the rows ``q`` (whose customers are all
    ``within``, when given: the events are built of those invoice rows only). The events are
    let go on return, before the table is built."""
    ce, ie = customer_events(k, within), invoice_events(k, within)
    history = history_features(ce, q)
    amount = amount_features(k, ce, q)
    exposure = exposure_features(k, ce, q, amount["usual_amount"])
    return {
        **history,
        **amount,
        **calendar_features(k, q),
        **exposure,
        **activity_features(k, ie, q),
        "days_past_due": (q.day - k.ledger.due[q.rows]).astype(float),
    }


# the columns' order as the feature table has always had them (NUMERIC_FEATURES is the
# model's order; readers take columns by name)
_NUMERIC_ORDER = [
    *NUMERIC_FEATURES[:15],
    "contacts",
    "promises",
    "broken_promises",
    "dispute_known",
    "days_past_due",
]


def _category_text(codes: np.ndarray, values: np.ndarray) -> pd.Series:
    """Return ``values[code]`` per row as a string column (code -1 reads the last value,
    ``"unknown"``), decoded by Arrow."""
    text = pa.DictionaryArray.from_arrays(
        pa.array(np.where(codes >= 0, codes, len(values) - 1).astype(np.int32)),
        pa.array(values.astype(str), type=pa.large_string()),
    ).dictionary_decode()
    return pd.array(text, dtype="str")


def calendar_flags(day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(month_end, quarter_end)`` flags (1.0/0.0) of int days: within the last 3
    days of a month, within the last 5 of a quarter."""
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
