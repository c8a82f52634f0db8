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
    # LATE is both: 20 days in processing - 7 = 13 days over beats 10 days past its promise
    assert esc.loc["LATE", "reason"] == "in processing beyond SLA"
    assert esc.loc["LATE", "days_over"] == 13
    assert esc.loc["SLOW", "reason"] == "in processing beyond SLA"
    assert esc.loc["SLOW", "days_over"] == 8
    assert esc.loc["SHIP", "reason"] == "shipped, not invoiced beyond SLA"
    assert esc.loc["SHIP", "days_over"] == 2


def test_changes_since_previous_day():
    inv = invoices(
        [
            ("DUE_YDAY", "2025-06-01", "2025-06-29", 10),
            ("PAID_TODAY", "2025-06-01", "2025-07-15", 20),
            ("PROMISED", "2025-05-01", "2025-05-31", 30),
            ("PROM_TODAY", "2025-05-01", "2025-06-20", 40),
            ("PROM_MOVED", "2025-05-01", "2025-06-20", 50),
            ("PAID_BEFORE", "2025-05-01", "2025-06-20", 60),
        ]
    )
    pay = payments([("PAID_TODAY", "2025-06-30", 20), ("PAID_BEFORE", "2025-06-28", 60)])
    act = pd.DataFrame(
        [
            # (id, date, type, invoice, outcome, promised for, promised amount)
            ("A1", "2025-06-20", "call", "PROMISED", "promise_to_pay", "2025-06-29", 30.0),
            ("A2", "2025-06-30", "note", "DUE_YDAY", "dispute", None, None),
            ("A3", "2025-06-25", "call", "PROM_TODAY", "promise_to_pay", "2025-06-30", 40.0),
            # promised for today, then moved to July by a later promise: not due today
            ("A4", "2025-06-20", "call", "PROM_MOVED", "promise_to_pay", "2025-06-30", 50.0),
            ("A5", "2025-06-27", "email", "PROM_MOVED", "promise_to_pay", "2025-07-10", 50.0),
            # the invoice was settled before yesterday: nothing to expect today
            ("A6", "2025-06-21", "call", "PAID_BEFORE", "promise_to_pay", "2025-06-30", 60.0),
            # open yesterday, paid today: the promise fell due today (and was kept)
            ("A7", "2025-06-22", "call", "PAID_TODAY", "promise_to_pay", "2025-06-30", 20.0),
        ],
        columns=[
            "activity_id",
            "activity_date",
            "type",
            "invoice_id",
            "outcome",
            "promised_date",
            "promised_amount",
        ],
    )
    act["activity_date"] = pd.to_datetime(act["activity_date"])
    act["promised_date"] = pd.to_datetime(act["promised_date"])
    act = act.assign(owner="Bea", customer_id="C1", order_id=None)
    more = orders(
        [
            # 8 days in processing today (SLA 7), 7 yesterday: escalated today for the first time
            ("FRESH", "2025-06-22", "processing", 80, None, None, None),
            # promised for yesterday: 1 day past the promise today, 0 yesterday
            ("MISSED", "2025-06-27", "processing", 90, "2025-06-29", None, None),
        ]
    )
    t = Tables(invoices=inv, payments=pay, orders=pd.concat([ORDERS, more]), activities=act)
    ch = changes_since_previous_day(t, DAY, sla_days=SLA)
    assert ch["newly_overdue"]["invoice_id"].tolist() == ["DUE_YDAY"]
    assert ch["newly_overdue"]["open_amount"].tolist() == [10.0]
    assert sorted(ch["newly_paid"]["invoice_id"]) == ["PAID_TODAY"]
    assert ch["promises_broken"]["invoice_id"].tolist() == ["PROMISED"]
    assert ch["disputes_opened"]["activity_id"].tolist() == ["A2"]
    due = ch["promises_due_today"]
    assert due["invoice_id"].tolist() == ["PAID_TODAY", "PROM_TODAY"]  # by activity date
    assert due["activity_date"].tolist() == [pd.Timestamp("2025-06-22"), pd.Timestamp("2025-06-25")]
    assert due["promised_amount"].tolist() == [20.0, 40.0]
    assert (due["promised_date"] == DAY).all() and (due["owner"] == "Bea").all()
    # LATE, SLOW and SHIP were escalated yesterday already (SHIP: 4 days shipped > 3)
    new = ch["new_escalations"]
    assert new["order_id"].tolist() == ["MISSED", "FRESH"]  # 1 day over each: larger amount first
    assert new["reason"].tolist() == ["past promised date", "in processing beyond SLA"]
    assert new["days_over"].tolist() == [1, 1]


def test_daily_mis_has_every_design_key_and_reconciles(demo_db, demo_config):
    with so.open_warehouse(demo_db, read_only=True) as wh:
        t = load_tables(wh)
    mis = daily_mis(t, "2025-06-30", demo_config)
    m = mis.metrics
    for key in DESIGN_KEYS:
        assert key in m, key
    json.dumps(m)  # plain JSON types
    # the day's counts, recounted plainly from the tables (amounts at the day's rates)
    day = pd.Timestamp("2025-06-30")
    rates, ccy = t.rates(day, demo_config)
    assert ccy == m["currency"]
    assert m["orders_received"] == (t.orders["order_date"] == day).sum()
    issued = t.invoices.loc[(t.invoices["invoice_date"] == day) & (t.invoices["amount"] > 0)]
    assert m["invoices_issued"] == len(issued)
    paid = t.payments.loc[t.payments["payment_date"] == day]
    cash = (paid["amount"] * paid["currency"].map(rates).astype("float64").fillna(1.0)).sum()
    assert m["cash_collected"] == pytest.approx(cash, abs=0.01)
    assert m["activities"] == (t.activities["activity_date"] == day).sum()
    assert m["orders_received"] > 0 and m["cash_collected"] > 0  # the demo day is not empty
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


def _activities_today(owners: list[str | None]) -> pd.DataFrame:
    act = pd.DataFrame(
        {
            "activity_id": [f"A{k}" for k in range(len(owners))],
            "activity_date": DAY,
            "type": "call",
            "invoice_id": "I1",
            "outcome": "no_answer",
            "promised_date": pd.NaT,
            "promised_amount": float("nan"),
            "owner": pd.Series(owners, dtype="str"),
            "customer_id": "C1",
            "order_id": None,
        }
    )
    return act


@pytest.mark.parametrize(
    ("owners", "expected"),
    [
        # Ana sells for North; Zoe is no sales rep: a collector
        (["Ana", "Zoe", "Ana"], {("North", "Ana"): 2, ("collections", "Zoe"): 1}),
        # no owner is a sales rep: every team is "collections" (the mapped teams are all
        # missing, which once raised a pandas warning for filling floats with text)
        (["Zoe", "Yan"], {("collections", "Zoe"): 1, ("collections", "Yan"): 1}),
    ],
)
def test_activity_team_is_the_reps_team_else_collections(owners, expected):
    import warnings

    t = Tables(
        invoices=invoices([("I1", "2025-06-01", "2025-06-10", 100)]),
        payments=payments([]),
        orders=ORDERS,
        activities=_activities_today(owners),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        activity = daily_mis(t, DAY, so.Config()).activity
    got = activity.set_index(["team", "owner"])["activities"].to_dict()
    assert got == expected
    assert daily_mis(t, DAY, so.Config()).metrics["activities"] == len(owners)
