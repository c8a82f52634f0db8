"""The model input: categorical values as codes, and the float matrix every pipeline reads.

Every pipeline takes one float matrix (:func:`design_matrix`): the numeric features, then each
categorical feature as its position in the values seen when fitting (-1 for a value never
seen: the logistic regression gives it no one-hot column, the boosting treats it as missing).
Encoding here rather than inside the pipeline keeps text out of scikit-learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CategoryCodes", "block_rows", "category_codes", "category_values", "design_matrix"]


def category_codes(values: pd.Series, vocabulary) -> np.ndarray:
    """Return each value's position in ``vocabulary`` (-1 for a value not in it, or missing).

    Examples
    --------
    >>> import pandas as pd
    >>> category_codes(pd.Series(["b", "z", None, "a"]), ["a", "b"]).tolist()
    [1, -1, -1, 0]
    """
    codes = pc.index_in(
        pa.array(values.astype("str"), from_pandas=True),
        value_set=pa.array([str(v) for v in vocabulary], type=pa.string()),
        skip_nulls=True,
    )
    return codes.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


class CategoryCodes:
    """:func:`category_codes` of a feature table's columns, each computed once per vocabulary
    (a bundle's models and explainers usually share theirs).

    Call it as ``codes(name, vocabulary)``: the codes of column ``name`` of ``X``.
    """

    def __init__(self, X: pd.DataFrame) -> None:
        self.X = X
        self._done: dict[tuple, np.ndarray] = {}

    def __call__(self, name: str, vocabulary) -> np.ndarray:
        """Return the codes of column ``name`` in ``vocabulary`` (computed once)."""
        key = (name, tuple(str(v) for v in vocabulary))
        if key not in self._done:
            self._done[key] = category_codes(self.X[name], vocabulary)
        return self._done[key]


def category_values(X: pd.DataFrame, categorical: list[str]) -> list[list[str]]:
    """Return each categorical column's values seen in ``X``, sorted: the codes of
    :func:`design_matrix` are positions in these lists."""
    return [sorted(X[c].astype("str").unique().tolist()) for c in categorical]


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


def block_rows(rows: np.ndarray | None, start: int, stop: int):
    """Return what selects block ``start:stop`` of the scored rows from a full-length column
    (``rows``: the scored row positions, ``None`` for every row in order)."""
    return slice(start, stop) if rows is None else rows[start:stop]
