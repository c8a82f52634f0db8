"""Map, parse and validate an export into its canonical table, in DuckDB SQL.

The parsing rules follow the field types in :mod:`salesops_analysis.schemas` and the reading
options in the config. Every input row ends in exactly one place:

* the clean table (``loaded``);
* the rejects, with line, column, raw value and reason (``rejected``; a row may have several
  problems, each a rejects row, but counts once);
* the exact-duplicate count (``duplicates``): a row identical, in every column of the file, to
  an earlier row is counted and dropped. Identity is tested on a 64-bit hash of the whole row;
* the skipped report lines (``skipped``): title block, blank, section, subtotal, total and footer
  lines of a report layout (see :mod:`~salesops_analysis.ingest.layout`).

Rows that share a key but differ in content (one file): **the last row in the file wins** (an
export lists later edits later); each earlier row goes to the rejects with the reason
``superseded by line N (same key, later in the file)``. A line-level export (``lines:`` set)
instead builds one document from its lines (see :mod:`~salesops_analysis.ingest.lines`).

A report's grand total row, when it has one, is checked: the amounts of its data rows must add
up to it, else the file is refused (rows were lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .._errors import FileRefusedError
from ..config import KindOptions
from ..schemas import KINDS, Table, sql_type
from ..sql import quote_name
from .columns import LINE_ID, match_columns
from .layout import split_report_lines
from .parse_sql import derived_expr, parse_expr
from .read import RawTable
from .repeats import mark_duplicates, supersede
from .row_rules import (
    ISO_4217,
    MOSTLY_UNPARSEABLE,
    bad_row_sql,
    check_grand_total,
    problem_sql,
    refuse_mostly_unparseable,
    row_problems,
)
from .spaces import trimmed_columns
from .validate import check_schema, validation_sample

if TYPE_CHECKING:  # pandas loads for the DataFrame views and pandera's check only
    import pandas as pd

__all__ = ["ISO_4217", "MOSTLY_UNPARSEABLE", "CleanExport", "clean_export", "map_columns"]


@dataclass
class CleanExport:
    """One export, cleaned: the canonical rows, the rejects and the accounting.

    ``table`` holds the canonical columns (then extras, ``_key`` and ``_line``); ``rejects`` has
    ``line, column, value, reason``; ``skipped_lines`` has ``line, text, reason``.
    ``rows_read == loaded + rejected + duplicates + skipped`` always. ``documents`` is the number
    of rows in ``table``: the documents built from the loaded lines of a line-level export, else
    ``loaded``.
    """

    kind: str
    path: str
    table: pa.Table | None
    rejects: pa.Table
    rows_read: int
    duplicates: int
    rejected: int
    mapping: dict[str, str]
    ignored_columns: list[str]
    loaded_rows: int = 0
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    skipped: int = 0
    skipped_lines: pa.Table | None = None
    documents_rows: int | None = None

    @property
    def documents(self) -> int:
        """Return the number of documents loaded (the loaded rows, unless ``lines:`` is set)."""
        return self.loaded_rows if self.documents_rows is None else self.documents_rows

    @property
    def skipped_frame(self) -> pd.DataFrame:
        """Return the skipped report lines (line, text, reason) as a DataFrame."""
        import pandas as pd

        from .._frames import arrow_to_frame

        if self.skipped_lines is None:
            return pd.DataFrame({"line": [], "text": [], "reason": []})
        return arrow_to_frame(self.skipped_lines)

    @property
    def loaded(self) -> int:
        """Return the number of clean rows."""
        return self.loaded_rows

    @property
    def data(self) -> pd.DataFrame:
        """Return the clean rows as a DataFrame (canonical and extra columns only)."""
        if self.table is None:
            raise ValueError("the clean rows were left in the warehouse connection (_clean)")
        from .._frames import arrow_to_frame

        keep = [c for c in self.table.column_names if not c.startswith("_")]
        return arrow_to_frame(self.table.select(keep))

    @property
    def rejects_frame(self) -> pd.DataFrame:
        """Return the rejects as a DataFrame."""
        from .._frames import arrow_to_frame

        return arrow_to_frame(self.rejects)

    def summary(self) -> dict:
        """Return the accounting as a dict."""
        return {
            "file": self.path,
            "kind": self.kind,
            "rows_read": self.rows_read,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "documents": self.documents,
        }


def _norm(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def map_columns(raw: RawTable, kind: str, options: KindOptions) -> tuple[dict[str, str], list[str]]:
    """Return ``{canonical or extra name: source column}`` and the ignored source columns.

    Source names in ``options.columns`` match the file's headers ignoring case and surrounding
    spaces. A header already named canonically needs no mapping.

    Raises
    ------
    FileRefusedError
        Two columns map to one name, or a required column is missing.
    """
    section = options.section_column
    if section is not None and (
        section not in KINDS[kind].columns
        or section in KINDS[kind].key
        or KINDS[kind].field(section).type not in ("id", "text")
    ):
        raise FileRefusedError(
            raw.path,
            f"kinds.{kind}.section_column names '{section}', which is not an id or text column "
            f"of {kind} (other than its key)",
        )
    match = match_columns(raw.columns, kind, options)
    if match.clash:
        first, second, target = match.clash
        raise FileRefusedError(raw.path, f"columns '{first}' and '{second}' both map to '{target}'")
    mapping, used, missing = dict(match.mapping), match.used, match.missing
    if missing:
        sep = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(raw.delimiter or "")
        hint = f"; read with {sep} delimiter" if sep else ""
        where = f" under the header on line {raw.header_line}" if raw.header_line > 1 else ""
        raise FileRefusedError(
            raw.path,
            f"required column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing for "
            f"kind '{kind}' (columns found{where}: {', '.join(raw.columns)}{hint}); map them "
            f"under kinds.{kind}.columns in salesops.yml",
        )
    for name in options.line_sums or []:
        if name not in mapping:
            raise FileRefusedError(
                raw.path, f"kinds.{kind}.lines.sum names '{name}', which no column maps to"
            )
        if name not in KINDS[kind].columns or KINDS[kind].field(name).type != "amount":
            raise FileRefusedError(
                raw.path, f"kinds.{kind}.lines.sum names '{name}', which is not an amount column"
            )
    ignored = [c for c in raw.columns if c not in used]
    return mapping, ignored


def clean_export(
    raw: RawTable,
    kind: str,
    options: KindOptions,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    validate: bool = True,
) -> CleanExport:
    """Return the export cleaned into its canonical table, with rejects and accounting.

    Parameters
    ----------
    raw : RawTable
        What :func:`~salesops_analysis.ingest.read.read_export` returned.
    kind : str
        One of :data:`~salesops_analysis.schemas.KINDS`.
    options : KindOptions
        Mapping and parsing options for this kind.
    con : duckdb connection, optional
        Where to run the SQL. With a connection given, the clean rows stay in its temporary
        view ``_clean`` (canonical columns, extras, ``_key``, ``_line``, ``_row_hash``) for the
        caller to load, and ``table`` is not filled; by default a private in-memory database is
        used and ``table`` holds the rows.
    validate : bool
        Check the clean table against the kind's pandera schema (on by default; see
        :mod:`~salesops_analysis.ingest.validate`).

    Raises
    ------
    FileRefusedError
        A required column is missing, or a column mostly fails to parse (a format or config
        problem: the message names the column and the formats tried).
    """
    mapping, ignored = map_columns(raw, kind, options)
    rows_read = raw.rows_read
    data, report = split_report_lines(raw, kind, mapping)
    own = con is None
    con = con or duckdb.connect()
    try:
        result = _clean(con, data, kind, options, mapping, ignored, rows_read, report)
        if validate:
            _validate(con, result)
        if own:
            result.table = con.sql(
                "SELECT * EXCLUDE (_row_hash) FROM _clean ORDER BY _line"
            ).to_arrow_table()
        return result
    finally:
        con.unregister("_raw_arrow")
        if own:
            con.close()


def _clean(con, raw, kind, options, mapping, ignored, rows_read, report) -> CleanExport:
    table = KINDS[kind]
    con.register("_raw_arrow", raw.table)
    sums = options.line_sums
    line_id = LINE_ID in mapping and sums is not None
    # the lines of a line-level export without line ids are never duplicates (an order may hold
    # a line twice), nor versions of one another
    keep_identical = sums is not None and not line_id
    probe = mapping.get(table.key[0])
    mark_duplicates(con, raw.columns, probe if probe in raw.columns else None, keep_identical)
    # the duplicates are flagged on the raw rows: parsing reads one table, without a join
    dups = con.sql("SELECT _line FROM _dups").to_arrow_table().column(0)
    flagged = raw.table.append_column(
        "_dup", pc.is_in(raw.table.column("_line"), value_set=dups.combine_chunks())
    )
    # the parse reads trimmed text: the columns with spaces around values get a trimmed copy
    flagged, parse_from = trimmed_columns(flagged, list(mapping.values()))
    con.register("_raw_arrow", flagged)
    plan = _plan(table, kind, options, mapping, raw.excel, line_id, parse_from)
    problems = row_problems(table, kind, mapping, plan.present, options)
    _parse_rows(con, plan, bad_row_sql(table, kind, mapping, plan.present, options))
    rejects_rows = _row_rejects(con, plan, problems, flagged)
    refuse_mostly_unparseable(con, raw, table, kind, mapping, options, rejects_rows)
    check_grand_total(con, raw, report, kind, mapping, options)
    superseded = supersede(con, table, line_id, keep_identical).cast(rejects_rows.schema)
    if sums is None:
        source = "SELECT * FROM _parsed WHERE _ok AND _line NOT IN (SELECT _line FROM _superseded)"
        documents = None
        line_rejects = superseded
    else:
        from .lines import build_documents

        file_cols = [c for c in plan.out_cols if c in mapping]
        docs = build_documents(
            con,
            kind=kind,
            sums=sums,
            columns=file_cols,
            derived=plan.derived,
            out_cols=plan.out_cols,
        )
        source = "SELECT * FROM _docs"
        documents = docs.count
        line_rejects = pa.concat_tables([superseded, docs.rejects.cast(rejects_rows.schema)])
    n_dups = con.execute("SELECT count(*) FROM _dups").fetchall()[0][0]
    n_bad = con.execute("SELECT count(*) FROM _parsed WHERE NOT _ok").fetchall()[0][0]
    rejects = pa.concat_tables([rejects_rows, line_rejects, _ragged_rejects(raw, rejects_rows)])
    rejected = n_bad + line_rejects.num_rows + len(raw.ragged)
    skipped = report.skipped.num_rows
    result = CleanExport(
        kind,
        str(raw.path),
        None,
        rejects,
        rows_read,
        n_dups,
        rejected,
        dict(mapping),
        ignored,
        loaded_rows=rows_read - n_dups - rejected - skipped,
        skipped=skipped,
        skipped_lines=report.skipped,
        documents_rows=documents,
    )
    # missing optional canonical columns are added as typed NULLs by the loader and below
    result.missing_columns = [f.name for f in table.fields if f.name not in plan.present]
    result.extra_columns = plan.extras
    nulls = "".join(
        f", CAST(NULL AS {sql_type(table.field(c))}) AS {quote_name(c)}"
        for c in result.missing_columns
    )
    cols = ", ".join(quote_name(c) for c in [*table.columns, *plan.extras])
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW _clean AS
        SELECT {cols}, _key, _line, _row_hash FROM (SELECT *{nulls} FROM ({source}))""")
    return result


@dataclass
class _Plan:
    """How the file's columns become canonical ones: the SQL of each, in one SELECT.

    ``parse`` holds ``<expression> AS <name>`` for the columns read from the file (canonical,
    then extras, then ``_line_id``); ``derived`` the ``(name, expression)`` of the columns derived
    from them, in order; ``present`` the canonical columns known after deriving.
    """

    table: Table
    mapping: dict[str, str]
    parse: list[str]
    extras: list[str]
    derived: list[tuple[str, str]]
    present: set[str]

    @property
    def out_cols(self) -> list[str]:
        """Return the columns of a clean row (canonical in order, then extras)."""
        return [c for c in self.table.columns if c in self.present] + self.extras

    @property
    def raw_names(self) -> list[str]:
        """Return the quoted names of the raw text kept beside each parsed column."""
        return [quote_name("_raw_" + f.name) for f in self.table.fields if f.name in self.mapping]

    def sql(self, where: str, source: str = "_raw_arrow") -> str:
        """Return the SELECT of the parsed and derived columns of the raw rows of ``source``
        that ``where`` says."""
        raw_cols = ", ".join(
            f"{quote_name(self.mapping[f.name])} AS {quote_name('_raw_' + f.name)}"
            for f in self.table.fields
            if f.name in self.mapping
        )
        sql = f"SELECT _line, {', '.join(self.parse)}, {raw_cols} FROM {source} {where}"
        # derived columns depend on parsed ones (invoices: paid_amount, then status)
        for name, expr in self.derived:
            sql = f"SELECT *, {expr} AS {quote_name(name)} FROM ({sql})"
        return sql


def _plan(
    table: Table, kind, options, mapping, excel: bool, line_id: bool, parse_from: dict[str, str]
) -> _Plan:
    """Return the SQL that parses each mapped column and derives what the file lacks, as
    :attr:`~salesops_analysis.schemas.Table.derived` declares. ``parse_from`` names, for each
    file column, the column that holds its text trimmed (see
    :func:`~salesops_analysis.ingest.spaces.trimmed_columns`): the SQL trims nothing.
    """

    def text(name: str) -> str:
        return quote_name(parse_from[mapping[name]])

    parse = [
        f"{parse_expr(f, text(f.name), options, excel, trimmed=True)} AS {quote_name(f.name)}"
        for f in table.fields
        if f.name in mapping
    ]
    extras = [t for t in mapping if t not in table.columns and not (line_id and t == LINE_ID)]
    parse += [f"nullif({text(e)}, '') AS {quote_name(e)}" for e in extras]
    if line_id:
        parse.append(f"nullif({text(LINE_ID)}, '') AS _line_id")
    present = set(mapping)
    derived = []
    for name in table.derived:
        if name not in present:
            expr = derived_expr(kind, name, present, options)
            derived.append((name, f"CAST({expr} AS {sql_type(table.field(name))})"))
            present.add(name)
    return _Plan(table, mapping, parse, extras, derived, present)


def _parse_rows(con, plan: _Plan, bad: str) -> None:
    """Create ``_parsed``: every row but the exact duplicates (``_dup``), parsed, with ``_ok``
    (``bad`` does not hold: no rule broken), ``_key`` and ``_row_hash`` (of the clean values).

    Its rows may come in any order (the loader sorts the clean rows by line): DuckDB writes
    them faster when it need not keep the raw rows' order.
    """
    key = plan.table.key
    key_expr = " || chr(31) || ".join(f"lower(CAST({quote_name(k)} AS VARCHAR))" for k in key)
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _parsed AS
            SELECT * EXCLUDE ({", ".join(plan.raw_names)}), NOT ({bad}) AS _ok,
                   {key_expr} AS _key,
                   hash({", ".join(quote_name(c) for c in plan.out_cols)}) AS _row_hash
            FROM ({plan.sql("WHERE NOT _dup")})""")
    finally:
        con.execute("RESET preserve_insertion_order")


def _row_rejects(con, plan: _Plan, problems: list, raw: pa.Table) -> pa.Table:
    """Return the problems of the bad rows (line, column, value, reason), by line and column.

    Only the few bad rows of ``raw`` (the raw rows, as registered) are parsed again, with their
    raw values. Every row flagged bad must have a reason, and every row with a reason be flagged
    bad (the cheap flag of :func:`~salesops_analysis.ingest.row_rules.bad_row_sql` states the
    same rules).
    """
    bad_lines = con.sql("SELECT _line FROM _parsed WHERE NOT _ok").to_arrow_table()
    # taken out of the raw rows by Arrow, rather than by a join over every raw row
    con.register(
        "_bad_raw",
        raw.filter(pc.is_in(raw.column("_line"), value_set=bad_lines.column(0).combine_chunks())),
    )
    structs = ", ".join(problem_sql(*p) for p in problems) or "NULL"
    rows = con.sql(f"""
        SELECT _line AS line, p.column AS "column", p.value AS value, p.reason AS reason
        FROM (SELECT _line, unnest(list_filter([{structs}], lambda x: x IS NOT NULL)) AS p
              FROM ({plan.sql("", source="_bad_raw")}))
        ORDER BY 1, 2""").to_arrow_table()
    con.unregister("_bad_raw")
    flagged = bad_lines.num_rows
    if len(set(rows.column("line").to_pylist())) != flagged:  # a bug in the rules, never data
        raise AssertionError(f"{flagged} rows flagged bad but {rows.num_rows} problems found")
    return rows


def _ragged_rejects(raw: RawTable, like: pa.Table) -> pa.Table:
    """Return the rejects of the lines with the wrong number of fields (schema of ``like``)."""
    ragged = raw.ragged
    if not ragged:  # no conversion from Python lists (pa.array imports pandas)
        return pa.Table.from_batches([], like.schema)
    return pa.table(
        {
            "line": pa.array([r.line for r in ragged], pa.int64()),
            "column": pa.array([None] * len(ragged), pa.string()),
            "value": pa.array([r.text for r in ragged], pa.string()),
            "reason": pa.array(
                [f"expected {r.expected} fields, found {r.actual}" for r in ragged], pa.string()
            ),
        }
    ).cast(like.schema)


def _validate(con, result: CleanExport) -> None:
    check_schema(result.kind, validation_sample(con, result.kind, result.loaded))
