"""The worklist: every open invoice once, ranked, with a reason and a next step."""

from __future__ import annotations

import numpy as np
import pytest

import salesops_analysis as so
from salesops_analysis.metrics import open_items
from salesops_analysis.risk import population_stability, worklist
from tests.risk.conftest import AS_OF


@pytest.fixture(scope="module")
def wl(demo_model, demo_tables, demo_config):
    return worklist(demo_model, demo_tables, AS_OF, demo_config)


def test_every_open_invoice_once(wl, demo_tables):
    items = open_items(demo_tables.invoices, demo_tables.payments, as_of=AS_OF)
    expected = set(items.loc[items["is_open"] & (items["amount"] > 0), "invoice_id"])
    assert set(wl["invoice_id"]) == expected
    assert wl["invoice_id"].is_unique


def test_ranked_by_expected_late_amount(wl):
    assert wl["rank"].tolist() == list(range(1, len(wl) + 1))
    assert wl["expected_late_amount"].is_monotonic_decreasing
    ela = wl["probability"] * wl["open_amount_reporting"]
    # the probability is shown to 4 decimals, the amount uses the unrounded one
    gap = (ela - wl["expected_late_amount"]).abs()
    assert (gap <= 5e-5 * wl["open_amount_reporting"] + 0.011).all()
    assert wl["probability"].between(0, 1).all()


def test_score_kind_follows_lateness(wl):
    overdue = wl["days_past_due"] > 0
    assert (wl.loc[overdue, "score_kind"] == "p_unpaid_30d").all()
    assert (wl.loc[~overdue, "score_kind"] == "p_late").all()
    assert (wl.loc[~overdue, "dunning_stage"] == "not due").all()
    assert set(wl.loc[wl["days_past_due"] > 75, "dunning_stage"]) == {"escalate"}


def test_every_score_has_a_reason_in_plain_words(wl):
    assert (wl["reason_1"] != "").all()
    text = " ".join(wl["reason_1"].head(200))
    assert "late" in text or "usual" in text or "past due" in text
    assert not wl["reason_1"].str.contains(r"\b0 (?:promises|collector)").any()


def test_promises_owners_and_actions(wl):
    assert (wl["owner"] != "").all()
    assert wl["promise_status"].str.contains("broken").any()
    assert wl["promise_status"].str.contains("pending").any()
    broken = wl["promise_status"].str.contains("broken")
    assert (wl.loc[broken, "next_action"].str.contains("promise|dispute")).all()


def test_model_trained_after_the_scoring_date_is_refused(demo_model, demo_tables):
    with pytest.raises(so.ModelError, match="seen outcomes"):
        worklist(demo_model, demo_tables, "2025-01-31")


def test_drift_is_small_against_itself_and_large_when_shifted(demo_model):
    ref = demo_model.bundle["late"]["drift_reference"]
    import pandas as pd

    rng = np.random.default_rng(0)
    same = pd.DataFrame({"hist_late_share": rng.uniform(0, 1, 1000)})
    psi_a = population_stability({"hist_late_share": ref["hist_late_share"]}, same)
    shifted = pd.DataFrame({"hist_late_share": np.full(1000, 0.99)})
    psi_b = population_stability({"hist_late_share": ref["hist_late_share"]}, shifted)
    assert psi_b["psi"].iloc[0] > 1.0 > psi_a["psi"].iloc[0] or psi_b["psi"].iloc[0] > 0.25


def test_contributions_match_the_one_hot_matrix(demo_model, demo_tables):
    """The direct per-feature contributions equal (transformed row - mean) × coefficient,
    summed over each categorical's one-hot columns, including a category never seen."""
    from salesops_analysis.metrics.receivables import _day_of
    from salesops_analysis.risk.features import Knowledge, features_at
    from salesops_analysis.risk.model import contributions, design_matrix

    b = demo_model.bundle
    k = Knowledge.at(
        AS_OF,
        demo_tables.invoices,
        demo_tables.payments,
        demo_tables.activities,
        demo_tables.customers,
        categorical=list(b["categorical"]),
    )
    rows = np.flatnonzero(k.modelled)[-2000:]
    X = features_at(k, rows, np.full(len(rows), _day_of(AS_OF)))
    X.loc[0, b["categorical"][0]] = "a segment never seen"
    for kind in ("late", "overdue"):
        ex = b[kind]["explainer"]
        got = contributions(ex, X)
        Xt = ex["prep"].transform(design_matrix(X, ex["numeric"], ex["categories"]))
        per_column = (Xt - ex["mean"]) * ex["coef"]
        for name in got.columns:
            cols = [j for j, s in enumerate(ex["source"]) if s == name]
            np.testing.assert_allclose(got[name], per_column[:, cols].sum(axis=1), atol=1e-9)


def test_reason_phrases_are_formatted_once_and_read_back(demo_model, demo_tables, demo_config):
    """Scores carry their reasons as text columns of the default string dtype."""
    from salesops_analysis.risk import score_open_invoices

    scored = score_open_invoices(demo_model, demo_tables, AS_OF, demo_config)
    for j in (1, 2, 3):
        col = scored[f"reason_{j}"]
        assert col.dtype == "str" and col.notna().all()
    assert scored["reason_1"].str.len().gt(0).all()
    amount = scored["reason_1"].str.extract(r"amount (\d+\.\d)× this customer's usual")[0]
    assert amount.dropna().str.match(r"^\d+\.\d$").all()


def test_reasons_by_row_positions_equal_reasons_of_the_rows_themselves(demo_model, demo_tables):
    from salesops_analysis.metrics.receivables import _day_of
    from salesops_analysis.risk.features import Knowledge, features_at
    from salesops_analysis.risk.worklist import _Phrases, _reasons

    b = demo_model.bundle
    k = Knowledge.at(
        AS_OF,
        demo_tables.invoices,
        demo_tables.payments,
        demo_tables.activities,
        demo_tables.customers,
        categorical=list(b["categorical"]),
    )
    rows = np.flatnonzero(k.modelled)[-3000:]
    X = features_at(k, rows, np.full(len(rows), _day_of(AS_OF)))
    pick = np.random.default_rng(3).permutation(len(X))[:2000]
    for kind in ("late", "overdue"):
        by_copy, by_rows = _Phrases(), _Phrases()
        copied = _reasons(b[kind]["explainer"], X.iloc[pick].reset_index(drop=True), "USD", by_copy)
        positioned = _reasons(b[kind]["explainer"], X, "USD", by_rows, rows=pick)
        texts = np.array(by_copy.texts, dtype=object)[copied]
        assert (texts == np.array(by_rows.texts, dtype=object)[positioned]).all()
        assert (texts[:, 0] != "").all()


def test_owner_falls_back_to_the_rep_of_the_latest_order_with_a_rep():
    import pandas as pd

    from salesops_analysis.risk.worklist import _latest_rep

    orders = pd.DataFrame(
        {
            "customer_id": pd.array(["A", "a ", "A", "B", "B", "D"], dtype="str"),
            "order_date": pd.to_datetime(
                ["2025-01-01", "2025-02-01", "2025-03-01", "2025-02-01", "2025-02-01", None]
            ),
            "sales_rep": pd.array(["Al", "Bo", None, "Cy", "Di", "Ed"], dtype="str"),
        }
    )
    customers = pd.Series(pd.array(["B", "A", "C", "A", "D"], dtype="str"))
    # A: the March order has no rep, so February's; B: two on one day, the later row;
    # C: no orders; D: an order without a date still names a rep
    assert list(_latest_rep(orders, customers)) == ["Di", "Bo", "", "Bo", "Ed"]
