"""The saved models, evaluated as whole-column array code instead of through scikit-learn.

Scoring a million invoices spends most of its model time in scikit-learn's per-call machinery
and, for the boosted overdue model, in its tree walk. The same fitted models are evaluated here
on the model-input columns directly, and give the same probabilities.

Boosting (``CompiledBoosting``)
    scikit-learn's ``HistGradientBoostingClassifier`` walks each row down each tree one node at
    a time: a data-dependent branch per node, per row, per tree. For the shallow trees of the
    overdue model (50 trees of depth 3) that walk costs 1.2–1.8 s for 936k rows on 2 cores, with
    the per-block preprocessing. Here the trees are evaluated level by level instead: at each
    level every node's test is one comparison over a block of rows (a categorical test is one
    lookup), and boolean masks carry each row to its child. The leaf values are added in
    scikit-learn's order, so the raw scores are **bit for bit** those of ``decision_function``,
    and the calibrated probabilities those of ``predict_proba``.
Logistic regression (``CompiledLogistic``)
    The scaled, one-hot pipeline is one slope per numeric column and one coefficient per
    category code. The sum runs in another order than scikit-learn's matrix product, so the
    probabilities agree to within :data:`LOGISTIC_TOLERANCE`, not bit for bit.

This reads fitted attributes that scikit-learn does not promise to keep (``_predictors``,
``_baseline_prediction``, ``_preprocessor``, ``_bin_mapper`` of the boosting). So nothing is
trusted blindly: :func:`compiled_model` checks every compiled model against ``predict_proba`` on
probe rows (for the boosting: rows that take every side of every split), and returns ``None``
(scikit-learn scores as before) for anything it cannot compile or reproduce. That fallback is
never silent: it warns (:class:`ScoringFallbackWarning`) once per process and reason, naming
the reason, since a scikit-learn upgrade that renamed one of those attributes would otherwise
only make scoring several times slower.
"""

from __future__ import annotations

import threading
import warnings
import weakref

import numpy as np

from .boosting import MAX_DEPTH, TREE_BLOCK, CompiledBoosting
from .common import PROBE_ROWS, NotThisKind
from .logistic import LOGISTIC_BLOCK, LOGISTIC_TOLERANCE, CompiledLogistic

__all__ = [
    "LOGISTIC_BLOCK",
    "LOGISTIC_TOLERANCE",
    "MAX_DEPTH",
    "PROBE_ROWS",
    "TREE_BLOCK",
    "CompiledBoosting",
    "CompiledLogistic",
    "NotThisKind",
    "ScoringFallbackWarning",
    "compiled_model",
]

_NOT_COMPILED = object()
_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: The fallback reasons already warned about in this process.
_warned: set[tuple[str, ...]] = set()
_warned_lock = threading.Lock()


class ScoringFallbackWarning(UserWarning):
    """A fitted model is scored through scikit-learn instead of its compiled form (same
    probabilities, several times slower); the message names the reason."""


def _probe_failure(candidate, model, tolerance: float) -> str | None:
    """Return why ``candidate`` does not reproduce ``model.predict_proba`` on its probe rows
    (exactly, or within ``tolerance`` if positive), or ``None`` if it does."""
    columns = candidate.probe()
    matrix = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    expected = model.predict_proba(matrix)[:, 1]
    got = candidate.predict_proba(columns)
    if got.shape != expected.shape:
        return f"it gives {got.shape} probabilities for {expected.shape} rows"
    if np.array_equal(got, expected):
        return None
    diff = float(np.max(np.abs(got - expected), initial=0))
    if tolerance > 0 and diff <= tolerance:
        return None
    return f"its probabilities differ from predict_proba by up to {diff:.3g} on the probe rows"


def _warn_fallback(model, failures: list[tuple[str, str, str]]) -> None:
    """Warn, once per process and reason, that ``model`` is scored through scikit-learn.

    ``failures``: (compiled kind, reason, the reason's key without run-to-run numbers) of each
    compiled form that applied to the model's kind; none: the model is of another kind."""
    if failures:
        key = tuple(f"{kind}: {k}" for kind, _, k in failures)
        reason = "; ".join(f"{kind}: {why}" for kind, why, _ in failures)
    else:
        key = (f"not compiled: {type(model).__name__}",)
        reason = (
            "not a calibrated boosting or logistic regression pipeline, nor a plain boosting, "
            "that this module compiles"
        )
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(
        f"scoring {type(model).__name__} through scikit-learn (the same probabilities, several "
        f"times slower) because its compiled form cannot be used: {reason}",
        ScoringFallbackWarning,
        stacklevel=3,
    )


def compiled_model(model, n_codes: dict[int, int]) -> CompiledBoosting | CompiledLogistic | None:
    """Return ``model`` (a fitted binary ``CalibratedClassifierCV``, usually of a frozen
    ``HistGradientBoostingClassifier`` or logistic regression pipeline, or a binary
    ``HistGradientBoostingClassifier`` of its own, such as the cash-timing hazards) compiled to
    array code, or ``None`` when it is another kind of model or its compiled form does not
    reproduce its ``predict_proba`` on the compiled form's probe rows (exactly for a boosting,
    within :data:`LOGISTIC_TOLERANCE` for a logistic regression). The answer is remembered per
    model object.

    ``None`` (the caller then scores through scikit-learn) comes with a
    :class:`ScoringFallbackWarning` naming the reason, once per process and reason.

    ``n_codes`` maps each categorical model-input column to its number of codes (values seen
    in training; code -1 is a value never seen).
    """
    try:
        known = _compiled.get(model, None)
    except TypeError:  # not weak-referenceable
        known = None
    if known is not None:
        return None if known is _NOT_COMPILED else known
    compiled = None
    failures: list[tuple[str, str, str]] = []
    for kind, tolerance in ((CompiledBoosting, 0.0), (CompiledLogistic, LOGISTIC_TOLERANCE)):
        try:
            candidate = kind(model, n_codes)
            why = _probe_failure(candidate, model, tolerance)
        except NotThisKind:
            continue
        except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
            text = f"{type(exc).__name__}: {exc}"
            failures.append((kind.__name__, text, text))
            continue
        if why is None:
            compiled = candidate
            break
        failures.append((kind.__name__, why, why.split(" by up to ")[0]))
    if compiled is None:
        _warn_fallback(model, failures)
    try:
        _compiled[model] = _NOT_COMPILED if compiled is None else compiled
    except TypeError:
        pass
    return compiled
