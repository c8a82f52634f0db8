"""Saving, loading and finding cash-timing models (``cash_timing_<date>.skops``).

A saved model is a skops file of plain types plus the scikit-learn classes listed in
:data:`TIMING_TRUSTED_TYPES` (nothing else is loaded), with the version of the timing features
it was made with: a model of another version is refused, never silently misread.
"""

from __future__ import annotations

import json
from pathlib import Path

from .._errors import ModelError
from .._skops import skops_io
from .timing import TIMING_FEATURES, TimingModel

__all__ = [
    "FORMAT",
    "TIMING_TRUSTED_TYPES",
    "TIMING_VERSION",
    "find_timing_model",
    "load_timing",
    "save_timing",
]

FORMAT = "salesops-cash-timing"
#: Version of the timing features; a saved model of another version is not used.
TIMING_VERSION = 2
#: Types beyond builtins, numpy and scipy that a saved timing model may contain.
TIMING_TRUSTED_TYPES = [
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.preprocessing._label.LabelEncoder",
]


def save_timing(model: TimingModel, out, metrics: dict | None = None) -> dict:
    """Write ``cash_timing_<as-of>.skops`` and ``….metrics.json`` (the backtest) into ``out``."""
    from .model import jsonable

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"cash_timing_{model.trained_as_of}"
    paths = {"model": out / f"{stem}.skops", "metrics": out / f"{stem}.metrics.json"}
    bundle = {
        "format": FORMAT,
        "timing_version": TIMING_VERSION,
        "trained_as_of": model.trained_as_of,
        "features": list(model.features),
        "horizon": int(model.horizon),
        "rows": int(model.rows),
        "model": model.model,
        "metrics": metrics or {},
    }
    tmp = paths["model"].with_suffix(".skops.tmp")
    skops_io().dump(bundle, tmp)
    tmp.replace(paths["model"])
    paths["metrics"].write_text(json.dumps(jsonable(metrics or {}), indent=1) + "\n")
    return paths


def load_timing(path) -> TimingModel:
    """Return a saved timing model (trusted types only).

    Raises
    ------
    ModelError
        Missing, unreadable, untrusted, or made by another version of the timing features.
    """
    sio = skops_io()
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # any unreadable file: skops raises many kinds
        raise ModelError(f"{path}: not a readable skops model ({exc})") from None
    unexpected = sorted(set(untrusted) - set(TIMING_TRUSTED_TYPES))
    if unexpected:
        raise ModelError(
            f"{path}: refusing to load types outside the trusted list: {', '.join(unexpected)}"
        )
    b = sio.load(path, trusted=TIMING_TRUSTED_TYPES)
    if not isinstance(b, dict) or b.get("format") != FORMAT:
        raise ModelError(f"{path}: not a salesops cash-timing model")
    if b.get("timing_version") != TIMING_VERSION or list(b.get("features", [])) != TIMING_FEATURES:
        raise ModelError(f"{path}: made by another version of the timing features: retrain")
    return TimingModel(
        b["model"],
        list(b["features"]),
        int(b["horizon"]),
        b["trained_as_of"],
        int(b["rows"]),
        dict(b.get("metrics") or {}),
    )


def find_timing_model(models_dir, as_of) -> tuple | None:
    """Return ``(path, model)`` of the newest loadable ``cash_timing_<date>.skops`` in
    ``models_dir`` trained on or before ``as_of``, or ``None``."""
    from .model import find_saved

    return find_saved(models_dir, as_of, "cash_timing_", load_timing)
