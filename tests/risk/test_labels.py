"""The outcomes the models learn from, on hand-made books: late, on time, or not known yet.

Days are stated as dates; each expected label is worked out by hand from the rule:

* late model: late when settled more than ``grace_days`` after the due date, or still unpaid
  at the end of a day after due + grace; an unpaid invoice whose due + grace has not *passed*
  at the cut-off (the cut-off on that very day included) is censored, never late or on time;
* overdue model: a snapshot of an invoice still open past due + grace is labelled "still unpaid
  30 days later" only once that is known at the cut-off (settled by then, or 30 days have
  passed); otherwise the snapshot is censored and never a training row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesops_analysis.metrics.days import day_number
from salesops_analysis.risk import Knowledge
from salesops_analysis.risk.model import overdue_rows as _overdue_rows
from tests.metrics.conftest import invoices, payments


def _labels(knowledge: Knowledge, cutoff: str) -> dict[str, str]:
    """Return 'late', 'on time' or 'censored' per invoice id at the end of ``cutoff``."""
    known, late = knowledge.late_label(day_number(cutoff))
    ids = knowledge.ledger.invoices["invoice_id"]
    return {
        i: ("censored" if not k else "late" if x else "on time")
        for i, k, x in zip(ids, known, late, strict=True)
    }


def test_unpaid_on_its_due_day_is_censored_until_the_day_after():
    inv = invoices(
        [
            ("UNPAID", "2025-03-01", "2025-03-31", 100),
            ("PAID_ON_DUE", "2025-03-01", "2025-03-31", 100),
            ("PAID_DAY_AFTER", "2025-03-01", "2025-03-31", 100),
            ("NOT_ISSUED", "2025-04-02", "2025-05-02", 100),
            ("PAID_ON_ISSUE", "2025-03-31", "2025-04-30", 100),  # issued and paid 03-31
        ]
    )
    pay = payments(
        [
            ("PAID_ON_DUE", "2025-03-31", 100),
            ("PAID_DAY_AFTER", "2025-04-01", 100),
            ("PAID_ON_ISSUE", "2025-03-31", 100),
        ]
    )
    k = Knowledge.at("2025-06-30", inv, pay)
    assert _labels(k, "2025-03-30") == {
        "UNPAID": "censored",
        "PAID_ON_DUE": "censored",
        "PAID_DAY_AFTER": "censored",
        "NOT_ISSUED": "censored",
        "PAID_ON_ISSUE": "censored",
    }
    # the cut-off on the due day: unpaid is not late yet, paid that day is on time
    assert _labels(k, "2025-03-31") == {
        "UNPAID": "censored",
        "PAID_ON_DUE": "on time",
        "PAID_DAY_AFTER": "censored",
        "NOT_ISSUED": "censored",
        "PAID_ON_ISSUE": "on time",  # issued on the cut-off day and settled that day
    }
    assert _labels(k, "2025-04-01") == {
        "UNPAID": "late",
        "PAID_ON_DUE": "on time",
        "PAID_DAY_AFTER": "late",
        "NOT_ISSUED": "censored",
        "PAID_ON_ISSUE": "on time",
    }


def test_grace_days_move_the_deadline():
    inv = invoices(
        [
            ("UNPAID", "2025-03-01", "2025-03-31", 100),
            ("PAID_LAST_GRACE_DAY", "2025-03-01", "2025-03-31", 100),
            ("PAID_AFTER_GRACE", "2025-03-01", "2025-03-31", 100),
        ]
    )
    pay = payments(
        [
            ("PAID_LAST_GRACE_DAY", "2025-04-03", 100),
            ("PAID_AFTER_GRACE", "2025-04-02", 50),  # partly paid in time ...
            ("PAID_AFTER_GRACE", "2025-04-04", 50),  # ... fully only after due + 3
        ]
    )
    k = Knowledge.at("2025-06-30", inv, pay, grace_days=3)
    assert _labels(k, "2025-04-03") == {
        "UNPAID": "censored",
        "PAID_LAST_GRACE_DAY": "on time",
        "PAID_AFTER_GRACE": "censored",
    }
    assert _labels(k, "2025-04-04") == {
        "UNPAID": "late",
        "PAID_LAST_GRACE_DAY": "on time",
        "PAID_AFTER_GRACE": "late",
    }


def test_labels_of_an_empty_and_a_one_row_book():
    one_row = invoices([("A", "2025-01-01", "2025-01-31", 10)])
    empty = Knowledge.at("2025-06-30", one_row.iloc[:0], payments([]))
    assert _labels(empty, "2025-02-01") == {}
    assert _overdue(empty, "2025-06-30") == []
    one = Knowledge.at("2025-06-30", one_row, payments([]))
    assert _labels(one, "2025-01-31") == {"A": "censored"}
    assert _labels(one, "2025-02-01") == {"A": "late"}
    assert _overdue(one, "2025-03-02") == []  # 02-01 + 30 days has not passed
    assert _overdue(one, "2025-03-03") == [("A", "2025-02-01", 1)]


def _overdue(knowledge: Knowledge, cutoff: str) -> list[tuple[str, str, int]]:
    """Return (invoice id, snapshot day, label) of the overdue model's rows known at ``cutoff``."""
    lo, hi = day_number("2000-01-01"), day_number("2100-01-01")
    r = _overdue_rows(knowledge, day_number(cutoff), lo, hi)
    ids = knowledge.ledger.invoices["invoice_id"].to_numpy()[r.rows]
    days = np.datetime_as_string(r.snap.astype("datetime64[D]"))
    return sorted(zip(ids.tolist(), days.tolist(), r.y.tolist(), strict=True))


def test_overdue_snapshots_are_labelled_only_once_their_outcome_is_known():
    # all due 01-31, no grace: the first snapshot is 02-01 (1 day past due), the next 02-15
    inv = invoices(
        [
            ("UNPAID", "2025-01-01", "2025-01-31", 100),  # never paid
            ("QUICK", "2025-01-01", "2025-01-31", 100),  # paid 02-10: within 30 days of 02-01
            ("AFTER_CUT", "2025-01-01", "2025-01-31", 100),  # paid 03-10: after the cut-off
        ]
    )
    pay = payments([("QUICK", "2025-02-10", 100), ("AFTER_CUT", "2025-03-10", 100)])
    k = Knowledge.at("2025-06-30", inv, pay)
    # cut-off 03-05: 02-01 + 30 = 03-03 has passed, 02-15 + 30 = 03-17 has not
    rows = _overdue(k, "2025-03-05")
    # UNPAID: still unpaid 30 days after 02-01 (label 1); its 02-15 snapshot is censored.
    # QUICK: known (paid 02-10, before the cut-off), paid within 30 days of 02-01 (label 0);
    # closed before 02-15, so no later snapshot. AFTER_CUT: its payment is not known at the
    # cut-off, so 02-01 is labelled from the 30 days that passed unpaid (label 1), 02-15 is
    # censored (it must not be labelled "unpaid" from a payment nobody knew of yet).
    assert rows == [
        ("AFTER_CUT", "2025-02-01", 1),
        ("QUICK", "2025-02-01", 0),
        ("UNPAID", "2025-02-01", 1),
    ]
    # cut-off 02-20: nothing is 30 days old yet; only QUICK's payment is known
    assert _overdue(k, "2025-02-20") == [("QUICK", "2025-02-01", 0)]
    # with a late cut-off everything is known: AFTER_CUT paid 03-10, within 30 days of 02-15
    late = _overdue(k, "2025-06-30")
    assert ("AFTER_CUT", "2025-02-15", 0) in late and ("AFTER_CUT", "2025-02-01", 1) in late
    assert ("UNPAID", "2025-02-15", 1) in late and ("QUICK", "2025-02-15", 0) not in late


def _settled(knowledge: Knowledge, day: str) -> dict[str, str | None]:
    from salesops_analysis.risk import settlement_days

    closed = settlement_days(knowledge.ledger, day_number(day))
    ids = knowledge.ledger.invoices["invoice_id"]
    far = day_number("2100-01-01")
    return {
        i: None if c > far else str(np.datetime64(int(c), "D"))
        for i, c in zip(ids, closed, strict=True)
    }


def test_settlement_day_from_payments_and_credit_notes_by_hand():
    T = "2025-02-10"
    inv = invoices(
        [
            ("A", "2025-01-01", "2025-01-31", 100),  # 60 on 02-01, 40 on 02-10
            ("B", "2025-01-01", "2025-01-31", 50),  # 50 on 01-15 (listed after A's payments)
            ("C", "2025-01-01", "2025-01-31", 80),  # 50 on 02-03, then a credit note of 30
            ("CN_C", "2025-02-05", "2025-02-05", -30, "USD", "C"),
            ("D", "2025-01-01", "2025-01-31", 70),  # paid in full on T itself
            ("E", "2025-01-01", "2025-01-31", 20),  # credited in full on T itself
            ("CN_E", T, T, -20, "USD", "E"),
            ("F", "2025-01-01", "2025-01-31", 30),  # unpaid
            ("G", "2025-01-01", "2025-01-31", 40),  # paid 02-11: after T
        ]
    )
    pay = payments(
        [
            ("A", "2025-02-10", 40),
            ("A", "2025-02-01", 60),
            ("B", "2025-01-15", 50),
            ("C", "2025-02-03", 50),
            ("D", T, 70),
            ("G", "2025-02-11", 40),
        ]
    )
    k = Knowledge.at("2025-06-30", inv, pay)
    got = _settled(k, T)
    assert {i: got[i] for i in "ABCDEFG"} == {
        "A": "2025-02-10",
        "B": "2025-01-15",
        "C": "2025-02-05",
        "D": T,
        "E": T,
        "F": None,
        "G": None,
    }
    assert _settled(k, "2025-02-09")["D"] is None and _settled(k, "2025-02-09")["E"] is None


def test_settlement_day_from_paid_amounts_without_a_payments_export():
    T = "2025-02-10"
    inv = invoices([(i, "2025-01-01", "2025-01-31", 100) for i in ("P1", "P2", "P3", "P4")])
    inv["paid_amount"] = [100.0, 60.0, 100.0, 100.0]
    inv["paid_date"] = pd.to_datetime(["2025-02-01", "2025-02-01", T, "2025-02-20"])
    k = Knowledge.at("2025-06-30", inv, None)
    assert _settled(k, T) == {"P1": "2025-02-01", "P2": None, "P3": T, "P4": None}
    inv["status"] = ["written_off", "open", "open", "open"]  # never settled
    k = Knowledge.at("2025-06-30", inv, None)
    assert _settled(k, T)["P1"] is None
