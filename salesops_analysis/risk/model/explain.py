"""Reasons behind a score: a logistic regression's log-odds split into per-feature
contributions (positive = raises the risk), without building the one-hot matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .bundle import LinearExplainer
from .encoding import CategoryCodes, block_rows, design_matrix

__all__ = ["Contributions", "contribution_matrix", "contributions", "linear_explainer"]


def linear_explainer(
    pipe: Pipeline, X: pd.DataFrame, numeric: list[str], categories: dict[str, list]
) -> LinearExplainer:
    """Return what is needed to split the fitted logistic pipeline ``pipe``'s score into
    per-feature contributions (``X``: its fitting rows, for the mean transformed row)."""
    prep, lr = pipe.named_steps["prep"], pipe.named_steps["model"]
    Xt = prep.transform(design_matrix(X, numeric, categories))
    source = list(numeric) + [name for name, values in categories.items() for _ in values]
    return LinearExplainer(
        coef=lr.coef_[0].astype(float),
        mean=Xt.mean(axis=0).astype(float),
        source=source,
        numeric=list(numeric),
        categories=categories,
        features=list(numeric) + list(categories),
        prep=prep,
    )


class Contributions:
    """Per-feature logit contributions of a logistic explainer for the rows of ``X`` (or its
    row positions ``rows``), filled one block of rows at a time (see
    :func:`contribution_matrix`).

    Parameters
    ----------
    explainer : LinearExplainer
        The model's explainer.
    X : pandas.DataFrame
        The feature table.
    rows : numpy.ndarray, optional
        Row positions of ``X`` to explain, in that order (default: every row).
    codes : CategoryCodes, optional
        Category codes of ``X`` shared with other calls.

    Attributes
    ----------
    names : list of str
        The features, in the order :meth:`fill` writes them.
    """

    def __init__(
        self,
        explainer: LinearExplainer,
        X: pd.DataFrame,
        rows: np.ndarray | None = None,
        codes: CategoryCodes | None = None,
    ) -> None:
        self.rows = rows
        codes = codes or CategoryCodes(X)
        coef, mean = explainer.coef, explainer.mean
        numeric, categories = explainer.numeric, explainer.categories
        scaler = explainer.prep.named_transformers_["num"]
        self.names = list(numeric) + list(categories)
        # numeric: ((x - mu) / scale - mean) * coef = x * slope + intercept
        self.linear = []
        for j, name in enumerate(numeric):
            slope = coef[j] / scaler.scale_[j]
            intercept = -scaler.mean_[j] * slope - mean[j] * coef[j]
            self.linear.append((X[name].to_numpy(dtype=np.float64), slope, intercept))
        # categorical: one entry per code, the last one for a value not seen in training
        self.lookup = []
        offset = len(numeric)
        for name, values in categories.items():
            c, m = coef[offset : offset + len(values)], mean[offset : offset + len(values)]
            table = np.append(c, 0.0) - float(c @ m)
            self.lookup.append((codes(name, values), table))
            offset += len(values)

    def fill(self, start: int, stop: int, out: np.ndarray) -> None:
        """Write the contributions of rows ``start:stop`` into ``out`` (p, stop - start): one
        row per feature, so that each is written in one contiguous stretch."""
        these = block_rows(self.rows, start, stop)
        for j, (x, slope, intercept) in enumerate(self.linear):
            np.multiply(x[these], slope, out=out[j])
            out[j] += intercept
        k = len(self.linear)
        for j, (codes, table) in enumerate(self.lookup):
            np.take(table, codes[these], out=out[k + j])


def contribution_matrix(
    explainer: LinearExplainer, X: pd.DataFrame
) -> tuple[list[str], np.ndarray]:
    """Return the feature names and an (n, features) array of logit contributions (positive =
    raises the risk) for the rows of feature table ``X``.

    A scaled numeric feature contributes ``(z - mean) * coef``; a categorical one its value's
    coefficient minus the mean one-hot contribution (a value unseen in training: minus that
    mean only). This is the logistic regression's score minus its score at the mean row, split
    by feature, without building the one-hot matrix.
    """
    plan = Contributions(explainer, X)
    out = np.empty((len(plan.names), len(X)), dtype=np.float64)
    plan.fill(0, len(X), out)
    return plan.names, out.T


def contributions(explainer: LinearExplainer, X: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`contribution_matrix` as a frame with one column per feature."""
    names, values = contribution_matrix(explainer, X)
    return pd.DataFrame(values, columns=names)
