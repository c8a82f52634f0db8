"""What the compiled forms share: the calibrated estimator inside a model, the calibration of
raw scores, and the probe size."""

from __future__ import annotations

import numpy as np

__all__ = ["PROBE_ROWS", "NotThisKind", "calibrated_estimator", "calibrated_probability"]

#: Rows of the probe checked against scikit-learn before a compiled model is used.
PROBE_ROWS = 4_096


class NotThisKind(ValueError):
    """The model is not of the kind a compiled form handles (e.g. a logistic regression given
    to :class:`CompiledBoosting`): no reason to warn about by itself."""


def calibrated_estimator(calibrated):
    """Return the one fitted estimator inside a binary ``CalibratedClassifierCV`` (frozen or
    not) and its calibrators; raise ``ValueError`` for anything else."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    if not isinstance(calibrated, CalibratedClassifierCV):
        raise NotThisKind(f"not a calibrated classifier: {type(calibrated).__name__}")
    if calibrated.method not in ("sigmoid", "isotonic") or len(calibrated.classes_) != 2:
        raise ValueError("not a binary sigmoid or isotonic calibration")
    inner = []
    for c in calibrated.calibrated_classifiers_:
        est = c.estimator
        inner.append(est.estimator if isinstance(est, FrozenEstimator) else est)
    if len({id(e) for e in inner}) != 1 or any(
        len(c.calibrators) != 1 for c in calibrated.calibrated_classifiers_
    ):
        raise ValueError("calibrations of different estimators")
    return inner[0], [c.calibrators[0] for c in calibrated.calibrated_classifiers_]


def calibrated_probability(calibrators, raw: np.ndarray) -> np.ndarray:
    """Return the calibrated P(class 1) of raw scores, as ``CalibratedClassifierCV`` does."""
    mean = np.zeros(len(raw))
    for calibrator in calibrators:
        p = np.asarray(calibrator.predict(raw), dtype=np.float64)
        # as scikit-learn: a probability a hair above 1 is 1
        p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0
        mean += p
    mean /= len(calibrators)
    return mean
