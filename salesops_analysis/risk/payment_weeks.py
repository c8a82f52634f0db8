"""Each open invoice's payment weeks, and the cash of a book of them simulated week by week.

For the invoices open at the end of a day ``D``, the timing model
(:mod:`~salesops_analysis.risk.timing`) gives each one's expected share of today's balance
paid in each week ahead (week ``k`` covers days ``D+1+7(k-1) … D+7k``). A :class:`Book` holds
them with the open balances; :func:`simulate_weeks` draws whole books of outcomes for the 80%
band: one payment week per invoice from its distribution (or "later"), a customer's invoices
sharing part of their random draw (a Gaussian copula with correlation
:data:`CUSTOMER_CORRELATION`), because a customer who pays early or late tends to do so for all
its invoices at once, and the whole book sharing a smaller part (:data:`COMMON_LOADING`).
The cash forecast (:mod:`~salesops_analysis.risk.forecast`) and its backtest
(:mod:`~salesops_analysis.risk.backtest`) are both built on these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .features import Knowledge
from .settlements import Settlements
from .timing import WEEK, TimingModel, open_rows, pay_distribution, timing_snapshot

__all__ = [
    "COMMON_LOADING",
    "CUSTOMER_CORRELATION",
    "EXTEND_WEEKS",
    "N_SIMULATIONS",
    "Book",
    "forecast_book",
    "simulate_weeks",
    "week_of",
]

#: Correlation of the payment draws of one customer's invoices (see the module notes).
CUSTOMER_CORRELATION = 0.5
#: Loading of a draw shared by every invoice of the book in a simulation: a week when cash
#: comes early or late across the board (without it, a big book's band only holds the noise of
#: independent customers, far narrower than the model's own error). Chosen on the backtests
#: (80%-band coverage, loading 0 / 0.1 / 0.15 / 0.2: demo 72 / 77 / 83 / 86%, IBM 82 / 82 / 83
#: / 84%, 1M demo 53 / 89 / 94 / 95%), so those coverages are not out-of-sample figures.
COMMON_LOADING = 0.1
#: Weeks predicted at a time past the forecast's weeks, while a wanted pay date lies later.
EXTEND_WEEKS = 4
#: Simulated outcomes behind the p10 / p90 band.
N_SIMULATIONS = 400


def week_of(day: np.ndarray, as_of: int) -> np.ndarray:
    """Return the 1-based week (from the day after ``as_of``) that each int64 day falls in."""
    return (np.asarray(day, dtype=np.int64) - as_of + WEEK - 1) // WEEK


def simulate_weeks(
    amount: np.ndarray,
    F: np.ndarray,
    customer: np.ndarray,
    *,
    weeks: int,
    group: np.ndarray | None = None,
    n_groups: int = 1,
    n_sims: int = N_SIMULATIONS,
    rho: float = CUSTOMER_CORRELATION,
    common: float = COMMON_LOADING,
    seed: int = 0,
) -> np.ndarray:
    """Return simulated cash, shape (n_sims, n_groups, weeks): each invoice paid whole in one
    week drawn from its cumulative distribution ``F`` (n, >= weeks), or after the horizon.

    An invoice's draw is ``common * G + rho * C + e * E`` (standard normals: ``G`` shared by
    the whole book in a simulation, ``C`` by the customer's invoices, ``E`` its own; ``e``
    makes the variance 1), read through the normal distribution as a uniform.
    """
    n = len(amount)
    out = np.zeros((n_sims, n_groups, weeks))
    if not n or not weeks:
        return out
    rng = np.random.default_rng(seed)
    # the draw is compared with the normal quantiles of F rather than turned into a uniform
    thresholds = ndtri(np.clip(F[:, :weeks], 0.0, 1.0)).T.copy()  # (weeks, n)
    _, cust = np.unique(customer, return_inverse=True)
    n_cust = int(cust.max()) + 1
    own = np.sqrt(max(0.0, 1.0 - rho**2 - common**2))
    group = np.zeros(n, dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64)
    cell = group * (weeks + 1)  # each invoice's first (group, week) cell; + its week
    chunk = max(1, 3_000_000 // (n * weeks))  # bounded memory: sims per pass
    for start in range(0, n_sims, chunk):
        m = min(chunk, n_sims - start)
        z = own * rng.standard_normal((m, n))
        z += rho * rng.standard_normal((m, n_cust))[:, cust]
        z += common * rng.standard_normal((m, 1))
        # the payment week: the first whose cumulative share reaches the draw (weeks = later)
        wk = np.zeros((m, n), dtype=np.int8 if weeks < 127 else np.int64)  # less to move
        for j in range(weeks):  # a few weeks, each a whole-array comparison
            np.add(wk, z > thresholds[j], out=wk, casting="unsafe")
        for i in range(m):  # each simulation's cash by (group, week), invoices added in order
            flat = np.bincount(cell + wk[i], weights=amount, minlength=n_groups * (weeks + 1))
            out[start + i] = flat.reshape(n_groups, weeks + 1)[:, :weeks]
    return out


@dataclass
class Book:
    """The open invoices of one day with their payment distributions (arrays by invoice)."""

    day: int
    rows: np.ndarray  # invoice rows of the ledger
    amount: np.ndarray  # open balance in the reporting currency
    p: np.ndarray  # (n, H) expected share paid per week
    F: np.ndarray  # (n, H) share paid by each week's end
    X0: pd.DataFrame  # snapshot features (hist_mean_days_late for baseline b)

    def expected(self, weeks: int, group: np.ndarray | None = None, n_groups: int = 1):
        """Return expected cash (n_groups, weeks)."""
        g = np.zeros(len(self.rows), dtype=np.int64) if group is None else group
        out = np.zeros((n_groups, weeks))
        for j in range(weeks):
            out[:, j] = np.bincount(g, weights=self.amount * self.p[:, j], minlength=n_groups)
        return out

    def on_date(self, day: np.ndarray, weeks: int, group=None, n_groups: int = 1) -> np.ndarray:
        """Return cash by week (n_groups, weeks) if each balance is paid whole on ``day``."""
        g = np.zeros(len(self.rows), dtype=np.int64) if group is None else group
        wk = week_of(np.maximum(day, self.day + 1), self.day)
        m = wk <= weeks
        flat = np.bincount(
            g[m] * weeks + wk[m] - 1, weights=self.amount[m], minlength=n_groups * weeks
        )
        return flat.reshape(n_groups, weeks)


def _times_unpaid(
    unpaid: np.ndarray, h: np.ndarray, rows: np.ndarray, first: int, last: int
) -> np.ndarray:
    """Return ``unpaid`` (the share still unpaid of each of ``rows``) times ``1 - h`` of
    weeks ``first + 1 … last``, week after week: the running product of
    :func:`~.timing.pay_distribution`, so the same numbers, without its other columns."""
    for j in range(first, last):  # a few weeks, each one pass over the rows
        unpaid = unpaid * (1.0 - h[rows, j])
    return unpaid


def forecast_book(
    k: Knowledge,
    settle: Settlements,
    model: TimingModel,
    day: int,
    factor: np.ndarray | None = None,
    *,
    weeks: int | None = None,
    dates_up_to: float = 0.9,
    dates_of: np.ndarray | None = None,
) -> Book:
    """Return the :class:`Book` of invoices open at the end of ``day`` (``day <= k.T``);
    ``factor`` converts each ledger row's amount to the reporting currency.

    Hazards are predicted for ``weeks`` weeks (default: the model's horizon), and beyond them,
    :data:`EXTEND_WEEKS` at a time, only for the invoices of which less than ``dates_up_to`` is
    expected paid by then (their pay-date quantiles up to it lie later); the others' later
    hazards are left at 0, which changes no quantile up to ``dates_up_to`` and no week up to
    ``weeks``. ``dates_of`` (a boolean per ledger row) limits that to the invoices whose pay
    dates are wanted.
    """
    led = k.ledger
    rows = open_rows(k, day)
    X0, paid_share = timing_snapshot(k, settle, rows, day)
    settled, _ = settle.by(rows, np.full(len(rows), day, dtype=np.int64))
    balance = np.round(led.amount[rows] - settled, 2)
    amount = balance * (1.0 if factor is None else factor[rows])
    due = led.due[rows]
    H = model.horizon
    done = H if weeks is None else min(weeks, H)
    h = np.zeros((len(rows), H))
    h[:, :done] = model.hazards(X0, due, day, paid_share, 1, done)
    # the rows still to extend: each pass drops those that reached dates_up_to (the others'
    # shares paid do not change, since their hazards are not extended)
    more = np.arange(len(rows)) if dates_of is None else np.flatnonzero(dates_of[rows])
    unpaid = _times_unpaid(np.ones(len(more)), h, more, 0, done)
    while done < H:
        keep = 1.0 - unpaid < dates_up_to  # the share paid by week `done`, as pay_distribution's
        more, unpaid = more[keep], unpaid[keep]
        if not len(more):
            break
        last = min(H, done + EXTEND_WEEKS)
        X = X0.iloc[more].reset_index(drop=True)
        h[more, done:last] = model.hazards(X, due[more], day, paid_share[more], done + 1, last)
        unpaid = _times_unpaid(unpaid, h, more, done, last)
        done = last
    p, F = pay_distribution(h)
    return Book(day, rows, amount, p, F, X0)
