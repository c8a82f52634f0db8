"""The collections rules, stated by hand on a small book: dunning stage, promise status, next
action, owner and rank for each invoice.

Nothing here is borrowed from the code under test: the ladder is given in the config below,
and every expected text is written out. The book is scored by the baseline (no model), then each
invoice's probability and expected late amount are set by hand, so the rules decide; the scores'
source does not enter the rules, and no trained model is needed (the mutation run uses these).

The book is seen on 2025-06-30 with the ladder (days past due) not due < 1 <= reminder < 15
<= call < 45 <= final notice < 75 <= escalate. Next action, first that applies: a dispute, a
broken promise, a pending promise (promised for today or later), a not-yet-due invoice with a
probability of 0.5 or more (courtesy call), else the stage's own action.

The tests after the book state each rule of ``risk/collection_rules.py`` by hand on a few
values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesops_analysis as so
from salesops_analysis.metrics import Tables
from salesops_analysis.risk import score_by_baseline, worklist
from salesops_analysis.risk.collection_rules import (
    Action,
    DunningLadder,
    Promise,
    account_next_action,
    account_order,
    invoice_next_action,
    likely_late_before_due,
    promise_status,
    worklist_order,
)
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


# built for each test (a few milliseconds): a test that reads it is then known to reach
# the worklist code (the mutation run maps tests to the functions they call)
@pytest.fixture
def rules():
    tables = _tables()
    config = so.Config(dunning=LADDER)
    scored = score_by_baseline(tables, AS_OF, config)
    by_hand = {r[0]: r[4] for r in BOOK}
    inv = scored.invoices
    prob = inv["invoice_id"].map(by_hand).astype("float64")
    inv = inv.assign(
        probability=prob, expected_late_amount=(prob * inv["open_amount_reporting"]).round(2)
    )
    return worklist(None, tables, AS_OF, config, scored=scored.with_invoices(inv))


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


# -- each rule by hand -----------------------------------------------------------------


def test_dunning_stage_is_the_last_stage_reached():
    ladder = DunningLadder.of(list(reversed(LADDER)))  # any order in the config
    assert ladder.names == ("not due", "reminder", "call", "final notice", "escalate")
    days = np.array([-20_000, -1, 0, 1, 14, 15, 44, 45, 74, 75, 400])
    got = [ladder.names[i] for i in ladder.stage(days)]
    assert got == [
        "not due",  # below every stage: the first
        "not due",
        "not due",
        "reminder",  # from_days reached exactly
        "reminder",
        "call",
        "call",
        "final notice",
        "final notice",
        "escalate",
        "escalate",
    ]
    assert ladder.stage(np.array([], dtype=np.int64)).tolist() == []


def test_each_stage_says_its_own_action_and_an_unknown_stage_its_name():
    ladder = DunningLadder.of([*LADDER, {"stage": "lawyer letter", "from_days": 120}])
    assert ladder.actions == (
        "no action yet",
        "send a payment reminder",
        "call the customer",
        "send the final notice",
        "escalate to the credit manager",
        "lawyer letter",
    )


def test_a_promise_is_pending_through_its_day_and_broken_the_day_after():
    today = 100
    has = np.array([False, True, True, True, False])
    day = np.array([0, 101, 100, 99, 150])
    assert promise_status(has, day, today).tolist() == [
        Promise.NONE,
        Promise.PENDING,  # for tomorrow
        Promise.PENDING,  # for today: still pending at the end of the day
        Promise.BROKEN,  # for yesterday
        Promise.NONE,  # no promise, whatever the day column says
    ]
    assert promise_status(np.zeros(0, bool), np.zeros(0, np.int64), today).tolist() == []


def test_likely_late_before_due_needs_both_not_past_due_and_half_a_chance():
    dpd = np.array([0, -5, 1, -5, -5])
    prob = np.array([0.5, 0.9, 0.9, 0.49, np.nan])
    assert likely_late_before_due(dpd, prob).tolist() == [True, True, False, False, False]


def _names(actions) -> list[str]:
    return [Action(a).name for a in actions]


def test_invoice_next_action_takes_the_first_rule_that_applies():
    none, pending, broken = Promise.NONE, Promise.PENDING, Promise.BROKEN
    cases = [
        # dispute, promise, likely late before due -> action
        (True, broken, True, "RESOLVE_DISPUTE"),
        (True, pending, False, "RESOLVE_DISPUTE"),
        (True, none, False, "RESOLVE_DISPUTE"),
        (False, broken, True, "CALL_BROKEN_PROMISE"),
        (False, pending, True, "WAIT_FOR_PROMISE"),
        (False, none, True, "COURTESY_CALL"),
        (False, none, False, "DUNNING_STAGE"),
    ]
    got = invoice_next_action(
        in_dispute=np.array([c[0] for c in cases]),
        promise=np.array([c[1] for c in cases]),
        likely_late_before_due=np.array([c[2] for c in cases]),
    )
    assert _names(got) == [c[3] for c in cases]
    empty = np.zeros(0, dtype=bool)
    assert (
        invoice_next_action(
            in_dispute=empty, promise=np.zeros(0, np.int64), likely_late_before_due=empty
        ).tolist()
        == []
    )


def test_account_next_action_takes_the_first_rule_that_applies():
    none, pending, broken = Promise.NONE, Promise.PENDING, Promise.BROKEN
    cases = [
        # dispute, promise, overdue, likely late before due -> action
        (True, pending, True, True, "RESOLVE_DISPUTE"),
        (True, none, False, False, "RESOLVE_DISPUTE"),
        (False, pending, True, True, "WAIT_FOR_PROMISE"),
        (False, broken, True, True, "CALL_BROKEN_PROMISE"),
        (False, broken, False, False, "CALL_BROKEN_PROMISE"),
        (False, none, True, True, "DUNNING_STAGE"),
        (False, none, False, True, "COURTESY_CALL"),
        (False, none, False, False, "NO_ACTION"),
    ]
    got = account_next_action(
        in_dispute=np.array([c[0] for c in cases]),
        promise=np.array([c[1] for c in cases]),
        overdue=np.array([c[2] for c in cases]),
        likely_late_before_due=np.array([c[3] for c in cases]),
    )
    assert _names(got) == [c[4] for c in cases]


def test_worklist_order_by_expected_late_amount_then_open_amount():
    ela = np.array([100.0, 300.0, 300.0, 50.0, 300.0])
    open_amount = np.array([1000.0, 400.0, 900.0, 50.0, 400.0])
    dpd = np.array([90, 0, 0, 400, 0])  # not read: every invoice has an expected late amount
    # 300/900 first; 300/400 twice keeps its order (1 before 4); then 100, then 50
    assert worklist_order(ela, open_amount, dpd).tolist() == [2, 1, 4, 0, 3]
    one = worklist_order(np.array([1.0]), np.array([2.0]), np.array([3]))
    assert one.tolist() == [0]
    assert worklist_order(np.zeros(0), np.zeros(0), np.zeros(0, np.int64)).tolist() == []


def test_worklist_without_probabilities_ranks_by_days_past_due_times_amount():
    ela = np.array([np.nan, np.nan, np.nan, np.nan])
    open_amount = np.array([100.0, 10.0, 5000.0, 30.0])
    dpd = np.array([3, 40, -10, 10])  # keys 300, 400, 0 (not yet due), 300
    assert worklist_order(ela, open_amount, dpd).tolist() == [1, 0, 3, 2]


def test_account_order_ties_by_first_row_and_missing_amounts_count_zero():
    ela = np.array([50.0, np.nan, 50.0, 50.0, 80.0])
    open_amount = np.array([10.0, 999.0, 20.0, 20.0, 1.0])
    first_row = np.array([0, 1, 7, 3, 9])
    # 80 first; 50/20 twice by first row (3 before 7); 50/10; the missing one last
    assert account_order(ela, open_amount, first_row).tolist() == [4, 3, 2, 0, 1]


def test_accounts_without_expected_late_amounts_keep_the_worklist_order():
    ela = np.array([np.nan, np.nan, np.nan])
    open_amount = np.array([1.0, 500.0, 20.0])
    assert account_order(ela, open_amount, np.array([5, 2, 9])).tolist() == [1, 0, 2]
    assert account_order(np.zeros(0), np.zeros(0), np.zeros(0, np.int64)).tolist() == []
