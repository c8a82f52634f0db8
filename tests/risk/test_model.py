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
    assert "{" not in card  # every placeholder filled
    assert card.count("Rows are uniform random samples of their whole period: fit ") == 2
    assert card.count("Calibration in the large: mean predicted probability") == 2
    assert card.count("it beats it in both, so the model is deployed") == 2
    assert metrics["test"]["mean_predicted"] == pytest.approx(
        demo_model.metrics["test"]["mean_predicted"]
    )
    loaded = load_model(paths["model"])
    assert loaded.as_of == "2025-06-30"
    assert latest_model(tmp_path, "2025-07-15") == paths["model"]
    assert latest_model(tmp_path, "2025-06-01") is None  # trained later than that day


def test_model_with_other_features_is_refused(demo_model, tmp_path):
    import dataclasses

    bundle = dataclasses.replace(demo_model.bundle, feature_version=0)
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
    from salesops_analysis.risk.model import predict

    b = demo_model.bundle
    X = demo_features.iloc[-1000:].reset_index(drop=True)
    monkeypatch.setattr(predict, "PREDICT_BLOCK", 97)
    pick = np.random.default_rng(5).integers(0, len(X), 400)
    for compiled in (True, False):  # our compiled models, and scikit-learn's for any other
        if not compiled:
            monkeypatch.setattr(predict, "compiled_model", lambda model, n_codes: None)
        for kind in ("late", "overdue"):
            entry = getattr(b, kind)
            whole = entry.model.predict_proba(m.design_matrix(X, entry.numeric, entry.categories))[
                :, 1
            ]
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
    from salesops_analysis.risk.model import MAX_BOOSTING_CATEGORIES
    from salesops_analysis.risk.model.candidates import candidate_pipelines

    few = [n for n, _, _ in candidate_pipelines(["amount_log"], [3, MAX_BOOSTING_CATEGORIES])]
    many = [n for n, _, _ in candidate_pipelines(["amount_log"], [MAX_BOOSTING_CATEGORIES + 1])]
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
        "assert m.bundle.late.model.predict_proba is not None\n"
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
    # the model, not the baseline, is deployed: it beat the customer's late share on validation
    assert m["deployed"] == "model"
    g = m["test"]["guard"]
    assert g["validation_roc_auc"] > g["baseline_validation_roc_auc"]


# -- sampling across the whole period, censoring, the baseline guard -----------------------------
def _day(text: str) -> int:
    from salesops_analysis.metrics.days import day_number

    return day_number(text)


def test_decided_late_rows_leave_out_every_invoice_whose_outcome_could_still_change():
    """Cut-off 2025-03-31: A was paid late (decided), B is unpaid and past due (decided,
    late), C was paid early but is not due yet (known, not decided), D is open and not due
    (censored). Fit and calibration read decided rows only: A and B."""
    from salesops_analysis.risk import Knowledge
    from salesops_analysis.risk.model import late_rows
    from tests.metrics.conftest import invoices, payments

    inv = invoices(
        [
            ("A", "2025-01-01", "2025-01-31", 100),
            ("B", "2025-02-01", "2025-03-01", 100),
            ("C", "2025-03-10", "2025-04-10", 100),
            ("D", "2025-03-15", "2025-04-15", 100),
        ]
    )
    pay = payments([("A", "2025-02-20", 100), ("C", "2025-03-20", 100), ("D", "2025-05-20", 100)])
    k = Knowledge.at("2025-06-30", inv, pay)
    cut = _day("2025-03-31")
    known = late_rows(k, cut, -(10**9), cut + 1)
    decided = late_rows(k, cut, -(10**9), cut + 1, decided=True)
    ids = inv["invoice_id"].to_numpy()
    assert ids[known.rows].tolist() == ["A", "B", "C"]
    assert known.y.tolist() == [1, 1, 0]
    assert ids[decided.rows].tolist() == ["A", "B"]
    assert decided.y.tolist() == [1, 1]
    # D (paid after the cut-off) never enters a set cut on 2025-03-31, decided or not
    assert "D" not in ids[known.rows]


def test_decided_rows_of_the_demo_keep_their_label_when_more_is_known(demo_tables):
    """A row is decided at a cut-off only if nothing after it can change its label: the
    labels read at the cut-off equal those read three months later, for both models."""
    import numpy as np

    from salesops_analysis.risk import Knowledge
    from salesops_analysis.risk.model import late_rows, overdue_rows

    t = demo_tables
    k = Knowledge.at("2025-06-30", t.invoices, t.payments, t.activities, t.customers)
    cut = _day("2025-03-31")
    for make in (late_rows, overdue_rows):
        at_cut = make(k, cut, -(10**9), cut + 1, decided=True)
        later = make(k, k.T, -(10**9), cut + 1)
        assert len(at_cut.y) > 1000
        pos = {(int(r), int(s)): y for r, s, y in zip(later.rows, later.snap, later.y, strict=True)}
        assert [pos[(int(r), int(s))] for r, s in zip(at_cut.rows, at_cut.snap, strict=True)] == (
            at_cut.y.tolist()
        )
        # and every row known but not decided at the cut is one with a "good" outcome only
        known = make(k, cut, -(10**9), cut + 1)
        decided = set(zip(at_cut.rows.tolist(), at_cut.snap.tolist(), strict=True))
        extra = [
            y
            for r, s, y in zip(known.rows, known.snap, known.y, strict=True)
            if (int(r), int(s)) not in decided
        ]
        assert len(extra) > 0 and not np.any(extra)


def test_sample_is_uniform_across_the_whole_period_and_keeps_row_order():
    import numpy as np

    from salesops_analysis.risk.model.samples import LabelledRows as _Rows
    from salesops_analysis.risk.model.samples import uniform_sample as _sample

    rng = np.random.default_rng(1)
    snap = np.sort(rng.integers(_day("2023-07-01"), _day("2025-06-30") + 1, 100_000))
    r = _Rows(np.arange(len(snap)), snap, (rng.random(len(snap)) < 0.3).astype(np.int8))
    s = _sample(r, 5_000, seed=0)
    assert len(s.y) == 5_000 and s.total == 100_000
    assert np.all(np.diff(s.rows) > 0)  # a subset, in order, no repeats
    np.testing.assert_array_equal(s.snap, snap[s.rows])
    months = s.snap.astype("datetime64[D]").astype("datetime64[M]")
    assert str(months.min()) == "2023-07" and str(months.max()) == "2025-06"
    # every month holds about its share (1/24 of the rows): no part of the period is favoured
    share = np.unique(months, return_counts=True)[1] / len(months)
    assert len(share) == 24 and share.min() > 0.03 and share.max() < 0.055
    # small, one-row and empty sets come back whole
    assert _sample(r, 100_000, seed=0) is r
    one = _Rows(snap[:1], snap[:1], r.y[:1])
    assert _sample(one, 5, seed=0).rows.tolist() == [snap[0]]
    empty = _Rows(snap[:0], snap[:0], r.y[:0])
    assert len(_sample(empty, 5, seed=0).y) == 0


def test_fit_sample_spans_the_training_period_when_capped(
    demo_model, demo_tables, demo_config, monkeypatch
):
    """With the caps far below the demo's rows, fit, calibration and test are still drawn from
    the first to the last month of their periods (the old cap kept the latest rows only): the
    same months as the uncapped sets of ``demo_model``."""
    from salesops_analysis.risk import model as m
    from salesops_analysis.risk.model import train

    monkeypatch.setattr(train, "MAX_FIT_ROWS", 2_000)
    monkeypatch.setattr(train, "MAX_CALIBRATION_ROWS", 1_000)
    monkeypatch.setattr(train, "MAX_TEST_ROWS", 3_000)
    from salesops_analysis.risk import Knowledge

    t = demo_tables
    k = Knowledge.at("2025-06-30", t.invoices, t.payments, t.activities, t.customers)
    trained = m.train_models(k, categorical=list(demo_config.model_categorical))
    full = demo_model.metrics
    for ev, whole in (
        (trained.metrics["test"], full["test"]),
        (trained.metrics["overdue"], full["overdue"]),
    ):
        sample, whole = ev["split"]["sample"], whole["split"]["sample"]
        for name, cap in (("fit", 2_000), ("validation", 1_000), ("test", 3_000)):
            assert sample[name]["drawn_from"] == whole[name]["drawn_from"] == whole[name]["rows"]
            assert sample[name]["rows"] == cap < sample[name]["drawn_from"]
            assert sample[name]["months"] == whole[name]["months"]  # first and last month
        assert sample["fit"]["months"][0] == "2023-07"  # the demo's first month
        assert abs(ev["mean_predicted"] - ev["late_share"]) < 0.03
    assert trained.bundle.late.sample["fit"]["months"][0] == "2023-07"


def test_demo_model_beats_the_baselines_on_validation_and_is_calibrated_in_the_large(
    demo_model,
):
    m = demo_model.metrics
    assert m["deployed"] == "model" and m["deployment_note"] is None
    assert not demo_model.deployed_baseline and demo_model.deployment_note is None
    for ev in (m["test"], m["overdue"]):
        g = ev["guard"]
        assert g["deployed"] == "model"
        assert g["validation_roc_auc"] > g["baseline_validation_roc_auc"]
        assert g["validation_brier"] < g["baseline_validation_brier"]
        assert abs(ev["mean_predicted"] - ev["late_share"]) < 0.03
        assert 0.05 < ev["late_share"] < 0.6


@pytest.fixture(scope="module")
def planted_worse(demo_tables, demo_config):
    """Models trained with a single candidate that sees only calendar flags (no signal)."""
    from unittest import mock

    from salesops_analysis.risk import Knowledge
    from salesops_analysis.risk import model as m
    from salesops_analysis.risk.model import candidates

    def calendar_only(numeric, sizes):
        pipe = candidates.logistic_pipeline(2, [])
        return [("logistic_regression", ["month_end", "quarter_end"], pipe)]

    t = demo_tables
    k = Knowledge.at("2025-06-30", t.invoices, t.payments, t.activities, t.customers)
    with mock.patch.object(candidates, "candidate_pipelines", calendar_only):
        return m.train_models(k, categorical=list(demo_config.model_categorical))


def test_guard_deploys_the_baselines_when_the_model_is_worse(planted_worse, tmp_path):
    m = planted_worse.metrics
    b = planted_worse.bundle
    assert m["deployed"] == "baseline" and planted_worse.deployed_baseline
    assert b.late.chosen == m["model"]["late"] == "customer_late_share_baseline"
    assert b.overdue.chosen == m["model"]["overdue"] == "days_past_due_baseline"
    for ev in (m["test"], m["overdue"]):
        g = ev["guard"]
        assert g["deployed"] == "baseline" and g["candidate"] == "logistic_regression"
        assert g["validation_roc_auc"] < g["baseline_validation_roc_auc"]
        assert abs(ev["mean_predicted"] - ev["late_share"]) < 0.03
    # the deployed late score ranks as the customer's late share does (to float ties: shares
    # equal on paper, such as 1.3 / 2 and 2.6 / 4, may differ in their last bits)
    test = m["test"]
    assert test["roc_auc"] == pytest.approx(
        m["baselines"]["customer_late_share"]["roc_auc"], abs=1e-4
    )
    note = planted_worse.deployment_note
    assert note.count(". ") == 1  # one sentence per model
    assert "did not beat the customer's late share" in note
    assert "days past due, calibrated, is deployed as the overdue score" in note
    card = save_model(planted_worse, tmp_path)["card"].read_text()
    assert note in card


def test_a_deployed_baseline_scores_the_worklist(planted_worse, demo_tables, demo_config):
    import numpy as np

    from salesops_analysis.risk import score_open_invoices, worklist
    from salesops_analysis.risk.scoring import CompiledLogistic, compiled_model

    for kind in ("late", "overdue"):
        entry = getattr(planted_worse.bundle, kind)
        assert entry.categories == {} and len(entry.numeric) == 1
        assert isinstance(compiled_model(entry.model, {}), CompiledLogistic)
    result = score_open_invoices(planted_worse, demo_tables, "2025-06-30", demo_config)
    X, scored = result.features, result.invoices
    assert len(scored) > 1000 and scored["probability"].between(0, 1).all()
    for kind, feature in (("p_late", "hist_late_share"), ("p_unpaid_30d", "days_past_due")):
        these = (scored["score_kind"] == kind).to_numpy()
        x, p = X.loc[these, feature].to_numpy(), scored.loc[these, "probability"].to_numpy()
        assert these.sum() > 100 and len(np.unique(p)) > 10
        # a function of its one feature, rising with it (probabilities shown to 4 decimals)
        order = np.argsort(x, kind="stable")
        assert np.all(np.diff(p[order]) >= -1e-4)
    wl = worklist(planted_worse, demo_tables, "2025-06-30", demo_config, scored=result)
    assert len(wl) == len(scored) and (wl["reason_1"] != "").all()


def test_train_command_says_when_a_baseline_is_deployed(demo_db, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from salesops_analysis.cli import main
    from salesops_analysis.risk.model import candidates
    from tests.conftest import DEMO_CONFIG

    monkeypatch.setattr(
        candidates,
        "candidate_pipelines",
        lambda numeric, sizes: [
            ("logistic_regression", ["month_end"], candidates.logistic_pipeline(1, []))
        ],
    )
    args = ["train", "--as-of", "2025-06-30", "--db", str(demo_db), "--out", str(tmp_path)]
    r = CliRunner().invoke(main, [*args, "--config", str(DEMO_CONFIG)])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith("late (customer_late_share_baseline): test ROC AUC")
    note = next(line for line in lines if line.startswith("The late-payment model"))
    assert "so the customer's late share, calibrated, is deployed" in note
    metrics = json.loads((tmp_path / "late_payment_2025-06-30.metrics.json").read_text())
    assert metrics["deployed"] == "baseline" and metrics["deployment_note"] == note


def test_training_tables_give_the_features_of_the_whole_tables(demo_db, demo_tables, demo_config):
    import numpy as np
    import pandas.testing as pdt

    from salesops_analysis.risk import Knowledge, features_at
    from salesops_analysis.risk.model import training_tables

    with so.open_warehouse(demo_db, read_only=True) as wh:
        few = training_tables(wh, demo_config)
    assert few.orders.empty and "currency" not in few.invoices
    assert len(few.invoices) == len(demo_tables.invoices) > 1000
    cats = list(demo_config.model_categorical)
    out = []
    for t in (few, demo_tables):
        k = Knowledge.at(
            "2025-06-30", t.invoices, t.payments, t.activities, t.customers, categorical=cats
        )
        rows = np.flatnonzero(k.modelled)[::7]
        out.append(features_at(k, rows, np.minimum(k.ledger.issued[rows] + 3, k.T)))
    pdt.assert_frame_equal(out[0], out[1])


# -- the typed bundle and its saved form ----------------------------------------------------------
#: The keys of a saved bundle as the code before the typed bundle wrote them (main at 30b6351):
#: models saved then must load, and models saved now are read by that code's readers.
SAVED_LAYOUT = {
    "": [
        "format",
        "feature_version",
        "package_version",
        "trained_as_of",
        "grace_days",
        "horizon_days",
        "late_features",
        "overdue_features",
        "categorical",
        "late",
        "overdue",
        "metrics",
    ],
    "late": [
        "model",
        "columns",
        "numeric",
        "categories",
        "chosen",
        "deployed",
        "explainer",
        "fit_rows",
        "calibration_rows",
        "validation_roc_auc",
        "sample",
        "drift_reference",
        "drift_window",
    ],
    "explainer": ["coef", "mean", "source", "numeric", "categories", "features", "prep"],
}


def _saved_dict(path):
    from salesops_analysis._skops import skops_io
    from salesops_analysis.risk.model import TRUSTED_TYPES

    return skops_io().load(path, trusted=TRUSTED_TYPES)


def test_saved_bundle_is_the_plain_dict_of_before(demo_model, tmp_path):
    raw = _saved_dict(save_model(demo_model, tmp_path)["model"])
    assert isinstance(raw, dict) and list(raw) == SAVED_LAYOUT[""]
    assert list(raw["late"]) == SAVED_LAYOUT["late"]
    assert list(raw["overdue"]) == SAVED_LAYOUT["late"][:-2]  # no drift reference
    for kind in ("late", "overdue"):
        assert list(raw[kind]["explainer"]) == SAVED_LAYOUT["explainer"]
        assert raw[kind]["columns"] == raw[kind]["numeric"] + list(raw[kind]["categories"])


def test_a_dict_bundle_as_saved_before_loads_into_the_typed_bundle(
    demo_model, demo_features, tmp_path
):
    """A file holding the old dict (written here by skops directly, keys in another order)
    loads into frozen dataclasses that score and explain exactly as the trained model."""
    import dataclasses

    import numpy as np

    from salesops_analysis._skops import skops_io
    from salesops_analysis.risk.model import (
        DeployedModel,
        LinearExplainer,
        ModelBundle,
        TrainedModel,
        contribution_matrix,
        predict_risk,
    )

    raw = _saved_dict(save_model(demo_model, tmp_path / "now")["model"])
    old = {key: raw[key] for key in reversed(list(raw))}
    path = tmp_path / "late_payment_2025-06-30.skops"
    skops_io().dump(old, path)
    loaded = load_model(path)
    b = loaded.bundle
    assert isinstance(b, ModelBundle) and isinstance(b.late, DeployedModel)
    assert isinstance(b.late.explainer, LinearExplainer)
    assert b.trained_as_of == "2025-06-30" and b.categorical == demo_model.bundle.categorical
    X = demo_features.iloc[:3000].reset_index(drop=True)
    for kind in ("late", "overdue"):
        mine, theirs = getattr(b, kind), getattr(demo_model.bundle, kind)
        np.testing.assert_array_equal(predict_risk(mine, X), predict_risk(theirs, X))
        np.testing.assert_array_equal(
            contribution_matrix(mine.explainer, X)[1], contribution_matrix(theirs.explainer, X)[1]
        )
    assert loaded.metrics["test"]["roc_auc"] == demo_model.metrics["test"]["roc_auc"]
    # frozen: a reader cannot change the deployed model under the others' feet
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.late.chosen = "other"  # type: ignore[misc]
    # a plain dict given to TrainedModel is converted the same way
    assert TrainedModel(old).bundle.late.chosen == b.late.chosen
    # an incomplete bundle is refused with the key it lacks
    del old["late"]["explainer"]
    skops_io().dump(old, path)
    with pytest.raises(so.ModelError, match="missing 'explainer'"):
        load_model(path)


def test_the_typed_bundle_is_not_read_as_a_dict(demo_model):
    """After #18 the bundle is read by attribute only: the dict reads of before are gone."""
    b = demo_model.bundle
    assert b.late.explainer.prep is not None and b.grace_days >= 0
    for reader in (b, b.late, b.late.explainer):
        with pytest.raises(TypeError):
            reader["late"]
        assert not hasattr(reader, "get")


def test_find_saved_takes_the_newest_loadable_file_of_a_prefix(tmp_path):
    from salesops_analysis.risk.model import find_saved

    for name in (
        "cash_timing_2025-05-31.skops",
        "cash_timing_2025-06-30.skops",  # unloadable: skipped for the older one
        "cash_timing_2025-07-31.skops",  # after as_of
        "cash_timing_latest.skops",  # no date
        "late_payment_2025-06-15.skops",  # another prefix
        "cash_timing_2025-06-01.skops.tmp",
    ):
        (tmp_path / name).write_text(name)

    def load(path):
        if "06-30" in path.name:
            raise so.ModelError("made by another version")
        return path.read_text()

    found = find_saved(tmp_path, "2025-06-30", "cash_timing_", load)
    assert found == (tmp_path / "cash_timing_2025-05-31.skops", "cash_timing_2025-05-31.skops")
    assert find_saved(tmp_path, "2025-08-01", "cash_timing_", load)[1].endswith("07-31.skops")
    assert find_saved(tmp_path, "2025-05-30", "cash_timing_", load) is None
    assert find_saved(tmp_path / "missing", "2025-06-30", "cash_timing_", load) is None
    assert find_saved(tmp_path, "2025-06-30", "late_payment_", load)[1].startswith("late_")
