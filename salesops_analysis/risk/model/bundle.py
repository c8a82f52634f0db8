"""The trained models as typed, frozen contracts: what a saved model holds and how it is read.

A :class:`TrainedModel` holds one :class:`ModelBundle`: the ``late`` and (when trained) the
``overdue`` :class:`DeployedModel`, each with the :class:`LinearExplainer` that splits its
scores into reasons, and the bundle's facts (knowledge date, grace days, features, metrics).

On disk the bundle is the plain dict it always was (:meth:`ModelBundle.to_dict`), so that
models saved before these classes existed load unchanged (:meth:`ModelBundle.from_dict`) and
skops needs no type of this package among its trusted types.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from ..._errors import ModelError
from ..features import NUMERIC_FEATURES

__all__ = [
    "BUNDLE_FORMAT",
    "FEATURE_VERSION",
    "LATE_FEATURES",
    "OVERDUE_FEATURES",
    "DeployedModel",
    "FittedModel",
    "LinearExplainer",
    "ModelBundle",
    "TrainedModel",
]

#: The ``format`` of a saved late-payment bundle.
BUNDLE_FORMAT = "salesops-late-payment"
#: Version of the features and of the model input; a saved model of another version is refused.
#: 2: categorical features reach the pipelines as codes (see "Model input" in the package notes).
FEATURE_VERSION = 2
#: The late model's numeric features (it scores invoices not yet past due: no days past due).
LATE_FEATURES = [f for f in NUMERIC_FEATURES if f != "days_past_due"]
#: The overdue model's numeric features.
OVERDUE_FEATURES = list(NUMERIC_FEATURES)


@dataclass(frozen=True, eq=False)
class LinearExplainer:
    """What splits a logistic regression's score into per-feature contributions.

    Attributes
    ----------
    coef, mean : numpy.ndarray
        The logistic regression's coefficients, and the mean of each transformed column on
        the fitting rows (one per scaled numeric feature, then one per one-hot column).
    source : list of str
        The feature each transformed column comes from.
    numeric : list of str
        The numeric features, in model-input order.
    categories : dict
        Categorical feature -> the values seen when fitting (model-input codes are positions).
    features : list of str
        ``numeric`` then the categorical features.
    prep : sklearn.compose.ColumnTransformer
        The fitted scaling and one-hot step (its ``"num"`` scaler is read).
    """

    coef: np.ndarray
    mean: np.ndarray
    source: list[str]
    numeric: list[str]
    categories: dict[str, list]
    features: list[str]
    prep: Any

    def to_dict(self) -> dict:
        """Return the explainer as the plain dict a saved bundle holds."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, eq=False)
class FittedModel:
    """A fitted, calibrated classifier and the model input it reads
    (:func:`~salesops_analysis.risk.model.design_matrix` of ``numeric`` and ``categories``).

    Attributes
    ----------
    model : sklearn.calibration.CalibratedClassifierCV
        Its ``predict_proba(M)[:, 1]`` is the calibrated probability.
    numeric : list of str
        The numeric features, in model-input order.
    categories : dict
        Categorical feature -> the values seen when fitting.
    """

    model: Any
    numeric: list[str]
    categories: dict[str, list]

    @property
    def columns(self) -> list[str]:
        """Return the features the model reads: ``numeric`` then the categorical ones."""
        return [*self.numeric, *self.categories]


@dataclass(frozen=True, eq=False)
class DeployedModel(FittedModel):
    """One kind of model (``late`` or ``overdue``) as deployed: fitted on every row decided at
    the knowledge date, with its explainer and how it was chosen.

    Attributes
    ----------
    chosen : str
        The candidate (or baseline) deployed, e.g. ``"logistic_regression_compact"``.
    deployed : str
        ``"model"``, or ``"baseline"`` when no candidate beat the baseline on validation.
    explainer : LinearExplainer
        Splits the scores into reasons (a logistic regression's; the baseline's own).
    fit_rows, calibration_rows : int
        Rows it was fit and calibrated on.
    validation_roc_auc : dict
        Candidate -> its validation ROC AUC.
    sample : dict
        How the fit and calibration rows were sampled.
    drift_reference, drift_window : dict or None
        The late model's drift reference and the invoices it describes (``None`` for the
        overdue model).
    """

    chosen: str
    deployed: str
    explainer: LinearExplainer
    fit_rows: int
    calibration_rows: int
    validation_roc_auc: dict
    sample: dict
    drift_reference: dict | None = None
    drift_window: dict | None = None

    def to_dict(self) -> dict:
        """Return the model as the plain dict a saved bundle holds (the key order and keys of
        the bundles saved before these classes existed)."""
        out = {
            "model": self.model,
            "columns": self.columns,
            "numeric": self.numeric,
            "categories": self.categories,
            "chosen": self.chosen,
            "deployed": self.deployed,
            "explainer": self.explainer.to_dict(),
            "fit_rows": self.fit_rows,
            "calibration_rows": self.calibration_rows,
            "validation_roc_auc": self.validation_roc_auc,
            "sample": self.sample,
        }
        if self.drift_reference is not None:
            out["drift_reference"] = self.drift_reference
            out["drift_window"] = self.drift_window
        return out

    @classmethod
    def from_dict(cls, d: dict) -> DeployedModel:
        """Return the model of a saved bundle's ``late`` or ``overdue`` dict.

        Raises
        ------
        KeyError
            A key the model cannot be scored or explained without is missing.
        """
        explainer = {f.name: d["explainer"][f.name] for f in fields(LinearExplainer)}
        return cls(
            model=d["model"],
            numeric=list(d["numeric"]),
            categories=dict(d["categories"]),
            chosen=d.get("chosen", ""),
            deployed=d.get("deployed", "model"),
            explainer=LinearExplainer(**explainer),
            fit_rows=int(d.get("fit_rows", 0)),
            calibration_rows=int(d.get("calibration_rows", 0)),
            validation_roc_auc=d.get("validation_roc_auc") or {},
            sample=d.get("sample") or {},
            drift_reference=d.get("drift_reference"),
            drift_window=d.get("drift_window"),
        )


@dataclass(frozen=True, eq=False)
class ModelBundle:
    """What a saved late-payment model holds.

    Attributes
    ----------
    format : str
        :data:`BUNDLE_FORMAT`.
    feature_version : int
        :data:`FEATURE_VERSION` of the code that trained it.
    package_version : str
        The salesops-analysis version that trained it.
    trained_as_of : str
        The knowledge date (ISO).
    grace_days, horizon_days : int
        Days after due that still count as on time; the overdue model's horizon.
    late_features, overdue_features : list of str
        The numeric features of each model.
    categorical : list of str
        The categorical features (from the configuration).
    late : DeployedModel
        Scores invoices not yet past due + grace.
    overdue : DeployedModel or None
        Scores invoices already past due + grace (``None``: not trained).
    metrics : dict
        The evaluation (the ``….metrics.json`` content).
    """

    format: str
    feature_version: int
    package_version: str
    trained_as_of: str
    grace_days: int
    horizon_days: int
    late_features: list[str]
    overdue_features: list[str]
    categorical: list[str]
    late: DeployedModel
    overdue: DeployedModel | None
    metrics: dict

    def to_dict(self) -> dict:
        """Return the bundle as the plain dict that is saved."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["late"] = self.late.to_dict()
        out["overdue"] = self.overdue.to_dict() if self.overdue is not None else None
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ModelBundle:
        """Return the bundle of a saved dict (as every saved model holds, before and after
        these classes existed).

        Raises
        ------
        ModelError
            A key the bundle cannot be used without is missing.
        """
        try:
            values = {f.name: d[f.name] for f in fields(cls)}
            values["late"] = DeployedModel.from_dict(d["late"])
            if d["overdue"] is not None:
                values["overdue"] = DeployedModel.from_dict(d["overdue"])
        except (KeyError, TypeError) as exc:
            raise ModelError(f"not a complete late-payment model (missing {exc})") from None
        return cls(**values)

    def with_late(self, **changes) -> ModelBundle:
        """Return the bundle with fields of its ``late`` model replaced."""
        return replace(self, late=replace(self.late, **changes))


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """The saved bundle: both calibrated models, their explainers, drift reference, metrics.

    ``bundle`` may be given as the plain dict a saved model holds; it is converted.
    """

    bundle: ModelBundle

    def __post_init__(self) -> None:
        if isinstance(self.bundle, dict):
            object.__setattr__(self, "bundle", ModelBundle.from_dict(self.bundle))

    @property
    def metrics(self) -> dict:
        """Return the evaluation metrics (the ``…metrics.json`` content)."""
        return self.bundle.metrics

    @property
    def as_of(self) -> str:
        """Return the knowledge date the model was trained at."""
        return self.bundle.trained_as_of

    @property
    def deployed_baseline(self) -> bool:
        """Return whether the late score is the calibrated customer's late share (no model
        beat it on validation)."""
        return self.bundle.metrics.get("deployed") == "baseline"

    @property
    def deployment_note(self) -> str | None:
        """Return the sentence saying which score deploys a baseline, or ``None`` if none."""
        return self.bundle.metrics.get("deployment_note")
