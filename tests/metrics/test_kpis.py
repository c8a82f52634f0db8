"""KPIs against hand-computed answers and a published worked example."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops_analysis.metrics import (
    ar_turnover,
    average_days_delinquent,
    best_possible_dso,
    cei,
    countback_days,
    dso_countback,
    dso_simple,
    kpi_trend,
    pct_current,
)
from tests.metrics.conftest import invoices, payments


def test_countback_worked_example_from_public_source():
    # Benji Pays / Mesha worked example: 212,000 AR, sales 100k, 80k, 70k -> 73.7 days
    assert countback_days(212_000, [100_000, 80_000, 70_000], [30, 30, 30]) == pytest.approx(
        60 + 32_000 / 70_000 * 30
    )


def test_countback_from_invoices_uses_calendar_months():
    # April sales 70, May 80, June (to the 30th) 100; AR 212 -> 30 + 31 + 32/70*30
    inv = invoices(
        [
            ("A", "2025-04-15", "2025-12-31", 70),
            ("M", "2025-05-15", "2025-12-31", 80),
            ("J", "2025-06-15", "2025-12-31", 100),
        ]
    )
    pay = payments([("A", "2025-06-01", 38)])  # leaves 212 open
    assert dso_countback(inv, pay, "2025-06-30") == pytest.approx(30 + 31 + 32 / 70 * 30)


def test_simple_dso_best_possible_and_add():
    # 90-day sales 900; AR 300 of which current 200 -> DSO 30, BPDSO 20, ADD 10
    inv = invoices(
        [
            ("S", "2025-04-15", "2025-05-15", 600),
            ("P", "2025-06-01", "2025-06-10", 100),
            ("C", "2025-06-20", "2025-07-20", 200),
        ]
    )
    pay = payments([("S", "2025-05-10", 600)])
    assert dso_simple(inv, pay, "2025-06-30") == pytest.approx(300 / 900 * 90)
    assert best_possible_dso(inv, pay, "2025-06-30") == pytest.approx(200 / 900 * 90)
    assert average_days_delinquent(inv, pay, "2025-06-30") == pytest.approx(10.0)
    assert pct_current(inv, pay, "2025-06-30") == pytest.approx(200 / 300 * 100)


def test_cei_hand_computed():
    # begin AR (05-31) 100; June sales 50; end AR 30 + 30 + 20 = 80, of which current 20
    # (NEW1 is past due) -> CEI = (100 + 50 - 80) / (100 + 50 - 20) = 70 / 130
    inv = invoices(
        [
            ("OLD", "2025-05-01", "2025-05-20", 100),
            ("NEW1", "2025-06-10", "2025-06-20", 30),
            ("NEW2", "2025-06-25", "2025-07-25", 20),
        ]
    )
    pay = payments([("OLD", "2025-06-15", 70)])
    assert cei(inv, pay, "2025-06-30", period_days=30) == pytest.approx(70 / 130 * 100)
    # the daily MIS passes the AR and current part it already has: the same index
    assert cei(inv, pay, "2025-06-30", ar=80.0, current=20.0) == pytest.approx(70 / 130 * 100)
    # ... and they are what the index reads: AR 90 instead of 80 -> (150 - 90) / 130
    assert cei(inv, pay, "2025-06-30", ar=90.0, current=20.0) == pytest.approx(60 / 130 * 100)


def test_ar_turnover():
    inv = invoices([("A", "2024-06-01", "2024-07-01", 100), ("B", "2025-03-01", "2025-04-01", 400)])
    pay = payments([("A", "2024-07-01", 100)])
    # sales in the year: 400 (A is older than 365 days); AR a year ago 100, now 400 -> mean 250
    assert ar_turnover(inv, pay, "2025-06-30") == pytest.approx(400 / 250)


def test_kpis_without_sales_are_nan_not_errors():
    inv = invoices([("A", "2020-01-01", "2020-02-01", 10)])
    assert pd.isna(dso_simple(inv, payments([]), "2025-06-30"))
    assert dso_countback(inv.iloc[:0], payments([]), "2025-06-30") == 0.0


def test_trend_has_one_row_per_month_end():
    inv = invoices([("A", "2025-01-15", "2025-02-14", 100)])
    trend = kpi_trend(inv, payments([("A", "2025-03-01", 100)]), "2025-06-30", months=6)
    assert len(trend) == 6 and trend.index[-1] == pd.Timestamp("2025-06-30")
    assert trend.loc["2025-01-31", "ar_open"] == 100.0
    assert trend.loc["2025-03-31", "ar_open"] == 0.0


def _book_with_an_invoice_due_today():
    """As of 2025-06-30: TODAY is due that very day (current: not yet past due), PAST was due
    the day before (past due by one day, 50 of 100 paid), FUTURE is due in July, PAID was
    settled in May.

    AR 300 + 50 + 200 = 550, current AR 300 + 200 = 500; credit sales of the 90 days
    (04-01, 06-30] 400 + 100 + 300 + 200 = 1000; AR at 05-31 (the CEI start) 100 (PAST, just
    issued); credit sales of the 30 days (05-31, 06-30] 300 + 200 = 500.
    """
    inv = invoices(
        [
            ("TODAY", "2025-06-01", "2025-06-30", 300),
            ("PAST", "2025-05-01", "2025-06-29", 100),
            ("FUTURE", "2025-06-15", "2025-07-15", 200),
            ("PAID", "2025-04-15", "2025-05-15", 400),
        ]
    )
    pay = payments([("PAID", "2025-05-10", 400), ("PAST", "2025-06-20", 50)])
    return inv, pay


def test_an_invoice_due_on_the_as_of_date_is_current_in_every_kpi():
    from salesops_analysis.metrics import ar_snapshot
    from salesops_analysis.metrics.receivables import Ledger

    inv, pay = _book_with_an_invoice_due_today()
    day = "2025-06-30"
    assert ar_snapshot(inv, pay, day) == {"ar": 550.0, "current": 500.0}
    assert pct_current(inv, pay, day) == pytest.approx(500 / 550 * 100)
    assert dso_simple(inv, pay, day) == pytest.approx(550 / 1000 * 90)
    assert best_possible_dso(inv, pay, day) == pytest.approx(500 / 1000 * 90)
    assert average_days_delinquent(inv, pay, day) == pytest.approx((550 - 500) / 1000 * 90)
    # (100 + 500 - 550) / (100 + 500 - 500)
    assert cei(inv, pay, day, period_days=30) == pytest.approx(50 / 100 * 100)
    # the shared ledger (the daily report's path) answers the same
    led = Ledger(inv, pay)
    assert best_possible_dso(inv, pay, day, ledger=led) == pytest.approx(45.0)
    assert cei(inv, pay, day, period_days=30, ledger=led) == pytest.approx(50.0)
    row = kpi_trend(inv, pay, day, months=2, ledger=led).loc[day]
    assert (row["ar_open"], row["pct_current"]) == (550.0, pytest.approx(500 / 550 * 100))
    assert row["best_possible_dso"] == pytest.approx(45.0)
    assert row["average_days_delinquent"] == pytest.approx(4.5)
    # one day later TODAY is past due: only FUTURE is current
    assert led.snapshot("2025-07-01") == {"ar": 550.0, "current": 200.0}


def test_daily_mis_counts_an_invoice_due_that_day_as_current():
    import salesops_analysis as so
    from salesops_analysis.metrics import Tables, daily_mis

    inv, pay = _book_with_an_invoice_due_today()
    m = daily_mis(Tables(invoices=inv, payments=pay), "2025-06-30", so.Config()).metrics
    assert (m["ar_open"], m["ar_current"], m["ar_1_30"]) == (550.0, 500.0, 50.0)
    assert m["pct_current"] == pytest.approx(90.91)
    assert (m["best_possible_dso"], m["average_days_delinquent"]) == (45.0, 4.5)
    assert m["cei"] == 50.0


def test_kpis_without_open_receivables_are_nan_not_division_errors():
    inv = invoices([("A", "2025-01-01", "2025-01-31", 100)])
    pay = payments([("A", "2025-01-20", 100)])  # nothing open a year ago or now
    assert pd.isna(pct_current(inv, pay, "2025-06-30"))
    assert pd.isna(ar_turnover(inv, pay, "2025-06-30"))


def test_turnover_year_is_365_days_and_a_small_balance_still_counts():
    # OLD is dated exactly 365 days before the as-of date: outside the year (its first day is
    # excluded); NEW inside it: sales 300. AR a year ago 0 (OLD was paid the day it was
    # issued), now 1 (NEW paid 299 of 300): mean AR 0.5, small but not zero
    inv = invoices(
        [("OLD", "2024-06-30", "2024-07-30", 1000), ("NEW", "2024-07-01", "2024-07-31", 300)]
    )
    pay = payments([("OLD", "2024-06-30", 1000), ("NEW", "2024-08-01", 299)])
    assert ar_turnover(inv, pay, "2025-06-30") == pytest.approx(300 / 0.5)


def test_average_days_delinquent_over_another_period():
    # 30-day sales (05-31, 06-30]: P 100 + C 200 = 300; AR 300, current 200
    # -> DSO 300/300*30 = 30, best 200/300*30 = 20, ADD 10 (over 90 days it would be 10 * 3)
    inv = invoices([("P", "2025-06-01", "2025-06-10", 100), ("C", "2025-06-20", "2025-07-20", 200)])
    pay = payments([])
    assert average_days_delinquent(inv, pay, "2025-06-30", period_days=30) == pytest.approx(10.0)
    assert average_days_delinquent(inv, pay, "2025-06-30") == pytest.approx(30.0)
    # a shared ledger gives the same answer (its sales, not a second pass over the invoices)
    from salesops_analysis.metrics.receivables import Ledger

    led = Ledger(inv, pay)
    assert average_days_delinquent(inv, pay, "2025-06-30", ledger=led) == pytest.approx(30.0)


def test_the_shared_ledger_gives_the_same_countback_and_trend():
    """The daily report passes one ledger to every KPI: its month sums must give the worked
    countback answer too (April 70, May 80, June 100; AR 212)."""
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices(
        [
            ("A", "2025-04-15", "2025-12-31", 70),
            ("M", "2025-05-15", "2025-12-31", 80),
            ("J", "2025-06-15", "2025-12-31", 100),
        ]
    )
    pay = payments([("A", "2025-06-01", 38)])
    led = Ledger(inv, pay)
    expected = 30 + 31 + 32 / 70 * 30
    assert dso_countback(inv, pay, "2025-06-30", ledger=led) == pytest.approx(expected)
    trend = kpi_trend(inv, pay, "2025-06-30", months=3, ledger=led)
    assert trend.index.tolist() == list(pd.to_datetime(["2025-04-30", "2025-05-31", "2025-06-30"]))
    assert trend.loc["2025-06-30", "dso_countback"] == pytest.approx(expected)
    # at the end of May: AR 150 against May 80 and April 70 -> 31 + 30 days
    assert trend.loc["2025-05-31", "dso_countback"] == pytest.approx(61.0)
    assert trend.columns.tolist() == [
        "ar_open",
        "pct_current",
        "dso_countback",
        "dso_simple",
        "best_possible_dso",
        "average_days_delinquent",
        "cei",
    ]
    # CEI over the default 30 days to 06-30: begin AR (05-31) 150, sales 100, end AR 212 all
    # current -> (150 + 100 - 212) / (150 + 100 - 212) = 100 %
    assert trend.loc["2025-06-30", "cei"] == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("ar", "sales", "days", "expected"),
    [
        (0.5, [100], [30], 0.5 / 100 * 30),  # a small balance still counts
        (51, [1, 100], [30, 31], 30 + 50 / 100 * 31),  # a month of 1.00 absorbs 1.00
        (150, [100, 0, 100], [30, 31, 30], 30 + 31 + 50 / 100 * 30),  # an empty month passes
        (150, [100, -20, 100], [30, 31, 30], 30 + 31 + 50 / 100 * 30),  # so does a net credit
        (100, [100, 50], [30, 31], 30.0),  # exactly absorbed: stops there
        (0, [100], [30], 0.0),
        (10, [], [], 0.0),
    ],
)
def test_countback_days_by_hand(ar, sales, days, expected):
    assert countback_days(ar, sales, days) == pytest.approx(expected)


def test_credit_sales_exclude_the_first_day_and_include_the_last():
    from salesops_analysis.metrics import credit_sales

    inv = invoices(
        [
            ("START", "2025-06-01", "2025-07-01", 1),
            ("IN", "2025-06-15", "2025-07-15", 10),
            ("END", "2025-06-30", "2025-07-30", 100),
            ("CN", "2025-06-20", "2025-06-20", -5),
        ]
    )
    assert credit_sales(inv, "2025-06-01", "2025-06-30") == 105.0


def test_monthly_credit_sales_by_hand_with_and_without_a_ledger():
    from salesops_analysis.metrics import monthly_credit_sales
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices(
        [
            ("FIRST", "2023-07-01", "2023-08-01", 1),  # first day of the 24th month back
            ("BEFORE", "2023-06-30", "2023-07-30", 1000),  # a day too early
            ("MAY", "2025-05-31", "2025-06-30", 20),
            ("TODAY", "2025-06-17", "2025-07-17", 300),
            ("LATER", "2025-06-18", "2025-07-18", 4000),  # after the as-of date
        ]
    )
    for ledger in (None, Ledger(inv, payments([]))):
        m = monthly_credit_sales(inv, "2025-06-17", ledger=ledger)
        assert len(m) == 24
        assert m["month"].iloc[0] == pd.Period("2025-06", "M")
        assert m["month"].iloc[-1] == pd.Period("2023-07", "M")
        assert m["sales"].iloc[:2].tolist() == [300.0, 20.0]
        assert m["sales"].iloc[-1] == 1.0 and m["sales"].sum() == 321.0
        assert m["days"].iloc[:3].tolist() == [17, 31, 30]  # month to date, May, April
