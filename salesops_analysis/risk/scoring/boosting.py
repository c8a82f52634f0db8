"""A binary ``HistGradientBoostingClassifier``, calibrated or not, evaluated level by level (see
the package notes of :mod:`salesops_analysis.risk.scoring`)."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from .common import PROBE_ROWS, NotThisKind, calibrated_estimator, calibrated_probability

__all__ = ["MAX_DEPTH", "TREE_BLOCK", "CompiledBoosting"]

#: Rows per block. Each level of each tree costs a few array operations whatever the block
#: size, so larger blocks spread that fixed cost; past this size the blocks leave the CPU cache
#: (measured on 936k rows: 16k rows 0.39 s, 32k 0.36 s, 64k 0.40 s, 128k 0.77 s).
TREE_BLOCK = 32_768
#: Deepest tree compiled (a row's path is kept as one byte).
MAX_DEPTH = 8


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


class CompiledBoosting:
    """A binary ``HistGradientBoostingClassifier`` as level-by-level array code: inside a
    ``CalibratedClassifierCV`` (the late-payment models), or on its own (the cash-timing
    hazards; its probability is then the logistic function of the raw score, as scikit-learn's).

    Build it with :func:`compiled_model`, which checks it against scikit-learn first.
    """

    def __init__(self, calibrated, n_codes: dict[int, int]) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        if isinstance(calibrated, HistGradientBoostingClassifier):
            hgb, self.calibrators = calibrated, None  # a plain boosting
        else:
            hgb, self.calibrators = calibrated_estimator(calibrated)
        if not isinstance(hgb, HistGradientBoostingClassifier):
            raise NotThisKind(f"not a boosting: {type(hgb).__name__}")
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
        """Return the (calibrated) P(class 1), as ``predict_proba(...)[:, 1]`` would."""
        raw = self.decision_function(columns, rows)
        if self.calibrators is None:
            return expit(raw)  # scikit-learn's binomial loss: the logistic of the raw score
        return calibrated_probability(self.calibrators, raw)

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
