"""The schema check of clean tables: the SQL check (`salesops ingest`) and pandera's
(`clean_file`) are built from the same declarations and must refuse and accept the same tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from salesops_analysis.ingest.validate import check_schema, check_schema_sql
from salesops_analysis.schemas import KINDS, Field

_ARROW = {
    "date": pa.date32(),
    "amount": pa.decimal128(18, 2),
    "number": pa.float64(),
    "bool": pa.bool_(),
}


def _value(f: Field, row: int):
    if f.type == "enum":
        return f.values[row % len(f.values)]
    if f.type == "currency":
        return "USD"
    if f.type == "date":
        return dt.date(2025, 1, 2 + row)
    if f.type == "amount":
        return Decimal("10.50") + row
    if f.type == "number":
        return 1.25 + row
    if f.type == "bool":
        return bool(row)
    return f"{f.name}-{row}"


def _good(kind: str, rows: int = 3) -> dict[str, list]:
    """Columns of a clean table that meets its schema (keys differ on every row)."""
    return {f.name: [_value(f, r) for r in range(rows)] for f in KINDS[kind].fields}


def _table(kind: str, cols: dict[str, list], types: dict[str, pa.DataType] | None = None):
    fields = {f.name: f for f in KINDS[kind].fields}
    arrays = {}
    for name, values in cols.items():
        typ = (types or {}).get(name)
        if typ is None:
            typ = _ARROW.get(fields[name].type, pa.string()) if name in fields else pa.string()
        arrays[name] = pa.array(values, typ)
    return pa.table(arrays)


def _refused_by_sql(kind: str, table: pa.Table) -> bool:
    con = duckdb.connect()
    con.register("planted", table)
    try:
        check_schema_sql(con, kind, "planted")
    except AssertionError as exc:
        assert "breaks its schema" in str(exc)
        return True
    finally:
        con.close()
    return False


def _refused_by_pandera(kind: str, table: pa.Table) -> bool:
    try:
        check_schema(kind, table)
    except AssertionError as exc:
        assert "breaks its schema" in str(exc)
        return True
    return False


def _bad_values(f: Field) -> list:
    """Return present values the field's checks refuse."""
    if f.type == "enum":
        return ["bogus", f.values[0].upper(), f" {f.values[0]}"]
    if f.type == "currency":
        return ["usd", "US", "USDX", "U1D"]
    if f.type == "number":
        return [0.0, -1.0]
    return []


def _plants(kind: str):
    """Yield (what, table, refused?) for one kind: each planted value and the verdict due."""
    table = KINDS[kind]
    yield "good", _table(kind, _good(kind)), False
    yield "one row", _table(kind, _good(kind, 1)), False
    yield "no rows", _table(kind, _good(kind, 0)), False
    extra = {**_good(kind), "region": ["north", "south", "east"]}
    yield "an extra column", _table(kind, extra), False
    for f in table.fields:
        cols = _good(kind)
        cols[f.name][1] = None
        yield f"{f.name} missing on a row", _table(kind, cols), not f.nullable
        cols = _good(kind)
        del cols[f.name]
        yield f"no {f.name} column", _table(kind, cols), True
        if f.type in ("date", "amount", "number", "bool"):
            cols = _good(kind)
            cols[f.name] = [str(v) for v in cols[f.name]]
            yield f"{f.name} as text", _table(kind, cols, {f.name: pa.string()}), True
        for bad in _bad_values(f):
            cols = _good(kind)
            cols[f.name][2] = bad
            yield f"{f.name} = {bad!r}", _table(kind, cols), True
    cols = _good(kind)
    for k in table.key:
        cols[k][2] = cols[k][0]
    yield "a repeated key", _table(kind, cols), True
    if kind == "fx_rates":  # a key of two columns: each alone may repeat (all rows are USD)
        cols = _good(kind)
        cols["date"][2], cols["currency"][2] = cols["date"][0], "EUR"
        yield "a date repeated in another currency", _table(kind, cols), False


@pytest.mark.parametrize("kind", list(KINDS))
def test_sql_and_pandera_checks_refuse_and_accept_the_same_planted_values(kind):
    verdicts = []
    for what, table, refused in _plants(kind):
        by_sql, by_pandera = _refused_by_sql(kind, table), _refused_by_pandera(kind, table)
        verdicts.append((what, by_sql, by_pandera, refused))
    wrong = [v for v in verdicts if not v[1] == v[2] == v[3]]
    assert not wrong, f"(plant, SQL refused, pandera refused, due): {wrong}"
    assert sum(v[3] for v in verdicts) >= 5  # both checks were made to refuse, not just accept


def test_sql_check_names_the_column_the_check_and_the_value():
    cols = _good("fx_rates")
    cols["rate"][1] = -2.0
    con = duckdb.connect()
    con.register("planted", _table("fx_rates", cols))
    with pytest.raises(AssertionError, match=r"'column': 'rate'.*greater_than\(0\).*-2\.0"):
        check_schema_sql(con, "fx_rates", "planted")
