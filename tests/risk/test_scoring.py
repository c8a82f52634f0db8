"""Compiled models give scikit-learn's probabilities (the boosting bit for bit), or are not
used."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator

from salesops_analysis.risk import model as m
from salesops_analysis.risk import scoring
from salesops_analysis.risk.model.bundle import FittedModel
from salesops_analysis.risk.model.candidates import logistic_pipeline
from salesops_analysis.risk.scoring import (
    CompiledBoosting,
    CompiledLogistic,
    ScoringFallbackWarning,
    boosting,
    compiled_model,
    logistic,
)


def _n_codes(entry: FittedModel) -> dict[int, int]:
    k = len(entry.numeric)
    return {k + j: len(v) for j, v in enumerate(entry.categories.values())}


def _synthetic(n: int, seed: int, n_codes: int = 6):
    """Two numeric columns with NaNs and one categorical column of codes (-1 = unseen)."""
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=n)
    x0[rng.random(n) < 0.1] = np.nan
    x1 = rng.integers(0, 40, n).astype(float)
    code = rng.integers(-1, n_codes, n)
    logit = np.nan_to_num(x0, nan=1.5) + 0.05 * x1 - 1 + np.where(code % 3 == 0, 1.2, -0.4)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return [x0, x1, code], y


def _fit(method: str = "sigmoid", **params) -> CalibratedClassifierCV:
    columns, y = _synthetic(4000, seed=1)
    # training sees codes 0..4 only: code 5 and -1 are unknown to the boosting
    seen = columns[2] < 5
    M = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    M[~seen, 2] = np.nan
    hgb = HistGradientBoostingClassifier(
        categorical_features=[False, False, True], random_state=0, **params
    ).fit(M[:3000], y[:3000])
    return CalibratedClassifierCV(FrozenEstimator(hgb), method=method).fit(M[3000:], y[3000:])


def _design(columns) -> np.ndarray:
    return np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])


def test_demo_overdue_model_is_compiled_and_scores_exactly(demo_model, demo_features, monkeypatch):
    entry = demo_model.bundle.overdue
    assert entry.chosen == "hist_gradient_boosting"  # else this test proves nothing
    assert isinstance(compiled_model(entry.model, _n_codes(entry)), CompiledBoosting)
    X = demo_features
    expected = entry.model.predict_proba(m.design_matrix(X, entry.numeric, entry.categories))[:, 1]
    monkeypatch.setattr(boosting, "TREE_BLOCK", 997)  # many blocks, the last one short
    np.testing.assert_array_equal(m.predict_risk(entry, X), expected)
    pick = np.random.default_rng(3).integers(0, len(X), 5000)
    np.testing.assert_array_equal(m.predict_risk(entry, X, rows=pick), expected[pick])
    assert m.predict_risk(entry, X, rows=pick[:0]).shape == (0,)


def test_probe_rows_reach_every_leaf_of_every_tree(demo_model):
    entry = demo_model.bundle.overdue
    compiled = CompiledBoosting(entry.model, _n_codes(entry))
    probe = compiled.probe()
    hgb = entry.model.calibrated_classifiers_[0].estimator.estimator
    everything = compiled.trees
    for tree, (predictor,) in zip(everything, hgb._predictors, strict=True):
        # this tree alone, each leaf valued by its path: the raw score is the path taken
        compiled.trees, compiled.baseline = [tree], 0.0
        saved = tree.leaves
        tree.leaves = np.arange(len(saved), dtype=float)
        reached = np.unique(compiled.decision_function(probe))
        tree.leaves = saved
        assert len(reached) == int(predictor.nodes["is_leaf"].sum())
    compiled.trees = everything


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_irregular_trees_missing_values_and_unknown_categories(method):
    model = _fit(method, max_leaf_nodes=13, max_depth=6, max_iter=30)
    compiled = compiled_model(model, {2: 6})
    assert compiled is not None
    assert len({len(t.levels) for t in compiled.trees}) > 1  # trees of different depths
    columns, _ = _synthetic(20_000, seed=7)
    expected = model.predict_proba(_design(columns))[:, 1]
    np.testing.assert_array_equal(compiled.predict_proba(columns), expected)
    rows = np.random.default_rng(0).permutation(20_000)[:7000]
    np.testing.assert_array_equal(compiled.predict_proba(columns, rows), expected[rows])


def test_demo_late_model_is_compiled_within_tolerance(demo_model, demo_features, monkeypatch):
    entry = demo_model.bundle.late
    assert entry.chosen == "logistic_regression"  # else this test proves nothing
    assert isinstance(compiled_model(entry.model, _n_codes(entry)), CompiledLogistic)
    X = demo_features
    expected = entry.model.predict_proba(m.design_matrix(X, entry.numeric, entry.categories))[:, 1]
    monkeypatch.setattr(logistic, "LOGISTIC_BLOCK", 997)
    tolerance = scoring.LOGISTIC_TOLERANCE
    np.testing.assert_allclose(m.predict_risk(entry, X), expected, rtol=0, atol=tolerance)
    pick = np.random.default_rng(4).integers(0, len(X), 5000)
    np.testing.assert_allclose(
        m.predict_risk(entry, X, rows=pick), expected[pick], rtol=0, atol=tolerance
    )


def test_logistic_with_unseen_and_unknown_codes():
    columns, y = _synthetic(4000, seed=2)
    columns[0] = np.nan_to_num(columns[0])  # the logistic regression takes no NaN
    M = _design(columns)
    seen = columns[2] < 5  # fitting sees codes 0..4 of 6 (-1: a value not in the vocabulary)
    fit = np.flatnonzero(seen[:3000])
    pipe = logistic_pipeline(2, [6]).fit(M[fit], y[fit])
    model = CalibratedClassifierCV(FrozenEstimator(pipe), method="sigmoid").fit(M[3000:], y[3000:])
    compiled = compiled_model(model, {2: 6})
    assert isinstance(compiled, CompiledLogistic)
    test, _ = _synthetic(20_000, seed=8)
    test[0] = np.nan_to_num(test[0])
    assert set(test[2]) == set(range(-1, 6))
    expected = model.predict_proba(_design(test))[:, 1]
    np.testing.assert_allclose(compiled.predict_proba(test), expected, rtol=0, atol=1e-12)


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Each test sees the fallback warnings as a new process would (none warned yet)."""
    monkeypatch.setattr(scoring, "_warned", set())


def test_models_it_cannot_reproduce_are_left_to_scikit_learn(monkeypatch, fresh_warnings):
    import copy

    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    columns, y = _synthetic(3000, seed=9)
    M = np.nan_to_num(_design(columns))
    tree = DecisionTreeClassifier(max_depth=3).fit(M, y)
    other = CalibratedClassifierCV(FrozenEstimator(tree), method="sigmoid").fit(M, y)
    with pytest.warns(ScoringFallbackWarning, match="not a calibrated boosting or logistic"):
        assert compiled_model(other, {2: 6}) is None
    with pytest.warns(ScoringFallbackWarning, match="LogisticRegression through scikit-learn"):
        assert compiled_model(LogisticRegression().fit(M, y), {2: 6}) is None  # not calibrated
    deep = _fit(max_depth=None, max_leaf_nodes=300, min_samples_leaf=2, max_iter=3)
    assert max(len(t.levels) for t in _all_trees(deep)) > boosting.MAX_DEPTH
    with pytest.warns(ScoringFallbackWarning, match="CompiledBoosting: ValueError: tree of depth"):
        assert compiled_model(deep, {2: 6}) is None

    # a compiled form one ulp off is refused, and predict_risk then scores through sklearn
    # (shallow enough to compile: without the patch it is compiled, silently)
    model = _fit(max_iter=10, max_depth=4)
    assert isinstance(compiled_model(copy.deepcopy(model), {2: 6}), CompiledBoosting)
    real = CompiledBoosting.predict_proba
    monkeypatch.setattr(
        CompiledBoosting, "predict_proba", lambda self, c, r=None: np.nextafter(real(self, c, r), 2)
    )
    with pytest.warns(ScoringFallbackWarning, match="differ from predict_proba by up to"):
        assert compiled_model(model, {2: 6}) is None
    entry = FittedModel(model, ["a", "b"], {"c": list(range(6))})
    X = pd.DataFrame({"a": columns[0], "b": columns[1], "c": columns[2].astype(str)})
    np.testing.assert_allclose(
        m.predict_risk(entry, X),
        model.predict_proba(_design(columns))[:, 1],
        rtol=0,
        atol=1e-12,
    )
    # as is a logistic regression further off than the tolerance
    columns[0] = np.nan_to_num(columns[0])
    pipe = logistic_pipeline(2, [6]).fit(_design(columns), y)
    lr = CalibratedClassifierCV(FrozenEstimator(pipe), method="sigmoid").fit(_design(columns), y)
    real_lr = CompiledLogistic.predict_proba
    monkeypatch.setattr(
        CompiledLogistic, "predict_proba", lambda self, c, r=None: real_lr(self, c, r) + 1e-9
    )
    with pytest.warns(ScoringFallbackWarning, match="CompiledLogistic: its probabilities differ"):
        assert compiled_model(lr, {2: 6}) is None


def test_fallback_warns_once_per_process_and_reason(monkeypatch, fresh_warnings):
    """A scikit-learn upgrade that renamed an attribute the compiled boosting reads would only
    make scoring slower: it warns, naming the missing attribute, once however many models or
    calls; another reason warns again. Our own models compile without a warning."""
    import warnings

    upgraded = [_fit(max_iter=5 + extra, max_depth=4) for extra in (0, 1, 2)]
    for model in upgraded:
        model.calibrated_classifiers_[0].estimator.estimator.__dict__.pop("_predictors")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for model in upgraded:
            assert compiled_model(model, {2: 6}) is None
            assert compiled_model(model, {2: 6}) is None  # remembered: no second check
    assert [type(w.message) for w in seen] == [ScoringFallbackWarning]
    text = str(seen[0].message)
    assert "CompiledBoosting: AttributeError" in text and "_predictors" in text
    assert "several times slower" in text
    # another reason: a calibration this module does not compile
    with pytest.warns(ScoringFallbackWarning, match="not a binary sigmoid or isotonic"):
        odd = _fit(max_iter=8, max_depth=4)
        odd.method = "temperature"
        assert compiled_model(odd, {2: 6}) is None
    # a model that compiles says nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(compiled_model(_fit(max_iter=9, max_depth=4), {2: 6}), CompiledBoosting)


def test_the_fallback_reason_reaches_stderr_in_a_real_process():
    """In a real process the warning reaches stderr once, with its reason."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from sklearn.calibration import CalibratedClassifierCV\n"
        "from sklearn.frozen import FrozenEstimator\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "from salesops_analysis.risk.scoring import compiled_model\n"
        "rng = np.random.default_rng(0)\n"
        "M, y = rng.normal(size=(200, 2)), rng.integers(0, 2, 200)\n"
        "tree = DecisionTreeClassifier(max_depth=2).fit(M, y)\n"
        "cal = CalibratedClassifierCV(FrozenEstimator(tree), method='sigmoid').fit(M, y)\n"
        "for _ in range(3):\n"
        "    assert compiled_model(cal, {}) is None\n"
        "    cal = CalibratedClassifierCV(FrozenEstimator(tree), method='sigmoid').fit(M, y)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("ScoringFallbackWarning") == 1, out.stderr
    assert "CalibratedClassifierCV through scikit-learn" in out.stderr


def _all_trees(model) -> list:
    """The tree levels of a deep model, without the depth limit (for the test's own check)."""
    limit = boosting.MAX_DEPTH
    boosting.MAX_DEPTH = 10**6
    try:
        return CompiledBoosting(model, {2: 6}).trees
    finally:
        boosting.MAX_DEPTH = limit
