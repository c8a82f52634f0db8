"""The forecast backtest: errors computed by hand, actual cash reconciled, and the demo
measured against the issue's targets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import salesops_analysis as so
from salesops_analysis.cli import main
from salesops_analysis.risk.backtest import (
    NO_BACKTEST,
    CollectionCurves,
    backtest_forecast,
    backtest_verdict,
    beats_best_baseline,
    forecast_card,
    forecast_errors,
    forecast_summary,
    train_cash_timing,
)
from salesops_analysis.risk.features import Knowledge
from salesops_analysis.risk.model import training_data
from salesops_analysis.risk.timing import InvoiceWeeks
from tests.risk.cashbook import cash_book


def test_wape_and_bias_by_hand():
    weekly = pd.DataFrame(
        {
            "week": [1, 2, 5, 6],
            "actual": [100.0, 100.0, 50.0, 50.0],
            "model": [90.0, 120.0, 50.0, 30.0],
        }
    )
    e = forecast_errors(weekly, ["model"])["model"]
    assert e["wape_1_4"] == pytest.approx(30 / 200)
    assert e["wape_5_13"] == pytest.approx(20 / 100)
    assert e["wape_1_13"] == pytest.approx(50 / 300)
    assert e["bias"] == pytest.approx(-10 / 300)
    empty = forecast_errors(weekly.iloc[:0], ["model"])["model"]
    assert np.isnan(empty["wape_1_13"])


def test_collection_curves_are_cash_over_open_balance_by_band_and_week():
    X = pd.DataFrame({"days_past_due": [-20.0, -20.0, 40.0, 40.0], "week": [1.0, 1.0, 1.0, 2.0]})
    w = InvoiceWeeks(
        X, np.array([1.0, 0.0, 0.5, 1.0]), np.array([100.0, 300.0, 200.0, 100.0]), *[None] * 3
    )
    curves = CollectionCurves.fit(w, horizon=2)
    F = curves.distribution(np.array([-20.0, 40.0, 400.0]))
    assert F[0].tolist() == pytest.approx([0.25, 0.25])  # 100 paid of 400 open, then nothing
    assert F[1].tolist() == pytest.approx([0.5, 1.0])
    assert F[2].tolist() == [0.0, 0.0]  # a band never seen: nothing expected


def _backtest(model: float, curves: float) -> dict:
    def m(w):
        return {"wape_1_4": w, "wape_5_13": w, "wape_1_13": w, "bias": 0.01}

    return {
        "month_ends": ["2025-05-31"],
        "test_start": "2025-01-01",
        "model": {**m(model), "interval_coverage": 0.8},
        "due_date": m(0.3),
        "customer_days_late": m(0.2),
        "collection_curves": m(curves),
        "best_baseline": "collection_curves",
    }


def test_the_model_is_called_better_only_when_it_beat_the_best_baseline():
    worse = _backtest(model=0.036, curves=0.033)  # the 1M demo before this change
    assert beats_best_baseline(worse) is False
    said = backtest_verdict(worse)
    assert "not less than the collection curves (3.3%)" in said and "3.6%" in said
    assert "less than the best" not in said
    assert "does NOT beat" in forecast_summary(worse)
    assert backtest_verdict(worse) in forecast_card(
        {"as_of": "2025-06-30", "horizon_weeks": 26, "trained_invoice_weeks": 1, "forecast": worse}
    )
    tie = _backtest(model=0.033, curves=0.033)
    assert beats_best_baseline(tie) is False  # a tie is not better
    better = _backtest(model=0.105, curves=0.114)
    assert beats_best_baseline(better) is True
    assert "less than the best simple forecast (the collection curves, 11.4%)" in (
        backtest_verdict(better)
    )
    assert "does NOT" not in forecast_summary(better)
    # no backtest, or no comparable numbers: no claim either way
    assert beats_best_baseline({}) is None
    assert "no backtest (the model was trained without one)" in backtest_verdict({})
    assert beats_best_baseline({"skipped": "too few"}) is None
    assert "too few" in backtest_verdict({"skipped": "too few"})
    assert beats_best_baseline(_backtest(model=float("nan"), curves=0.1)) is None


@pytest.fixture(scope="module")
def book_backtest():
    t = cash_book(last="2025-06-30")
    k = Knowledge.at("2025-06-30", t.invoices, t.payments, categorical=[])
    return t, backtest_forecast(k, n_sims=200)


def test_backtest_actuals_are_the_cash_from_the_invoices_open_at_each_month_end(book_backtest):
    t, (metrics, weekly) = book_backtest
    pay = t.payments.merge(t.invoices[["invoice_id", "invoice_date"]], on="invoice_id")
    for m_end in metrics["month_ends"]:
        M = pd.Timestamp(m_end)
        part = weekly.loc[weekly["month_end"] == M]
        # plainly: payments of invoices issued by M, not yet paid at M, within 13 weeks
        open_then = pay.loc[(pay["invoice_date"] <= M) & (pay["payment_date"] > M)]
        week = (open_then["payment_date"] - M).dt.days.add(6) // 7
        expect = open_then.groupby(week)["amount"].sum().reindex(part["week"], fill_value=0)
        np.testing.assert_allclose(part["actual"], expect.to_numpy())
        # weeks whose end is after the knowledge date are left out
        assert (M + pd.to_timedelta(7 * part["week"], unit="D") <= pd.Timestamp("2025-06-30")).all()


def test_backtest_of_a_regular_book_beats_the_due_date(book_backtest):
    _, (metrics, _) = book_backtest
    assert metrics["model"]["wape_1_13"] < 0.05
    # C2 pays 14 days late: the due date is wrong for half the cash
    assert metrics["due_date"]["wape_1_13"] > 0.3
    assert metrics["customer_days_late"]["wape_1_13"] < 0.05  # exactly its rule
    assert metrics["model"]["pay_date_median_abs_error_days"] <= 4
    assert metrics["customer_days_late"]["pay_date_median_abs_error_days"] == 0


def test_a_test_period_without_a_month_end_is_refused_with_the_reason():
    t = cash_book(last="2025-01-05")
    k = Knowledge.at("2025-01-05", t.invoices, t.payments, categorical=[])
    with pytest.raises(so.SalesOpsError, match="no month-end"):
        backtest_forecast(k, test_share=0.01)


def test_too_short_a_history_is_refused_and_train_still_succeeds(tmp_path, monkeypatch):
    t = cash_book(first="2024-11-01", last="2025-01-15")
    with pytest.raises(so.SalesOpsError, match="too few"):
        train_cash_timing(t, "2025-01-15", so.Config(), tmp_path)
    from salesops_analysis.cli import accounts, models

    monkeypatch.setattr(accounts, "read_tables", lambda db_path: t)
    r = CliRunner().invoke(main, ["forecast", "--as-of", "2025-01-15", "--models", str(tmp_path)])
    assert r.exit_code == 1 and "too few" in r.output and "Traceback" not in r.output
    lines = []
    monkeypatch.setattr(models.click, "echo", lambda msg="", **kw: lines.append(msg))
    data = training_data(t, "2025-01-15", so.Config())
    models._train_cash_timing(data, "2025-01-15", so.Config(), str(tmp_path))
    assert any("cash-timing model skipped" in line for line in lines)


@pytest.fixture(scope="module")
def demo_backtest(demo_tables, demo_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("models")
    return train_cash_timing(demo_tables, "2025-06-30", demo_config, out)


def test_demo_backtest_meets_the_targets(demo_backtest):
    """The issue's targets on the demo: WAPE weeks 1-13 at most 0.7 x the due-date baseline
    and no worse than the best baseline; the 80% band holds 70-90% of the weeks."""
    _, metrics, paths = demo_backtest
    f = metrics["forecast"]
    assert len(f["month_ends"]) >= 4
    assert f["wape_1_13_vs_due_date"] <= 0.7
    assert f["wape_1_13_vs_best_baseline"] <= 1.0
    assert 0.7 <= f["model"]["interval_coverage"] <= 0.9
    assert f["beats_best_baseline"] is True
    saved = json.loads(paths["metrics"].read_text())
    assert saved["forecast"]["model"]["wape_1_13"] == pytest.approx(f["model"]["wape_1_13"])
    assert "| model |" in paths["card"].read_text()


def test_the_demo_pay_date_interval_widens_with_the_horizon(
    demo_backtest, demo_tables, demo_config
):
    from salesops_analysis.risk.forecast import cash_forecast

    model, _, _ = demo_backtest
    fc = cash_forecast(demo_tables, "2025-06-30", demo_config, model=model)
    inv = fc.per_invoice.dropna(subset=["pay_date_p10", "pay_date_p90"])
    width = (inv["pay_date_p90"] - inv["pay_date_p10"]).dt.days
    ahead = (inv["expected_pay_date"] - pd.Timestamp("2025-06-30")).dt.days
    assert width[ahead <= 14].mean() < width[ahead > 28].mean()


def test_train_command_backtests_and_saves_the_timing_model(demo_db, tmp_path):
    r = CliRunner().invoke(
        main,
        [
            "train",
            "--as-of",
            "2025-06-30",
            "--db",
            str(demo_db),
            "--out",
            str(tmp_path),
            "--config",
            "salesops.yml",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "cash forecast backtest" in r.output
    assert (tmp_path / "cash_timing_2025-06-30.skops").is_file()
    f = tmp_path / "fc.csv"
    r = CliRunner().invoke(
        main,
        ["forecast", "--as-of", "2025-06-30", "--db", str(demo_db), "--models", str(tmp_path)]
        + ["--out", str(f), "--config", "salesops.yml"],
    )
    assert r.exit_code == 0, r.output
    assert "cash_timing_2025-06-30.skops" in r.output
    # the forecast carries the backtest of the model it used
    from salesops_analysis.metrics import load_tables
    from salesops_analysis.risk import cash_forecast

    with so.open_warehouse(demo_db, read_only=True) as wh:
        tables = load_tables(wh)
    fc = cash_forecast(tables, "2025-06-30", so.load_config("salesops.yml"), tmp_path, weeks=2)
    assert fc.backtest["model"]["wape_1_13"] > 0 and "month_ends" in fc.backtest


def test_train_reads_the_warehouse_once_for_both_models_as_from_every_table(
    demo_db, demo_config, demo_tables, demo_model, demo_backtest
):
    """`salesops train` reads the warehouse once (training's columns and the currencies) and
    holds arrays only: both models and the backtest are those of the whole tables."""
    from dataclasses import replace

    from salesops_analysis.risk.model import read_training, train_from_knowledge

    data = read_training(str(demo_db), "2025-06-30", demo_config)
    led = data.knowledge.ledger
    assert not hasattr(led, "invoices") and not hasattr(led, "payments")
    assert len(led.amount) == len(demo_tables.invoices) > 1000
    # the rates hold one row per currency, and answer as the whole tables do
    for frame in (data.rates.invoices, data.rates.orders, data.rates.payments):
        assert list(frame.columns) == ["currency"] and len(frame) == frame["currency"].nunique()
    for day in ("2025-01-31", "2025-06-30"):
        assert data.rates.rates(day, demo_config) == demo_tables.rates(day, demo_config)
    k = replace(data.knowledge, categories={})
    _, metrics, _ = train_cash_timing(
        data.rates, "2025-06-30", demo_config, knowledge=k, settle=data.settlements
    )
    assert metrics == demo_backtest[1]
    late = train_from_knowledge(data, demo_config).metrics
    assert json.dumps(late, sort_keys=True) == json.dumps(demo_model.metrics, sort_keys=True)


def test_the_currencies_of_the_training_rates_on_a_book_of_none_or_one_invoice():
    """The rates of `read_training` hold the distinct currencies: none of an empty table or
    one without the column, one of a one-row table."""
    from salesops_analysis.risk.model.sources import _distinct_currencies

    empty = _distinct_currencies(pd.DataFrame({"currency": pd.Series([], dtype="str")}))
    assert list(empty.columns) == ["currency"] and empty.empty
    assert _distinct_currencies(pd.DataFrame({"amount": [1.0]})).empty
    one = _distinct_currencies(pd.DataFrame({"currency": ["EUR"], "amount": [1.0]}))
    assert one["currency"].tolist() == ["EUR"]
    many = _distinct_currencies(pd.DataFrame({"currency": ["EUR", None, "EUR", "USD"]}))
    assert set(many["currency"].dropna()) == {"EUR", "USD"} and len(many) == 3


def test_no_backtest_saves_the_same_model_and_says_the_backtest_was_not_run(tmp_path, monkeypatch):
    t = cash_book()
    with_bt, metrics, _ = train_cash_timing(t, "2025-01-31", so.Config(), tmp_path / "a")
    assert "model" in metrics["forecast"]
    model, metrics, paths = train_cash_timing(
        t, "2025-01-31", so.Config(), tmp_path / "b", backtest=False
    )
    assert metrics["forecast"] == {"skipped": NO_BACKTEST}
    assert "Skipped: not run (salesops train --no-backtest)" in paths["card"].read_text()
    assert backtest_verdict(metrics["forecast"]).startswith("The timing model has no backtest")
    # the deployed model does not depend on the backtest
    M = np.random.default_rng(0).random((50, len(model.features))) * 30
    np.testing.assert_array_equal(model.model.predict_proba(M), with_bt.model.predict_proba(M))
    # the command's flag reaches it
    from salesops_analysis.cli import models

    seen = []
    monkeypatch.setattr(models, "_train_cash_timing", lambda *a, **kw: seen.append(kw))
    monkeypatch.setattr(models, "warehouse", lambda db_path: db_path)
    import salesops_analysis.risk.model as model_pkg

    monkeypatch.setattr(model_pkg, "read_training", lambda *a: None)
    monkeypatch.setattr(model_pkg, "train_from_knowledge", lambda *a: _FakeTrained())
    monkeypatch.setattr(model_pkg, "save_model", lambda m, out: _FAKE_PATHS)
    for flag, expected in (([], True), (["--no-backtest"], False)):
        r = CliRunner().invoke(main, ["train", "--as-of", "2025-01-31", *flag])
        assert r.exit_code == 0, r.output
        assert seen.pop() == {"backtest": expected}


class _FakeTrained:
    """What the train command reads of a trained late-payment model."""

    deployment_note = ""
    metrics = {
        "model": {"late": "x", "overdue": None},
        "test": {"roc_auc": 0.5, "brier": 0.2, "brier_base_rate": 0.2, "rows": 1}
        | {"top_decile_late_amount_share": 0.1},
        "baselines": {
            "customer_late_share": {"roc_auc": 0.5},
            "days_past_due_amount": {"roc_auc": 0.5},
        },
    }


_FAKE_PATHS = {
    "model": Path("m.skops"),
    "card": Path("m.card.md"),
    "metrics": Path("m.metrics.json"),
}


@pytest.mark.parametrize("n", [0, 1, 400])
def test_collection_curves_per_band_equal_the_curve_of_each_invoice(n):
    """The curves' distribution, computed once per days-past-due band, is each invoice's own
    running product of its band's hazards, bit for bit."""
    rng = np.random.default_rng(n)
    curves = CollectionCurves(rng.random((12, 26)) * 0.4)
    dpd = rng.integers(-90, 400, n).astype(float)
    got = curves.distribution(dpd)
    band = np.searchsorted(np.array([-60, -30, -14, -7, 0, 7, 14, 30, 60, 90, 180]), dpd)
    own = np.array([1.0 - np.cumprod(1.0 - curves.hazard[b]) for b in band]).reshape(n, 26)
    assert got.shape == (n, 26)
    np.testing.assert_array_equal(got, own)


def test_training_rates_count_the_currencies_of_payments_implied_by_snapshots(tmp_path):
    """Without a payments export, the rates of `read_training` hold the currencies of the
    payments that open-items snapshots imply, as the tables would."""
    from salesops_analysis.metrics import load_tables
    from salesops_analysis.risk.model import read_training
    from tests.metrics.test_snapshots import I1, I2, SNAP, snap

    db = tmp_path / "w.duckdb"
    with so.open_warehouse(db) as wh:
        so.ingest_file(wh, snap(tmp_path, "2025-06-01", [(*I1, 100.0), (*I2, 50.0)]), SNAP)
        so.ingest_file(wh, snap(tmp_path, "2025-06-04", [(*I2, 50.0)]), SNAP)
    data = read_training(str(db), "2025-06-30", SNAP)
    with so.open_warehouse(db, read_only=True) as wh:
        tables = load_tables(wh)
    assert data.payments_implied and tables.payments_implied
    assert data.rates.payments["currency"].tolist() == ["USD"]
    assert data.rates.rates("2025-06-30", SNAP) == tables.rates("2025-06-30", SNAP)
    np.testing.assert_array_equal(data.knowledge.closed, Knowledge.of(tables, "2025-06-30").closed)
