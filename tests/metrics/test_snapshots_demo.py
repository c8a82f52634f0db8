"""A warehouse built only from the demo's daily open-items reports against one built from the
demo's invoices and payments exports: same aging and same cash on every snapshot date."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pandas as pd
import pytest

import salesops_analysis as so
from salesops_analysis.demo_snapshots import write_open_items
from salesops_analysis.metrics.days import day_number
from salesops_analysis.metrics.mis import daily_mis
from salesops_analysis.metrics.receivables import Ledger, aging_buckets
from salesops_analysis.metrics.snapshots import (
    snapshot_dates,
    snapshot_reconciliation,
)
from salesops_analysis.metrics.tables import load_tables

DAYS = 30
END = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def books(tmp_path_factory, demo_config):
    """(tables from the exports, tables from the snapshots, ingest results, snapshot dates)."""
    root = tmp_path_factory.mktemp("snapshots_demo")
    raw = root / "raw"
    so.generate_demo(raw, scale=3_000)
    written = write_open_items(raw, demo_config, days=DAYS)
    assert len(written["files"]) == DAYS
    with so.open_warehouse(root / "exports.duckdb", notify=None) as wh:
        for kind in ("customers", "invoices", "payments"):
            so.ingest_file(wh, raw / f"{kind}.csv", demo_config, kind=kind)
        exports = load_tables(wh)
    config = so.load_config(raw / "open_items" / "salesops.yml")
    files = sorted((raw / "open_items").glob("open_items_*.csv"))
    with so.open_warehouse(root / "snapshots.duckdb", notify=None) as wh:
        results = [so.ingest_file(wh, f, config) for f in files]
        snapshots = load_tables(wh)
        dates = snapshot_dates(wh)
        reconciliation = snapshot_reconciliation(wh)
    return exports, snapshots, results, dates, reconciliation


def test_every_report_line_is_accounted_for(books):
    _, _, results, dates, _ = books
    assert dates == [END - dt.timedelta(days=k) for k in range(DAYS - 1, -1, -1)]
    for r in results:
        assert r.status == "loaded" and r.rejected == 0 and r.duplicates == 0
        assert r.rows_read == r.loaded + r.skipped
        assert r.skipped > 4  # title block, customer sections, subtotals, grand total
        assert "(date from the file name)" in r.line()


def test_snapshots_alone_give_the_exports_aging_on_every_snapshot_date(books):
    exports, snapshots, _, dates, reconciliation = books
    assert snapshots.payments_implied and not snapshots.has("payments")
    from_exports = Ledger(exports.invoices, exports.payments)
    from_snapshots = Ledger(snapshots.invoices, snapshots.payments)
    for day in dates:
        a = aging_buckets(from_exports.open_items(day, open_only=True), by="currency")
        b = aging_buckets(from_snapshots.open_items(day, open_only=True), by="currency")
        pd.testing.assert_frame_equal(a.round(2), b.round(2), check_exact=False, atol=0.005)
        assert a["total"].sum() > 0
    assert reconciliation["difference"].abs().max() == 0
    assert len(reconciliation) >= DAYS


def _cash(led: Ledger, day) -> pd.Series:
    m = (led.pay_day == day_number(day)) & (led.pay_row >= 0)
    return pd.Series(led.pay_amount[m]).groupby(led.pay_currency[m].to_numpy()).sum()


def _credits_applied(invoices: pd.DataFrame, day) -> pd.Series:
    m = (
        (invoices["amount"] < 0)
        & invoices["applies_to_invoice_id"].notna()
        & (invoices["invoice_date"] == pd.Timestamp(day))
    )
    return (-invoices.loc[m, "amount"]).groupby(invoices.loc[m, "currency"]).sum()


def test_snapshots_alone_give_the_exports_cash_on_every_day_after_the_first(books):
    # an open-items list cannot tell cash from a credit note applied that day: both lower a
    # balance, so the snapshots' cash is the payments plus the credit notes applied that day
    exports, snapshots, _, dates, _ = books
    from_exports = Ledger(exports.invoices, exports.payments)
    from_snapshots = Ledger(snapshots.invoices, snapshots.payments)
    days_without_credits = 0
    for day in dates[1:]:
        credits = _credits_applied(exports.invoices, day)
        expected = _cash(from_exports, day).add(credits, fill_value=0.0).round(2)
        got = _cash(from_snapshots, day).round(2)
        pd.testing.assert_series_equal(
            got[got != 0].sort_index(), expected[expected != 0].sort_index(), check_names=False
        )
        if credits.empty:
            days_without_credits += 1
            pd.testing.assert_series_equal(
                got.sort_index(), _cash(from_exports, day).round(2).sort_index()
            )
    assert days_without_credits >= DAYS // 2


def test_the_daily_mis_from_snapshots_matches_the_exports(books, demo_config):
    exports, snapshots, _, dates, _ = books
    config = copy.deepcopy(demo_config)
    config.fx_rates = {"EUR": 1.08, "GBP": 1.27}
    day = dates[-1]
    a = daily_mis(exports, day, config).metrics
    b = daily_mis(snapshots, day, config).metrics
    for key in ("ar_open", "ar_current", "ar_1_30", "ar_31_60", "ar_61_90", "ar_90_plus"):
        assert b[key] == pytest.approx(a[key], abs=0.01), key
    assert np.isfinite(b["dso_countback"]) and np.isfinite(b["cei"])


def test_demo_snapshots_flag_adds_reports_and_changes_nothing_else(tmp_path):
    from click.testing import CliRunner

    from salesops_analysis.cli import main

    plain, flagged = tmp_path / "plain", tmp_path / "flagged"
    base = ["demo", "--scale", "300", "--config", "salesops.yml"]
    assert CliRunner().invoke(main, [*base, "--out", str(plain)]).exit_code == 0
    run = CliRunner().invoke(main, [*base, "--out", str(flagged), "--snapshots", "3"])
    assert run.exit_code == 0, run.output
    assert "3 daily open-items reports" in run.output
    assert not (plain / "open_items").exists()
    for f in plain.iterdir():
        assert (flagged / f.name).read_bytes() == f.read_bytes(), f.name
    reports = sorted(p.name for p in (flagged / "open_items").iterdir())
    assert reports == [
        "open_items_2025-06-28.csv",
        "open_items_2025-06-29.csv",
        "open_items_2025-06-30.csv",
        "salesops.yml",
    ]
    lines = (flagged / "open_items" / "open_items_2025-06-30.csv").read_text().splitlines()
    assert lines[2].startswith('"As of June 30, 2025"')
    assert lines[4].startswith(",Invoice Date,Invoice No,Customer,Due Date,Currency,Amount")
    assert lines[-1].startswith("TOTAL,")
    assert any(line.startswith("Total for ") for line in lines)


def test_open_items_need_the_config_that_reads_the_demo(tmp_path):
    so.generate_demo(tmp_path, scale=300)
    with pytest.raises(so.SalesOpsError, match="pass --config salesops.yml"):
        write_open_items(tmp_path, so.Config(), days=2)
    assert not list((tmp_path / "open_items").glob("*.csv"))


def test_reports_on_snapshots_alone_say_payments_are_implied(tmp_path, demo_config):
    """Both reports run on a warehouse of open-items snapshots only, record where payments
    came from in metrics.json and say in their summary that settlement dates are inferred."""
    from salesops_analysis.metrics.snapshots import SETTLEMENT_NOTE
    from salesops_analysis.reports.collections import collections_report
    from salesops_analysis.reports.daily import daily_mis_report

    raw = tmp_path / "raw"
    so.generate_demo(raw, scale=1_500)
    write_open_items(raw, demo_config, days=5)
    cfg = raw / "open_items" / "salesops.yml"
    config = so.load_config(cfg)
    db = tmp_path / "snapshots.duckdb"
    with so.open_warehouse(db, notify=None) as wh:
        so.ingest_file(wh, raw / "fx_rates.csv", demo_config, kind="fx_rates")
        for f in sorted((raw / "open_items").glob("open_items_*.csv")):
            so.ingest_file(wh, f, config)
    mis = daily_mis_report(db, END, cfg)
    assert mis.metrics["payments_source"] == "snapshots"
    assert SETTLEMENT_NOTE in mis.summary()
    coll = collections_report(db, END, cfg, models_dir=tmp_path / "models")
    assert coll.metrics["payments_source"] == "snapshots"
    assert SETTLEMENT_NOTE in coll.summary()
    # a warehouse with a payments export says nothing of the kind
    with so.open_warehouse(tmp_path / "exports.duckdb", notify=None) as wh:
        for kind in ("fx_rates", "invoices", "payments"):
            so.ingest_file(wh, raw / f"{kind}.csv", demo_config, kind=kind)
    plain = daily_mis_report(tmp_path / "exports.duckdb", END, None)
    assert plain.metrics["payments_source"] == "export"
    assert SETTLEMENT_NOTE not in plain.summary()
