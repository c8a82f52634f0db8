"""Daily MIS for sales operations: orders, backlog, escalations, cycle times, activity, changes.

An order's status on a past date is derived from its dates: ``invoiced`` once
``invoiced_date <= day``, ``shipped`` once ``shipped_date <= day``, else ``on_hold`` when the
export says so (on-hold has no date) or ``processing`` (``received`` on its order day).
Cancelled orders have no cancellation date in the canonical table: they never count in the
backlog.

Escalations (orders past SLA) are open orders that are

* past their promised date and not shipped (``promised_date < day``), or
* in processing (or received) for more than ``sla_days.processing`` days since ordered,
* on hold for more than ``sla_days.on_hold`` days since ordered, or
* shipped but not invoiced for more than ``sla_days.shipped`` days.

:func:`daily_mis` assembles every headline figure of the daily-mis ``metrics.json`` (the keys of
DESIGN.md) and the tables behind them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import Config
from .days import NO_DAY, day_number, day_numbers
from .kpis import countback_days, monthly_credit_sales
from .receivables import (
    CENT,
    Ledger,
    aging_buckets,
    bucket_labels,
    isin_ids,
    rate_factors,
    row_positions,
    with_sales_owner,
)
from .tables import Tables

__all__ = [
    "DailyMIS",
    "OrderBook",
    "activity_summary",
    "changes_since_previous_day",
    "daily_mis",
    "escalations",
    "open_orders",
    "order_status_on",
    "sections_skipped_mis",
]

BACKLOG_AGE_LABELS = ["0_7", "8_14", "15_30", "31_plus"]


def _day(day) -> pd.Timestamp:
    return pd.Timestamp(day).normalize()


def _key(s: pd.Series) -> pd.Series:
    return s.astype("str").str.strip().str.lower()


_STATUS = np.array(
    ["not_yet_ordered", "cancelled", "invoiced", "shipped", "on_hold", "received", "processing"]
)
_REASONS = np.array(
    [
        "past promised date",
        "in processing beyond SLA",
        "on hold beyond SLA",
        "shipped, not invoiced beyond SLA",
    ]
)


class OrderBook:
    """Orders as day arrays, answering "status / backlog / escalations on day D" fast."""

    def __init__(self, orders: pd.DataFrame) -> None:
        self.orders = orders.reset_index(drop=True)
        o = self.orders
        self.ordered = day_numbers(o["order_date"])
        self.promised = day_numbers(o["promised_date"])
        self.shipped = day_numbers(o["shipped_date"])
        self.invoiced = day_numbers(o["invoiced_date"])
        status = o["status"]
        self.cancelled = (status == "cancelled").to_numpy(dtype=bool, na_value=False)
        self.on_hold = (status == "on_hold").to_numpy(dtype=bool, na_value=False)
        self._memo: dict = {}

    def status_codes(self, day) -> np.ndarray:
        """Return indexes into the status names for every order at the end of ``day``."""
        d = day_number(day)
        if ("status", d) not in self._memo:
            self._memo[("status", d)] = self._status_codes(d)
        return self._memo[("status", d)]

    def _status_codes(self, d: int) -> np.ndarray:
        return np.select(
            [
                self.ordered > d,
                self.cancelled,
                self.invoiced <= d,
                self.shipped <= d,
                self.on_hold,
                self.ordered == d,
            ],
            [0, 1, 2, 3, 4, 5],
            6,
        )

    def open_mask(self, day) -> np.ndarray:
        """Return which orders are open (ordered, not invoiced, not cancelled) on ``day``."""
        return self.status_codes(day) >= 3

    def escalation_arrays(self, day, sla_days: dict[str, int]):
        """Return ``(escalated, reason index, days over)`` for every order on ``day``."""
        key = ("escalation", day_number(day), tuple(sorted(sla_days.items())))
        if key not in self._memo:
            self._memo[key] = self._escalation_arrays(day_number(day), sla_days)
        return self._memo[key]

    def _escalation_arrays(self, d: int, sla_days: dict[str, int]):
        code = self._status_codes(d)
        age = d - self.ordered
        early = (code == 4) | (code == 5) | (code == 6)
        over = np.full((4, len(code)), -1, dtype=np.int64)
        has_promise = self.promised != NO_DAY
        over[0] = np.where(early & has_promise, d - np.where(has_promise, self.promised, d), -1)
        over[1] = np.where((code == 5) | (code == 6), age - sla_days.get("processing", 7), -1)
        over[2] = np.where(code == 4, age - sla_days.get("on_hold", 5), -1)
        since = d - np.where(self.shipped == NO_DAY, d, self.shipped)
        over[3] = np.where(code == 3, since - sla_days.get("shipped", 3), -1)
        reason = over.argmax(axis=0)
        worst = over.max(axis=0)
        return worst > 0, reason, worst


def order_status_on(orders: pd.DataFrame, day) -> pd.Series:
    """Return each order's status at the end of ``day`` (derived from its dates)."""
    codes = OrderBook(orders).status_codes(day)
    return pd.Series(_STATUS[codes], index=orders.index, name="status_on_day")


def open_orders(orders: pd.DataFrame, day, *, book: OrderBook | None = None) -> pd.DataFrame:
    """Return orders open at the end of ``day`` (ordered, not invoiced, not cancelled), with
    ``status_on_day``, ``age_days`` and ``age_bucket``."""
    book = book or OrderBook(orders)
    codes = book.status_codes(day)
    keep = codes >= 3
    out = book.orders.loc[keep].copy()
    out["status_on_day"] = _STATUS[codes[keep]]
    out["age_days"] = day_number(day) - book.ordered[keep]
    out["age_bucket"] = pd.cut(out["age_days"], [-1, 7, 14, 30, np.inf], labels=BACKLOG_AGE_LABELS)
    return out


def escalations(
    orders: pd.DataFrame, day, sla_days: dict[str, int], *, book: OrderBook | None = None
) -> pd.DataFrame:
    """Return open orders past their promised date or past an SLA, most overdue first.

    Columns: order, customer, owner (sales rep), team, status, amount, ``reason`` (the check
    that is most overdue) and ``days_over`` (days beyond the promise or the SLA).
    """
    book = book or OrderBook(orders)
    hit, reason, worst = book.escalation_arrays(day, sla_days)
    codes = book.status_codes(day)
    out = book.orders.loc[
        hit,
        [
            "order_id",
            "customer_id",
            "sales_rep",
            "team",
            "order_date",
            "promised_date",
            "amount",
            "currency",
        ],
    ].copy()
    out.insert(4, "status_on_day", _STATUS[codes[hit]])
    out["reason"] = _REASONS[reason[hit]]
    out["days_over"] = worst[hit]
    return out.sort_values(["days_over", "amount"], ascending=False).reset_index(drop=True)


def activity_summary(activities: pd.DataFrame, day, by=("owner", "type")) -> pd.DataFrame:
    """Return the number of activities on ``day`` by owner and type (or other columns)."""
    day = _day(day)
    act = activities.loc[activities["activity_date"] == day]
    by = list(by)
    if act.empty:
        return pd.DataFrame(columns=[*by, "activities"])
    return (
        act.groupby(by, dropna=False)
        .size()
        .rename("activities")
        .reset_index()
        .sort_values("activities", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def _latest_promises(activities: pd.DataFrame, day) -> pd.DataFrame:
    """Return the latest promise to pay per invoice made by ``day``."""
    day = _day(day)
    recent = activities.loc[
        activities["promised_date"].notna()
        & (activities["promised_date"] >= day - pd.Timedelta(days=1))
    ]
    act = recent.loc[
        (recent["activity_date"] <= day)
        & (recent["outcome"] == "promise_to_pay")
        & recent["invoice_id"].notna()
    ]
    # a later promise on the same invoice replaces an earlier one, even one dated before
    # yesterday: look those up among all promises of the invoices concerned
    concerned = activities.loc[
        (activities["outcome"] == "promise_to_pay") & (activities["activity_date"] <= day)
    ]
    concerned = concerned.loc[isin_ids(concerned["invoice_id"].fillna(""), act["invoice_id"])]
    concerned = concerned.assign(_inv=_key(concerned["invoice_id"]))
    concerned = concerned.sort_values(["activity_date", "activity_id"])
    return concerned.drop_duplicates("_inv", keep="last")


def changes_since_previous_day(
    tables: Tables,
    day,
    *,
    sla_days: dict[str, int] | None = None,
    ledger: Ledger | None = None,
    book: OrderBook | None = None,
) -> dict[str, pd.DataFrame]:
    """Return what changed between the end of the previous day and the end of ``day``.

    Keys: ``newly_overdue`` (open invoices 1 day past due), ``newly_paid`` (open yesterday,
    settled today), ``promises_due_today`` (latest promise per invoice dated today, invoice
    open yesterday), ``promises_broken`` (promised for yesterday, still open: the promise's
    date passed without payment), ``disputes_opened`` (activities with outcome ``dispute``
    today), ``new_escalations`` (orders escalated today, not yesterday).
    """
    day = _day(day)
    prev = day - pd.Timedelta(days=1)
    led = ledger or Ledger(tables.invoices, tables.payments)
    book = book or OrderBook(tables.orders)
    _, open_now, _ = led.balances(day)
    _, open_prev, _ = led.balances(prev)
    is_open, was_open = np.abs(open_now) >= CENT, np.abs(open_prev) >= CENT
    inv = led.invoices
    d = day_number(day)
    cols = ["invoice_id", "customer_id", "due_date", "amount", "currency"]
    newly_overdue = inv.loc[is_open & (led.due == d - 1), cols].assign(
        open_amount=open_now[is_open & (led.due == d - 1)]
    )
    newly_paid = inv.loc[was_open & ~is_open & ~led.written_off, cols]
    promises = _latest_promises(tables.activities, day)
    pcols = [
        "invoice_id",
        "customer_id",
        "owner",
        "activity_date",
        "promised_date",
        "promised_amount",
    ]
    today_p = promises.loc[promises["promised_date"] == day]
    due_today = today_p.loc[isin_ids(today_p["invoice_id"], inv.loc[was_open, "invoice_id"]), pcols]
    prev_p = promises.loc[promises["promised_date"] == prev]
    broken = prev_p.loc[isin_ids(prev_p["invoice_id"], inv.loc[is_open, "invoice_id"]), pcols]
    act = tables.activities
    disputes = act.loc[
        (act["activity_date"] == day) & (act["outcome"] == "dispute"),
        ["activity_id", "invoice_id", "customer_id", "owner"],
    ]
    sla = sla_days or {}
    esc_today = escalations(book.orders, day, sla, book=book)
    esc_prev, _, _ = book.escalation_arrays(prev, sla)
    new_esc = esc_today.loc[~isin_ids(esc_today["order_id"], book.orders.loc[esc_prev, "order_id"])]
    return {
        "newly_overdue": newly_overdue.reset_index(drop=True),
        "newly_paid": newly_paid.reset_index(drop=True),
        "promises_due_today": due_today.reset_index(drop=True),
        "promises_broken": broken.reset_index(drop=True),
        "disputes_opened": disputes.reset_index(drop=True),
        "new_escalations": new_esc.reset_index(drop=True),
    }


@dataclass
class DailyMIS:
    """The daily MIS: headline ``metrics`` (the metrics.json content) and its tables."""

    metrics: dict
    aging: pd.DataFrame
    aging_by_currency: pd.DataFrame
    backlog: pd.DataFrame
    escalations: pd.DataFrame
    activity: pd.DataFrame
    changes: dict[str, pd.DataFrame]
    open_items: pd.DataFrame = field(repr=False)  # open invoices, reporting currency
    ledger: Ledger | None = field(default=None, repr=False)  # reporting currency
    book: OrderBook | None = field(default=None, repr=False)

    def aging_by_team(self, config: Config | None = None) -> pd.DataFrame:
        """Return the aging by sales team and rep (from each invoice's order)."""
        config = config or Config()
        return aging_buckets(
            with_sales_owner(self.open_items, self.book.orders),
            edges=config.aging_edges,
            basis=config.aging_basis,
            by=["team", "sales_rep"],
        )


#: The headline figures each optional export feeds (``None`` in metrics.json without it).
MIS_SECTION_METRICS = {
    "orders": [
        "orders_received",
        "orders_received_amount",
        "orders_shipped",
        "orders_invoiced",
        "open_orders",
        "open_orders_amount",
        "open_orders_median_age_days",
        "orders_past_sla",
        "order_to_invoice_days_median",
        "order_to_cash_days_median",
        "new_escalations",
    ],
    "activities": ["activities", "promises_broken", "promises_due_today", "disputes_opened"],
}


def sections_skipped_mis(tables: Tables) -> dict[str, str]:
    """Return the daily MIS sections that a missing export leaves out, each with the reason.

    Examples
    --------
    >>> from salesops_analysis.metrics import Tables
    >>> sorted(sections_skipped_mis(Tables(exports=frozenset({"invoices"}))))
    ['activities', 'orders']
    """
    out = {}
    if not tables.has("orders"):
        out["orders"] = (
            "no orders export: orders received, backlog, escalations and order-to-invoice "
            "times are not reported"
        )
    if not tables.has("activities"):
        out["activities"] = (
            "no activities export: collector activity and promises to pay are not reported"
        )
    return out


def _r(x: float, nd: int = 2) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), nd)


def daily_mis(tables: Tables, report_date, config: Config | None = None) -> DailyMIS:
    """Return the daily MIS figures and tables for the end of ``report_date``.

    Amounts are converted to the reporting currency at the rates of ``report_date``; the aging
    by currency stays in each document currency.

    Raises
    ------
    CurrencyError
        Several document currencies without FX rates.
    ReconciliationError
        Aging buckets do not sum to the open balance.
    """
    config = config or Config()
    day = _day(report_date)
    d = day_number(day)
    rates, currency = tables.rates(day, config)
    doc = Ledger(tables.invoices, tables.payments)
    led = doc.in_currency(rates, currency)
    book = OrderBook(tables.orders)
    order_factor = rate_factors(book.orders["currency"], rates, len(book.orders))
    order_amount = book.orders["amount"].to_numpy(dtype="float64", na_value=0.0) * order_factor

    aging_by_currency = aging_buckets(
        doc.open_items(day, open_only=True),
        edges=config.aging_edges,
        basis=config.aging_basis,
        by="currency",
    )
    items = led.open_items(day, open_only=True)
    aging = aging_buckets(items, edges=config.aging_edges, basis=config.aging_basis)
    labels = bucket_labels(config.aging_edges, config.aging_basis)
    ar_open = float(aging["total"].iloc[0])
    ar_current = float(items.loc[items["days_past_due"] <= 0, "open_amount"].sum())
    period = 90
    sales_90 = led.credit_sales(day - pd.Timedelta(days=period), day)
    dso_simple = ar_open / sales_90 * period if sales_90 > 0 else np.nan
    best = ar_current / sales_90 * period if sales_90 > 0 else np.nan
    monthly = monthly_credit_sales(led.invoices, day, 24, ledger=led)
    dso_cb = countback_days(ar_open, monthly["sales"], monthly["days"])
    start = day - pd.Timedelta(days=config.cei_period_days)
    begin = led.snapshot(start)["ar"]
    sales_cei = led.credit_sales(start, day)
    denominator = begin + sales_cei - ar_current
    cei = (begin + sales_cei - ar_open) / denominator * 100 if abs(denominator) > 0.005 else np.nan

    received = book.ordered == d
    backlog = open_orders(book.orders, day, book=book)
    open_mask = book.open_mask(day)
    esc = escalations(book.orders, day, config.sla_days, book=book)
    esc["amount"] = esc["amount"].to_numpy(dtype="float64") * rate_factors(
        esc["currency"], rates, len(esc)
    )
    issued = (led.issued == d) & (led.amount > 0)
    if led.payments is not None:
        cash = float(led.pay_amount[led.pay_day == d].sum())
    else:
        cash = float(led.paid_amount[led.paid_day == d].sum())
    inv30 = (book.invoiced > d - 30) & (book.invoiced <= d)
    o2i = book.invoiced[inv30] - book.ordered[inv30]
    _, open_now, last = led.balances(day)
    closed30 = (
        (np.abs(open_now) < CENT)
        & (last > d - 30)
        & (last <= d)
        & (led.amount > 0)
        & led.invoices["order_id"].notna().to_numpy()
    )
    o2c = np.array([], dtype=np.int64)
    if closed30.any() and len(book.orders):
        # only orders invoiced around those invoices' dates can match: a smaller hash
        first = led.issued[closed30].min() - 7
        recent = (book.invoiced >= first) & (book.invoiced != NO_DAY)
        pos = row_positions(
            led.invoices.loc[closed30, "order_id"], book.orders.loc[recent, "order_id"]
        )
        ordered = book.ordered[recent][pos[pos >= 0]]
        o2c = last[closed30][pos >= 0] - ordered
    changes = changes_since_previous_day(
        tables, day, sla_days=config.sla_days, ledger=led, book=book
    )
    today = tables.activities.loc[tables.activities["activity_date"] == day]
    owners = today["owner"].dropna().unique()
    reps = book.orders.loc[book.orders["sales_rep"].isin(owners), ["sales_rep", "team"]]
    reps = reps.drop_duplicates("sales_rep", keep="last").set_index("sales_rep")["team"]
    today = today.assign(team=today["owner"].map(reps).fillna("collections"))
    activity = activity_summary(today, day, by=("team", "owner", "type", "outcome"))

    def med(x: np.ndarray) -> float:
        return float(np.median(x)) if len(x) else np.nan

    metrics = {
        "report_date": str(day.date()),
        "currency": currency,
        "orders_received": int(received.sum()),
        "orders_received_amount": _r(order_amount[received].sum()),
        "orders_shipped": int((book.shipped == d).sum()),
        "orders_invoiced": int((book.invoiced == d).sum()),
        "open_orders": int(open_mask.sum()),
        "open_orders_amount": _r(order_amount[open_mask].sum()),
        "open_orders_median_age_days": _r(med(d - book.ordered[open_mask]), 1),
        "orders_past_sla": int(len(esc)),
        "order_to_invoice_days_median": _r(med(o2i), 1),
        "order_to_cash_days_median": _r(med(o2c), 1),
        "invoices_issued": int(issued.sum()),
        "invoices_issued_amount": _r(led.amount[issued].sum()),
        "cash_collected": _r(cash),
        "ar_open": _r(ar_open),
        **{f"ar_{label}": _r(aging[label].iloc[0]) for label in labels},
        "open_invoices": int(len(items)),
        "pct_current": _r(ar_current / ar_open * 100 if ar_open else np.nan),
        "dso_countback": _r(dso_cb, 1),
        "dso_simple": _r(dso_simple, 1),
        "best_possible_dso": _r(best, 1),
        "average_days_delinquent": _r(dso_simple - best, 1),
        "cei": _r(cei, 1),
        "activities": int((tables.activities["activity_date"] == day).sum()),
        **{k: int(len(v)) for k, v in changes.items()},
    }
    skipped = sections_skipped_mis(tables)
    for section in skipped:
        # a missing export is said, never shown as zeros that look real
        for key in MIS_SECTION_METRICS[section]:
            metrics[key] = None
    metrics["sections_skipped"] = skipped
    return DailyMIS(
        metrics,
        aging,
        aging_by_currency,
        backlog,
        esc,
        activity,
        changes,
        items,
        led,
        book,
    )
