"""Orders on a past day: status, open backlog and escalations, derived from the order's dates.

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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .days import NO_DAY, day_number, day_numbers

__all__ = ["BACKLOG_AGE_LABELS", "OrderBook", "escalations", "open_orders", "order_status_on"]

BACKLOG_AGE_LABELS = ["0_7", "8_14", "15_30", "31_plus"]
#: Answers an :class:`OrderBook` keeps for repeat questions (a day's status codes, a day's
#: escalations): a report of three days must not keep every day's arrays over every order.
REMEMBERED_ANSWERS = 4


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
            self._remember(("status", d), self._status_codes(d))
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
        ).astype(np.int8)  # one byte per order: a book remembers several days of them

    def open_mask(self, day) -> np.ndarray:
        """Return which orders are open (ordered, not invoiced, not cancelled) on ``day``."""
        return self.status_codes(day) >= 3

    def escalation_arrays(self, day, sla_days: dict[str, int]):
        """Return ``(escalated, reason index, days over)`` for every order on ``day``."""
        key = ("escalation", day_number(day), tuple(sorted(sla_days.items())))
        if key not in self._memo:
            self._remember(key, self._escalation_arrays(day_number(day), sla_days))
        return self._memo[key]

    def _remember(self, key: tuple, value) -> None:
        """Keep ``value`` for repeat questions, forgetting the oldest beyond
        :data:`REMEMBERED_ANSWERS` (each is one to three arrays over every order)."""
        self._memo[key] = value
        while len(self._memo) > REMEMBERED_ANSWERS:
            del self._memo[next(iter(self._memo))]

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
        reason = over.argmax(axis=0).astype(np.int8)
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
