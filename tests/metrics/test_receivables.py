"""Open items and aging, against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesops_analysis.metrics import (
    aging_buckets,
    bucket_labels,
    collection_curves,
    ids,
    open_items,
    roll_rates,
    unapplied_cash,
    with_sales_owner,
)
from salesops_analysis.metrics.receivables import REMEMBERED_DAYS, Ledger, row_positions
from tests.metrics.conftest import invoices, payments

AS_OF = "2025-06-30"


def _open(items, inv_id):
    return float(items.set_index("invoice_id").loc[inv_id, "open_amount"])


def test_payment_after_as_of_date_keeps_invoice_open():
    inv = invoices([("I1", "2025-06-01", "2025-06-30", 100)])
    pay = payments([("I1", "2025-07-01", 100)])
    items = open_items(inv, pay, as_of=AS_OF)
    assert _open(items, "I1") == 100.0
    assert _open(open_items(inv, pay, as_of="2025-07-01"), "I1") == 0.0


def test_partial_payment_leaves_the_rest_open():
    inv = invoices([("I1", "2025-06-01", "2025-06-30", 100)])
    pay = payments([("I1", "2025-06-10", 30), ("I1", "2025-06-20", 25.5)])
    assert _open(open_items(inv, pay, as_of=AS_OF), "I1") == 44.5


def test_paid_early_is_closed():
    inv = invoices([("I1", "2025-06-01", "2025-07-31", 100)])
    pay = payments([("I1", "2025-06-05", 100)])
    items = open_items(inv, pay, as_of=AS_OF)
    assert not items["is_open"].iloc[0]
    assert aging_buckets(items)["total"].iloc[0] == 0.0


def test_credit_note_applied_to_its_invoice():
    inv = invoices(
        [
            ("I1", "2025-06-01", "2025-06-30", 100),
            ("CN1", "2025-06-10", "2025-06-10", -40, "USD", "I1"),
        ]
    )
    pay = payments([("I1", "2025-06-20", 50)])
    items = open_items(inv, pay, as_of=AS_OF)
    assert _open(items, "I1") == 10.0
    assert _open(items, "CN1") == 0.0
    # before the credit note's date it does not count
    assert _open(open_items(inv, pay, as_of="2025-06-09"), "I1") == 100.0


def test_credit_note_applied_before_any_payment_counts():
    # a payments export whose every payment is after the as-of date: nothing paid yet, and
    # the credit note still reduces its invoice (this crashed on numpy's int64 empty bincount)
    inv = invoices(
        [
            ("I1", "2025-06-01", "2025-06-30", 100),
            ("CN1", "2025-06-10", "2025-06-10", -40, "USD", "I1"),
        ]
    )
    pay = payments([("I1", "2025-07-05", 60)])
    items = open_items(inv, pay, as_of=AS_OF)
    assert _open(items, "I1") == 60.0
    assert _open(items, "CN1") == 0.0


def test_unapplied_credit_note_lowers_the_balance():
    inv = invoices(
        [("I1", "2025-06-01", "2025-06-30", 100), ("CN1", "2025-06-10", "2025-06-10", -40)]
    )
    items = open_items(inv, payments([]), as_of=AS_OF)
    assert items["open_amount"].sum() == 60.0
    assert aging_buckets(items)["total"].iloc[0] == 60.0


def test_due_today_is_current_and_due_yesterday_is_1_30():
    inv = invoices(
        [("TODAY", "2025-06-01", "2025-06-30", 100), ("YDAY", "2025-06-01", "2025-06-29", 10)]
    )
    aging = aging_buckets(open_items(inv, payments([]), as_of=AS_OF))
    assert aging.loc["total", "current"] == 100.0
    assert aging.loc["total", "1_30"] == 10.0


def test_bucket_edges_by_days_past_due():
    due = pd.Timestamp(AS_OF)
    rows = [
        (f"D{d}", "2024-01-01", (due - pd.Timedelta(days=d)).date(), 1 + d)
        for d in (0, 1, 30, 31, 60, 61, 90, 91, 400)
    ]
    aging = aging_buckets(open_items(invoices(rows), payments([]), as_of=AS_OF))
    row = aging.loc["total"]
    assert row["current"] == 1
    assert row["1_30"] == 2 + 31
    assert row["31_60"] == 32 + 61
    assert row["61_90"] == 62 + 91
    assert row["90_plus"] == 92 + 401
    assert (
        row[bucket_labels()].sum()
        == row["total"]
        == sum(1 + d for d in (0, 1, 30, 31, 60, 61, 90, 91, 400))
    )


def test_invoice_date_basis_and_custom_edges():
    inv = invoices([("A", "2025-06-20", "2025-07-20", 5), ("B", "2025-04-01", "2025-05-01", 7)])
    aging = aging_buckets(
        open_items(inv, payments([]), as_of=AS_OF), edges=[45], basis="invoice_date"
    )
    assert list(aging.columns) == ["0_45", "45_plus", "total"]
    assert aging.loc["total"].tolist() == [5.0, 7.0, 12.0]


def test_aging_by_group_sums_to_each_groups_balance():
    inv = invoices(
        [
            ("A", "2025-06-01", "2025-06-10", 5, "USD"),
            ("B", "2025-06-01", "2025-07-10", 7, "EUR"),
            ("C", "2025-01-01", "2025-02-01", 9, "EUR"),
        ]
    )
    aging = aging_buckets(open_items(inv, payments([]), as_of=AS_OF), by="currency")
    assert aging.loc["EUR"].to_dict() == {
        "current": 7.0,
        "1_30": 0.0,
        "31_60": 0.0,
        "61_90": 0.0,
        "90_plus": 9.0,
        "total": 16.0,
    }
    assert aging.loc["USD", "1_30"] == 5.0


def test_as_of_before_any_data_and_empty_tables():
    inv = invoices([("A", "2025-06-01", "2025-06-10", 5)])
    items = open_items(inv, payments([]), as_of="2020-01-01")
    assert len(items) == 0
    assert aging_buckets(items).loc["total"].tolist() == [0.0] * 6
    empty = open_items(inv.iloc[:0], payments([]), as_of=AS_OF)
    assert aging_buckets(empty)["total"].iloc[0] == 0.0


def test_without_payments_export_paid_date_decides():
    inv = invoices(
        [("I1", "2025-06-01", "2025-06-30", 100), ("I2", "2025-06-01", "2025-06-30", 50)]
    )
    inv.loc[0, ["paid_amount", "paid_date", "status"]] = [100.0, pd.Timestamp("2025-07-05"), "paid"]
    inv.loc[1, ["paid_amount", "status"]] = [20.0, "partially_paid"]  # timing unknown
    assert open_items(inv, None, as_of=AS_OF)["open_amount"].tolist() == [100.0, 30.0]
    assert open_items(inv, None, as_of="2025-07-05")["open_amount"].tolist() == [0.0, 30.0]


def test_written_off_is_not_receivable():
    inv = invoices([("I1", "2025-01-01", "2025-01-31", 100)])
    inv["status"] = "written_off"
    assert open_items(inv, payments([]), as_of=AS_OF)["open_amount"].sum() == 0.0


def test_payment_ids_match_case_insensitively():
    inv = invoices([("INV-1", "2025-06-01", "2025-06-30", 100)])
    assert (
        _open(open_items(inv, payments([("inv-1", "2025-06-02", 100)]), as_of=AS_OF), "INV-1")
        == 0.0
    )


def test_unapplied_cash_lists_payments_for_unknown_invoices():
    inv = invoices([("I1", "2025-06-01", "2025-06-30", 100)])
    pay = payments([("I1", "2025-06-02", 10), ("X9", "2025-06-03", 5), ("X9", "2025-07-03", 5)])
    assert unapplied_cash(inv, pay, as_of=AS_OF)["amount"].tolist() == [5.0]


def test_roll_rates_track_amounts_between_dates():
    inv = invoices(
        [
            ("A", "2025-04-01", "2025-05-25", 100),  # 1_30 on 05-31 -> 31_60 on 06-30
            ("B", "2025-04-01", "2025-05-20", 50),  # 1_30 -> paid
            ("C", "2025-05-01", "2025-06-15", 10),
        ]
    )  # current -> 1_30
    pay = payments([("B", "2025-06-10", 50)])
    rr = roll_rates(inv, pay, start="2025-05-31", end="2025-06-30")
    assert rr.loc["1_30", "31_60"] == 100.0
    assert rr.loc["1_30", "closed"] == 50.0
    assert rr.loc["current", "1_30"] == 10.0
    shares = roll_rates(inv, pay, start="2025-05-31", end="2025-06-30", normalize=True)
    assert shares.loc["1_30", "31_60"] == pytest.approx(2 / 3)


def test_collection_curves_share_collected_by_day_n():
    inv = invoices([("A", "2025-01-10", "2025-02-09", 100), ("B", "2025-01-20", "2025-02-19", 100)])
    pay = payments([("A", "2025-01-20", 100), ("B", "2025-03-01", 50)])  # day 10, day 40
    curves = collection_curves(inv, pay, as_of=AS_OF, days=(0, 15, 45), months=6)
    jan = curves.loc[pd.Period("2025-01", "M")]
    assert jan.tolist() == [0.0, 0.5, 0.75]
    assert np.isnan(curves.loc[pd.Period("2025-06", "M"), "day_45"])


@pytest.mark.parametrize("join_min_rows", [ids.JOIN_MIN_ROWS, 0])
@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(st.one_of(st.none(), st.sampled_from(["a", " A", "b ", "B", "c", "zz"]))),
    targets=st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", " B", "c", "d"]))),
)
def test_row_positions_finds_the_first_matching_target(join_min_rows, keys, targets):
    """Every way of looking up (hash the targets, hash few keys and probe many targets, or the
    DuckDB join used from JOIN_MIN_ROWS rows on) gives each key the first target with the
    same id, ignoring case and surrounding spaces; a missing id matches nothing."""
    saved, ids.JOIN_MIN_ROWS = ids.JOIN_MIN_ROWS, join_min_rows
    try:
        _check_row_positions(keys, targets)
    finally:
        ids.JOIN_MIN_ROWS = saved


def _check_row_positions(keys, targets):

    def norm(v):
        return None if v is None else v.strip().lower()

    first = {}
    for i, t in enumerate(targets):
        first.setdefault(norm(t), i)
    expected = [-1 if k is None else first.get(norm(k), -1) for k in keys]
    got = row_positions(pd.Series(keys, dtype="str"), pd.Series(targets, dtype="str"))
    assert got.tolist() == expected


def test_unapplied_cash_counts_a_payment_dated_on_the_as_of_day():
    inv = invoices([("I1", "2025-06-01", "2025-06-30", 100)])
    pay = payments([("X9", AS_OF, 7), ("X9", "2025-07-01", 5)])
    assert unapplied_cash(inv, pay, as_of=AS_OF)["amount"].tolist() == [7.0]


def test_sales_owner_from_the_invoice_order_else_the_customer_latest_order_with_a_rep():
    from salesops_analysis.metrics import with_sales_owner

    orders = pd.DataFrame(
        [
            ("O1", "C1", "2025-05-01", "Anastasia Long-Name", "North-East Region"),
            ("O2", "C1", "2025-05-02", "Ben", None),
            ("O5", "C2", "2025-06-01", None, "West"),  # C2's latest order names no rep
            ("O4", "C2", "2025-05-01", "Cyrus Verylongname", None),
            ("O6", "C3", "2025-06-01", None, "East"),  # C3 has no order with a rep
        ],
        columns=["order_id", "customer_id", "order_date", "sales_rep", "team"],
    ).assign(order_date=lambda f: pd.to_datetime(f["order_date"]))
    items = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3", "I4", "I5", "I6"],
            "order_id": pd.Series(["O1", "o2 ", None, "O5", None, None], dtype="str"),
            "customer_id": ["C1", "C1", "C2", "C2", "C3", "C9"],
        }
    )
    got = with_sales_owner(items, orders)
    assert got["invoice_id"].tolist() == items["invoice_id"].tolist()
    assert list(zip(got["sales_rep"], got["team"], strict=True)) == [
        ("Anastasia Long-Name", "North-East Region"),  # its own order (the first row)
        ("Ben", "unassigned"),  # its own order, which names no team
        ("Cyrus Verylongname", "unassigned"),  # no order: C2's latest order with a rep
        ("Cyrus Verylongname", "unassigned"),  # its order names no rep: the same
        ("unassigned", "unassigned"),  # C3's only order names no rep
        ("unassigned", "unassigned"),  # C9 has no orders
    ]
    none = with_sales_owner(items, orders.iloc[:0])
    assert set(none["sales_rep"]) == set(none["team"]) == {"unassigned"}
    assert with_sales_owner(items.iloc[:0], orders).columns.tolist() == [
        *items.columns,
        "sales_rep",
        "team",
    ]


def test_roll_rate_table_names_and_shares_of_rows_summing_to_one_or_zero():
    inv = invoices(
        [
            ("A", "2025-04-01", "2025-05-25", 100),  # 1_30 on 05-31 -> 31_60 on 06-30
            ("C", "2025-05-01", "2025-06-15", 1),  # current (1.00 open) -> 1_30
        ]
    )
    rr = roll_rates(inv, payments([]), start="2025-05-31", end="2025-06-30", normalize=True)
    assert (rr.index.name, rr.columns.name) == ("from", "to")
    assert rr.index.tolist() == ["current", "1_30", "31_60", "61_90", "90_plus"]
    assert rr.columns.tolist() == ["current", "1_30", "31_60", "61_90", "90_plus", "closed"]
    assert rr.loc["current"].tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert rr.loc["1_30"].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    assert rr.loc["61_90"].tolist() == [0.0] * 6  # nothing there: zeros, not NaN


def test_collection_curves_by_hand_at_the_edges_of_months_and_days():
    inv = invoices(
        [
            ("A", "2025-04-01", "2025-05-01", 100),  # the first day of the first month
            ("S", "2025-04-10", "2025-05-10", 1),  # a small invoice counts too
            ("CN", "2025-04-12", "2025-04-12", -50, "USD", "A"),  # credit notes are left out
            ("OLD", "2025-03-31", "2025-04-30", 1000),  # before the first month
            ("T", AS_OF, "2025-07-30", 10),  # issued on the as-of day
        ]
    )
    pay = payments(
        [
            ("A", "2025-04-16", 40),  # day 15 exactly
            ("A", "2025-05-16", 10),  # day 45 exactly
            ("S", "2025-04-10", 1),  # day 0
            ("OLD", "2025-04-05", 1000),
            ("T", AS_OF, 10),  # day 0, on the as-of day
        ]
    )
    curves = collection_curves(inv, pay, as_of=AS_OF, days=(0, 15, 45), months=3)
    assert curves.index.name == "invoice_month"
    assert curves.index.tolist() == list(pd.period_range("2025-04", "2025-06", freq="M"))
    # April: invoiced 100 + 1; by day 0: 1, by day 15: 41, by day 45: 51
    assert curves.loc[pd.Period("2025-04", "M")].tolist() == pytest.approx(
        [1 / 101, 41 / 101, 51 / 101]
    )
    assert curves.loc[pd.Period("2025-05", "M")].isna().all()  # nothing invoiced in May
    june = curves.loc[pd.Period("2025-06", "M")]
    assert june["day_0"] == 1.0  # June's last day is the as-of day: day 0 is reached
    assert june[["day_15", "day_45"]].isna().all()
    assert len(collection_curves(inv, pay, as_of=AS_OF)) == 12  # a year by default


def test_open_items_columns_by_hand():
    """Settled and open parts, the last payment by the day, days past due and since issue."""
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices(
        [
            ("A", "2025-05-01", "2025-05-31", 100),  # 30 + 20 by the day, 50 after it
            ("B", "2025-06-15", "2025-07-15", 200),  # paid in full on 06-20
            ("C", "2025-06-20", "2025-07-20", 80),  # a credit note of 30 only
            ("CN", "2025-06-25", "2025-06-25", -30, "USD", "C"),
            ("D", "2025-07-01", "2025-07-31", 70),  # issued after the day
        ]
    )
    pay = payments(
        [
            ("A", "2025-06-10", 20),
            ("A", "2025-06-05", 30),
            ("A", "2025-07-02", 50),
            ("B", "2025-06-20", 200),
        ]
    )
    items = Ledger(inv, pay).open_items(AS_OF).set_index("invoice_id")
    assert items.index.tolist() == ["A", "B", "C", "CN"]
    assert items["settled_amount"].tolist() == [50.0, 200.0, 30.0, -30.0]
    assert items["open_amount"].tolist() == [50.0, 0.0, 50.0, 0.0]
    assert items["is_open"].tolist() == [True, False, True, False]
    last = items["last_payment_date"]
    assert str(last.dtype) == "datetime64[us]"
    assert last["A"] == pd.Timestamp("2025-06-10") and last["B"] == pd.Timestamp("2025-06-20")
    assert last[["C", "CN"]].isna().all()  # a credit note is not a payment
    assert items["days_past_due"].tolist() == [30.0, -15.0, -20.0, 5.0]
    assert items["days_since_invoice"].tolist() == [60.0, 15.0, 10.0, 5.0]
    assert items["days_past_due"].dtype == items["days_since_invoice"].dtype == np.float64
    only = Ledger(inv, pay).open_items(AS_OF, open_only=True)
    assert only["invoice_id"].tolist() == ["A", "C"]
    # the input's own columns come first, in order, and nothing else is added
    assert list(items.reset_index().columns) == [*inv.columns] + [
        "settled_amount",
        "open_amount",
        "is_open",
        "last_payment_date",
        "days_past_due",
        "days_since_invoice",
    ]


def test_ledger_reads_missing_values_and_missing_columns_plainly():
    """A missing amount counts as 0, a missing status is not 'written off', and frames with
    their own index or without status and currency columns are read as they are."""
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices(
        [
            ("A", "2025-06-01", "2025-06-30", 100),
            ("NO_AMOUNT", "2025-06-01", "2025-06-30", 0),
            ("NO_STATUS", "2025-06-01", "2025-06-30", 40),
        ]
    )
    inv.loc[1, "amount"] = np.nan
    inv["status"] = pd.array(["open", "open", None], dtype="str")
    inv.index = [10, 11, 12]
    pay = payments([("A", "2025-06-10", 60), ("A", "2025-06-11", 0)])
    pay.loc[1, "amount"] = np.nan
    led = Ledger(inv, pay)
    assert led.snapshot(AS_OF) == {"ar": 80.0, "current": 80.0}
    items = led.open_items(AS_OF)
    assert items.index.tolist() == [0, 1, 2] and "index" not in items.columns
    assert items["open_amount"].tolist() == [40.0, 0.0, 40.0]
    assert items["last_payment_date"].tolist()[0] == pd.Timestamp("2025-06-11")
    # no status, currency or credit-note column at all
    bare = inv.drop(columns=["status", "currency", "applies_to_invoice_id"])
    assert Ledger(bare, pay.drop(columns=["currency"])).snapshot(AS_OF)["ar"] == 80.0
    # without payments: a missing paid amount is nothing paid
    inv2 = inv.assign(paid_amount=[100.0, 0.0, np.nan], paid_date=pd.Timestamp("2025-06-05"))
    assert Ledger(inv2, None).open_balances(AS_OF)[1].tolist() == [0.0, 0.0, 40.0]
    assert Ledger(inv2, None).in_currency({"USD": 2.0}, "EUR").open_balances(AS_OF)[1].tolist() == [
        0.0,
        0.0,
        80.0,
    ]


def test_activities_are_matched_in_the_ledger_with_or_without_payments():
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices(
        [("A", "2025-06-01", "2025-06-30", 100), ("B", "2025-06-01", "2025-06-30", 100)]
        + [("CN", "2025-06-02", "2025-06-02", -10, "USD", "B")]
    )
    act = pd.DataFrame({"invoice_id": pd.array(["b", "X", " A"], dtype="str")})
    assert Ledger(inv, None, activities=act).activity_rows.tolist() == [1, -1, 0]
    led = Ledger(inv, payments([("A", "2025-06-10", 5)]), activities=act)
    assert led.activity_rows.tolist() == [1, -1, 0] and led.activities is act
    assert Ledger(inv, None).activity_rows is None


def test_rate_factors_by_hand():
    from salesops_analysis.metrics.receivables import rate_factors

    cur = pd.concat(  # two pieces: an Arrow column of two chunks
        [pd.Series(["EUR", "usd"], dtype="str"), pd.Series([None, "GBP"], dtype="str")],
        ignore_index=True,
    )
    rates = {"EUR": 2.0, "GBP": 3.0}
    # a currency without a rate (usd is not USD) and a missing one count 1.0
    assert rate_factors(cur, rates, 4).tolist() == [2.0, 1.0, 1.0, 3.0]
    assert rate_factors(None, rates, 3).tolist() == [1.0, 1.0, 1.0]
    assert rate_factors(cur, {}, 4).tolist() == [1.0] * 4


def test_converted_ledger_items_carry_converted_amounts_and_the_new_currency():
    """10.01 EUR at 1.1 is 11.011 USD; 5 EUR paid is 5.50: open 5.511 -> 5.51, settled
    11.011 - 5.51 = 5.501 -> 5.50 (amounts are kept unrounded, balances in cents)."""
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices(
        [("E", "2025-06-01", "2025-06-30", 10.01, "EUR"), ("U", "2025-06-01", "2025-06-30", 4)]
    )
    led = Ledger(inv, payments([("E", "2025-06-10", 5, "EUR")])).in_currency({"EUR": 1.1}, "USD")
    items = led.open_items(AS_OF).set_index("invoice_id")
    assert items.loc["E", "amount"] == pytest.approx(11.011)
    assert items.loc["E", "open_amount"] == 5.51 and items.loc["E", "settled_amount"] == 5.5
    assert items["currency"].tolist() == ["USD", "USD"]
    assert items.loc["U", "amount"] == 4.0
    # without payments: paid amounts are converted (a missing one is 0)
    inv2 = inv.assign(paid_amount=[2.0, np.nan], paid_date=pd.Timestamp("2025-06-05"))
    conv = Ledger(inv2, None).in_currency({"EUR": 1.1}, "USD")
    assert conv.invoices["paid_amount"].tolist() == [pytest.approx(2.2), 0.0]
    assert conv.open_balances(AS_OF)[1].tolist() == [8.81, 4.0]


def test_last_payment_day_with_and_without_payments_counts_the_day_itself():
    from salesops_analysis.metrics.days import NO_DAY, day_number
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices([("A", "2025-06-01", "2025-06-30", 100), ("B", "2025-06-01", "2025-06-30", 100)])
    with_pay = Ledger(inv, payments([("A", "2025-06-20", 10), ("A", AS_OF, 10)]))
    assert with_pay.balances(AS_OF)[2].tolist() == [day_number(AS_OF), NO_DAY]
    inv2 = inv.assign(paid_amount=[50.0, 0.0], paid_date=pd.to_datetime([AS_OF, None]))
    without = Ledger(inv2, None)
    assert without.balances(AS_OF)[2].tolist() == [day_number(AS_OF), NO_DAY]
    assert without.open_items(AS_OF)["last_payment_date"].tolist()[0] == pd.Timestamp(AS_OF)


def test_ledger_monthly_and_credit_sales_by_hand():
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices([("A", "2025-06-30", "2025-07-30", 10), ("B", "2023-07-01", "2023-07-31", 5)])
    led = Ledger(inv, None)
    sales = led.monthly_sales(AS_OF)  # 24 months: June 2025 back to July 2023
    assert len(sales) == 24 and sales[0] == 10.0 and sales[23] == 5.0
    # the end day counts, the start day does not
    assert led.credit_sales("2025-06-29", AS_OF) == 10.0
    assert led.credit_sales(AS_OF, "2025-07-31") == 0.0


def test_invoice_date_basis_labels_and_buckets_by_days_since_invoice():
    from salesops_analysis.metrics import bucket_labels

    assert bucket_labels((30, 60, 90), "invoice_date") == ["0_30", "31_60", "61_90", "90_plus"]
    items = pd.DataFrame(
        {
            "is_open": [True, True, True],
            "days_past_due": [-20.0, 5.0, 100.0],
            "days_since_invoice": [10.0, 35.0, 130.0],
            "open_amount": [1.0, 2.0, 4.0],
        }
    )
    table = aging_buckets(items, basis="invoice_date")
    assert table.loc["total"].tolist() == [1.0, 2.0, 0.0, 4.0, 7.0]
    assert table.index.name == "group" and table.index.tolist() == ["total"]
    assert table.columns.name is None
    with pytest.raises(ValueError, match="basis must be due_date or invoice_date"):
        aging_buckets(items, basis="due")


def test_aging_keeps_a_missing_group_and_rounds_to_cents_within_the_rounding_gap():
    items = pd.DataFrame(
        {
            "is_open": True,
            "days_past_due": [0.0, 10.0, 40.0, 70.0, 100.0, 10.0],
            "days_since_invoice": 0.0,
            "open_amount": [0.0049, 0.0045, 0.0149, 0.0149, 0.0149, 5.0],
            "team": pd.array(["N", "N", "N", "N", "N", None], dtype="str"),
        }
    )
    # N: each bucket rounds to cents (0, 0, 0.01, 0.01, 0.01) and the total 0.0541 to 0.05:
    # a gap of 0.02, within the 6 half-cents five buckets and a total can drift apart
    table = aging_buckets(items, by="team")
    assert table.loc["N"].tolist() == [0.0, 0.0, 0.01, 0.01, 0.01, 0.05]
    # the invoice without a team keeps its own row
    assert len(table) == 2 and table.iloc[1].tolist() == [0.0, 5.0, 0.0, 0.0, 0.0, 5.0]
    assert pd.isna(table.index[1])


def test_collection_curves_ignore_payments_of_no_invoice_and_of_non_invoices():
    """April: one invoice of 100, paid 40 on day 5. A payment naming no invoice, a refund
    paid on a credit note and a payment on a zero-amount line collect nothing of it."""
    inv = invoices(
        [
            ("A", "2025-04-01", "2025-05-01", 100),
            ("ZERO", "2025-04-02", "2025-05-02", 0),
            ("CN", "2025-04-03", "2025-04-03", -20),
            ("LAST", "2025-04-04", "2025-05-04", 50),  # the last row: a stray match lands here
        ]
    )
    pay = payments(
        [
            ("A", "2025-04-06", 40),
            ("NOPE", "2025-04-06", 999),
            ("CN", "2025-04-07", -20),
            ("ZERO", "2025-04-07", 7),
        ]
    )
    april = collection_curves(inv, pay, as_of=AS_OF, days=(15,), months=3).iloc[0]
    assert april["day_15"] == pytest.approx(40 / 150)


def test_sales_owner_of_invoices_without_orders_and_an_order_named_like_a_placeholder():
    from salesops_analysis.metrics import with_sales_owner

    orders = pd.DataFrame(
        {
            "order_id": pd.array(["O1", "XXXX"], dtype="str"),
            "customer_id": pd.array(["C1", "C2"], dtype="str"),
            "order_date": pd.to_datetime(["2025-05-01", "2025-06-01"]),
            "sales_rep": pd.array(["Ana", "Xavier"], dtype="str"),
            "team": pd.array(["North", "X-Team"], dtype="str"),
        }
    )
    items = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2"],
            "order_id": pd.Series([None, None], dtype="str"),
            "customer_id": ["C1", "C1"],
        }
    )
    # no invoice has an order of its own: each gets its customer's latest order's rep
    got = with_sales_owner(items, orders)
    assert got["sales_rep"].tolist() == ["Ana", "Ana"]
    assert got["team"].tolist() == ["North", "North"]


def test_ledger_keeps_the_frames_columns_and_reads_a_debit_note_as_an_invoice():
    """A positive line naming another invoice (a debit note of 50 cents) is an invoice of
    its own, not a credit; a status read with pandas' NA is not 'written off'; a book with
    nothing to match (no credit-note column, no payments, no activities) is read too."""
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices(
        [
            ("A", "2025-06-01", "2025-06-30", 100),
            ("DN", "2025-06-02", "2025-06-30", 0.5, "USD", "A"),
            ("B", "2025-06-01", "2025-06-30", 10),
        ]
    )
    inv["status"] = pd.array(["open", "open", pd.NA], dtype="string")
    pay = payments([("A", "2025-06-10", 30)])
    pay.index = [7]
    led = Ledger(inv, pay)
    assert list(led.payments.columns) == list(pay.columns) and led.payments.index.tolist() == [0]
    assert led.open_balances(AS_OF)[1].tolist() == [70.0, 0.5, 10.0]
    bare = Ledger(inv.drop(columns=["applies_to_invoice_id"]), None)
    assert bare.open_balances(AS_OF)[1].tolist() == [100.0, 0.5, 10.0]
    assert bare.activity_rows is None


def test_an_invoice_without_an_order_never_matches_an_order_with_a_blank_id():
    orders = pd.DataFrame(
        {
            "order_id": pd.array(["O1", "", "  "], dtype="str"),
            "customer_id": pd.array(["C1", "C2", "C3"], dtype="str"),
            "order_date": pd.to_datetime(["2025-05-01", "2025-06-01", "2025-06-02"]),
            "sales_rep": pd.array(["Ana", "Nobody", "Blank"], dtype="str"),
            "team": pd.array(["North", "Empty", "Blank"], dtype="str"),
        }
    )
    items = pd.DataFrame(
        {
            "invoice_id": ["I1"],
            "order_id": pd.Series([None], dtype="str"),
            "customer_id": ["C1"],
        }
    )
    got = with_sales_owner(items, orders)
    assert got["sales_rep"].tolist() == ["Ana"]  # C1's latest order, not the blank-id one
    assert got["team"].tolist() == ["North"]


def test_a_ledger_forgets_old_days_and_still_answers_each_day_right():
    """Invoice I1 (100, issued 2025-01-01) is paid 10 on the 1st of every month: its balance
    at the end of month m is 100 - 10 m, asked over and over in a changing order."""
    inv = invoices([("I1", "2025-01-01", "2025-01-31", 100.0)])
    pay = payments([("I1", f"2025-{m:02d}-01", 10.0) for m in range(1, 11)])
    led = Ledger(inv, pay)
    ends = [pd.Timestamp(f"2025-{m:02d}-01") + pd.offsets.MonthEnd(0) for m in range(1, 11)]
    for m in [*range(10), 9, 0, 5, 5, 2, 7]:
        _, open_amount, last = led.balances(ends[m])
        assert open_amount.tolist() == [100.0 - 10 * (m + 1)]
        assert last.tolist() == [int(np.datetime64(f"2025-{m + 1:02d}-01", "D").astype(int))]
        assert led.snapshot(ends[m])["ar"] == 100.0 - 10 * (m + 1)
    assert len(led._balances) == REMEMBERED_DAYS
    assert len(led._last_payment) == REMEMBERED_DAYS


def test_a_ledger_that_forgets_its_days_answers_the_same_and_its_copies_keep_theirs():
    inv = invoices(
        [("I1", "2025-01-01", "2025-01-31", 100.0), ("I2", "2025-01-05", "2025-02-04", 50.0)]
    )
    pay = payments([("I1", "2025-02-01", 40.0), ("I2", "2025-03-01", 50.0)])
    led = Ledger(inv, pay)
    before = [a.tolist() for a in led.balances("2025-02-15")]
    converted = led.in_currency({"USD": 2.0}, "USD")
    converted.balances("2025-02-15")
    led.forget()
    assert not led._balances and not led._last_payment
    assert len(converted._balances) == 1  # the copy's own memory is kept
    assert [a.tolist() for a in led.balances("2025-02-15")] == before
    assert converted.balances("2025-02-15")[1].tolist() == [120.0, 100.0]
