"""Conversion of document-currency amounts to the reporting currency.

Rates are "amount × rate = reporting amount". A rate table (canonical ``fx_rates``: date,
currency, rate) gives the rate of each day; the rate used for a date is the latest one on or
before it. Fixed rates from the config (``fx_rates: {EUR: 1.08}``) fill currencies the table
lacks. Amounts already in the reporting currency use 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from .._errors import CurrencyError

__all__ = ["check_rates", "rates_on", "to_reporting_currency"]


def rates_on(
    day, fx_rates: pd.DataFrame | None, fixed: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Return ``{currency: rate}`` in force at the end of ``day``."""
    day = pd.Timestamp(day).normalize()
    rates = dict(fixed or {})
    if fx_rates is not None and len(fx_rates):
        known = fx_rates.loc[fx_rates["date"] <= day].sort_values("date")
        rates.update(known.groupby("currency")["rate"].last().to_dict())
    return rates


def check_rates(currencies, rates: Mapping[str, float], as_of, reporting_currency: str) -> None:
    """Raise :class:`CurrencyError` naming the currencies in ``currencies`` without a rate."""
    missing = sorted(c for c in set(currencies) if c not in rates and c != reporting_currency)
    if missing:
        raise CurrencyError(
            f"amounts in {', '.join(missing)} have no FX rate on or before "
            f"{pd.Timestamp(as_of).date()} to convert them to {reporting_currency}: ingest an "
            f"fx_rates export or set fx_rates: {{{', '.join(f'{c}: <rate>' for c in missing)}}}"
            " in salesops.yml"
        )


def to_reporting_currency(
    frame: pd.DataFrame,
    amount_columns: Sequence[str],
    *,
    as_of,
    reporting_currency: str = "USD",
    fx_rates: pd.DataFrame | None = None,
    fixed_rates: Mapping[str, float] | None = None,
    currency_column: str = "currency",
) -> tuple[pd.DataFrame, str]:
    """Return ``frame`` with amounts converted at the rates of ``as_of``, and the currency used.

    When every row is in one currency that has no rate, amounts stay as they are and that
    currency is returned (nothing needs adding up across currencies).

    Raises
    ------
    CurrencyError
        Rows in several currencies and some of them have no rate; the message names them and
        the config key to set.

    Examples
    --------
    >>> f = pd.DataFrame({"currency": ["USD", "EUR"], "amount": [10.0, 10.0]})
    >>> out, ccy = to_reporting_currency(f, ["amount"], as_of="2025-01-01",
    ...                                  fixed_rates={"EUR": 1.1})
    >>> out["amount"].round(2).tolist(), ccy
    ([10.0, 11.0], 'USD')
    """
    currencies = set(frame[currency_column].dropna().unique())
    rates = {**rates_on(as_of, fx_rates, fixed_rates), reporting_currency: 1.0}
    if len(currencies) == 1 and next(iter(currencies)) not in rates:
        return frame, next(iter(currencies))
    check_rates(currencies, rates, as_of, reporting_currency)
    out = frame.copy()
    factor = out[currency_column].map(rates).astype("float64").fillna(1.0)
    for col in amount_columns:
        out[col] = out[col].astype("float64") * factor
    out[currency_column] = reporting_currency
    return out, reporting_currency
