"""Train, evaluate, save and load the late-payment models.

Two models come from the same machinery:

``late``
    P(an invoice is paid more than ``grace_days`` after its due date, or is still unpaid
    then), scored at the snapshot day. Training rows are invoices scored on their invoice
    date; it scores open invoices that are not yet past due + grace.
``overdue``
    P(an invoice that is already past due + grace is still not fully paid ``horizon_days``
    (30) later). Training rows are snapshots of invoices still open 1, 8, 15, 30, 45, 60 and 90
    days after due + grace; it ranks invoices whose lateness is already decided.

Evaluation is by time, and labels are censored at each cut
----------------------------------------------------------
The known-outcome rows are sorted by snapshot day; the latest ``test_share`` (30%) is the test
set. Training uses only rows before the test period **whose outcome was decided on the day
before the test period starts**: invoices already past due + grace then (overdue snapshots
whose 30 days had passed), so that no row is kept or dropped by how its customer paid (an
invoice paid early, before its due date, is *known* at the cut but its late twin is not; keeping
the one without the other would teach the model that recent invoices are rarely late). Inside
the training period the latest 20% is the validation slice: candidates (scaled, one-hot
logistic regressions and a shallow histogram gradient boosting) are fit on the rest, compared
by validation ROC AUC (a more complex one must win by more than 0.005: the simplest that wins),
and the chosen one is calibrated on the validation slice with
``CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid")``.

Sampling, never by recency
    Fit, calibration and test rows are each a uniform random sample (fixed seed) of their whole
    period, at most :data:`MAX_FIT_ROWS`, :data:`MAX_CALIBRATION_ROWS` and
    :data:`MAX_TEST_ROWS` rows; features are computed for the sampled rows only. The metrics
    record each sample's size, what it was drawn from and its first and last month.
The baseline guard
    The chosen model is deployed only if it beats the baseline (the customer's late share for
    the late model, days past due for the overdue model), calibrated the same way, on the
    validation slice in both ROC AUC and Brier score. Otherwise the calibrated baseline itself
    is deployed, and the metrics (``deployed``, ``deployment_note``), the card and
    ``salesops train`` say so.

The saved model repeats the same choice with the same fit / calibrate split on every row
decided at ``as_of``.

Model input
-----------
Every pipeline takes one float matrix (:func:`design_matrix`): the numeric features, then each
categorical feature as its position in the values seen when fitting (-1 for a value never seen:
the logistic regression gives it no one-hot column, the boosting treats it as missing).
Encoding here rather than inside the pipeline keeps text out of sklearn. To score, the fitted
pipelines are compiled to whole-column array code (:mod:`salesops_analysis.risk.scoring`),
checked against scikit-learn's own ``predict_proba`` before use.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .. import __version__
from .._errors import ModelError
from ..metrics.days import NO_DAY
from .drift import CALENDAR_FEATURES, training_reference
from .features import NUMERIC_FEATURES, Knowledge, features_at
from .scoring import compiled_model

__all__ = [
    "FEATURE_VERSION",
    "COMPACT_FEATURES",
    "PREDICT_BLOCK",
    "LATE_FEATURES",
    "OVERDUE_FEATURES",
    "TRUSTED_TYPES",
    "TrainedModel",
    "category_codes",
    "contribution_matrix",
    "contributions",
    "design_matrix",
    "find_model",
    "latest_model",
    "load_model",
    "predict_risk",
    "save_model",
    "train_from_tables",
    "train_from_warehouse",
    "train_models",
    "training_tables",
]

#: Version of the features and of the model input; a saved model of another version is refused.
#: 2: categorical features reach the pipelines as codes (see "Model input" above).
FEATURE_VERSION = 2
LATE_FEATURES = [f for f in NUMERIC_FEATURES if f != "days_past_due"]
OVERDUE_FEATURES = list(NUMERIC_FEATURES)
OVERDUE_OFFSETS = (1, 15, 30, 60, 90)
HORIZON_DAYS = 30
#: Every type beyond builtins, numpy and scipy that a saved model may contain; nothing else is
#: loaded. (skops would also trust any scikit-learn estimator by default; this package imports
#: skops without that catalogue, see ``salesops_analysis._skops``.)
TRUSTED_TYPES = [
    "functools.partial",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.frozen._frozen.FrozenEstimator",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.utils.validation.check_array",
]
#: Rows per prediction call. The boosted trees walk every row once per tree; a block this size
#: stays in the CPU cache from one tree to the next, which made scoring 936k rows twice as fast.
PREDICT_BLOCK = 16_384
#: The boosting candidate handles at most this many values per categorical feature.
MAX_BOOSTING_CATEGORIES = 255


@dataclass
class TrainedModel:
    """The saved bundle: both calibrated models, their explainers, drift reference, metrics."""

    bundle: dict

    @property
    def metrics(self) -> dict:
        """Return the evaluation metrics (the ``…metrics.json`` content)."""
        return self.bundle["metrics"]

    @property
    def as_of(self) -> str:
        """Return the knowledge date the model was trained at."""
        return self.bundle["trained_as_of"]

    @property
    def deployed_baseline(self) -> bool:
        """Return whether the late score is the calibrated customer's late share (no model
        beat it on validation)."""
        return self.bundle["metrics"].get("deployed") == "baseline"

    @property
    def deployment_note(self) -> str | None:
        """Return the sentence saying which score deploys a baseline, or ``None`` if none."""
        return self.bundle["metrics"].get("deployment_note")


# -- model input ------------------------------------------------------------------------------
def category_codes(values: pd.Series, vocabulary) -> np.ndarray:
    """Return each value's position in ``vocabulary`` (-1 for a value not in it)."""
    codes = pc.index_in(
        pa.array(values.astype("str"), from_pandas=True),
        value_set=pa.array([str(v) for v in vocabulary], type=pa.string()),
        skip_nulls=True,
    )
    return codes.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


class _CategoryCodes:
    """:func:`category_codes` of a feature table's columns, each computed once per vocabulary
    (a bundle's models and explainers usually share theirs)."""

    def __init__(self, X: pd.DataFrame) -> None:
        self.X = X
        self._done: dict[tuple, np.ndarray] = {}

    def __call__(self, name: str, vocabulary) -> np.ndarray:
        key = (name, tuple(str(v) for v in vocabulary))
        if key not in self._done:
            self._done[key] = category_codes(self.X[name], vocabulary)
        return self._done[key]


def design_matrix(X: pd.DataFrame, numeric: list[str], categories: dict[str, list]) -> np.ndarray:
    """Return the model input for the rows of feature table ``X``: the ``numeric`` columns, then
    one column of :func:`category_codes` per entry of ``categories`` (name -> the values seen
    when fitting), as one C-ordered float64 array."""
    k = len(numeric)
    M = np.empty((len(X), k + len(categories)), dtype=np.float64)
    if k:
        M[:, :k] = X[list(numeric)].to_numpy(dtype=np.float64)
    for j, (name, vocabulary) in enumerate(categories.items()):
        M[:, k + j] = category_codes(X[name], vocabulary)
    return M


def _predict(model, M: np.ndarray) -> np.ndarray:
    """Return P(class 1) for the rows of ``M``, in blocks of :data:`PREDICT_BLOCK` rows."""
    if not len(M):
        return np.zeros(0)
    return np.concatenate(
        [
            model.predict_proba(M[i : i + PREDICT_BLOCK])[:, 1]
            for i in range(0, len(M), PREDICT_BLOCK)
        ]
    )


def _block_rows(rows: np.ndarray | None, start: int, stop: int):
    """Return what selects block ``start:stop`` of the scored rows from a full-length column."""
    return slice(start, stop) if rows is None else rows[start:stop]


def predict_risk(
    entry: dict, X: pd.DataFrame, rows: np.ndarray | None = None, *, codes=None
) -> np.ndarray:
    """Return the calibrated probability from one model of a bundle (``bundle["late"]`` or
    ``bundle["overdue"]``) for the rows of feature table ``X`` (or for its row positions
    ``rows``, in that order: the table itself is then never copied).

    Our two kinds of model are evaluated by their
    :func:`~salesops_analysis.risk.scoring.compiled_model` form (the same probabilities, several
    times faster). For any other model the :func:`design_matrix` is assembled one block of rows
    at a time into a buffer that stays in the CPU cache, never whole. ``codes`` (a
    ``_CategoryCodes`` of ``X``) shares category codes between calls.
    """
    codes = codes or _CategoryCodes(X)
    columns = [X[c].to_numpy(dtype=np.float64) for c in entry["numeric"]] + [
        codes(name, values) for name, values in entry["categories"].items()
    ]
    k = len(entry["numeric"])
    n_codes = {k + j: len(values) for j, values in enumerate(entry["categories"].values())}
    compiled = compiled_model(entry["model"], n_codes)
    if compiled is not None:
        return compiled.predict_proba(columns, rows)
    n = len(X) if rows is None else len(rows)
    out = np.zeros(n)
    block = np.empty((min(n, PREDICT_BLOCK), len(columns)), dtype=np.float64)
    for start in range(0, n, PREDICT_BLOCK):
        stop = min(start + PREDICT_BLOCK, n)
        M = block[: stop - start]
        these = _block_rows(rows, start, stop)
        for j, column in enumerate(columns):
            M[:, j] = column[these]
        out[start:stop] = entry["model"].predict_proba(M)[:, 1]
    return out


# -- candidates -------------------------------------------------------------------------------
#: Inverse strength of the logistic regressions' L2 penalty (features are scaled). The penalty
#: grows with 1/C, the data term with the rows: it matters on files of a thousand invoices,
#: where it keeps the model from chasing noise (IBM sample: validation ROC AUC 0.857 at C=1,
#: 0.873 at 0.01, against 0.866 for the customer's late share), and not on the demo's 20,000+.
LOGISTIC_C = 0.01


def _logistic(n_numeric: int, sizes: list[int]) -> Pipeline:
    parts = [("num", StandardScaler(), list(range(n_numeric)))]
    if sizes:
        categories = [np.arange(n, dtype=np.float64) for n in sizes]
        cat = list(range(n_numeric, n_numeric + len(sizes)))
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", categories=categories), cat))
    pre = ColumnTransformer(parts, sparse_threshold=0)
    return Pipeline([("prep", pre), ("model", LogisticRegression(C=LOGISTIC_C, max_iter=2000))])


def _boosting(n_numeric: int, sizes: list[int]) -> HistGradientBoostingClassifier:
    # codes of categories are in [0, n); -1 (not seen when fitting) counts as missing.
    # 50 shallow trees at rate 0.2 matched 100 at 0.1 on validation (demo and 1M demo data)
    # and predict in half the time
    return HistGradientBoostingClassifier(
        max_depth=3,
        learning_rate=0.2,
        max_iter=50,
        categorical_features=[False] * n_numeric + [True] * len(sizes) if sizes else None,
        random_state=0,
    )


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


def top_decile_share(y: np.ndarray, amount: np.ndarray, ranking: np.ndarray) -> float:
    """Return the share of late amount found in the top 10% of rows ranked by ``ranking``."""
    late_amount = float((amount * y).sum())
    if late_amount <= 0:
        return float("nan")
    order = np.argsort(-ranking, kind="stable")
    top = order[: max(1, int(np.ceil(0.1 * len(order))))]
    return float((amount[top] * y[top]).sum() / late_amount)


def lift_curve(
    y: np.ndarray, amount: np.ndarray, ranking: np.ndarray, steps: int = 10
) -> list[float]:
    """Return the cumulative share of late amount in the top 10%, 20%, ... of the ranking."""
    late_amount = float((amount * y).sum())
    order = np.argsort(-ranking, kind="stable")
    found = np.cumsum((amount * y)[order])
    cuts = [max(1, int(np.ceil(len(order) * k / steps))) - 1 for k in range(1, steps + 1)]
    return [
        round(float(found[c] / late_amount), 4) if late_amount > 0 else float("nan") for c in cuts
    ]


def _scores(y, p, amount, prior_share, dpd, base_rate) -> dict:
    baseline_dpd = (np.maximum(dpd, 0) + 1) * amount
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="quantile")
    return {
        "rows": int(len(y)),
        "late_share": float(y.mean()) if len(y) else float("nan"),
        # calibration in the large: the mean probability against the late share above
        "mean_predicted": float(p.mean()) if len(p) else float("nan"),
        "roc_auc": _auc(y, p),
        "pr_auc": float(average_precision_score(y, p)) if y.any() else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "brier_base_rate": float(np.mean((y - base_rate) ** 2)),
        "top_decile_late_amount_share": top_decile_share(y, amount, p * amount),
        "calibration": {
            "predicted": [round(float(x), 4) for x in prob_pred],
            "observed": [round(float(x), 4) for x in prob_true],
        },
        "lift": {
            "share_of_rows": [k / 10 for k in range(1, 11)],
            "model": lift_curve(y, amount, p * amount),
            "customer_late_share": lift_curve(y, amount, prior_share * amount),
            "days_past_due_amount": lift_curve(y, amount, baseline_dpd),
        },
        "baselines": {
            "customer_late_share": {
                "roc_auc": _auc(y, prior_share),
                "pr_auc": float(average_precision_score(y, prior_share))
                if y.any()
                else float("nan"),
                "brier": float(brier_score_loss(y, np.clip(prior_share, 0, 1))),
                "top_decile_late_amount_share": top_decile_share(y, amount, prior_share * amount),
            },
            "days_past_due_amount": {
                "roc_auc": _auc(y, baseline_dpd),
                "pr_auc": float(average_precision_score(y, baseline_dpd))
                if y.any()
                else float("nan"),
                "top_decile_late_amount_share": top_decile_share(y, amount, baseline_dpd),
            },
        },
    }


def _cut_at_share(days: np.ndarray, share: float) -> int:
    """Return the first day of the latest ``share`` of rows (ties go to the later part)."""
    s = np.sort(days)
    return int(s[min(len(s) - 1, int(np.floor(len(s) * (1 - share))))])


@dataclass
class _Rows:
    """Labelled rows: invoice row positions, snapshot days, outcomes (and, once computed, their
    feature table). ``total`` counts the rows the set was sampled from."""

    rows: np.ndarray
    snap: np.ndarray
    y: np.ndarray
    X: pd.DataFrame | None = None
    total: int = -1

    def __post_init__(self) -> None:
        if self.total < 0:
            self.total = len(self.y)


def _late_rows(k: Knowledge, cutoff: int, lo: int, hi: int, *, decided: bool = False) -> _Rows:
    """Invoices issued in [lo, hi) with outcome known at ``cutoff``, scored at issue.

    With ``decided``, only invoices already past due + grace at ``cutoff``: their outcome is
    known whatever the customer did. (Of the invoices not yet due, only those paid early are
    known: keeping them would teach the model that recent invoices are rarely late.)
    """
    known, late = k.late_label(cutoff)
    issued = k.ledger.issued
    keep = known & (issued >= lo) & (issued < hi)
    if decided:
        keep &= k.ledger.due + k.grace_days < cutoff
    rows = np.flatnonzero(keep)
    return _Rows(rows, issued[rows], late[rows].astype(np.int8))


def _overdue_rows(k: Knowledge, cutoff: int, lo: int, hi: int, *, decided: bool = False) -> _Rows:
    """Snapshots in [lo, hi) of invoices still open past due + grace, label known at cutoff
    (with ``decided``: only snapshots whose whole horizon has passed by ``cutoff``)."""
    led = k.ledger
    base = np.flatnonzero(k.modelled)
    start = led.due[base] + k.grace_days
    closed = np.where(k.closed[base] <= cutoff, k.closed[base], NO_DAY)
    issued = led.issued[base]
    parts = []
    # one offset at a time: the candidate snapshots of every invoice are never held at once
    for offset in OVERDUE_OFFSETS:
        snap = start + offset
        open_at_s = (closed > snap) & (issued <= snap)
        known = snap + HORIZON_DAYS <= cutoff
        if not decided:
            known |= closed <= cutoff
        keep = np.flatnonzero(open_at_s & known & (snap >= lo) & (snap < hi) & (snap <= cutoff))
        parts.append((base[keep], snap[keep], closed[keep] > snap[keep] + HORIZON_DAYS))
    rows, snap, y = (np.concatenate(p) for p in zip(*parts, strict=True))
    return _Rows(rows, snap, y.astype(np.int8))


def _sample(r: _Rows, limit: int, seed: int) -> _Rows:
    """Return at most ``limit`` of the rows, drawn uniformly at random from the whole set (so
    from every part of its period, never the most recent ones only), in their order."""
    n = len(r.y)
    if n <= limit:
        return r
    keep = np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))
    return _Rows(r.rows[keep], r.snap[keep], r.y[keep], total=n)


def _with_features(k: Knowledge, *sets: _Rows) -> None:
    """Compute the feature tables of several row sets in one pass (features depend on the
    invoice and snapshot day only, never on a label cut-off)."""
    X = features_at(
        k, np.concatenate([s.rows for s in sets]), np.concatenate([s.snap for s in sets])
    )
    start = 0
    for s in sets:
        s.X = X.iloc[start : start + len(s.rows)].reset_index(drop=True)
        start += len(s.rows)


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
#: Fitting uses at most this many rows, calibration at most MAX_CALIBRATION_ROWS, the test at
#: most MAX_TEST_ROWS: each a uniform random sample of its whole period (see :func:`_sample`).
MAX_FIT_ROWS = 200_000
MAX_CALIBRATION_ROWS = 100_000
MAX_TEST_ROWS = 300_000
#: The baseline each model must beat on validation (ROC AUC and Brier score), else the
#: baseline itself, calibrated, is deployed: (feature, pipeline name, words for the card).
BASELINES = {
    "late": ("hist_late_share", "customer_late_share_baseline", "the customer's late share"),
    "overdue": ("days_past_due", "days_past_due_baseline", "days past due"),
}


def _candidates(numeric: list[str], sizes: list[int]) -> list[tuple[str, list[str], object]]:
    """Return the candidate pipelines, simplest first (``sizes``: values per categorical)."""
    compact = [f for f in COMPACT_FEATURES if f in numeric]
    out = [
        ("logistic_regression_compact", compact, _logistic(len(compact), sizes)),
        ("logistic_regression", numeric, _logistic(len(numeric), sizes)),
    ]
    if all(n <= MAX_BOOSTING_CATEGORIES for n in sizes):
        out.append(("hist_gradient_boosting", numeric, _boosting(len(numeric), sizes)))
    return out


def _category_values(X: pd.DataFrame, categorical: list[str]) -> list[list[str]]:
    """Return each categorical column's values seen in ``X``, sorted: the codes of
    :func:`design_matrix` are positions in these lists."""
    return [sorted(X[c].astype("str").unique().tolist()) for c in categorical]


def _calibrate(pipe, M: np.ndarray, y: np.ndarray) -> CalibratedClassifierCV:
    """Return ``pipe`` calibrated (sigmoid) on the rows ``M`` with outcomes ``y``."""
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipe), method="sigmoid")
    with warnings.catch_warnings():
        # with a frozen estimator the folds only check class counts; one calibrator is fit
        # on the whole slice, so a rare class in one fold does not matter
        warnings.filterwarnings("ignore", message="The least populated class")
        calibrated.fit(M, y)
    return calibrated


def _fit_select(
    fit: _Rows,
    val: _Rows,
    numeric: list[str],
    categorical: list[str],
    baseline: tuple[str, str, str],
    only: str | None = None,
):
    """Fit the candidates (or just ``only``), keep the simplest that wins on ``val``, calibrate
    it there, and deploy it only if it beats the calibrated ``baseline`` feature on ``val`` in
    both ROC AUC and Brier score; else deploy the baseline. The full logistic regression is
    fit too: it explains a model's scores (the baseline explains its own).

    Returns the deployed entry, its name, the guard's record and the explainer.
    """
    if len(fit.y) < 50 or len(np.unique(fit.y)) < 2 or len(np.unique(val.y)) < 2:
        raise ModelError(
            f"not enough labelled rows to train ({len(fit.y)} to fit, "
            f"{len(val.y)} to validate, both classes needed)"
        )
    categories = dict(zip(categorical, _category_values(fit.X, categorical), strict=True))
    sizes = [len(v) for v in categories.values()]
    feature, base_name, _ = baseline
    # the baseline: a logistic regression of its one feature (the same ranking), calibrated
    base_pipe = _logistic(1, []).fit(design_matrix(fit.X, [feature], {}), fit.y)
    base_cal = _calibrate(base_pipe, design_matrix(val.X, [feature], {}), val.y)
    base_p = _predict(base_cal, design_matrix(val.X, [feature], {}))
    guard = {
        "baseline": base_name,
        "baseline_validation_roc_auc": _auc(val.y, base_p),
        "baseline_validation_brier": float(brier_score_loss(val.y, base_p)),
    }
    base_entry = {"model": base_cal, "columns": [feature], "numeric": [feature], "categories": {}}
    if only == base_name:
        guard["deployed"] = "baseline"
        return base_entry, base_name, guard, _linear_explainer(base_pipe, fit.X, [feature], {})
    fitted, val_auc = {}, {}
    for name, feats, pipe in _candidates(numeric, sizes):
        if only is not None and name not in (only, "logistic_regression"):
            continue
        pipe.fit(design_matrix(fit.X, feats, categories), fit.y)
        fitted[name] = (pipe, feats)
        val_auc[name] = _auc(val.y, _predict(pipe, design_matrix(val.X, feats, categories)))
    if only is not None and only not in fitted:
        raise ModelError(f"candidate {only} cannot be fit on these rows")
    best = max(val_auc.values())
    chosen = only or next(name for name in val_auc if val_auc[name] >= best - MIN_GAIN)
    pipe, feats = fitted[chosen]
    M_val = design_matrix(val.X, feats, categories)
    calibrated = _calibrate(pipe, M_val, val.y)
    p = _predict(calibrated, M_val)
    guard.update(
        {
            "candidate": chosen,
            "validation_roc_auc": _auc(val.y, p),
            "validation_brier": float(brier_score_loss(val.y, p)),
            "validation_roc_auc_by_candidate": val_auc,
        }
    )
    beats = (
        guard["validation_roc_auc"] > guard["baseline_validation_roc_auc"]
        and guard["validation_brier"] < guard["baseline_validation_brier"]
    )
    if only is None and not beats:
        guard["deployed"] = "baseline"
        return base_entry, base_name, guard, _linear_explainer(base_pipe, fit.X, [feature], {})
    guard["deployed"] = "model"
    explain_name = chosen if chosen.startswith("logistic") else "logistic_regression"
    e_pipe, e_feats = fitted.get(explain_name, fitted[chosen])
    explainer = _linear_explainer(e_pipe, fit.X, e_feats, categories)
    entry = {
        "model": calibrated,
        "columns": feats + categorical,
        "numeric": feats,
        "categories": categories,
    }
    return entry, chosen, guard, explainer


def _linear_explainer(pipe: Pipeline, X: pd.DataFrame, numeric: list[str], categories) -> dict:
    """Return what is needed to split a logistic score into per-feature contributions."""
    prep, lr = pipe.named_steps["prep"], pipe.named_steps["model"]
    Xt = prep.transform(design_matrix(X, numeric, categories))
    source = list(numeric) + [name for name, values in categories.items() for _ in values]
    return {
        "coef": lr.coef_[0].astype(float),
        "mean": Xt.mean(axis=0).astype(float),
        "source": source,
        "numeric": list(numeric),
        "categories": categories,
        "features": list(numeric) + list(categories),
        "prep": prep,
    }


class _Contributions:
    """Per-feature logit contributions of a logistic explainer for the rows of ``X`` (or its
    row positions ``rows``), filled one block of rows at a time (see
    :func:`contribution_matrix`)."""

    def __init__(
        self, explainer: dict, X: pd.DataFrame, rows: np.ndarray | None = None, codes=None
    ) -> None:
        self.rows = rows
        codes = codes or _CategoryCodes(X)
        coef, mean = explainer["coef"], explainer["mean"]
        numeric, categories = explainer["numeric"], explainer["categories"]
        scaler = explainer["prep"].named_transformers_["num"]
        self.names = list(numeric) + list(categories)
        # numeric: ((x - mu) / scale - mean) * coef = x * slope + intercept
        self.linear = []
        for j, name in enumerate(numeric):
            slope = coef[j] / scaler.scale_[j]
            intercept = -scaler.mean_[j] * slope - mean[j] * coef[j]
            self.linear.append((X[name].to_numpy(dtype=np.float64), slope, intercept))
        # categorical: one entry per code, the last one for a value not seen in training
        self.lookup = []
        offset = len(numeric)
        for name, values in categories.items():
            c, m = coef[offset : offset + len(values)], mean[offset : offset + len(values)]
            table = np.append(c, 0.0) - float(c @ m)
            self.lookup.append((codes(name, values), table))
            offset += len(values)

    def fill(self, start: int, stop: int, out: np.ndarray) -> None:
        """Write the contributions of rows ``start:stop`` into ``out`` (p, stop - start): one
        row per feature, so that each is written in one contiguous stretch."""
        these = _block_rows(self.rows, start, stop)
        for j, (x, slope, intercept) in enumerate(self.linear):
            np.multiply(x[these], slope, out=out[j])
            out[j] += intercept
        k = len(self.linear)
        for j, (codes, table) in enumerate(self.lookup):
            np.take(table, codes[these], out=out[k + j])


def contribution_matrix(explainer: dict, X: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Return the feature names and an (n, features) array of logit contributions (positive =
    raises the risk) for the rows of feature table ``X``.

    A scaled numeric feature contributes ``(z - mean) * coef``; a categorical one its value's
    coefficient minus the mean one-hot contribution (a value unseen in training: minus that
    mean only). This is the logistic regression's score minus its score at the mean row, split
    by feature, without building the one-hot matrix.
    """
    plan = _Contributions(explainer, X)
    out = np.empty((len(plan.names), len(X)), dtype=np.float64)
    plan.fill(0, len(X), out)
    return plan.names, out.T


def contributions(explainer: dict, X: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`contribution_matrix` as a frame with one column per feature."""
    names, values = contribution_matrix(explainer, X)
    return pd.DataFrame(values, columns=names)


def _split_and_train(
    k: Knowledge,
    make_rows,
    test_share: float,
    numeric,
    categorical,
    baseline,
    *,
    decided_test: bool = False,
    seed: int = 0,
):
    """Evaluate on the latest rows, then fit the deployed model on everything known.

    Every set is a uniform random sample of its period (:func:`_sample`), and features are
    computed for the sampled rows only. Fit and calibration rows are those whose outcome was
    decided by their cut-off (``decided``); the test keeps every outcome known at ``k.T``
    (with ``decided_test``: decided at ``k.T``).
    """
    T = k.T
    everything = make_rows(k, T, -(10**9), T + 1, decided=decided_test)
    if len(everything.y) < 100:
        raise ModelError(
            f"only {len(everything.y)} rows with a known outcome on "
            f"{_date(T)}: too few to train and test a model"
        )
    test_start = _cut_at_share(everything.snap, test_share)
    dep_val_start = _cut_at_share(everything.snap, 0.2)
    del everything
    train_all = make_rows(k, test_start - 1, -(10**9), test_start, decided=True)
    if len(train_all.y) < 100:
        raise ModelError(
            f"only {len(train_all.y)} rows with an outcome decided before the test period "
            f"({_date(test_start)}): too few to train a model"
        )
    val_start = _cut_at_share(train_all.snap, 0.2)
    del train_all
    test = _sample(make_rows(k, T, test_start, T + 1, decided=decided_test), MAX_TEST_ROWS, seed)
    fit = _sample(
        make_rows(k, val_start - 1, -(10**9), val_start, decided=True), MAX_FIT_ROWS, seed + 1
    )
    val = _sample(
        make_rows(k, test_start - 1, val_start, test_start, decided=True),
        MAX_CALIBRATION_ROWS,
        seed + 2,
    )
    # the deployed model: the same recipe on every row decided at T
    dep_fit = _sample(
        make_rows(k, dep_val_start - 1, -(10**9), dep_val_start, decided=True),
        MAX_FIT_ROWS,
        seed + 3,
    )
    dep_val = _sample(
        make_rows(k, T, dep_val_start, T + 1, decided=True), MAX_CALIBRATION_ROWS, seed + 4
    )
    _with_features(k, test, fit, val, dep_fit, dep_val)
    model, chosen, guard, _ = _fit_select(fit, val, numeric, categorical, baseline)
    p = predict_risk(model, test.X)
    amount = k.ledger.amount[test.rows]
    base_rate = float(np.concatenate([fit.y, val.y]).mean())
    evaluation = _scores(
        test.y,
        p,
        amount,
        test.X["hist_late_share"].to_numpy(),
        test.X["days_past_due"].to_numpy(),
        base_rate,
    )
    evaluation.update(
        {
            "chosen": chosen,
            "deployed": guard["deployed"],
            "guard": guard,
            "validation_roc_auc": guard.get("validation_roc_auc_by_candidate", {}),
            "split": {
                "fit": _span(fit.snap),
                "validation": _span(val.snap),
                "test": _span(test.snap),
                "fit_rows": int(len(fit.y)),
                "validation_rows": int(len(val.y)),
                "test_rows": int(len(test.y)),
                "train_labels_known_by": _date(test_start - 1),
                "sample": {
                    name: _sample_record(s)
                    for name, s in (("fit", fit), ("validation", val), ("test", test))
                },
            },
        }
    )
    dep_model, dep_chosen, dep_guard, explainer = _fit_select(
        dep_fit, dep_val, numeric, categorical, baseline, only=chosen
    )
    deployed = {
        **dep_model,
        "chosen": dep_chosen,
        "deployed": guard["deployed"],
        "explainer": explainer,
        "fit_rows": int(len(dep_fit.y)),
        "calibration_rows": int(len(dep_val.y)),
        "validation_roc_auc": dep_guard.get("validation_roc_auc_by_candidate", {}),
        "sample": {"fit": _sample_record(dep_fit), "calibration": _sample_record(dep_val)},
    }
    return evaluation, deployed


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _span(days: np.ndarray) -> list[str]:
    return [_date(days.min()), _date(days.max())] if len(days) else [None, None]


def _sample_record(r: _Rows) -> dict:
    """Return how a set was sampled: rows kept, rows it was drawn from, first and last month."""
    ends = (r.snap.min(), r.snap.max()) if len(r.snap) else ()
    months = [str(np.datetime64(int(d), "D").astype("datetime64[M]")) for d in ends] or [None, None]
    return {"rows": int(len(r.y)), "drawn_from": int(r.total), "months": months}


def _deployment_note(kind: str, guard: dict) -> str | None:
    """Return the plain sentence saying that ``kind``'s baseline is deployed (else ``None``)."""
    if guard["deployed"] != "baseline":
        return None
    words = BASELINES[kind][2]
    what = "late-payment" if kind == "late" else "overdue"
    return (
        f"The {what} model ({guard['candidate']}) did not beat {words} on validation "
        f"(ROC AUC {guard['validation_roc_auc']:.3f} against "
        f"{guard['baseline_validation_roc_auc']:.3f}, Brier {guard['validation_brier']:.3f} "
        f"against {guard['baseline_validation_brier']:.3f}), so {words}, calibrated, is "
        f"deployed as the {what} score."
    )


def train_models(
    k: Knowledge,
    *,
    categorical: list[str],
    test_share: float = 0.3,
    with_overdue: bool = True,
) -> TrainedModel:
    """Return both models trained and evaluated on what ``k`` knew (see the module notes).

    Raises
    ------
    ModelError
        Too few rows with a known outcome, or only one class.
    """
    numeric_late = LATE_FEATURES
    late_eval, late_dep = _split_and_train(
        k, _late_rows, test_share, numeric_late, categorical, BASELINES["late"]
    )
    late_dep["drift_reference"], late_dep["drift_window"] = training_reference(
        k, [f for f in numeric_late if f not in CALENDAR_FEATURES], categorical
    )
    overdue_eval = overdue_dep = None
    if with_overdue:
        try:
            # its test too only has snapshots whose 30 days have passed: of the others only
            # those paid within them are known, which would make the test look more paid
            overdue_eval, overdue_dep = _split_and_train(
                k,
                _overdue_rows,
                test_share,
                OVERDUE_FEATURES,
                categorical,
                BASELINES["overdue"],
                decided_test=True,
            )
        except ModelError as exc:  # e.g. a file where nothing was ever overdue
            overdue_eval = {"skipped": str(exc)}
    notes = [_deployment_note("late", late_eval["guard"])]
    if overdue_dep is not None:
        notes.append(_deployment_note("overdue", overdue_eval["guard"]))
    notes = [n for n in notes if n]
    metrics = {
        "as_of": _date(k.T),
        "grace_days": k.grace_days,
        "target": f"paid more than {k.grace_days} days after due, or still unpaid then",
        "deployed": late_eval["deployed"],
        "deployment_note": " ".join(notes) if notes else None,
        "sampling": (
            "each of fit, calibration and test is a uniform random sample of its whole period "
            f"(at most {MAX_FIT_ROWS:,}, {MAX_CALIBRATION_ROWS:,} and {MAX_TEST_ROWS:,} rows); "
            "fit and calibration rows have an outcome decided by their cut-off"
        ),
        "test": {key: v for key, v in late_eval.items() if key != "baselines"},
        "baselines": late_eval["baselines"],
        "overdue": overdue_eval,
        "model": {
            "late": late_dep["chosen"],
            "overdue": overdue_dep["chosen"] if overdue_dep else None,
        },
    }
    bundle = {
        "format": "salesops-late-payment",
        "feature_version": FEATURE_VERSION,
        "package_version": __version__,
        "trained_as_of": _date(k.T),
        "grace_days": int(k.grace_days),
        "horizon_days": HORIZON_DAYS,
        "late_features": numeric_late,
        "overdue_features": OVERDUE_FEATURES,
        "categorical": list(categorical),
        "late": late_dep,
        "overdue": overdue_dep,
        "metrics": metrics,
    }
    return TrainedModel(bundle)


# -- persistence ------------------------------------------------------------------------------
def save_model(model: TrainedModel, out: str | Path) -> dict[str, Path]:
    """Write ``late_payment_<as-of>.skops``, ``….card.md`` and ``….metrics.json`` into ``out``."""
    from .._skops import skops_io

    sio = skops_io()

    from .card import model_card

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"late_payment_{model.as_of}"
    paths = {
        "model": out / f"{stem}.skops",
        "card": out / f"{stem}.card.md",
        "metrics": out / f"{stem}.metrics.json",
    }
    tmp = paths["model"].with_suffix(".skops.tmp")
    sio.dump(model.bundle, tmp)
    tmp.replace(paths["model"])
    paths["metrics"].write_text(json.dumps(_jsonable(model.metrics), indent=1) + "\n")
    paths["card"].write_text(model_card(model, paths["model"].name))
    return paths


def load_model(path: str | Path) -> TrainedModel:
    """Return a saved model, loaded with an explicit list of trusted types.

    Raises
    ------
    ModelError
        Missing or unreadable file, a type outside the trusted list, or a model whose features
        do not match this version of the code (retrain with ``salesops train``).
    """
    from .._skops import skops_io

    sio = skops_io()

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # any unreadable file: skops raises many kinds
        raise ModelError(f"{path}: not a readable skops model ({exc})") from None
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelError(
            f"{path}: refusing to load types outside the trusted list: {', '.join(unexpected)}"
        )
    bundle = sio.load(path, trusted=TRUSTED_TYPES)
    if not isinstance(bundle, dict) or bundle.get("format") != "salesops-late-payment":
        raise ModelError(f"{path}: not a salesops late-payment model")
    if (
        bundle.get("feature_version") != FEATURE_VERSION
        or list(bundle.get("late_features", [])) != LATE_FEATURES
        or list(bundle.get("overdue_features", [])) != OVERDUE_FEATURES
    ):
        raise ModelError(
            f"{path}: trained with feature set v{bundle.get('feature_version')} "
            f"({len(bundle.get('late_features', []))} features); this version computes "
            f"v{FEATURE_VERSION} ({len(LATE_FEATURES)} features): retrain with "
            "`salesops train --as-of DATE`"
        )
    return TrainedModel(bundle)


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    if isinstance(x, dt.date):
        return x.isoformat()
    return x


def find_model(models_dir: str | Path, as_of) -> tuple[Path, TrainedModel] | None:
    """Return the newest ``late_payment_<date>.skops`` in ``models_dir`` trained on or before
    ``as_of`` that this version can load (with the loaded model), or ``None``."""
    folder = Path(models_dir)
    if not folder.is_dir():
        return None
    limit = pd.Timestamp(as_of).normalize()
    found = []
    for path in folder.glob("late_payment_*.skops"):
        try:
            trained = pd.Timestamp(path.stem.removeprefix("late_payment_"))
        except ValueError:
            continue
        if trained <= limit:
            found.append((trained, path))
    for _, path in sorted(found, reverse=True):
        try:
            return path, load_model(path)
        except ModelError:
            continue  # trained by an older feature set: skip, a newer one may fit
    return None


def latest_model(models_dir: str | Path, as_of) -> Path | None:
    """Return the path :func:`find_model` would use, or ``None``."""
    found = find_model(models_dir, as_of)
    return found[0] if found else None


#: The columns of each table that training reads (besides the categorical features named in
#: the configuration); orders and FX rates are not read.
TRAINING_COLUMNS = {
    "invoices": [
        "invoice_id",
        "customer_id",
        "invoice_date",
        "due_date",
        "amount",
        "status",
        "paid_amount",
        "paid_date",
        "applies_to_invoice_id",
    ],
    "payments": ["invoice_id", "payment_date", "amount"],
    "activities": ["invoice_id", "activity_date", "type", "outcome", "promised_date"],
    "customers": ["customer_id"],
}


def training_tables(wh, config):
    """Return the warehouse tables with only the columns training reads (see
    :data:`TRAINING_COLUMNS`; orders and FX rates empty): a fraction of the memory of every
    column of every table. Payments are as in :func:`~salesops_analysis.metrics.load_tables`
    (implied by open-items snapshots without a payments export; ``None`` without either)."""
    from ..metrics import Tables
    from ..metrics.tables import payments_table

    frames = {}
    for kind, wanted in TRAINING_COLUMNS.items():
        have = [c for c in wh.columns(f"{kind}_history") if not c.startswith("_")]
        extra = [c for c in config.model_categorical if c not in wanted]
        frames[kind] = wh.table(kind, columns=[c for c in [*wanted, *extra] if c in have])
    # the payments export, else the payments open-items snapshots imply, else None
    frames["payments"], source = payments_table(wh, columns=list(frames["payments"].columns))
    return Tables(**frames, payments_source=source)


@dataclass(frozen=True)
class _InvoiceDays:
    """What training reads of a :class:`~salesops_analysis.metrics.receivables.Ledger` once
    the :class:`Knowledge` is built: amount, issue day and due day per invoice row."""

    amount: np.ndarray
    issued: np.ndarray
    due: np.ndarray


def _knowledge(tables, as_of, config) -> Knowledge:
    """Return what the ``tables`` knew at the end of ``as_of``, holding arrays only: its
    ledger keeps no table, so the tables can be freed before training."""
    k = Knowledge.of(
        tables,
        as_of,
        grace_days=config.grace_days,
        categorical=list(config.model_categorical),
    )
    led = k.ledger
    return replace(k, ledger=_InvoiceDays(led.amount, led.issued, led.due))


def train_from_tables(tables, as_of, config) -> TrainedModel:
    """Return models trained on the warehouse tables as known at the end of ``as_of``."""
    k = _knowledge(tables, as_of, config)
    return train_models(
        k, categorical=list(config.model_categorical), test_share=config.model_test_share
    )


def train_from_warehouse(db_path, as_of, config) -> TrainedModel:
    """Return models trained on the warehouse at ``db_path`` as known at the end of ``as_of``,
    reading only :func:`training_tables` (the warehouse is closed again before training) and
    letting them go once the knowledge is built: training holds arrays and sampled rows only."""
    from ..warehouse import open_warehouse

    with open_warehouse(db_path, read_only=True) as wh:
        tables = training_tables(wh, config)
    k = _knowledge(tables, as_of, config)
    del tables
    return train_models(
        k, categorical=list(config.model_categorical), test_share=config.model_test_share
    )
