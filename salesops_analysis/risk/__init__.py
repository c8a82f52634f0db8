"""Late-payment risk: leakage-free features, time-split models, calibrated scores, worklist."""

from .accounts import (
    account_worklist,
    accounts_for_sheet,
    assign_collectors,
    call_coverage,
    collector_calls,
    collector_load,
)
from .drift import population_stability, reference_distribution
from .features import NUMERIC_FEATURES, Knowledge, features_at, settlement_days
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
from .worklist import score_open_invoices, scored_features, worklist

__all__ = [
    "NUMERIC_FEATURES",
    "Knowledge",
    "TrainedModel",
    "account_worklist",
    "accounts_for_sheet",
    "assign_collectors",
    "call_coverage",
    "collector_calls",
    "collector_load",
    "features_at",
    "find_model",
    "latest_model",
    "load_model",
    "population_stability",
    "predict_risk",
    "reference_distribution",
    "save_model",
    "score_open_invoices",
    "scored_features",
    "settlement_days",
    "train_from_tables",
    "train_models",
    "worklist",
]
