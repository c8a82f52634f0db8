"""The shared id and day helpers (``metrics/ids.py``, ``metrics/days.py``) on values worked out
by hand: ids compare ignoring case and surrounding spaces, a missing id matches nothing, a
missing date is a day after every as-of day."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from salesops_analysis.metrics import ids
from salesops_analysis.metrics.days import NO_DAY, as_timestamp, day_number, day_numbers
from salesops_analysis.metrics.ids import id_keys, isin_ids, row_positions


def _s(values) -> pd.Series:
    return pd.Series(values, dtype="str")


def test_day_numbers_count_days_since_1970_and_a_missing_date_is_no_day():
    dates = pd.Series(
        pd.to_datetime(["1970-01-01", "1970-02-01 13:30", None, "1969-12-31"], format="ISO8601")
    )
    got = day_numbers(dates)
    assert got.dtype == np.int64
    assert got.tolist() == [0, 31, NO_DAY, -1]
    assert NO_DAY == 2**63 - 1  # after every day: "on or before T" is one comparison
    assert day_numbers(pd.Series(pd.to_datetime([]))).tolist() == []


def test_day_number_drops_the_time_of_day():
    assert day_number("1970-01-11 23:59") == 10
    assert day_number(pd.Timestamp("2025-06-30")) == 20269  # 55 years and 14 leap days
    assert isinstance(day_number("2025-06-30"), int)
    assert as_timestamp("2025-06-30 17:45") == pd.Timestamp("2025-06-30")


def test_id_keys_trim_and_lower_and_keep_nulls():
    got = id_keys(_s([" Ab ", "ab", None, "\tX\n"]))
    assert got.to_pylist() == ["ab", "ab", None, "x"]
    # 64-bit offsets: a million long ids are still one array
    assert got.type == pa.large_string()


def test_isin_ids_ignores_case_and_spaces_and_a_missing_id_is_not_in():
    got = isin_ids(_s(["a", " B", None, "c"]), _s(["b ", "A", "d"]))
    assert got.dtype == bool
    assert got.tolist() == [True, True, False, False]
    assert isin_ids(_s([]), _s(["a"])).tolist() == []
    assert isin_ids(_s(["a"]), _s([])).tolist() == [False]


@pytest.mark.parametrize("join_min_rows", [ids.JOIN_MIN_ROWS, 0])
def test_row_positions_on_each_path(join_min_rows, monkeypatch):
    """Few targets (hash the targets), many targets per key (hash the keys, probe the targets)
    and the DuckDB join: each key gets the first target with its id, or -1."""
    monkeypatch.setattr(ids, "JOIN_MIN_ROWS", join_min_rows)
    targets = _s(["x", " A", "b", "a", None, "B "])
    # as many targets as keys: the targets are hashed
    got = row_positions(_s(["a", "B", "z", None, "x"]), targets)
    assert got.dtype == np.int64
    assert got.tolist() == [1, 2, -1, -1, 0]
    # one key against six targets (more than 4 per key): the keys are hashed
    assert row_positions(_s(["b"]), targets).tolist() == [2]
    assert row_positions(_s([" A "]), targets).tolist() == [1]
    assert row_positions(_s([None]), targets).tolist() == [-1]
    assert row_positions(_s(["q"]), targets).tolist() == [-1]
    # keys repeated among few keys, many targets: each repeat answers the same
    many = _s(["t0", "t1", "k", "t3", "K", "t5", "t6", "t7", "t8", "t9"])
    assert row_positions(_s(["K", "k ", "t9"]), many).tolist() == [2, 2, 9]
    assert row_positions(_s([]), targets).tolist() == []
    assert row_positions(_s(["a", None]), _s([])).tolist() == [-1, -1]
