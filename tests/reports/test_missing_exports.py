"""Both reports run on whatever exports a user has, as long as invoices are among them.

Every subset of the six demo exports that holds invoices (31 of them) goes through the same
package calls the notebooks make; a few of them, and the edge cases (a date before any data, a
young warehouse, everything paid, one currency without FX rates, a customer with only credit
notes), also go through real `salesops` runs (papermill notebooks).
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import salesops_analysis as so
from salesops_analysis.cli import main
from salesops_analysis.reports import collections_report, daily_mis_report
from tests.conftest import DEMO_CONFIG

DAY = "2025-06-30"
OPTIONAL = ["payments", "orders", "activities", "customers", "fx_rates"]
SUBSETS = [
    ("invoices", *combo)
    for r in range(len(OPTIONAL) + 1)
    for combo in itertools.combinations(OPTIONAL, r)
]
# the demo has three currencies: without its rate table, fixed rates from the config
FIXED_RATES = "\nfx_rates: {EUR: 1.08, GBP: 1.27}\n"


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    """Small demo exports (about 1,500 invoices over two years)."""
    raw = tmp_path_factory.mktemp("subsets") / "raw"
    so.generate_demo(raw, scale=1500, seed=11)
    return raw


@pytest.fixture(scope="module")
def config_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "salesops.yml"
    path.write_text(DEMO_CONFIG.read_text() + FIXED_RATES)
    return path


def _warehouse(folder: Path, exports: Path, kinds, config_file: Path) -> Path:
    config = so.load_config(config_file)
    db = folder / "w.duckdb"
    with so.open_warehouse(db) as wh:
        for kind in kinds:
            so.ingest_file(wh, exports / f"{kind}.csv", config)
    return db


def _both(db: Path, day: str, config_file, folder: Path):
    mis = daily_mis_report(db, day, config_file, folder / "mis")
    col = collections_report(db, day, config_file, folder / "col", models_dir=folder / "models")
    # what the notebooks display, so a crash in the display code shows here too
    mis.headline(), mis.summary(), col.headline(), col.summary(), col.model_quality()
    return mis, col


@pytest.mark.slow
@pytest.mark.parametrize("kinds", SUBSETS, ids=lambda k: "+".join(k[1:]) or "invoices-only")
def test_both_reports_run_on_every_subset_of_exports(kinds, exports, config_file, tmp_path):
    db = _warehouse(tmp_path, exports, kinds, config_file)
    mis, col = _both(db, DAY, config_file, tmp_path)
    assert col.metrics["open_invoices"] > 0
    assert col.metrics["ar_open"] == pytest.approx(mis.metrics["ar_open"], abs=0.01)
    # what each missing export leaves out is said, never shown as zeros
    skipped_mis = mis.metrics["sections_skipped"]
    skipped_col = col.metrics["sections_skipped"]
    assert ("orders" in skipped_mis) == ("orders" not in kinds)
    assert ("activities" in skipped_mis) == ("activities" not in kinds)
    assert ("promises_and_contacts" in skipped_col) == ("activities" not in kinds)
    assert ("customer_names" in skipped_col) == ("customers" not in kinds)
    if "orders" not in kinds:
        assert mis.metrics["orders_received"] is None and mis.metrics["open_orders"] is None
        assert "no orders export" in mis.headline().iloc[:, 1].tolist()
    else:
        assert isinstance(mis.metrics["open_orders"], int)
    if "activities" not in kinds:
        assert set(col.worklist["promise_status"]) == {"none"}
        assert set(col.worklist["last_activity"]) == {"none"}
    if "customers" not in kinds:
        assert set(col.worklist["customer_name"]) == {""}
    if "activities" not in kinds and "orders" not in kinds:
        assert set(col.worklist["owner"]) == {"unassigned"}
    written = json.loads((tmp_path / "col" / "metrics.json").read_text())
    assert written["sections_skipped"] == skipped_col


# -- hand-made canonical exports for the edge cases ---------------------------------------------
def _book(n: int = 400, seed: int = 5, *, currency: str = "EUR", paid_all: bool = False):
    """Return canonical invoices and payments: two years, 20 customers, one currency."""
    rng = np.random.default_rng(seed)
    issued = pd.Timestamp("2023-07-01") + pd.to_timedelta(np.sort(rng.integers(0, 700, n)), "D")
    due = issued + pd.Timedelta(days=30)
    late = rng.random(n) < 0.35
    paid_on = due + pd.to_timedelta(np.where(late, rng.integers(1, 60, n), -5), "D")
    paid = paid_all | (paid_on <= pd.Timestamp(DAY))
    amount = np.round(rng.uniform(100, 5000, n), 2)
    invoices = pd.DataFrame(
        {
            "invoice_id": [f"I{i:05d}" for i in range(n)],
            "customer_id": [f"C{c:02d}" for c in rng.integers(0, 20, n)],
            "invoice_date": issued.strftime("%Y-%m-%d"),
            "due_date": due.strftime("%Y-%m-%d"),
            "amount": amount,
            "currency": currency,
            "status": np.where(paid, "paid", "open"),
            "paid_amount": np.where(paid, amount, 0.0),
            "paid_date": np.where(paid, paid_on.strftime("%Y-%m-%d"), ""),
        }
    )
    if paid_all:  # everything settled by the report day
        invoices["paid_date"] = np.minimum(paid_on, pd.Timestamp(DAY)).strftime("%Y-%m-%d")
    payments = invoices.loc[paid, ["invoice_id", "customer_id", "paid_date", "amount"]].rename(
        columns={"paid_date": "payment_date"}
    )
    payments.insert(0, "payment_id", [f"P{i:05d}" for i in range(len(payments))])
    payments["currency"] = currency
    return invoices, payments


def _ingest_frames(folder: Path, frames: dict[str, pd.DataFrame]) -> Path:
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for kind, frame in frames.items():
        frame.to_csv(raw / f"{kind}.csv", index=False)
    db = folder / "w.duckdb"
    with so.open_warehouse(db) as wh:
        for kind in frames:
            so.ingest_file(wh, raw / f"{kind}.csv", so.Config())
    return db


def test_a_date_before_any_data_gives_reports_that_say_there_is_nothing_yet(tmp_path):
    invoices, payments = _book()
    db = _ingest_frames(tmp_path, {"invoices": invoices, "payments": payments})
    mis, col = _both(db, "2020-01-01", None, tmp_path)
    assert mis.metrics["ar_open"] == 0 and col.metrics["open_invoices"] == 0
    assert "nothing to report" in mis.summary()
    assert col.metrics["model"] is None and "too few" in col.metrics["model_reason"]
    assert col.metrics["score_kind"] is None
    assert "nothing to score yet" in col.summary()


def test_a_young_warehouse_is_ranked_by_the_customers_late_share(tmp_path):
    invoices, payments = _book()
    db = _ingest_frames(tmp_path, {"invoices": invoices, "payments": payments})
    day = "2023-09-15"  # ten weeks in: a few dozen settled invoices, too few to train
    mis, col = _both(db, day, None, tmp_path)
    wl = col.worklist
    assert col.model is None and col.metrics["model"] is None
    assert "too few" in col.metrics["model_reason"]
    assert col.metrics["score_kind"] == so.risk.BASELINE_LATE_SHARE
    assert "ranked by each customer's share of invoices paid late" in col.summary()
    assert set(wl["score_kind"]) == {so.risk.BASELINE_LATE_SHARE}
    # the probability is the customer's (shrunk) late share: (late + 0.3) / (settled + 1)
    led = invoices.assign(
        paid_date=pd.to_datetime(invoices["paid_date"]),
        due_date=pd.to_datetime(invoices["due_date"]),
    )
    settled = led.loc[led["paid_date"] <= pd.Timestamp(day)]
    stats = settled.assign(late=settled["paid_date"] > settled["due_date"]).groupby("customer_id")[
        "late"
    ]
    expected = ((stats.sum() + 0.3) / (stats.count() + 1)).round(4)
    got = wl.set_index("customer_id")["probability"].groupby(level=0).first()
    known = got.index.intersection(expected.index)
    assert len(known) > 5
    pd.testing.assert_series_equal(got[known], expected[known], check_names=False)
    assert (got.drop(known) == 0.3).all()  # no settled invoice yet: the neutral share
    # ranked by expected late amount = share × open amount
    ela = wl["expected_late_amount"].to_numpy()
    assert (np.diff(ela) <= 0).all()
    assert np.allclose(ela, (wl["probability"] * wl["open_amount_reporting"]).round(2), atol=0.01)
    assert col.metrics["ar_open"] == pytest.approx(mis.metrics["ar_open"], abs=0.01)


def test_with_no_settled_invoice_the_worklist_is_ranked_by_days_past_due_times_amount(tmp_path):
    invoices, payments = _book()
    db = _ingest_frames(tmp_path, {"invoices": invoices, "payments": payments})
    _, col = _both(db, "2023-07-25", None, tmp_path)  # nothing settled yet
    wl = col.worklist
    assert col.metrics["score_kind"] == so.risk.BASELINE_DAYS_PAST_DUE
    assert wl["probability"].isna().all() and col.metrics["expected_late_amount"] is None
    key = np.maximum(wl["days_past_due"], 0) * wl["open_amount_reporting"]
    assert (np.diff(key.to_numpy()) <= 0).all()
    # ties (nothing past due) by open amount
    assert (np.diff(wl.loc[key == 0, "open_amount_reporting"].to_numpy()) <= 0).all()


def test_everything_paid_gives_an_empty_worklist_and_zero_ar(tmp_path):
    invoices, payments = _book(paid_all=True)
    db = _ingest_frames(tmp_path, {"invoices": invoices, "payments": payments})
    mis, col = _both(db, DAY, None, tmp_path)
    assert mis.metrics["ar_open"] == 0 == col.metrics["ar_open"]
    assert col.metrics["open_invoices"] == 0 and col.model is not None


def test_one_currency_without_fx_rates_is_reported_in_that_currency(tmp_path):
    invoices, payments = _book(currency="EUR")
    db = _ingest_frames(tmp_path, {"invoices": invoices, "payments": payments})
    mis, col = _both(db, DAY, None, tmp_path)
    assert mis.metrics["currency"] == "EUR" == col.metrics["currency"]
    assert col.metrics["ar_open"] == pytest.approx(mis.metrics["ar_open"], abs=0.01)
    assert col.metrics["ar_open"] > 0


def test_a_customer_with_only_credit_notes_is_not_chased_and_ar_still_agrees(tmp_path):
    invoices, payments = _book(currency="USD")
    credit = pd.DataFrame(
        {
            "invoice_id": ["CN1", "CN2"],
            "customer_id": ["CREDIT"] * 2,
            "invoice_date": ["2025-05-01", "2025-06-01"],
            "due_date": ["2025-05-31", "2025-07-01"],
            "amount": [-250.0, -100.0],
            "currency": "USD",
            "status": "open",
            "paid_amount": 0.0,
            "paid_date": "",
        }
    )
    db = _ingest_frames(tmp_path, {"invoices": pd.concat([invoices, credit]), "payments": payments})
    mis, col = _both(db, DAY, None, tmp_path)
    assert "CREDIT" not in set(col.worklist["customer_id"])
    # the worklist chases invoices; AR nets the open credit notes, as the MIS does
    assert col.metrics["open_credits"] == -350.0
    assert col.metrics["worklist_open_amount"] == pytest.approx(
        col.worklist["open_amount_reporting"].sum(), abs=0.01
    )
    assert col.metrics["ar_open"] == pytest.approx(mis.metrics["ar_open"], abs=0.01)
    assert "credit notes of -350" in col.summary()


# -- real runs (papermill) ----------------------------------------------------------------------
def _site(tmp_path: Path, exports: Path, kinds, config_file: Path) -> Path:
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    for kind in kinds:
        shutil.copy(exports / f"{kind}.csv", raw)
    shutil.copy(config_file, tmp_path / "salesops.yml")
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kinds", "day"),
    [
        (("invoices", "payments", "orders"), DAY),  # no activities, no customers
        (("invoices",), DAY),
        (("invoices", "payments", "orders", "activities", "customers", "fx_rates"), "2020-01-01"),
        (("invoices", "payments", "orders", "activities", "customers", "fx_rates"), "2023-08-20"),
    ],
    ids=["no-activities-no-customers", "invoices-only", "before-any-data", "young-warehouse"],
)
def test_salesops_daily_publishes_both_reports(
    kinds, day, exports, config_file, tmp_path, monkeypatch
):
    site = _site(tmp_path, exports, kinds, config_file)
    monkeypatch.chdir(site)
    result = CliRunner().invoke(main, ["daily", "--date", day])
    assert result.exit_code == 0, result.output
    for report in ("daily-mis", "collections"):
        out = site / "reports" / day / report
        assert (out / "report.html").stat().st_size > 0, report
    mis = json.loads((site / "reports" / day / "daily-mis" / "metrics.json").read_text())
    col = json.loads((site / "reports" / day / "collections" / "metrics.json").read_text())
    assert col["ar_open"] == pytest.approx(mis["ar_open"], abs=0.01)
    html = (site / "reports" / day / "collections" / "report.html").read_text()
    for reason in col["sections_skipped"].values():
        assert reason.split(":")[0] in html
    if day == "2020-01-01":
        assert "nothing to score yet" in html
        assert col["model"] is None


def test_salesops_score_without_a_model_ranks_by_a_baseline(exports, config_file, tmp_path):
    db = _warehouse(tmp_path, exports, ("invoices", "payments"), config_file)
    out = tmp_path / "wl.csv"
    result = CliRunner().invoke(
        main,
        [
            "score",
            "--as-of",
            DAY,
            "--db",
            str(db),
            "--config",
            str(config_file),
            "--models",
            str(tmp_path / "none"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ranked by customer late share" in result.output
    wl = pd.read_csv(out)
    assert set(wl["score_kind"]) == {so.risk.BASELINE_LATE_SHARE}
    # each invoice's expected pay date, from a cash-timing model trained for the run
    paid_by = pd.to_datetime(wl["expected_pay_date"])
    assert paid_by.notna().mean() > 0.8  # blank: later than the model's horizon
    assert (paid_by.dropna() > pd.Timestamp(DAY)).all()


def test_pay_dates_join_the_worklist_by_invoice_and_stay_blank_without_a_forecast():
    from salesops_analysis.reports.collections import PAY_DATE_COLUMNS, with_pay_dates
    from salesops_analysis.risk.forecast import CashForecast

    wl = pd.DataFrame({"invoice_id": ["A", "b", "C"], "rank": [1, 2, 3]})
    per_invoice = pd.DataFrame(
        {
            "invoice_id": ["B", "A"],  # ids compared ignoring case, in any order
            "expected_pay_date": ["2025-07-10", "2025-07-03"],
            "pay_date_p10": ["2025-07-01", "2025-07-01"],
            "pay_date_p90": ["", "2025-07-20"],  # beyond the horizon: blank
        }
    )
    fc = CashForecast(
        as_of=pd.Timestamp(DAY),
        currency="USD",
        weeks=13,
        weekly=pd.DataFrame(),
        by_group=pd.DataFrame(),
        per_invoice=per_invoice,
        total_expected=0.0,
        total_p10=0.0,
        total_p90=0.0,
        model="given",
    )
    out = with_pay_dates(wl, fc)
    assert out["expected_pay_date"].dt.strftime("%Y-%m-%d").tolist()[:2] == [
        "2025-07-03",
        "2025-07-10",
    ]
    assert out["expected_pay_date"].isna().tolist() == [False, False, True]
    assert out["pay_date_p90"].isna().tolist() == [False, True, True]
    assert out["rank"].tolist() == [1, 2, 3]
    blank = with_pay_dates(wl, None)
    assert all(blank[c].isna().all() for c in PAY_DATE_COLUMNS)
