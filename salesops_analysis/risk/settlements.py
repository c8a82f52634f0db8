"""How much of each invoice was settled, and how much of that in cash, by any day.

The cash forecast and its backtest ask the same question millions of times: "of invoice row
``r``, how much was settled by the end of day ``d``?" (to know the balance open at a week's
start) and "how much of it was cash?" (the week's target, and the backtest's actual cash).
:class:`Settlements` answers a whole array of (row, day) questions at once, from the ledger's
settlement events known by the knowledge date.
"""

from __future__ import annotations

import numpy as np

from ..metrics.days import NO_DAY
from ..metrics.receivables import Ledger
from .features import stable_order

__all__ = ["RunningTotals", "Settlements"]

#: Days take the low bits of a combined (row, day) sort key: room for day numbers to 2328.
DAY_BITS = 17


def row_day_keys(rows: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Return one int64 sort key per (row, day) pair: sorted keys run by row, then by day."""
    return (np.asarray(rows, dtype=np.int64) << DAY_BITS) + np.asarray(days, dtype=np.int64)


class RunningTotals:
    """Running totals of event amounts per row, read at (row, day) points.

    The plain rule: the total of row ``r`` by day ``d`` is the sum of the amounts of ``r``'s
    events dated on or before ``d``. Events are sorted once by (row, day) with their running
    sums; a question is then two binary searches (the row's first event, and its last one on
    or before ``d``) and one difference of running sums.
    """

    def __init__(self, rows: np.ndarray, days: np.ndarray, amounts: dict[str, np.ndarray]):
        keys = row_day_keys(rows, days)
        order = stable_order(keys)  # events of one (row, day) keep their input order
        self.keys = keys[order]
        self.cum = {
            name: np.concatenate([[0.0], np.cumsum(a[order], dtype="float64")])
            for name, a in amounts.items()
        }

    def total(self, name: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Return the total of ``name`` over the events between positions ``lo`` and ``hi``."""
        return self.cum[name][hi] - self.cum[name][lo]

    def bounds(self, rows: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(lo, hi)``: the positions of each row's first event and one past its last
        event on or before the day, in the sorted events."""
        rows = np.asarray(rows, dtype=np.int64)
        # binary searches of sorted needles are about ten times faster on large tables
        needles = row_day_keys(rows, days)
        if len(needles) < 2 or (needles[1:] >= needles[:-1]).all():
            # already in order (a book's rows, each at its days in turn): no sort needed
            lo = np.searchsorted(self.keys, rows << DAY_BITS, side="left")
            return lo, np.searchsorted(self.keys, needles, side="right")
        order = np.argsort(needles)
        lo = np.empty(len(rows), dtype=np.int64)
        hi = np.empty(len(rows), dtype=np.int64)
        lo[order] = np.searchsorted(self.keys, rows[order] << DAY_BITS, side="left")
        hi[order] = np.searchsorted(self.keys, needles[order], side="right")
        return lo, hi


class Settlements:
    """Cumulative settlements per invoice row, queried at any (row, day) points.

    ``all`` counts everything that lowers the balance (payments and applied credit notes),
    ``cash`` only payments. Without a payments export, ``paid_amount`` counts on ``paid_date``
    (without a date: as always known, as the ledger does). Nothing after ``T`` counts.
    """

    def __init__(self, led: Ledger, T: int, rows: np.ndarray | None = None) -> None:
        # rows: only these invoice rows' settlements are kept (the others answer 0); a few
        # rows of a big book then hold few events, whose running sums may round differently
        keep = None
        if rows is not None:
            keep = np.zeros(len(led.amount), dtype=bool)
            keep[np.asarray(rows, dtype=np.int64)] = True
        if led.payments is not None:
            m = (led.pay_day <= T) & (led.pay_row >= 0)
            cn = led.applied_cn & (led.applies_to >= 0) & (led.issued <= T)
            if keep is not None:  # a row of -1 reads the last flag, but m and cn exclude it
                m &= keep[led.pay_row]
                cn &= keep[led.applies_to]
            rows = np.concatenate([led.pay_row[m], led.applies_to[cn]])
            days = np.concatenate([led.pay_day[m], led.issued[cn]])
            amount = np.concatenate([led.pay_amount[m], -led.amount[cn]])
            cash = np.concatenate([led.pay_amount[m], np.zeros(int(cn.sum()))])
        else:
            undated = led.paid_day == NO_DAY
            m = (led.paid_amount != 0) & (undated | (led.paid_day <= T))
            if keep is not None:
                m &= keep
            rows = np.flatnonzero(m)
            days = np.where(undated, 0, led.paid_day)[m]
            amount = cash = led.paid_amount[m]
        self._totals = RunningTotals(rows, days, {"all": amount, "cash": cash})

    def by(self, rows: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(settled, cash)``: each row's total settled and paid in cash up to the end of
        its day."""
        rows = np.asarray(rows, dtype=np.int64)
        days = np.asarray(days, dtype=np.int64)
        if not len(rows):
            return np.zeros(0), np.zeros(0)
        lo, hi = self._totals.bounds(rows, days)
        return self._totals.total("all", lo, hi), self._totals.total("cash", lo, hi)
