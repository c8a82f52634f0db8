"""Daily MIS for sales operations: orders, backlog, escalations, cycle times, activity, changes.

Orders' status on a day, the backlog and the escalations past SLA are those of
:mod:`~salesops_analysis.metrics.orders`; DSO, best possible DSO and CEI those of
:mod:`~salesops_analysis.metrics.kpis`, on the open items in the reporting currency.

:func:`daily_mis` assembles every headline figure of the daily-mis ``metrics.json`` (the keys of
DESIGN.md) and the tables behind them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import Config
from .days import NO_DAY, day_number
from .ids import isin_ids, row_positions
from .kpis import best_possible_dso, cei, dso_countback, dso_simple
from .orders import OrderBook, escalations, open_orders, order_status_on
from .receivables import (
    CENT,
    Ledger,
    aging_buckets,
    bucket_labels,
    rate_factors,
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


def _day(day) -> pd.Timestamp:
    return pd.Timestamp(day).normalize()


def _key(s: pd.Series) -> pd.Series:
    return s.astype("str").str.strip().str.lower()


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
    a = activities
    # rows are picked by position and only they are copied: most activities may be promises
    made = (a["outcome"] == "promise_to_pay").to_numpy(dtype=bool, na_value=False) & (
        a["activity_date"] <= day
    ).to_numpy(dtype=bool, na_value=False)
    recent = (
        made
        & (a["promised_date"] >= day - pd.Timedelta(days=1)).to_numpy(dtype=bool, na_value=False)
        & a["invoice_id"].notna().to_numpy()
    )
    # a later promise on the same invoice replaces an earlier one, even one dated before
    # yesterday: look those up among all promises of the invoices concerned
    mine = np.flatnonzero(made)
    ids = a["invoice_id"].iloc[mine].fillna("")
    concerned = a.iloc[mine[isin_ids(ids, a["invoice_id"].iloc[np.flatnonzero(recent)])]]
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


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if len(x) else np.nan


def daily_mis(
    tables: Tables,
    report_date,
    config: Config | None = None,
    *,
    ledger: Ledger | None = None,
    book: OrderBook | None = None,
) -> DailyMIS:
    """Return the daily MIS figures and tables for the end of ``report_date``.

    Amounts are converted to the reporting currency at the rates of ``report_date``; the aging
    by currency stays in each document currency. ``ledger`` (of ``tables``' invoices and
    payments, in the document currencies) and ``book`` (of its orders), when given, are reused
    instead of built: a report that needs several days builds them once.

    Raises
    ------
    CurrencyError
        Several document currencies without FX rates.
    ReconciliationError
        Aging buckets do not sum to the open balance.
    """
    config = config or Config()
    day = _day(report_date)
    rates, currency = tables.rates(day, config)
    doc = ledger or Ledger(tables.invoices, tables.payments)
    led = doc.in_currency(rates, currency)
    book = book or OrderBook(tables.orders)
    aging_by_currency = aging_buckets(
        _open_in_document_currency(doc, day),
        edges=config.aging_edges,
        basis=config.aging_basis,
        by="currency",
    )
    items = led.open_items(day, open_only=True)
    aging = aging_buckets(items, edges=config.aging_edges, basis=config.aging_basis)
    esc = escalations(book.orders, day, config.sla_days, book=book)
    esc["amount"] = esc["amount"].to_numpy(dtype="float64") * rate_factors(
        esc["currency"], rates, len(esc)
    )
    changes = changes_since_previous_day(
        tables, day, sla_days=config.sla_days, ledger=led, book=book
    )
    metrics = {
        "report_date": str(day.date()),
        "currency": currency,
        **_order_figures(book, led, day, rates, len(esc)),
        **_invoicing_figures(led, day),
        **_receivables_figures(led, items, aging, day, config),
        "activities": int((tables.activities["activity_date"] == day).sum()),
        **{k: int(len(v)) for k, v in changes.items()},
    }
    skipped = sections_skipped_mis(tables)
    for section in skipped:
        # a missing export is said, never shown as zeros that look real
        for key in MIS_SECTION_METRICS[section]:
            metrics[key] = None
    metrics["sections_skipped"] = skipped
    # "export", "snapshots" (payments implied by open-items snapshots) or None (neither)
    metrics["payments_source"] = tables.payments_source
    return DailyMIS(
        metrics,
        aging,
        aging_by_currency,
        open_orders(book.orders, day, book=book),
        esc,
        _activity_by_team(tables.activities, book, day),
        changes,
        items,
        led,
        book,
    )


def _open_in_document_currency(doc: Ledger, day: pd.Timestamp) -> pd.DataFrame:
    """Return the open items of ``day`` in their document currencies, with only what the aging
    by currency reads (the same rows and values as ``doc.open_items(day, open_only=True)``,
    without copying the invoices' other columns or finding last payment days)."""
    d = day_number(day)
    issued, open_amount = doc.open_balances(day)
    rows = np.flatnonzero(issued & (np.abs(open_amount) >= CENT))
    return pd.DataFrame(
        {
            "currency": doc.invoices["currency"].iloc[rows].reset_index(drop=True),
            "open_amount": open_amount[rows],
            "is_open": np.ones(len(rows), dtype=bool),
            "days_past_due": (d - doc.due[rows]).astype("float64"),
            "days_since_invoice": (d - doc.issued[rows]).astype("float64"),
        }
    )


def _order_figures(
    book: OrderBook, led: Ledger, day: pd.Timestamp, rates: dict, past_sla: int
) -> dict:
    """Return the orders received, shipped, invoiced and open on ``day`` (amounts in the
    reporting currency), the orders past SLA and the median order-to-invoice and
    order-to-cash days of the last 30 days."""
    d = day_number(day)
    received = book.ordered == d
    open_mask = book.open_mask(day)
    invoiced_30 = (book.invoiced > d - 30) & (book.invoiced <= d)
    return {
        "orders_received": int(received.sum()),
        "orders_received_amount": _r(_order_amounts(book, rates, received).sum()),
        "orders_shipped": int((book.shipped == d).sum()),
        "orders_invoiced": int((book.invoiced == d).sum()),
        "open_orders": int(open_mask.sum()),
        "open_orders_amount": _r(_order_amounts(book, rates, open_mask).sum()),
        "open_orders_median_age_days": _r(_median(d - book.ordered[open_mask]), 1),
        "orders_past_sla": int(past_sla),
        "order_to_invoice_days_median": _r(
            _median(book.invoiced[invoiced_30] - book.ordered[invoiced_30]), 1
        ),
        "order_to_cash_days_median": _r(_median(_order_to_cash_days(book, led, day)), 1),
    }


def _order_amounts(book: OrderBook, rates: dict, mask: np.ndarray) -> np.ndarray:
    """Return the amounts of the orders ``mask`` picks, in the reporting currency."""
    rows = np.flatnonzero(mask)
    amount = book.orders["amount"].iloc[rows].to_numpy(dtype="float64", na_value=0.0)
    return amount * rate_factors(book.orders["currency"].iloc[rows], rates, len(rows))


def _order_to_cash_days(book: OrderBook, led: Ledger, day: pd.Timestamp) -> np.ndarray:
    """Return the days from order to the last payment of each invoice settled in the 30 days
    up to ``day`` whose order is in the book."""
    d = day_number(day)
    _, open_now, last = led.balances(day)
    closed30 = (
        (np.abs(open_now) < CENT)
        & (last > d - 30)
        & (last <= d)
        & (led.amount > 0)
        & led.invoices["order_id"].notna().to_numpy()
    )
    if not closed30.any() or not len(book.orders):
        return np.array([], dtype=np.int64)
    # only orders invoiced around those invoices' dates can match: a smaller hash
    first = led.issued[closed30].min() - 7
    recent = (book.invoiced >= first) & (book.invoiced != NO_DAY)
    pos = row_positions(led.invoices.loc[closed30, "order_id"], book.orders.loc[recent, "order_id"])
    ordered = book.ordered[recent][pos[pos >= 0]]
    return last[closed30][pos >= 0] - ordered


def _invoicing_figures(led: Ledger, day: pd.Timestamp) -> dict:
    """Return the invoices issued on ``day`` (credit notes not counted) and the cash
    collected (payments dated that day; without a payments export, invoices paid that day)."""
    d = day_number(day)
    issued = (led.issued == d) & (led.amount > 0)
    if led.payments is not None:
        cash = float(led.pay_amount[led.pay_day == d].sum())
    else:
        cash = float(led.paid_amount[led.paid_day == d].sum())
    return {
        "invoices_issued": int(issued.sum()),
        "invoices_issued_amount": _r(led.amount[issued].sum()),
        "cash_collected": _r(cash),
    }


def _receivables_figures(
    led: Ledger, items: pd.DataFrame, aging: pd.DataFrame, day: pd.Timestamp, config: Config
) -> dict:
    """Return AR open and its aging buckets, the open invoices, % current, DSO (countback and
    simple), best possible DSO, average days delinquent and CEI at the end of ``day``.

    AR is the aging total of the open ``items``; the KPIs are those of
    :mod:`~salesops_analysis.metrics.kpis`, given that AR and its current part.
    """
    ar_open = float(aging["total"].iloc[0])
    ar_current = float(items.loc[items["days_past_due"] <= 0, "open_amount"].sum())
    inv, pay = led.invoices, led.payments
    simple = dso_simple(inv, pay, day, ar=ar_open, ledger=led)
    best = best_possible_dso(inv, pay, day, current=ar_current, ledger=led)
    labels = bucket_labels(config.aging_edges, config.aging_basis)
    return {
        "ar_open": _r(ar_open),
        **{f"ar_{label}": _r(aging[label].iloc[0]) for label in labels},
        "open_invoices": int(len(items)),
        "pct_current": _r(ar_current / ar_open * 100 if ar_open else np.nan),
        "dso_countback": _r(dso_countback(inv, pay, day, ar=ar_open, ledger=led), 1),
        "dso_simple": _r(simple, 1),
        "best_possible_dso": _r(best, 1),
        "average_days_delinquent": _r(simple - best, 1),
        "cei": _r(
            cei(
                inv,
                pay,
                day,
                period_days=config.cei_period_days,
                ar=ar_open,
                current=ar_current,
                ledger=led,
            ),
            1,
        ),
    }


def _activity_by_team(activities: pd.DataFrame, book: OrderBook, day: pd.Timestamp):
    """Return the activities of ``day`` by team, owner, type and outcome; an owner's team is
    that of the sales rep of the same name, else ``collections``."""
    today = activities.loc[activities["activity_date"] == day]
    owners = today["owner"].dropna().unique()
    reps = book.orders.loc[book.orders["sales_rep"].isin(owners), ["sales_rep", "team"]]
    reps = reps.drop_duplicates("sales_rep", keep="last").set_index("sales_rep")["team"]
    # as text first: with no rep among the owners, the mapped teams are all missing floats
    team = today["owner"].map(reps).astype("str").fillna("collections")
    today = today.assign(team=team)
    return activity_summary(today, day, by=("team", "owner", "type", "outcome"))
