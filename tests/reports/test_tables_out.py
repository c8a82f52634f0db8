"""The one formula rule and the CSV writer on their own, on small tables stated by hand."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from salesops_analysis.reports.tables_out import is_risky, neutralize, write_csv

CELLS = ["=1+1", "+A1", "-A1", "@SUM(A1)", "\tx", "\rx", "a=b", " =x", "", None, "'=x"]
# what a spreadsheet must be shown: an apostrophe before exactly the first six
SAFE = ["'=1+1", "'+A1", "'-A1", "'@SUM(A1)", "'\tx", "'\rx", "a=b", " =x", "", "", "'=x"]


def _read(path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_the_rule_picks_exactly_the_formula_prefixes():
    values = pd.Series(CELLS, dtype="str")
    assert is_risky(values).tolist() == [True] * 6 + [False] * 5
    assert neutralize(values).tolist() == SAFE
    # not only text columns: whatever a column holds is judged by its text
    assert is_risky(pd.Series([-1.5, 2.0, None], dtype=object)).tolist() == [True, False, False]


def test_neutralize_keeps_index_and_name_and_handles_empty_and_one_row():
    s = pd.Series(["=x", "y"], index=[7, 3], name="customer_name", dtype="str")
    out = neutralize(s)
    assert out.index.tolist() == [7, 3] and out.name == "customer_name" and out.dtype == "str"
    assert neutralize(s.iloc[:0]).tolist() == []
    assert neutralize(s.iloc[:1]).tolist() == ["'=x"]
    assert is_risky(s.iloc[:0]).tolist() == []


def test_csv_writes_text_neutralized_dates_as_days_numbers_as_numbers(tmp_path):
    n = len(CELLS)
    frame = pd.DataFrame(
        {
            "customer": pd.Series(CELLS, dtype="str"),
            "owner": pd.Series(CELLS[::-1], dtype=object),
            "due": pd.to_datetime(["2025-06-30"] * (n - 1) + [None]),
            "amount": [-12.5] + [1.0] * (n - 2) + [np.nan],
            "count": np.arange(n),
            "flag": [True] * n,
            "bucket": pd.Categorical(["=c"] + ["ok"] * (n - 1)),
        }
    )
    rows = _read(write_csv(frame, tmp_path / "t.csv"))
    assert rows[0] == ["customer", "owner", "due", "amount", "count", "flag", "bucket"]
    body = rows[1:]
    assert [r[0] for r in body] == SAFE
    assert [r[1] for r in body] == SAFE[::-1]
    assert body[0][2] == "2025-06-30" and body[-1][2] == ""
    assert body[0][3] == "-12.5" and body[-1][3] == ""  # a negative number stays a number
    assert [r[4] for r in body] == [str(i) for i in range(n)]
    assert body[0][5] == "true"
    assert body[0][6] == "'=c" and body[1][6] == "ok"


def test_csv_index_levels_are_columns_and_neutralized_too(tmp_path):
    aging = pd.DataFrame(
        {"current": [1.0, 2.0], "1_30": [0.5, 0.0]},
        index=pd.MultiIndex.from_tuples([("=North", "@Ana"), ("South", "Ben")], names=["t", "r"]),
    )
    rows = _read(write_csv(aging, tmp_path / "a.csv", index=True))
    assert rows == [
        ["t", "r", "current", "1_30"],
        ["'=North", "'@Ana", "1", "0.5"],
        ["South", "Ben", "2", "0"],
    ]
    assert _read(write_csv(aging, tmp_path / "b.csv"))[0] == ["current", "1_30"]


def test_csv_keeps_a_time_of_day_when_there_is_one_and_writes_an_empty_table(tmp_path):
    frame = pd.DataFrame({"at": pd.to_datetime(["2025-06-30 13:45:00", "2025-06-30 00:00:00"])})
    rows = _read(write_csv(frame, tmp_path / "t.csv"))
    assert [r[0] for r in rows[1:]] == ["2025-06-30 13:45:00", "2025-06-30 00:00:00"]
    empty = pd.DataFrame({"customer": pd.Series([], dtype="str"), "amount": []})
    assert _read(write_csv(empty, tmp_path / "e.csv")) == [["customer", "amount"]]


def test_risky_says_false_for_a_missing_value_and_is_risky_is_boolean():
    import pyarrow as pa

    from salesops_analysis.reports.tables_out import risky

    got = risky(pa.array(["=x", None, "a"], type=pa.string()))
    assert got.to_pylist() == [True, False, False] and got.null_count == 0
    flags = is_risky(pd.Series(["-1", None], dtype="str"))
    assert flags.dtype == np.bool_ and flags.tolist() == [True, False]
