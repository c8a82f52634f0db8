"""Lines that repeat a key: duplicates and superseded lines, found among the repeats only."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

import salesops_analysis as so
from salesops_analysis.ingest.repeats import mark_repeats
from salesops_analysis.schemas import KINDS
from tests.conftest import write

PAY = "payment_id,invoice_id,payment_date,amount\n"


def _repeats(keys: list[str], kind: str = "payments", probe: str | None = "payment_id"):
    """Return (whether _repeats was made, its lines, the duplicate lines) for raw key texts."""
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
    made = mark_repeats(con, KINDS[kind], ["payment_id", "amount"], probe, False)
    lines = con.sql("SELECT _line FROM _repeats ORDER BY 1").fetchall() if made else None
    dups = con.sql("SELECT _line FROM _dups ORDER BY 1").fetchall()
    return made, lines if lines is None else [r[0] for r in lines], [r[0] for r in dups]


@pytest.mark.parametrize("keys", [[], ["P1"], ["P1", "P2"]])
def test_no_repeats_in_an_empty_one_row_or_plain_file(keys):
    assert _repeats(keys) == (True, [], [])


def test_keys_that_differ_in_case_or_spaces_repeat():
    made, lines, dups = _repeats(["P1", "p1 ", "P2", " P1", "P1", "P3"])
    assert made and lines == [2, 3, 5, 6]
    assert dups == [6]  # identical to line 2 in every column


def test_a_key_of_several_columns_or_a_derived_key_is_not_probed():
    assert _repeats(["2025-01-02"], kind="fx_rates", probe="date")[0] is False
    assert _repeats(["P1", "P1"], probe=None) == (False, None, [3])


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
