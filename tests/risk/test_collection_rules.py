"""The collections rules, stated by hand on a small book: dunning stage, promise status, next
action, owner and rank for each invoice.

Nothing here is borrowed from the code under test: the ladder is given in the config below,
and every expected text is written out. Scores come from the demo model, then each invoice's
probability and expected late amount are set by hand, so the rules (not the model) decide.

The book is seen on 2025-06-30 with the ladder (days past due) not due < 1 <= reminder < 15
<= call < 45 <= final notice < 75 <= escalate. Next action, first that applies: a dispute, a
broken promise, a pending promise (promised for today or later), a not-yet-due invoice with a
probability of 0.5 or more (courtesy call), else the stage's own action.
"""

from __future__ import annotations

import pandas as pd
import pytest

import salesops_analysis as so
from salesops_analysis.metrics import Tables
from salesops_analysis.risk import score_open_invoices, worklist
from tests.metrics.conftest import invoices, payments
from tests.risk.conftest import AS_OF

LADDER = [
    {"stage": "not due", "from_days": -10_000},
    {"stage": "reminder", "from_days": 1},
    {"stage": "call", "from_days": 15},
    {"stage": "final notice", "from_days": 45},
    {"stage": "escalate", "from_days": 75},
]

# invoice id, customer, due date, amount, probability set by hand; then what the rules say:
# days past due, dunning stage, promise status, next action, owner
BOOK = [
    ("NOT_DUE_LOW", "C1", "2025-07-15", 1000, 0.20, -15, "not due", "none", "no action yet", "Ana"),
    (
        "NOT_DUE_HIGH",
        "C1",
        "2025-07-15",
        900,
        0.80,
        -15,
        "not due",
        "none",
        "courtesy call before the due date",
        "Ana",
    ),
    # due today is not past due yet: likely late, so a courtesy call
    (
        "DUE_TODAY",
        "C1",
        "2025-06-30",
        800,
        0.60,
        0,
        "not due",
        "none",
        "courtesy call before the due date",
        "Ana",
    ),
    # a promise recorded after the as-of date is not known yet
    (
        "REMINDER",
        "C1",
        "2025-06-29",
        700,
        0.40,
        1,
        "reminder",
        "none",
        "send a payment reminder",
        "Ana",
    ),
    ("CALL", "C1", "2025-06-15", 600, 0.50, 15, "call", "none", "call the customer", "Ana"),
    (
        "FINAL",
        "C1",
        "2025-05-16",
        500,
        0.60,
        45,
        "final notice",
        "none",
        "send the final notice",
        "Ana",
    ),
    # C2 has no orders and nobody worked the invoice: no owner to name
    (
        "ESCALATE",
        "C2",
        "2025-04-16",
        400,
        0.70,
        75,
        "escalate",
        "none",
        "escalate to the credit manager",
        "unassigned",
    ),
    # a broken promise, then a new one for July: the latest promise counts
    (
        "PENDING",
        "C1",
        "2025-06-10",
        300,
        0.90,
        20,
        "call",
        "promised for 2025-07-05 (pending)",
        "wait for the promised payment (2025-07-05)",
        "Bea",
    ),
    # promised for today: still pending at the end of the day
    (
        "PROMISED_TODAY",
        "C1",
        "2025-06-20",
        200,
        0.90,
        10,
        "reminder",
        "promised for 2025-06-30 (pending)",
        "wait for the promised payment (2025-06-30)",
        "Bea",
    ),
    (
        "BROKEN",
        "C1",
        "2025-06-01",
        150,
        0.90,
        29,
        "call",
        "promised for 2025-06-20: broken",
        "call: the promise to pay was broken",
        "Bea",
    ),
    # a dispute comes before the broken promise
    (
        "DISPUTED",
        "C1",
        "2025-06-10",
        100,
        0.90,
        20,
        "call",
        "promised for 2025-06-08: broken",
        "resolve the dispute before chasing payment",
        "Cy",
    ),
]

ACTIVITIES = [
    # id, date, owner, type, invoice, outcome, promised for
    ("A1", "2025-06-01", "Bea", "call", "PENDING", "promise_to_pay", "2025-06-05"),
    ("A2", "2025-06-25", "Bea", "call", "PENDING", "promise_to_pay", "2025-07-05"),
    ("A3", "2025-06-28", "Bea", "email", "PROMISED_TODAY", "promise_to_pay", "2025-06-30"),
    ("A4", "2025-06-10", "Bea", "call", "BROKEN", "promise_to_pay", "2025-06-20"),
    ("A5", "2025-06-05", "Bea", "call", "DISPUTED", "promise_to_pay", "2025-06-08"),
    ("A6", "2025-06-12", "Cy", "meeting", "DISPUTED", "dispute", None),
    ("A7", "2025-07-02", "Bea", "call", "REMINDER", "promise_to_pay", "2025-07-09"),  # future
]


def _tables() -> Tables:
    inv = invoices([(r[0], "2025-03-01", r[2], r[3]) for r in BOOK])
    inv["customer_id"] = [r[1] for r in BOOK]
    act = pd.DataFrame(
        ACTIVITIES,
        columns=["activity_id", "activity_date", "owner", "type", "invoice_id", "outcome", "pd"],
    )
    act = act.assign(
        activity_date=pd.to_datetime(act["activity_date"]),
        promised_date=pd.to_datetime(act.pop("pd")),
        customer_id="C1",
        order_id=None,
        promised_amount=None,
    )
    orders = pd.DataFrame(
        {
            "order_id": ["O1"],
            "customer_id": ["C1"],
            "order_date": [pd.Timestamp("2025-02-01")],
            "sales_rep": ["Ana"],
            "team": ["North"],
            "status": ["invoiced"],
            "amount": [1.0],
            "currency": ["USD"],
            "promised_date": [pd.NaT],
            "shipped_date": [pd.NaT],
            "invoiced_date": [pd.Timestamp("2025-02-02")],
        }
    )
    return Tables(invoices=inv, payments=payments([]), orders=orders, activities=act)


@pytest.fixture(scope="module")
def rules(demo_model):
    tables = _tables()
    config = so.Config(dunning=LADDER)
    scored = score_open_invoices(demo_model, tables, AS_OF, config)
    by_hand = {r[0]: r[4] for r in BOOK}
    inv = scored.invoices
    prob = inv["invoice_id"].map(by_hand).astype("float64")
    inv = inv.assign(
        probability=prob, expected_late_amount=(prob * inv["open_amount_reporting"]).round(2)
    )
    return worklist(demo_model, tables, AS_OF, config, scored=scored.with_invoices(inv))


def test_stage_promise_action_and_owner_per_invoice(rules):
    got = rules.set_index("invoice_id")
    assert sorted(got.index) == sorted(r[0] for r in BOOK)
    for inv, _, _, _, _, dpd, stage, promise, action, owner in BOOK:
        row = got.loc[inv]
        assert (
            row["days_past_due"],
            row["dunning_stage"],
            row["promise_status"],
            row["next_action"],
            row["owner"],
        ) == (dpd, stage, promise, action, owner), inv


def test_last_activity_is_the_latest_known_on_the_day(rules):
    last = rules.set_index("invoice_id")["last_activity"]
    assert last["PENDING"] == "2025-06-25 call: promise to pay"
    assert last["DISPUTED"] == "2025-06-12 meeting: dispute"
    assert last["REMINDER"] == "none"  # its only activity is dated after the as-of date
    assert last["CALL"] == "none"


def test_ranked_by_expected_late_amount_then_open_amount(rules):
    # expected late amounts by hand: 0.2*1000=200, 0.8*900=720, 0.6*800=480, 0.4*700=280,
    # 0.5*600=300, 0.6*500=300, 0.7*400=280, 0.9*300=270, 0.9*200=180, 0.9*150=135, 0.9*100=90
    assert rules["invoice_id"].tolist() == [
        "NOT_DUE_HIGH",  # 720
        "DUE_TODAY",  # 480
        "CALL",  # 300, open 600
        "FINAL",  # 300, open 500
        "REMINDER",  # 280, open 700
        "ESCALATE",  # 280, open 400
        "PENDING",  # 270
        "NOT_DUE_LOW",  # 200
        "PROMISED_TODAY",  # 180
        "BROKEN",  # 135
        "DISPUTED",  # 90
    ]
    assert rules["rank"].tolist() == list(range(1, 12))
