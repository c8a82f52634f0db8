"""Lines that repeat a key: exact duplicates, and lines superseded by a later line.

* An **exact duplicate** is identical to an earlier line in every column of the file
  (``_dups``; identity is tested on a 64-bit hash of the whole line). Its key text is the same,
  so only the lines whose key text repeats are hashed (a plain export has few).
* A line is **superseded** when a later good line has the same key (``_superseded``): the last
  line in the file wins. The key compared (``_key``) is the parsed key, lower-cased.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas import Table
from ..sql import quote_literal, quote_name

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["mark_duplicates", "supersede"]


def mark_duplicates(
    con: duckdb.DuckDBPyConnection, columns: list[str], probe: str | None, keep_identical: bool
) -> None:
    """Create ``_dups``: the lines of ``_raw_arrow`` whose whole content hashes like an earlier
    line's.

    Parameters
    ----------
    con : duckdb connection
        Holds ``_raw_arrow``: the file's columns (``columns``) as text, and ``_line``.
    columns : list of str
        The file's columns.
    probe : str, optional
        The file column mapped to the first column of the key, if there is one: only the lines
        whose text there repeats are hashed.
    keep_identical : bool
        Identical lines are all kept (a line-level export without line ids): no duplicates.
    """
    src_cols = ", ".join(quote_name(c) for c in columns)
    rows = "_raw_arrow"
    if keep_identical:
        rows = "(SELECT * FROM _raw_arrow WHERE false)"
    elif probe is not None:
        p = quote_name(probe)
        rows = f"""(SELECT * FROM _raw_arrow
                    WHERE {p} IN (SELECT {p} FROM _raw_arrow GROUP BY ALL HAVING count(*) > 1))"""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dups AS
        WITH h AS (SELECT _line, hash({src_cols}) AS h FROM {rows}),
             multi AS (SELECT h FROM h GROUP BY h HAVING count(*) > 1)
        SELECT _line FROM h WHERE h IN (SELECT h FROM multi)
        QUALIFY row_number() OVER (PARTITION BY h ORDER BY _line) > 1""")


def supersede(
    con: duckdb.DuckDBPyConnection, table: Table, line_id: bool, keep_identical: bool
) -> pa.Table:
    """Create ``_superseded`` from ``_parsed`` and return its rejects: same key, different
    content, the last line wins (by line id in a line-level export; without line ids its lines
    are all kept)."""
    part = "_key || chr(31) || coalesce(lower(_line_id), '')" if line_id else "_key"
    cond = "false" if keep_identical else "true"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _superseded AS
        WITH p AS (SELECT _line, _key, {part} AS _part FROM _parsed WHERE _ok AND {cond}),
             multi AS (SELECT _part FROM p GROUP BY _part HAVING count(*) > 1)
        SELECT _line, _key, max(_line) OVER (PARTITION BY _part) AS winner
        FROM p WHERE _part IN (SELECT _part FROM multi)
        QUALIFY _line <> winner""")
    key0 = table.key[0]
    what = "same line id" if line_id else "same key"
    return con.sql(f"""
        SELECT s._line AS line, {quote_literal(key0)} AS "column",
               CAST(p.{quote_name(key0)} AS VARCHAR) AS value,
               'superseded by line ' || s.winner || ' ({what}, later in the file)' AS reason
        FROM _superseded s JOIN _parsed p USING (_line) ORDER BY 1""").to_arrow_table()
