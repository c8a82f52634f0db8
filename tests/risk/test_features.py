"""Features know only the past: future rows never change them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

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
    assert f.loc[0, "hist_n"] == 1 and f.loc[0, "hist_late_n"] == 1
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
    days = np.array([day_number(d) for d in ["2025-01-10", "2025-01-20", "2025-01-25"]])
    f = features_at(k, np.array([0, 0, 0]), days)
    assert f["dispute_known"].tolist() == [0.0, 1.0, 1.0]  # known on its own day


def test_a_promise_counts_as_broken_only_once_recorded_and_past_its_day():
    """A promise recorded late (its promised day already past) is broken from the day it is
    recorded, never before: on earlier days nobody knew of it."""
    inv = invoices([("A", "2025-01-01", "2025-01-31", 100)])
    act = pd.DataFrame(
        {
            "activity_id": ["P1", "P2"],
            "activity_date": pd.to_datetime(["2025-02-01", "2025-02-20"]),
            "owner": ["Bea", "Bea"],
            "type": ["call", "call"],
            "customer_id": ["C1", "C1"],
            "invoice_id": ["A", "A"],
            "order_id": [None, None],
            "outcome": ["promise_to_pay", "promise_to_pay"],
            "promised_date": pd.to_datetime(["2025-02-05", "2025-02-10"]),
            "promised_amount": [np.nan, np.nan],
        }
    )
    k = Knowledge.at("2025-06-30", inv, payments([]), act)
    days = ["2025-02-05", "2025-02-06", "2025-02-11", "2025-02-19", "2025-02-20"]
    f = features_at(k, np.zeros(5, dtype=np.int64), np.array([day_number(d) for d in days]))
    assert f["broken_promises"].tolist() == [0, 1, 1, 1, 2]
    assert f["promises"].tolist() == [1, 1, 1, 1, 2]
    last = [str(np.datetime64(int(d), "D")) for d in f["last_broken_promise_day"].iloc[1:]]
    assert last == ["2025-02-05", "2025-02-05", "2025-02-05", "2025-02-10"]
    assert f["last_broken_promise_day"].iloc[0] == -1


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


def test_month_and_quarter_end_flags():
    from salesops_analysis.risk.features import calendar_flags

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
    month_end, quarter_end = calendar_flags(days)
    # the last 3 days of a month (Feb 2025 has 28), the last 5 of a quarter
    np.testing.assert_array_equal(month_end, [0, 0, 1, 0, 1, 1, 1])
    np.testing.assert_array_equal(quarter_end, [1, 1, 1, 0, 0, 1, 0])
    # a sparse range (dates decades apart) reads each row's own date the same way
    far = np.r_[days, np.array(["1990-12-31"], dtype="datetime64[D]").astype(np.int64)]
    m2, q2 = calendar_flags(far)
    np.testing.assert_array_equal(m2, np.r_[month_end, 1])
    np.testing.assert_array_equal(q2, np.r_[quarter_end, 1])


# -- a small random book: several customers, payments, credit notes, activities -------------
T = "2025-03-31"


def _random_book(seed: int, n_invoices: int = 60):
    """Invoices of a few customers issued around ``T``, payments (partial ones too), credit
    notes applied to invoices, and activities (contacts, promises, disputes)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-10-01")
    issued = start + rng.integers(0, 240, n_invoices)
    terms = rng.choice([0, 15, 30, 60], n_invoices)
    inv = invoices(
        [
            (f"I{i}", str(d), str(d + t), float(rng.integers(10, 1000)))
            for i, (d, t) in enumerate(zip(issued, terms, strict=True))
        ]
    )
    inv["customer_id"] = rng.choice(["C1", "c2 ", "C3", "C4", "C5"], n_invoices)
    inv["segment"] = rng.choice(["smb", "enterprise", None], n_invoices)
    credit = rng.choice(n_invoices, 5, replace=False)
    cn = inv.iloc[credit].assign(
        invoice_id=[f"CN{i}" for i in credit],
        amount=-inv["amount"].iloc[credit].to_numpy() / 2,
        applies_to_invoice_id=inv["invoice_id"].iloc[credit].to_numpy(),
        invoice_date=inv["invoice_date"].iloc[credit] + pd.Timedelta(days=10),
    )
    inv = pd.concat([inv, cn], ignore_index=True)
    pay_rows = []
    for i in rng.choice(n_invoices, int(n_invoices * 0.8), replace=False):
        amount = float(inv["amount"].iloc[i])
        day = issued[i] + int(rng.integers(0, 120))
        if rng.random() < 0.3:  # a partial payment first
            pay_rows.append((f"I{i}", str(day), amount / 3))
            day += int(rng.integers(1, 40))
            amount -= amount / 3
        pay_rows.append((f"I{i}", str(day), amount))
    pay = payments(pay_rows)
    acts = []
    for j, i in enumerate(rng.choice(n_invoices, 40)):
        day = issued[i] + int(rng.integers(0, 150))
        outcome = rng.choice(["promise_to_pay", "dispute", "no_answer", None])
        acts.append(
            {
                "activity_id": f"A{j}",
                "activity_date": pd.Timestamp(day),
                "owner": "Bea",
                "type": rng.choice(["call", "email", "note"]),
                "customer_id": inv["customer_id"].iloc[i],
                "invoice_id": f"I{i}",
                "order_id": None,
                "outcome": outcome,
                "promised_date": (  # some recorded after the promised day
                    pd.Timestamp(day + int(rng.integers(-20, 30)))
                    if outcome == "promise_to_pay"
                    else pd.NaT
                ),
                "promised_amount": np.nan,
            }
        )
    return inv, pay, pd.DataFrame(acts)


def _snapshots(k: Knowledge, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Feature rows as the package asks for them: every invoice on one day (scoring), each on
    its issue day (drift), each on a day of its own (training)."""
    rows = np.flatnonzero(k.modelled)
    rng = np.random.default_rng(seed)
    own = np.minimum(k.ledger.issued[rows] + rng.integers(0, 90, len(rows)), k.T)
    return [
        (rows, np.full(len(rows), k.T)),
        (rows, np.full(len(rows), k.T - 40)),
        (rows, k.ledger.issued[rows]),
        (rows, own),
        (rows[:1], own[:1]),
        (rows[:0], own[:0]),
    ]


def _later(inv, pay, act, seed: int):
    """The same book with events after ``T`` changed and added: later payments moved to other
    invoices and amounts, payments, credit notes and new invoices added after ``T``, later
    activities turned into disputes and broken promises."""
    rng = np.random.default_rng(seed)
    t = pd.Timestamp(T)
    pay = pay.copy()
    late = pay["payment_date"] > t
    pay.loc[late, "invoice_id"] = rng.permutation(pay.loc[late, "invoice_id"].to_numpy())
    pay.loc[late, "amount"] = pay.loc[late, "amount"] * 0.5
    every = inv["invoice_id"].to_numpy()
    extra_pay = payments(
        [
            (str(i), str(t + pd.Timedelta(days=int(d))), 5.0)
            for i, d in zip(rng.choice(every, 20), rng.integers(1, 60, 20), strict=True)
        ]
    ).assign(payment_id=lambda f: "X" + f["payment_id"])
    new_inv = inv.iloc[:8].assign(
        invoice_id=[f"N{i}" for i in range(8)],
        invoice_date=t + pd.Timedelta(days=3),
        due_date=t + pd.Timedelta(days=33),
    )
    new_cn = inv.iloc[:4].assign(
        invoice_id=[f"NC{i}" for i in range(4)],
        amount=-1.0,
        applies_to_invoice_id=inv["invoice_id"].iloc[:4].to_numpy(),
        invoice_date=t + pd.Timedelta(days=1),
    )
    act = act.copy()
    act_late = act["activity_date"] > t
    act.loc[act_late, "outcome"] = "dispute"
    more_act = act.iloc[:10].assign(
        activity_id=[f"Z{i}" for i in range(10)],
        activity_date=t + pd.Timedelta(days=2),
        outcome="promise_to_pay",
        promised_date=t - pd.Timedelta(days=30),  # a promised day before T, recorded after
    )
    return (
        pd.concat([inv, new_inv, new_cn], ignore_index=True),
        pd.concat([pay, extra_pay], ignore_index=True),
        pd.concat([act, more_act], ignore_index=True),
    )


@pytest.mark.parametrize("seed", range(8))
def test_events_after_the_knowledge_date_change_no_feature(seed):
    """Every feature of every invoice, on every kind of snapshot day, is exactly what it was
    after events dated later than ``T`` are changed or added."""
    inv, pay, act = _random_book(seed)
    k = Knowledge.at(T, inv, pay, act, categorical=["segment"], grace_days=2)
    k_later = Knowledge.at(T, *_later(inv, pay, act, seed), categorical=["segment"], grace_days=2)
    assert k.modelled.sum() > 20
    for rows, snap in _snapshots(k, seed):
        before = features_at(k, rows, snap)
        after = features_at(k_later, rows, snap)  # the added rows come after the old ones
        assert list(before.columns) == list(after.columns)
        pdt.assert_frame_equal(before, after, check_exact=True)


@pytest.mark.parametrize("seed", range(8))
def test_features_on_a_day_are_what_was_known_at_its_end(seed):
    """A feature at day s read out of the knowledge of a later T equals the one read out of
    the knowledge of s itself: nothing recorded between s and T is seen."""
    inv, pay, act = _random_book(seed)
    k = Knowledge.at(T, inv, pay, act, categorical=["segment"], grace_days=2)
    for back in (0, 1, 17, 40, 95):
        s = k.T - back
        day = str(np.datetime64(s, "D"))
        then = Knowledge.at(day, inv, pay, act, categorical=["segment"], grace_days=2)
        assert then.T == s and then.modelled.sum() > 10
        rows = np.flatnonzero(then.modelled)
        for snap in (np.full(len(rows), s), np.minimum(k.ledger.issued[rows] + 5, s)):
            # equal up to the rounding of running sums over more events
            pdt.assert_frame_equal(
                features_at(k, rows, snap),
                features_at(then, rows, snap),
                check_exact=False,
                rtol=1e-12,
                atol=1e-9,
            )


@pytest.mark.parametrize("seed", range(4))
def test_a_customers_features_are_those_computed_on_its_invoices_alone(seed):
    """Partitionable: an invoice's features depend only on its customer's events (and the
    calendar): the same rows come out of the whole book and of a subset of its customers."""
    inv, pay, act = _random_book(seed)
    k = Knowledge.at(T, inv, pay, act, categorical=["segment"], grace_days=2)
    mine = inv["customer_id"].str.strip().str.lower().isin(["c2", "c4"]).to_numpy()
    ids = set(inv.loc[mine, "invoice_id"])
    part = Knowledge.at(
        T,
        inv.loc[mine],
        pay.loc[pay["invoice_id"].isin(ids)],
        act.loc[act["invoice_id"].isin(ids)],
        categorical=["segment"],
        grace_days=2,
    )
    position = np.flatnonzero(mine)  # row of the whole book -> row of the part
    in_part = np.full(len(inv), -1)
    in_part[position] = np.arange(len(position))
    for rows, snap in _snapshots(k, seed):
        keep = mine[rows]
        whole = features_at(k, rows[keep], snap[keep])
        alone = features_at(part, in_part[rows[keep]], snap[keep])
        # equal up to the rounding of running sums taken over other customers' events
        pdt.assert_frame_equal(whole, alone, check_exact=False, rtol=1e-12, atol=1e-9)


def test_a_snapshot_day_after_the_knowledge_date_is_refused():
    inv, pay, act = _random_book(0)
    k = Knowledge.at(T, inv, pay, act)
    with pytest.raises(
        ValueError, match="^a snapshot day is after the knowledge date: that would leak$"
    ):
        features_at(k, np.array([0]), np.array([k.T + 1]))


def test_knowledge_is_frozen_and_built_by_keyword():
    import dataclasses

    inv, pay, act = _random_book(1)
    k = Knowledge.at(T, inv, pay, act)
    with pytest.raises(dataclasses.FrozenInstanceError):
        k.T = 0
    with pytest.raises(TypeError):
        Knowledge(*[getattr(k, f.name) for f in dataclasses.fields(k)])
    again = Knowledge(**{f.name: getattr(k, f.name) for f in dataclasses.fields(k)})
    rows = np.flatnonzero(k.modelled)
    pdt.assert_frame_equal(
        features_at(k, rows, np.full(len(rows), k.T)),
        features_at(again, rows, np.full(len(rows), k.T)),
    )
    assert len(dataclasses.fields(Knowledge)) == 13


def test_evidence_columns_are_documented_and_no_column_is_hidden():
    from salesops_analysis.risk.features import EVIDENCE_COLUMNS, NUMERIC_FEATURES

    inv, pay, act = _random_book(2)
    k = Knowledge.at(T, inv, pay, act, categorical=["segment"])
    f = features_at(k, np.flatnonzero(k.modelled), k.ledger.issued[k.modelled])
    assert not [c for c in f.columns if c.startswith("_")]
    assert set(f.columns) == {*NUMERIC_FEATURES, "segment", *EVIDENCE_COLUMNS}
    assert not f.attrs


def test_demo_features_of_a_customer_subset_are_those_of_the_whole_book(demo_tables):
    """Partitionable on the demo: every 7th customer's invoices, payments, activities and
    customer rows alone give the features the whole book gives them (issue days, one day)."""
    t = demo_tables
    key = t.invoices["customer_id"].str.strip().str.lower()
    chosen = set(key.drop_duplicates().iloc[::7])
    mine = key.isin(chosen).to_numpy()
    ids = t.invoices.loc[mine, "invoice_id"].str.strip().str.lower()
    pay = t.payments.loc[t.payments["invoice_id"].str.strip().str.lower().isin(ids)]
    act = t.activities.loc[t.activities["invoice_id"].str.strip().str.lower().isin(ids)]
    cust = t.customers.loc[t.customers["customer_id"].str.strip().str.lower().isin(chosen)]
    cats = ["segment", "country"]
    whole = Knowledge.at(D, t.invoices, t.payments, t.activities, t.customers, categorical=cats)
    part = Knowledge.at(D, t.invoices.loc[mine], pay, act, cust, categorical=cats)
    rows = np.flatnonzero(whole.modelled & mine)
    in_part = np.cumsum(mine) - 1  # row of the whole book -> row of the part
    assert len(rows) > 1000 and part.modelled.sum() == len(rows)
    for snap in (whole.ledger.issued[rows], np.full(len(rows), whole.T)):
        pdt.assert_frame_equal(
            features_at(whole, rows, snap),
            features_at(part, in_part[rows], snap),
            check_exact=False,
            rtol=1e-9,  # running sums over the whole book's log amounts round differently
            atol=1e-9,
        )


def test_a_promised_date_without_a_promise_is_no_promise_and_categories_are_text():
    """A call noting a date without promising (outcome 'no_answer') is neither a promise nor
    a broken one; the invoice's segment is read as text, a missing one as 'unknown'."""
    inv = invoices([("A", "2025-01-01", "2025-01-31", 100), ("B", "2025-01-01", "2025-01-31", 50)])
    inv["segment"] = pd.array(["SMB", None], dtype="str")
    act = pd.DataFrame(
        {
            "activity_id": ["X"],
            "activity_date": [pd.Timestamp("2025-02-01")],
            "owner": ["Bea"],
            "type": ["call"],
            "customer_id": ["C1"],
            "invoice_id": ["A"],
            "order_id": [None],
            "outcome": ["no_answer"],
            "promised_date": [pd.Timestamp("2025-02-05")],
            "promised_amount": [np.nan],
        }
    )
    k = Knowledge.at("2025-06-30", inv, payments([]), act, categorical=["segment"])
    f = features_at(k, np.array([0, 1]), np.full(2, day_number("2025-02-10")))
    assert f["promises"].tolist() == [0.0, 0.0] and f["broken_promises"].tolist() == [0.0, 0.0]
    assert f["contacts"].tolist() == [1.0, 0.0]
    assert f["segment"].tolist() == ["SMB", "unknown"] and f["segment"].dtype == "str"


def test_the_customers_other_overdue_amount_is_in_cents():
    """B (10.004, three decimals as some currencies have) is overdue on 2025-03-01 beside A:
    A sees 10.00 of other overdue amount."""
    inv = invoices(
        [("A", "2025-01-01", "2025-01-31", 100), ("B", "2025-01-01", "2025-01-31", 10.004)]
    )
    k = Knowledge.at("2025-06-30", inv, payments([]))
    f = features_at(k, np.array([0]), np.array([day_number("2025-03-01")]))
    assert f["cust_overdue_other_amount"].tolist() == [10.0]
    assert f["cust_overdue_other_n"].tolist() == [1]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("block_rows", [1, 3, 10])
def test_features_counted_by_customer_block_are_the_whole_books(seed, block_rows, monkeypatch):
    """Above BLOCK_ROWS invoice rows, the features come block by block of whole customers
    (each block's events only): the same table, exactly where all rows are on one day (sums
    per customer in the same order), up to running-sum rounding on many days; empty and
    one-row asks included."""
    from salesops_analysis.risk import features

    inv, pay, act = _random_book(seed)
    inv.loc[inv.index[::9], "customer_id"] = None  # no customer: one customer of its own
    k = Knowledge.at(T, inv, pay, act, categorical=["segment"], grace_days=2)
    for rows, snap in _snapshots(k, seed):
        whole = features_at(k, rows, snap)
        monkeypatch.setattr(features, "BLOCK_ROWS", block_rows)
        blocks = features_at(k, rows, snap)
        monkeypatch.setattr(features, "BLOCK_ROWS", features.BLOCK_ROWS_DEFAULT)
        if len(rows) and snap.min() == snap.max():
            pdt.assert_frame_equal(whole, blocks)
        else:
            pdt.assert_frame_equal(whole, blocks, check_exact=False, rtol=1e-12, atol=1e-9)


def test_demo_open_invoices_scored_by_customer_block_are_the_whole_books(demo_tables, monkeypatch):
    from salesops_analysis.risk import features

    rows, whole = _features(demo_tables, D, D)
    monkeypatch.setattr(features, "BLOCK_ROWS", 700)
    _, blocks = _features(demo_tables, D, D, rows)
    assert features.customer_blocks(np.arange(len(demo_tables.invoices)), 700)[1] > 5
    pdt.assert_frame_equal(whole, blocks)


def test_customer_blocks_keep_each_customer_whole():
    from salesops_analysis.risk.features import customer_blocks

    customer = np.array([3, -1, 0, 3, 5, -1, 2, 0, 1, 4])
    block, n = customer_blocks(customer, 4)
    assert n == 3
    assert set(block.tolist()) <= {0, 1, 2}
    for code in np.unique(customer):
        assert len(set(block[customer == code].tolist())) == 1
    assert customer_blocks(customer, 10)[1] == 1  # a book of at most block_rows: one block
    empty, n_empty = customer_blocks(np.zeros(0, dtype=np.int64), 4)
    assert len(empty) == 0 and n_empty == 1
    one, n_one = customer_blocks(np.array([-1]), 1)
    assert one.tolist() == [0] and n_one == 1
