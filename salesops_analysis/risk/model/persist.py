"""Saving, loading and finding the trained models.

A model is saved as ``late_payment_<as-of>.skops`` (the bundle as a plain dict, loaded with an
explicit list of trusted types), ``….card.md`` and ``….metrics.json``. :func:`find_saved` is
the one discovery rule for every kind of saved model: the newest file of a prefix trained on or
before a day that this version can load.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from ..._errors import ModelError
from .bundle import (
    BUNDLE_FORMAT,
    FEATURE_VERSION,
    LATE_FEATURES,
    OVERDUE_FEATURES,
    ModelBundle,
    TrainedModel,
)

__all__ = [
    "MODEL_PREFIX",
    "TRUSTED_TYPES",
    "find_model",
    "find_saved",
    "jsonable",
    "latest_model",
    "load_model",
    "save_model",
]

#: File-name prefix of a saved late-payment model: ``late_payment_<as-of>.skops``.
MODEL_PREFIX = "late_payment_"
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

Loaded = TypeVar("Loaded")


def jsonable(x):
    """Return ``x`` (nested dicts, lists, tuples, numpy scalars, dates) as plain JSON values:
    non-finite floats become ``None``, dates ISO strings.

    Examples
    --------
    >>> import datetime as dt, numpy as np
    >>> jsonable({"a": (np.int64(1), float("nan")), "d": dt.date(2025, 6, 30)})
    {'a': [1, None], 'd': '2025-06-30'}
    """
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    if isinstance(x, dt.date):
        return x.isoformat()
    return x


def save_model(model: TrainedModel, out: str | Path) -> dict[str, Path]:
    """Write ``late_payment_<as-of>.skops``, ``….card.md`` and ``….metrics.json`` into ``out``
    and return their paths (keys ``model``, ``card``, ``metrics``)."""
    from ..._skops import skops_io
    from ..card import model_card

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{MODEL_PREFIX}{model.as_of}"
    paths = {
        "model": out / f"{stem}.skops",
        "card": out / f"{stem}.card.md",
        "metrics": out / f"{stem}.metrics.json",
    }
    tmp = paths["model"].with_suffix(".skops.tmp")
    skops_io().dump(model.bundle.to_dict(), tmp)
    tmp.replace(paths["model"])
    paths["metrics"].write_text(json.dumps(jsonable(model.metrics), indent=1) + "\n")
    paths["card"].write_text(model_card(model, paths["model"].name))
    return paths


def _check_version(path: Path, bundle: dict) -> None:
    """Raise ``ModelError`` unless the saved ``bundle`` was trained on this version's features."""
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


def load_model(path: str | Path) -> TrainedModel:
    """Return a saved model, loaded with an explicit list of trusted types.

    Raises
    ------
    ModelError
        Missing or unreadable file, a type outside the trusted list, or a model whose features
        do not match this version of the code (retrain with ``salesops train``).
    """
    from ..._skops import skops_io

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
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise ModelError(f"{path}: not a salesops late-payment model")
    _check_version(path, bundle)
    try:
        return TrainedModel(ModelBundle.from_dict(bundle))
    except ModelError as exc:
        raise ModelError(f"{path}: {exc}") from None


def find_saved(
    models_dir: str | Path, as_of, prefix: str, load: Callable[[Path], Loaded]
) -> tuple[Path, Loaded] | None:
    """Return the newest ``<prefix><date>.skops`` in ``models_dir`` with ``date`` on or before
    ``as_of`` that ``load`` loads (a ``ModelError`` from ``load``, e.g. a model of an older
    feature set, skips to the next older one), with what ``load`` returned; ``None`` if none.

    Examples
    --------
    The late-payment models (:func:`find_model`), and the cash-timing models::

        find_saved(models_dir, as_of, "cash_timing_", load_timing)
    """
    folder = Path(models_dir)
    if not folder.is_dir():
        return None
    limit = pd.Timestamp(as_of).normalize()
    found = []
    for path in folder.glob(f"{prefix}*.skops"):
        try:
            trained = pd.Timestamp(path.stem.removeprefix(prefix))
        except ValueError:
            continue
        if trained <= limit:
            found.append((trained, path))
    for _, path in sorted(found, reverse=True):
        try:
            return path, load(path)
        except ModelError:
            continue  # e.g. trained by an older feature set: skip, an older one may fit
    return None


def find_model(models_dir: str | Path, as_of) -> tuple[Path, TrainedModel] | None:
    """Return the newest ``late_payment_<date>.skops`` in ``models_dir`` trained on or before
    ``as_of`` that this version can load (with the loaded model), or ``None``."""
    return find_saved(models_dir, as_of, MODEL_PREFIX, load_model)


def latest_model(models_dir: str | Path, as_of) -> Path | None:
    """Return the path :func:`find_model` would use, or ``None``."""
    found = find_model(models_dir, as_of)
    return found[0] if found else None
