"""Collectors and their calls: who works each customer, today's calls within capacity, and
how much of the expected late amount those calls reach."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Collector, Config
from ..metrics.ids import row_positions
from ..metrics.tables import Tables
from .account_facts import cents

__all__ = [
    "CallCoverage",
    "assign_collectors",
    "call_coverage",
    "calls_within_capacity",
    "collector_calls",
    "collector_load",
    "customer_segments",
]


def customer_segments(customer_ids: pd.Series, tables: Tables) -> tuple[np.ndarray, np.ndarray]:
    """Return each customer's segment and country from the customers export ("" unknown),
    lower-cased."""
    cust = tables.customers
    out = []
    pos = row_positions(customer_ids, cust["customer_id"]) if len(cust) else None
    for column in ("segment", "country"):
        values = np.full(len(customer_ids), "", dtype=object)
        if pos is not None and column in cust:
            hit = pos >= 0
            text = cust[column].astype("str").fillna("").str.strip().str.lower()
            values[hit] = text.to_numpy(dtype=object)[pos[hit]]
        out.append(values)
    return out[0], out[1]


def _covers(c: Collector, segment: str, country: str) -> bool:
    segments = {s.lower() for s in c.segments}
    countries = {s.lower() for s in c.countries}
    return (not segments or segment in segments) and (not countries or country in countries)


def assign_collectors(
    expected_late_amount: np.ndarray,
    owner: np.ndarray,
    segment: np.ndarray,
    country: np.ndarray,
    collectors: list[Collector],
) -> np.ndarray:
    """Return one collector name per customer (customers in rank order).

    A customer whose current ``owner`` is one of the ``collectors`` (names compared ignoring
    case) stays with them. Every other customer, largest expected late amount first, goes to
    the collector covering its segment and country (every collector, when none covers it) whose
    expected late amount per call of daily capacity is lowest with it added (ties: the
    collector listed first). Balancing per call of capacity gives a collector with twice the
    capacity about twice the amount; a collector with capacity 0 gets new customers only when
    no other covers them.
    """
    names = [c.name for c in collectors]
    by_name = {c.name.lower(): i for i, c in enumerate(collectors)}
    n = len(expected_late_amount)
    chosen = np.full(n, -1, dtype=np.int64)
    owner_key = [str(o).strip().lower() for o in owner]
    for i, key in enumerate(owner_key):
        chosen[i] = by_name.get(key, -1)
    load = np.zeros(len(collectors))
    np.add.at(load, chosen[chosen >= 0], expected_late_amount[chosen >= 0])
    # capacity 0 weighs as a tiny capacity: chosen only when nobody else covers the customer
    per_call = np.array([max(c.capacity, 1e-9) for c in collectors], dtype="float64")
    eligible_sets: dict[tuple[str, str], list[int]] = {}
    todo = np.flatnonzero(chosen < 0)
    todo = todo[np.argsort(-expected_late_amount[todo], kind="stable")]
    for i in todo:  # greedy: largest first, to the least loaded covering collector
        key = (segment[i], country[i])
        if key not in eligible_sets:
            covering = [j for j, c in enumerate(collectors) if _covers(c, *key)]
            eligible_sets[key] = covering or list(range(len(collectors)))
        amount = expected_late_amount[i]
        best = min(eligible_sets[key], key=lambda j: ((load[j] + amount) / per_call[j], j))
        chosen[i] = best
        load[best] += amount
    return np.array([names[j] for j in chosen], dtype=object)


def calls_within_capacity(
    collector: np.ndarray, callable_: np.ndarray, config: Config
) -> np.ndarray:
    """Return ``callable_`` kept only for each collector's first ``capacity`` callable
    customers (rows in rank order)."""
    capacity = {c.name: c.capacity for c in config.collectors}
    out = np.zeros(len(collector), dtype=bool)
    if not len(collector):
        return out
    rows = np.flatnonzero(callable_)
    frame = pd.DataFrame({"collector": collector[rows]})
    nth = frame.groupby("collector", sort=False).cumcount().to_numpy()
    limit = np.array([capacity.get(c, 0) for c in collector[rows]], dtype=np.int64)
    out[rows[nth < limit]] = True
    return out


def collector_calls(accounts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return each collector's calls for the day (``call_today`` rows, in rank order), by
    collector name in order of first appearance."""
    calls = accounts.loc[accounts["call_today"].to_numpy(dtype=bool)]
    return {
        str(name): frame.reset_index(drop=True)
        for name, frame in calls.groupby("collector", sort=False)
    }


def collector_load(accounts: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """Return per collector: capacity (NaN without ``collectors:``), customers, expected late
    amount, calls today and the expected late amount those calls cover."""
    config = config or Config()
    called = accounts["call_today"].to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {
            "collector": accounts["collector"],
            "customers": 1,
            "expected_late_amount": accounts["expected_late_amount"],
            "calls_today": called.astype(np.int64),
            "expected_late_amount_called": np.where(called, accounts["expected_late_amount"], 0.0),
        }
    )
    table = frame.groupby("collector", sort=False).sum().reset_index()
    if config.collectors:
        names = pd.DataFrame(
            {
                "collector": [c.name for c in config.collectors],
                "capacity": [c.capacity for c in config.collectors],
            }
        )
        table = names.merge(table, on="collector", how="left")
        table = table.fillna(
            {
                "customers": 0,
                "expected_late_amount": 0.0,
                "calls_today": 0,
                "expected_late_amount_called": 0.0,
            }
        )
    else:
        table.insert(1, "capacity", np.nan)
    table["customers"] = table["customers"].astype(np.int64)
    table["calls_today"] = table["calls_today"].astype(np.int64)
    for c in ("expected_late_amount", "expected_late_amount_called"):
        table[c] = table[c].round(2)
    return table.sort_values("expected_late_amount", ascending=False, kind="stable").reset_index(
        drop=True
    )


@dataclass(frozen=True)
class CallCoverage:
    """How much of the expected late amount (or, without one, the overdue amount) today's
    calls reach."""

    customers: int
    calls: int
    measure: str  # "expected late amount" or "overdue amount"
    total: float
    called: float

    @property
    def share(self) -> float:
        """Return the share of the total held by the customers called today."""
        return self.called / self.total if self.total > 0 else 0.0

    def sentence(self, currency: str = "") -> str:
        """Return the coverage in words, for the collections report."""
        unit = f" {currency}" if currency else ""
        calls = "call reaches" if self.calls == 1 else "calls reach"
        return (
            f"Today's {self.calls:,} {calls} {self.called:,.0f}{unit} of the "
            f"{self.total:,.0f}{unit} {self.measure} ({self.share:.0%}) across "
            f"{self.customers:,} customers with an open balance."
        )


def call_coverage(accounts: pd.DataFrame) -> CallCoverage:
    """Return the expected late amount covered by today's calls against the total (the
    overdue amount when the worklist has no expected late amount)."""
    called = accounts["call_today"].to_numpy(dtype=bool)
    ela = accounts["expected_late_amount"].to_numpy(dtype="float64")
    measure, column = "expected late amount", "expected_late_amount"
    if len(ela) and np.isnan(ela).all():
        measure, column = "overdue amount", "overdue_amount_reporting"
    amount = accounts[column].to_numpy(dtype="float64")
    return CallCoverage(
        customers=len(accounts),
        calls=int(called.sum()),
        measure=measure,
        total=round(float(cents(amount).sum()) / 100, 2),
        called=round(float(cents(amount[called]).sum()) / 100, 2),
    )
