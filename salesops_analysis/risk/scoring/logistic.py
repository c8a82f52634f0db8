"""A calibrated scaled, one-hot logistic regression pipeline as one slope per numeric column and
one coefficient table per categorical column (see :mod:`salesops_analysis.risk.scoring`)."""

from __future__ import annotations

import numpy as np

from .common import PROBE_ROWS, NotThisKind, calibrated_estimator, calibrated_probability

__all__ = ["LOGISTIC_BLOCK", "LOGISTIC_TOLERANCE", "CompiledLogistic"]

#: Rows per block of the logistic regression (its few operations per column gain nothing from
#: the CPU cache; larger blocks only cost memory).
LOGISTIC_BLOCK = 131_072
#: Largest difference from scikit-learn's probability a compiled logistic regression may make
#: on the probe rows.
LOGISTIC_TOLERANCE = 1e-12


class CompiledLogistic:
    """A calibrated scaled, one-hot logistic regression pipeline (``prep`` = a
    ``ColumnTransformer`` of a ``StandardScaler`` and a ``OneHotEncoder``, then ``model``) as
    one slope per numeric column and one coefficient table per categorical column.

    Build it with :func:`compiled_model`, which checks it against scikit-learn first.
    """

    def __init__(self, calibrated, n_codes: dict[int, int]) -> None:
        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        pipe, self.calibrators = calibrated_estimator(calibrated)
        if not isinstance(pipe, Pipeline) or len(pipe.steps) != 2:
            raise NotThisKind("not a two-step pipeline")
        prep, lr = pipe.steps[0][1], pipe.steps[1][1]
        if not isinstance(prep, ColumnTransformer) or not isinstance(lr, LogisticRegression):
            raise NotThisKind("not a column transformer and a logistic regression")
        if lr.coef_.shape[0] != 1 or prep.remainder != "drop":
            raise ValueError("not a binary logistic regression of the transformed columns")
        coef = lr.coef_[0].astype(np.float64)
        self.intercept = float(lr.intercept_[0])
        self.n_features = int(prep.n_features_in_)
        self.numeric: list[tuple[int, float, float, float]] = []  # column, mean, scale, coef
        self.tables: list[tuple[int, np.ndarray]] = []  # column, coefficient per code + 1
        offset = 0
        for name, transformer, columns in prep.transformers_:
            if transformer == "drop" or name == "remainder":
                continue
            columns = [int(c) for c in columns]
            if isinstance(transformer, StandardScaler):
                mean = transformer.mean_ if transformer.with_mean else np.zeros(len(columns))
                scale = transformer.scale_ if transformer.with_std else np.ones(len(columns))
                for j, c in enumerate(columns):
                    self.numeric.append((c, float(mean[j]), float(scale[j]), coef[offset + j]))
                offset += len(columns)
            elif isinstance(transformer, OneHotEncoder):
                if transformer.drop_idx_ is not None or transformer.handle_unknown != "ignore":
                    raise ValueError("one-hot encoding with dropped or erroring categories")
                for c, values in zip(columns, transformer.categories_, strict=True):
                    # code -1 (and any code not among the encoder's values): no column, 0
                    table = np.zeros(n_codes[c] + 1)
                    for k, value in enumerate(values):
                        code = int(value)
                        if code != value or not 0 <= code < n_codes[c]:
                            raise ValueError("one-hot categories are not model-input codes")
                        table[code + 1] = coef[offset + k]
                    self.tables.append((c, table))
                    offset += len(values)
            else:
                raise ValueError(f"unexpected transformer {type(transformer).__name__}")
        if offset != len(coef) or {c for c, _ in self.tables} != set(n_codes):
            raise ValueError("the pipeline's columns differ from the model input")
        self.n_codes = dict(n_codes)

    def decision_function(self, columns: list[np.ndarray], rows: np.ndarray | None = None):
        """Return the logistic regression's log-odds for the rows of the model-input
        ``columns`` (or their positions ``rows``)."""
        n = len(columns[0]) if rows is None else len(rows)
        out = np.empty(n)
        for start in range(0, n, LOGISTIC_BLOCK):
            stop = min(start + LOGISTIC_BLOCK, n)
            these = slice(start, stop) if rows is None else rows[start:stop]
            block = out[start:stop]
            block[:] = self.intercept
            for column, mean, scale, coef in self.numeric:
                # as the scaler: (x - mean) / scale, then times the coefficient
                z = columns[column][these] - mean
                z /= scale
                z *= coef
                block += z
            for column, table in self.tables:
                codes = np.asarray(columns[column][these], dtype=np.intp) + 1
                block += table.take(codes)
        return out

    def predict_proba(self, columns: list[np.ndarray], rows: np.ndarray | None = None):
        """Return the calibrated P(class 1), within :data:`LOGISTIC_TOLERANCE` of
        ``predict_proba(...)[:, 1]``."""
        return calibrated_probability(self.calibrators, self.decision_function(columns, rows))

    def probe(self, n_rows: int = PROBE_ROWS, seed: int = 0) -> list[np.ndarray]:
        """Return model-input columns of ``n_rows`` rows: numeric values spread over a few
        scales around each column's mean, every code -1..n-1."""
        rng = np.random.default_rng(seed)
        columns: list[np.ndarray] = [np.zeros(0)] * self.n_features
        for column, mean, scale, _ in self.numeric:
            columns[column] = mean + scale * rng.normal(0, 3, n_rows)
        for column, _ in self.tables:
            columns[column] = rng.integers(-1, self.n_codes[column], n_rows)
        return columns
