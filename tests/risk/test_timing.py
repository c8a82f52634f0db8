"""The time-to-pay model's rows: censored at the cut-off, point in time, partial payments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops_analysis._errors import ModelError
from salesops_analysis.metrics.days import NO_DAY, day_number
from salesops_analysis.metrics.receivables import Ledger
from salesops_analysis.risk.features import Knowledge
from salesops_analysis.risk.settlements import Settlements
from salesops_analysis.risk.timing import (
    SNAPSHOT_FEATURES,
    TIMING_FEATURES,
    fit_timing,
    invoice_weeks,
    open_rows,
    pay_date_quantiles,
    pay_distribution,
    timing_snapshot,
    train_timing,
    week_features,
)
from salesops_analysis.risk.timing_store import find_timing_model, load_timing, save_timing
from tests.metrics.conftest import invoices, payments
from tests.risk.cashbook import cash_book


def _k(inv, pay, T):
    return Knowledge.at(T, inv, pay, categorical=[])


def _weeks(inv, pay, T, cutoff, first):
    k = _k(inv, pay, T)
    return k, invoice_weeks(
        k, Settlements(k.ledger, k.T), cutoff=day_number(cutoff), first=day_number(first), every=7
    )


def test_invoice_still_open_at_the_cutoff_never_counts_as_paid():
    inv = invoices([("I1", "2025-01-01", "2025-01-31", 100.0)])
    pay = payments([("I1", "2025-03-20", 100.0)])  # paid after the cut-off
    _, w = _weeks(inv, pay, "2025-06-30", "2025-03-01", "2025-01-05")
    assert len(w.paid) > 0
    assert (w.paid == 0).all()
    # no week ends after the cut-off
    ends = w.snap[w.pair] + 7 * w.X["week"].to_numpy().astype(int)
    assert ends.max() <= day_number("2025-03-01")


def test_a_week_is_a_row_only_while_the_invoice_is_open_at_its_start():
    inv = invoices([("I1", "2025-01-01", "2025-01-31", 100.0)])
    pay = payments([("I1", "2025-01-20", 100.0)])
    _, w = _weeks(inv, pay, "2025-06-30", "2025-06-29", "2025-01-05")
    first = w.pair == 0  # the snapshot of 2025-01-05: weeks to 01-12, 01-19, 01-26
    assert w.paid[first].tolist() == [0.0, 0.0, 1.0]


def test_partial_payment_counts_as_the_share_of_the_balance_it_pays():
    inv = invoices([("I1", "2025-01-01", "2025-01-31", 100.0)])
    pay = payments([("I1", "2025-01-08", 30.0), ("I1", "2025-01-22", 70.0)])
    _, w = _weeks(inv, pay, "2025-06-30", "2025-06-29", "2025-01-05")
    first = w.pair == 0
    # week 1: 30 of 100; week 2: nothing of 70; week 3: 70 of 70
    assert w.paid[first].tolist() == pytest.approx([0.3, 0.0, 1.0])
    assert w.balance[first].tolist() == pytest.approx([100.0, 70.0, 70.0])
    # the snapshot after the partial payment knows 30% was paid
    second = np.flatnonzero(w.pair == 1)
    assert w.X["paid_share"].to_numpy()[second] == pytest.approx([0.3, 0.3])


def test_credit_note_lowers_the_balance_but_is_not_cash():
    inv = invoices(
        [("I1", "2025-01-01", "2025-01-31", 100.0), ("CN1", "2025-01-10", "2025-01-10", -40.0)]
    )
    inv.loc[1, "applies_to_invoice_id"] = "I1"
    pay = payments([("I1", "2025-01-15", 60.0)])
    led = Ledger(inv, pay)
    settled, cash = Settlements(led, day_number("2025-06-30")).by(
        np.array([0, 0, 0]),
        np.array([day_number(d) for d in ("2025-01-09", "2025-01-10", "2025-01-15")]),
    )
    assert settled.tolist() == [0.0, 40.0, 100.0]
    assert cash.tolist() == [0.0, 0.0, 60.0]


def test_without_a_payments_export_the_paid_date_counts():
    inv = invoices([("I1", "2025-01-01", "2025-01-31", 100.0)])
    inv["paid_amount"] = 100.0
    inv["paid_date"] = pd.Timestamp("2025-02-03")
    led = Ledger(inv, None)
    days = np.array([day_number("2025-02-02"), day_number("2025-02-03")])
    settled, cash = Settlements(led, day_number("2025-06-30")).by(np.array([0, 0]), days)
    assert cash.tolist() == [0.0, 100.0]


def test_rows_known_at_the_cutoff_do_not_depend_on_later_payments():
    t = cash_book()
    cutoff = "2024-09-30"
    k1, w1 = _weeks(t.invoices, t.payments, "2025-01-15", cutoff, "2024-03-01")
    pay = t.payments.copy()
    later = pay["payment_date"] > pd.Timestamp(cutoff)
    pay.loc[later, "payment_date"] = pay.loc[later, "payment_date"] + pd.Timedelta(days=40)
    pay.loc[later, "amount"] = pay.loc[later, "amount"] / 2
    _, w2 = _weeks(t.invoices, pay, "2025-01-15", cutoff, "2024-03-01")
    pd.testing.assert_frame_equal(w1.X, w2.X)
    np.testing.assert_array_equal(w1.paid, w2.paid)


def test_open_rows_are_positive_invoices_not_settled_by_the_day():
    inv = invoices(
        [
            ("I1", "2025-01-01", "2025-01-31", 100.0),
            ("I2", "2025-01-01", "2025-01-31", 50.0),
            ("I3", "2025-02-10", "2025-03-10", 70.0),
            ("CN", "2025-01-02", "2025-01-02", -10.0),
        ]
    )
    pay = payments([("I1", "2025-01-20", 100.0), ("I2", "2025-01-20", 20.0)])
    k = _k(inv, pay, "2025-06-30")
    assert open_rows(k, day_number("2025-02-01")).tolist() == [1]


def test_pay_date_quantiles_read_off_the_cumulative_share():
    h = np.array([[0.5, 0.0, 1.0], [0.0, 0.0, 0.1], [1.0, 0.0, 0.0]])
    p, F = pay_distribution(h)
    assert p[0].tolist() == pytest.approx([0.5, 0.0, 0.5])
    assert F[0].tolist() == pytest.approx([0.5, 0.5, 1.0])
    d = 1000
    med = pay_date_quantiles(F, d, 0.5)
    # row 1 reaches half at the end of week 1; row 3 pays all in week 1: half by its 4th day
    assert med.tolist() == [d + 7, NO_DAY, d + 4]
    p90 = pay_date_quantiles(F, d, 0.9)
    assert p90[0] == d + 14 + 6  # 0.4 of the 0.5 in week 3: the 6th day of it
    assert pay_date_quantiles(np.zeros((0, 3)), d, 0.5).tolist() == []


def test_too_few_invoice_weeks_refuse_to_fit():
    inv = invoices([("I1", "2025-01-01", "2025-01-31", 100.0)])
    pay = payments([("I1", "2025-01-20", 100.0)])
    _, w = _weeks(inv, pay, "2025-06-30", "2025-06-29", "2025-01-05")
    with pytest.raises(ModelError, match="too few"):
        fit_timing(w, trained_as_of="2025-06-30")


def test_empty_book_has_no_invoice_weeks():
    inv = invoices([("I1", "2025-01-01", "2025-01-31", 100.0)]).iloc[:0]
    k = _k(inv, payments([]), "2025-06-30")
    w = invoice_weeks(k, Settlements(k.ledger, k.T), cutoff=k.T)
    assert len(w.paid) == 0 and list(w.X.columns) == TIMING_FEATURES


def test_saved_model_round_trips_and_the_newest_fitting_one_is_found(tmp_path):
    t = cash_book()
    k = Knowledge.at("2024-12-31", t.invoices, t.payments, categorical=[])
    model = train_timing(k)
    paths = save_timing(model, tmp_path, {"forecast": {"skipped": "test"}})
    assert paths["model"].name == "cash_timing_2024-12-31.skops"
    loaded = load_timing(paths["model"])
    M = np.zeros((3, len(TIMING_FEATURES)))
    np.testing.assert_allclose(loaded.model.predict_proba(M), model.model.predict_proba(M))
    assert find_timing_model(tmp_path, "2024-12-30") is None
    found = find_timing_model(tmp_path, "2025-01-15")
    assert found is not None and found[0] == paths["model"]
    (tmp_path / "cash_timing_2025-01-10.skops").write_text("not a model")
    assert find_timing_model(tmp_path, "2025-01-15")[0] == paths["model"]  # skips the bad one


def test_a_capped_sample_keeps_every_snapshot_and_its_later_weeks():
    # a big book must not train on its latest snapshots only (their later weeks are censored)
    t = cash_book()
    k = _k(t.invoices, t.payments, "2025-01-15")
    settle = Settlements(k.ledger, k.T)
    full = invoice_weeks(k, settle, cutoff=k.T)
    capped = invoice_weeks(k, settle, cutoff=k.T, limit=60)
    assert len(np.unique(capped.snap)) == len(np.unique(full.snap)) > 10
    assert len(capped.rows) <= 60 + len(np.unique(full.snap))
    assert capped.X["week"].max() >= 5


def test_a_model_of_other_timing_features_is_refused_and_passed_over(tmp_path, monkeypatch):
    import salesops_analysis.risk.timing_store as store

    t = cash_book()
    k = Knowledge.at("2024-12-31", t.invoices, t.payments, categorical=[])
    monkeypatch.setattr(store, "TIMING_VERSION", store.TIMING_VERSION - 1)
    old = save_timing(train_timing(k), tmp_path)["model"]  # as an older release saved it
    monkeypatch.undo()
    with pytest.raises(ModelError, match="another version of the timing features: retrain"):
        load_timing(old)
    assert find_timing_model(tmp_path, "2025-01-15") is None  # never silently misread


@pytest.fixture(scope="module")
def book_and_model():
    t = cash_book()
    k = Knowledge.at("2024-12-31", t.invoices, t.payments, categorical=[])
    return k, train_timing(k)


def _plain_hazards(model, X0, due, snap, paid_share, first, last):
    """The plain rule: one feature row per (invoice, week), built as the training rows are
    (:func:`week_features`), through ``predict_proba``."""
    n, H = len(X0), last - first + 1
    inv = np.repeat(np.arange(n), H)
    X = week_features(
        X0.iloc[inv].reset_index(drop=True),
        np.asarray(due)[inv],
        np.full(n * H, snap, dtype=np.int64),
        np.tile(np.arange(first, last + 1), n),
        np.asarray(paid_share)[inv],
    )
    if not n:
        return np.zeros((0, H))
    p = model.model.predict_proba(X[model.features].to_numpy(dtype=np.float64))[:, 1]
    return np.clip(p.reshape(n, H), 0.0, 1.0)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("block", [1, 7, 40, 100_000])
@pytest.mark.parametrize("n", [0, 1, 2, 23])
@pytest.mark.parametrize("weeks", [(1, 13), (5, 8), (26, 26)])
def test_hazards_block_by_block_equal_the_plain_rows(
    book_and_model, monkeypatch, compiled, block, n, weeks
):
    """The blocked hazards (one reused model-input buffer, blocks of whole invoices, a short
    last block), compiled or through scikit-learn, are, bit for bit, those of the plain feature
    rows through ``predict_proba``, for empty and one-row books too."""
    import salesops_analysis.risk.timing as timing
    from salesops_analysis.risk.scoring import CompiledBoosting

    k, model = book_and_model
    assert isinstance(model.compiled(), CompiledBoosting)
    if not compiled:
        monkeypatch.setattr(timing.TimingModel, "compiled", lambda self: None)
    snap = day_number("2024-12-15")
    rows = open_rows(k, snap)[:n]
    assert len(rows) == n
    X0, paid_share = timing_snapshot(k, Settlements(k.ledger, k.T), rows, snap)
    due = k.ledger.due[rows]
    first, last = weeks
    monkeypatch.setattr(timing, "HAZARD_BLOCK", block)
    got = model.hazards(X0, due, snap, paid_share, first, last)
    expected = _plain_hazards(model, X0, due, snap, paid_share, first, last)
    assert got.shape == (n, last - first + 1)
    np.testing.assert_array_equal(got, expected)
    if n:
        assert (got > 0).any() and not np.isnan(got).any()


def test_a_partly_paid_invoice_has_its_paid_share_in_every_week_row(book_and_model):
    k, model = book_and_model
    snap = day_number("2024-12-15")
    rows = open_rows(k, snap)[:3]
    X0, _ = timing_snapshot(k, Settlements(k.ledger, k.T), rows, snap)
    share = np.array([0.0, 0.25, 0.5])
    M = model._week_matrix(
        X0[SNAPSHOT_FEATURES].to_numpy(dtype=np.float64),
        k.ledger.due[rows],
        snap,
        share,
        np.arange(1, 5),
    )
    column = model.features.index("paid_share")
    assert M[:, column].reshape(3, 4).tolist() == [[0.0] * 4, [0.25] * 4, [0.5] * 4]
    assert M[:, model.features.index("week")].reshape(3, 4)[1].tolist() == [1, 2, 3, 4]


def test_a_hazard_model_that_cannot_be_compiled_is_used_as_it_is_and_said_once(
    book_and_model, monkeypatch
):
    import warnings

    from salesops_analysis.risk import scoring

    monkeypatch.setattr(scoring, "_warned", set())  # as in a new process

    from sklearn.linear_model import LogisticRegression

    from salesops_analysis.risk.scoring import ScoringFallbackWarning
    from salesops_analysis.risk.timing import TimingModel

    k, model = book_and_model
    snap = day_number("2024-12-15")
    rows = open_rows(k, snap)[:5]
    X0, share = timing_snapshot(k, Settlements(k.ledger, k.T), rows, snap)
    due = k.ledger.due[rows]
    rng = np.random.default_rng(0)
    M = rng.random((200, len(TIMING_FEATURES))) * 50
    other = TimingModel(
        LogisticRegression().fit(M, rng.integers(0, 2, 200)), list(TIMING_FEATURES), 26, "", 0
    )
    with pytest.warns(ScoringFallbackWarning, match="LogisticRegression through scikit-learn"):
        a = other.hazards(X0, due, snap, share, 1, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = other.hazards(X0, due, snap, share, 1, 4)  # said once
    np.testing.assert_array_equal(a, b)
    # (a logistic regression's matrix product rounds by memory layout: not bit for bit)
    np.testing.assert_allclose(
        a, _plain_hazards(other, X0, due, snap, share, 1, 4), rtol=1e-12, atol=0
    )


@pytest.mark.parametrize("n", [0, 1, 2, 500])
def test_settlement_totals_of_queries_in_order_equal_those_of_shuffled_queries(n):
    """`Settlements.by` of (row, day) questions already in order (searched without a sort)
    gives what the same questions in any order give, and the plain rule: the sum of the row's
    events dated on or before the day."""
    from salesops_analysis.risk.settlements import RunningTotals

    rng = np.random.default_rng(n)
    ev_rows, ev_days = rng.integers(0, 40, 300), rng.integers(100, 200, 300)
    amount = rng.normal(size=300)
    totals = RunningTotals(ev_rows, ev_days, {"x": amount})
    rows = np.sort(rng.integers(-1, 45, n))
    days = np.zeros(n, dtype=np.int64)
    for r in np.unique(rows):  # each row's days in turn: questions in (row, day) order
        at = rows == r
        days[at] = np.sort(rng.integers(90, 210, int(at.sum())))
    got = totals.total("x", *totals.bounds(rows, days))
    plain = [amount[(ev_rows == r) & (ev_days <= d)].sum() for r, d in zip(rows, days, strict=True)]
    np.testing.assert_allclose(got, plain, atol=1e-12)
    shuffle = rng.permutation(n)
    again = totals.total("x", *totals.bounds(rows[shuffle], days[shuffle]))
    np.testing.assert_array_equal(again, got[shuffle])
