"""The worklist: every open invoice once, ranked, with a reason and a next step."""

from __future__ import annotations

import numpy as np
import pytest

import salesops_analysis as so
from salesops_analysis.metrics import open_items
from salesops_analysis.risk import worklist
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


def _knowledge(tables, day="2025-06-30"):
    from salesops_analysis.risk import Knowledge

    return Knowledge.at(day, tables.invoices, tables.payments, tables.activities, tables.customers)


def test_drift_flags_nothing_when_nothing_changes_and_flags_a_planted_shift(
    demo_model, demo_tables
):
    """The demo's invoices do not change over time: the invoices issued in June 2025 match
    those issued in the 90 days before 2025-03-31 (disjoint windows). Invoices issued in June
    with 60 more days of terms are flagged on ``terms_days``, and on nothing else."""
    import dataclasses

    import pandas as pd

    from salesops_analysis.risk import TrainedModel
    from salesops_analysis.risk.drift import recent_drift, training_reference
    from salesops_analysis.risk.model import LATE_FEATURES

    numeric = [f for f in LATE_FEATURES if f not in ("month_end", "quarter_end")]
    # a model trained on 2025-03-31 would store this reference
    ref, window = training_reference(_knowledge(demo_tables, "2025-03-31"), numeric, ["segment"])
    assert window["issued"] == ["2025-01-01", "2025-03-31"] and window["rows"] > 5000
    older = TrainedModel(demo_model.bundle.with_late(drift_reference=ref, drift_window=window))
    same = recent_drift(older, _knowledge(demo_tables))
    assert set(same["feature"]) == {*numeric, "segment"}
    assert same["psi"].max() < 0.1, same.head(3)
    # the model trained on the demo's last day, and its own last 30 days, agree as well
    own = recent_drift(demo_model, _knowledge(demo_tables))
    assert len(own) >= len(numeric) and own["psi"].max() < 0.1, own.head(3)

    inv = demo_tables.invoices.copy()
    june = (inv["invoice_date"] >= pd.Timestamp("2025-06-01")).to_numpy()
    inv.loc[june, "due_date"] = inv.loc[june, "due_date"] + pd.Timedelta(days=60)
    shifted_tables = dataclasses.replace(demo_tables, invoices=inv)
    shifted = recent_drift(older, _knowledge(shifted_tables)).set_index("feature")
    assert shifted.loc["terms_days", "status"] == "shifted"
    assert shifted.loc["terms_days", "psi"] > 1.0
    assert shifted.drop(index="terms_days")["psi"].max() < 0.1


def test_drift_of_empty_and_one_row_windows():
    import pandas as pd

    from salesops_analysis.risk.drift import population_stability, reference_distribution

    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "s": pd.array(["x", "y", "x"], dtype="str")})
    assert reference_distribution(X.iloc[:0], ["a"], ["s"]) == {}
    ref = reference_distribution(X, ["a"], ["s"])
    assert population_stability(ref, X.iloc[:0]).empty
    assert population_stability({}, X).empty
    one = population_stability(ref, X.iloc[:1]).set_index("feature")
    assert one.loc["a", "psi"] > 0 and one.loc["s", "psi"] > 0
    assert population_stability(reference_distribution(X.iloc[:1], ["a"], ["s"]), X.iloc[:1])[
        "psi"
    ].max() == pytest.approx(0.0)


def test_contributions_match_the_one_hot_matrix(demo_model, demo_features):
    """The direct per-feature contributions equal (transformed row - mean) × coefficient,
    summed over each categorical's one-hot columns, including a category never seen."""
    from salesops_analysis.risk.model import contributions, design_matrix

    b = demo_model.bundle
    X = demo_features.iloc[-2000:].reset_index(drop=True)  # copy-on-write: changed below
    X.loc[0, b.categorical[0]] = "a segment never seen"
    for kind in ("late", "overdue"):
        ex = getattr(b, kind).explainer
        got = contributions(ex, X)
        Xt = ex.prep.transform(design_matrix(X, ex.numeric, ex.categories))
        per_column = (Xt - ex.mean) * ex.coef
        for name in got.columns:
            cols = [j for j, s in enumerate(ex.source) if s == name]
            np.testing.assert_allclose(got[name], per_column[:, cols].sum(axis=1), atol=1e-9)


def test_reason_phrases_are_formatted_once_and_read_back(demo_model, demo_tables, demo_config):
    """Scores carry their reasons as text columns of the default string dtype."""
    from salesops_analysis.risk import score_open_invoices

    result = score_open_invoices(demo_model, demo_tables, AS_OF, demo_config)
    scored = result.invoices
    for j in (1, 2, 3):
        col = scored[f"reason_{j}"]
        assert col.dtype == "str" and col.notna().all()
    assert scored["reason_1"].str.len().gt(0).all()
    # the ratio a reason prints is the invoice's own amount ratio, rounded to one decimal
    X = result.features
    ratio = np.exp(X["amount_ratio_log"].to_numpy())
    said = 0
    for j in (1, 2, 3):
        shown = scored[f"reason_{j}"].str.extract(r"^amount (\d+\.\d)× this customer's usual$")[0]
        has = shown.notna().to_numpy()
        said += int(has.sum())
        np.testing.assert_allclose(shown[has].astype(float), np.round(ratio[has], 1), atol=1e-9)
        assert (ratio[has] > 1.5).all()  # only an unusually large amount is a reason
    assert said > 0


def test_reasons_by_row_positions_equal_reasons_of_the_rows_themselves(demo_model, demo_features):
    from salesops_analysis.risk.reasons import ReasonPhrases, top_reasons

    b = demo_model.bundle
    X = demo_features.iloc[-3000:].reset_index(drop=True)
    pick = np.random.default_rng(3).permutation(len(X))[:2000]
    for kind in ("late", "overdue"):
        by_copy, by_rows = ReasonPhrases(), ReasonPhrases()
        copied = top_reasons(
            getattr(b, kind).explainer, X.iloc[pick].reset_index(drop=True), "USD", by_copy
        )
        positioned = top_reasons(getattr(b, kind).explainer, X, "USD", by_rows, rows=pick)
        texts = np.array(by_copy.texts, dtype=object)[copied]
        assert (texts == np.array(by_rows.texts, dtype=object)[positioned]).all()
        assert (texts[:, 0] != "").all()


def test_owner_falls_back_to_the_rep_of_the_latest_order_with_a_rep():
    import pandas as pd

    from salesops_analysis.risk.lookups import customer_codes, latest_rep

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
    reps = latest_rep(orders, *customer_codes(customers))
    assert reps.to_pylist() == ["Di", "Bo", None, "Bo", "Ed"]


def _reference_worklist(scored, tables, as_of, config):
    """The worklist as plain pandas builds it (row by row where it must): what the Arrow
    version must equal."""
    import pandas as pd

    from salesops_analysis.metrics.receivables import row_positions
    from salesops_analysis.risk.worklist import WORKLIST_COLUMNS

    # each stage's own action, as the collections policy words it
    action_by_stage = {
        "not due": "no action yet",
        "reminder": "send a payment reminder",
        "call": "call the customer",
        "final notice": "send the final notice",
        "escalate": "escalate to the credit manager",
    }

    def latest(frame, rows, by):
        f = frame.assign(_row=rows).sort_values(["_row", *by], kind="stable")
        return f.drop_duplicates("_row", keep="last").set_index("_row")

    X, scored = scored.features, scored.invoices
    day = pd.Timestamp(as_of).normalize()
    n = len(scored)
    ladder = sorted(config.dunning, key=lambda s: s["from_days"])
    starts = np.array([s["from_days"] for s in ladder])
    at = np.searchsorted(starts, scored["days_past_due"].to_numpy(), side="right") - 1
    stage = np.array([s["stage"] for s in ladder], dtype=object)[np.maximum(at, 0)]
    act = tables.activities
    act = act.loc[(act["activity_date"] <= day) & act["invoice_id"].notna()]
    a_rows = row_positions(act["invoice_id"], scored["invoice_id"])
    act, a_rows = act.loc[a_rows >= 0], a_rows[a_rows >= 0]
    last = latest(act, a_rows, ["activity_date", "activity_id"]).reindex(np.arange(n))
    outcome = last["outcome"]
    last_text = np.where(
        last["activity_date"].notna().to_numpy(),
        last["activity_date"].dt.strftime("%Y-%m-%d").fillna("").to_numpy()
        + " "
        + last["type"].fillna("").astype(str).to_numpy()
        + np.where(
            outcome.notna().to_numpy(),
            ": " + outcome.fillna("").astype(str).str.replace("_", " ").to_numpy(),
            "",
        ),
        "none",
    )
    is_promise = ((act["outcome"] == "promise_to_pay") & act["promised_date"].notna()).to_numpy()
    promise = latest(act.loc[is_promise], a_rows[is_promise], ["activity_date", "activity_id"])
    promised = promise.reindex(np.arange(n))["promised_date"]
    has = promised.notna().to_numpy()
    pending = has & (promised >= day).to_numpy()
    broken = has & ~pending
    text = promised.dt.strftime("%Y-%m-%d").fillna("").to_numpy()
    status = np.select(
        [pending, broken],
        ["promised for " + text + " (pending)", "promised for " + text + ": broken"],
        "none",
    )
    owner = np.where(last["owner"].notna().to_numpy(), last["owner"].astype("str").to_numpy(), "")
    reps = tables.orders.loc[tables.orders["sales_rep"].notna()]
    reps = reps.assign(_pos=np.arange(len(reps))).sort_values(["order_date", "_pos"])
    reps = reps.assign(_key=reps["customer_id"].str.strip().str.lower())
    rep_of = reps.drop_duplicates("_key", keep="last").set_index("_key")["sales_rep"]
    rep = rep_of.reindex(scored["customer_id"].str.strip().str.lower()).fillna("").to_numpy()
    owner = np.where(owner == "", rep, owner)
    owner = np.where(owner == "", "unassigned", owner)
    cust = tables.customers
    pos = row_positions(scored["customer_id"], cust["customer_id"])
    names = np.where(pos >= 0, cust["name"].astype(str).to_numpy()[np.maximum(pos, 0)], "")
    prob = scored["probability"].to_numpy()
    not_due = scored["days_past_due"].to_numpy() <= 0
    action = np.select(
        [X["dispute_known"].to_numpy() > 0, broken, pending, not_due & (prob >= 0.5)],
        [
            "resolve the dispute before chasing payment",
            "call: the promise to pay was broken",
            "wait for the promised payment (" + text + ")",
            "courtesy call before the due date",
        ],
        np.array([action_by_stage.get(s, s) for s in stage], dtype=object),
    )
    out = scored.assign(
        customer_name=names,
        dunning_stage=stage,
        promise_status=status,
        last_activity=last_text,
        owner=owner,
        next_action=action,
    )
    out = out.sort_values(
        ["expected_late_amount", "open_amount_reporting"], ascending=False, kind="stable"
    ).reset_index(drop=True)
    out["rank"] = np.arange(1, n + 1)
    result = out[WORKLIST_COLUMNS]
    result.attrs.clear()
    return result


def test_worklist_equals_a_plain_pandas_build(demo_model, demo_tables, demo_config):
    """Every column of the Arrow-built worklist equals the plain pandas one, on the demo
    book (promises pending and broken, disputes, reps, customers without orders)."""
    import pandas.testing as pdt

    from salesops_analysis.risk import score_open_invoices

    scored = score_open_invoices(demo_model, demo_tables, AS_OF, demo_config)
    mine = worklist(demo_model, demo_tables, AS_OF, demo_config, scored=scored)
    expected = _reference_worklist(scored, demo_tables, AS_OF, demo_config)
    pdt.assert_frame_equal(mine, expected, check_dtype=False)
    for column in ("promise_status", "next_action", "owner"):  # the cases are all there
        assert mine[column].nunique() >= 4, column
    assert mine["promise_status"].str.endswith("(pending)").any()
    assert mine["promise_status"].str.endswith("broken").any()


def test_scored_invoices_carry_their_features_and_knowledge(demo_model, demo_tables, demo_config):
    """The scores travel with the feature table behind them, row for row, and with what was
    known on the day: the worklist and drift reuse them without a second build."""
    import dataclasses

    from salesops_analysis.metrics.days import day_number
    from salesops_analysis.risk import ScoredInvoices, score_by_baseline, score_open_invoices

    scored = score_open_invoices(demo_model, demo_tables, AS_OF, demo_config)
    assert isinstance(scored, ScoredInvoices) and scored.model is demo_model
    assert scored.score_kind == "model"
    assert len(scored.features) == len(scored.rows) == len(scored.invoices) == len(scored)
    # row for row: the invoice ids of the ledger rows, and the days past due of the features
    ids = demo_tables.invoices["invoice_id"].iloc[scored.rows].to_numpy()
    np.testing.assert_array_equal(scored.invoices["invoice_id"].to_numpy(), ids)
    np.testing.assert_array_equal(
        scored.invoices["days_past_due"], scored.features["days_past_due"].astype(np.int64)
    )
    assert scored.knowledge.T == day_number(AS_OF)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scored.invoices = scored.invoices.head(1)
    with pytest.raises(ValueError, match="scored invoices given"):
        scored.with_invoices(scored.invoices.head(1))
    baseline = score_by_baseline(demo_tables, AS_OF, demo_config)
    assert baseline.model is None and baseline.score_kind == "customer late share"
    assert baseline.open_not_scored == pytest.approx(scored.open_not_scored)


def test_dates_as_text_equal_strftime():
    import pandas as pd
    import pyarrow as pa

    from salesops_analysis.risk.texts import date_text

    values = pd.Series(
        pd.to_datetime(
            ["2025-06-30", None, "1969-12-31 12:00", "2025-06-30 23:59", "2001-01-01"],
            format="mixed",
        )
    )
    expected = values.dt.strftime("%Y-%m-%d").tolist()
    assert date_text(pa.array(values)).to_pylist() == [
        None if isinstance(e, float) else e for e in expected
    ]


def test_latest_entry_per_target_equals_a_stable_sort():
    """Latest by (date, id), ties by input order, missing ids last: as a stable sort."""
    import pandas as pd

    from salesops_analysis.risk.lookups import latest_entry

    rng = np.random.default_rng(11)
    m = 3000
    rows = rng.integers(0, 400, m)
    date = pd.Series(pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 5, m), "D"))
    ident = pd.Series(rng.choice(["A-1", "A-2", "B-1", None], m), dtype="str")
    got = latest_entry(rows, 450, date, ident)
    frame = pd.DataFrame({"row": rows, "date": date, "ident": ident, "at": np.arange(m)})
    last = frame.sort_values(["row", "date", "ident"], kind="stable").drop_duplicates(
        "row", keep="last"
    )
    expected = np.full(450, -1)
    expected[last["row"].to_numpy()] = last["at"].to_numpy()
    np.testing.assert_array_equal(got, expected)
