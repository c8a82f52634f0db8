"""Lines that repeat a key: exact duplicates, and lines superseded by a later line.

Both rules look only at lines whose key occurs more than once, and a plain export has few: the
lines whose key text repeats are found once, on the raw rows (``_repeats``), and both rules
then read only those.

* An **exact duplicate** is identical to an earlier line in every column of the file
  (``_dups``; identity is tested on a 64-bit hash of the whole line). It has the same key text,
  so it is among the repeats.
* A line is **superseded** when a later good line has the same key (``_superseded``): the last
  line in the file wins. The key compared (``_key``) is the parsed key lower-cased, which for a
  key of one id column is the raw text trimmed and lower-cased: the repeats hold every such line.
  A key of several columns, or of a derived column, is compared over every good line instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas import Table
from ..sql import quote_literal, quote_name

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["mark_repeats", "supersede"]


def mark_repeats(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    columns: list[str],
    probe: str | None,
    keep_identical: bool,
) -> bool:
    """Create ``_dups`` (the lines whose whole content hashes like an earlier line's) from the
    raw rows ``_raw_arrow``; return whether ``_repeats`` was created too.

    Parameters
    ----------
    con : duckdb connection
        Holds ``_raw_arrow``: the file's columns (``columns``) as text, and ``_line``.
    table : Table
        The canonical table of the export's kind.
    columns : list of str
        The file's columns.
    probe : str, optional
        The file column mapped to the first column of the key, if there is one.
    keep_identical : bool
        Identical lines are all kept (a line-level export without line ids): no duplicates.

    Returns
    -------
    bool
        ``_repeats`` holds every line whose key text, trimmed and lower-cased, occurs on another
        line too; :func:`supersede` then reads only those lines. False where the key is not one
        id column read from the file (``_dups`` is then found over every line).
    """
    src_cols = ", ".join(quote_name(c) for c in columns)
    key = table.key[0]
    repeats = (
        not keep_identical
        and probe is not None
        and probe in columns
        and len(table.key) == 1
        and table.field(key).type == "id"
    )
    rows = "_raw_arrow"
    if keep_identical:
        rows = "(SELECT * FROM _raw_arrow WHERE false)"
    elif repeats:
        text = f"lower(trim({quote_name(probe)}))"  # as the parsed _key (blank aside)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _repeats AS
            SELECT _line FROM _raw_arrow
            WHERE {text} IN (SELECT {text} FROM _raw_arrow GROUP BY ALL HAVING count(*) > 1)""")
        rows = "(SELECT * FROM _raw_arrow WHERE _line IN (SELECT _line FROM _repeats))"
    elif probe is not None and probe in columns:
        # identical lines have the same text in the key's first column
        p = quote_name(probe)
        rows = f"""(SELECT * FROM _raw_arrow
                    WHERE {p} IN (SELECT {p} FROM _raw_arrow GROUP BY ALL HAVING count(*) > 1))"""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dups AS
        WITH h AS (SELECT _line, hash({src_cols}) AS h FROM {rows}),
             multi AS (SELECT h FROM h GROUP BY h HAVING count(*) > 1)
        SELECT _line FROM h WHERE h IN (SELECT h FROM multi)
        QUALIFY row_number() OVER (PARTITION BY h ORDER BY _line) > 1""")
    return repeats


def supersede(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    line_id: bool,
    keep_identical: bool,
    repeats: bool,
) -> pa.Table:
    """Create ``_superseded`` from ``_parsed`` and return its rejects: same key, different
    content, the last line wins (by line id in a line-level export; without line ids its lines
    are all kept).

    ``repeats`` says that ``_repeats`` holds every line whose key repeats
    (:func:`mark_repeats`): only those lines are compared.
    """
    part = "_key || chr(31) || coalesce(lower(_line_id), '')" if line_id else "_key"
    cond = "false" if keep_identical else "true"
    if repeats:
        cond = "_line IN (SELECT _line FROM _repeats)"
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
