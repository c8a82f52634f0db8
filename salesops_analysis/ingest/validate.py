"""The clean table checked against the schema its kind declares, before anything is written.

Every clean row has passed the row rules (:mod:`~salesops_analysis.ingest.row_rules`) derived
from the declarations in :mod:`salesops_analysis.schemas`; this check guards those rules: a
failure is a bug in the cleaning, never bad data, and stops the load (the warehouse is left
unchanged).

The same declarations give two checks that accept and refuse the same tables:

* :func:`check_schema_sql` runs in DuckDB on every clean row; ``salesops ingest`` uses it, so
  that loading a file imports neither pandas nor pandera;
* :func:`check_schema` runs the pandera schema (:func:`~salesops_analysis.schemas.pandera_schema`)
  on an Arrow table; :func:`~salesops_analysis.clean_file` uses it on
  :func:`validation_sample` 's rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas import KINDS, sql_checks, sql_type
from ..sql import quote_name

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["VALIDATE_FULL_ROWS", "check_schema", "check_schema_sql", "validation_sample"]

#: pandera checks the clean table in full up to this many rows, and an evenly spread,
#: reproducible sample of about this many rows beyond.
VALIDATE_FULL_ROWS = 100_000


def _type_name(sql: str) -> str:
    return sql.replace(" ", "").upper()


def check_schema_sql(con: duckdb.DuckDBPyConnection, kind: str, relation: str = "_clean") -> None:
    """Check every row of ``relation`` (a table or view in ``con``) against the kind's schema:
    every canonical column present with its SQL type, no missing value where the field is not
    nullable, every present value passing its field's checks, the key unique.

    Raises
    ------
    AssertionError
        The table breaks its schema: a bug in the cleaning rules, never bad data (the message
        names up to three failure cases, as pandera's ``failure_cases`` would).
    """
    table = KINDS[kind]
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {relation}").fetchall()}
    cases = [
        {"column": f.name, "check": f"dtype('{sql_type(f)}')", "failure_case": types.get(f.name)}
        for f in table.fields
        if _type_name(types.get(f.name) or "") != _type_name(sql_type(f))
    ]
    if not cases:
        cases = _failed_rows(con, kind, relation)
    if not cases:
        keys = ", ".join(quote_name(k) for k in table.key)
        dup = con.execute(
            f"SELECT {keys} FROM {relation} GROUP BY ALL HAVING count(*) > 1 LIMIT 3"
        ).fetchall()
        cases = [
            {"column": ", ".join(table.key), "check": "unique", "failure_case": list(row)}
            for row in dup
        ]
    if cases:
        raise AssertionError(f"clean {kind} table breaks its schema: {cases[:3]}")


def _failed_rows(con, kind: str, relation: str) -> list[dict]:
    """Return the failure cases of the row checks (one pass tells whether there is any)."""
    checks = sql_checks(kind)
    any_broken = " OR ".join(f"({cond})" for _, _, cond in checks) or "false"
    if not con.execute(f"SELECT count(*) FROM {relation} WHERE {any_broken}").fetchall()[0][0]:
        return []
    cases = []
    for column, check, cond in checks:
        values = con.execute(
            f"SELECT DISTINCT {quote_name(column)} FROM {relation} WHERE {cond} LIMIT 3"
        ).fetchall()
        cases += [{"column": column, "check": check, "failure_case": v[0]} for v in values]
    return cases


def validation_sample(con: duckdb.DuckDBPyConnection, kind: str, loaded: int) -> pa.Table:
    """Return the clean rows (of ``_clean`` in ``con``, ``loaded`` of them) that
    :func:`check_schema` checks: all of them up to :data:`VALIDATE_FULL_ROWS`, else an evenly
    spread sample of about as many."""
    step = -(-loaded // VALIDATE_FULL_ROWS)
    sample = f"WHERE _line % {step} = 0" if step > 1 else ""
    cols = ", ".join(quote_name(c) for c in KINDS[kind].columns)
    return con.sql(f"SELECT {cols} FROM _clean {sample}").to_arrow_table()


def check_schema(kind: str, rows: pa.Table) -> None:
    """Check clean rows against the kind's pandera schema.

    Raises
    ------
    AssertionError
        A row breaks the schema: a bug in the cleaning rules, never bad data (the message names
        up to three failure cases).
    """
    import pandera.errors

    from .._frames import arrow_to_frame
    from ..schemas import pandera_schema

    try:
        pandera_schema(kind).validate(arrow_to_frame(rows), lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases.head(3).to_dict("records")
        raise AssertionError(f"clean {kind} table breaks its schema: {cases}") from None
