"""Open-items snapshots at ingest: the snapshot date from the name, the title and --as-of;
refusals; the same bytes on two days; the config option."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

import salesops_analysis as so
from salesops_analysis._errors import ConfigError, FileRefusedError
from salesops_analysis.cli import main
from salesops_analysis.config import config_from_dict
from salesops_analysis.ingest.snapshots import date_from_name, date_from_title
from tests.conftest import write

D = dt.date
SNAP = config_from_dict({"kinds": {"invoices": {"snapshot": True}}})
ROWS = (
    "invoice_id,customer_id,invoice_date,due_date,amount,paid_amount\n"
    "I1,C1,2025-06-01,2025-07-01,100,40\n"
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("open_items_2025-06-30.csv", D(2025, 6, 30)),
        ("AR aging 2025_06_30.xlsx", D(2025, 6, 30)),
        ("fbl5n_20250630.txt", D(2025, 6, 30)),
        ("open_items_2025-07-01_for_2025-06-30.csv", D(2025, 6, 30)),
        ("invoices.csv", None),
        ("invoices_123202506301.csv", None),  # digits inside a longer number: no date
        ("open_items_2025-02-30.csv", None),  # no such day
    ],
)
def test_date_from_the_file_name(name, expected):
    assert date_from_name(name) == expected


@pytest.mark.parametrize(
    ("lines", "day_first", "expected"),
    [
        # QuickBooks Online A/R Aging Detail
        (["Craig's Design", "A/R Aging Detail", "As of January 5, 2021"], False, D(2021, 1, 5)),
        # Xero Aged Receivables Detail
        (
            ["Demo Company (UK)", "Aged Receivables Detail", "As at 30 June 2025"],
            False,
            D(2025, 6, 30),
        ),
        (["Aged Debtors", "as at 30/06/2025"], False, D(2025, 6, 30)),  # 30 can only be a day
        (["Aged Debtors", "as at 01/06/2025"], True, D(2025, 6, 1)),
        (["A/R Aging Summary", "As of 06/01/2025"], False, D(2025, 6, 1)),
        # SAP FBL5N / German layouts
        (
            ["Customer Line Item Display", "Open items at key date 30.06.2025"],
            False,
            D(2025, 6, 30),
        ),
        (["Offene Posten", "Stichtag: 30.06.2025"], False, D(2025, 6, 30)),
        (["Open invoices", "Report date: 2025-06-30"], False, D(2025, 6, 30)),
        (["As of Jun. 30th, 2025,,,"], False, D(2025, 6, 30)),
        # a print time or a period is not the snapshot date
        (["Printed 2025-07-01 10:33", "Sales for June 2025"], False, None),
        ([], False, None),
    ],
)
def test_date_from_the_title_block(lines, day_first, expected):
    assert date_from_title(lines, day_first=day_first) == expected


@pytest.fixture
def wh(tmp_path):
    with so.open_warehouse(tmp_path / "w.duckdb") as w:
        yield w


def snapshot_rows(wh) -> list[tuple]:
    rows = wh.sql("SELECT snapshot_date, date_from FROM snapshot_files ORDER BY file_id")
    return [(d.date(), w) for d, w in zip(rows["snapshot_date"], rows["date_from"], strict=True)]


def test_snapshot_date_from_name_title_and_flag(wh, tmp_path):
    by_name = write(tmp_path / "invoices_2025-06-28.csv", ROWS)
    titled = write(tmp_path / "invoices_open.csv", "Open items\nAs of June 29, 2025\n\n" + ROWS)
    plain = write(tmp_path / "invoices_plain.csv", ROWS.replace("I1,", "I2,"))
    so.ingest_file(wh, by_name, SNAP)
    so.ingest_file(wh, titled, SNAP)
    r = so.ingest_file(wh, plain, SNAP, as_of=D(2025, 6, 30))
    assert "snapshot of 2025-06-30 (date from --as-of)" in r.line()
    assert snapshot_rows(wh) == [
        (D(2025, 6, 28), "file name"),
        (D(2025, 6, 29), "title"),
        (D(2025, 6, 30), "--as-of"),
    ]
    opened = wh.sql("SELECT open_amount FROM invoice_snapshots ORDER BY snapshot_date")
    assert opened["open_amount"].tolist() == [60.0, 60.0, 60.0]


def test_a_snapshot_without_a_date_is_refused_whole_in_one_line(wh, tmp_path):
    plain = write(tmp_path / "invoices_open.csv", ROWS)
    with pytest.raises(FileRefusedError) as err:
        so.ingest_file(wh, plain, SNAP)
    message = str(err.value)
    assert "invoices_open.csv" in message and "--as-of" in message and "\n" not in message
    assert len(wh.table("invoices")) == 0 and len(wh.ingest_log()) == 0
    # the same file without snapshot: true is a plain invoices export
    assert so.ingest_file(wh, plain, so.Config()).status == "loaded"


def test_a_name_and_a_title_that_disagree_refuse_the_file(wh, tmp_path):
    p = write(tmp_path / "invoices_2025-06-30.csv", "Open items\nAs of June 29, 2025\n\n" + ROWS)
    with pytest.raises(FileRefusedError, match="file name says 2025-06-30, the title says"):
        so.ingest_file(wh, p, SNAP)


def test_the_same_open_items_on_two_days_are_two_snapshots(wh, tmp_path):
    a = so.ingest_file(wh, write(tmp_path / "invoices_2025-06-28.csv", ROWS), SNAP)
    b = so.ingest_file(wh, write(tmp_path / "invoices_2025-06-29.csv", ROWS), SNAP)
    again = so.ingest_file(wh, write(tmp_path / "copy_invoices_2025-06-29.csv", ROWS), SNAP)
    assert (a.status, b.status, again.status) == ("loaded", "loaded", "already ingested")
    assert [d for d, _ in snapshot_rows(wh)] == [D(2025, 6, 28), D(2025, 6, 29)]


def test_snapshot_option_must_be_a_boolean():
    with pytest.raises(ConfigError, match="snapshot' must be true or false"):
        config_from_dict({"kinds": {"invoices": {"snapshot": "yes"}}})
    with pytest.raises(ConfigError, match="under kinds.invoices"):
        config_from_dict({"kinds": {"payments": {"snapshot": True}}})
    with pytest.raises(ConfigError, match="'defaults.snapshot'"):
        config_from_dict({"defaults": {"snapshot": True}})
    assert (
        not config_from_dict({"kinds": {"payments": {"snapshot": False}}}).kind("payments").snapshot
    )


def test_cli_ingest_as_of_and_refusal(tmp_path):
    cfg = write(tmp_path / "snap.yml", "kinds:\n  invoices:\n    snapshot: true\n")
    plain = write(tmp_path / "invoices_open.csv", ROWS)
    db = str(tmp_path / "w.duckdb")
    args = ["ingest", str(plain), "--db", db, "--config", str(cfg)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1
    assert "refused: " in refused.output and "no snapshot date" in refused.output
    done = CliRunner().invoke(main, [*args, "--as-of", "2025-06-30"])
    assert done.exit_code == 0, done.output
    assert "snapshot of 2025-06-30 (date from --as-of)" in done.output


def test_snapshot_date_from_a_workbook_title(wh, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in [
        ["Demo Company (UK)"],
        ["Aged Receivables Detail"],
        ["As at 30 June 2025"],
        [],
        ROWS.splitlines()[0].split(","),
        ["I1", "C1", dt.datetime(2025, 6, 1), dt.datetime(2025, 7, 1), 100, 40],
    ]:
        ws.append(row)
    path = tmp_path / "aged_receivables.xlsx"
    wb.save(path)
    r = so.ingest_file(wh, path, SNAP, kind="invoices")
    assert "snapshot of 2025-06-30 (date from the title)" in r.line()
    assert snapshot_rows(wh) == [(D(2025, 6, 30), "title")]


BALANCES = "invoice_id,customer_id,invoice_date,due_date,amount,{cols}\n"


def test_a_balance_gives_the_paid_amount_and_the_snapshot_its_open_amount(wh, tmp_path):
    head = BALANCES.format(cols="Open Balance")
    p = write(
        tmp_path / "invoices_2025-06-30.csv",
        head + "I1,C1,2025-06-01,2025-07-01,100,35.50\nI2,C1,2025-06-02,2025-07-02,80,80\n",
    )
    cfg = config_from_dict(
        {"kinds": {"invoices": {"snapshot": True, "columns": {"Open Balance": "open_amount"}}}}
    )
    so.ingest_file(wh, p, cfg)
    inv = wh.table("invoices").sort_values("invoice_id")
    assert inv["paid_amount"].tolist() == [64.5, 0.0]
    listed = wh.sql("SELECT invoice_id, open_amount FROM invoice_snapshots ORDER BY 1")
    assert listed.values.tolist() == [["I1", 35.5], ["I2", 80.0]]
    t = so.implied_payments(wh)
    assert t[["invoice_id", "amount", "source"]].values.tolist() == [
        ["I1", 64.5, "first seen part-paid"]
    ]


def test_paid_and_balance_both_mapped_and_disagreeing_leave_the_snapshot(wh, tmp_path):
    head = BALANCES.format(cols="paid_amount,open_amount")
    p = write(
        tmp_path / "invoices_2025-06-30.csv",
        head + "I1,C1,2025-06-01,2025-07-01,100,40,50\nI2,C1,2025-06-02,2025-07-02,80,30,50\n",
    )
    r = so.ingest_file(wh, p, SNAP)
    assert (r.loaded, r.rejected) == (1, 1)
    reason = wh.rejects()["reason"].tolist()[0]
    assert "paid amount 40.00" in reason and "open amount 50.00" in reason
    listed = wh.sql("SELECT invoice_id, open_amount FROM invoice_snapshots")
    assert listed.values.tolist() == [["I2", 50.0]]


def test_the_quickbooks_example_as_a_snapshot(wh):
    import yaml

    from tests.conftest import ROOT

    raw = yaml.safe_load((ROOT / "examples" / "quickbooks_ar_aging_detail.yml").read_text())
    raw["kinds"]["invoices"]["snapshot"] = True
    path = ROOT / "examples" / "quickbooks_ar_aging_detail.csv"
    r = so.ingest_file(wh, path, config_from_dict(raw))
    assert "snapshot of 2021-01-05 (date from the title)" in r.line()
    files = wh.sql("SELECT open_items, open_total FROM snapshot_files")
    assert files.values.tolist() == [[6, 1532.27]]  # the report's TOTAL Open Balance
    paid = so.implied_payments(wh)
    assert paid[["invoice_id", "amount"]].values.tolist() == [["1027", 1000.0]]
