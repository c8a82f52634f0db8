"""The collections report's account view writes customers.csv, statements and letters."""

from __future__ import annotations

import csv

import salesops_analysis as so
from salesops_analysis.metrics import Tables
from salesops_analysis.reports.accounts import TOP_ACCOUNT_COLUMNS, account_view
from tests.frames import canonical, worklist_frame

DAY = "2025-06-30"


def _data():
    inv = canonical(
        "invoices",
        [
            {"invoice_id": "I1", "customer_id": "C1", "invoice_date": "2025-04-01",
             "due_date": "2025-06-10", "amount": 300.0, "currency": "USD", "status": "open"},
            {"invoice_id": "I2", "customer_id": "C2", "invoice_date": "2025-06-20",
             "due_date": "2025-07-20", "amount": 900.0, "currency": "USD", "status": "open"},
        ],
    )  # fmt: skip
    cust = canonical("customers", [{"customer_id": "C1", "name": "=HYPERLINK(1)"}])
    wl = worklist_frame(
        [
            {"customer_id": "C2", "invoice_id": "I2", "open_amount_reporting": 900.0,
             "due_date": "2025-07-20", "days_past_due": -20, "probability": 0.2},
            {"customer_id": "C1", "customer_name": "=HYPERLINK(1)", "invoice_id": "I1",
             "open_amount_reporting": 300.0, "due_date": "2025-06-10", "days_past_due": 20,
             "probability": 0.5},
        ]
    )  # fmt: skip
    return wl, Tables(invoices=inv, payments=canonical("payments", []), customers=cust)


def test_account_view_writes_its_tables_and_reads_them(tmp_path):
    wl, tables = _data()
    cfg = so.config.config_from_dict({"collectors": [{"name": "Ann", "capacity": 1}]})
    view = account_view(wl, tables, cfg, DAY, tmp_path)
    assert view.accounts["customer_id"].tolist() == ["C2", "C1"]  # 180 before 150
    assert list(view.top(1).columns) == TOP_ACCOUNT_COLUMNS and len(view.top(1)) == 1
    # C2 needs nothing yet (20% likely late, not due): Ann's one call is C1
    assert view.accounts["call_today"].tolist() == [False, True]
    assert view.metrics() == {
        "customers_open": 2,
        "calls_today": 1,
        "calls_measure": "expected late amount",
        "calls_amount": 150.0,
        "calls_share": 0.4545,
        "statements": 1,
        "letters": 1,
    }
    assert view.summary().startswith("Today's 1 call reaches 150 USD of the 330 USD expected")
    assert view.load["calls_today"].tolist() == [1]
    assert (tmp_path / "statements" / "C1.html").is_file()
    assert (tmp_path / "letters" / "C1.txt").is_file()
    with (tmp_path / "customers.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["customer_name"] for r in rows] == ["", "'=HYPERLINK(1)"]  # neutralized


def test_account_view_without_output_or_invoices():
    view = account_view(worklist_frame([]), Tables(), None, DAY)
    assert view.accounts.empty and view.coverage.calls == 0
    assert view.metrics()["customers_open"] == 0 and view.statements is None
    assert "0 calls" in view.summary()
