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

import duckdb
import pandas as pd
import pyarrow as pa

from .._errors import FileRefusedError
from .._frames import arrow_to_frame
from ..config import KindOptions
from ..schemas import KINDS, Field, pandera_schema, sql_type
from ..sql import quote_literal, quote_name
from .columns import LINE_ID, match_columns
from .layout import ReportLines, split_report_lines
from .read import RawTable

__all__ = ["CleanExport", "clean_export", "map_columns"]

#: A column is refused as a format/config problem when more than this share of its non-blank
#: values fail to parse (and at least ``_MIN_VALUES_FOR_REFUSAL`` values are present).
MOSTLY_UNPARSEABLE = 0.5
_MIN_VALUES_FOR_REFUSAL = 10

ISO_4217 = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
    GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
    KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
    SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS
    VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL""".split()
)


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
        keep = [c for c in self.table.column_names if not c.startswith("_")]
        return arrow_to_frame(self.table.select(keep))

    @property
    def rejects_frame(self) -> pd.DataFrame:
        """Return the rejects as a DataFrame."""
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


def _re_escape(ch: str) -> str:
    return "".join("\\" + c if c in r"\.^$|?*+()[]{}-" else c for c in ch)


def _date_expr(raw: str, options: KindOptions, excel: bool) -> str:
    s = f"trim({raw})"
    tries = [f"try_strptime({s}, {quote_literal(fmt)})" for fmt in options.formats()]
    if excel:
        tries.insert(
            0,
            f"CASE WHEN regexp_full_match({s}, '\\d{{1,5}}(\\.\\d+)?') THEN "
            f"(DATE '1899-12-30' + CAST(floor(CAST({s} AS DOUBLE)) AS INTEGER))"
            f"::TIMESTAMP END",
        )
    return f"CAST(coalesce({', '.join(tries)}) AS DATE)"


def _amount_expr(raw: str, options: KindOptions) -> str:
    """SQL that parses formatted amounts: ``1,234.50``, ``(120.00)``, ``120.00-``, ``€ 12``.

    The whole value must match the format pattern (so that ``1,23,4`` or ``12..50`` are
    rejected, never guessed); then separators, symbols and signs are dropped and the digits cast.
    Parentheses or a minus sign make the amount negative.
    """
    dec, thou = options.decimal, options.thousands
    d, t = _re_escape(dec), _re_escape(thou)
    sym = "".join(_re_escape(x) for x in options.currency_symbols)
    sym_opt = f"[{sym}]?" if sym else ""
    grouped = f"\\d{{1,3}}({t}\\d{{3}})+|" if thou else ""
    num = f"(({grouped}\\d+)({d}\\d*)?|{d}\\d+)"
    body = f"{sym_opt}\\s*{num}\\s*{sym_opt}"
    pattern = f"\\(\\s*{body}\\s*\\)|[-+]?\\s*{body}\\s*-?"
    s = f"trim({raw})"
    # validated first, so the cast below never fails (failed casts are slow in DuckDB)
    digits = s
    for ch in [thou, *options.currency_symbols, "(", ")", " ", "-", "+"]:
        if ch:
            digits = f"replace({digits}, {quote_literal(ch)}, '')"
    if dec != ".":
        digits = f"replace({digits}, {quote_literal(dec)}, '.')"
    sign = f"CASE WHEN {s} LIKE '(%' OR contains({s}, '-') THEN -1 ELSE 1 END"
    # the common forms (1234.5, -1,234.50) take a cheaper path than symbols and parentheses
    simple = f"[-+]?{num}"
    simple_digits = f"replace({s}, {quote_literal(thou)}, '')" if thou else s
    if dec != ".":
        simple_digits = f"replace({simple_digits}, {quote_literal(dec)}, '.')"
    return (
        f"CASE WHEN regexp_full_match({s}, {quote_literal(simple)}) "
        f"THEN TRY_CAST({simple_digits} AS DECIMAL(18, 2)) "
        f"WHEN regexp_full_match({s}, {quote_literal(pattern)}) "
        f"THEN {sign} * TRY_CAST({digits} AS DECIMAL(18, 2)) END"
    )


def _enum_expr(raw: str, f: Field, options: KindOptions) -> str:
    words = {v: v for v in f.values}
    words.update({v.replace("_", " "): v for v in f.values})
    words.update(options.value_maps.get(f.name, {}))
    cases = " ".join(
        f"WHEN {quote_literal(k)} THEN {quote_literal(v)}"
        for k, v in words.items()
        if v in f.values
    )
    return f"CASE lower(trim({raw})) {cases} END"


def _parse_expr(f: Field, raw: str, options: KindOptions, excel: bool) -> str:
    blank = f"nullif(trim({raw}), '')"
    if f.type in ("id", "text"):
        return blank
    if f.type == "label":
        return f"nullif(trim(regexp_replace(lower(trim({raw})), '[^a-z0-9]+', '_', 'g'), '_'), '')"
    if f.type == "date":
        return _date_expr(raw, options, excel)
    if f.type == "amount":
        return _amount_expr(raw, options)
    if f.type == "number":
        return f"TRY_CAST(replace(trim({raw}), {quote_literal(options.decimal)}, '.') AS DOUBLE)"
    if f.type == "bool":
        trues = ", ".join(quote_literal(v.lower()) for v in options.true_values)
        falses = ", ".join(quote_literal(v.lower()) for v in options.false_values)
        return (
            f"CASE WHEN lower(trim({raw})) IN ({trues}) THEN true "
            f"WHEN lower(trim({raw})) IN ({falses}) THEN false END"
        )
    if f.type == "currency":
        default = quote_literal(options.default_currency) if options.default_currency else "NULL"
        return f"coalesce(upper(nullif(trim({raw}), '')), {default})"
    if f.type == "enum":
        return _enum_expr(raw, f, options)
    raise AssertionError(f.type)


def _problem(cond: str, column: str, value: str, reason: str) -> str:
    return (
        f"CASE WHEN {cond} THEN {{'column': {quote_literal(column)}, "
        f"'value': CAST({value} AS VARCHAR),"
        f" 'reason': {reason}}} END"
    )


def _derived(kind: str, name: str, present: set[str], options: KindOptions) -> str | None:
    """SQL for a canonical column the file does not have (NULL where nothing can be derived)."""
    if kind == "invoices":
        paid_date = "paid_date" if "paid_date" in present else "CAST(NULL AS DATE)"
        by_date = f"CASE WHEN {paid_date} IS NOT NULL THEN amount ELSE 0 END"
        if "paid_amount" in present:
            paid_amount = "paid_amount"
        elif "open_amount" in present:
            # paid is what is no longer due; a row without a balance is rejected (see _problems)
            paid_amount = f"coalesce(amount - open_amount, {by_date})"
        else:
            paid_amount = by_date
        if name == "paid_amount":
            return paid_amount
        if name == "disputed":
            return "false"
        if name == "status":
            disputed = "disputed" if "disputed" in present else "false"
            settled = f"{paid_date} IS NOT NULL"
            if "open_amount" in present:
                settled = f"({settled} OR open_amount = 0)"
            return (
                f"CASE WHEN {settled} AND abs({paid_amount}) >= abs(amount) "
                f"THEN 'paid' WHEN {disputed} THEN 'disputed' WHEN abs({paid_amount}) > 0 "
                f"THEN 'partially_paid' ELSE 'open' END"
            )
    if kind == "orders" and name == "status":
        parts = ["CASE"]
        if "invoiced_date" in present:
            parts.append("WHEN invoiced_date IS NOT NULL THEN 'invoiced'")
        if "shipped_date" in present:
            parts.append("WHEN shipped_date IS NOT NULL THEN 'shipped'")
        if len(parts) == 1:  # no date to tell a later status by
            return "'received'"
        parts.append("ELSE 'received' END")
        return " ".join(parts)
    if name == "currency":
        return quote_literal(options.default_currency) if options.default_currency else "NULL"
    if kind == "payments" and name == "payment_id":
        return _derived_payment_id(present)
    return None


def _derived_payment_id(present: set[str]) -> str:
    """SQL for the id of a payment row in an export without payment ids.

    ``PAY-`` and the first 16 hex digits of the MD5 of the row's invoice id (lower case), payment
    date (ISO), amount, customer id (lower case) and currency, joined by ``|``; the second and
    later rows with all of these equal (in file order) add ``-2``, ``-3``, ... The same payment
    gets the same id in every export, so that re-exports update rather than duplicate it.
    """
    parts = [
        "lower(invoice_id)",
        "CAST(payment_date AS VARCHAR)",
        "CAST(amount AS VARCHAR)",
        "lower(customer_id)" if "customer_id" in present else "''",
        "currency",
    ]
    text = f"concat_ws('|', {', '.join(f'coalesce({p}, {chr(39)}{chr(39)})' for p in parts)})"
    n = f"row_number() OVER (PARTITION BY {text} ORDER BY _line)"
    return f"'PAY-' || substr(md5({text}), 1, 16) || CASE WHEN {n} > 1 THEN '-' || {n} ELSE '' END"


def _check_grand_total(con, raw, report: ReportLines, kind, mapping, options) -> None:
    """Refuse the file when its grand total row does not tie to the data rows' amounts.

    Every amount column mapped from the file whose grand total cell is filled is checked against
    the sum of that column over the data rows (loaded, rejected or duplicate alike: a total that
    does not tie means rows were lost, not rejected). In a line-level export a column that is
    not summed over the lines is added up once per document.
    """
    if report.grand_total is None:
        return
    sums = options.line_sums
    for f in KINDS[kind].fields:
        if f.type != "amount" or f.name not in mapping:
            continue
        src = mapping[f.name]
        text = (report.grand_total.get(src) or "").strip()
        if not text:
            continue
        total = con.execute(f"SELECT {_amount_expr(quote_literal(text), options)}").fetchall()[0][0]
        if total is None:
            continue
        if sums is not None and f.name not in sums:
            one = f"SELECT any_value({quote_name(f.name)}) AS v FROM _parsed GROUP BY _key"
            sql = f"SELECT sum(v) FROM ({one})"
        else:
            sql = f"SELECT sum({_amount_expr(quote_name(src), options)}) FROM _raw_arrow"
        found = con.execute(sql).fetchall()[0][0] or 0
        if abs(found - total) > 0.005:
            raise FileRefusedError(
                raw.path,
                f"the grand total on line {report.grand_total_line} does not tie: '{src}' totals "
                f"{total:,.2f} but the data rows add up to {found:,.2f} (difference "
                f"{total - found:,.2f}); rows may be missing from the export",
            )


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
        Check the clean table against the kind's pandera schema (on by default).

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
    src_cols = ", ".join(quote_name(c) for c in raw.columns)
    sums = options.line_sums
    line_id = LINE_ID in mapping and sums is not None
    # exact duplicates: rows whose whole content hashes like an earlier row's; the lines of a
    # line-level export without line ids are never duplicates (an order may hold a line twice)
    keep_identical = sums is not None and not line_id
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dups AS
        WITH h AS (SELECT _line, hash({src_cols}) AS h FROM _raw_arrow),
             multi AS (SELECT h FROM h GROUP BY h HAVING count(*) > 1)
        SELECT _line FROM h WHERE h IN (SELECT h FROM multi) AND NOT {keep_identical}
        QUALIFY row_number() OVER (PARTITION BY h ORDER BY _line) > 1""")
    present = set(mapping)
    parse = []
    for f in table.fields:
        if f.name in mapping:
            parse.append(
                f"{_parse_expr(f, quote_name(mapping[f.name]), options, raw.excel)} "
                f"AS {quote_name(f.name)}"
            )
    extras = [t for t in mapping if t not in table.columns and not (line_id and t == LINE_ID)]
    for e in extras:
        parse.append(f"nullif(trim({quote_name(mapping[e])}), '') AS {quote_name(e)}")
    if line_id:
        parse.append(f"nullif(trim({quote_name(mapping[LINE_ID])}), '') AS _line_id")
    derived = []
    for name in ("paid_amount", "disputed", "status", "currency", "payment_id"):
        if name in table.columns and name not in present:
            expr = _derived(kind, name, present, options)
            derived.append((name, f"CAST({expr} AS {sql_type(table.field(name))})"))
            present.add(name)
    raw_names = [quote_name("_raw_" + f.name) for f in table.fields if f.name in mapping]
    raw_cols = ", ".join(
        f"{quote_name(mapping[f.name])} AS {quote_name('_raw_' + f.name)}"
        for f in table.fields
        if f.name in mapping
    )

    def parsed_sql(where: str) -> str:
        sql = f"SELECT _line, {', '.join(parse)}, {raw_cols} FROM _raw_arrow {where}"
        # derived columns depend on parsed ones (invoices: paid_amount, then status)
        for name, expr in derived:
            sql = f"SELECT *, {expr} AS {quote_name(name)} FROM ({sql})"
        return sql

    problems = _problems(table, kind, mapping, present, options)
    ok = " OR ".join(f"coalesce({cond}, false)" for cond, *_ in problems) or "false"
    key_expr = " || chr(31) || ".join(f"lower(CAST({quote_name(k)} AS VARCHAR))" for k in table.key)
    out_cols = [c for c in table.columns if c in present] + extras
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _parsed AS
        SELECT * EXCLUDE ({", ".join(raw_names)}), NOT ({ok}) AS _ok, {key_expr} AS _key,
               hash({", ".join(quote_name(c) for c in out_cols)}) AS _row_hash
        FROM ({parsed_sql("WHERE _line NOT IN (SELECT _line FROM _dups)")})""")
    # the problems of bad rows only: re-parse those few rows with their raw values
    structs = ", ".join(_problem(*p) for p in problems) or "NULL"
    bad_sql = parsed_sql("WHERE _line IN (SELECT _line FROM _parsed WHERE NOT _ok)")
    rejects_rows = con.sql(f"""
        SELECT _line AS line, p.column AS "column", p.value AS value, p.reason AS reason
        FROM (SELECT _line, unnest(list_filter([{structs}], lambda x: x IS NOT NULL)) AS p
              FROM ({bad_sql}))
        ORDER BY 1, 2""").to_arrow_table()
    _refuse_mostly_unparseable(con, raw, table, kind, mapping, options, rejects_rows)
    _check_grand_total(con, raw, report, kind, mapping, options)
    # same key, different content: the last line wins, earlier ones are rejected (by line id in a
    # line-level export; without line ids its lines are all kept)
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
    superseded = con.sql(f"""
        SELECT s._line AS line, {quote_literal(key0)} AS "column",
               CAST(p.{quote_name(key0)} AS VARCHAR) AS value,
               'superseded by line ' || s.winner || ' ({what}, later in the file)' AS reason
        FROM _superseded s JOIN _parsed p USING (_line) ORDER BY 1""").to_arrow_table()
    if sums is None:
        source = "SELECT * FROM _parsed WHERE _ok AND _line NOT IN (SELECT _line FROM _superseded)"
        documents = None
        line_rejects = superseded.cast(rejects_rows.schema)
    else:
        from .lines import build_documents

        file_cols = [c for c in out_cols if c in mapping]
        docs = build_documents(
            con,
            kind=kind,
            sums=sums,
            columns=file_cols,
            derived=derived,
            out_cols=out_cols,
        )
        source = "SELECT * FROM _docs"
        documents = docs.count
        line_rejects = pa.concat_tables(
            [superseded.cast(rejects_rows.schema), docs.rejects.cast(rejects_rows.schema)]
        )
    n_dups = con.execute("SELECT count(*) FROM _dups").fetchall()[0][0]
    n_bad = con.execute("SELECT count(*) FROM _parsed WHERE NOT _ok").fetchall()[0][0]
    rejects = pa.concat_tables([rejects_rows, line_rejects])
    if raw.ragged:
        extra = pa.table(
            {
                "line": pa.array([r.line for r in raw.ragged], pa.int64()),
                "column": pa.array([None] * len(raw.ragged), pa.string()),
                "value": pa.array([r.text for r in raw.ragged], pa.string()),
                "reason": pa.array(
                    [f"expected {r.expected} fields, found {r.actual}" for r in raw.ragged],
                    pa.string(),
                ),
            }
        )
        rejects = pa.concat_tables([rejects, extra.cast(rejects.schema)])
    rejected = n_bad + line_rejects.num_rows + len(raw.ragged)
    skipped = report.skipped.num_rows
    loaded = rows_read - n_dups - rejected - skipped
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
        loaded_rows=loaded,
        skipped=skipped,
        skipped_lines=report.skipped,
        documents_rows=documents,
    )
    # missing optional canonical columns are added as typed NULLs by the loader and below
    result.missing_columns = [f.name for f in table.fields if f.name not in present]
    result.extra_columns = extras
    nulls = "".join(
        f", CAST(NULL AS {sql_type(table.field(c))}) AS {quote_name(c)}"
        for c in result.missing_columns
    )
    cols = ", ".join(quote_name(c) for c in [*table.columns, *extras])
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW _clean AS
        SELECT {cols}, _key, _line, _row_hash FROM (SELECT *{nulls} FROM ({source}))""")
    return result


def _problems(table, kind, mapping, present, options) -> list[tuple[str, str, str, str]]:
    """Return ``(condition, column, raw value, reason)`` for every row rule of the kind."""
    out = []
    for f in table.fields:
        if f.name not in present:
            continue
        c = quote_name(f.name)
        in_file = f.name in mapping
        rc = quote_name("_raw_" + f.name) if in_file else "NULL"
        blank_raw = f"nullif(trim({rc}), '') IS NULL" if in_file else "true"
        if f.name in table.key:
            out.append((f"{c} IS NULL", f.name, rc, "'blank key'"))
            continue
        if f.type in ("date", "amount", "number", "bool", "enum") and in_file:
            what = {
                "date": f"'not a date in the formats tried ({', '.join(options.formats())})'",
                "amount": "'not an amount'",
                "number": "'not a number'",
                "bool": "'not a yes/no value'",
                "enum": f"'unknown {f.name} (expected one of {', '.join(f.values)}, or map "
                f"the word under kinds.{kind}.value_maps.{f.name})'",
            }[f.type]
            out.append((f"{c} IS NULL AND NOT ({blank_raw})", f.name, rc, what))
        if not f.nullable:
            out.append((f"{c} IS NULL AND {blank_raw}", f.name, rc, "'missing value'"))
        if f.type == "date" and in_file:
            # DuckDB's %Y reads "12/19/20" as the year 20: such a date is refused, not kept
            out.append(
                (
                    f"{c} < DATE '1900-01-01'",
                    f.name,
                    rc,
                    "'date before 1900 (a two-digit year read with %Y? use %y)'",
                )
            )
        if f.type == "currency":
            codes = "|".join(sorted(ISO_4217))  # one compiled regex: cheaper than IN (...)
            out.append(
                (
                    f"{c} IS NOT NULL AND NOT regexp_full_match({c}, '{codes}')",
                    f.name,
                    c,
                    "'unknown currency code'",
                )
            )
    rules = {
        "invoices": [
            ("due_date < invoice_date", "due_date", "due_date", "'due date before invoice date'"),
            (
                "abs(paid_amount) > abs(amount) + 0.005",
                "paid_amount",
                "paid_amount",
                "'paid amount above invoice amount'",
            ),
            (
                "paid_amount * amount < 0",
                "paid_amount",
                "paid_amount",
                "'paid amount of the opposite sign to the amount'",
            ),
        ],
        "orders": [
            (
                "shipped_date < order_date",
                "shipped_date",
                "shipped_date",
                "'shipped before it was ordered'",
            ),
            (
                "invoiced_date < order_date",
                "invoiced_date",
                "invoiced_date",
                "'invoiced before it was ordered'",
            ),
        ],
        "fx_rates": [("rate <= 0", "rate", "rate", "'rate must be positive'")],
    }
    names = {
        "due_date",
        "invoice_date",
        "paid_amount",
        "amount",
        "shipped_date",
        "order_date",
        "invoiced_date",
        "rate",
    }
    for cond, col, val, reason in rules.get(kind, []):
        if {w for w in names if w in cond} <= present:
            if col == "paid_amount" and "paid_amount" not in mapping and "open_amount" in present:
                continue  # paid = amount - open: the open amount's own rules say it once
            out.append((cond, col, val, reason))
    if kind == "invoices" and "open_amount" in present:
        out += _open_amount_problems("paid_amount" in mapping)
    return out


def _open_amount_problems(paid_mapped: bool) -> list[tuple[str, str, str, str]]:
    """Return the row rules of an invoice's balance due (``open_amount``).

    The balance has the amount's sign (a credit note's is negative or zero) and is not larger
    than the amount. Where the file also has a paid amount, the two agree to the cent:
    ``paid_amount = amount - open_amount``; where it has none, the paid amount is derived from
    the balance, so a row without one is rejected.
    """
    out = [
        (
            "open_amount * amount < 0",
            "open_amount",
            "open_amount",
            "'open amount of the opposite sign to the amount'",
        ),
        (
            "abs(open_amount) > abs(amount) + 0.005",
            "open_amount",
            "open_amount",
            "'open amount above invoice amount ' || amount",
        ),
    ]
    if paid_mapped:
        out.append(
            (
                "abs(paid_amount - (amount - open_amount)) > 0.005",
                "open_amount",
                "open_amount",
                "'paid amount ' || paid_amount || ' and open amount ' || open_amount || "
                "' disagree: amount ' || amount || ' - open amount = ' || (amount - open_amount)",
            )
        )
    else:
        out.append(
            (
                "nullif(trim(\"_raw_open_amount\"), '') IS NULL",
                "open_amount",
                '"_raw_open_amount"',
                "'missing value (paid_amount is derived from open_amount)'",
            )
        )
    return out


def _refuse_mostly_unparseable(con, raw, table, kind, mapping, options, rejects) -> None:
    typed = [
        f
        for f in table.fields
        if f.name in mapping and f.type in ("date", "amount", "number", "bool")
    ]
    if not typed or rejects.num_rows == 0:
        return
    con.register("_rej_arrow", rejects)
    failed = dict(
        con.execute("""
        SELECT "column", count(DISTINCT line) FROM _rej_arrow
        WHERE reason LIKE 'not a%' GROUP BY 1""").fetchall()
    )
    con.unregister("_rej_arrow")
    if not failed:
        return
    counts = con.execute(
        "SELECT " + ", ".join(f"count({quote_name(f.name)})" for f in typed) + " FROM _parsed"
    ).fetchall()[0]
    for f, good in zip(typed, counts, strict=True):
        bad = failed.get(f.name, 0)
        n = good + bad
        if n >= _MIN_VALUES_FOR_REFUSAL and bad / n > MOSTLY_UNPARSEABLE:
            raise FileRefusedError(raw.path, _format_problem(f, mapping, options, bad, n, kind))


#: The clean table is checked against the pandera schema in full up to this many rows, and on an
#: evenly spread, reproducible sample of about this many rows beyond (every row has already passed
#: the SQL rules derived from the same declarations; the pandera check guards those rules).
VALIDATE_FULL_ROWS = 100_000


def _validate(con, result: CleanExport) -> None:
    import pandera.errors

    step = -(-result.loaded // VALIDATE_FULL_ROWS)
    sample = f"WHERE _line % {step} = 0" if step > 1 else ""
    cols = [c for c in KINDS[result.kind].columns]
    frame = arrow_to_frame(
        con.sql(
            f"SELECT {', '.join(quote_name(c) for c in cols)} FROM _clean {sample}"
        ).to_arrow_table()
    )
    try:
        pandera_schema(result.kind).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:  # a bug in the cleaning rules, not bad data
        cases = exc.failure_cases.head(3).to_dict("records")
        raise AssertionError(f"clean {result.kind} table breaks its schema: {cases}") from None


def _format_problem(f: Field, mapping, options: KindOptions, bad: int, n: int, kind: str) -> str:
    share = f"{bad / n:.0%} of {n:,} values in column '{mapping[f.name]}' ({f.name})"
    if f.type == "date":
        return (
            f"{share} are not dates in the formats tried ({', '.join(options.formats())}): a "
            f"format problem; set kinds.{kind}.date_formats (or day_first) in salesops.yml"
        )
    if f.type == "amount":
        return (
            f"{share} are not amounts with decimal '{options.decimal}' and thousands "
            f"'{options.thousands}': set kinds.{kind}.decimal / thousands in salesops.yml"
        )
    if f.type == "bool":
        return f"{share} are not yes/no words: set kinds.{kind}.true_values / false_values"
    return f"{share} are not numbers: check kinds.{kind}.decimal in salesops.yml"


def _arrow_type(f: Field) -> pa.DataType:
    return {
        "date": pa.date32(),
        "amount": pa.decimal128(18, 2),
        "number": pa.float64(),
        "bool": pa.bool_(),
    }.get(f.type, pa.string())
