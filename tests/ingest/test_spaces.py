"""Spaces around values: Arrow trims them as DuckDB's trim would, and only where there are some."""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa
import pytest

import salesops_analysis as so
from salesops_analysis.ingest.spaces import SPACES, may_need_trim, trim_spaces, trimmed_columns
from tests.conftest import write


def test_spaces_are_exactly_what_duckdbs_trim_removes():
    # every code point but the surrogates, each on both sides of a letter
    removed = duckdb.sql("""
        SELECT list(i ORDER BY i) FROM range(1, 1114112) t(i)
        WHERE (i < 55296 OR i > 57343) AND trim(chr(i::INT) || 'a' || chr(i::INT)) = 'a'
    """).fetchall()[0][0]
    assert [chr(i) for i in removed] == sorted(SPACES)


#: edges that trim may or may not remove: the space, other space separators, a non-ASCII
#: letter and a tab (which DuckDB's trim keeps)
PIECES = ["a", "1", " ", "\u00a0", "\u3000", "é", "\t", "€"]


def _values(rng: random.Random, n: int) -> list[str | None]:
    out: list[str | None] = []
    for _ in range(n):
        if rng.random() < 0.05:
            out.append(None)
            continue
        out.append("".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 4))))
    return out


def _edgy(values: list[str | None]) -> bool:
    """Whether a value starts or ends with a space or a non-ASCII character."""
    return any(v and any(c == " " or ord(c) > 127 for c in (v[0], v[-1])) for v in values)


@pytest.mark.parametrize("seed", range(40))
def test_may_need_trim_is_false_only_where_no_value_has_spaces_around(seed):
    rng = random.Random(seed)
    values = _values(rng, rng.randrange(0, 12))
    if seed % 2:  # mostly clean columns too, so that both answers are tested
        values = [v if v is None else v.strip(SPACES).strip("é€") for v in values]
    expected = _edgy(values)
    if not expected:  # what the answer promises: a trim would change nothing
        assert all(v is None or v == v.strip(SPACES) for v in values)
    for kind in (pa.string(), pa.large_string()):
        assert may_need_trim(pa.array(values, kind)) is expected
    # sliced and chunked: only the values inside the slice count
    whole = pa.array(["  pad  ", *values, "  pad  "], pa.string())
    sliced = whole.slice(1, len(values))
    assert may_need_trim(sliced) is expected
    chunked = pa.chunked_array([sliced, pa.array(["x"]), pa.array([], pa.string())])
    assert may_need_trim(chunked) is expected


def test_may_need_trim_on_empty_blank_and_other_columns():
    assert may_need_trim(pa.array([], pa.string())) is False
    assert may_need_trim(pa.array(["", "", None], pa.string())) is False
    assert may_need_trim(pa.chunked_array([], pa.string())) is False
    assert may_need_trim(pa.array(["x"])) is False
    assert may_need_trim(pa.array([" "])) is True
    # a non-ASCII letter at an edge is looked at by the trim itself (it is kept)
    assert may_need_trim(pa.array(["café"])) is True
    assert may_need_trim(pa.array([1, 2])) is True
    assert may_need_trim(pa.array(["a", "b"]).dictionary_encode()) is True


@pytest.mark.parametrize("seed", range(10))
def test_trim_spaces_agrees_with_duckdb(seed):
    values = _values(random.Random(seed), 50)
    array = pa.array(values, pa.string())
    ours = trim_spaces(array).to_pylist()
    con = duckdb.connect()
    con.register("t", pa.table({"v": array, "i": list(range(len(values)))}))
    theirs = [r[0] for r in con.execute("SELECT trim(v) FROM t ORDER BY i").fetchall()]
    assert ours == theirs


def test_trimmed_columns_copies_only_the_columns_with_spaces():
    table = pa.table({"id": [" A1", "B2\u00a0"], "amount": ["1.50", "2"], "_trimmed_0": ["x", "y"]})
    out, where = trimmed_columns(table, ["id", "amount", "id"])
    assert where == {"id": "__trimmed_0", "amount": "amount"}
    assert out.column("__trimmed_0").to_pylist() == ["A1", "B2"]
    assert out.column("id").to_pylist() == [" A1", "B2\u00a0"]  # the raw text is kept
    assert out.column_names == ["id", "amount", "_trimmed_0", "__trimmed_0"]
    same, nothing = trimmed_columns(table.select(["amount"]), ["amount"])
    assert same.column_names == ["amount"] and nothing == {"amount": "amount"}


def test_values_with_unicode_spaces_around_are_read_and_rejects_show_the_raw_text(tmp_path):
    nb, ideo = "\u00a0", "\u3000"
    p = write(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount,currency,status,paid_amount\n"
        f'{nb}I1{ideo},C1 ,{nb}2025-01-10,2025-02-09{nb},"{ideo}1,234.50 ",usd{nb}, paid,0\n'
        f"I2,C1,2025-01-10,2025-02-09,{nb}12..5{nb},USD,open,0\n"
        "I3,C2,2025-01-11,2025-02-10,7,USD,open,0\n",
    )
    result = so.clean_file(p, None, so.Config())
    data = result.data
    assert data["invoice_id"].tolist() == ["I1", "I3"]
    assert data["customer_id"].tolist() == ["C1", "C2"]
    assert data["amount"].tolist() == [1234.5, 7.0]
    assert data["currency"].tolist() == ["USD", "USD"]
    assert data["status"].tolist() == ["paid", "open"]
    assert str(data["invoice_date"].iloc[0].date()) == "2025-01-10"
    rej = result.rejects_frame
    assert rej[["line", "column", "value", "reason"]].values.tolist() == [
        [3, "amount", f"{nb}12..5{nb}", "not an amount"]
    ]
