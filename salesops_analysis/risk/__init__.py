"""Late-payment risk: leakage-free features, time-split models, calibrated scores, worklist."""

from .accounts import (
    account_worklist,
    accounts_for_sheet,
    assign_collectors,
    call_coverage,
    collector_calls,
    collector_load,
)
from .backtest import backtest_forecast, train_cash_timing
from .drift import drift_at, population_stability, recent_drift, reference_distribution
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
    train_from_warehouse,
    train_models,
    training_tables,
)
from .timing import TimingModel
from .timing_store import find_timing_model, load_timing, save_timing
from .worklist import (
    BASELINE_DAYS_PAST_DUE,
    BASELINE_LATE_SHARE,
    ScoredInvoices,
    open_not_scored,
    score_by_baseline,
    score_open_invoices,
    scored_features,
    scored_knowledge,
    worklist,
)

__all__ = [
    "BASELINE_DAYS_PAST_DUE",
    "CashForecast",
    "BASELINE_LATE_SHARE",
    "NUMERIC_FEATURES",
    "Knowledge",
    "ScoredInvoices",
    "TimingModel",
    "TrainedModel",
    "drift_at",
    "account_worklist",
    "accounts_for_sheet",
    "assign_collectors",
    "call_coverage",
    "collector_calls",
    "collector_load",
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
    "recent_drift",
    "reference_distribution",
    "save_model",
    "save_timing",
    "score_by_baseline",
    "score_open_invoices",
    "scored_features",
    "scored_knowledge",
    "settlement_days",
    "train_cash_timing",
    "train_from_tables",
    "train_from_warehouse",
    "train_models",
    "training_tables",
    "worklist",
]
