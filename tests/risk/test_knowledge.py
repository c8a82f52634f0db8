"""What was known at the end of a day (``risk/knowledge.py``), on a hand-made book whose every
answer is worked out by hand: settlement days, which rows are modelled, the customer codes,
the categories and the activities known on the day."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesops_analysis.metrics.days import NO_DAY, day_number
from salesops_analysis.metrics.receivables import Ledger
from salesops_analysis.risk import Knowledge
from salesops_analysis.risk.knowledge import settlement_days
from tests.metrics.conftest import invoices, payments

T = "2025-03-31"


def _book() -> tuple[pd.DataFrame, pd.DataFrame]:
    inv = invoices(
        [
            ("PAID_IN_TWO", "2025-01-01", "2025-01-31", 100),  # 40 + 60: settled 02-20
            ("PAID_AFTER_T", "2025-01-05", "2025-02-04", 100),  # paid 04-10: not by T
            ("CREDITED", "2025-02-01", "2025-03-03", 50),  # a credit note of 03-10 settles it
            ("CN", "2025-03-10", "2025-03-10", -50, "USD", "CREDITED"),
            ("ISSUED_AFTER_T", "2025-04-05", "2025-05-05", 100),
            ("SHORT_A_CENT", "2025-01-10", "2025-02-09", 100),  # 99.995 paid: settled 03-01
            ("SHORT_TWO_CENTS", "2025-01-10", "2025-02-09", 100),  # 99.98 paid: open
            ("WRITTEN_OFF", "2025-01-10", "2025-02-09", 100),  # paid in full, yet written off
            ("OVERPAID", "2025-01-15", "2025-02-14", 100),  # 30 then 80: settled by the 2nd
        ]
    )
    inv.loc[inv["invoice_id"] == "WRITTEN_OFF", "status"] = "written_off"
    pay = payments(
        [
            ("PAID_IN_TWO", "2025-02-20", 60),
            ("PAID_IN_TWO", "2025-02-10", 40),
            ("PAID_AFTER_T", "2025-04-10", 100),
            ("SHORT_A_CENT", "2025-03-01", 99.995),
            ("SHORT_TWO_CENTS", "2025-03-01", 99.98),
            ("WRITTEN_OFF", "2025-02-01", 100),
            ("OVERPAID", "2025-03-02", 80),
            ("OVERPAID", "2025-02-02", 30),
            ("UNKNOWN", "2025-02-02", 30),  # names no invoice
        ]
    )
    return inv, pay


def _by_id(k: Knowledge, values) -> dict:
    return dict(zip(k.ledger.invoices["invoice_id"], np.asarray(values).tolist(), strict=True))


def test_settled_on_the_day_the_payments_reach_the_amount_within_a_cent():
    inv, pay = _book()
    k = Knowledge.at(T, inv, pay)
    assert k.T == day_number(T)
    d = day_number
    assert _by_id(k, k.closed) == {
        "PAID_IN_TWO": d("2025-02-20"),
        "PAID_AFTER_T": NO_DAY,
        "CREDITED": d("2025-03-10"),
        "CN": NO_DAY,
        "ISSUED_AFTER_T": NO_DAY,
        "SHORT_A_CENT": d("2025-03-01"),
        "SHORT_TWO_CENTS": NO_DAY,
        "WRITTEN_OFF": NO_DAY,
        "OVERPAID": d("2025-03-02"),
    }
    # seen a day before the second payment, PAID_IN_TWO is not settled yet
    early = settlement_days(Ledger(inv, pay), d("2025-02-19"))
    assert _by_id(k, early)["PAID_IN_TWO"] == NO_DAY
    assert _by_id(k, early)["OVERPAID"] == NO_DAY
    # and the credit note does not count before it is issued
    assert _by_id(k, settlement_days(Ledger(inv, pay), d("2025-03-09")))["CREDITED"] == NO_DAY


def test_modelled_rows_are_invoices_issued_by_the_day():
    inv, pay = _book()
    k = Knowledge.at(T, inv, pay)
    modelled = _by_id(k, k.modelled)
    assert [i for i, m in modelled.items() if not m] == ["CN", "ISSUED_AFTER_T"]
    assert k.modelled.dtype == bool


def test_without_payments_the_paid_date_settles_once_the_paid_amount_covers_it():
    inv = invoices(
        [
            ("FULL", "2025-01-01", "2025-01-31", 100),
            ("PART", "2025-01-01", "2025-01-31", 100),
            ("A_CENT_SHORT", "2025-01-01", "2025-01-31", 100),
            ("LATER", "2025-01-01", "2025-01-31", 100),
            ("NEVER", "2025-01-01", "2025-01-31", 100),
        ]
    )
    inv["paid_amount"] = [100.0, 60.0, 99.995, 100.0, 0.0]
    inv["paid_date"] = pd.to_datetime(
        ["2025-02-03", "2025-02-03", "2025-02-04", "2025-05-01", None]
    )
    k = Knowledge.at(T, inv, None)
    d = day_number
    assert _by_id(k, k.closed) == {
        "FULL": d("2025-02-03"),
        "PART": NO_DAY,
        "A_CENT_SHORT": d("2025-02-04"),
        "LATER": NO_DAY,
        "NEVER": NO_DAY,
    }
    assert k.closed.dtype == np.int64


def test_customers_categories_and_activities_known_on_the_day():
    inv = invoices(
        [
            ("I1", "2025-01-01", "2025-01-31", 100),
            ("I2", "2025-01-01", "2025-01-31", 100),
            ("I3", "2025-01-01", "2025-01-31", 100),
            ("I4", "2025-01-01", "2025-01-31", 100),
        ]
    )
    inv["customer_id"] = pd.array(["Acme", " acme ", "Bolt", None], dtype="str")
    inv["country"] = pd.array(["DE", None, "FR", "DE"], dtype="str")
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(["BOLT", "acme", "Zed"], dtype="str"),
            "segment": pd.array(["SMB", "Enterprise", "SMB"], dtype="str"),
        }
    )
    act = pd.DataFrame(
        {
            "activity_id": ["A1", "A2", "A3", "A4", "A5", "A6"],
            "activity_date": pd.to_datetime(
                ["2025-02-01", "2025-02-10", "2025-03-05", "2025-04-01", "2025-02-15", "2025-03-01"]
            ),
            "invoice_id": pd.array(["I1", "i2 ", "I1", "I1", "NOPE", "I1"], dtype="str"),
            "type": pd.array(["call", "note", "email", "call", "call", "meeting"], dtype="str"),
            "outcome": pd.array(
                ["dispute", "promise_to_pay", None, "dispute", "dispute", "dispute"], dtype="str"
            ),
            "promised_date": pd.to_datetime([None, "2025-04-20", None, None, None, None]),
        }
    )
    k = Knowledge.at(T, inv, None, act, customers, categorical=["segment", "country"])
    # Acme and " acme " are one customer, a missing id has none
    assert k.customer.tolist()[:2] == [k.customer[0]] * 2
    assert k.customer[2] != k.customer[0] and k.customer[3] == -1
    codes, values = k.categories["segment"]  # from the customers export
    assert values[codes].tolist() == ["Enterprise", "Enterprise", "SMB", "unknown"]
    codes, values = k.categories["country"]  # the invoices' own column
    assert values[codes].tolist() == ["DE", "unknown", "FR", "DE"]
    # A4 is after T, A5 names no invoice: the rest, in the export's order
    assert k.act_row.tolist() == [0, 1, 0, 0]
    d = day_number
    assert k.act_day.tolist() == [
        d("2025-02-01"),
        d("2025-02-10"),
        d("2025-03-05"),
        d("2025-03-01"),
    ]
    assert k.act_contact.tolist() == [True, False, True, True]
    assert k.act_promise.tolist() == [False, True, False, False]
    assert k.act_promised_day.tolist() == [NO_DAY, d("2025-04-20"), NO_DAY, NO_DAY]
    # the first dispute known by T (A1, not A6 nor the later A4)
    assert k.dispute_day.tolist() == [d("2025-02-01"), NO_DAY, NO_DAY, NO_DAY]
    # a categorical feature nobody has: all unknown
    nothing = Knowledge.at(T, inv, None, act, customers, categorical=["region"])
    codes, values = nothing.categories["region"]
    assert codes.tolist() == [-1] * 4 and values.tolist() == ["unknown"]


def test_no_activities_and_the_activities_matched_with_the_payments():
    inv, pay = _book()
    k = Knowledge.at(T, inv, pay)
    assert len(k.act_row) == len(k.act_day) == len(k.act_promise) == 0
    assert (k.dispute_day == NO_DAY).all() and len(k.dispute_day) == len(inv)
    act = pd.DataFrame(
        {
            "activity_id": ["A1"],
            "activity_date": pd.to_datetime(["2025-02-01"]),
            "invoice_id": pd.array(["CREDITED"], dtype="str"),
            "type": pd.array(["call"], dtype="str"),
            "outcome": pd.array(["dispute"], dtype="str"),
            "promised_date": pd.to_datetime([None]),
        }
    )
    led = Ledger(inv, pay, activities=act)
    k = Knowledge.at(T, inv, pay, act, ledger=led)
    assert k.ledger is led
    assert k.act_row.tolist() == [2]
    assert _by_id(k, k.dispute_day)["CREDITED"] == day_number("2025-02-01")
    assert k.grace_days == 0 and Knowledge.at(T, inv, pay, grace_days=5).grace_days == 5


def _activity(invoice_id: str, day: str, outcome: str = "dispute") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "activity_id": ["A1"],
            "activity_date": pd.to_datetime([day]),
            "invoice_id": pd.array([invoice_id], dtype="str"),
            "type": pd.array(["call"], dtype="str"),
            "outcome": pd.array([outcome], dtype="str"),
            "promised_date": pd.to_datetime([None]),
        }
    )


def test_of_reads_the_warehouse_tables_as_at_does():
    from salesops_analysis.metrics import Tables

    inv, pay = _book()
    inv["segment"] = "SMB"
    act = _activity("PAID_AFTER_T", "2025-03-01")
    customers = pd.DataFrame(
        {"customer_id": pd.array(["C1"], dtype="str"), "country": pd.array(["DE"], dtype="str")}
    )
    tables = Tables(invoices=inv, payments=pay, activities=act, customers=customers)
    led = Ledger(inv, pay, activities=act)
    k = Knowledge.of(tables, T, grace_days=3, categorical=("segment", "country"), ledger=led)
    assert k.ledger is led and k.grace_days == 3 and k.T == day_number(T)
    ref = Knowledge.at(
        T, inv, pay, act, customers, grace_days=3, categorical=["segment", "country"]
    )
    assert k.closed.tolist() == ref.closed.tolist()
    assert _by_id(k, k.dispute_day)["PAID_AFTER_T"] == day_number("2025-03-01")
    assert list(k.categories) == ["segment", "country"]
    codes, values = k.categories["country"]  # from the customers export
    assert set(values[codes]) == {"DE"}
    plain = Knowledge.of(tables, T)  # no grace days and no categorical features by default
    assert plain.grace_days == 0 and plain.categories == {}
    assert plain.closed.tolist() == ref.closed.tolist()


def test_a_zero_amount_line_is_not_modelled():
    inv = invoices(
        [("A", "2025-01-01", "2025-01-31", 100), ("ZERO", "2025-01-01", "2025-01-31", 0)]
    )
    assert Knowledge.at(T, inv, payments([])).modelled.tolist() == [True, False]


def test_activities_matched_again_when_the_ledger_was_built_without_them():
    inv, pay = _book()
    act = _activity("credited ", "2025-02-01")
    k = Knowledge.at(T, inv, pay, act, ledger=Ledger(inv, pay))
    assert k.act_row.tolist() == [2]
    assert _by_id(k, k.dispute_day)["CREDITED"] == day_number("2025-02-01")


def test_category_texts_nan_and_na_read_unknown_and_empty_activities_are_int_arrays():
    inv = invoices(
        [(f"I{i}", "2025-01-01", "2025-01-31", 100) for i in range(4)],
    )
    inv["segment"] = pd.array(["nan", "SMB", "<NA>", None], dtype="str")
    k = Knowledge.at(T, inv, None, categorical=["segment"])
    codes, values = k.categories["segment"]
    # the texts 'nan' and '<NA>' are missing values written out: code -1, read 'unknown'
    assert codes[[0, 2, 3]].tolist() == [-1, -1, -1] and values[codes].tolist() == [
        "unknown",
        "SMB",
        "unknown",
        "unknown",
    ]
    for name in ("act_row", "act_day", "act_promised_day", "dispute_day"):
        assert getattr(k, name).dtype == np.int64, name


def test_a_censored_invoice_is_not_late():
    inv = invoices([("DUE_TODAY", "2025-03-01", "2025-03-31", 100)])
    k = Knowledge.at(T, inv, payments([]))
    known, late = k.late_label(day_number("2025-03-31"))
    assert known.tolist() == [False] and late.tolist() == [False]


def test_a_good_first_category_keeps_its_code_beside_a_written_out_missing_one():
    inv = invoices([(f"I{i}", "2025-01-01", "2025-01-31", 100) for i in range(3)])
    inv["segment"] = pd.array(["SMB", "nan", "SMB"], dtype="str")
    codes, values = Knowledge.at(T, inv, None, categorical=["segment"]).categories["segment"]
    assert values[codes].tolist() == ["SMB", "unknown", "SMB"]
