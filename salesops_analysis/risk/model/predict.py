"""Calibrated probabilities of a fitted model for the rows of a feature table.

To score, the fitted pipelines are compiled to whole-column array code
(:mod:`salesops_analysis.risk.scoring`), checked against scikit-learn's own ``predict_proba``
before use; any other model is scored by scikit-learn one cache-sized block of rows at a time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scoring import compiled_model
from .bundle import FittedModel
from .encoding import CategoryCodes, block_rows

__all__ = ["PREDICT_BLOCK", "predict_blocks", "predict_risk"]

#: Rows per prediction call. The boosted trees walk every row once per tree; a block this size
#: stays in the CPU cache from one tree to the next, which made scoring 936k rows twice as fast.
PREDICT_BLOCK = 16_384


def predict_blocks(model, M: np.ndarray) -> np.ndarray:
    """Return ``model``'s P(class 1) for the rows of matrix ``M``, in blocks of
    :data:`PREDICT_BLOCK` rows."""
    if not len(M):
        return np.zeros(0)
    return np.concatenate(
        [
            model.predict_proba(M[i : i + PREDICT_BLOCK])[:, 1]
            for i in range(0, len(M), PREDICT_BLOCK)
        ]
    )


def predict_risk(
    entry: FittedModel,
    X: pd.DataFrame,
    rows: np.ndarray | None = None,
    *,
    codes: CategoryCodes | None = None,
) -> np.ndarray:
    """Return the calibrated probability from one model of a bundle (``bundle.late`` or
    ``bundle.overdue``) for the rows of feature table ``X`` (or for its row positions
    ``rows``, in that order: the table itself is then never copied).

    Our two kinds of model are evaluated by their
    :func:`~salesops_analysis.risk.scoring.compiled_model` form (the same probabilities, several
    times faster). For any other model the :func:`design_matrix` is assembled one block of rows
    at a time into a buffer that stays in the CPU cache, never whole. ``codes`` (a
    :class:`CategoryCodes` of ``X``) shares category codes between calls.
    """
    codes = codes or CategoryCodes(X)
    columns = [X[c].to_numpy(dtype=np.float64) for c in entry.numeric] + [
        codes(name, values) for name, values in entry.categories.items()
    ]
    k = len(entry.numeric)
    n_codes = {k + j: len(values) for j, values in enumerate(entry.categories.values())}
    compiled = compiled_model(entry.model, n_codes)
    if compiled is not None:
        return compiled.predict_proba(columns, rows)
    n = len(X) if rows is None else len(rows)
    out = np.zeros(n)
    block = np.empty((min(n, PREDICT_BLOCK), len(columns)), dtype=np.float64)
    for start in range(0, n, PREDICT_BLOCK):
        stop = min(start + PREDICT_BLOCK, n)
        M = block[: stop - start]
        these = block_rows(rows, start, stop)
        for j, column in enumerate(columns):
            M[:, j] = column[these]
        out[start:stop] = entry.model.predict_proba(M)[:, 1]
    return out
