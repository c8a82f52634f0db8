"""The collections report's cash section: when the open invoices should be paid.

The weekly forecast of :func:`~salesops_analysis.risk.forecast.cash_forecast` with its band,
each invoice's expected pay date on the worklist, and the backtest beside three simple
forecasts. Without a timing model (a young warehouse) the report says why instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._errors import CurrencyError, SalesOpsError
from ..config import Config
from ..metrics import Tables
from ..metrics.ids import row_positions
from ..risk.backtest import beats_best_baseline
from ..risk.features import Knowledge
from ..risk.forecast import CashForecast, cash_forecast

__all__ = [
    "PAY_DATE_COLUMNS",
    "backtest_table",
    "cash_forecast_or_reason",
    "cash_forecast_section",
    "with_pay_dates",
]


#: The per-invoice pay dates the worklist gains from the cash forecast.
PAY_DATE_COLUMNS = ["expected_pay_date", "pay_date_p10", "pay_date_p90"]


def cash_forecast_or_reason(
    tables: Tables, day, config: Config, models_dir, *, knowledge: Knowledge | None = None
) -> tuple:
    """Return ``(forecast, None)``, or ``(None, reason)`` when no timing model can be had (a
    young warehouse): the report then says so instead of failing. ``knowledge``: what was
    known at the end of ``day``, reused (see
    :func:`~salesops_analysis.risk.forecast.cash_forecast`)."""
    try:
        return cash_forecast(tables, day, config, models_dir, knowledge=knowledge), None
    except CurrencyError:
        raise
    except SalesOpsError as exc:
        return None, f"no cash timing model: {exc}"


def with_pay_dates(worklist: pd.DataFrame, forecast: CashForecast | None) -> pd.DataFrame:
    """Return the worklist with each invoice's expected pay date and its 80% interval (blank
    beyond the model's horizon, or all blank without a forecast)."""
    if forecast is None:
        return worklist.assign(**{c: pd.NaT for c in PAY_DATE_COLUMNS})
    dates = forecast.per_invoice[["invoice_id", *PAY_DATE_COLUMNS]].copy()
    for c in PAY_DATE_COLUMNS:
        dates[c] = pd.to_datetime(dates[c])
    pos = row_positions(worklist["invoice_id"], dates["invoice_id"])
    out = worklist.copy()
    for c in PAY_DATE_COLUMNS:
        values = dates[c].to_numpy()[np.maximum(pos, 0)] if len(dates) else None
        out[c] = pd.NaT if values is None else np.where(pos >= 0, values, np.datetime64("NaT"))
    return out


def backtest_table(backtest: dict) -> pd.DataFrame:
    """Return the cash-forecast backtest as a table: WAPE by horizon, bias and band coverage
    of the timing model beside the three baselines (empty without a backtest)."""
    names = {
        "model": "timing model",
        "due_date": "paid on the due date",
        "customer_days_late": "due date + customer's days late",
        "collection_curves": "collection curves",
    }
    rows = [
        {
            "forecast": label,
            "WAPE weeks 1–4": backtest[key].get("wape_1_4"),
            "WAPE weeks 5–13": backtest[key].get("wape_5_13"),
            "WAPE weeks 1–13": backtest[key].get("wape_1_13"),
            "bias": backtest[key].get("bias"),
            "80% band coverage": backtest[key].get("interval_coverage"),
        }
        for key, label in names.items()
        if isinstance(backtest.get(key), dict)
    ]
    return pd.DataFrame(rows)


def cash_forecast_section(
    tables: Tables,
    day: pd.Timestamp,
    config: Config,
    models_dir,
    metrics: dict,
    *,
    knowledge: Knowledge | None = None,
) -> CashForecast | None:
    """Return the cash forecast of the 13 weeks after ``day`` (``None`` without a timing model)
    and add its totals to ``metrics`` (``cash_forecast_13w`` and its ``_p10``/``_p90``), or
    the reason it is missing to ``metrics["sections_skipped"]``. ``knowledge``: what was known
    at the end of ``day`` with the configured grace days, reused."""
    fc, why_not = cash_forecast_or_reason(tables, day, config, models_dir, knowledge=knowledge)
    metrics["cash_forecast_13w"] = fc.total_expected if fc is not None else None
    metrics["cash_forecast_13w_p10"] = fc.total_p10 if fc is not None else None
    metrics["cash_forecast_13w_p90"] = fc.total_p90 if fc is not None else None
    # which timing model (the report's text says when this run had to train it), and whether
    # its backtest beat the best simple forecast (the report never calls it better otherwise)
    metrics["cash_forecast_model"] = fc.model if fc is not None else None
    metrics["cash_forecast_beats_best_baseline"] = (
        beats_best_baseline(fc.backtest) if fc is not None else None
    )
    if why_not is not None:
        metrics["sections_skipped"]["cash_forecast"] = why_not
    return fc
