"""The candidate pipelines, fit on the fitting rows and compared on the validation slice.

Candidates are scaled, one-hot logistic regressions (a compact one on the customer's payment
history, amount and terms, and one on every feature) and a shallow histogram gradient
boosting. They are compared by validation ROC AUC, and a more complex one must win by more
than :data:`MIN_GAIN`: the simplest that wins is chosen. The chosen one is calibrated on the
validation slice with ``CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid")``.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .encoding import design_matrix
from .evaluate import auc
from .predict import predict_blocks
from .samples import LabelledRows

__all__ = [
    "COMPACT_FEATURES",
    "LOGISTIC_C",
    "MAX_BOOSTING_CATEGORIES",
    "MIN_GAIN",
    "boosting_model",
    "calibrate",
    "candidate_pipelines",
    "fit_candidates",
    "logistic_pipeline",
    "simplest_winner",
]

#: Inverse strength of the logistic regressions' L2 penalty (features are scaled). The penalty
#: grows with 1/C, the data term with the rows: it matters on files of a thousand invoices,
#: where it keeps the model from chasing noise (IBM sample: validation ROC AUC 0.857 at C=1,
#: 0.873 at 0.01, against 0.866 for the customer's late share), and not on the demo's 20,000+.
LOGISTIC_C = 0.01
#: The boosting candidate handles at most this many values per categorical feature.
MAX_BOOSTING_CATEGORIES = 255
#: The compact candidate's numeric features: the customer's payment history, amount, terms.
COMPACT_FEATURES = [
    "hist_late_share",
    "hist_mean_days_late",
    "hist_n_log",
    "new_customer",
    "amount_log",
    "terms_days",
]
#: A more complex candidate is kept only if it beats every simpler one by more than this.
MIN_GAIN = 0.005


def logistic_pipeline(n_numeric: int, sizes: list[int]) -> Pipeline:
    """Return the scaled (numeric) and one-hot (categorical codes, ``sizes`` values each)
    logistic regression of a model input of ``n_numeric`` numeric columns, then the codes."""
    parts = [("num", StandardScaler(), list(range(n_numeric)))]
    if sizes:
        categories = [np.arange(n, dtype=np.float64) for n in sizes]
        cat = list(range(n_numeric, n_numeric + len(sizes)))
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", categories=categories), cat))
    pre = ColumnTransformer(parts, sparse_threshold=0)
    return Pipeline([("prep", pre), ("model", LogisticRegression(C=LOGISTIC_C, max_iter=2000))])


def boosting_model(n_numeric: int, sizes: list[int]) -> HistGradientBoostingClassifier:
    """Return the shallow histogram gradient boosting of the same model input (codes of
    categories are in [0, n); -1, a value not seen when fitting, counts as missing)."""
    # 50 shallow trees at rate 0.2 matched 100 at 0.1 on validation (demo and 1M demo data)
    # and predict in half the time
    return HistGradientBoostingClassifier(
        max_depth=3,
        learning_rate=0.2,
        max_iter=50,
        categorical_features=[False] * n_numeric + [True] * len(sizes) if sizes else None,
        random_state=0,
    )


def candidate_pipelines(
    numeric: list[str], sizes: list[int]
) -> list[tuple[str, list[str], object]]:
    """Return the candidates as (name, numeric features, unfitted pipeline), simplest first
    (``sizes``: values per categorical feature; the boosting only if each has at most
    :data:`MAX_BOOSTING_CATEGORIES`)."""
    compact = [f for f in COMPACT_FEATURES if f in numeric]
    out = [
        ("logistic_regression_compact", compact, logistic_pipeline(len(compact), sizes)),
        ("logistic_regression", numeric, logistic_pipeline(len(numeric), sizes)),
    ]
    if all(n <= MAX_BOOSTING_CATEGORIES for n in sizes):
        out.append(("hist_gradient_boosting", numeric, boosting_model(len(numeric), sizes)))
    return out


def fit_candidates(
    fit: LabelledRows,
    val: LabelledRows,
    numeric: list[str],
    categories: dict[str, list],
    only: str | None = None,
) -> tuple[dict[str, tuple[object, list[str]]], dict[str, float]]:
    """Fit the candidates on ``fit`` (with ``only``: that one and the full logistic regression,
    which explains a model's scores) and return them (name -> (pipeline, numeric features))
    with their ROC AUC on ``val``, in candidate order."""
    fitted, val_auc = {}, {}
    sizes = [len(v) for v in categories.values()]
    for name, feats, pipe in candidate_pipelines(numeric, sizes):
        if only is not None and name not in (only, "logistic_regression"):
            continue
        pipe.fit(design_matrix(fit.X, feats, categories), fit.y)
        fitted[name] = (pipe, feats)
        val_auc[name] = auc(val.y, predict_blocks(pipe, design_matrix(val.X, feats, categories)))
    return fitted, val_auc


def simplest_winner(val_auc: dict[str, float]) -> str:
    """Return the first (simplest) candidate within :data:`MIN_GAIN` of the best ROC AUC.

    Examples
    --------
    >>> simplest_winner({"compact": 0.70, "full": 0.704, "boosting": 0.72})
    'boosting'
    >>> simplest_winner({"compact": 0.70, "full": 0.704, "boosting": 0.703})
    'compact'
    """
    best = max(val_auc.values())
    return next(name for name in val_auc if val_auc[name] >= best - MIN_GAIN)


def calibrate(pipe, M: np.ndarray, y: np.ndarray) -> CalibratedClassifierCV:
    """Return ``pipe`` calibrated (sigmoid) on the rows ``M`` with outcomes ``y``."""
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipe), method="sigmoid")
    with warnings.catch_warnings():
        # with a frozen estimator the folds only check class counts; one calibrator is fit
        # on the whole slice, so a rare class in one fold does not matter
        warnings.filterwarnings("ignore", message="The least populated class")
        calibrated.fit(M, y)
    return calibrated
