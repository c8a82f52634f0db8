"""Late-payment risk: leakage-free features, time-split models, calibrated scores, worklist."""

from .backtest import backtest_forecast, train_cash_timing
from .drift import population_stability, reference_distribution
from .features import NUMERIC_FEATURES, Knowledge, features_at, settlement_days
from .forecast import CashForecast, cash_forecast
from .model import (
    TrainedModel,
    find_model,
    latest_model,
    load_model,
    predict_risk,
    save_model,
    train_from_tables,
    train_models,
)
from .timing import TimingModel, find_timing_model, load_timing, save_timing
from .worklist import (
    BASELINE_DAYS_PAST_DUE,
    BASELINE_LATE_SHARE,
    open_not_scored,
    score_by_baseline,
    score_open_invoices,
    scored_features,
    worklist,
)

__all__ = [
    "BASELINE_DAYS_PAST_DUE",
    "CashForecast",
    "BASELINE_LATE_SHARE",
    "NUMERIC_FEATURES",
    "Knowledge",
    "TimingModel",
    "TrainedModel",
    "backtest_forecast",
    "cash_forecast",
    "features_at",
    "find_model",
    "find_timing_model",
    "latest_model",
    "load_model",
    "load_timing",
    "open_not_scored",
    "population_stability",
    "predict_risk",
    "reference_distribution",
    "save_model",
    "save_timing",
    "score_by_baseline",
    "score_open_invoices",
    "scored_features",
    "settlement_days",
    "train_cash_timing",
    "train_from_tables",
    "train_models",
    "worklist",
]
