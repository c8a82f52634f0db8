"""The model beats its baselines, is calibrated, saves and loads safely."""

from __future__ import annotations

import json

import pytest

import salesops_analysis as so
from salesops_analysis.risk import latest_model, load_model, save_model
from tests.conftest import IBM_CONFIG, IBM_CSV, requires_realdata


def test_demo_model_beats_both_baselines(demo_model):
    m = demo_model.metrics
    test, base = m["test"], m["baselines"]
    assert test["roc_auc"] > base["customer_late_share"]["roc_auc"] + 0.01
    assert test["roc_auc"] > base["days_past_due_amount"]["roc_auc"]
    assert (
        test["top_decile_late_amount_share"]
        > base["customer_late_share"]["top_decile_late_amount_share"]
    )
    assert (
        test["top_decile_late_amount_share"]
        > base["days_past_due_amount"]["top_decile_late_amount_share"]
    )
    assert test["brier"] < test["brier_base_rate"]


def test_overdue_model_ranks_better_than_days_past_due(demo_model):
    o = demo_model.metrics["overdue"]
    assert o["roc_auc"] > o["baselines"]["days_past_due_amount"]["roc_auc"] + 0.05
    assert o["brier"] < o["brier_base_rate"]


def test_split_is_by_time_and_train_labels_known_before_test(demo_model):
    sp = demo_model.metrics["test"]["split"]
    assert sp["fit"][1] < sp["validation"][0] <= sp["validation"][1] < sp["test"][0]
    assert sp["train_labels_known_by"] < sp["test"][0]
    share = sp["test_rows"] / (sp["fit_rows"] + sp["validation_rows"] + sp["test_rows"])
    assert 0.25 < share < 0.40  # latest 30% of known outcomes (censored train labels drop out)


def test_calibrated_probabilities_track_observed_rates(demo_model):
    cal = demo_model.metrics["test"]["calibration"]
    gaps = [abs(p - o) for p, o in zip(cal["predicted"], cal["observed"], strict=True)]
    assert max(gaps) < 0.12


def test_save_writes_model_card_and_metrics_and_loads_back(demo_model, tmp_path):
    paths = save_model(demo_model, tmp_path)
    assert paths["model"].name == "late_payment_2025-06-30.skops"
    metrics = json.loads(paths["metrics"].read_text())
    for key in ("roc_auc", "pr_auc", "brier", "top_decile_late_amount_share"):
        assert isinstance(metrics["test"][key], float)
    assert metrics["baselines"]["customer_late_share"]["roc_auc"] > 0.5
    assert "days_past_due_amount" in metrics["baselines"]
    card = paths["card"].read_text()
    assert "ROC AUC" in card and "Calibration" in card
    loaded = load_model(paths["model"])
    assert loaded.as_of == "2025-06-30"
    assert latest_model(tmp_path, "2025-07-15") == paths["model"]
    assert latest_model(tmp_path, "2025-06-01") is None  # trained later than that day


def test_model_with_other_features_is_refused(demo_model, tmp_path):
    bundle = dict(demo_model.bundle, feature_version=0)
    paths = save_model(type(demo_model)(bundle), tmp_path)
    with pytest.raises(so.ModelError, match="retrain"):
        load_model(paths["model"])


def test_design_matrix_codes_categories_by_the_values_seen_when_fitting():
    import numpy as np
    import pandas as pd

    from salesops_analysis.risk.model import design_matrix

    X = pd.DataFrame(
        {
            "a": [1.5, 2.0, 3.0, 4.0],
            "b": [0, 1, 0, 1],
            "segment": pd.array(["SMB", "Enterprise", "never seen", None], dtype="str"),
        }
    )
    M = design_matrix(X, ["b", "a"], {"segment": ["Enterprise", "SMB"]})
    assert M.dtype == np.float64 and M.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(M[:, 0], [0, 1, 0, 1])
    np.testing.assert_array_equal(M[:, 1], [1.5, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(M[:, 2], [1, 0, -1, -1])  # unseen and missing: -1


def test_scores_in_blocks_equal_one_call(demo_model, demo_features, monkeypatch):
    """Blocked prediction (for the CPU cache) gives the calibrated model's own answer."""
    import numpy as np

    from salesops_analysis.risk import model as m

    b = demo_model.bundle
    X = demo_features.iloc[-1000:].reset_index(drop=True)
    monkeypatch.setattr(m, "PREDICT_BLOCK", 97)
    pick = np.random.default_rng(5).integers(0, len(X), 400)
    for compiled in (True, False):  # our compiled models, and scikit-learn's for any other
        if not compiled:
            monkeypatch.setattr(m, "compiled_model", lambda model, n_codes: None)
        for kind in ("late", "overdue"):
            entry = b[kind]
            whole = entry["model"].predict_proba(
                m.design_matrix(X, entry["numeric"], entry["categories"])
            )[:, 1]
            mine = m.predict_risk(entry, X)
            np.testing.assert_allclose(mine, whole, rtol=0, atol=1e-12)
            assert m.predict_risk(entry, X.iloc[:0]).shape == (0,)
            # by row positions (any order, repeats allowed) as on the rows themselves
            got = m.predict_risk(entry, X, rows=pick)
            if compiled:
                np.testing.assert_array_equal(got, mine[pick])
            else:
                # scikit-learn's matrix product may round a row's last bit differently by
                # where the row sits in its block
                np.testing.assert_allclose(got, mine[pick], rtol=0, atol=1e-15)
            assert m.predict_risk(entry, X, rows=pick[:0]).shape == (0,)


def test_boosting_is_not_a_candidate_for_too_many_categories():
    from salesops_analysis.risk.model import MAX_BOOSTING_CATEGORIES, _candidates

    few = [name for name, _, _ in _candidates(["amount_log"], [3, MAX_BOOSTING_CATEGORIES])]
    many = [name for name, _, _ in _candidates(["amount_log"], [MAX_BOOSTING_CATEGORIES + 1])]
    assert "hist_gradient_boosting" in few and "hist_gradient_boosting" not in many


def test_untrusted_types_are_refused(tmp_path):
    import datetime as dt

    from salesops_analysis._skops import skops_io

    sio = skops_io()

    path = tmp_path / "late_payment_2025-01-01.skops"
    sio.dump({"format": "salesops-late-payment", "late": dt.date(2025, 1, 1)}, path)
    assert sio.get_untrusted_types(file=path) == ["datetime.date"]  # outside our list
    with pytest.raises(so.ModelError, match="trusted"):
        load_model(path)


def test_models_load_by_our_list_alone_without_skops_estimator_catalogue(demo_model, tmp_path):
    """In a fresh process skops loads without its catalogue of every scikit-learn estimator:
    a saved model still loads (TRUSTED_TYPES names all it holds), and an estimator outside
    the list is refused, where skops' catalogue would have trusted it."""
    import subprocess
    import sys

    path = save_model(demo_model, tmp_path)["model"]
    code = (
        "import sys\n"
        "from salesops_analysis._skops import skops_io\n"
        "sio = skops_io()\n"
        "from skops.io import _trusted_types\n"
        "assert _trusted_types.SKLEARN_ESTIMATOR_TYPE_NAMES == []\n"
        "from sklearn.utils import all_estimators\n"
        "assert len(all_estimators(type_filter='classifier')) > 10  # put back for others\n"
        "import salesops_analysis as so\n"
        "from salesops_analysis.risk import load_model\n"
        f"m = load_model({str(path)!r})\n"
        "assert m.bundle['late']['model'].predict_proba is not None\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        f"odd = {str(tmp_path / 'late_payment_2025-01-02.skops')!r}\n"
        "sio.dump({'format': 'salesops-late-payment', 'late': DecisionTreeClassifier()}, odd)\n"
        "try:\n"
        "    load_model(odd)\n"
        "except so.ModelError as exc:\n"
        "    print('refused', 'DecisionTreeClassifier' in str(exc))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "refused True"


def test_not_a_model_file(tmp_path):
    p = tmp_path / "late_payment_2025-01-01.skops"
    p.write_text("hello")
    with pytest.raises(so.ModelError, match="not a readable"):
        load_model(p)


@requires_realdata
def test_ibm_sample_reaches_the_published_leakage_free_level(tmp_path):
    from salesops_analysis.metrics import load_tables
    from salesops_analysis.risk import train_from_tables

    cfg = so.load_config(IBM_CONFIG)
    with so.open_warehouse(tmp_path / "ibm.duckdb") as wh:
        so.ingest_file(wh, IBM_CSV, cfg, kind="invoices")
        tables = load_tables(wh)
    m = train_from_tables(tables, "2014-01-10", cfg).metrics
    assert m["test"]["roc_auc"] >= 0.88
    assert m["test"]["roc_auc"] >= m["baselines"]["customer_late_share"]["roc_auc"]
    assert m["test"]["split"]["test"] == ["2013-05-06", "2013-12-02"]
    assert m["test"]["brier"] < m["test"]["brier_base_rate"]
