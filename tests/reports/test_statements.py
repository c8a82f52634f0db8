"""Statements of account: totals equal the open balance, files stay in their folder, text is
escaped."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import salesops_analysis as so
from salesops_analysis.cli import main
from salesops_analysis.config import config_from_dict
from salesops_analysis.metrics import Tables, open_items
from salesops_analysis.reports.statements import (
    safe_file_names,
    statement_items,
    write_statements,
)
from tests.frames import canonical

DAY = "2025-06-30"
EVIL = "<script>alert('x')</script>"


def _tables() -> Tables:
    inv = canonical(
        "invoices",
        [
            # C1: overdue, partly paid before the date, one payment after it (not counted)
            {"invoice_id": "I1", "customer_id": "C1", "invoice_date": "2025-04-01",
             "due_date": "2025-05-01", "amount": 1000.0, "currency": "USD", "status": "open"},
            {"invoice_id": "I2", "customer_id": "c1", "invoice_date": "2025-06-10",
             "due_date": "2025-07-10", "amount": 250.5, "currency": "USD", "status": "open"},
            # an unapplied credit note lowers C1's balance
            {"invoice_id": "CN1", "customer_id": "C1", "invoice_date": "2025-06-01",
             "due_date": "2025-06-01", "amount": -50.25, "currency": "USD", "status": "open"},
            # a paid invoice: not on the statement, its payment is listed
            {"invoice_id": "I3", "customer_id": "C1", "invoice_date": "2025-03-01",
             "due_date": "2025-04-01", "amount": 80.0, "currency": "USD", "status": "paid"},
            # C2: open but not yet due, in EUR
            {"invoice_id": "I4", "customer_id": "C2", "invoice_date": "2025-06-20",
             "due_date": "2025-07-20", "amount": 500.0, "currency": "EUR", "status": "open"},
            # C3: overdue, in two currencies, with a name that is markup
            {"invoice_id": "<b>I5</b>", "customer_id": "C3", "invoice_date": "2025-01-01",
             "due_date": "2025-01-31", "amount": 70.0, "currency": "USD", "status": "open"},
            {"invoice_id": "I6", "customer_id": "C3", "invoice_date": "2025-02-01",
             "due_date": "2025-03-15", "amount": 30.0, "currency": "GBP", "status": "open"},
            # issued after the date: not yet on any statement
            {"invoice_id": "I7", "customer_id": "C2", "invoice_date": "2025-07-02",
             "due_date": "2025-07-30", "amount": 999.0, "currency": "EUR", "status": "open"},
        ],
    )  # fmt: skip
    pay = canonical(
        "payments",
        [
            {"payment_id": "P1", "invoice_id": "I1", "customer_id": "C1",
             "payment_date": "2025-05-15", "amount": 400.0, "currency": "USD"},
            {"payment_id": "P2", "invoice_id": "I1", "customer_id": "C1",
             "payment_date": "2025-07-01", "amount": 600.0, "currency": "USD"},
            {"payment_id": "P3", "invoice_id": "I3", "customer_id": "C1",
             "payment_date": "2025-04-02", "amount": 80.0, "currency": "USD"},
            # more than 90 days back: not listed
            {"payment_id": "P0", "invoice_id": "I3", "customer_id": "C1",
             "payment_date": "2025-03-01", "amount": 0.0, "currency": "USD"},
        ],
    )  # fmt: skip
    cust = canonical(
        "customers",
        [{"customer_id": "C1", "name": "One & Co"}, {"customer_id": "C3", "name": EVIL}],
    )
    return Tables(invoices=inv, payments=pay, customers=cust)


def _index(folder) -> dict:
    return {
        r["customer_id"]: r for r in json.loads((folder / "index.json").read_text())["statements"]
    }


def test_totals_equal_the_open_balance_as_of_the_date(tmp_path):
    t = _tables()
    folder = tmp_path / "statements"
    written = write_statements(t, DAY, folder, all_customers=True)
    items = open_items(t.invoices, t.payments, as_of=DAY)
    items = items.loc[items["is_open"]]
    expected = (
        items.assign(key=items["customer_id"].str.lower())
        .groupby(["key", "currency"])["open_amount"]
        .sum()
        .round(2)
    )
    index = _index(folder)
    got = {(k.lower(), c): v for k, r in index.items() for c, v in r["total_due"].items()}
    assert got == pytest.approx(expected.to_dict())
    # by hand: C1 = 1000 - 400 (P2 is after the date) + 250.50 - 50.25
    assert index["C1"]["total_due"] == {"USD": 800.25}
    assert written.total_due == {"USD": 870.25, "EUR": 500.0, "GBP": 30.0}
    page = (folder / index["C1"]["file"]).read_text()
    assert "Total due: 800.25 USD" in page
    assert "P1" in page and "P3" in page and "P2" not in page and "P0" not in page
    assert "I3" in page.split("Payments received")[1]  # listed as paid, not as open
    assert ">I7<" not in (folder / index["C2"]["file"]).read_text()
    # the aging row adds up to the total
    aging = re.search(r"Aging \(USD.*?<tbody><tr>(.*?)</tr>", page).group(1)
    cells = [float(v.replace(",", "")) for v in re.findall(r">(-?[\d,]+\.\d\d)<", aging)]
    assert sum(cells[:-1]) == pytest.approx(cells[-1]) and cells[-1] == 800.25


def test_overdue_customers_only_unless_all(tmp_path):
    t = _tables()
    written = write_statements(t, DAY, tmp_path / "s", None)
    assert set(_index(tmp_path / "s")) == {"C1", "C3"}  # C2 owes nothing overdue
    assert written.statements == 2
    write_statements(t, DAY, tmp_path / "s", None, all_customers=True)
    assert set(_index(tmp_path / "s")) == {"C1", "C2", "C3"}
    # a full run replaces the folder: a customer no longer chosen loses its statement
    write_statements(t, DAY, tmp_path / "s", None)
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        "C1.html",
        "C3.html",
        "index.html",
        "index.json",
    ]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_statement_items_reconcile_per_customer_and_currency():
    items = statement_items(_tables(), DAY)
    assert set(items["invoice_id"]) == {"I1", "I2", "CN1", "I4", "<b>I5</b>", "I6"}
    assert items.loc[items["invoice_id"] == "I1", "paid"].item() == 400.0
    assert items.loc[items["invoice_id"] == "I1", "days_overdue"].item() == 60
    assert items.loc[items["invoice_id"] == "I2", "days_overdue"].item() == 0
    assert items.loc[items["invoice_id"] == "CN1", "days_overdue"].item() == 0  # a credit
    assert set(items["bucket"]) <= {"current", "1_30", "31_60", "61_90", "90_plus"}


def test_exports_text_is_escaped(tmp_path):
    write_statements(_tables(), DAY, tmp_path / "s")
    page = (tmp_path / "s" / "C3.html").read_text()
    assert EVIL not in page and "<b>I5</b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;b&gt;I5&lt;/b&gt;" in page
    assert "<script" not in page.lower()
    index = (tmp_path / "s" / "index.html").read_text()
    assert EVIL not in index and "&lt;script&gt;" in index
    # one section per currency
    assert "Total due: 70.00 USD" in page and "Total due: 30.00 GBP" in page


def test_printable_and_self_contained(tmp_path):
    cfg = config_from_dict(
        {"company": {"name": "Acme <Ltd>", "address": ["1 Road"], "payment_details": "IBAN X"}}
    )
    write_statements(_tables(), DAY, tmp_path / "s", cfg)
    page = (tmp_path / "s" / "C1.html").read_text()
    assert "@page" in page and "size: A4" in page and "@media print" in page
    assert not re.search(r"<link|<script|<img|src=|https?://", page)
    assert "Acme &lt;Ltd&gt;" in page and "1 Road" in page and "IBAN X" in page
    assert "One &amp; Co" in page


UNSAFE = ["../../evil", "a/b", "a_b", " spaced id ", "Ünïcödé", "..", "/", "CON", "index", "\\x"]


def test_unsafe_ids_stay_inside_the_folder(tmp_path):
    rows = [
        {"invoice_id": f"U{i}", "customer_id": cid, "invoice_date": "2025-01-01",
         "due_date": "2025-02-01", "amount": 10.0 + i, "currency": "USD", "status": "open"}
        for i, cid in enumerate(UNSAFE)
    ]  # fmt: skip
    t = Tables(invoices=canonical("invoices", rows), payments=canonical("payments", []))
    root = tmp_path / "reports"
    folder = root / "2025-06-30" / "collections" / "statements"
    write_statements(t, DAY, folder)
    everything = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert all(p.parent == folder.relative_to(root) for p in everything)
    index = json.loads((folder / "index.json").read_text())["statements"]
    # ids are trimmed on cleaning; " spaced id " stays apart from the others here
    assert len(index) == len(UNSAFE) == len({r["file"].lower() for r in index})
    for r in index:
        assert (folder / r["file"]).is_file()
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.html", r["file"])
        assert r["file"] not in ("index.html", "CON.html")
        page = (folder / r["file"]).read_text()
        assert f"Customer {r['customer_id'].replace('&', '&amp;')}".strip() in page


@given(st.lists(st.text(max_size=30), max_size=20))
def test_safe_file_names_are_plain_and_distinct(ids):
    names = safe_file_names(ids)
    assert len(names) == len(ids)
    assert len({n.lower() for n in names}) == len(names)
    for n in names:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", n) and n.lower() != "index"


def test_requested_customers_are_added_and_unknown_ids_refused(tmp_path):
    t = _tables()
    folder = tmp_path / "s"
    write_statements(t, DAY, folder)
    written = write_statements(t, DAY, folder, customers=[" c2 "])
    assert written.statements == 1
    assert set(_index(folder)) == {"C1", "C2", "C3"}  # added to what was there
    with pytest.raises(so.ReportError, match="nobody"):
        write_statements(t, DAY, folder, customers=["nobody"])
    # a known customer with nothing open still gets a statement
    written = write_statements(t, "2025-03-01", tmp_path / "early", customers=["C2"])
    page = (tmp_path / "early" / "C2.html").read_text()
    assert "Nothing is open" in page and written.total_due == {}


def test_no_invoices_gives_an_empty_index(tmp_path):
    written = write_statements(Tables(), DAY, tmp_path / "s")
    assert written.statements == 0
    assert json.loads((tmp_path / "s" / "index.json").read_text())["statements"] == []
    # without a payments export, the invoices' own paid amounts are the payments
    t = _tables()
    t.payments = None
    t.invoices.loc[t.invoices["invoice_id"] == "I3", ["paid_amount", "paid_date"]] = [
        80.0,
        so_date("2025-04-02"),
    ]
    write_statements(t, DAY, tmp_path / "np")
    assert "I3" in (tmp_path / "np" / "C1.html").read_text().split("Payments received")[1]


def so_date(text: str):
    import pandas as pd

    return pd.Timestamp(text)


def test_cli_statements(tmp_path, monkeypatch):
    from tests.conftest import write

    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount,currency,status\n"
        "I1,C1,2025-04-01,2025-05-01,100.00,USD,open\n"
        "I2,C/2,2025-06-01,2025-07-01,50.00,USD,open\n",
    )
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", "invoices.csv"]).exit_code == 0
    result = runner.invoke(main, ["statements", "--date", DAY])
    assert result.exit_code == 0, result.output
    assert "1 statement of account" in result.output and "100.00 USD" in result.output
    folder = tmp_path / "reports" / DAY / "collections" / "statements"
    assert (folder / "C1.html").is_file()
    result = runner.invoke(main, ["statements", "--date", DAY, "--customer", "C/2"])
    assert result.exit_code == 0 and len(_index(folder)) == 2
    result = runner.invoke(main, ["statements", "--date", DAY, "--customer", "X9"])
    assert result.exit_code == 1 and "X9" in result.output
    result = runner.invoke(main, ["statements", "--date", DAY, "--all", "--customer", "C1"])
    assert result.exit_code != 0
    result = runner.invoke(main, ["statements", "--help"])
    assert result.exit_code == 0 and "--db" in result.output and "--config" in result.output
    result = runner.invoke(main, ["statements", "--date", DAY, "--db", "nowhere.duckdb"])
    assert result.exit_code == 1 and "error: nowhere.duckdb" in result.output


def test_demo_statements_equal_every_open_balance(demo_db, demo_config, tmp_path):
    from salesops_analysis.metrics import load_tables

    with so.open_warehouse(demo_db, read_only=True) as wh:
        t = load_tables(wh)
    written = write_statements(t, DAY, tmp_path / "s", demo_config, all_customers=True)
    items = open_items(t.invoices, t.payments, as_of=DAY)
    items = items.loc[items["is_open"]]
    expected = (
        items.assign(key=items["customer_id"].str.strip().str.lower())
        .groupby(["key", "currency"])["open_amount"]
        .sum()
        .round(2)
    )
    got = {
        (k.strip().lower(), c): v for k, r in _index(tmp_path / "s").items()
        for c, v in r["total_due"].items()
    }  # fmt: skip
    assert written.statements == items["customer_id"].str.strip().str.lower().nunique()
    assert got == pytest.approx(expected.to_dict(), abs=0.005)
    total = items.groupby("currency")["open_amount"].sum().round(2).to_dict()
    assert written.total_due == pytest.approx(total, abs=0.01)


def test_demo_statements_on_the_reports_ledger_are_the_same_files(demo_db, demo_config, tmp_path):
    """With the report's ledger, each payment's invoice comes from the ledger's matching
    instead of a match of its own: every statement file is the same."""
    from salesops_analysis.metrics import load_tables
    from salesops_analysis.metrics.receivables import Ledger

    with so.open_warehouse(demo_db, read_only=True) as wh:
        t = load_tables(wh)
    alone = write_statements(t, DAY, tmp_path / "alone", demo_config, payment_days=60)
    led = Ledger(t.invoices, t.payments)
    shared = write_statements(t, DAY, tmp_path / "shared", demo_config, payment_days=60, ledger=led)
    files = sorted(p.name for p in (tmp_path / "alone").iterdir())
    assert alone.statements == shared.statements > 10
    assert files == sorted(p.name for p in (tmp_path / "shared").iterdir())
    for name in files:
        assert (tmp_path / "alone" / name).read_bytes() == (tmp_path / "shared" / name).read_bytes()
