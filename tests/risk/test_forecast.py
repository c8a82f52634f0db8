"""The weekly cash forecast: week boundaries, FX at the forecast day, a book whose answer is
known, and the 80% band."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import salesops_analysis as so
from salesops_analysis.cli import main
from salesops_analysis.metrics.days import day_number
from salesops_analysis.risk.features import Knowledge
from salesops_analysis.risk.forecast import (
    Book,
    cash_forecast,
    simulate_weeks,
    timing_model_for,
    week_of,
)
from salesops_analysis.risk.timing import (
    TIMING_FEATURES,
    TimingModel,
    pay_distribution,
    train_timing,
)
from tests.risk.cashbook import AS_OF, cash_book, due_in_week


@pytest.fixture(scope="module")
def book_tables():
    return cash_book()


@pytest.fixture(scope="module")
def book_model(book_tables):
    t = book_tables
    return train_timing(Knowledge.at(AS_OF, t.invoices, t.payments, categorical=[]))


def test_week_k_covers_days_d_plus_1_to_d_plus_7k():
    d = day_number("2025-01-15")
    days = d + np.array([1, 7, 8, 14, 15, 91])
    assert week_of(days, d).tolist() == [1, 1, 2, 2, 3, 13]


def test_due_date_view_puts_overdue_invoices_in_week_one():
    d = 1000
    book = Book(d, np.arange(4), np.array([10.0, 20.0, 30.0, 40.0]), None, None, None)
    # overdue, due tomorrow, due on day 7 (week 1), due on day 8 (week 2)
    by_week = book.on_date(np.array([d - 30, d + 1, d + 7, d + 8]), 3)
    assert by_week[0].tolist() == [10.0 + 20.0 + 30.0, 40.0, 0.0]


def test_forecast_of_a_hand_made_book_matches_the_known_answer(book_tables, book_model):
    fc = cash_forecast(book_tables, AS_OF, so.Config(), model=book_model)
    known = due_in_week(book_tables, AS_OF)
    assert known.sum() > 2000  # the book has open invoices with cash to come
    np.testing.assert_allclose(fc.weekly["expected"], known, atol=0.01 * known.max())
    # C2 always pays 14 days late: the due-date view is wrong by that, the forecast is not
    assert np.abs(fc.weekly["due_date_view"] - known).sum() > 0.2 * known.sum()
    assert fc.weekly["week_start"].iloc[0] == pd.Timestamp("2025-01-16")
    assert fc.weekly["week_end"].iloc[12] == pd.Timestamp("2025-01-15") + pd.Timedelta(days=91)
    # (within a cent per invoice: all of it is almost surely paid within the 13 weeks)
    assert fc.total_p10 - 0.5 <= fc.total_expected <= fc.total_p90 + 0.5
    assert fc.per_invoice["open_amount"].sum() == pytest.approx(known.sum())
    inv = fc.per_invoice
    assert inv["invoice_id"].is_unique
    assert (inv["pay_date_p10"] <= inv["expected_pay_date"]).all()
    assert (inv["expected_pay_date"] <= inv["pay_date_p90"]).all()
    # the late customer's invoices are expected about two weeks after their due dates
    late = fc.per_invoice.loc[fc.per_invoice["customer_id"] == "C2"]
    gap = (late["expected_pay_date"] - late["due_date"]).dt.days
    assert gap.between(7, 21).all()


def test_forecast_ignores_everything_after_the_as_of_day(book_tables, book_model):
    before = cash_forecast(book_tables, AS_OF, so.Config(), model=book_model)
    pay = book_tables.payments.copy()
    later = pay["payment_date"] > pd.Timestamp(AS_OF)
    pay.loc[later, "payment_date"] = pay.loc[later, "payment_date"] + pd.Timedelta(days=60)
    extra = book_tables.invoices.iloc[:3].copy()
    extra["invoice_id"] = ["X1", "X2", "X3"]
    extra["invoice_date"] = pd.Timestamp("2025-02-01")
    scrambled = replace(
        book_tables,
        payments=pay,
        invoices=pd.concat([book_tables.invoices, extra], ignore_index=True),
    )
    after = cash_forecast(scrambled, AS_OF, so.Config(), model=book_model)
    pd.testing.assert_frame_equal(before.weekly, after.weekly)
    pd.testing.assert_frame_equal(before.per_invoice, after.per_invoice)


def test_partial_payment_leaves_the_rest_to_forecast(book_tables, book_model):
    t = book_tables
    open_inv = t.invoices.loc[t.invoices["invoice_id"] == "C1-0126"].iloc[0]
    pay = pd.concat(
        [
            t.payments,
            pd.DataFrame(
                {
                    "payment_id": ["PART"],
                    "invoice_id": ["C1-0126"],
                    "customer_id": ["C1"],
                    "payment_date": pd.to_datetime(["2025-01-14"]).astype("datetime64[us]"),
                    "amount": [30.0],
                    "currency": ["USD"],
                }
            ),
        ],
        ignore_index=True,
    )
    fc = cash_forecast(replace(t, payments=pay), AS_OF, so.Config(), model=book_model)
    row = fc.per_invoice.loc[fc.per_invoice["invoice_id"] == "C1-0126"].iloc[0]
    assert row["open_amount"] == pytest.approx(open_inv["amount"] - 30.0)


def test_amounts_are_converted_at_the_rates_of_the_as_of_day(book_model):
    t = cash_book(currency={"C2": "EUR"})
    fx = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-01", "2025-01-14", "2025-02-01"] * 2).astype(
                "datetime64[us]"
            ),
            "currency": ["EUR"] * 3 + ["USD"] * 3,
            "rate": [1.10, 1.20, 1.50, 1.0, 1.0, 1.0],
        }
    )
    t = replace(t, fx_rates=fx)
    fc = cash_forecast(t, AS_OF, so.Config(), model=book_model, by=["currency"])
    inv = fc.per_invoice
    eur = inv["currency"] == "EUR"
    doc = t.invoices.set_index("invoice_id").loc[inv["invoice_id"], "amount"].to_numpy()
    np.testing.assert_allclose(inv.loc[eur, "open_amount"], doc[eur.to_numpy()] * 1.20)
    np.testing.assert_allclose(inv.loc[~eur, "open_amount"], doc[~eur.to_numpy()])
    assert fc.currency == "USD"
    by = fc.by_group.groupby("week")["expected"].sum().to_numpy()
    np.testing.assert_allclose(by, fc.weekly["expected"], atol=0.05)
    eur_weeks = fc.by_group.loc[fc.by_group["currency"] == "EUR", "expected"].sum()
    assert eur_weeks == pytest.approx(inv.loc[eur, "expected_in_horizon"].sum(), rel=1e-3)


class _ConstantHazard:
    """A hazard model that pays a share ``h`` of the open invoices every week."""

    def __init__(self, h: float) -> None:
        self.h = h

    def predict_proba(self, M):
        return np.column_stack([np.full(len(M), 1 - self.h), np.full(len(M), self.h)])


@pytest.mark.filterwarnings("ignore:scoring _ConstantHazard through scikit-learn")  # hand-made
def test_the_band_widens_with_the_horizon(book_tables):
    model = TimingModel(_ConstantHazard(0.04), list(TIMING_FEATURES), 26, AS_OF, 0)
    fc = cash_forecast(book_tables, AS_OF, so.Config(), model=model, n_sims=2000)
    width = (fc.weekly["cumulative_p90"] - fc.weekly["cumulative_p10"]).to_numpy()
    assert (np.diff(width) > 0).sum() >= 11  # widening week after week (simulation noise aside)
    assert width[-1] > 2 * width[0]
    inv = fc.per_invoice
    # 1 - 0.96**26 = 65% is paid within 26 weeks: the median is known, the p90 is "later"
    assert ((inv["expected_pay_date"] - inv["pay_date_p10"]).dt.days > 7 * 10).all()
    assert inv["pay_date_p90"].isna().all()


def test_simulated_weeks_match_the_expected_cash():
    rng = np.random.default_rng(1)
    h = rng.uniform(0.05, 0.5, size=(300, 13))
    p, F = pay_distribution(h)
    amount = rng.uniform(10, 100, 300)
    sims = simulate_weeks(amount, F, np.arange(300) % 40, weeks=13, n_sims=3000, rho=0.5)
    np.testing.assert_allclose(sims[:, 0].mean(axis=0), amount @ p, rtol=0.05)
    assert simulate_weeks(np.zeros(0), np.zeros((0, 13)), np.zeros(0), weeks=13).sum() == 0


def test_a_book_with_nothing_open_forecasts_zero(book_tables, book_model):
    t = book_tables
    fc = cash_forecast(t, "2023-12-31", so.Config(), model=book_model, by=["segment"])
    assert len(fc.per_invoice) == 0 and len(fc.weekly) == 13
    assert fc.weekly["expected"].sum() == 0 and fc.total_p90 == 0
    one = cash_forecast(t, "2024-01-01", so.Config(), model=book_model, weeks=1)
    assert len(one.per_invoice) == 2 and len(one.weekly) == 1


def test_too_many_weeks_and_unknown_breakdowns_are_refused(book_tables, book_model):
    with pytest.raises(so.SalesOpsError, match="weeks"):
        cash_forecast(book_tables, AS_OF, so.Config(), model=book_model, weeks=27)
    with pytest.raises(so.SalesOpsError, match="--by"):
        cash_forecast(book_tables, AS_OF, so.Config(), model=book_model, by=["planet"])


def test_forecast_command_writes_the_weekly_table(demo_db, tmp_path):
    out = tmp_path / "fc.csv"
    args = ["forecast", "--as-of", "2025-03-31", "--db", str(demo_db), "--models", str(tmp_path)]
    r = CliRunner().invoke(main, [*args, "--out", str(out), "--config", "salesops.yml"])
    assert r.exit_code == 0, r.output
    assert "expected in the next 13 weeks" in r.output
    # no saved timing model: one is trained, backtested and saved, and the run says so
    assert "trained and backtested for this run in" in r.output
    assert (tmp_path / "cash_timing_2025-03-31.skops").is_file()
    assert "model: cash_timing_2025-03-31.skops" in r.output
    table = pd.read_csv(out)
    assert {"week_start", "expected", "p10", "p90", "due_date_view"} <= set(table.columns)
    assert len(table) == 13 and (table["p10"] <= table["p90"]).all()
    by = tmp_path / "by.csv"
    r = CliRunner().invoke(
        main, [*args, "--out", str(by), "--by", "team", "--by", "segment", "--weeks", "4"]
    )
    assert r.exit_code == 0, r.output
    assert "trained" not in r.output  # the next run reuses the saved model
    groups = pd.read_csv(by)
    assert list(groups.columns[:3]) == ["team", "segment", "week"]
    np.testing.assert_allclose(
        groups.groupby("week")["expected"].sum(), table["expected"].iloc[:4], rtol=1e-4
    )


def test_without_a_saved_model_one_is_trained_saved_and_reused(book_tables, tmp_path):
    first = timing_model_for(book_tables, AS_OF, so.Config(), tmp_path)
    saved = tmp_path / f"cash_timing_{AS_OF}.skops"
    assert saved.is_file() and first.source == saved.name
    assert first.trained_seconds is not None and first.trained_seconds > 0
    assert "trained and backtested for this run in" in first.note and str(saved) in first.note
    assert (tmp_path / f"cash_timing_{AS_OF}.card.md").is_file()
    again = timing_model_for(book_tables, AS_OF, so.Config(), tmp_path)
    assert again.trained_seconds is None and again.source == saved.name
    assert "trained" in again.note and "for this run" not in again.note
    fc = cash_forecast(book_tables, AS_OF, so.Config(), tmp_path)
    assert fc.model == saved.name and fc.model_trained_seconds is None
    assert fc.backtest["month_ends"] == first.model.metrics["forecast"]["month_ends"]


def test_a_model_trained_for_one_call_says_it_is_neither_saved_nor_backtested(book_tables):
    fc = cash_forecast(book_tables, AS_OF, so.Config())
    assert fc.model == "trained for this run" and fc.model_trained_seconds > 0
    assert "not saved and not backtested" in fc.model_note and fc.backtest == {}


def test_a_models_folder_that_cannot_be_written_is_said_not_fatal(book_tables, tmp_path):
    blocked = tmp_path / "models"
    blocked.write_text("a file where the models folder should be")
    choice = timing_model_for(book_tables, AS_OF, so.Config(), blocked)
    assert choice.source == "trained for this run" and "could not be saved" in choice.note


def _simulate_weeks_reference(amount, F, customer, *, weeks, group, n_groups, n_sims, seed):
    """``simulate_weeks`` as first written: every simulation of a pass in one weighted count
    (the same draws; the cash of one cell summed over the invoices in the same order)."""
    from scipy.special import ndtri

    from salesops_analysis.risk.payment_weeks import COMMON_LOADING as common
    from salesops_analysis.risk.payment_weeks import CUSTOMER_CORRELATION as rho

    n = len(amount)
    out = np.zeros((n_sims, n_groups, weeks))
    if not n:
        return out
    rng = np.random.default_rng(seed)
    thresholds = ndtri(np.clip(F[:, :weeks], 0.0, 1.0)).T.copy()
    _, cust = np.unique(customer, return_inverse=True)
    own = np.sqrt(max(0.0, 1.0 - rho**2 - common**2))
    chunk = max(1, 3_000_000 // (n * weeks))
    for start in range(0, n_sims, chunk):
        m = min(chunk, n_sims - start)
        z = own * rng.standard_normal((m, n))
        z += rho * rng.standard_normal((m, int(cust.max()) + 1))[:, cust]
        z += common * rng.standard_normal((m, 1))
        wk = np.zeros((m, n), dtype=np.int64)
        for j in range(weeks):
            wk += z > thresholds[j]
        key = (np.arange(m)[:, None] * n_groups + group[None, :]) * (weeks + 1) + wk
        flat = np.bincount(
            key.ravel(),
            weights=np.broadcast_to(amount, (m, n)).ravel(),
            minlength=m * n_groups * (weeks + 1),
        )
        out[start : start + m] = flat.reshape(m, n_groups, weeks + 1)[:, :, :weeks]
    return out


@pytest.mark.parametrize("n", [0, 1, 7, 3000])
@pytest.mark.parametrize("weeks", [1, 4, 13])
def test_simulated_weeks_sim_by_sim_equal_the_first_writing(n, weeks):
    rng = np.random.default_rng(n + weeks)
    amount = np.round(rng.random(n) * 1000, 2)
    F = np.sort(rng.random((n, 26)), axis=1)
    customer = rng.integers(0, max(1, n // 5), n)
    group = rng.integers(0, 3, n)
    for g, n_groups in ((group, 3), (np.zeros(n, dtype=np.int64), 1)):
        kw = dict(weeks=weeks, group=g, n_groups=n_groups, n_sims=150, seed=3)
        got = simulate_weeks(amount, F, customer, **kw)
        np.testing.assert_array_equal(got, _simulate_weeks_reference(amount, F, customer, **kw))
        assert got.shape == (150, n_groups, weeks)


@pytest.mark.parametrize("n", [0, 1, 300])
def test_the_running_unpaid_share_is_pay_distributions_bit_for_bit(n):
    """`forecast_book` extends hazards while the share paid is below the wanted quantile; the
    share it reads, multiplied week after week, is `pay_distribution`'s exactly."""
    from salesops_analysis.risk.payment_weeks import _times_unpaid

    h = np.random.default_rng(n).random((n, 26)) ** 3
    rows = np.arange(n)[::-1]
    for done in (1, 13, 26):
        unpaid = _times_unpaid(np.ones(n), h, rows, 0, min(done, 9))
        unpaid = _times_unpaid(unpaid, h, rows, min(done, 9), done)
        _, F = pay_distribution(h[rows, :done])
        np.testing.assert_array_equal(1.0 - unpaid, F[:, -1])


def test_a_book_predicted_in_part_has_the_pay_dates_and_weeks_of_one_predicted_whole(
    book_tables, book_model
):
    """Hazards beyond the forecast's weeks only for the invoices whose pay dates are wanted,
    and only while their median lies later: the same first weeks and the same medians as
    every hazard of every invoice."""
    from salesops_analysis.risk.payment_weeks import forecast_book
    from salesops_analysis.risk.settlements import Settlements
    from salesops_analysis.risk.timing import pay_date_quantiles

    t = book_tables
    k = Knowledge.at(AS_OF, t.invoices, t.payments, categorical=[])
    settle = Settlements(k.ledger, k.T)
    whole = forecast_book(k, settle, book_model, k.T)
    wanted = np.zeros(len(k.closed), dtype=bool)
    wanted[whole.rows[::2]] = True
    part = forecast_book(k, settle, book_model, k.T, weeks=2, dates_up_to=0.5, dates_of=wanted)
    np.testing.assert_array_equal(part.rows, whole.rows)
    np.testing.assert_allclose(part.p[:, :2], whole.p[:, :2], rtol=0, atol=1e-15)
    sel = wanted[part.rows]
    assert sel.any() and (~sel).any()
    np.testing.assert_array_equal(
        pay_date_quantiles(part.F[sel], k.T, 0.5), pay_date_quantiles(whole.F[sel], k.T, 0.5)
    )


@pytest.mark.parametrize("with_payments", [True, False])
def test_settlements_kept_for_some_rows_answer_those_rows_as_the_whole(book_tables, with_payments):
    from salesops_analysis.metrics.receivables import Ledger
    from salesops_analysis.risk.settlements import Settlements

    t = book_tables
    inv = t.invoices.copy()
    if not with_payments:  # paid amounts and dates on the invoices instead
        paid = np.arange(len(inv)) % 2 == 0
        inv["paid_amount"] = np.where(paid, inv["amount"] * 0.5, 0.0)
        inv["paid_date"] = inv["invoice_date"].where(paid) + pd.Timedelta(days=10)
    led = Ledger(inv, t.payments if with_payments else None)
    T = day_number(AS_OF)
    n = len(led.amount)
    rows = np.arange(0, n, 3)
    days = np.full(len(rows), T - 20)
    whole = Settlements(led, T)
    some = Settlements(led, T, rows)
    for got, want in zip(some.by(rows, days), whole.by(rows, days), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
    others = np.setdiff1d(np.arange(n), rows)
    assert whole.by(others, np.full(len(others), T))[0].any()  # they were settled ...
    assert not some.by(others, np.full(len(others), T))[0].any()  # ... but are not kept
    empty = Settlements(led, T, rows[:0])
    assert empty.by(rows[:1], days[:1])[0].tolist() == [0.0]
    one = Settlements(led, T, rows[:1])
    assert one.by(rows[:1], days[:1])[0].tolist() == whole.by(rows[:1], days[:1])[0].tolist()


def test_a_big_books_forecast_keeps_the_open_invoices_settlements_only(
    book_tables, book_model, monkeypatch
):
    from salesops_analysis.risk import forecast

    whole = cash_forecast(book_tables, AS_OF, so.Config(), model=book_model)
    monkeypatch.setattr(forecast, "BLOCK_ROWS", 10)  # the book counts as big
    assert len(book_tables.invoices) > 10
    kept = cash_forecast(book_tables, AS_OF, so.Config(), model=book_model)
    pd.testing.assert_frame_equal(kept.weekly, whole.weekly, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(
        kept.per_invoice, whole.per_invoice, check_exact=False, rtol=1e-12
    )
    assert (kept.total_p10, kept.total_p90) == pytest.approx((whole.total_p10, whole.total_p90))
