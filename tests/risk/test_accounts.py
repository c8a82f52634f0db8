"""The account worklist: one row per customer, reconciled, with collectors and today's calls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import salesops_analysis as so
from salesops_analysis.config import Collector, config_from_dict
from salesops_analysis.metrics import Tables
from salesops_analysis.reports.excel import sheet_name, write_worklist_xlsx
from salesops_analysis.risk.accounts import (
    ACCOUNT_COLUMNS,
    account_worklist,
    accounts_for_sheet,
    assign_collectors,
    call_coverage,
    collector_calls,
    collector_load,
)
from tests.frames import canonical, worklist_frame

DAY = "2025-06-30"


def _config(**raw) -> so.Config:
    return config_from_dict(raw)


def _wl() -> pd.DataFrame:
    # C1 holds two invoices (one overdue 40 days), C2 one big invoice not yet due,
    # "c1 " is C1 written another way (ids compare ignoring case and spaces)
    return worklist_frame(
        [
            {"customer_id": "C2", "invoice_id": "I4", "open_amount_reporting": 1000.0,
             "days_past_due": -5, "probability": 0.9, "owner": "Rep Two"},
            {"customer_id": "C1", "customer_name": "One Ltd", "invoice_id": "I1",
             "open_amount_reporting": 0.1, "days_past_due": 40, "probability": 0.9},
            {"customer_id": "c1 ", "invoice_id": "I2", "open_amount_reporting": 0.2,
             "days_past_due": 3, "probability": 0.8},
            {"customer_id": "C3", "invoice_id": "I5", "open_amount_reporting": 300.0,
             "days_past_due": 20, "probability": 0.5},
            {"customer_id": "C3", "invoice_id": "I6", "open_amount_reporting": 400.0,
             "days_past_due": 80, "probability": 0.4},
            {"customer_id": "C3", "invoice_id": "I7", "open_amount_reporting": 10.0,
             "days_past_due": -1, "probability": 0.1},
            {"customer_id": "C3", "invoice_id": "I8", "open_amount_reporting": 5.0,
             "days_past_due": -9, "probability": 0.1},
        ]
    )  # fmt: skip


def test_one_row_per_customer_adding_up_to_the_worklist_exactly():
    wl = _wl()
    acc = account_worklist(wl, Tables(), _config(), DAY)
    assert list(acc.columns) == ACCOUNT_COLUMNS
    assert acc["customer_id"].tolist() == ["C2", "C3", "C1"]  # by expected late amount
    assert acc["rank"].tolist() == [1, 2, 3]
    c1 = acc.set_index("customer_id").loc["C1"]
    # 0.1 + 0.2 in floats is 0.30000000000000004: summed in cents it is 0.3
    assert c1["open_amount_reporting"] == 0.3 and c1["open_invoices"] == 2
    assert acc["open_amount_reporting"].sum() == pytest.approx(wl["open_amount_reporting"].sum())
    cents = np.round(acc["open_amount_reporting"] * 100).astype(int).sum()
    assert cents == np.round(wl["open_amount_reporting"] * 100).astype(int).sum()
    assert acc["expected_late_amount"].sum() == pytest.approx(wl["expected_late_amount"].sum())


def test_a_worklist_without_expected_late_amounts_keeps_its_order():
    # a young warehouse: no model, no history; the worklist is ranked by days past due × amount
    wl = worklist_frame(
        [
            {"customer_id": "A", "invoice_id": "A1", "open_amount_reporting": 10.0,
             "days_past_due": 90, "probability": np.nan},
            {"customer_id": "B", "invoice_id": "B1", "open_amount_reporting": 500.0,
             "days_past_due": 1, "probability": np.nan},
            {"customer_id": "A", "invoice_id": "A2", "open_amount_reporting": 5.0,
             "days_past_due": -3, "probability": np.nan},
        ]
    )  # fmt: skip
    assert wl["expected_late_amount"].isna().all()
    cfg = _config(collectors=[{"name": "Ann", "capacity": 5}, {"name": "Bob", "capacity": 5}])
    acc = account_worklist(wl, Tables(), cfg, DAY)
    assert acc["customer_id"].tolist() == ["A", "B"]
    assert acc["expected_late_amount"].isna().all()
    assert acc["open_amount_reporting"].tolist() == [15.0, 500.0]
    # balanced by open amount instead: A and B go to different collectors
    assert acc["collector"].nunique() == 2
    cover = call_coverage(acc)
    assert (cover.measure, cover.total, cover.called) == ("overdue amount", 510.0, 510.0)


def test_open_credit_notes_count_in_the_customer_balance():
    wl = _wl()
    inv = canonical(
        "invoices",
        [
            # C3's unapplied credit note, and one applied in full to an invoice (not open)
            {"invoice_id": "CN1", "customer_id": "c3", "invoice_date": "2025-06-01",
             "due_date": "2025-06-01", "amount": -15.25, "currency": "USD", "status": "open"},
            {"invoice_id": "CN2", "customer_id": "C3", "invoice_date": "2025-06-01",
             "due_date": "2025-06-01", "amount": -5.0, "currency": "USD", "status": "open",
             "applies_to_invoice_id": "X1"},
            {"invoice_id": "X1", "customer_id": "C3", "invoice_date": "2025-05-01",
             "due_date": "2025-05-31", "amount": 5.0, "currency": "USD", "status": "paid"},
            # C9 has only a credit note open; its name comes from the customers export
            {"invoice_id": "CN3", "customer_id": "C9", "invoice_date": "2025-06-01",
             "due_date": "2025-06-01", "amount": -40.0, "currency": "USD", "status": "open"},
            # a credit note issued after the as-of date is not open yet
            {"invoice_id": "CN4", "customer_id": "C1", "invoice_date": "2025-07-01",
             "due_date": "2025-07-01", "amount": -1.0, "currency": "USD", "status": "open"},
        ],
    )  # fmt: skip
    cust = canonical("customers", [{"customer_id": "C9", "name": "Credit Only Ltd"}])
    # (a payments export with no payment up to the day and an applied credit note trips a
    # dtype bug in Ledger (np.bincount of nothing is int64): one paid invoice avoids it here)
    inv = pd.concat(
        [inv, canonical("invoices", [{"invoice_id": "X2", "customer_id": "C3", "amount": 7.0,
          "invoice_date": "2025-05-01", "due_date": "2025-05-31", "status": "paid"}])],
        ignore_index=True,
    )  # fmt: skip
    pay = canonical(
        "payments", [{"payment_id": "P1", "invoice_id": "X2", "payment_date": "2025-05-10",
                      "amount": 7.0}]
    )  # fmt: skip
    tables = Tables(invoices=inv, payments=pay, customers=cust)
    acc = account_worklist(wl, tables, _config(), DAY).set_index("customer_id")
    assert acc.loc["C3", "open_credits_reporting"] == -15.25
    assert acc.loc["C3", "open_amount_reporting"] == 715.0 - 15.25
    assert acc.loc["C1", "open_credits_reporting"] == 0.0
    c9 = acc.loc["C9"]
    assert (c9["customer_name"], c9["open_amount_reporting"], c9["open_invoices"]) == (
        "Credit Only Ltd",
        -40.0,
        0,
    )
    assert (c9["next_action"], c9["call_today"], c9["rank"]) == ("no action yet", False, 4)
    # worklist + open credit notes = AR open, to the cent
    total = wl["open_amount_reporting"].sum() - 15.25 - 40.0
    assert acc["open_amount_reporting"].sum() == pytest.approx(total, abs=1e-9)


def test_customer_figures_by_hand():
    acc = account_worklist(_wl(), Tables(), _config(), DAY).set_index("customer_id")
    c3 = acc.loc["C3"]
    assert c3["open_amount_reporting"] == 715.0
    assert c3["overdue_amount_reporting"] == 700.0
    assert c3["expected_late_amount"] == 150.0 + 160.0 + 1.0 + 0.5
    assert (c3["open_invoices"], c3["overdue_invoices"]) == (4, 2)
    assert c3["oldest_days_past_due"] == 80
    assert c3["dunning_stage"] == "escalate"  # the most advanced of its invoices
    assert c3["next_action"] == "escalate to the credit manager"
    # its first three invoices in worklist order
    assert c3["invoice_1"] == "I5: 300.00 USD, 20 days past due"
    assert c3["invoice_2"] == "I6: 400.00 USD, 80 days past due"
    assert c3["invoice_3"] == "I7: 10.00 USD, due in 1 days"
    assert acc.loc["C1", "invoice_3"] == "" and acc.loc["C1", "customer_name"] == "One Ltd"
    c2 = acc.loc["C2"]
    assert (c2["dunning_stage"], c2["next_action"]) == (
        "not due",
        "courtesy call before the due date",
    )
    assert c2["collector"] == "Rep Two"  # without collectors: the worklist's owner
    assert acc["call_today"].all()  # without collectors: no capacity


def test_empty_and_one_row_worklists():
    empty = account_worklist(worklist_frame([]), Tables(), _config(), DAY)
    assert list(empty.columns) == ACCOUNT_COLUMNS and empty.empty
    one = worklist_frame(
        [{"customer_id": "C9", "invoice_id": "I9", "open_amount_reporting": 5.0,
          "days_past_due": 0, "probability": 0.2}]
    )  # fmt: skip
    acc = account_worklist(one, Tables(), _config(), DAY)
    assert acc["customer_id"].tolist() == ["C9"]
    assert acc["next_action"].tolist() == ["no action yet"]
    assert not acc["call_today"].any()
    cfg = _config(collectors=[{"name": "Ann", "capacity": 3}])
    for wl in (worklist_frame([]), one):
        acc = account_worklist(wl, Tables(), cfg, DAY)
        assert (acc["collector"] == "Ann").all()
        assert collector_load(acc, cfg)["collector"].tolist() == ["Ann"]
        assert call_coverage(acc).calls == 0


def _activities(rows):
    return canonical("activities", rows)


def test_a_pending_promise_takes_the_customer_off_todays_calls():
    wl = _wl()
    acts = _activities(
        [
            # C3 promised (on an open invoice) to pay after today: pending
            {"activity_id": "A1", "activity_date": "2025-06-20", "owner": "Ann", "type": "call",
             "customer_id": "C3", "invoice_id": "I6", "outcome": "promise_to_pay",
             "promised_date": "2025-07-05"},
            # C1 promised on the customer (no invoice named) for a day already past: broken
            {"activity_id": "A2", "activity_date": "2025-06-01", "owner": "Bob", "type": "call",
             "customer_id": "c1", "outcome": "promise_to_pay", "promised_date": "2025-06-10"},
            # a promise after the as-of date is not known yet
            {"activity_id": "A3", "activity_date": "2025-07-01", "owner": "Bob", "type": "call",
             "customer_id": "C1", "invoice_id": "I1", "outcome": "promise_to_pay",
             "promised_date": "2025-07-20"},
        ]
    )  # fmt: skip
    tables = Tables(activities=acts)
    cfg = _config(collectors=[{"name": "Ann", "capacity": 5}, {"name": "Bob", "capacity": 5}])
    acc = account_worklist(wl, tables, cfg, DAY).set_index("customer_id")
    assert acc.loc["C3", "promise_status"] == "promised for 2025-07-05 (pending)"
    assert acc.loc["C3", "promise_pending"]
    assert acc.loc["C3", "next_action"] == "wait for the promised payment (2025-07-05)"
    assert not acc.loc["C3", "call_today"]
    assert acc.loc["C1", "promise_status"] == "promised for 2025-06-10: broken"
    assert acc.loc["C1", "next_action"] == "call: the promise to pay was broken"
    assert acc.loc["C1", "call_today"]
    # the same promise, seen on its promised date, is still pending; a day later, broken
    later = account_worklist(wl, tables, cfg, "2025-07-06").set_index("customer_id")
    assert later.loc["C3", "promise_status"] == "promised for 2025-07-05: broken"
    assert later.loc["C3", "call_today"]


def test_existing_owners_are_kept_and_calls_stop_at_capacity():
    rows = [
        {"customer_id": f"K{i}", "invoice_id": f"J{i}", "open_amount_reporting": 100.0 - i,
         "days_past_due": 20, "probability": 1.0}
        for i in range(8)
    ]  # fmt: skip
    wl = worklist_frame(rows)
    acts = _activities(
        [
            # K5's current owner is Bob (his latest collections activity)...
            {"activity_id": "A1", "activity_date": "2025-05-01", "owner": "Ann",
             "customer_id": "K5", "invoice_id": "J5", "type": "call"},
            {"activity_id": "A2", "activity_date": "2025-06-01", "owner": "bob",
             "customer_id": "K5", "invoice_id": "J5", "type": "call"},
            # ... K6 was last worked by someone who is no collector: assigned like the others
            {"activity_id": "A3", "activity_date": "2025-06-01", "owner": "Sales Rep",
             "customer_id": "K6", "invoice_id": "J6", "type": "email"},
        ]
    )  # fmt: skip
    cfg = _config(collectors=[{"name": "Ann", "capacity": 2}, {"name": "Bob", "capacity": 1}])
    acc = account_worklist(wl, Tables(activities=acts), cfg, DAY).set_index("customer_id")
    assert acc.loc["K5", "collector"] == "Bob"
    assert set(acc["collector"]) == {"Ann", "Bob"}
    calls = acc.loc[acc["call_today"]]
    assert calls.groupby("collector").size().to_dict() == {"Ann": 2, "Bob": 1}
    # each collector's calls are their top-ranked customers
    for name, cap in (("Ann", 2), ("Bob", 1)):
        theirs = acc.loc[acc["collector"] == name].sort_values("rank")
        assert theirs["call_today"].tolist() == [True] * cap + [False] * (len(theirs) - cap)
    sheets = collector_calls(acc.reset_index())
    assert {k: len(v) for k, v in sheets.items()} == {"Ann": 2, "Bob": 1}
    load = collector_load(acc.reset_index(), cfg).set_index("collector")
    assert load.loc["Ann", "capacity"] == 2 and load.loc["Bob", "calls_today"] == 1
    assert load["customers"].sum() == 8
    cover = call_coverage(acc.reset_index())
    assert cover.calls == 3
    assert cover.called == pytest.approx(calls["expected_late_amount"].sum())
    assert cover.total == pytest.approx(acc["expected_late_amount"].sum())
    # Ann (2 calls) gets K0, K1, K2, K4, K7 and Bob (1 call) K5 (his), K3, K6, by expected
    # late amount per call of capacity: the calls are K0, K1 (Ann) and K3 (Bob), 100 + 99 + 97
    assert acc.index[acc["call_today"]].tolist() == ["K0", "K1", "K3"]
    assert cover.sentence("USD").startswith("Today's 3 calls reach 296 USD of the 772 USD")


def test_assignment_balances_expected_late_amount_per_call_of_capacity():
    ann, bob = Collector("Ann", 10), Collector("Bob", 10)
    none = np.array([""] * 4, dtype=object)
    got = assign_collectors(np.array([100.0, 60.0, 50.0, 30.0]), none, none, none, [ann, bob])
    # 100 -> Ann; 60 -> Bob; 50 -> Bob (110 < 150); 30 -> Ann (130 < 140)
    assert got.tolist() == ["Ann", "Bob", "Bob", "Ann"]
    # an existing owner's load counts: Bob already carries 500
    owner = np.array(["", "", "", "BOB"], dtype=object)
    got = assign_collectors(np.array([100.0, 60.0, 50.0, 500.0]), owner, none, none, [ann, bob])
    assert got.tolist() == ["Ann", "Ann", "Ann", "Bob"]
    # twice the capacity, about twice the amount
    big = Collector("Big", 20)
    got = assign_collectors(np.full(6, 10.0), np.full(6, "", object), *[np.full(6, "", object)] * 2,
                            [ann, big])  # fmt: skip
    assert (got == "Big").sum() == 4 and (got == "Ann").sum() == 2


def test_collectors_cover_their_segments_and_countries():
    wl = worklist_frame(
        [
            {"customer_id": f"S{i}", "invoice_id": f"J{i}", "open_amount_reporting": 10.0 * (i + 1),
             "days_past_due": 20, "probability": 1.0}
            for i in range(6)
        ]
    )  # fmt: skip
    cust = canonical(
        "customers",
        [
            {"customer_id": "S0", "segment": "Enterprise", "country": "US"},
            {"customer_id": "S1", "segment": "SMB", "country": "DE"},
            {"customer_id": "S2", "segment": "enterprise", "country": "DE"},
            {"customer_id": "S3", "segment": "SMB", "country": "US"},
            {"customer_id": "S4", "segment": "Mid-Market", "country": "FR"},
        ],
    )
    cfg = _config(
        collectors=[
            {"name": "Ent", "capacity": 5, "segments": ["Enterprise"]},
            {"name": "Dach", "capacity": 5, "countries": ["DE", "AT"]},
            {"name": "Any", "capacity": 5},
        ]
    )
    acc = account_worklist(wl, Tables(customers=cust), cfg, DAY).set_index("customer_id")
    assert acc.loc["S0", "collector"] in {"Ent", "Any"}
    assert acc.loc["S1", "collector"] in {"Dach", "Any"}
    assert acc.loc["S2", "collector"] in {"Ent", "Dach", "Any"}
    assert acc.loc["S3", "collector"] == "Any"
    assert acc.loc["S4", "collector"] == "Any"  # no segment collector covers it
    # nobody covers a customer: every collector may take it
    only = _config(collectors=[{"name": "Ent", "capacity": 5, "segments": ["Enterprise"]}])
    acc = account_worklist(wl, Tables(customers=cust), only, DAY)
    assert (acc["collector"] == "Ent").all()


def test_disputes_from_activities_and_the_invoice_flag():
    wl = _wl()
    inv = canonical(
        "invoices",
        [{"invoice_id": "I5", "customer_id": "C3", "amount": 300.0, "disputed": True,
          "status": "open"},
         {"invoice_id": "I4", "customer_id": "C2", "amount": 1000.0, "status": "open"}],
    )  # fmt: skip
    acts = _activities(
        [{"activity_id": "A1", "activity_date": "2025-06-02", "type": "note", "owner": "Ann",
          "customer_id": "C1", "invoice_id": "I2", "outcome": "dispute"},
         # a dispute on a paid invoice (not in the worklist) says nothing about the open ones
         {"activity_id": "A2", "activity_date": "2025-06-02", "type": "note", "owner": "Ann",
          "customer_id": "C2", "invoice_id": "I-PAID", "outcome": "dispute"}]
    )  # fmt: skip
    acc = account_worklist(_wl(), Tables(invoices=inv, activities=acts), _config(), DAY)
    acc = acc.set_index("customer_id")
    assert acc["in_dispute"].to_dict() == {"C2": False, "C3": True, "C1": True}
    assert acc.loc["C1", "next_action"] == "resolve the dispute before chasing payment"
    assert acc.loc["C1", "last_contact"] == "2025-06-02 note: dispute (Ann)"
    assert acc.loc["C1", "last_contact_date"] == pd.Timestamp("2025-06-02")
    assert acc.loc["C1", "collector"] == "Ann"  # latest collections activity's owner
    assert len(wl) == 7


def test_collectors_config_is_checked():
    with pytest.raises(so.ConfigError, match="capacity"):
        _config(collectors=[{"name": "Ann"}])
    with pytest.raises(so.ConfigError, match="capacity"):
        _config(collectors=[{"name": "Ann", "capacity": -1}])
    with pytest.raises(so.ConfigError, match="listed twice"):
        _config(collectors=[{"name": "Ann", "capacity": 1}, {"name": "ann", "capacity": 2}])
    with pytest.raises(so.ConfigError, match="collectors\\[0\\].segmnts"):
        _config(collectors=[{"name": "Ann", "capacity": 1, "segmnts": ["SMB"]}])
    with pytest.raises(so.ConfigError, match="company.nmae"):
        _config(company={"nmae": "X"})
    cfg = _config(
        collectors=[{"name": "Ann", "capacity": 4, "countries": "DE"}],
        company={"name": "Acme", "address": ["1 Road", "Town"], "email": "ar@acme.test"},
    )
    assert cfg.collectors == [Collector("Ann", 4, (), ("DE",))]
    assert cfg.company.address == ("1 Road", "Town") and cfg.company.name == "Acme"
    assert so.Config().collectors == []


def test_a_capped_customers_sheet_still_adds_up(tmp_path):
    acc = account_worklist(_wl(), Tables(), _config(), DAY)
    assert accounts_for_sheet(acc, 3) is acc
    capped = accounts_for_sheet(acc, 1)
    assert len(capped) == 2 and capped["customer_id"].iloc[0] == "C2"
    assert capped["customer_name"].iloc[1] == "the other 2 customers (see the invoice worklist)"
    assert capped["open_amount_reporting"].iloc[1] == 715.3
    assert capped["open_invoices"].sum() == 7 and np.isnan(capped["rank"].iloc[1])
    path = write_worklist_xlsx(_wl(), tmp_path / "w.xlsx", customers=capped)
    rows = list(load_workbook(path)["Customers"].iter_rows(values_only=True))
    assert sum(r[3] for r in rows[1:]) == pytest.approx(1715.3)
    assert rows[2][0] is None and rows[2][rows[0].index("call today")] is None
    assert capped["in_dispute"].dtype == bool and capped["promise_pending"].dtype == bool


def test_sheet_names_are_valid_and_unique():
    used: set[str] = set()
    names = [sheet_name(n, used) for n in ["Calls A/B", "Calls A:B", "x" * 40, "x" * 40, ""]]
    assert names[0] == "Calls A_B" and names[1] == "Calls A_B (2)"
    assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names}) == 5


@pytest.fixture(scope="module")
def demo_accounts(demo_model, demo_tables, demo_config):
    from salesops_analysis.risk import worklist

    wl = worklist(demo_model, demo_tables, "2025-06-30", demo_config)
    cfg = config_from_dict(
        {
            "collectors": [
                {"name": "Carl Mensah", "capacity": 15},
                {"name": "Alex Moreau", "capacity": 15},
                {"name": "Dana Fischer", "capacity": 10, "segments": ["Enterprise"]},
            ]
        }
    )
    return wl, account_worklist(wl, demo_tables, cfg, "2025-06-30"), cfg


def test_customers_sheet_reconciles_to_ar_open(demo_accounts, demo_tables, demo_config, tmp_path):
    from salesops_analysis.metrics import open_items
    from salesops_analysis.metrics.receivables import rate_factors

    wl, acc, cfg = demo_accounts
    # AR open: every open item (invoices and unapplied credit notes) at the day's rates
    items = open_items(demo_tables.invoices, demo_tables.payments, as_of="2025-06-30")
    items = items.loc[items["is_open"]]
    rates, _ = demo_tables.rates("2025-06-30", demo_config)
    factor = rate_factors(items["currency"], rates, len(items))
    ar_open = round(float(np.round(items["open_amount"].to_numpy() * factor, 2).sum()), 2)
    assert acc["customer_id"].str.lower().is_unique
    assert len(acc) == items["customer_id"].str.strip().str.lower().nunique()
    assert round(float(acc["open_amount_reporting"].sum()), 2) == ar_open
    path = write_worklist_xlsx(
        wl, tmp_path / "worklist.xlsx", title="Worklist", customers=acc, calls=collector_calls(acc)
    )
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames[:2] == ["Customers", "Worklist"]
    assert wb.sheetnames[2:] == [f"Calls {n}" for n in collector_calls(acc)]
    rows = list(wb["Customers"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:4] == ["rank", "customer id", "customer name", "open amount reporting"]
    col = header.index("open amount reporting")
    assert round(sum(r[col] for r in rows[1:]), 2) == ar_open
    called = header.index("call today")
    n_calls = sum(r[called] == "yes" for r in rows[1:])
    assert n_calls == acc["call_today"].sum() <= 15 + 15 + 10
    for name, frame in collector_calls(acc).items():
        sheet = list(wb[f"Calls {name}"].iter_rows(values_only=True))
        assert len(sheet) - 1 == len(frame) <= {c.name: c.capacity for c in cfg.collectors}[name]
    invoices = list(wb["Worklist"].iter_rows(values_only=True))
    assert len(invoices) - 1 == len(wl)


def test_demo_accounts_rank_and_pending_promises(demo_accounts):
    _, acc, cfg = demo_accounts
    assert acc["expected_late_amount"].is_monotonic_decreasing
    assert set(acc["collector"]) == {c.name for c in cfg.collectors}
    assert acc["promise_pending"].any()
    assert not (acc["promise_pending"] & acc["call_today"]).any()
