"""The worklist table (``risk/worklist.py``) on small hand-made books, without a model: a young
warehouse (nothing settled yet) is ranked by days past due × open amount, so every rank,
name, text and owner below is worked out by hand. The collections rules themselves are stated
in ``test_collection_rules.py``.

Seen on 2025-06-30 with the default ladder: not due < 1 <= reminder < 15 <= call < 45 <=
final notice < 75 <= escalate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesops_analysis as so
from salesops_analysis.metrics import Tables
from salesops_analysis.risk import worklist
from salesops_analysis.risk.worklist import WORKLIST_COLUMNS
from tests.metrics.conftest import invoices, payments

AS_OF = "2025-06-30"


def _activities(rows) -> pd.DataFrame:
    """(id, date, owner, type, invoice, outcome, promised date) per activity."""
    act = pd.DataFrame(
        rows,
        columns=["activity_id", "activity_date", "owner", "type", "invoice_id", "outcome", "pd"],
    )
    act = act.astype({c: "str" for c in ["activity_id", "owner", "type", "invoice_id", "outcome"]})
    return act.assign(
        activity_date=pd.to_datetime(act["activity_date"]),
        promised_date=pd.to_datetime(act.pop("pd")),
        customer_id="C1",
        order_id=None,
        promised_amount=None,
    )


def _book() -> Tables:
    inv = invoices(
        [
            ("A", "2025-05-01", "2025-06-10", 100),  # 20 days past due: 2,000
            ("B", "2025-04-01", "2025-05-31", 50),  # 30: 1,500
            ("C", "2025-06-01", "2025-07-10", 500),  # not due: 0, open 500
            ("D", "2025-06-01", "2025-06-30", 80),  # due today: 0, open 80
            ("E", "2025-03-01", "2025-03-31", 10),  # 91: 910
            ("PAID", "2025-03-01", "2025-03-31", 10),
        ]
    )
    inv["customer_id"] = pd.array(["C1", "c2 ", "C3", "C1", "C2", "C1"], dtype="str")
    pay = payments([("PAID", "2025-07-15", 10)])  # paid after the day: open, but not settled
    pay.loc[0, "payment_date"] = pd.Timestamp("2025-07-15")
    inv.loc[inv["invoice_id"] == "PAID", "due_date"] = pd.Timestamp("2025-06-29")  # 1 dpd: 10
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(["C2", "c1", "C9"], dtype="str"),
            "name": pd.array(["Bolt GmbH", "Acme Ltd", "Zed"], dtype="str"),
        }
    )
    act = _activities(
        [
            ("A1", "2025-06-20", "Bea", "call", "A", "promise_to_pay", "2025-07-02"),
            ("A2", "2025-06-21", "Cy", "email", "b", None, None),  # ids match ignoring case
            ("A3", "2025-06-22", None, "note", "E", "no_answer", None),  # nobody named
            ("A4", "2025-07-01", "Di", "call", "C", "dispute", None),  # after the day
        ]
    )
    orders = pd.DataFrame(
        {
            "order_id": pd.array(["O1", "O2"], dtype="str"),
            "customer_id": pd.array(["C2", "C3"], dtype="str"),
            "order_date": pd.to_datetime(["2025-01-01", "2025-02-01"]),
            "sales_rep": pd.array(["Rex", None], dtype="str"),
            "team": pd.array(["North", "South"], dtype="str"),
            "status": "invoiced",
            "amount": 1.0,
            "currency": "USD",
            "promised_date": pd.NaT,
            "shipped_date": pd.NaT,
            "invoiced_date": pd.to_datetime(["2025-01-02", "2025-02-02"]),
        }
    )
    return Tables(invoices=inv, payments=pay, customers=customers, activities=act, orders=orders)


# built for each test (a few milliseconds): a test that reads it is then known to reach
# the worklist code (the mutation run maps tests to the functions they call)
@pytest.fixture
def wl() -> pd.DataFrame:
    return worklist(None, _book(), AS_OF, so.Config())


def test_ranked_by_days_past_due_times_open_amount_without_history(wl):
    assert list(wl.columns) == WORKLIST_COLUMNS
    # 2,000, 1,500, 910, 10; then the not yet due by open amount: 500, 80
    assert wl["invoice_id"].tolist() == ["A", "B", "E", "PAID", "C", "D"]
    assert wl["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert wl["days_past_due"].tolist() == [20, 30, 91, 1, -10, 0]
    assert wl["probability"].isna().all()
    assert wl["open_amount"].tolist() == [100.0, 50.0, 10.0, 10.0, 500.0, 80.0]


def test_names_stages_promises_activities_owners_and_actions(wl):
    got = wl.set_index("invoice_id")
    assert got["customer_name"].to_dict() == {
        "A": "Acme Ltd",
        "B": "Bolt GmbH",
        "E": "Bolt GmbH",
        "PAID": "Acme Ltd",
        "C": "",  # C3 is not in the customers export
        "D": "Acme Ltd",
    }
    assert got["dunning_stage"].to_dict() == {
        "A": "call",
        "B": "call",
        "E": "escalate",
        "PAID": "reminder",
        "C": "not due",
        "D": "not due",
    }
    assert got.loc["A", "promise_status"] == "promised for 2025-07-02 (pending)"
    assert (got.drop(index="A")["promise_status"] == "none").all()
    assert got["last_activity"].to_dict() == {
        "A": "2025-06-20 call: promise to pay",
        "B": "2025-06-21 email",
        "E": "2025-06-22 note: no answer",
        "PAID": "none",
        "C": "none",  # its dispute is dated after the day
        "D": "none",
    }
    # who worked it, else the customer's rep, else unassigned
    assert got["owner"].to_dict() == {
        "A": "Bea",
        "B": "Cy",
        "E": "Rex",
        "PAID": "unassigned",
        "C": "unassigned",
        "D": "unassigned",
    }
    assert got["next_action"].to_dict() == {
        "A": "wait for the promised payment (2025-07-02)",
        "B": "call the customer",
        "E": "escalate to the credit manager",
        "PAID": "send a payment reminder",
        "C": "no action yet",  # no probability: never a courtesy call
        "D": "no action yet",
    }


def test_a_stage_without_a_known_action_says_its_name_and_no_customers_export_no_names():
    book = _book()
    book = Tables(
        invoices=book.invoices, payments=book.payments, activities=book.activities.iloc[:0]
    )
    config = so.Config(
        dunning=[{"stage": "patience", "from_days": -10_000}, {"stage": "chase", "from_days": 25}]
    )
    wl = worklist(None, book, AS_OF, config).set_index("invoice_id")
    assert wl["next_action"].to_dict() == {
        "A": "patience",
        "B": "chase",
        "E": "chase",
        "PAID": "patience",
        "C": "patience",
        "D": "patience",
    }
    assert (wl["customer_name"] == "").all()
    assert (wl["last_activity"] == "none").all() and (wl["owner"] == "unassigned").all()


def test_empty_and_one_invoice_books():
    empty = Tables(
        invoices=invoices([("X", "2025-06-01", "2025-06-20", 40)]).iloc[:0], payments=payments([])
    )
    wl = worklist(None, empty, AS_OF)
    assert list(wl.columns) == WORKLIST_COLUMNS and len(wl) == 0
    one = Tables(invoices=invoices([("X", "2025-06-01", "2025-06-20", 40)]), payments=None)
    wl = worklist(None, one, AS_OF)
    assert wl[["rank", "invoice_id", "days_past_due", "dunning_stage"]].values.tolist() == [
        [1, "X", 10, "reminder"]
    ]
    assert np.isnan(wl.loc[0, "probability"])


def test_activities_on_the_day_count_and_a_promise_needs_a_promised_date():
    """On 2025-06-30: an activity of that very day is known; a 'promise' without a promised
    date is no promise; of two promises on one day the later id counts; an invoice without
    a customer id has no name; the customers export without names gives none."""
    inv = invoices(
        [
            ("P", "2025-05-01", "2025-06-10", 100),
            ("Q", "2025-05-01", "2025-06-10", 90),
            ("R", "2025-05-01", "2025-06-10", 80),
        ]
    )
    inv["customer_id"] = pd.array(["C1", "C1", None], dtype="str")
    act = _activities(
        [
            ("A1", "2025-06-30", "Bea", "call", "P", "promise_to_pay", None),
            ("A2", "2025-06-20", "Cy", "call", "Q", "promise_to_pay", "2025-06-25"),
            ("A3", "2025-06-20", "Di", "call", "Q", "promise_to_pay", "2025-07-05"),
            ("A0", "2025-06-20", "Ed", "email", "Q", "promise_to_pay", "2025-06-26"),
            ("A4", "2025-06-22", None, "note", "R", None, None),
            (None, "2025-06-23", "Fay", "call", None, "no_answer", None),  # names no invoice
        ]
    )
    customers = pd.DataFrame(
        {"customer_id": pd.array(["C1"], dtype="str"), "name": pd.array(["Acme"], dtype="str")}
    )
    book = Tables(invoices=inv, payments=payments([]), customers=customers, activities=act)
    wl = worklist(None, book, AS_OF).set_index("invoice_id")
    assert wl["last_activity"].to_dict() == {
        "P": "2025-06-30 call: promise to pay",
        "Q": "2025-06-20 call: promise to pay",
        "R": "2025-06-22 note",
    }
    assert wl["promise_status"].to_dict() == {
        "P": "none",
        "Q": "promised for 2025-07-05 (pending)",  # A3: the later id of the day
        "R": "none",
    }
    assert wl["owner"].to_dict() == {"P": "Bea", "Q": "Di", "R": "unassigned"}
    assert wl["customer_name"].to_dict() == {"P": "Acme", "Q": "Acme", "R": ""}
    nameless = Tables(
        invoices=inv,
        payments=payments([]),
        customers=customers.drop(columns=["name"]),
        activities=act,
    )
    assert (worklist(None, nameless, AS_OF)["customer_name"] == "").all()


@pytest.fixture(scope="module")
def cash_model():
    """The cash book (tests/risk/cashbook.py: C1 pays on the due date, C2 always 14 days
    late) and a model trained on it (a second)."""
    from salesops_analysis.risk.model import train_from_tables
    from tests.risk.cashbook import AS_OF as DAY
    from tests.risk.cashbook import cash_book

    tables = cash_book()
    return tables, DAY, train_from_tables(tables, DAY, so.Config())


def test_with_a_model_the_always_late_customer_is_likely_late(cash_model):
    from salesops_analysis.risk import score_open_invoices

    tables, day, model = cash_model
    config = so.Config()
    wl = worklist(model, tables, day, config)
    prob = wl.groupby("customer_id")["probability"]
    assert prob.min()["C2"] > 0.5 > prob.max()["C1"]
    assert set(wl["score_kind"]) != {"days past due × amount"}
    # the same as scoring first and passing the scores
    scored = score_open_invoices(model, tables, day, config)
    same = worklist(model, tables, day, config, scored=scored)
    pd.testing.assert_frame_equal(wl, same)


def test_without_a_model_grace_days_of_the_config_decide_who_was_late(cash_model):
    """Baseline probability: the customer's (late + 0.3) / (settled + 1) over invoices settled
    before the day, shown to 4 decimals. C2 pays 14 days after the due date: late with no
    grace days, on time with 20."""
    tables, day, _ = cash_model
    pay = tables.payments
    settled = int(((pay["customer_id"] == "C2") & (pay["payment_date"] < day)).sum())
    c2 = lambda wl: wl.loc[wl["customer_id"] == "C2", "probability"]  # noqa: E731
    strict = worklist(None, tables, day, so.Config())
    assert c2(strict).tolist() == [round((settled + 0.3) / (settled + 1), 4)] * len(c2(strict))
    lenient = worklist(None, tables, day, so.Config(grace_days=20))
    assert c2(lenient).tolist() == [round(0.3 / (settled + 1), 4)] * len(c2(lenient))


def test_an_activity_without_a_type_still_shows_its_date_and_outcome():
    inv = invoices([("P", "2025-05-01", "2025-06-10", 100)])
    act = _activities([("A1", "2025-06-20", "Bea", None, "P", "no_answer", None)])
    book = Tables(invoices=inv, payments=payments([]), activities=act)
    assert worklist(None, book, AS_OF)["last_activity"].tolist() == ["2025-06-20 : no answer"]


def test_with_a_model_amounts_are_reported_at_the_configs_rates(cash_model):
    """C2 invoices in EUR at a configured 2.0 to the dollar: reported at twice their amount."""
    from tests.risk.cashbook import cash_book

    _, day, model = cash_model
    tables = cash_book(currency={"C2": "EUR"})
    wl = worklist(model, tables, day, so.Config(fx_rates={"EUR": 2.0}))
    c2 = wl.loc[wl["customer_id"] == "C2"]
    assert len(c2) > 0 and set(c2["currency"]) == {"EUR"}
    assert (c2["open_amount_reporting"] == 2 * c2["open_amount"]).all()
    assert set(wl["reporting_currency"]) == {"USD"}
