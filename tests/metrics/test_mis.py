"""Daily MIS: orders, backlog, escalations, changes since yesterday, the metrics.json keys."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import salesops_analysis as so
from salesops_analysis.metrics import (
    Tables,
    changes_since_previous_day,
    daily_mis,
    escalations,
    load_tables,
    open_orders,
)
from tests.metrics.conftest import invoices, payments

DAY = pd.Timestamp("2025-06-30")
SLA = {"received": 2, "processing": 7, "on_hold": 5, "shipped": 3}
DESIGN_KEYS = [
    "report_date",
    "currency",
    "orders_received",
    "orders_received_amount",
    "open_orders",
    "open_orders_amount",
    "orders_past_sla",
    "invoices_issued",
    "invoices_issued_amount",
    "cash_collected",
    "ar_open",
    "ar_current",
    "ar_1_30",
    "ar_31_60",
    "ar_61_90",
    "ar_90_plus",
    "dso_countback",
    "best_possible_dso",
    "average_days_delinquent",
    "cei",
]


def orders(rows):
    """(order_id, order_date, status, amount, promised, shipped, invoiced)."""
    t = pd.Timestamp
    return pd.DataFrame(
        [
            {
                "order_id": r[0],
                "customer_id": "C1",
                "order_date": t(r[1]),
                "sales_rep": "Ana",
                "team": "North",
                "status": r[2],
                "amount": float(r[3]),
                "currency": "USD",
                "promised_date": t(r[4]) if r[4] else pd.NaT,
                "shipped_date": t(r[5]) if r[5] else pd.NaT,
                "invoiced_date": t(r[6]) if r[6] else pd.NaT,
            }
            for r in rows
        ]
    )


ORDERS = orders(
    [
        ("NEW", "2025-06-30", "received", 10, "2025-07-05", None, None),
        ("LATE", "2025-06-10", "processing", 20, "2025-06-20", None, None),  # promise 10 days ago
        ("SLOW", "2025-06-15", "processing", 30, None, None, None),  # 15 days > SLA 7
        ("HOLD", "2025-06-28", "on_hold", 40, None, None, None),  # 2 days, within SLA
        ("SHIP", "2025-06-20", "shipped", 50, None, "2025-06-25", None),  # 5 days > SLA 3
        ("DONE", "2025-06-01", "invoiced", 60, None, "2025-06-05", "2025-06-06"),
        ("GONE", "2025-06-01", "cancelled", 70, None, None, None),
    ]
)


def test_backlog_excludes_invoiced_and_cancelled():
    backlog = open_orders(ORDERS, DAY)
    assert sorted(backlog["order_id"]) == ["HOLD", "LATE", "NEW", "SHIP", "SLOW"]
    assert backlog.set_index("order_id").loc["NEW", "status_on_day"] == "received"
    # on an earlier day DONE was still open (shipped, not invoiced) and SHIP not yet ordered
    earlier = open_orders(ORDERS, "2025-06-05").set_index("order_id")
    assert earlier.loc["DONE", "status_on_day"] == "shipped"
    assert "SHIP" not in earlier.index


def test_escalations_name_the_reason_and_days_over():
    esc = escalations(ORDERS, DAY, SLA).set_index("order_id")
    assert sorted(esc.index) == ["LATE", "SHIP", "SLOW"]
    assert esc.loc["LATE", "reason"] in ("past promised date", "in processing beyond SLA")
    assert esc.loc["LATE", "days_over"] == 13  # 20 days in processing - 7 beats 10 past promise
    assert esc.loc["SLOW", "days_over"] == 8
    assert esc.loc["SHIP", "reason"] == "shipped, not invoiced beyond SLA"
    assert esc.loc["SHIP", "days_over"] == 2


def test_changes_since_previous_day():
    inv = invoices(
        [
            ("DUE_YDAY", "2025-06-01", "2025-06-29", 10),
            ("PAID_TODAY", "2025-06-01", "2025-07-15", 20),
            ("PROMISED", "2025-05-01", "2025-05-31", 30),
        ]
    )
    pay = payments([("PAID_TODAY", "2025-06-30", 20)])
    act = pd.DataFrame(
        {
            "activity_id": ["A1", "A2"],
            "activity_date": pd.to_datetime(["2025-06-20", "2025-06-30"]),
            "owner": ["Bea", "Bea"],
            "type": ["call", "note"],
            "customer_id": ["C1", "C1"],
            "invoice_id": ["PROMISED", "DUE_YDAY"],
            "order_id": [None, None],
            "outcome": ["promise_to_pay", "dispute"],
            "promised_date": pd.to_datetime(["2025-06-29", None]),
            "promised_amount": [30.0, None],
        }
    )
    t = Tables(invoices=inv, payments=pay, orders=ORDERS, activities=act)
    ch = changes_since_previous_day(t, DAY, sla_days=SLA)
    assert ch["newly_overdue"]["invoice_id"].tolist() == ["DUE_YDAY"]
    assert ch["newly_paid"]["invoice_id"].tolist() == ["PAID_TODAY"]
    assert ch["promises_broken"]["invoice_id"].tolist() == ["PROMISED"]
    assert ch["disputes_opened"]["activity_id"].tolist() == ["A2"]
    # SHIP crossed its SLA today (5 > 3 and yesterday 4 > 3, so not new); SLOW too
    assert "SHIP" not in set(ch["new_escalations"]["order_id"])


def test_daily_mis_has_every_design_key_and_reconciles(demo_db, demo_config):
    with so.open_warehouse(demo_db, read_only=True) as wh:
        t = load_tables(wh)
    mis = daily_mis(t, "2025-06-30", demo_config)
    m = mis.metrics
    for key in DESIGN_KEYS:
        assert key in m, key
    buckets = m["ar_current"] + m["ar_1_30"] + m["ar_31_60"] + m["ar_61_90"] + m["ar_90_plus"]
    assert buckets == pytest.approx(m["ar_open"], abs=0.05)
    json.dumps(m)  # plain JSON types
    assert m["orders_received"] > 0 and m["cash_collected"] > 0
    assert 20 < m["dso_countback"] < 90
    assert 0 < m["cei"] <= 100


def test_daily_figures_count_that_days_rows():
    t = Tables(
        invoices=invoices(
            [("I1", "2025-06-30", "2025-07-30", 100), ("I2", "2025-06-29", "2025-07-29", 50)]
        ),
        payments=payments([("I2", "2025-06-30", 50), ("I1", "2025-07-01", 100)]),
        orders=ORDERS,
    )
    m = daily_mis(t, DAY, so.Config()).metrics
    assert (m["invoices_issued"], m["invoices_issued_amount"]) == (1, 100.0)
    assert m["cash_collected"] == 50.0
    assert (m["orders_received"], m["orders_received_amount"]) == (1, 10.0)
    assert m["open_orders"] == 5 and m["orders_past_sla"] == 3
    assert m["ar_open"] == 100.0 and m["ar_current"] == 100.0


def test_aging_by_team_and_rep_comes_from_orders():
    from salesops_analysis.metrics import aging_buckets, open_items, with_sales_owner

    inv = invoices(
        [("I1", "2025-06-01", "2025-06-10", 100), ("I2", "2025-06-01", "2025-07-10", 50)]
    )
    inv["order_id"] = ["DONE", None]  # I2 has no order: the customer's latest order decides
    o = ORDERS.assign(
        sales_rep=["Ana"] * 5 + ["Ben", "Ana"], team=["North"] * 5 + ["South", "North"]
    )
    items = with_sales_owner(open_items(inv, payments([]), as_of=DAY), o)
    assert items["sales_rep"].tolist() == ["Ben", "Ana"]
    aging = aging_buckets(items, by=["team", "sales_rep"])
    assert aging.loc[("South", "Ben"), "1_30"] == 100.0
    assert aging.loc[("North", "Ana"), "current"] == 50.0
