"""KPIs against hand-computed answers and a published worked example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops_analysis.metrics import (
    ar_snapshot,
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


def _two_currency_ledger():
    """A USD and EUR book seen in USD at EUR 2.0, as the daily MIS builds it: a ledger
    converted with ``in_currency``, passed with its own (converted) invoices and its payments
    export (left in the payment's currency)."""
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices(
        [
            ("U1", "2025-06-10", "2025-07-10", 100, "USD"),  # current: 100 USD
            ("E1", "2025-05-20", "2025-06-19", 50, "EUR"),  # 100 USD, 40 paid: 60 past due
            ("E0", "2025-04-01", "2025-05-01", 30, "EUR"),  # 60 USD, paid in full in May
            ("E2", "2025-06-15", "2025-07-15", 25, "EUR"),  # 50 USD, 20 paid: 30 current
        ]
    )
    pay = payments(
        [
            ("E1", "2025-06-25", 20, "EUR"),
            ("E0", "2025-05-15", 30, "EUR"),
            ("E2", "2025-06-28", 10, "EUR"),
        ]
    )
    led = Ledger(inv, pay).in_currency({"EUR": 2.0}, "USD")
    return led.invoices, led.payments, led


def test_every_kpi_reads_the_converted_ledger_it_is_given():
    """By hand, in USD at 2025-06-30: AR 100 + 60 + 30 = 190, current 100 + 30 = 130. Credit
    sales after 2025-04-01 up to the day: 100 + 100 + 50 = 250 (E0 is dated on the first day:
    out). Rebuilding a ledger from the frames would count the EUR payments as dollars."""
    inv, pay, led = _two_currency_ledger()
    day = "2025-06-30"
    assert ar_snapshot(inv, pay, day, ledger=led) == {"ar": 190.0, "current": 130.0}
    assert dso_simple(inv, pay, day, ledger=led) == pytest.approx(190 / 250 * 90)
    assert best_possible_dso(inv, pay, day, ledger=led) == pytest.approx(130 / 250 * 90)
    assert average_days_delinquent(inv, pay, day, ledger=led) == pytest.approx(21.6)
    assert pct_current(inv, pay, day, ledger=led) == pytest.approx(130 / 190 * 100)
    # CEI over 30 days: begin (end of 05-31) = E1 100; sales = U1 100 + E2 50;
    # (100 + 150 - 190) / (100 + 150 - 130)
    assert cei(inv, pay, day, ledger=led) == pytest.approx(50.0)
    # turnover: sales of the year 310 over the mean of 0 and 190
    assert ar_turnover(inv, pay, day, ledger=led) == pytest.approx(310 / 95)
    # countback: June's 150 absorbs 30 days, May's 100 absorbs the other 40: 40/100 × 31
    assert dso_countback(inv, pay, day, ledger=led) == pytest.approx(30 + 12.4)
    trend = kpi_trend(inv, pay, day, months=2, ledger=led)
    assert trend.loc[pd.Timestamp(day)].round(6).to_dict() == {
        "ar_open": 190.0,
        "pct_current": round(130 / 190 * 100, 6),
        "dso_countback": 42.4,
        "dso_simple": 68.4,
        "best_possible_dso": 46.8,
        "average_days_delinquent": 21.6,
        "cei": 50.0,
    }
    # May 31st: AR E1 100 (current until 06-19) + E0 0; sales since 03-02: 100 + 60 = 160
    assert trend.loc[pd.Timestamp("2025-05-31"), "ar_open"] == 100.0
    assert trend.loc[pd.Timestamp("2025-05-31"), "dso_simple"] == pytest.approx(100 / 160 * 90)


def test_cei_uses_the_ar_and_current_part_it_is_given_and_reads_the_rest():
    """Book of the test above: begin 100, sales 150, AR 190, current 130 (CEI 50%)."""
    inv, pay, led = _two_currency_ledger()
    day = "2025-06-30"
    # (100 + 150 - 170) / (100 + 150 - 130) = 80 / 120
    assert cei(inv, pay, day, ar=170.0, ledger=led) == pytest.approx(80 / 120 * 100)
    # (100 + 150 - 190) / (100 + 150 - 150) = 60 / 100
    assert cei(inv, pay, day, current=150.0, ledger=led) == pytest.approx(60.0)
    # both given: (250 - 170) / (250 - 150)
    assert cei(inv, pay, day, ar=170.0, current=150.0, ledger=led) == pytest.approx(80.0)


def test_countback_refuses_sales_and_days_of_different_lengths():
    with pytest.raises(ValueError):
        countback_days(100.0, [50.0, 50.0], [30])


def test_less_than_one_unit_of_sales_still_gives_a_dso():
    """Half a dollar of sales, all open and not due: DSO and best possible DSO are 90 days."""
    inv = invoices([("X", "2025-06-20", "2025-07-20", 0.5)])
    assert dso_simple(inv, None, "2025-06-30") == pytest.approx(90.0)
    assert best_possible_dso(inv, None, "2025-06-30") == pytest.approx(90.0)


def test_cei_with_a_small_denominator_is_a_number():
    """Paid in full within the period: 100% whether the period's sales are 50 cents or half
    a cent (an amount converted at a rate can be below a cent); NaN only below half a cent."""
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices([("X", "2025-06-05", "2025-06-10", 0.5)])
    pay = payments([("X", "2025-06-20", 0.5)])
    assert cei(inv, pay, "2025-06-30") == pytest.approx(100.0)
    tiny = Ledger(
        invoices([("X", "2025-06-05", "2025-06-10", 0.01, "EUR")]),
        payments([("X", "2025-06-20", 0.01, "EUR")]),
    ).in_currency({"EUR": 0.5}, "USD")
    assert cei(tiny.invoices, tiny.payments, "2025-06-30", ledger=tiny) == pytest.approx(100.0)
    tinier = Ledger(invoices([("X", "2025-06-05", "2025-06-10", 0.004)]), None)
    assert np.isnan(cei(tinier.invoices, None, "2025-06-30", ledger=tinier))


def test_default_periods_cei_30_days_countback_24_months_trend_12_months():
    # a payment on 05-31, the day before a 30-day period ending 06-30, is before it:
    # begin 60, no sales, AR 60, none current: (60 - 60) / 60 = 0% (31 days would say 40%)
    inv = invoices([("X", "2025-05-01", "2025-05-20", 100)])
    pay = payments([("X", "2025-05-31", 40)])
    assert cei(inv, pay, "2025-06-30") == pytest.approx(0.0)
    trend = kpi_trend(inv, pay, "2025-06-30")
    assert len(trend) == 12 and trend["cei"].iloc[-1] == pytest.approx(0.0)
    assert kpi_trend(inv, pay, "2025-06-30", cei_period_days=31)["cei"].iloc[-1] == (
        pytest.approx(40.0)
    )
    # an invoice of January 2023 still open: 24 months without sales count in full,
    # 2023-07-01 to 2025-06-30 = 731 days (a 25th month would add June 2023's 30)
    old = invoices([("OLD", "2023-01-15", "2023-02-14", 100)])
    assert dso_countback(old, None, "2025-06-30") == pytest.approx(731.0)
    # two months asked for: June to date (30) and May (31)
    assert dso_countback(old, None, "2025-06-30", months=2) == pytest.approx(61.0)


def test_monthly_credit_sales_from_a_ledger_has_the_months_asked_for():
    from salesops_analysis.metrics import monthly_credit_sales
    from salesops_analysis.metrics.receivables import Ledger

    inv = invoices([("A", "2025-06-02", "2025-07-02", 10), ("B", "2025-04-30", "2025-05-30", 7)])
    got = monthly_credit_sales(inv, "2025-06-30", 3, ledger=Ledger(inv, None))
    assert got["sales"].tolist() == [10.0, 0.0, 7.0]
    assert got["days"].tolist() == [30, 31, 30]
    assert [str(m) for m in got["month"]] == ["2025-06", "2025-05", "2025-04"]
