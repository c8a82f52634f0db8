"""Population stability by hand: deciles of the training rows, categories, the thresholds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from salesops_analysis.risk.drift import population_stability, reference_distribution

EPS = 1e-4  # an empty bin counts as this share (no log of zero)


def _psi(now: list[float], then: list[float]) -> float:
    now = [max(p, EPS) for p in now]
    then = [max(p, EPS) for p in then]
    return sum((a - b) * math.log(a / b) for a, b in zip(now, then, strict=True))


def test_psi_of_a_numeric_feature_against_its_training_deciles():
    train = pd.DataFrame({"x": np.arange(1.0, 11.0)})  # one value per decile
    ref = reference_distribution(train, ["x"], [])
    assert ref["x"]["shares"] == pytest.approx([0.1] * 10)
    same = population_stability(ref, train)
    assert same["psi"].tolist() == pytest.approx([0.0]) and same["status"].tolist() == ["stable"]
    # all of today's rows in the lowest decile
    moved = population_stability(ref, pd.DataFrame({"x": [1.0, 1.0, 0.0]}))
    assert moved["psi"].iloc[0] == pytest.approx(_psi([1.0] + [0.0] * 9, [0.1] * 10))
    assert moved["status"].iloc[0] == "shifted"


def test_psi_of_a_categorical_feature_counts_new_values_apart():
    train = pd.DataFrame({"s": ["a", "b", "a", "b"]})
    ref = reference_distribution(train, [], ["s"])
    # shares of a, b, and of values never seen in training
    now = pd.DataFrame({"s": ["a", "a", "a", "c"]})
    got = population_stability(ref, now).set_index("feature")["psi"]
    assert got["s"] == pytest.approx(_psi([0.75, 0.0, 0.25], [0.5, 0.5, 0.0]))


def test_status_thresholds_and_largest_shift_first():
    train = pd.DataFrame({"s": ["a"] * 50 + ["b"] * 50, "t": ["a"] * 50 + ["b"] * 50})
    ref = reference_distribution(train, [], ["s", "t"])
    now = pd.DataFrame({"s": ["a"] * 58 + ["b"] * 42, "t": ["a"] * 70 + ["b"] * 30})
    got = population_stability(ref, now)
    assert got["feature"].tolist() == ["t", "s"]
    psi = dict(zip(got["feature"], got["psi"], strict=True))
    assert psi["s"] == pytest.approx(_psi([0.58, 0.42, 0.0], [0.5, 0.5, 0.0]))
    assert psi["s"] < 0.1 and 0.1 <= psi["t"] < 0.25
    assert got.set_index("feature")["status"].to_dict() == {"t": "some shift", "s": "stable"}
