"""Training: the time split, the candidates' fit and choice, the guard, the deployed models.

Evaluation is by time, and labels are censored at each cut. The known-outcome rows are sorted
by snapshot day; the latest ``test_share`` (30%) is the test set. Training uses only rows
before the test period **whose outcome was decided on the day before the test period
starts** (see :mod:`~salesops_analysis.risk.model.samples`). Inside the training period the
latest 20% is the validation slice: the candidates are fit on the rest and compared there, and
the chosen one is calibrated there (:mod:`~salesops_analysis.risk.model.candidates`) and must
beat the baseline (:mod:`~salesops_analysis.risk.model.evaluate`). The saved model repeats the
same choice with the same fit / calibrate split on every row decided at ``as_of``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from sklearn.metrics import brier_score_loss
from threadpoolctl import threadpool_limits

from ... import __version__
from ..._errors import ModelError
from ..drift import CALENDAR_FEATURES, training_reference
from ..features import Knowledge
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
from .candidates import calibrate, fit_candidates, logistic_pipeline, simplest_winner
from .encoding import category_values, design_matrix
from .evaluate import BASELINES, auc, beats_baseline, deployment_note, holdout_scores
from .explain import linear_explainer
from .predict import predict_blocks, predict_risk
from .samples import (
    HORIZON_DAYS,
    LabelledRows,
    add_features,
    cut_at_share,
    day_span,
    iso_date,
    late_rows,
    overdue_rows,
    sample_record,
    uniform_sample,
)

__all__ = [
    "MAX_CALIBRATION_ROWS",
    "MAX_FIT_ROWS",
    "MAX_TEST_ROWS",
    "Selection",
    "fit_select",
    "train_models",
]

#: Fitting uses at most this many rows, calibration at most MAX_CALIBRATION_ROWS, the test at
#: most MAX_TEST_ROWS: each a uniform random sample of its whole period (see
#: :func:`~salesops_analysis.risk.model.samples.uniform_sample`).
MAX_FIT_ROWS = 200_000
MAX_CALIBRATION_ROWS = 100_000
MAX_TEST_ROWS = 300_000
#: Before any day: the lower bound of a set that starts at the first invoice.
_ALWAYS = -(10**9)

#: What makes labelled rows: (knowledge, cut-off, first day, day after the last, decided=...).
RowMaker = Callable[..., LabelledRows]


@dataclass(frozen=True, eq=False)
class Selection:
    """What :func:`fit_select` deploys: the calibrated model, its name, the guard's record
    (validation metrics of the candidate and of the baseline, and ``deployed``: ``"model"`` or
    ``"baseline"``) and the explainer of its scores."""

    model: FittedModel
    chosen: str
    guard: dict
    explainer: LinearExplainer


def _check_trainable(fit: LabelledRows, val: LabelledRows) -> None:
    if len(fit.y) < 50 or len(np.unique(fit.y)) < 2 or len(np.unique(val.y)) < 2:
        raise ModelError(
            f"not enough labelled rows to train ({len(fit.y)} to fit, "
            f"{len(val.y)} to validate, both classes needed)"
        )


def _calibrated_baseline(fit: LabelledRows, val: LabelledRows, baseline) -> tuple[dict, Selection]:
    """Return the guard's baseline record and the calibrated baseline as a :class:`Selection`
    (a logistic regression of its one feature: the same ranking; it explains itself)."""
    feature, base_name, _ = baseline
    base_pipe = logistic_pipeline(1, []).fit(design_matrix(fit.X, [feature], {}), fit.y)
    base_cal = calibrate(base_pipe, design_matrix(val.X, [feature], {}), val.y)
    base_p = predict_blocks(base_cal, design_matrix(val.X, [feature], {}))
    guard = {
        "baseline": base_name,
        "baseline_validation_roc_auc": auc(val.y, base_p),
        "baseline_validation_brier": float(brier_score_loss(val.y, base_p)),
    }
    explainer = linear_explainer(base_pipe, fit.X, [feature], {})
    return guard, Selection(FittedModel(base_cal, [feature], {}), base_name, guard, explainer)


def fit_select(
    fit: LabelledRows,
    val: LabelledRows,
    numeric: list[str],
    categorical: list[str],
    baseline: tuple[str, str, str],
    only: str | None = None,
) -> Selection:
    """Fit the candidates (or just ``only``), keep the simplest that wins on ``val``, calibrate
    it there, and deploy it only if it beats the calibrated ``baseline`` feature on ``val`` in
    both ROC AUC and Brier score; else deploy the baseline. The full logistic regression is
    fit too: it explains a model's scores (the baseline explains its own).

    Raises
    ------
    ModelError
        Too few rows, one class only, or ``only`` cannot be fit on these rows.
    """
    _check_trainable(fit, val)
    categories = dict(zip(categorical, category_values(fit.X, categorical), strict=True))
    guard, base = _calibrated_baseline(fit, val, baseline)
    if only == base.chosen:
        guard["deployed"] = "baseline"
        return base
    fitted, val_auc = fit_candidates(fit, val, numeric, categories, only)
    if only is not None and only not in fitted:
        raise ModelError(f"candidate {only} cannot be fit on these rows")
    chosen = only or simplest_winner(val_auc)
    pipe, feats = fitted[chosen]
    M_val = design_matrix(val.X, feats, categories)
    calibrated = calibrate(pipe, M_val, val.y)
    p = predict_blocks(calibrated, M_val)
    guard.update(
        {
            "candidate": chosen,
            "validation_roc_auc": auc(val.y, p),
            "validation_brier": float(brier_score_loss(val.y, p)),
            "validation_roc_auc_by_candidate": val_auc,
        }
    )
    if only is None and not beats_baseline(guard):
        guard["deployed"] = "baseline"
        return base
    guard["deployed"] = "model"
    explain_name = chosen if chosen.startswith("logistic") else "logistic_regression"
    e_pipe, e_feats = fitted.get(explain_name, fitted[chosen])
    explainer = linear_explainer(e_pipe, fit.X, e_feats, categories)
    return Selection(FittedModel(calibrated, feats, categories), chosen, guard, explainer)


@dataclass(frozen=True)
class _Cuts:
    """The first day of the test period, of the validation slice inside the training period,
    and of the deployed model's calibration slice."""

    test_start: int
    val_start: int
    dep_val_start: int


def _cuts(k: Knowledge, make_rows: RowMaker, test_share: float, decided_test: bool) -> _Cuts:
    """Return the time cuts of the rows known at ``k.T``.

    Raises
    ------
    ModelError
        Fewer than 100 rows known at ``k.T``, or decided before the test period.
    """
    T = k.T
    everything = make_rows(k, T, _ALWAYS, T + 1, decided=decided_test)
    if len(everything.y) < 100:
        raise ModelError(
            f"only {len(everything.y)} rows with a known outcome on "
            f"{iso_date(T)}: too few to train and test a model"
        )
    test_start = cut_at_share(everything.snap, test_share)
    dep_val_start = cut_at_share(everything.snap, 0.2)
    del everything
    train_all = make_rows(k, test_start - 1, _ALWAYS, test_start, decided=True)
    if len(train_all.y) < 100:
        raise ModelError(
            f"only {len(train_all.y)} rows with an outcome decided before the test period "
            f"({iso_date(test_start)}): too few to train a model"
        )
    return _Cuts(test_start, cut_at_share(train_all.snap, 0.2), dep_val_start)


@dataclass
class _Sets:
    """The five uniform samples: test, fit and validation (to evaluate), and the deployed
    model's fit and calibration rows."""

    test: LabelledRows
    fit: LabelledRows
    val: LabelledRows
    dep_fit: LabelledRows
    dep_val: LabelledRows


def _sets(k: Knowledge, make_rows: RowMaker, c: _Cuts, decided_test: bool, seed: int) -> _Sets:
    """Return the sampled sets, with their features computed in one pass. Fit and calibration
    rows have an outcome decided by their cut-off; the test keeps every outcome known at
    ``k.T`` (with ``decided_test``: decided at ``k.T``)."""
    T = k.T
    # sampled one at a time: the unsampled sets are never held together
    s = _Sets(
        test=uniform_sample(
            make_rows(k, T, c.test_start, T + 1, decided=decided_test), MAX_TEST_ROWS, seed
        ),
        fit=uniform_sample(
            make_rows(k, c.val_start - 1, _ALWAYS, c.val_start, decided=True),
            MAX_FIT_ROWS,
            seed + 1,
        ),
        val=uniform_sample(
            make_rows(k, c.test_start - 1, c.val_start, c.test_start, decided=True),
            MAX_CALIBRATION_ROWS,
            seed + 2,
        ),
        # the deployed model: the same recipe on every row decided at T
        dep_fit=uniform_sample(
            make_rows(k, c.dep_val_start - 1, _ALWAYS, c.dep_val_start, decided=True),
            MAX_FIT_ROWS,
            seed + 3,
        ),
        dep_val=uniform_sample(
            make_rows(k, T, c.dep_val_start, T + 1, decided=True), MAX_CALIBRATION_ROWS, seed + 4
        ),
    )
    add_features(k, s.test, s.fit, s.val, s.dep_fit, s.dep_val)
    return s


def _evaluation(k: Knowledge, s: _Sets, c: _Cuts, chosen: Selection) -> dict:
    """Return the test metrics of the model chosen on the evaluation split, with the guard's
    record and how each set was drawn."""
    p = predict_risk(chosen.model, s.test.X)
    evaluation = holdout_scores(
        s.test.y,
        p,
        k.ledger.amount[s.test.rows],
        s.test.X["hist_late_share"].to_numpy(),
        s.test.X["days_past_due"].to_numpy(),
        float(np.concatenate([s.fit.y, s.val.y]).mean()),
    )
    guard = chosen.guard
    evaluation.update(
        {
            "chosen": chosen.chosen,
            "deployed": guard["deployed"],
            "guard": guard,
            "validation_roc_auc": guard.get("validation_roc_auc_by_candidate", {}),
            "split": {
                "fit": day_span(s.fit.snap),
                "validation": day_span(s.val.snap),
                "test": day_span(s.test.snap),
                "fit_rows": int(len(s.fit.y)),
                "validation_rows": int(len(s.val.y)),
                "test_rows": int(len(s.test.y)),
                "train_labels_known_by": iso_date(c.test_start - 1),
                "sample": {
                    name: sample_record(r)
                    for name, r in (("fit", s.fit), ("validation", s.val), ("test", s.test))
                },
            },
        }
    )
    return evaluation


def _split_and_train(
    k: Knowledge,
    make_rows: RowMaker,
    test_share: float,
    numeric: list[str],
    categorical: list[str],
    baseline: tuple[str, str, str],
    *,
    decided_test: bool = False,
    seed: int = 0,
) -> tuple[dict, DeployedModel]:
    """Evaluate on the latest rows, then fit the deployed model on everything known.

    Every set is a uniform random sample of its period, and features are computed for the
    sampled rows only. Returns the evaluation and the deployed model (the same choice as the
    evaluation's, or the baseline if the evaluation deployed the baseline).
    """
    cuts = _cuts(k, make_rows, test_share, decided_test)
    s = _sets(k, make_rows, cuts, decided_test, seed)
    chosen = fit_select(s.fit, s.val, numeric, categorical, baseline)
    evaluation = _evaluation(k, s, cuts, chosen)
    dep = fit_select(s.dep_fit, s.dep_val, numeric, categorical, baseline, only=chosen.chosen)
    deployed = DeployedModel(
        model=dep.model.model,
        numeric=dep.model.numeric,
        categories=dep.model.categories,
        chosen=dep.chosen,
        deployed=chosen.guard["deployed"],
        explainer=dep.explainer,
        fit_rows=int(len(s.dep_fit.y)),
        calibration_rows=int(len(s.dep_val.y)),
        validation_roc_auc=dep.guard.get("validation_roc_auc_by_candidate", {}),
        sample={"fit": sample_record(s.dep_fit), "calibration": sample_record(s.dep_val)},
    )
    return evaluation, deployed


def _train_overdue(k: Knowledge, categorical: list[str], test_share: float):
    """Return the overdue model's evaluation and deployed model, or a ``skipped`` record and
    ``None`` where it cannot be trained (e.g. a file where nothing was ever overdue)."""
    try:
        # its test too only has snapshots whose 30 days have passed: of the others only
        # those paid within them are known, which would make the test look more paid
        return _split_and_train(
            k,
            overdue_rows,
            test_share,
            OVERDUE_FEATURES,
            categorical,
            BASELINES["overdue"],
            decided_test=True,
        )
    except ModelError as exc:
        return {"skipped": str(exc)}, None


def _metrics(k: Knowledge, late_eval: dict, overdue_eval, late_dep, overdue_dep) -> dict:
    """Return the metrics of a training run (the ``….metrics.json`` content)."""
    notes = [deployment_note("late", late_eval["guard"])]
    if overdue_dep is not None:
        notes.append(deployment_note("overdue", overdue_eval["guard"]))
    notes = [n for n in notes if n]
    return {
        "as_of": iso_date(k.T),
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
            "late": late_dep.chosen,
            "overdue": overdue_dep.chosen if overdue_dep else None,
        },
    }


def train_models(
    k: Knowledge,
    *,
    categorical: list[str],
    test_share: float = 0.3,
    with_overdue: bool = True,
) -> TrainedModel:
    """Return both models trained and evaluated on what ``k`` knew (see the package notes).

    The boostings fit and predict on one OpenMP thread: on a shared 2-core host two threads
    wait on each other (a 200,000-row fit took several times longer with a busy second core),
    and one thread gives the same trees (its histograms and splits are summed the same way).

    Raises
    ------
    ModelError
        Too few rows with a known outcome, or only one class.
    """
    with threadpool_limits(1, user_api="openmp"):
        return _train_models(k, categorical, test_share, with_overdue)


def _train_models(
    k: Knowledge, categorical: list[str], test_share: float, with_overdue: bool
) -> TrainedModel:
    late_eval, late_dep = _split_and_train(
        k, late_rows, test_share, LATE_FEATURES, categorical, BASELINES["late"]
    )
    reference, window = training_reference(
        k, [f for f in LATE_FEATURES if f not in CALENDAR_FEATURES], categorical
    )
    late_dep = replace(late_dep, drift_reference=reference, drift_window=window)
    overdue_eval = overdue_dep = None
    if with_overdue:
        overdue_eval, overdue_dep = _train_overdue(k, categorical, test_share)
    bundle = ModelBundle(
        format=BUNDLE_FORMAT,
        feature_version=FEATURE_VERSION,
        package_version=__version__,
        trained_as_of=iso_date(k.T),
        grace_days=int(k.grace_days),
        horizon_days=HORIZON_DAYS,
        late_features=LATE_FEATURES,
        overdue_features=OVERDUE_FEATURES,
        categorical=list(categorical),
        late=late_dep,
        overdue=overdue_dep,
        metrics=_metrics(k, late_eval, overdue_eval, late_dep, overdue_dep),
    )
    return TrainedModel(bundle)
