"""Writing SQL text safely: quoted identifiers and string literals for DuckDB; and whether a
statement keeps the order of the rows it reads."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

__all__ = ["keeps_order", "quote_literal", "quote_name"]


def quote_name(name: str) -> str:
    """Return ``name`` as a quoted SQL identifier.

    Examples
    --------
    >>> print(quote_name('Open "Balance" EUR'))
    "Open ""Balance"" EUR"
    """
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: object) -> str:
    """Return ``value`` as a quoted SQL string literal.

    Examples
    --------
    >>> print(quote_literal("O'Neil"))
    'O''Neil'
    """
    return "'" + str(value).replace("'", "''") + "'"


def keeps_order(con: duckdb.DuckDBPyConnection, statement: str, params=None) -> bool:
    """Return whether DuckDB writes the rows of ``statement`` (a ``CREATE TABLE ... AS`` or an
    ``INSERT ... SELECT``) in the order its ``SELECT`` reads them, as planned in ``con``.

    DuckDB keeps the order of a scan, filters and projections of one table, and says so by
    planning its order-keeping ``BATCH_`` writer; a join (``NOT IN (SELECT ...)``, a long ``IN``
    list) or a window function makes it plan the plain one, which may reorder the rows. The
    statement is planned (``EXPLAIN``), not run.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE s AS SELECT range AS x FROM range(10)")
    >>> keeps_order(con, "CREATE TABLE t AS SELECT x FROM s WHERE x > 2")
    True
    >>> keeps_order(con, "CREATE TABLE t AS SELECT x FROM s WHERE x NOT IN (SELECT 1)")
    False
    """
    plan = con.execute(f"EXPLAIN (FORMAT json) {statement}", params).fetchall()
    return json.loads(plan[0][1])[0]["name"].startswith("BATCH_")
