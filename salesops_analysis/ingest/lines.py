"""Line-level exports: one document (order, invoice) built from its lines.

With ``lines: {sum: [amount]}`` under a kind, rows that share the key are the lines of one
document. The rule, written once:

* the ``sum`` columns are added up over the document's lines;
* every other column mapped from the file must hold the same value on every line (blank on all,
  or the same value on all); where one does not, **all** the document's lines are rejected, the
  reason naming the columns and the lines;
* a document with a line rejected for its own problem (a bad date, say) is not loaded from its
  other lines either: they are rejected, naming the rejected line;
* ``lines: {sum: []}`` is for exports that repeat the document total on every line: the lines
  must agree and the document is loaded once;
* a ``line_id`` column, when mapped, identifies lines: exact duplicate rows are detected on the
  whole row (line id included) and a line id repeated with other content keeps its last line;
  without a ``line_id`` no line is a duplicate of another, since a document may hold the same
  line twice.

Columns derived from others (an invoice's status from its paid date and amount) are derived
again on the document, after the sums. Everything runs in DuckDB on the ``_parsed`` table built
by :mod:`~salesops_analysis.ingest.clean`.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from ..schemas import KINDS, sql_type
from ..sql import quote_literal, quote_name

__all__ = ["Documents", "build_documents"]


@dataclass(frozen=True)
class Documents:
    """The documents built into the temporary table ``_docs`` and the lines rejected."""

    count: int
    rejects: pa.Table


def build_documents(
    con: duckdb.DuckDBPyConnection,
    *,
    kind: str,
    sums: list[str],
    columns: list[str],
    derived: list[tuple[str, str]],
    out_cols: list[str],
) -> Documents:
    """Return the documents built from the good lines of ``_parsed`` (into ``_docs``).

    Parameters
    ----------
    con : duckdb connection
        Holds ``_parsed`` (every parsed line, ``_ok`` for lines without problems, ``_key``,
        ``_line``) and ``_superseded`` (lines replaced by a later line with the same line id).
    kind : str
        The kind of export.
    sums : list of str
        Columns added up over the lines.
    columns : list of str
        The columns mapped from the file (canonical and extra), checked for agreement unless
        summed.
    derived : list of (name, SQL)
        Columns derived from others, recomputed on each document in this order.
    out_cols : list of str
        The columns of a document, in order.
    """
    table = KINDS[kind]
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _doc_lines AS
        SELECT * FROM _parsed WHERE _ok AND _line NOT IN (SELECT _line FROM _superseded)""")
    agree = [c for c in columns if c not in sums]
    _find_broken_documents(con, agree)
    rejects = _line_rejects(con, table.key[0], agree)
    aggs = []
    for c in columns:
        if c in sums:
            typ = sql_type(table.field(c)) if c in table.columns else "DOUBLE"
            aggs.append(f"CAST(sum({quote_name(c)}) AS {typ}) AS {quote_name(c)}")
        else:
            aggs.append(f"any_value({quote_name(c)}) AS {quote_name(c)}")
    sql = f"""
        SELECT _key, min(_line) AS _line, {", ".join(aggs)} FROM _doc_lines
        WHERE _key NOT IN (SELECT _key FROM _doc_conflicts)
          AND _key NOT IN (SELECT _key FROM _doc_broken)
        GROUP BY _key"""
    for name, expr in derived:
        sql = f"SELECT *, {expr} AS {quote_name(name)} FROM ({sql})"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _docs AS
        SELECT *, hash({", ".join(quote_name(c) for c in out_cols)}) AS _row_hash FROM ({sql})""")
    count = con.execute("SELECT count(*) FROM _docs").fetchall()[0][0]
    return Documents(int(count), rejects)


def _find_broken_documents(con: duckdb.DuckDBPyConnection, agree: list[str]) -> None:
    """Create ``_doc_conflicts`` (documents whose good lines disagree on a column of ``agree``:
    their lines and the columns) and ``_doc_broken`` (documents with a rejected line)."""
    flags = [
        f"(count(DISTINCT {quote_name(c)}) > 1 OR count({quote_name(c)}) NOT IN (0, count(*)))"
        for c in agree
    ]
    names = ", ".join(
        f"CASE WHEN {f} THEN {quote_literal(c)} END" for f, c in zip(flags, agree, strict=True)
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _doc_conflicts AS
        SELECT _key, string_agg(CAST(_line AS VARCHAR), ', ' ORDER BY _line) AS lines,
               list_filter([{names or "NULL"}], lambda x: x IS NOT NULL) AS cols
        FROM _doc_lines GROUP BY _key HAVING {" OR ".join(flags) or "false"}""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _doc_broken AS
        SELECT _key, string_agg(CAST(_line AS VARCHAR), ', ' ORDER BY _line) AS lines
        FROM _parsed WHERE NOT _ok AND _key IS NOT NULL GROUP BY _key""")


def _line_rejects(con: duckdb.DuckDBPyConnection, key0: str, agree: list[str]) -> pa.Table:
    """Return the rejects of the good lines of conflicting or broken documents."""
    first_value = " ".join(
        f"WHEN {quote_literal(c)} THEN CAST(l.{quote_name(c)} AS VARCHAR)" for c in agree
    )
    value = f"CASE c.cols[1] {first_value} END" if agree else "NULL"
    return con.sql(f"""
        SELECT l._line AS line, array_to_string(c.cols, ', ') AS "column", {value} AS value,
               'lines ' || c.lines || ' of {key0} ' || CAST(l.{quote_name(key0)} AS VARCHAR)
               || ' disagree on ' || array_to_string(c.cols, ', ')
               || ' (a document loads only when its lines agree outside the summed columns)'
               AS reason
        FROM _doc_lines l JOIN _doc_conflicts c USING (_key)
        UNION ALL
        SELECT l._line, {quote_literal(key0)}, CAST(l.{quote_name(key0)} AS VARCHAR),
               'line ' || b.lines || ' of the same {key0} was rejected: the document is not '
               || 'loaded from part of its lines'
        FROM _doc_lines l JOIN _doc_broken b USING (_key)
        WHERE l._key NOT IN (SELECT _key FROM _doc_conflicts)
        ORDER BY 1""").to_arrow_table()
