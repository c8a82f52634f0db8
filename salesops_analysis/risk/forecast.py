"""Cash in by week: the open invoices' payment-week distributions summed, with an 80% band.

For the invoices open at the end of ``D`` (positive open balance), the timing model
(:mod:`~salesops_analysis.risk.timing`) gives each one's expected share of today's balance
paid in each week ahead. Week ``k`` covers days ``D+1+7(k-1) … D+7k``. Amounts are the open
balances converted to the reporting currency at ``D``'s rates (later rate moves are not
forecast).

* ``expected``: the sum over invoices of balance × expected share in the week.
* ``p10`` / ``p90``: quantiles of simulated weeks (see
  :func:`~salesops_analysis.risk.payment_weeks.simulate_weeks`).
* ``due_date_view``: what "everything is paid on its due date" would say (an overdue invoice
  the next day), the usual treasury assumption, shown beside the forecast.

The timing model is the newest saved one trained on or before ``D`` (:func:`timing_model_for`);
without one, a model is trained and backtested now, saved in the models folder so that later
runs reuse it, and the forecast says so, with the time it took.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import SalesOpsError
from ..metrics.days import day_number
from ..metrics.ids import row_positions
from ..metrics.receivables import rate_factors, with_sales_owner
from .backtest import save_cash_timing, train_cash_timing
from .features import BLOCK_ROWS, Knowledge
from .payment_weeks import (
    COMMON_LOADING,
    CUSTOMER_CORRELATION,
    N_SIMULATIONS,
    Book,
    forecast_book,
    simulate_weeks,
    week_of,
)
from .settlements import Settlements
from .timing import WEEK, TimingModel, day_text, open_rows, pay_date_quantiles, train_timing
from .timing_store import find_timing_model

__all__ = [
    "BY_CHOICES",
    "COMMON_LOADING",
    "CUSTOMER_CORRELATION",
    "Book",
    "CashForecast",
    "TimingChoice",
    "cash_forecast",
    "forecast_book",
    "simulate_weeks",
    "timing_model_for",
    "week_of",
]

BY_CHOICES = ("currency", "team", "segment")


@dataclass(frozen=True)
class CashForecast:
    """The cash forecast of one day.

    ``weekly``: week, week_start, week_end, expected, p10, p90, due_date_view (one row per
    week). ``by_group``: the same per group of ``by`` (empty without ``by``). ``per_invoice``:
    invoice_id, customer_id, currency, open_amount (reporting currency), expected_pay_date
    (median), pay_date_p10, pay_date_p90 (NaT: later than the model's horizon),
    expected_in_horizon (cash expected within the forecast's weeks). ``backtest``: the saved
    model's backtest (:func:`~salesops_analysis.risk.backtest.backtest_forecast` metrics;
    empty for a model trained without one). ``model`` names the timing model, ``model_note``
    says where it came from, and ``model_trained_seconds`` how long this run spent training it
    (``None``: a saved or given model).
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
    model_note: str = ""
    model_trained_seconds: float | None = None


@dataclass(frozen=True)
class TimingChoice:
    """The timing model a forecast uses and where it came from.

    ``source``: the model file's name, ``"given"``, or ``"trained for this run"``; ``note``: one
    sentence for the reader; ``trained_seconds``: time this run spent training (and
    backtesting) it, ``None`` for a saved or given model.
    """

    model: TimingModel
    source: str
    note: str
    trained_seconds: float | None = None


def timing_model_for(tables, as_of, config, models_dir=None, *, knowledge=None) -> TimingChoice:
    """Return the timing model for a forecast on ``as_of``: the newest in ``models_dir``
    trained on or before it; else one trained now on what was known then.

    A model trained now with a ``models_dir`` is backtested and saved there as
    ``salesops train`` would (the collections report does the same for the late-payment
    model), so the next run reuses it instead of training again. Without a ``models_dir`` it
    is trained for this run only (``knowledge``, if given, is what was known at ``as_of``).

    Raises
    ------
    ModelError
        Too little history to train one.
    """
    ts = pd.Timestamp(as_of).normalize()
    found = find_timing_model(models_dir, ts) if models_dir is not None else None
    if found is not None:
        path, model = found
        note = f"Timing model {path.name}, trained on data up to {model.trained_as_of}."
        return TimingChoice(model, path.name, note)
    started = time.perf_counter()
    k = knowledge or Knowledge.of(tables, ts, grace_days=config.grace_days, categorical=[])
    if models_dir is None:
        model = train_timing(k)
        seconds = time.perf_counter() - started
        note = (
            f"Timing model trained for this run on data up to {model.trained_as_of} in "
            f"{seconds:.1f} s; not saved and not backtested."
        )
        return TimingChoice(model, "trained for this run", note, seconds)
    model, metrics, _ = train_cash_timing(tables, ts, config, knowledge=k)
    seconds = time.perf_counter() - started
    where = Path(models_dir)
    try:
        name = save_cash_timing(model, metrics, where)["model"].name
    except OSError as exc:
        name = "trained for this run"
        saved = (
            f"it could not be saved in {where}/ ({exc.strerror or exc}): the next run trains again"
        )
    else:
        saved = (
            f"saved as {where / name}: later runs use it until `salesops train` saves a newer one"
        )
    note = (
        f"No cash-timing model trained on or before {ts.date()} in {where}/: one was trained "
        f"and backtested for this run in {seconds:.1f} s; {saved}."
    )
    return TimingChoice(model, name, note, seconds)


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
    """Return the forecast's weeks after day number ``day``: number, first and last day."""
    wk = np.arange(1, weeks + 1)
    return pd.DataFrame(
        {
            "week": wk,
            "week_start": day_text(day + 1 + WEEK * (wk - 1)),
            "week_end": day_text(day + WEEK * wk),
        }
    )


def _band(sims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the p10 and p90 over simulations (axis 0)."""
    return np.quantile(sims, 0.1, axis=0), np.quantile(sims, 0.9, axis=0)


def _weekly_table(book: Book, sims: np.ndarray, due: np.ndarray, weeks: int, currency: str):
    """Return the forecast's weekly table (the whole book): expected cash, its band and the
    due-date view, week by week and cumulated."""
    weekly = _week_frame(book.day, weeks)
    weekly["expected"] = book.expected(weeks)[0]
    weekly["p10"], weekly["p90"] = _band(sims)
    weekly["due_date_view"] = book.on_date(due, weeks)[0]
    weekly["cumulative_expected"] = np.cumsum(weekly["expected"].to_numpy())
    weekly["cumulative_p10"], weekly["cumulative_p90"] = _band(np.cumsum(sims, axis=1))
    weekly.insert(0, "currency", currency)
    money = [c for c in weekly.columns if c not in ("week", "week_start", "week_end", "currency")]
    weekly[money] = weekly[money].round(2)
    return weekly


def _by_group_table(tables, book: Book, items, customer, due, weeks, by, n_sims, seed):
    """Return the weekly table per group of ``by`` (group columns first, in the order given)."""
    code, labels = _groups(tables, items, by)
    ng = len(labels)
    sims = simulate_weeks(
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
    due_view = book.on_date(due, weeks, code, ng)
    parts = []
    for g in range(ng):  # a handful of groups
        part = _week_frame(book.day, weeks)
        for name in reversed(by):
            part.insert(0, name, labels[name].iloc[g])
        part["expected"] = exp[g]
        part["p10"], part["p90"] = _band(sims[:, g])
        part["due_date_view"] = due_view[g]
        parts.append(part)
    if not parts:
        return pd.DataFrame()
    by_group = pd.concat(parts, ignore_index=True)
    cols = ["expected", "p10", "p90", "due_date_view"]
    by_group[cols] = by_group[cols].round(2)
    return by_group


def _per_invoice_table(book: Book, items, due, weeks: int, currency: str) -> pd.DataFrame:
    """Return each open invoice's balance, pay-date median and 80% interval, and the cash
    expected from it within the forecast's weeks."""
    return pd.DataFrame(
        {
            "invoice_id": items["invoice_id"].to_numpy(),
            "customer_id": items["customer_id"].to_numpy(),
            "currency": items["currency"].to_numpy() if "currency" in items else currency,
            "due_date": day_text(due),
            "open_amount": np.round(book.amount, 2),
            "expected_pay_date": day_text(pay_date_quantiles(book.F, book.day, 0.5)),
            "pay_date_p10": day_text(pay_date_quantiles(book.F, book.day, 0.1)),
            "pay_date_p90": day_text(pay_date_quantiles(book.F, book.day, 0.9)),
            "expected_in_horizon": np.round(book.amount * book.F[:, weeks - 1], 2),
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
    knowledge: Knowledge | None = None,
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
        ``as_of`` is used; without one, a model is trained and backtested on what was known at
        ``as_of`` and saved there (see :func:`timing_model_for`). Without a folder, a model is
        trained for this call only.
    weeks : int
        Weeks ahead (at most the model's horizon, 26).
    by : sequence of {"currency", "team", "segment"}
        Breakdowns for :attr:`CashForecast.by_group`.
    n_sims, seed : int
        Simulations behind the 80% band, and their seed.
    model : TimingModel, optional
        A model to use instead of :func:`timing_model_for`.
    knowledge : Knowledge, optional
        What ``tables`` knew at the end of ``as_of`` with ``config.grace_days`` (e.g. the
        scoring's, reused: its ledger is not built again); built from ``tables`` if not given.

    Raises
    ------
    SalesOpsError
        Too many weeks, an unknown ``by``, or too little history to train a model.
    CurrencyError
        Several currencies and some without a rate on ``as_of``.
    ValueError
        ``knowledge`` of another day or another grace period.
    """
    ts = pd.Timestamp(as_of).normalize()
    day = day_number(ts)
    rates, currency = tables.rates(ts, config)
    if knowledge is not None and (knowledge.T, knowledge.grace_days) != (day, config.grace_days):
        raise ValueError(
            f"knowledge of day {knowledge.T} with {knowledge.grace_days} grace days given for a "
            f"forecast of day {day} with {config.grace_days}"
        )
    k = knowledge or Knowledge.of(tables, ts, grace_days=config.grace_days, categorical=[])
    choice = (
        timing_model_for(tables, ts, config, models_dir, knowledge=k)
        if model is None
        else TimingChoice(model, "given", "Timing model given by the caller.")
    )
    model = choice.model
    if not 1 <= weeks <= model.horizon:
        raise SalesOpsError(f"--weeks must be between 1 and {model.horizon}, got {weeks}")
    led = k.ledger
    # the book reads the open invoices' rates only; a big book's settlements are kept for
    # them only too
    rows = open_rows(k, day)
    factor = np.ones(len(led.amount))
    of_rows = None if led.currency is None else led.currency.iloc[rows]
    factor[rows] = rate_factors(of_rows, rates, len(rows))
    settle = Settlements(led, k.T, rows if len(led.amount) > BLOCK_ROWS else None)
    book = forecast_book(k, settle, model, day, factor, weeks=weeks)
    return _forecast_of_book(tables, k, book, choice, ts, currency, weeks, by, n_sims, seed)


def _forecast_of_book(tables, k, book: Book, choice, ts, currency, weeks, by, n_sims, seed):
    """Return the :class:`CashForecast` of a book as of ``ts``: the weekly and group tables,
    each invoice's pay dates, and the totals' band."""
    led = k.ledger
    items = led.invoices.iloc[book.rows].reset_index(drop=True)
    customer = k.customer[book.rows]
    due = led.due[book.rows]
    sims = simulate_weeks(book.amount, book.F, customer, weeks=weeks, n_sims=n_sims, seed=seed)
    sims = sims[:, 0]  # the whole book: one group
    weekly = _weekly_table(book, sims, due, weeks, currency)
    by_group = pd.DataFrame()
    if by:
        by_group = _by_group_table(
            tables, book, items, customer, due, weeks, list(by), n_sims, seed
        )
    totals = sims.sum(axis=1)
    return CashForecast(
        as_of=ts,
        currency=currency,
        weeks=weeks,
        weekly=weekly,
        by_group=by_group,
        per_invoice=_per_invoice_table(book, items, due, weeks, currency),
        total_expected=float(round(weekly["expected"].sum(), 2)),
        total_p10=float(round(np.quantile(totals, 0.1), 2)) if len(totals) else 0.0,
        total_p90=float(round(np.quantile(totals, 0.9), 2)) if len(totals) else 0.0,
        model=choice.source,
        backtest=dict(choice.model.metrics.get("forecast", {})),
        model_note=choice.note,
        model_trained_seconds=choice.trained_seconds,
    )
