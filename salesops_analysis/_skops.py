"""skops, imported without its catalogue of every scikit-learn estimator.

When ``skops.io`` is imported, it builds its default list of trusted types from
``sklearn.utils.all_estimators()``. That call imports every scikit-learn module (about 490,
pytest among them), and skops then searches ``sys.modules`` for the module of each type. This
costs 1 to 2 s in every process that loads a model, and this package never relies on that
default: :data:`salesops_analysis.risk.model.TRUSTED_TYPES` names every type a saved model may
hold. Imported through :func:`skops_io`, the catalogue is empty, so skops trusts by default only
its other defaults (builtins, numpy, scipy, scikit-learn's loss, link and binning types).
Loading is then stricter, never looser. If ``skops.io`` was already imported the usual way, it
is used as it is.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

__all__ = ["skops_io"]

_LOCK = threading.Lock()


def _no_estimators(*args, **kwargs) -> list:
    return []


def skops_io() -> ModuleType:
    """Return ``skops.io``, importing it without the estimator catalogue if not yet loaded."""
    with _LOCK:
        if "skops.io" not in sys.modules:
            import sklearn.utils

            saved = sklearn.utils.all_estimators
            sklearn.utils.all_estimators = _no_estimators  # read once, by skops' import
            try:
                importlib.import_module("skops.io")
            finally:
                sklearn.utils.all_estimators = saved
    return sys.modules["skops.io"]
