"""Several currencies: converted with rates, refused without."""

from __future__ import annotations

import pandas as pd
import pytest

import salesops_analysis as so
from salesops_analysis.metrics import Tables, daily_mis, to_reporting_currency
from tests.metrics.conftest import invoices, payments


def _tables(fx=None):
    inv = invoices(
        [
            ("U", "2025-06-01", "2025-07-01", 100, "USD"),
            ("E", "2025-06-01", "2025-07-01", 100, "EUR"),
        ]
    )
    t = Tables(invoices=inv, payments=payments([]))
    if fx is not None:
        t.fx_rates = fx
    return t


def test_two_currencies_with_rates_from_the_rate_table():
    fx = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-06-01", "2025-06-30", "2025-07-01"]),
            "currency": ["EUR", "EUR", "EUR"],
            "rate": [1.0, 1.1, 9.9],
        }
    )
    mis = daily_mis(_tables(fx), "2025-06-30", so.Config())
    assert mis.metrics["currency"] == "USD"
    assert mis.metrics["ar_open"] == pytest.approx(100 + 110)  # the rate of the as-of date
    assert mis.aging_by_currency.loc["EUR", "total"] == 100.0  # document currency kept


def test_two_currencies_without_rates_are_refused_naming_them():
    with pytest.raises(so.CurrencyError, match=r"EUR.*fx_rates"):
        daily_mis(_tables(), "2025-06-30", so.Config())


def test_fixed_rates_from_config():
    cfg = so.Config(fx_rates={"EUR": 2.0})
    assert daily_mis(_tables(), "2025-06-30", cfg).metrics["ar_open"] == 300.0


def test_single_foreign_currency_is_reported_as_is():
    f = pd.DataFrame({"currency": ["EUR", "EUR"], "amount": [1.0, 2.0]})
    out, ccy = to_reporting_currency(f, ["amount"], as_of="2025-01-01")
    assert ccy == "EUR" and out["amount"].tolist() == [1.0, 2.0]


def test_tables_converted_to_the_reporting_currency():
    fx = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-06-01", "2025-06-01"]),
            "currency": ["USD", "EUR"],
            "rate": [1.0, 1.1],
        }
    )
    t = _tables(fx).in_reporting_currency("2025-06-30", so.Config())
    assert t.currency == "USD"
    assert t.invoices["amount"].round(2).tolist() == [100.0, 110.0]
    assert set(t.invoices["currency"]) == {"USD"}
    with pytest.raises(so.CurrencyError, match="converts to USD"):
        _tables(fx).in_reporting_currency("2025-06-30", so.Config(reporting_currency="JPY"))


def test_payments_and_paid_amounts_convert_at_the_rate_of_their_own_currency():
    """EUR invoice 100 paid 40 EUR, USD invoice 50 paid 20 USD; EUR at 1.1: open 60 EUR = 66 USD
    and 30 USD, AR 96 USD, cash today 40 EUR + 20 USD = 64 USD. The same from the invoices'
    paid amounts when there is no payments export."""
    fx = pd.DataFrame({"date": pd.to_datetime(["2025-06-30"]), "currency": ["EUR"], "rate": [1.1]})
    inv = invoices(
        [
            ("E", "2025-06-01", "2025-07-01", 100, "EUR"),
            ("U", "2025-06-01", "2025-07-01", 50, "USD"),
        ]
    )
    pay = payments([("E", "2025-06-30", 40, "EUR"), ("U", "2025-06-30", 20, "USD")])
    m = daily_mis(Tables(invoices=inv, payments=pay, fx_rates=fx), "2025-06-30", so.Config())
    assert (m.metrics["ar_open"], m.metrics["cash_collected"]) == (96.0, 64.0)
    assert m.open_items.set_index("invoice_id")["open_amount"].to_dict() == {"E": 66.0, "U": 30.0}
    no_export = inv.assign(paid_amount=[40.0, 20.0], paid_date=pd.Timestamp("2025-06-30"))
    m = daily_mis(Tables(invoices=no_export, payments=None, fx_rates=fx), "2025-06-30", so.Config())
    assert (m.metrics["ar_open"], m.metrics["cash_collected"]) == (96.0, 64.0)
