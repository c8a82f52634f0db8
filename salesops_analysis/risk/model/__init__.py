"""Train, evaluate, save and load the late-payment models.

Two models come from the same machinery:

``late``
    P(an invoice is paid more than ``grace_days`` after its due date, or is still unpaid
    then), scored at the snapshot day. Training rows are invoices scored on their invoice
    date; it scores open invoices that are not yet past due + grace.
``overdue``
    P(an invoice that is already past due + grace is still not fully paid ``horizon_days``
    (30) later). Training rows are snapshots of invoices still open 1, 15, 30, 60 and 90 days
    after due + grace (:data:`~.samples.OVERDUE_OFFSETS`); it ranks invoices whose lateness is
    already decided.

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
    period, at most :data:`~.train.MAX_FIT_ROWS`, :data:`~.train.MAX_CALIBRATION_ROWS` and
    :data:`~.train.MAX_TEST_ROWS` rows; features are computed for the sampled rows only. The
    metrics record each sample's size, what it was drawn from and its first and last month.
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

Modules, one job each
---------------------
``bundle``      the typed contracts: :class:`TrainedModel`, :class:`ModelBundle`,
                :class:`DeployedModel`, :class:`LinearExplainer` (and their saved dict form)
``encoding``    category codes and the design matrix
``predict``     calibrated probabilities of a fitted model (compiled, else in blocks)
``samples``     labelled late / overdue rows, uniform samples, time cuts
``candidates``  the candidate pipelines, the simplest that wins, calibration
``evaluate``    ROC AUC, lift, the test metrics, the baseline guard
``explain``     a logistic score split into per-feature contributions (the reasons)
``train``       the time split and the deployed models: :func:`train_models`
``sources``     training from the warehouse: :func:`read_training` (once, for both models of
                ``salesops train``), :func:`train_from_warehouse`
``persist``     save, load and find saved models
"""

from .bundle import (
    BUNDLE_FORMAT,
    FEATURE_VERSION,
    LATE_FEATURES,
    OVERDUE_FEATURES,
    DeployedModel,
    FittedModel,
    LinearExplainer,
    ModelBundle,
    TrainedModel,
)
from .candidates import COMPACT_FEATURES, LOGISTIC_C, MAX_BOOSTING_CATEGORIES, MIN_GAIN
from .encoding import CategoryCodes, category_codes, design_matrix
from .evaluate import BASELINES, lift_curve, top_decile_share
from .explain import Contributions, contribution_matrix, contributions
from .persist import (
    TRUSTED_TYPES,
    find_model,
    find_saved,
    jsonable,
    latest_model,
    load_model,
    save_model,
)
from .predict import PREDICT_BLOCK, predict_risk
from .samples import (
    HORIZON_DAYS,
    OVERDUE_OFFSETS,
    cut_at_share,
    iso_date,
    late_rows,
    overdue_rows,
)
from .sources import (
    TRAINING_COLUMNS,
    TrainingData,
    give_back_memory,
    read_training,
    train_from_knowledge,
    train_from_tables,
    train_from_warehouse,
    training_data,
    training_tables,
    with_settlement_note,
)
from .train import MAX_CALIBRATION_ROWS, MAX_FIT_ROWS, MAX_TEST_ROWS, train_models

__all__ = [
    "BASELINES",
    "BUNDLE_FORMAT",
    "COMPACT_FEATURES",
    "FEATURE_VERSION",
    "HORIZON_DAYS",
    "LATE_FEATURES",
    "LOGISTIC_C",
    "MAX_BOOSTING_CATEGORIES",
    "MAX_CALIBRATION_ROWS",
    "MAX_FIT_ROWS",
    "MAX_TEST_ROWS",
    "MIN_GAIN",
    "OVERDUE_FEATURES",
    "OVERDUE_OFFSETS",
    "PREDICT_BLOCK",
    "TRAINING_COLUMNS",
    "TRUSTED_TYPES",
    "CategoryCodes",
    "Contributions",
    "DeployedModel",
    "FittedModel",
    "LinearExplainer",
    "ModelBundle",
    "TrainedModel",
    "TrainingData",
    "category_codes",
    "contribution_matrix",
    "contributions",
    "cut_at_share",
    "design_matrix",
    "find_model",
    "find_saved",
    "give_back_memory",
    "iso_date",
    "jsonable",
    "late_rows",
    "latest_model",
    "lift_curve",
    "load_model",
    "overdue_rows",
    "predict_risk",
    "read_training",
    "save_model",
    "top_decile_share",
    "train_from_knowledge",
    "train_from_tables",
    "train_from_warehouse",
    "train_models",
    "training_data",
    "training_tables",
    "with_settlement_note",
]
