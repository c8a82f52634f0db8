"""Every feature equals its plain statement: one invoice and one day at a time, in Python.

The reference below reads the rules as a finance reader would state them (which invoices of
the customer count, which activities, dated how against the scoring day s); the vectorized
:func:`features_at` must give the same numbers on small random books, for scoring on one day,
on issue days and on a day per invoice.
"""

from __future__ import annotations

import calendar
import math

import numpy as np
import pandas as pd
import pytest

from salesops_analysis.metrics.days import NO_DAY
from salesops_analysis.risk import Knowledge, features_at
from salesops_analysis.risk.features import EVIDENCE_COLUMNS, NUMERIC_FEATURES, RECENT
from salesops_analysis.risk.knowledge import CONTACT_TYPES
from tests.risk.test_features import T, _random_book, _snapshots


def day_number(value) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


def _date(day: int):
    return np.datetime64(int(day), "D").astype(object)


def _month_flags(day: int) -> tuple[float, float]:
    d = _date(day)
    days_left = calendar.monthrange(d.year, d.month)[1] - d.day + 1
    return float(days_left <= 3), float(d.month % 3 == 0 and days_left <= 5)


def plain_features(k: Knowledge, act, r: int, s: int) -> dict[str, float]:
    """The features of invoice row ``r`` at day ``s``, stated plainly."""
    led, grace, known = k.ledger, k.grace_days, k.closed  # closed: settled by T, else NO_DAY
    key = led.invoices["customer_id"].str.strip().str.lower().to_numpy()
    theirs = [  # the customer's invoices issued by T (credit notes are no invoices)
        j
        for j in range(len(key))
        if key[j] == key[r] and led.amount[j] > 0 and led.issued[j] <= k.T
    ]
    # history: the customer's invoices settled strictly before s, in settlement order
    settled = sorted((j for j in theirs if known[j] < s), key=lambda j: (known[j], j))
    late = [known[j] > led.due[j] + grace for j in settled]
    days_late = [max(0, known[j] - led.due[j]) for j in settled]
    recent = slice(max(len(settled) - RECENT, 0), len(settled))
    n, rn = len(settled), len(settled[recent])
    share = (sum(late) + 0.3) / (n + 1)
    recent_share = (sum(late[recent]) + 0.3) / (rn + 1)
    # amount: against the customer's invoices issued strictly before s
    prior = [math.log(led.amount[j]) for j in theirs if led.issued[j] < s]
    own_log = math.log(led.amount[r])
    usual_log = sum(prior) / len(prior) if prior else own_log
    # exposure: the customer's other invoices open / overdue at the end of s
    still_open = [j for j in theirs if j != r and led.issued[j] <= s < known[j]]
    overdue = [j for j in theirs if j != r and led.due[j] + grace < s < known[j]]
    overdue_amount = round(sum(led.amount[j] for j in overdue), 2)
    # activities on this invoice recorded on or before s
    invoice_id = led.invoices["invoice_id"].iloc[r].strip().lower()
    mine = act.loc[act["invoice_id"].str.strip().str.lower() == invoice_id]
    mine = mine.loc[mine["activity_date"] <= pd.Timestamp(_date(min(s, k.T)))]
    promises = mine.loc[mine["outcome"] == "promise_to_pay"]
    open_at_s = led.issued[r] <= s < known[r]
    broken = (
        promises.loc[promises["promised_date"] < pd.Timestamp(_date(s))]
        if open_at_s
        else promises[:0]
    )
    broken_on = [  # known broken from the day after the promised day, once recorded
        (max(day_number(p) + 1, day_number(a)), i, day_number(p))
        for i, (a, p) in enumerate(
            zip(broken["activity_date"], broken["promised_date"], strict=True)
        )
    ]
    disputes = mine.loc[mine["outcome"] == "dispute", "activity_date"]
    month_end, quarter_end = _month_flags(led.issued[r])
    return {
        "hist_n_log": math.log1p(n),
        "new_customer": float(n == 0),
        "hist_late_share": share,
        "hist_recent_late_share": recent_share,
        "hist_trend": recent_share - share,
        "hist_mean_days_late": sum(days_late) / n if n else 0.0,
        "hist_recent_days_late": sum(days_late[recent]) / rn if rn else 0.0,
        "amount_log": own_log,
        "amount_ratio_log": own_log - usual_log,
        "terms_days": float(led.due[r] - led.issued[r]),
        "month_end": month_end,
        "quarter_end": quarter_end,
        "cust_open_other_n": float(len(still_open)),
        "cust_overdue_other_n": float(len(overdue)),
        "cust_overdue_amount_ratio": overdue_amount / math.exp(usual_log),
        "dispute_known": float(len(disputes) > 0),
        "contacts": float(mine["type"].isin(CONTACT_TYPES).sum()),
        "promises": float(len(promises)),
        "broken_promises": float(len(broken)),
        "days_past_due": float(s - led.due[r]),
        "hist_n": float(n),
        "hist_late_n": float(sum(late)),
        "hist_recent_n": float(rn),
        "hist_recent_late_n": float(sum(late[recent])),
        "usual_amount": math.exp(usual_log),
        "cust_overdue_other_amount": overdue_amount,
        "last_broken_promise_day": float(max(broken_on)[2]) if broken_on else -1.0,
        "dispute_day": day_number(disputes.min()) if len(disputes) else None,
    }


@pytest.mark.parametrize("seed", range(6))
def test_every_feature_is_its_plain_statement(seed):
    inv, pay, act = _random_book(seed)
    k = Knowledge.at(T, inv, pay, act, grace_days=2, categorical=[])
    for rows, snap in _snapshots(k, seed):
        got = features_at(k, rows, snap)
        assert set(got.columns) == {*NUMERIC_FEATURES, *EVIDENCE_COLUMNS}
        for i, (r, s) in enumerate(zip(rows, snap, strict=True)):
            want = plain_features(k, act, int(r), int(s))
            for name, value in want.items():
                if name == "dispute_day" and value is None:
                    assert got[name].iloc[i] == NO_DAY, (seed, r, s)
                    continue
                assert got[name].iloc[i] == pytest.approx(value, rel=1e-9, abs=1e-9), (
                    seed,
                    r,
                    s,
                    name,
                )
