"""Receivables KPIs: DSO (countback and simple), best possible DSO, ADD, CEI, turnover.

Every function takes the invoices (and payments, when exported) in one currency and an explicit
``as_of``; convert first with :func:`~salesops_analysis.metrics.fx.to_reporting_currency`.
"Credit sales" of a period are the amounts of invoices (net of credit notes) dated in it:
``start < invoice_date <= end``.

Formulas
--------
* **DSO, simple**: ``AR / credit sales of the last P days × P`` (P = ``period_days``).
* **DSO, countback** (exhaust method): walk back from the current month (month to date), taking
  off each month's credit sales from the AR balance; each month fully absorbed adds its days, and
  the month that absorbs the rest adds ``rest / that month's sales × its days``.
* **Best possible DSO** (Credit Research Foundation): ``current AR / credit sales × P``, the DSO
  if nothing were past due.
* **Average days delinquent**: ``DSO (simple) − best possible DSO`` over the same period.
* **CEI** (collection effectiveness index, period of P days ending ``as_of``):
  ``(AR at start + credit sales − AR at end) / (AR at start + credit sales − current AR at end)
  × 100``. "Current" means not yet past due (``days_past_due <= 0``).
* **AR turnover**: ``credit sales of the last 365 days / mean(AR a year ago, AR now)``.
* **% current**: ``current AR / AR × 100``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .days import as_timestamp
from .receivables import Ledger

__all__ = [
    "ar_snapshot",
    "ar_turnover",
    "average_days_delinquent",
    "best_possible_dso",
    "cei",
    "countback_days",
    "credit_sales",
    "dso_countback",
    "dso_simple",
    "kpi_trend",
    "monthly_credit_sales",
    "pct_current",
]


def _ledger(invoices, payments, ledger: Ledger | None) -> Ledger:
    return ledger if ledger is not None else Ledger(invoices, payments)


def credit_sales(invoices: pd.DataFrame, start, end) -> float:
    """Return the invoiced amount (net of credit notes) dated after ``start`` up to ``end``."""
    d = invoices["invoice_date"]
    return float(invoices.loc[(d > as_timestamp(start)) & (d <= as_timestamp(end)), "amount"].sum())


def ar_snapshot(
    invoices: pd.DataFrame, payments: pd.DataFrame | None, as_of, *, ledger: Ledger | None = None
) -> dict:
    """Return ``{"ar": open balance, "current": not-yet-due part}`` at the end of ``as_of``."""
    return _ledger(invoices, payments, ledger).snapshot(as_of)


def countback_days(
    ar: float, sales_recent_first: Sequence[float], days_recent_first: Sequence[float]
) -> float:
    """Return DSO by the countback method from period sales, most recent period first.

    Worked example (Benji Pays, "Mastering DSO calculation: the count-back method explained";
    also Mesha, "The 2 DSO calculation formulas"): AR 212,000 and monthly credit sales of
    100,000, 80,000 and 70,000 (most recent first, 30-day months) give 30 + 30 + 32/70 × 30
    = 73.71 days.

    >>> round(countback_days(212_000, [100_000, 80_000, 70_000], [30, 30, 30]), 2)
    73.71

    When the AR exceeds all the sales given, every period counts in full (a lower bound).
    """
    remaining = float(ar)
    total = 0.0
    for sales, days in zip(sales_recent_first, days_recent_first, strict=True):
        if remaining <= 0:
            break
        if sales <= 0:
            total += days  # a month without sales still passed
            continue
        if remaining >= sales:
            total += days
            remaining -= sales
        else:
            total += remaining / sales * days
            remaining = 0.0
    return total


def monthly_credit_sales(
    invoices: pd.DataFrame, as_of, months: int = 24, *, ledger: Ledger | None = None
) -> pd.DataFrame:
    """Return credit sales per calendar month back from ``as_of``, most recent first.

    The first row is the current month to date (its ``days`` are the days elapsed).
    """
    as_of = as_timestamp(as_of)
    period = as_of.to_period("M")
    if ledger is not None:
        sales = ledger.monthly_sales(as_of, months)
        return pd.DataFrame(
            {
                "month": [period - k for k in range(months)],
                "sales": sales.astype(float),
                "days": [
                    as_of.day if k == 0 else (period - k).days_in_month for k in range(months)
                ],
            }
        )
    first = (period - (months - 1)).start_time
    d = invoices["invoice_date"]
    inv = invoices.loc[(d <= as_of) & (d >= first)]
    by_month = inv["amount"].groupby(inv["invoice_date"].dt.to_period("M")).sum()
    rows = []
    for k in range(months):
        p = period - k
        days = as_of.day if k == 0 else p.days_in_month
        rows.append({"month": p, "sales": float(by_month.get(p, 0.0)), "days": days})
    return pd.DataFrame(rows)


def dso_countback(
    invoices: pd.DataFrame,
    payments: pd.DataFrame | None,
    as_of,
    *,
    months: int = 24,
    ar: float | None = None,
    ledger: Ledger | None = None,
) -> float:
    """Return DSO by the countback method at ``as_of`` (see :func:`countback_days`)."""
    if ar is None:
        ar = ar_snapshot(invoices, payments, as_of, ledger=ledger)["ar"]
    monthly = monthly_credit_sales(invoices, as_of, months, ledger=ledger)
    return countback_days(ar, monthly["sales"], monthly["days"])


def dso_simple(
    invoices: pd.DataFrame,
    payments: pd.DataFrame | None,
    as_of,
    *,
    period_days: int = 90,
    ar: float | None = None,
    ledger: Ledger | None = None,
) -> float:
    """Return ``AR / credit sales of the last period_days × period_days`` (NaN without sales)."""
    as_of = as_timestamp(as_of)
    if ar is None:
        ar = ar_snapshot(invoices, payments, as_of, ledger=ledger)["ar"]
    start = as_of - pd.Timedelta(days=period_days)
    sales = ledger.credit_sales(start, as_of) if ledger else credit_sales(invoices, start, as_of)
    return ar / sales * period_days if sales > 0 else float("nan")


def best_possible_dso(
    invoices: pd.DataFrame,
    payments: pd.DataFrame | None,
    as_of,
    *,
    period_days: int = 90,
    current: float | None = None,
    ledger: Ledger | None = None,
) -> float:
    """Return ``current AR / credit sales of the last period_days × period_days``."""
    as_of = as_timestamp(as_of)
    if current is None:
        current = ar_snapshot(invoices, payments, as_of, ledger=ledger)["current"]
    start = as_of - pd.Timedelta(days=period_days)
    sales = ledger.credit_sales(start, as_of) if ledger else credit_sales(invoices, start, as_of)
    return current / sales * period_days if sales > 0 else float("nan")


def average_days_delinquent(
    invoices: pd.DataFrame,
    payments: pd.DataFrame | None,
    as_of,
    *,
    period_days: int = 90,
    ledger: Ledger | None = None,
) -> float:
    """Return DSO (simple) − best possible DSO over the same period."""
    led = _ledger(invoices, payments, ledger)
    snap = led.snapshot(as_of)
    simple = dso_simple(
        invoices, payments, as_of, period_days=period_days, ar=snap["ar"], ledger=led
    )
    best = best_possible_dso(
        invoices, payments, as_of, period_days=period_days, current=snap["current"], ledger=led
    )
    return simple - best


def cei(
    invoices: pd.DataFrame,
    payments: pd.DataFrame | None,
    as_of,
    *,
    period_days: int = 30,
    ar: float | None = None,
    current: float | None = None,
    ledger: Ledger | None = None,
) -> float:
    """Return the collection effectiveness index (%) over ``period_days`` ending ``as_of``.

    ``ar`` and ``current`` are the AR and its current part at the end of ``as_of`` when the
    caller has them already (each is read from the ledger otherwise). NaN when the
    denominator is below half a cent.
    """
    led = _ledger(invoices, payments, ledger)
    as_of = as_timestamp(as_of)
    start = as_of - pd.Timedelta(days=period_days)
    begin = led.snapshot(start)["ar"]
    if ar is None or current is None:
        end = led.snapshot(as_of)
        ar = end["ar"] if ar is None else ar
        current = end["current"] if current is None else current
    sales = led.credit_sales(start, as_of)
    denominator = begin + sales - current
    if abs(denominator) < 0.005:
        return float("nan")
    return (begin + sales - ar) / denominator * 100.0


def ar_turnover(
    invoices: pd.DataFrame, payments: pd.DataFrame | None, as_of, *, ledger: Ledger | None = None
) -> float:
    """Return credit sales of the last 365 days over the mean of AR a year ago and now."""
    led = _ledger(invoices, payments, ledger)
    as_of = as_timestamp(as_of)
    year_ago = as_of - pd.Timedelta(days=365)
    mean_ar = (led.snapshot(year_ago)["ar"] + led.snapshot(as_of)["ar"]) / 2
    sales = led.credit_sales(year_ago, as_of)
    return sales / mean_ar if mean_ar > 0 else float("nan")


def pct_current(
    invoices: pd.DataFrame, payments: pd.DataFrame | None, as_of, *, ledger: Ledger | None = None
) -> float:
    """Return the share (%) of AR not yet past due."""
    snap = ar_snapshot(invoices, payments, as_of, ledger=ledger)
    return snap["current"] / snap["ar"] * 100.0 if snap["ar"] else float("nan")


def kpi_trend(
    invoices: pd.DataFrame,
    payments: pd.DataFrame | None,
    as_of,
    *,
    months: int = 12,
    cei_period_days: int = 30,
    ledger: Ledger | None = None,
) -> pd.DataFrame:
    """Return AR, % current, DSO (countback, simple), best possible DSO, ADD and CEI at each of
    the last ``months`` month ends (the last row is ``as_of`` itself)."""
    led = _ledger(invoices, payments, ledger)
    as_of = as_timestamp(as_of)
    ends = [
        (as_of.to_period("M") - k).to_timestamp(how="end").normalize()
        for k in range(months - 1, 0, -1)
    ] + [as_of]
    rows = []
    for day in ends:  # one row per month: a dozen vectorized snapshots
        snap = led.snapshot(day)
        simple = dso_simple(invoices, payments, day, ar=snap["ar"], ledger=led)
        best = best_possible_dso(invoices, payments, day, current=snap["current"], ledger=led)
        rows.append(
            {
                "date": day,
                "ar_open": snap["ar"],
                "pct_current": snap["current"] / snap["ar"] * 100 if snap["ar"] else np.nan,
                "dso_countback": dso_countback(invoices, payments, day, ar=snap["ar"], ledger=led),
                "dso_simple": simple,
                "best_possible_dso": best,
                "average_days_delinquent": simple - best,
                "cei": cei(invoices, payments, day, period_days=cei_period_days, ledger=led),
            }
        )
    return pd.DataFrame(rows).set_index("date")
