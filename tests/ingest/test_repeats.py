"""Lines that repeat a key: exact duplicates and superseded lines."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

import salesops_analysis as so
from salesops_analysis.ingest.repeats import mark_duplicates
from tests.conftest import write

PAY = "payment_id,invoice_id,payment_date,amount\n"


def _dups(keys: list[str], probe: str | None = "payment_id", keep_identical=False) -> list:
    """Return the duplicate lines of raw rows with these key texts (and one amount each)."""
    con = duckdb.connect()
    n = len(keys)
    con.register(
        "_raw_arrow",
        pa.table(
            {
                "payment_id": pa.array(keys, pa.string()),
                "amount": pa.array(["1"] * n, pa.string()),
                "_line": pa.array(range(2, n + 2), pa.int64()),
            }
        ),
    )
    mark_duplicates(con, ["payment_id", "amount"], probe, keep_identical)
    return [r[0] for r in con.sql("SELECT _line FROM _dups ORDER BY 1").fetchall()]


@pytest.mark.parametrize("keys", [[], ["P1"], ["P1", "P2"], ["P1", "p1", " P1"]])
def test_no_duplicates_in_an_empty_one_row_or_plain_file(keys):
    assert _dups(keys) == []


@pytest.mark.parametrize("probe", ["payment_id", None])
def test_a_line_identical_to_an_earlier_one_is_a_duplicate(probe):
    assert _dups(["P1", "P2", "P1", "P1", "P3"], probe) == [4, 5]


def test_identical_lines_are_all_kept_when_they_may_be_lines_of_a_document():
    assert _dups(["P1", "P1"], keep_identical=True) == []


def test_a_later_line_with_the_key_in_other_case_and_spaces_supersedes(tmp_path):
    p = write(
        tmp_path / "payments.csv",
        PAY + "P1,I1,2025-01-02,10\nP2,I2,2025-01-02,20\n  p1 ,I1,2025-01-03,11\n",
    )
    result = so.clean_file(p, config=so.Config())
    assert result.data["payment_id"].tolist() == ["P2", "p1"]
    reasons = result.rejects_frame["reason"].tolist()
    assert reasons == ["superseded by line 4 (same key, later in the file)"]


def test_a_key_of_two_columns_is_superseded_over_every_line(tmp_path):
    p = write(
        tmp_path / "fx_rates.csv",
        "date,currency,rate\n2025-01-02,EUR,1.1\n2025-01-02,GBP,1.3\n2025-01-02,eur,1.2\n",
    )
    result = so.clean_file(p, config=so.Config())
    assert result.data["rate"].tolist() == [1.3, 1.2]
    assert result.rejects_frame["line"].tolist() == [2]
