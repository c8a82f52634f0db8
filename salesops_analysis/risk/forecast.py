"""Cash in by week: the open invoices' payment-week distributions summed, with an 80% band.

For the invoices open at the end of ``D`` (positive open balance), the timing model
(:mod:`~salesops_analysis.risk.timing`) gives each one's expected share of today's balance
paid in each week ahead. Week ``k`` covers days ``D+1+7(k-1) … D+7k``. Amounts are the open
balances converted to the reporting currency at ``D``'s rates (later rate moves are not
forecast).

* ``expected``: the sum over invoices of balance × expected share in the week.
* ``p10`` / ``p90``: quantiles of simulated weeks. Each simulation draws one payment week per
  invoice from its distribution (or "later"); a customer's invoices share part of their random
  draw (a Gaussian copula with correlation :data:`CUSTOMER_CORRELATION`), because a customer
  who pays early or late tends to do so for all its invoices at once.
* ``due_date_view``: what "everything is paid on its due date" would say (an overdue invoice
  the next day), the usual treasury assumption, shown beside the forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .._errors import SalesOpsError
from ..metrics.days import day_number
from ..metrics.receivables import rate_factors, row_positions, with_sales_owner
from .features import Knowledge
from .timing import (
    WEEK,
    Settlements,
    TimingModel,
    day_text,
    open_rows,
    pay_date_quantiles,
    pay_distribution,
    timing_snapshot,
)

__all__ = [
    "BY_CHOICES",
    "COMMON_LOADING",
    "CUSTOMER_CORRELATION",
    "CashForecast",
    "Book",
    "cash_forecast",
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
#: Simulated outcomes behind the p10 / p90 band.
N_SIMULATIONS = 400
BY_CHOICES = ("currency", "team", "segment")


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
    chunk = max(1, 3_000_000 // (n * weeks))  # bounded memory: sims per pass
    for start in range(0, n_sims, chunk):
        m = min(chunk, n_sims - start)
        z = own * rng.standard_normal((m, n))
        z += rho * rng.standard_normal((m, n_cust))[:, cust]
        z += common * rng.standard_normal((m, 1))
        # the payment week: the first whose cumulative share reaches the draw (weeks = later)
        wk = np.zeros((m, n), dtype=np.int64)
        for j in range(weeks):  # a few weeks, each a whole-array comparison
            wk += z > thresholds[j]
        key = (np.arange(m)[:, None] * n_groups + group[None, :]) * (weeks + 1) + wk
        flat = np.bincount(
            key.ravel(),
            weights=np.broadcast_to(amount, (m, n)).ravel(),
            minlength=m * n_groups * (weeks + 1),
        )
        out[start : start + m] = flat.reshape(m, n_groups, weeks + 1)[:, :, :weeks]
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

    Hazards are predicted for ``weeks`` weeks (default: the model's horizon), and beyond them
    only for the invoices of which less than ``dates_up_to`` is expected paid by then (their
    pay-date quantiles up to it lie later); the others' later hazards are left at 0, which
    changes no quantile up to ``dates_up_to`` and no week up to ``weeks``. ``dates_of`` (a
    boolean per ledger row) limits that to the invoices whose pay dates are wanted.
    """
    led = k.ledger
    rows = open_rows(k, day)
    X0, paid_share = timing_snapshot(k, settle, rows, day)
    settled, _ = settle.by(rows, np.full(len(rows), day, dtype=np.int64))
    balance = np.round(led.amount[rows] - settled, 2)
    amount = balance * (1.0 if factor is None else factor[rows])
    due = led.due[rows]
    H = model.horizon
    W = H if weeks is None else min(weeks, H)
    h = np.zeros((len(rows), H))
    h[:, :W] = model.hazards(X0, due, day, paid_share, 1, W)
    if W < H:
        _, F = pay_distribution(h[:, :W])
        wanted = F[:, -1] < dates_up_to
        if dates_of is not None:
            wanted &= dates_of[rows]
        more = np.flatnonzero(wanted)
        if len(more):
            h[more, W:] = model.hazards(
                X0.iloc[more].reset_index(drop=True), due[more], day, paid_share[more], W + 1, H
            )
    p, F = pay_distribution(h)
    return Book(day, rows, amount, p, F, X0)


@dataclass(frozen=True)
class CashForecast:
    """The cash forecast of one day.

    ``weekly``: week, week_start, week_end, expected, p10, p90, due_date_view (one row per
    week). ``by_group``: the same per group of ``by`` (empty without ``by``). ``per_invoice``:
    invoice_id, customer_id, currency, open_amount (reporting currency), expected_pay_date
    (median), pay_date_p10, pay_date_p90 (NaT: later than the model's horizon),
    expected_in_horizon (cash expected within the forecast's weeks). ``backtest``: the saved
    model's backtest (:func:`~salesops_analysis.risk.backtest.backtest_forecast` metrics;
    empty for a model trained on the fly, which is not backtested).
    """

    as_of: pd.Timestamp
    currency: str
    weeks: int
    weekly: pd.DataFrame
    by_group: pd.DataFrame
    per_invoice: pd.DataFrame
    total_expected: float
    total_p10: float
    total_p90: float
    model: str
    backtest: dict = field(default_factory=dict)


def _groups(tables, items: pd.DataFrame, by: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Return a group code per item and the group labels (one column per ``by`` name)."""
    labels = {}
    for name in by:
        if name == "currency":
            values = items["currency"].astype("str").fillna("unknown")
        elif name == "team":
            owned = with_sales_owner(
                items if "order_id" in items else items.assign(order_id=None), tables.orders
            )
            values = owned["team"].astype("str")
        elif name == "segment":
            cust = tables.customers
            values = pd.Series(np.full(len(items), "unknown", dtype=object))
            if cust is not None and len(cust) and "segment" in cust:
                pos = row_positions(items["customer_id"], cust["customer_id"])
                seg = cust["segment"].astype("str").to_numpy(dtype=object)
                hit = pos >= 0
                values[hit] = seg[pos[hit]]
            values = values.fillna("unknown").astype("str")
        else:
            raise SalesOpsError(f"--by {name}: choose from {', '.join(BY_CHOICES)}")
        labels[name] = np.asarray(values, dtype=object)
    frame = pd.DataFrame(labels)
    if not by or not len(frame):
        return np.zeros(len(items), dtype=np.int64), frame.iloc[:0] if by else frame
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame))
    return codes.astype(np.int64), pd.DataFrame(list(uniques), columns=list(by))


def _week_frame(day: int, weeks: int) -> pd.DataFrame:
    wk = np.arange(1, weeks + 1)
    return pd.DataFrame(
        {
            "week": wk,
            "week_start": day_text(day + 1 + WEEK * (wk - 1)),
            "week_end": day_text(day + WEEK * wk),
        }
    )


def cash_forecast(
    tables,
    as_of,
    config,
    models_dir=None,
    *,
    weeks: int = 13,
    by: Sequence[str] = (),
    n_sims: int = N_SIMULATIONS,
    seed: int = 0,
    model: TimingModel | None = None,
) -> CashForecast:
    """Return the cash expected from the invoices open at the end of ``as_of``, by week.

    Parameters
    ----------
    tables : Tables
        The warehouse tables (rows after ``as_of`` are ignored).
    as_of : date-like
        The forecast day ``D``.
    config : Config
        Reporting currency, FX rates, grace days and categorical columns.
    models_dir : path, optional
        Folder of trained models: the newest ``cash_timing_<date>.skops`` trained on or before
        ``as_of`` is used; without one, a model is trained on what was known at ``as_of``.
    weeks : int
        Weeks ahead (at most the model's horizon, 26).
    by : sequence of {"currency", "team", "segment"}
        Breakdowns for :attr:`CashForecast.by_group`.
    n_sims, seed : int
        Simulations behind the 80% band, and their seed.
    model : TimingModel, optional
        A model to use instead of looking one up.

    Raises
    ------
    SalesOpsError
        Too many weeks, an unknown ``by``, or too little history to train a model.
    CurrencyError
        Several currencies and some without a rate on ``as_of``.
    """
    from .timing import train_timing
    from .timing_store import find_timing_model

    ts = pd.Timestamp(as_of).normalize()
    day = day_number(ts)
    rates, currency = tables.rates(ts, config)
    k = Knowledge.of(
        tables,
        ts,
        grace_days=config.grace_days,
        categorical=[],
    )
    source = "given"
    if model is None:
        found = find_timing_model(models_dir, ts) if models_dir is not None else None
        if found is not None:
            source, model = found[0].name, found[1]
        else:
            model = train_timing(k)
            source = f"trained on the fly as of {model.trained_as_of}"
    if not 1 <= weeks <= model.horizon:
        raise SalesOpsError(f"--weeks must be between 1 and {model.horizon}, got {weeks}")
    led = k.ledger
    factor = rate_factors(led.currency, rates, len(led.amount))
    book = forecast_book(k, Settlements(led, k.T), model, day, factor, weeks=weeks)
    items = led.invoices.iloc[book.rows].reset_index(drop=True)
    customer = k.customer[book.rows]

    sims = simulate_weeks(book.amount, book.F, customer, weeks=weeks, n_sims=n_sims, seed=seed)
    weekly = _week_frame(day, weeks)
    weekly["expected"] = book.expected(weeks)[0]
    weekly["p10"] = np.quantile(sims[:, 0], 0.1, axis=0)
    weekly["p90"] = np.quantile(sims[:, 0], 0.9, axis=0)
    weekly["due_date_view"] = book.on_date(led.due[book.rows], weeks)[0]
    cumulative = np.cumsum(sims[:, 0], axis=1)
    weekly["cumulative_expected"] = np.cumsum(weekly["expected"].to_numpy())
    weekly["cumulative_p10"] = np.quantile(cumulative, 0.1, axis=0)
    weekly["cumulative_p90"] = np.quantile(cumulative, 0.9, axis=0)
    weekly.insert(0, "currency", currency)
    money = [c for c in weekly.columns if c not in ("week", "week_start", "week_end", "currency")]
    weekly[money] = weekly[money].round(2)

    by = list(by)
    if by:
        code, labels = _groups(tables, items, by)
        ng = len(labels)
        gsims = simulate_weeks(
            book.amount,
            book.F,
            customer,
            weeks=weeks,
            group=code,
            n_groups=ng,
            n_sims=n_sims,
            seed=seed,
        )
        exp = book.expected(weeks, code, ng)
        due_view = book.on_date(led.due[book.rows], weeks, code, ng)
        parts = []
        for g in range(ng):  # a handful of groups
            part = _week_frame(day, weeks)
            for name in reversed(by):  # the group columns first, in the order given
                part.insert(0, name, labels[name].iloc[g])
            part["expected"] = exp[g]
            part["p10"] = np.quantile(gsims[:, g], 0.1, axis=0)
            part["p90"] = np.quantile(gsims[:, g], 0.9, axis=0)
            part["due_date_view"] = due_view[g]
            parts.append(part)
        by_group = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if len(by_group):
            cols = ["expected", "p10", "p90", "due_date_view"]
            by_group[cols] = by_group[cols].round(2)
    else:
        by_group = pd.DataFrame()

    per_invoice = pd.DataFrame(
        {
            "invoice_id": items["invoice_id"].to_numpy(),
            "customer_id": items["customer_id"].to_numpy(),
            "currency": items["currency"].to_numpy() if "currency" in items else currency,
            "due_date": day_text(led.due[book.rows]),
            "open_amount": np.round(book.amount, 2),
            "expected_pay_date": day_text(pay_date_quantiles(book.F, day, 0.5)),
            "pay_date_p10": day_text(pay_date_quantiles(book.F, day, 0.1)),
            "pay_date_p90": day_text(pay_date_quantiles(book.F, day, 0.9)),
            "expected_in_horizon": np.round(book.amount * book.F[:, weeks - 1], 2),
        }
    )
    totals = sims[:, 0].sum(axis=1)
    return CashForecast(
        as_of=ts,
        currency=currency,
        weeks=weeks,
        weekly=weekly,
        by_group=by_group,
        per_invoice=per_invoice,
        total_expected=float(round(weekly["expected"].sum(), 2)),
        total_p10=float(round(np.quantile(totals, 0.1), 2)) if len(totals) else 0.0,
        total_p90=float(round(np.quantile(totals, 0.9), 2)) if len(totals) else 0.0,
        model=source,
        backtest=dict(model.metrics.get("forecast", {})),
    )
