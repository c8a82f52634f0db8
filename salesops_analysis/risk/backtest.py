"""An honest backtest of the cash forecast, beside three simple baselines.

The test period is the latest ``test_share`` of the invoices (by invoice date), as for the
late-payment model. One timing model is trained on the invoice-weeks observed by the day
before the test period starts (labels censored there). Then, for each month-end ``M`` in the
test period, the invoices open at the end of ``M`` are forecast from what was known at ``M``
(features at ``M``, amounts at ``M``'s FX rates) and compared, week by week, with the cash that
actually came from those same invoices. Weeks not yet over at the knowledge date are left out.

Baselines, on the same invoices and amounts:

(a) ``due_date``: paid in full on the due date (the next day when already overdue);
(b) ``customer_days_late``: the due date plus the customer's average days late so far;
(c) ``collection_curves``: the company's collection curves by days past due: the share of the
    open balance paid in week ``j`` for invoices in the same days-past-due band, learnt on the
    same training invoice-weeks as the model.

Metrics per method: WAPE (sum of absolute weekly errors over the sum of actual cash) for weeks
1-4, 5-13 and 1-13, bias (over- or under-forecast as a share of actual cash), for the model the
share of weeks whose actual lies inside the 80% band, and the median absolute error in days of
the pay date of invoices fully paid by the knowledge date (the model's median pay date against
each date baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._errors import ModelError
from ..metrics.days import NO_DAY
from .features import Knowledge
from .payment_weeks import Book, forecast_book, simulate_weeks
from .settlements import Settlements
from .timing import (
    WEEK,
    InvoiceWeeks,
    TimingModel,
    fit_timing,
    invoice_weeks,
    pay_date_quantiles,
)

__all__ = [
    "BASELINES",
    "CollectionCurves",
    "METHOD_NAMES",
    "NO_BACKTEST",
    "backtest_forecast",
    "backtest_verdict",
    "beats_best_baseline",
    "forecast_card",
    "forecast_errors",
    "forecast_summary",
    "save_cash_timing",
    "train_cash_timing",
]

BASELINES = ("due_date", "customer_days_late", "collection_curves")
#: Days-past-due bands of the company collection curves (upper edges, days at the forecast day).
DPD_EDGES = np.array([-60, -30, -14, -7, 0, 7, 14, 30, 60, 90, 180])


@dataclass
class CollectionCurves:
    """Share of the open balance paid in week ``j`` by days-past-due band (baseline c)."""

    hazard: np.ndarray  # (bands, H)

    @classmethod
    def fit(cls, weeks: InvoiceWeeks, horizon: int) -> CollectionCurves:
        """Return the curves of the training invoice-weeks (cash over open balance)."""
        band = np.searchsorted(DPD_EDGES, weeks.X["days_past_due"].to_numpy(), side="left")
        j = weeks.X["week"].to_numpy().astype(np.int64) - 1
        nb = len(DPD_EDGES) + 1
        key = band * horizon + j
        paid = np.bincount(key, weights=weeks.paid * weeks.balance, minlength=nb * horizon)
        open_ = np.bincount(key, weights=weeks.balance, minlength=nb * horizon)
        h = np.divide(paid, open_, out=np.zeros_like(paid), where=open_ > 0)
        return cls(h.reshape(nb, horizon))

    def distribution(self, days_past_due: np.ndarray) -> np.ndarray:
        """Return the cumulative share paid (n, H) of invoices at these days past due."""
        band = np.searchsorted(DPD_EDGES, days_past_due, side="left")
        # a row's distribution depends on its band only: computed once per band
        return (1.0 - np.cumprod(1.0 - self.hazard, axis=1))[band]


def _wape(f: np.ndarray, a: np.ndarray) -> float:
    total = float(np.abs(a).sum())
    return float(np.abs(f - a).sum() / total) if total > 0 else float("nan")


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def forecast_errors(weekly: pd.DataFrame, methods) -> dict:
    """Return WAPE 1-4 / 5-13 / 1-13 and bias per method of a backtest's weekly table."""
    out = {}
    a = weekly["actual"].to_numpy()
    early = weekly["week"].to_numpy() <= 4
    for name in methods:
        f = weekly[name].to_numpy()
        total = float(a.sum())
        out[name] = {
            "wape_1_4": _wape(f[early], a[early]),
            "wape_5_13": _wape(f[~early], a[~early]),
            "wape_1_13": _wape(f, a),
            "bias": float((f - a).sum() / total) if total > 0 else float("nan"),
        }
    return out


def _month_ends(first: int, last: int) -> np.ndarray:
    months = np.arange(
        np.datetime64(int(first), "D").astype("datetime64[M]"),
        np.datetime64(int(last), "D").astype("datetime64[M]") + 1,
    )
    ends = (months + 1).astype("datetime64[D]").astype(np.int64) - 1
    return ends[(ends >= first) & (ends <= last)]


def backtest_forecast(
    k: Knowledge,
    *,
    test_share: float = 0.3,
    weeks: int = 13,
    factor_at=None,
    n_sims: int = 200,
    seed: int = 0,
    settle: Settlements | None = None,
) -> tuple[dict, pd.DataFrame]:
    """Return ``(metrics, weekly)``: the backtest of the cash forecast on what ``k`` knew.

    ``factor_at(day)`` returns the per-ledger-row factor to the reporting currency at that day's
    rates (``None``: amounts as they are). ``weekly`` has one row per (month_end, week) with
    ``actual``, ``model``, ``p10``, ``p90`` and one column per baseline. ``settle``: the
    :class:`~.settlements.Settlements` of ``k`` at ``k.T``, if already built.

    Raises
    ------
    ModelError
        No month-end in the test period with a week of outcomes, or too little history.
    """
    from .model import cut_at_share, iso_date

    led = k.ledger
    T = k.T
    issued = led.issued[k.modelled]
    if len(issued) < 100:
        raise ModelError(f"only {len(issued)} invoices known on {iso_date(T)}: too few to backtest")
    test_start = cut_at_share(issued, test_share)
    settle = Settlements(led, T) if settle is None else settle
    train = invoice_weeks(k, settle, cutoff=test_start - 1)
    model = fit_timing(train, trained_as_of=iso_date(test_start - 1))
    curves = CollectionCurves.fit(train, model.horizon)
    ends = _month_ends(test_start, T - WEEK)
    if not len(ends):
        raise ModelError(
            f"no month-end between {iso_date(test_start)} and {iso_date(T - WEEK)}: "
            "nothing to backtest"
        )
    parts, pay_errors = [], []
    settled_by_T = k.closed != NO_DAY  # the invoices whose forecast pay date can be checked
    for M in ends:  # a handful of month-ends
        M = int(M)
        factor = factor_at(M) if factor_at is not None else None
        W = min(weeks, (T - M) // WEEK)  # weeks whose actual cash is known
        # hazards for those weeks, and later only where a checked median pay date lies later
        book = forecast_book(
            k, settle, model, M, factor, weeks=W, dates_up_to=0.5, dates_of=settled_by_T
        )
        part, errors = _one_month_end(k, settle, book, curves, W, n_sims, seed, factor)
        parts.append(part)
        pay_errors.append(errors)
    weekly = pd.concat(parts, ignore_index=True)
    methods = ["model", *BASELINES]
    metrics = {
        "test_start": iso_date(test_start),
        "month_ends": [iso_date(m) for m in ends],
        "weeks": int(weekly["week"].max()),
        "train_invoice_weeks": int(len(train.paid)),
        "actual_cash": float(weekly["actual"].sum()),
        **forecast_errors(weekly, methods),
    }
    inside = (weekly["actual"] >= weekly["p10"]) & (weekly["actual"] <= weekly["p90"])
    metrics["model"]["interval_coverage"] = float(inside.mean()) if len(weekly) else float("nan")
    err = pd.concat(pay_errors, ignore_index=True)
    for name in ("model", "due_date", "customer_days_late"):
        e = err[name].dropna()
        metrics[name]["pay_date_median_abs_error_days"] = float(e.median()) if len(e) else None
        metrics[name]["pay_date_invoices"] = int(len(e))
    best = min(BASELINES, key=lambda b: metrics[b]["wape_1_13"])
    metrics["best_baseline"] = best
    model_wape = metrics["model"]["wape_1_13"]
    metrics["wape_1_13_vs_due_date"] = _ratio(model_wape, metrics["due_date"]["wape_1_13"])
    metrics["wape_1_13_vs_best_baseline"] = _ratio(model_wape, metrics[best]["wape_1_13"])
    metrics["beats_best_baseline"] = beats_best_baseline(metrics)
    return metrics, weekly


def beats_best_baseline(forecast: dict) -> bool | None:
    """Return whether the timing model missed less cash than every baseline over weeks 1-13
    of its backtest (``forecast``: the metrics of :func:`backtest_forecast`); ``None`` without
    a backtest or without a finite comparison.

    This is the rule every summary of the forecast follows: the model is called better than
    the simple forecasts only when this is true.
    """
    if not isinstance(forecast.get("model"), dict) or "best_baseline" not in forecast:
        return None
    model = forecast["model"]["wape_1_13"]
    best = forecast[forecast["best_baseline"]]["wape_1_13"]
    if model is None or best is None or not (np.isfinite(model) and np.isfinite(best)):
        return None
    return bool(model < best)


#: Readers' names of the forecast methods.
METHOD_NAMES = {
    "model": "the timing model",
    "due_date": "paid on the due date",
    "customer_days_late": "due date + customer's days late",
    "collection_curves": "the collection curves",
}


def backtest_verdict(forecast: dict) -> str:
    """Return one sentence saying how the timing model did against the best baseline in its
    backtest, by :func:`beats_best_baseline` (never "better" when it was not)."""
    beats = beats_best_baseline(forecast)
    if beats is None:
        why = forecast.get("skipped", "the model was trained without one")
        return f"The timing model has no backtest ({why})."
    best = forecast["best_baseline"]
    model, other = forecast["model"]["wape_1_13"], forecast[best]["wape_1_13"]
    said = f"In its backtest the timing model missed {_pct(model)} of the cash over weeks 1-13"
    if beats:
        return f"{said}, less than the best simple forecast ({METHOD_NAMES[best]}, {_pct(other)})."
    return (
        f"{said}, not less than {METHOD_NAMES[best]} ({_pct(other)}): on this book that simpler "
        "forecast did as well or better, so read the model's weekly figures as no more accurate "
        "than it."
    )


def _one_month_end(k, settle, book: Book, curves, W, n_sims, seed, factor):
    led = k.ledger
    M = book.day
    rows = book.rows
    f = 1.0 if factor is None else factor[rows]
    # actual cash from these invoices, week by week
    edges = M + WEEK * np.arange(W + 1)
    qr = np.repeat(rows, W + 1)
    _, cash = settle.by(qr, np.tile(edges, len(rows)))
    cash = cash.reshape(len(rows), W + 1)
    actual = np.diff(cash, axis=1) * np.asarray(f).reshape(-1, 1) if len(rows) else cash[:, 1:]
    sims = simulate_weeks(book.amount, book.F, k.customer[rows], weeks=W, n_sims=n_sims, seed=seed)
    due = led.due[rows]
    late = np.round(book.X0["hist_mean_days_late"].to_numpy()).astype(np.int64)
    curve_F = curves.distribution((M - due).astype(float))
    curve_p = np.diff(np.concatenate([np.zeros((len(rows), 1)), curve_F[:, :W]], axis=1), axis=1)
    part = pd.DataFrame(
        {
            "month_end": np.datetime64(M, "D").astype("datetime64[us]"),
            "week": np.arange(1, W + 1),
            "actual": actual.sum(axis=0),
            "model": book.expected(W)[0],
            "p10": np.quantile(sims[:, 0], 0.1, axis=0),
            "p90": np.quantile(sims[:, 0], 0.9, axis=0),
            "due_date": book.on_date(due, W)[0],
            "customer_days_late": book.on_date(due + late, W)[0],
            "collection_curves": (book.amount[:, None] * curve_p).sum(axis=0),
        }
    )
    # pay dates of the invoices fully settled by T
    closed = k.closed[rows]
    paid = closed != NO_DAY
    median = pay_date_quantiles(book.F, M, 0.5)
    model_err = np.where(median == NO_DAY, np.nan, np.abs(median - closed).astype(float))
    errors = pd.DataFrame(
        {
            "model": model_err[paid],
            "due_date": np.abs(np.maximum(due, M + 1) - closed)[paid].astype(float),
            "customer_days_late": np.abs(np.maximum(due + late, M + 1) - closed)[paid].astype(
                float
            ),
        }
    )
    return part, errors


#: Why a cash-timing model trained with ``backtest=False`` has no backtest.
NO_BACKTEST = "not run (salesops train --no-backtest)"


def train_cash_timing(
    tables,
    as_of,
    config,
    out=None,
    *,
    knowledge: Knowledge | None = None,
    backtest: bool = True,
    settle: Settlements | None = None,
) -> tuple[TimingModel, dict, dict]:
    """Return the deployed timing model trained on everything known at ``as_of``, its metrics
    (the backtest under ``forecast``) and, with ``out``, the paths written there (model,
    metrics JSON and card; see :func:`~salesops_analysis.risk.timing_store.save_timing`).
    ``knowledge``, if given, is what was known at ``as_of`` (built from ``tables`` if not);
    ``settle``, its :class:`~.settlements.Settlements` at ``as_of`` (built if not). ``tables``
    then only answers :meth:`~salesops_analysis.metrics.tables.Tables.rates` (the FX rates of
    each backtest month-end). With ``backtest=False`` the backtest is not run: ``forecast`` is
    then ``{"skipped": NO_BACKTEST}``, as for a book too young to backtest."""
    from ..metrics.receivables import rate_factors
    from .timing import train_timing

    k = knowledge or Knowledge.of(tables, as_of, grace_days=config.grace_days, categorical=[])
    led = k.ledger

    def factor_at(day: int) -> np.ndarray:
        rates, _ = tables.rates(pd.Timestamp(np.datetime64(int(day), "D")), config)
        return rate_factors(led.currency, rates, len(led.amount))

    # one for the backtest and the deployed model
    settle = Settlements(led, k.T) if settle is None else settle
    forecast = {"skipped": NO_BACKTEST}
    if backtest:
        try:
            forecast, _ = backtest_forecast(
                k, test_share=config.model_test_share, factor_at=factor_at, settle=settle
            )
        except ModelError as exc:
            forecast = {"skipped": str(exc)}
    model = train_timing(k, settle=settle)
    metrics = {
        "as_of": str(pd.Timestamp(as_of).date()),
        "target": "share of the open balance paid in cash in each week ahead",
        "trained_invoice_weeks": model.rows,
        "horizon_weeks": model.horizon,
        "forecast": forecast,
    }
    model.metrics = metrics
    paths = save_cash_timing(model, metrics, out) if out is not None else {}
    return model, metrics, paths


def save_cash_timing(model: TimingModel, metrics: dict, out) -> dict:
    """Write the timing model, its metrics JSON and its card into ``out``; return the paths
    (see :func:`~salesops_analysis.risk.timing_store.save_timing`)."""
    from .timing_store import save_timing

    paths = save_timing(model, out, metrics)
    paths["card"] = paths["model"].with_name(paths["model"].stem + ".card.md")
    paths["card"].write_text(forecast_card(metrics))
    return paths


def _pct(x) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.1%}"


def forecast_summary(forecast: dict) -> str:
    """Return one line saying how the forecast did in its backtest."""
    if "skipped" in forecast:
        return f"cash forecast backtest skipped: {forecast['skipped']}"
    m, best = forecast["model"], forecast["best_baseline"]
    verdict = "beats" if beats_best_baseline(forecast) else "does NOT beat"
    return (
        f"cash forecast backtest ({len(forecast['month_ends'])} month-ends): WAPE weeks 1-13 "
        f"{_pct(m['wape_1_13'])} (due date {_pct(forecast['due_date']['wape_1_13'])}, best "
        f"baseline {best} {_pct(forecast[best]['wape_1_13'])}: the model {verdict} it); bias "
        f"{_pct(m['bias'])}; 80% band holds the actual in {_pct(m['interval_coverage'])} of weeks"
    )


def forecast_card(metrics: dict) -> str:
    """Return the markdown card of a cash-timing model: what it predicts and its backtest."""
    f = metrics["forecast"]
    lines = [
        f"# Cash-timing model, trained as of {metrics['as_of']}",
        "",
        "Predicts, for each open invoice, the share of its balance paid in cash in each of the "
        f"next {metrics['horizon_weeks']} weeks (a discrete-time hazard on "
        f"{metrics['trained_invoice_weeks']:,} invoice-weeks). `salesops forecast` sums these "
        "into cash by week with an 80% band.",
        "",
        "## Backtest",
        "",
    ]
    if "skipped" in f:
        return "\n".join([*lines, f"Skipped: {f['skipped']}", ""])
    lines += [
        f"Month-ends {', '.join(f['month_ends'])}; test period from {f['test_start']}; model "
        "trained on invoice-weeks observed before it.",
        "",
        "| method | WAPE w1-4 | WAPE w5-13 | WAPE w1-13 | bias | pay date MdAE (days) |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("model", *BASELINES):
        m = f[name]
        mdae = m.get("pay_date_median_abs_error_days")
        lines.append(
            f"| {name} | {_pct(m['wape_1_4'])} | {_pct(m['wape_5_13'])} | "
            f"{_pct(m['wape_1_13'])} | {_pct(m['bias'])} | "
            f"{'' if mdae is None else f'{mdae:.0f}'} |"
        )
    lines += [
        "",
        f"80% interval coverage: {_pct(f['model']['interval_coverage'])} of weeks.",
        "",
        backtest_verdict(f),
        "",
    ]
    return "\n".join(lines)
