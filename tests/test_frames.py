"""Reading the warehouse into pandas: each amount is the nearest double to its decimal."""

from __future__ import annotations

import decimal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from salesops_analysis._frames import arrow_to_frame, decimal_to_float, query_frame


def _cents(seed: int, n: int = 20_000) -> np.ndarray:
    return np.random.default_rng(seed).integers(-(10**11), 10**11, n)


def _decimals(cents: np.ndarray) -> list[decimal.Decimal]:
    return [decimal.Decimal(int(c)).scaleb(-2) for c in cents]


@pytest.mark.parametrize("seed", range(3))
def test_decimals_become_the_nearest_double_as_a_csv_reader_would_read_them(seed):
    cents = _cents(seed)
    text = [str(d) for d in _decimals(cents)]
    arr = pa.array(_decimals(cents), type=pa.decimal128(18, 2))
    got = decimal_to_float(arr).to_numpy()
    assert np.array_equal(got, np.array([float(t) for t in text]))
    # Arrow's own cast misses some of them by one unit in the last place
    assert not np.array_equal(arr.cast(pa.float64()).to_numpy(), got)


def test_missing_sliced_chunked_empty_and_wide_decimals():
    arr = pa.array(
        [decimal.Decimal("13.51"), None, decimal.Decimal("-400.00")], type=pa.decimal128(18, 2)
    )
    assert decimal_to_float(arr).to_pylist() == [13.51, None, -400.0]
    assert decimal_to_float(arr.slice(1)).to_pylist() == [None, -400.0]
    chunked = pa.chunked_array([arr.slice(0, 1), arr.slice(2)])
    assert decimal_to_float(chunked).to_pylist() == [13.51, -400.0]
    assert decimal_to_float(arr.slice(0, 0)).to_pylist() == []
    wide = pa.array([decimal.Decimal("123456789012345678.25")], type=pa.decimal128(38, 2))
    assert decimal_to_float(wide).to_pylist() == [123456789012345678.25]


def test_arrow_tables_and_duckdb_queries_read_the_same_frame(tmp_path):
    cents = _cents(7, 5_000)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    frame = pd.DataFrame(
        {
            "id": pd.array([f"I{i:05d}" for i in range(len(cents))], dtype="str"),
            "amount": [str(d) for d in _decimals(cents)],
            "day": pd.to_datetime("2025-01-01") + pd.to_timedelta(np.arange(len(cents)) % 90, "D"),
        }
    )
    frame.loc[3, "id"] = None
    frame.loc[5, "amount"] = None
    con.register("f", frame)
    con.execute(
        "CREATE TABLE t AS SELECT id, CAST(amount AS DECIMAL(18, 2)) AS amount, "
        "CAST(day AS DATE) AS day, amount IS NULL AS flag FROM f"
    )
    by_sql = query_frame(con, "SELECT * FROM t WHERE day >= $d", {"d": "2025-01-01"})
    by_arrow = arrow_to_frame(con.sql("SELECT * FROM t").to_arrow_table())
    pd.testing.assert_frame_equal(by_sql, by_arrow)
    assert str(by_sql["id"].dtype) == "str" and by_sql["id"].isna().sum() == 1
    assert str(by_sql["day"].dtype) == "datetime64[us]"
    want = np.array([np.nan if a is None else float(a) for a in frame["amount"]])
    assert np.array_equal(by_sql["amount"].to_numpy(), want, equal_nan=True)
    empty = query_frame(con, "SELECT * FROM t WHERE false")
    assert len(empty) == 0 and list(empty.dtypes.astype(str)) == list(by_sql.dtypes.astype(str))
    one = query_frame(con, "SELECT * FROM t LIMIT 1")
    assert one["amount"].tolist() == [float(frame["amount"][0])]
    # the connection is left as it was found
    assert con.sql("SELECT current_setting('arrow_large_buffer_size')").fetchall() == [(False,)]


def test_text_columns_are_compacted_into_one_exact_buffer():
    from salesops_analysis._frames import compact_text

    ids = pa.chunked_array([["a", None, "ccc"], [], ["dd"]], type=pa.large_string())
    table = pa.table({"id": ids, "n": pa.chunked_array([[1, 2, 3], [], [4]])})
    out = compact_text(table)
    assert out.equals(table)
    assert out.column("id").num_chunks == 1 and out.column("n").num_chunks == 3  # numbers kept
    assert out.column("id").chunk(0).buffers()[2].size == len("a" + "ccc" + "dd")
    empty = compact_text(table.slice(0, 0))
    assert empty.num_rows == 0 and empty.schema == table.schema
