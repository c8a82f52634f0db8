"""What a series of open-items snapshots implies, on hand-made snapshots loaded into real
DuckDB warehouses: settlements, part payments, corrections, contradictions, changes."""

from __future__ import annotations

import datetime as dt

import pytest

import salesops_analysis as so
from salesops_analysis.config import config_from_dict
from salesops_analysis.metrics.receivables import Ledger, aging_buckets
from salesops_analysis.metrics.snapshots import (
    SETTLEMENT_NOTE,
    implied_payments,
    snapshot_changes,
    snapshot_contradictions,
    snapshot_dates,
    snapshot_reconciliation,
)
from salesops_analysis.metrics.tables import load_tables
from tests.conftest import write

SNAP = config_from_dict({"kinds": {"invoices": {"snapshot": True}}})
HEADER = "invoice_id,customer_id,invoice_date,due_date,amount,paid_amount,currency\n"


def snap(tmp_path, day: str, rows: list[tuple], name: str | None = None):
    """Write an open-items snapshot: rows are (invoice, customer, issued, due, amount, open)."""
    lines = [f"{i},{c},{d},{u},{a},{round(a - o, 2)},USD" for i, c, d, u, a, o in rows]
    return write(tmp_path / (name or f"invoices_{day}.csv"), HEADER + "\n".join(lines) + "\n")


@pytest.fixture
def wh(tmp_path):
    with so.open_warehouse(tmp_path / "w.duckdb") as w:
        yield w


def payments_of(wh) -> list[tuple]:
    p = implied_payments(wh)
    return [
        (r.invoice_id, str(r.payment_date.date()), r.amount, r.gap_days, r.source)
        for r in p.itertuples()
    ]


I1 = ("I1", "C1", "2025-05-01", "2025-05-31", 100.0)
I2 = ("I2", "C1", "2025-05-10", "2025-06-09", 50.0)
I3 = ("I3", "C2", "2025-05-20", "2025-06-19", 80.0)


def test_an_invoice_that_leaves_the_list_is_settled_on_the_next_snapshot(wh, tmp_path):
    so.ingest_file(wh, snap(tmp_path, "2025-06-01", [(*I1, 100.0), (*I2, 50.0)]), SNAP)
    so.ingest_file(wh, snap(tmp_path, "2025-06-04", [(*I2, 50.0)]), SNAP)
    assert payments_of(wh) == [("I1", "2025-06-04", 100.0, 3, "left the list")]
    assert snapshot_dates(wh) == [dt.date(2025, 6, 1), dt.date(2025, 6, 4)]


def test_a_balance_that_falls_between_snapshots_is_cash_on_the_later_date(wh, tmp_path):
    so.ingest_file(wh, snap(tmp_path, "2025-06-01", [(*I2, 50.0)]), SNAP)
    so.ingest_file(wh, snap(tmp_path, "2025-06-02", [(*I2, 30.0)]), SNAP)
    so.ingest_file(wh, snap(tmp_path, "2025-06-03", [(*I2, 30.0)]), SNAP)
    so.ingest_file(wh, snap(tmp_path, "2025-06-05", [(*I2, 5.5)]), SNAP)
    assert payments_of(wh) == [
        ("I2", "2025-06-02", 20.0, 1, "balance fell"),
        ("I2", "2025-06-05", 24.5, 2, "balance fell"),
    ]


def test_first_seen_part_paid_is_dated_on_its_first_snapshot(wh, tmp_path):
    # I3 issued 2025-05-20, first listed on 06-01 with 60 of 80 open: paid 20 since issue
    so.ingest_file(wh, snap(tmp_path, "2025-06-01", [(*I3, 60.0)]), SNAP)
    # I4 issued after the first snapshot, first listed part-paid on 06-10: gap from its issue
    i4 = ("I4", "C2", "2025-06-07", "2025-07-07", 40.0)
    so.ingest_file(wh, snap(tmp_path, "2025-06-10", [(*I3, 60.0), (*i4, 10.0)]), SNAP)
    assert payments_of(wh) == [
        ("I3", "2025-06-01", 20.0, 12, "first seen part-paid"),
        ("I4", "2025-06-10", 30.0, 3, "first seen part-paid"),
    ]


def test_a_balance_that_rises_is_a_negative_payment_and_balances_match_every_snapshot(wh, tmp_path):
    i6 = ("I6", "C1", "2025-06-02", "2025-07-02", 50.0)
    so.ingest_file(wh, snap(tmp_path, "2025-06-01", [(*I1, 100.0)]), SNAP)
    so.ingest_file(wh, snap(tmp_path, "2025-06-02", [(*i6, 50.0)]), SNAP)  # I1 left
    so.ingest_file(wh, snap(tmp_path, "2025-06-03", [(*I1, 70.0), (*i6, 50.0)]), SNAP)  # back
    assert payments_of(wh) == [
        ("I1", "2025-06-02", 100.0, 1, "left the list"),
        ("I1", "2025-06-03", -70.0, 1, "balance rose"),
    ]
    rec = snapshot_reconciliation(wh)
    assert rec["snapshot_open"].tolist() == [100.0, 50.0, 120.0]
    assert rec["difference"].abs().max() == 0


def test_an_invoice_first_listed_after_its_issue_shows_in_the_reconciliation(wh, tmp_path):
    # I2 is dated 05-10 but missing from the 06-01 list: the tables hold it open on 06-01
    so.ingest_file(wh, snap(tmp_path, "2025-06-01", [(*I1, 100.0)]), SNAP)
    so.ingest_file(wh, snap(tmp_path, "2025-06-02", [(*I1, 100.0), (*I2, 50.0)]), SNAP)
    rec = snapshot_reconciliation(wh)
    assert rec["difference"].tolist() == [-50.0, 0.0]


def test_reingesting_a_snapshot_is_a_no_op(wh, tmp_path):
    p = snap(tmp_path, "2025-06-01", [(*I1, 100.0)])
    so.ingest_file(wh, p, SNAP)
    again = so.ingest_file(wh, p, SNAP)
    assert again.status == "already ingested"
    assert wh.sql("SELECT count(*) AS n FROM invoice_snapshots")["n"].tolist() == [1]


def test_a_late_correction_replaces_the_date_and_keeps_the_old_picture(wh, tmp_path):
    so.ingest_file(wh, snap(tmp_path, "2025-06-01", [(*I1, 100.0), (*I2, 50.0)]), SNAP)
    so.ingest_file(wh, snap(tmp_path, "2025-06-02", [(*I2, 50.0)]), SNAP)
    so.ingest_file(wh, snap(tmp_path, "2025-06-03", [(*I2, 50.0)]), SNAP)
    assert payments_of(wh) == [("I1", "2025-06-02", 100.0, 1, "left the list")]
    # the 06-02 export missed I1 by mistake; a corrected file for the same date comes later
    fixed = snap(
        tmp_path, "2025-06-02", [(*I1, 100.0), (*I2, 50.0)], name="invoices_2025-06-02_v2.csv"
    )
    r = so.ingest_file(wh, fixed, SNAP)
    assert "corrects that date's picture (1 earlier rows superseded)" in r.line()
    assert payments_of(wh) == [("I1", "2025-06-03", 100.0, 1, "left the list")]
    kept = wh.sql(
        "SELECT invoice_id, superseded_by FROM invoice_snapshots WHERE snapshot_date = "
        "'2025-06-02' ORDER BY superseded_by NULLS LAST, invoice_id"
    )
    assert kept["invoice_id"].tolist() == ["I2", "I1", "I2"]
    assert kept["superseded_by"].notna().tolist() == [True, False, False]
    files = wh.sql("SELECT file_name, superseded_by FROM snapshot_files ORDER BY file_id")
    assert files["superseded_by"].notna().tolist() == [False, True, False, False]


def test_tables_read_implied_payments_and_say_so(wh, tmp_path):
    so.ingest_file(wh, snap(tmp_path, "2025-06-01", [(*I1, 100.0), (*I2, 50.0)]), SNAP)
    so.ingest_file(wh, snap(tmp_path, "2025-06-04", [(*I2, 20.0)]), SNAP)
    t = load_tables(wh)
    assert t.payments_implied and t.payments_source == "snapshots"
    assert not t.has("payments") and "payments" in t.missing_exports()
    assert sorted(t.payments["amount"].tolist()) == [30.0, 100.0]
    assert list(t.payments.columns)[:6] == [
        "payment_id",
        "invoice_id",
        "customer_id",
        "payment_date",
        "amount",
        "currency",
    ]
    led = Ledger(t.invoices, t.payments)
    # as of each snapshot date, AR is that snapshot's own total; in between, the earlier one's
    assert led.snapshot("2025-06-01")["ar"] == 150.0
    assert led.snapshot("2025-06-03")["ar"] == 150.0
    assert led.snapshot("2025-06-04")["ar"] == 20.0
    aging = aging_buckets(led.open_items("2025-06-04"))
    assert aging["total"].tolist() == [20.0] and aging["current"].tolist() == [20.0]
    assert "gap_days" in SETTLEMENT_NOTE


def test_a_payments_export_wins_and_contradictions_are_listed(wh, tmp_path):
    so.ingest_file(wh, snap(tmp_path, "2025-06-01", [(*I1, 100.0), (*I2, 50.0)]), SNAP)
    so.ingest_file(wh, snap(tmp_path, "2025-06-04", [(*I2, 10.0)]), SNAP)
    pay = write(
        tmp_path / "payments.csv",
        "payment_id,invoice_id,payment_date,amount\n"
        "P1,I1,2025-06-02,60\n"  # I1 left the list on 06-04 but payments leave 40 open
        "P2,I2,2025-06-03,40\n",  # agrees with I2's 10 open on 06-04
    )
    r = so.ingest_file(wh, pay, SNAP)
    assert "1 snapshot balances contradict the payments export" in r.line()
    t = load_tables(wh)
    assert t.payments_source == "export" and t.has("payments")
    assert t.payments["payment_id"].tolist() == ["P1", "P2"]
    c = snapshot_contradictions(wh)
    assert c[["invoice_id", "snapshot_open", "payments_open", "difference"]].values.tolist() == [
        ["I1", 0.0, 40.0, -40.0]
    ]
    assert c["problem"].tolist() == ["left the list, but payments leave it open"]
    # a later snapshot showing more open than invoice minus payments is listed too
    r = so.ingest_file(wh, snap(tmp_path, "2025-06-05", [(*I2, 50.0)]), SNAP)
    assert "2 snapshot balances contradict" in r.line()
    assert snapshot_contradictions(wh)["problem"].tolist()[-1] == (
        "snapshot balance larger than invoice minus payments"
    )


def test_changes_since_the_previous_snapshot(wh, tmp_path):
    i5 = ("I5", "C3", "2025-06-02", "2025-06-03", 25.0)
    so.ingest_file(wh, snap(tmp_path, "2025-06-02", [(*I1, 100.0), (*I3, 80.0)]), SNAP)
    # I1 paid, I3 part-paid and due on 06-19, I5 new and due 06-03: overdue on 06-20
    so.ingest_file(wh, snap(tmp_path, "2025-06-20", [(*I3, 30.0), (*i5, 25.0)]), SNAP)
    ch = snapshot_changes(wh, "2025-06-20")
    got = sorted(zip(ch["change"], ch["invoice_id"], ch["amount"], strict=True))
    assert got == [
        ("new", "I5", 25.0),
        ("newly overdue", "I3", 30.0),
        ("newly overdue", "I5", 25.0),
        ("paid", "I1", 100.0),
        ("part-paid", "I3", 50.0),
    ]
    assert snapshot_changes(wh, "2025-06-02").empty  # the first snapshot has no yesterday
    assert snapshot_changes(wh, "2025-06-10").empty  # not a snapshot date


def test_one_row_and_no_snapshots(wh, tmp_path):
    assert implied_payments(wh).empty and snapshot_dates(wh) == []
    assert snapshot_reconciliation(wh).empty
    assert snapshot_changes(wh, "2025-06-01").empty
    assert load_tables(wh).payments is None and load_tables(wh).payments_source is None
    so.ingest_file(wh, snap(tmp_path, "2025-06-01", [(*I1, 100.0)]), SNAP)
    assert implied_payments(wh).empty  # wholly open: nothing paid
    t = load_tables(wh)
    assert t.payments_implied and len(t.payments) == 0
    assert Ledger(t.invoices, t.payments).snapshot("2025-06-01")["ar"] == 100.0
    assert snapshot_reconciliation(wh)["difference"].tolist() == [0.0]


def test_training_reads_the_implied_payments_too(wh, tmp_path):
    from salesops_analysis.risk.model import training_tables

    so.ingest_file(wh, snap(tmp_path, "2025-06-01", [(*I1, 100.0), (*I2, 50.0)]), SNAP)
    so.ingest_file(wh, snap(tmp_path, "2025-06-04", [(*I2, 50.0)]), SNAP)
    t = training_tables(wh, so.Config())
    assert t.payments_implied
    assert t.payments[["invoice_id", "amount"]].values.tolist() == [["I1", 100.0]]
    assert str(t.payments["payment_date"].iloc[0].date()) == "2025-06-04"
