"""Dates as day numbers: the one representation every fast path in the package compares.

A day number is the count of days since 1970-01-01 (int64). A missing date is :data:`NO_DAY`,
a day after every as-of date, so "dated on or before the as-of day" is one comparison.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["NO_DAY", "as_timestamp", "day_number", "day_numbers"]

#: "No date": never on or before any as-of day.
NO_DAY = np.iinfo(np.int64).max


def as_timestamp(day) -> pd.Timestamp:
    """Return ``day`` as a midnight :class:`pandas.Timestamp`.

    Examples
    --------
    >>> as_timestamp("2025-06-30 17:45")
    Timestamp('2025-06-30 00:00:00')
    """
    return pd.Timestamp(day).normalize()


def day_numbers(values: pd.Series) -> np.ndarray:
    """Return dates as int64 days since 1970 (a missing date becomes :data:`NO_DAY`).

    Examples
    --------
    >>> day_numbers(pd.Series(pd.to_datetime(["1970-01-02", None]))).tolist() == [1, NO_DAY]
    True
    """
    d = values.to_numpy(dtype="datetime64[us]").astype("datetime64[D]")
    out = d.astype(np.int64)
    out[np.isnat(d)] = NO_DAY
    return out


def day_number(day) -> int:
    """Return one date as its day number.

    Examples
    --------
    >>> day_number("1970-01-11")
    10
    """
    return int(as_timestamp(day).to_datetime64().astype("datetime64[D]").astype(np.int64))
