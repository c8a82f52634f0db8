"""Features know only the past: future rows never change them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
from hypothesis import given, settings
from hypothesis import strategies as st

from salesops_analysis.metrics.days import day_number
from salesops_analysis.risk import Knowledge, features_at, settlement_days
from tests.metrics.conftest import invoices, payments

D = "2025-03-31"


def _open_rows_at(k: Knowledge, day) -> np.ndarray:
    _, open_amount, _ = k.ledger.balances(day)
    return np.flatnonzero((np.abs(open_amount) > 0.005) & k.modelled)


def _features(tables, knowledge_day, day, rows=None):
    k = Knowledge.at(
        knowledge_day, tables.invoices, tables.payments, tables.activities, tables.customers
    )
    rows = _open_rows_at(k, day) if rows is None else rows
    return rows, features_at(k, rows, np.full(len(rows), day_number(day)))


def test_features_for_a_date_ignore_everything_after_it(demo_tables):
    rows, known_then = _features(demo_tables, D, D)
    _, known_later = _features(demo_tables, "2025-06-30", D, rows)
    # every open invoice of that day (not a handful): as the receivables module counts them
    from salesops_analysis.metrics import open_items

    items = open_items(demo_tables.invoices, demo_tables.payments, as_of=D)
    assert len(rows) == (items["is_open"] & (items["amount"] > 0)).sum() > 500
    # equal up to float rounding of running sums (sums over more rows differ in the 1e-8s)
    pdt.assert_frame_equal(known_then, known_later, check_exact=False, atol=1e-6)


def test_shuffling_future_outcomes_does_not_change_features(demo_tables):
    rows, before = _features(demo_tables, "2025-06-30", D)
    rng = np.random.default_rng(0)
    t = demo_tables
    pay = t.payments.copy()
    later = pay["payment_date"] > pd.Timestamp(D)
    # scramble which invoice each later payment settles, and when, and how much
    pay.loc[later, "invoice_id"] = rng.permutation(pay.loc[later, "invoice_id"].to_numpy())
    pay.loc[later, "amount"] = rng.permutation(pay.loc[later, "amount"].to_numpy())
    pay.loc[later, "payment_date"] = pd.Timestamp(D) + pd.to_timedelta(
        rng.integers(1, 90, int(later.sum())), unit="D"
    )
    act = t.activities.copy()
    act_later = act["activity_date"] > pd.Timestamp(D)
    act.loc[act_later, "outcome"] = "dispute"
    shuffled = type(t)(
        invoices=t.invoices,
        payments=pay,
        orders=t.orders,
        activities=act,
        customers=t.customers,
        fx_rates=t.fx_rates,
    )
    _, after = _features(shuffled, "2025-06-30", D, rows)
    pdt.assert_frame_equal(before, after, check_exact=False, atol=1e-6)


def test_history_counts_only_invoices_settled_strictly_before_the_day():
    inv = invoices(
        [
            ("A", "2025-01-01", "2025-01-31", 100),
            ("B", "2025-01-05", "2025-02-04", 100),
            ("C", "2025-03-01", "2025-03-31", 100),
        ]
    )
    pay = payments(
        [
            ("A", "2025-02-10", 100),  # late, settled before 03-01
            ("B", "2025-03-01", 100),
        ]
    )  # late, settled ON 03-01: not yet history
    k = Knowledge.at("2025-06-30", inv, pay)
    f = features_at(k, np.array([2]), np.array([day_number("2025-03-01")]))
    assert f.loc[0, "_hist_n"] == 1 and f.loc[0, "_hist_late"] == 1
    assert f.loc[0, "hist_mean_days_late"] == 10
    # B was open at the end of 02-28 and overdue
    f = features_at(k, np.array([2]), np.array([day_number("2025-02-28")]))
    assert f.loc[0, "cust_overdue_other_n"] == 1 and f.loc[0, "cust_open_other_n"] == 1


def test_dispute_counts_from_its_activity_date_never_from_the_invoice_flag():
    inv = invoices([("A", "2025-01-01", "2025-01-31", 100)])
    inv["disputed"] = True  # no date: must not be used
    act = pd.DataFrame(
        {
            "activity_id": ["X"],
            "activity_date": [pd.Timestamp("2025-01-20")],
            "owner": ["Bea"],
            "type": ["note"],
            "customer_id": ["C1"],
            "invoice_id": ["A"],
            "order_id": [None],
            "outcome": ["dispute"],
            "promised_date": [pd.NaT],
            "promised_amount": [np.nan],
        }
    )
    k = Knowledge.at("2025-06-30", inv, payments([]), act)
    days = np.array([day_number("2025-01-10"), day_number("2025-01-25")])
    f = features_at(k, np.array([0, 0]), days)
    assert f["dispute_known"].tolist() == [0.0, 1.0]


def test_settlement_day_with_partial_payments_and_credit_note():
    inv = invoices(
        [
            ("A", "2025-01-01", "2025-01-31", 100),
            ("CN", "2025-02-10", "2025-02-10", -30, "USD", "A"),
        ]
    )
    pay = payments([("A", "2025-02-01", 50), ("A", "2025-02-20", 20)])
    k = Knowledge.at("2025-06-30", inv, pay)
    assert settlement_days(k.ledger, k.T)[0] == day_number("2025-02-20")
    # known at 02-15 only: not settled yet
    assert settlement_days(k.ledger, day_number("2025-02-15"))[0] > day_number("2030-01-01")


def test_unknown_outcomes_are_censored_not_on_time():
    inv = invoices(
        [
            ("PAID_OK", "2025-01-01", "2025-01-31", 1),
            ("PAID_LATE", "2025-01-01", "2025-01-31", 1),
            ("OPEN_NOT_DUE", "2025-03-01", "2025-04-30", 1),
            ("OPEN_PAST_DUE", "2025-01-01", "2025-02-28", 1),
        ]
    )
    pay = payments([("PAID_OK", "2025-01-30", 1), ("PAID_LATE", "2025-02-05", 1)])
    k = Knowledge.at("2025-03-31", inv, pay)
    known, late = k.late_label(k.T)
    assert known.tolist() == [True, True, False, True]
    assert late[known].tolist() == [False, True, True]


def test_activities_matched_with_the_payments_give_the_same_knowledge(demo_tables):
    """The ledger can match activities in its payment pass; Knowledge then reuses that match
    and must know exactly what it knows when it matches them itself."""
    from salesops_analysis.metrics.receivables import Ledger, row_positions

    t = demo_tables
    led = Ledger(t.invoices, t.payments, activities=t.activities)
    np.testing.assert_array_equal(
        led.activity_rows, row_positions(t.activities["invoice_id"], t.invoices["invoice_id"])
    )
    day = "2025-03-31"
    batched = Knowledge.at(day, t.invoices, t.payments, t.activities, t.customers, ledger=led)
    alone = Knowledge.at(
        day,
        t.invoices,
        t.payments,
        t.activities,
        t.customers,
        ledger=Ledger(t.invoices, t.payments),
    )
    for name in (
        "act_row",
        "act_day",
        "act_contact",
        "act_promise",
        "act_promised_day",
        "dispute_day",
    ):
        np.testing.assert_array_equal(getattr(batched, name), getattr(alone, name))
    # the activities known by the day that name a known invoice, counted plainly
    act = t.activities
    ids = set(t.invoices["invoice_id"].str.strip().str.lower())
    named = act["invoice_id"].str.strip().str.lower().isin(ids)
    assert len(batched.act_row) == (named & (act["activity_date"] <= pd.Timestamp(day))).sum()


def test_one_day_windows_equal_a_search_per_query():
    """The one-day shortcut (bounds counted once per group code) gives every query the
    bounds a binary search of its own would."""
    from salesops_analysis.risk.features import _combined, _Counter

    rng = np.random.default_rng(7)
    group = rng.integers(-1, 50, 2_000)
    day = rng.integers(20_000, 20_100, 2_000)
    counter = _Counter(group, day, {"n": np.ones(2_000)})
    queries = rng.integers(-1, 60, 500)  # some groups without events, and code -1
    for inclusive, side in ((True, "right"), (False, "left")):
        for d in (19_999, 20_050, 20_100):
            lo, hi = counter.window(queries, np.full(500, d), inclusive=inclusive)
            np.testing.assert_array_equal(
                lo, np.searchsorted(counter.keys, _combined(queries, np.zeros(500)), "left")
            )
            np.testing.assert_array_equal(
                hi, np.searchsorted(counter.keys, _combined(queries, np.full(500, d)), side)
            )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(2**40), 2**40), max_size=300),
    st.integers(0, 5),
)
def test_stable_order_is_a_stable_argsort(values, spread):
    """Packed sorting gives ``argsort(kind="stable")``: ties in input order, negative keys,
    and spans too wide to pack (which fall back to argsort itself)."""
    from salesops_analysis.risk.features import stable_order

    keys = np.array(values, dtype=np.int64) // (10 ** (2 * spread))  # from all-distinct to ties
    np.testing.assert_array_equal(stable_order(keys), np.argsort(keys, kind="stable"))


def test_stable_order_of_many_ties_and_the_widest_keys():
    from salesops_analysis.risk.features import stable_order

    rng = np.random.default_rng(3)
    ties = rng.integers(0, 50, 100_000)
    np.testing.assert_array_equal(stable_order(ties), np.argsort(ties, kind="stable"))
    wide = np.array([2**62, -(2**62), 0, 2**62, 5], dtype=np.int64)
    np.testing.assert_array_equal(stable_order(wide), np.argsort(wide, kind="stable"))


def test_month_and_quarter_end_flags():
    from salesops_analysis.risk.features import _calendar

    days = np.array(
        [
            "2025-03-27",
            "2025-03-28",
            "2025-03-29",
            "2025-02-25",
            "2025-02-26",
            "2025-06-30",
            "2025-05-30",
        ],
        dtype="datetime64[D]",
    ).astype(np.int64)
    month_end, quarter_end = _calendar(days)
    # the last 3 days of a month (Feb 2025 has 28), the last 5 of a quarter
    np.testing.assert_array_equal(month_end, [0, 0, 1, 0, 1, 1, 1])
    np.testing.assert_array_equal(quarter_end, [1, 1, 1, 0, 0, 1, 0])
    # a sparse range (dates decades apart) reads each row's own date the same way
    far = np.r_[days, np.array(["1990-12-31"], dtype="datetime64[D]").astype(np.int64)]
    m2, q2 = _calendar(far)
    np.testing.assert_array_equal(m2, np.r_[month_end, 1])
    np.testing.assert_array_equal(q2, np.r_[quarter_end, 1])
