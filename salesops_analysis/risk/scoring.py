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
(scikit-learn scores as before) for anything it cannot compile or reproduce.
"""

from __future__ import annotations

import weakref

import numpy as np

__all__ = [
    "LOGISTIC_TOLERANCE",
    "TREE_BLOCK",
    "CompiledBoosting",
    "CompiledLogistic",
    "compiled_model",
]

#: Rows per block. Each level of each tree costs a few array operations whatever the block
#: size, so larger blocks spread that fixed cost; past this size the blocks leave the CPU cache
#: (measured on 936k rows: 16k rows 0.39 s, 32k 0.36 s, 64k 0.40 s, 128k 0.77 s).
TREE_BLOCK = 32_768
#: Deepest tree compiled (a row's path is kept as one byte).
MAX_DEPTH = 8
#: Rows of the probe checked against scikit-learn before a compiled model is used.
PROBE_ROWS = 4_096
#: Rows per block of the logistic regression (its few operations per column gain nothing from
#: the CPU cache; larger blocks only cost memory).
LOGISTIC_BLOCK = 131_072
#: Largest difference from scikit-learn's probability a compiled logistic regression may make
#: on the probe rows.
LOGISTIC_TOLERANCE = 1e-12

_NOT_COMPILED = object()
_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Split:
    """One internal node: a numeric test ``x <= threshold`` (NaN goes the missing side) or a
    categorical one (``left[code + 1]``, code -1 = a value not seen in training)."""

    __slots__ = ("column", "left", "missing_left", "threshold")

    def __init__(self, column: int, threshold=None, missing_left=False, left=None) -> None:
        self.column = column
        self.threshold = threshold
        self.missing_left = missing_left
        self.left = left


class _Tree:
    """A tree padded to full depth: ``levels[d]`` holds the ``2**d`` splits of level ``d``
    (``None`` where a leaf was reached earlier: its rows all go left), ``leaves[path]`` the leaf
    value of the path whose bit is 1 where the row went left (first level = highest bit)."""

    __slots__ = ("leaves", "levels")

    def __init__(self, levels: list[list[_Split | None]], leaves: np.ndarray) -> None:
        self.levels = levels
        self.leaves = leaves


def _in_bitset(bitset: np.ndarray, value: int) -> bool:
    return bool((int(bitset[value // 32]) >> (value % 32)) & 1)


def _compile_tree(predictor, order, encoded, known, f_idx_map) -> _Tree:
    """Return the :class:`_Tree` of one scikit-learn ``TreePredictor``.

    ``order[f]`` is the model-input column of the predictor's feature ``f``; ``encoded[column]``
    what scikit-learn's own category encoder makes of codes -1..n-1 of a categorical column.
    """
    nodes = predictor.nodes
    left_bitsets = predictor.raw_left_cat_bitsets

    def depth(i: int) -> int:
        node = nodes[i]
        return 0 if node["is_leaf"] else 1 + max(depth(node["left"]), depth(node["right"]))

    n_levels = depth(0)
    if n_levels > MAX_DEPTH:
        raise ValueError(f"tree of depth {n_levels}")
    levels: list[list[_Split | None]] = [[None] * (1 << d) for d in range(n_levels)]
    leaves = np.zeros(1 << n_levels)

    def visit(i: int, d: int, pos: int) -> None:
        # pos: the path so far, bit 0 = went left
        node = nodes[i]
        if node["is_leaf"]:
            # every padded path below this leaf ends at it
            width = n_levels - d
            for rest in range(1 << width):
                leaves[(pos << width) | rest] = node["value"]
            return
        f = int(node["feature_idx"])
        column = int(order[f])
        missing_left = bool(node["missing_go_to_left"])
        if node["is_categorical"]:
            # scikit-learn: NaN or negative -> missing side; in the left bitset -> left; a
            # known category -> right; an unknown one -> missing side
            left = np.empty(len(encoded[column]), dtype=bool)
            for k, value in enumerate(encoded[column]):
                if np.isnan(value) or value < 0:
                    left[k] = missing_left
                elif _in_bitset(left_bitsets[node["bitset_idx"]], int(value)):
                    left[k] = True
                elif _in_bitset(known[f_idx_map[f]], int(value)):
                    left[k] = False
                else:
                    left[k] = missing_left
            split = _Split(column, missing_left=missing_left, left=left)
        else:
            split = _Split(column, float(node["num_threshold"]), missing_left)
        levels[d][pos] = split
        visit(int(node["left"]), d + 1, 2 * pos)
        visit(int(node["right"]), d + 1, 2 * pos + 1)

    visit(0, 0, 0)
    # stored paths count a left turn as 0; evaluation sets the bit where the row went left
    flip = (1 << n_levels) - 1
    return _Tree(levels, leaves[flip - np.arange(1 << n_levels)])


def _choose(went_left: np.ndarray, went_right: np.ndarray, a, b, out, tmp) -> np.ndarray:
    """``out = a where went_left else b``; ``None`` stands for all-True."""
    if a is None:
        np.copyto(out, went_left)
    else:
        np.logical_and(went_left, a, out=out)
    if b is None:
        np.logical_or(out, went_right, out=out)
    else:
        np.logical_and(went_right, b, out=tmp)
        np.logical_or(out, tmp, out=out)
    return out


def _calibrated_estimator(calibrated):
    """Return the one fitted estimator inside a binary ``CalibratedClassifierCV`` (frozen or
    not) and its calibrators; raise ``ValueError`` for anything else."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    if not isinstance(calibrated, CalibratedClassifierCV):
        raise ValueError(f"not a calibrated classifier: {type(calibrated).__name__}")
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


def _calibrate(calibrators, raw: np.ndarray) -> np.ndarray:
    """Return the calibrated P(class 1) of raw scores, as ``CalibratedClassifierCV`` does."""
    mean = np.zeros(len(raw))
    for calibrator in calibrators:
        p = np.asarray(calibrator.predict(raw), dtype=np.float64)
        # as scikit-learn: a probability a hair above 1 is 1
        p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0
        mean += p
    mean /= len(calibrators)
    return mean


class CompiledBoosting:
    """A calibrated binary ``HistGradientBoostingClassifier`` as level-by-level array code.

    Build it with :func:`compiled_model`, which checks it against scikit-learn first.
    """

    def __init__(self, calibrated, n_codes: dict[int, int]) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        hgb, self.calibrators = _calibrated_estimator(calibrated)
        if not isinstance(hgb, HistGradientBoostingClassifier):
            raise ValueError(f"not a boosting: {type(hgb).__name__}")
        if hgb.n_trees_per_iteration_ != 1:
            raise ValueError("not a binary boosting")
        n_features = hgb.n_features_in_
        is_cat = (
            np.zeros(n_features, dtype=bool)
            if hgb.is_categorical_ is None
            else np.asarray(hgb.is_categorical_, dtype=bool)
        )
        if set(np.flatnonzero(is_cat)) != set(n_codes):
            raise ValueError("categorical columns differ from the model input")
        encoded: dict[int, np.ndarray] = {}
        if hgb._preprocessor is None:
            order = np.arange(n_features)
        else:
            # scikit-learn's preprocessor puts the categorical columns first
            order = np.r_[np.flatnonzero(is_cat), np.flatnonzero(~is_cat)]
            cat_columns = list(np.flatnonzero(is_cat))
            encoder = hgb._preprocessor.named_transformers_["encoder"]
            for j, column in enumerate(cat_columns):
                probe = np.zeros((n_codes[column] + 1, len(cat_columns)))
                probe[:, j] = np.arange(-1, n_codes[column])
                encoded[column] = np.asarray(encoder.transform(probe), dtype=np.float64)[:, j]
        known, f_idx_map = hgb._bin_mapper.make_known_categories_bitsets()
        self.n_features = n_features
        self.categorical = set(n_codes)
        self.n_codes = dict(n_codes)
        self.baseline = float(np.ravel(hgb._baseline_prediction)[0])
        self.trees = [
            _compile_tree(predictor, order, encoded, known, f_idx_map)
            for (predictor,) in hgb._predictors
        ]
        self.depth = max((len(t.levels) for t in self.trees), default=0)

    # -- evaluation ---------------------------------------------------------------------------
    def decision_function(self, columns: list[np.ndarray], rows: np.ndarray | None = None):
        """Return the raw score (the boosting's ``decision_function``) for the rows of the
        model-input ``columns`` (numeric columns as floats, categorical ones as integer codes),
        or for their positions ``rows``."""
        n = len(columns[0]) if rows is None else len(rows)
        out = np.empty(n)
        for start in range(0, n, TREE_BLOCK):
            stop = min(start + TREE_BLOCK, n)
            these = slice(start, stop) if rows is None else rows[start:stop]
            self._block(columns, these, out[start:stop])
        return out

    def predict_proba(self, columns: list[np.ndarray], rows: np.ndarray | None = None):
        """Return the calibrated P(class 1), as ``predict_proba(...)[:, 1]`` would."""
        return _calibrate(self.calibrators, self.decision_function(columns, rows))

    def _block(self, columns, these, out: np.ndarray) -> None:
        n = len(out)
        values: dict[int, tuple[np.ndarray, bool]] = {}

        def test(split: _Split | None):
            if split is None:
                return None
            if split.column not in values:
                x = columns[split.column][these]
                if split.column in self.categorical:
                    values[split.column] = (np.asarray(x, dtype=np.intp) + 1, False)
                else:
                    values[split.column] = (x, bool(np.isnan(x).any()))
            x, has_nan = values[split.column]
            if split.left is not None:
                return split.left.take(x)
            went = x <= split.threshold
            if has_nan and split.missing_left:
                went |= np.isnan(x)
            return went

        out[:] = self.baseline
        went_left = [np.empty(n, dtype=bool) for _ in range(self.depth)]
        went_right = [np.empty(n, dtype=bool) for _ in range(self.depth)]
        work = [np.empty(n, dtype=bool) for _ in range(1 << max(self.depth - 1, 0))]
        tmp = np.empty(n, dtype=bool)
        path = np.empty(n, dtype=np.uint8)
        one = np.uint8(1)
        for tree in self.trees:
            for d, splits in enumerate(tree.levels):
                tests = [test(s) for s in splits]
                # the node a row is at is chosen by its turns so far, the last one first
                for k in range(d - 1, -1, -1):
                    half = len(tests) // 2
                    tests = [
                        _choose(
                            went_left[k],
                            went_right[k],
                            tests[2 * i],
                            tests[2 * i + 1],
                            work[i] if k else went_left[d],
                            tmp,
                        )
                        for i in range(half)
                    ]
                if tests[0] is None:
                    went_left[d].fill(True)
                elif tests[0] is not went_left[d]:
                    np.copyto(went_left[d], tests[0])
                np.logical_not(went_left[d], out=went_right[d])
            if not tree.levels:
                out += tree.leaves[0]
                continue
            np.copyto(path, went_left[0].view(np.uint8))
            for d in range(1, len(tree.levels)):
                np.left_shift(path, one, out=path)
                np.bitwise_or(path, went_left[d].view(np.uint8), out=path)
            out += tree.leaves.take(path)

    # -- checking -----------------------------------------------------------------------------
    def probe(self, n_rows: int = PROBE_ROWS, seed: int = 0) -> list[np.ndarray]:
        """Return model-input columns of ``n_rows`` rows that take both sides of every split:
        each numeric value is a threshold, a value just above or below one, or NaN; each code
        is drawn from -1..n-1."""
        rng = np.random.default_rng(seed)
        thresholds: dict[int, set[float]] = {j: {0.0} for j in range(self.n_features)}
        for tree in self.trees:
            for splits in tree.levels:
                for s in splits:
                    if s is not None and s.left is None:
                        thresholds[s.column].add(s.threshold)
        columns = []
        for j in range(self.n_features):
            if j in self.categorical:
                columns.append(rng.integers(-1, self.n_codes[j], n_rows))
                continue
            t = np.array(sorted(thresholds[j]))
            pool = np.r_[t, np.nextafter(t, -np.inf), np.nextafter(t, np.inf), np.nan]
            columns.append(rng.choice(pool, n_rows))
        return columns


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

        pipe, self.calibrators = _calibrated_estimator(calibrated)
        if not isinstance(pipe, Pipeline) or len(pipe.steps) != 2:
            raise ValueError("not a two-step pipeline")
        prep, lr = pipe.steps[0][1], pipe.steps[1][1]
        if not isinstance(prep, ColumnTransformer) or not isinstance(lr, LogisticRegression):
            raise ValueError("not a column transformer and a logistic regression")
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
        return _calibrate(self.calibrators, self.decision_function(columns, rows))

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


def compiled_model(model, n_codes: dict[int, int]) -> CompiledBoosting | CompiledLogistic | None:
    """Return ``model`` (a fitted binary ``CalibratedClassifierCV``, usually of a frozen
    ``HistGradientBoostingClassifier`` or logistic regression pipeline) compiled to array code,
    or ``None`` when it is another kind of model or its compiled form does not reproduce its
    ``predict_proba`` on the compiled form's probe rows (exactly for a boosting, within
    :data:`LOGISTIC_TOLERANCE` for a logistic regression). The answer is remembered per model
    object.

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
    for kind, tolerance in ((CompiledBoosting, 0.0), (CompiledLogistic, LOGISTIC_TOLERANCE)):
        try:
            candidate = kind(model, n_codes)
            columns = candidate.probe()
            matrix = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
            expected = model.predict_proba(matrix)[:, 1]
            got = candidate.predict_proba(columns)
            if got.shape == expected.shape and (
                np.array_equal(got, expected)
                or (tolerance > 0 and np.max(np.abs(got - expected), initial=0) <= tolerance)
            ):
                compiled = candidate
                break
        except (AttributeError, TypeError, ValueError, KeyError, IndexError):
            continue
    try:
        _compiled[model] = _NOT_COMPILED if compiled is None else compiled
    except TypeError:
        pass
    return compiled
