"""Propose the config that reads an export: ``salesops inspect FILE``.

:func:`inspect_export` reads the file as ingest would, and guesses, each guess with its evidence:

* encoding, delimiter and the header row (the first line whose cells are all text and at least
  half as many as the fullest of the first lines; lines above it are a title block);
* which column is which canonical column: by its header (names and synonyms ERPs and accounting
  systems use: *Num*, *Invoice No*, *Document Number*, *Party*, *Client*, *Balance Due*...) and
  checked by content (a date column must hold dates, an amount column amounts); a required column
  no header names is taken by content (the only unmapped date or amount column left);
* decimal and thousands separators, and date formats, by trying every candidate on the values
  (on an evenly spread sample of :data:`SAMPLE_ROWS` rows of a bigger file, which it says);
* a line-level grain (the key repeats): the amount columns that differ between a document's lines
  are summed, those that repeat are not;
* status words, with ``value_maps`` proposed for the words ingest does not know.

The config is then tried on the file (as ``salesops ingest`` would read and clean it) and the
accounting, or the reason it was refused, is written at its end. Ambiguous choices are left as
comments naming the candidates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from .._errors import FileRefusedError, SalesOpsError
from ..config import KindOptions, config_from_dict
from ..schemas import KINDS
from ..sql import quote_name
from .columns import LINE_ID
from .guess_columns import choose_kind, line_grain, match_names, status_words
from .guess_formats import (
    SEPARATORS,
    choose_date_formats,
    first_rows,
    guess_header,
    profile_columns,
)
from .layout import find_header

__all__ = ["Inspection", "SAMPLE_ROWS", "guess_header", "inspect_export"]

#: Files with more data rows than this are profiled on an evenly spread sample of this many.
SAMPLE_ROWS = 50_000


@dataclass
class Inspection:
    """What :func:`inspect_export` found: the kind, the config text and the check's outcome."""

    path: Path
    kind: str
    header_line: int
    mapping: dict[str, str]
    config_text: str
    rows: int
    sampled: bool
    checked: str = ""
    ambiguous: list[str] = field(default_factory=list)


def _y(value) -> str:
    """Return ``value`` as a one-line YAML scalar or flow collection."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_y(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_y(k)}: {_y(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


# -- the whole inspection --------------------------------------------------------------------
def inspect_export(path: str | Path, *, kind: str | None = None) -> Inspection:
    """Return the config that reads ``path``, with the evidence for each choice.

    Parameters
    ----------
    path : str or Path
        A CSV or XLSX export.
    kind : str, optional
        Its kind; by default from the file name, else from its columns.

    Raises
    ------
    FileRefusedError
        The file cannot be read as a table.
    """
    from .read import read_export

    path = Path(path)
    if not path.is_file():
        raise FileRefusedError(path, "file not found" if not path.exists() else "not a file")
    first, encoding, delimiter = first_rows(path)
    header = guess_header(first)
    base = KindOptions(
        header_row=header, encoding=encoding or "auto", delimiter=delimiter or "auto"
    )
    raw = read_export(path, base)
    kind, kind_why = choose_kind(path, raw.columns, kind)
    if kind not in KINDS:
        raise SalesOpsError(f"unknown kind '{kind}' (kinds: {', '.join(KINDS)})")
    data = _data_rows(raw)
    rows = data.num_rows
    sampled = rows > SAMPLE_ROWS
    sample = data.take(pa.array(range(0, rows, -(-rows // SAMPLE_ROWS)))) if sampled else data
    con = duckdb.connect()
    try:
        con.register("_sample", sample)
        con.register("_data", data)
        g = _Guesses(path, kind, kind_why, first, header, encoding, delimiter, rows, sampled)
        g.section_lines = _section_lines(raw)
        _guess(con, g, raw.columns)
        text = _config_text(g, raw.columns)
        checked = _check_guesses(con, g, raw, text)
    finally:
        con.close()
    text += f"# check: {checked}\n"
    return Inspection(path, kind, header, g.mapping, text, rows, sampled, checked, g.ambiguous)


def _data_rows(raw) -> pa.Table:
    """Return the rows of ``raw`` that hold data: report lines (one cell, or a Total label
    first) are left out of the profile."""
    table = raw.table
    cells = [pc.utf8_trim_whitespace(table.column(c)) for c in raw.columns]
    filled = [pc.not_equal(c, "").cast(pa.int32()) for c in cells]
    n_filled = filled[0]
    for f in filled[1:]:
        n_filled = pc.add(n_filled, f)
    firsts = pc.coalesce(*[pc.if_else(pc.equal(c, ""), None, c) for c in cells])
    total = pc.match_substring_regex(
        pc.utf8_lower(pc.fill_null(firsts, "")), r"^('?(sub)?total|\*+$)"
    )
    return table.filter(pc.and_(pc.greater(n_filled, 1), pc.invert(total)))


def _section_lines(raw) -> int:
    """Return how many lines below the header hold one cell of words (no digit, no Total label):
    the section lines that may name the rows below them."""
    table = raw.table
    cells = [pc.utf8_trim_whitespace(table.column(c)) for c in raw.columns]
    n_filled = pa.array([0] * table.num_rows, pa.int32())
    for c in cells:
        n_filled = pc.add(n_filled, pc.not_equal(c, "").cast(pa.int32()))
    firsts = pc.fill_null(pc.coalesce(*[pc.if_else(pc.equal(c, ""), None, c) for c in cells]), "")
    words = pc.invert(pc.match_substring_regex(pc.utf8_lower(firsts), r"\d|^('?(sub)?total|\*+$)"))
    in_table = pc.sum(pc.and_(pc.equal(n_filled, 1), words).cast(pa.int64())).as_py() or 0
    short = [s for s in raw.skipped if s.line > raw.header_line and s.text.strip(", ;\t|")]
    return in_table + sum(1 for s in short if not any(ch.isdigit() for ch in s.text))


@dataclass
class _Guesses:
    """Everything inspect found about one file, with its evidence, to write as a config."""

    path: Path
    kind: str
    kind_why: str
    first: list
    header: int
    encoding: str | None
    delimiter: str | None
    rows: int
    sampled: bool
    mapping: dict[str, str] = field(default_factory=dict)
    others: dict[str, list[str]] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    sep: tuple[str, str] = (".", ",")
    formats: list[str] = field(default_factory=list)
    date_evidence: list[str] = field(default_factory=list)
    value_maps: dict[str, str] = field(default_factory=dict)
    lines_sum: list[str] | None = None
    lines_note: str = ""
    line_col: str | None = None
    section_lines: int = 0
    section: str | None = None


def _guess(con, g: _Guesses, columns: list[str]) -> None:
    """Fill ``g``: columns by name then content, separators, date formats, currency, status
    words and the grain."""
    table = KINDS[g.kind]
    profiles = profile_columns(con, columns)
    g.mapping, g.others = match_names(columns, g.kind)
    g.why = {t: "by name" for t in g.mapping}
    # separators: the convention that reads most values of the amount-named columns
    amount_targets = [
        t for t in g.mapping if t in table.columns and table.field(t).type == "amount"
    ]
    scored = [g.mapping[t] for t in amount_targets] or [
        c for c in columns if profiles[c].decimals and not profiles[c].date_like
    ]
    score = {s: sum(profiles[c].amounts[s] for c in scored) for s in SEPARATORS}
    g.sep = max(SEPARATORS, key=lambda s: (score[s], s == (".", ",")))
    _drop_by_content(g, table, profiles, amount_targets)
    _take_by_content(g, table, columns, profiles)
    g.missing = [
        f.name
        for f in table.fields
        if f.required and f.name not in g.mapping and f.name not in table.derivable
    ]
    _section_column(g, table)
    date_cols = [
        g.mapping[t] for t in g.mapping if t in table.columns and table.field(t).type == "date"
    ]
    g.formats, g.date_evidence, date_ambiguous = choose_date_formats(con, date_cols, profiles)
    g.ambiguous += date_ambiguous
    _currency_and_status(con, g, table)
    g.lines_sum, g.lines_note, g.line_col = line_grain(con, table, g.mapping, g.notes)


def _drop_by_content(g: _Guesses, table, profiles, amount_targets: list[str]) -> None:
    """Unmap a column named like a date or an amount that holds none."""
    for t in list(g.mapping):
        f = table.field(t) if t in table.columns else None
        p = profiles[g.mapping[t]]
        if p.filled == 0:
            continue
        if f is not None and f.type == "date" and not p.date_like:
            g.notes.append(f"{g.mapping[t]!r} is named like {t} but holds no dates: not mapped")
            del g.mapping[t]
        elif (t in amount_targets) and not p.amount_like(g.sep):
            g.notes.append(f"{g.mapping[t]!r} is named like {t} but holds no amounts: not mapped")
            del g.mapping[t]


def _take_by_content(g: _Guesses, table, columns: list[str], profiles) -> None:
    """Map required columns no header names by content: the first column that fits (several
    candidates are listed as ambiguous)."""
    used = set(g.mapping.values())
    for f in table.fields:
        if not f.required or f.name in g.mapping or f.name in table.derivable:
            continue
        if f.type == "date":
            fits = [c for c in columns if c not in used and profiles[c].date_like]
        elif f.type == "amount":
            fits = [
                c
                for c in columns
                if c not in used
                and profiles[c].amount_like(g.sep)
                and profiles[c].decimals
                and not profiles[c].date_like
            ]
        else:
            fits = []
        if len(fits) >= 1:
            g.mapping[f.name] = fits[0]
            used.add(fits[0])
            g.why[f.name] = (
                "by content: "
                + ("the only" if len(fits) == 1 else "the first")
                + (f" unmapped {f.type} column")
            )
            if len(fits) > 1:
                g.ambiguous.append(f"{f.name}: candidates {', '.join(map(repr, fits))}")


def _section_column(g: _Guesses, table) -> None:
    """Take a missing customer id from the section lines above the rows, when the file has
    them (``section_column``: Xero names each contact only on a line above its invoices)."""
    if "customer_id" in g.missing and "customer_id" not in table.key and g.section_lines:
        g.section = "customer_id"
        g.missing.remove("customer_id")


def _currency_and_status(con, g: _Guesses, table) -> None:
    """Unmap a currency column that holds other than 3-letter codes; propose status words."""
    if "currency" in g.mapping:
        col = quote_name(g.mapping["currency"])
        bad = con.execute(
            f"SELECT count(*) FROM _sample WHERE trim({col}) <> '' AND NOT "
            f"regexp_full_match(upper(trim({col})), '[A-Z]{{3}}')"
        ).fetchall()[0][0]
        if bad:
            g.notes.append(
                f"{g.mapping['currency']!r} holds values that are not currency codes: not mapped"
            )
            del g.mapping["currency"]
    if "status" in g.mapping and "status" in table.columns:
        g.value_maps, unknown = status_words(con, g.mapping["status"], g.kind)
        if unknown:
            g.notes.append(
                f"status words not known: {', '.join(map(repr, unknown))}: "
                f"{g.mapping['status']!r} kept as text (status_text) and status derived; map the "
                "words under value_maps and the column to status to use it"
            )
            g.mapping["status_text"] = g.mapping.pop("status")
            g.why["status_text"] = "status words not known"
            g.value_maps = {}


def _config_text(g: _Guesses, columns: list[str]) -> str:
    """Return the proposed config: the header comments, then the kind's reading options."""
    n = f"{g.rows:,} data rows"
    prof = (
        f"profiled on an evenly spread sample of {SAMPLE_ROWS:,}" if g.sampled else "all profiled"
    )
    out = [f"# salesops inspect {g.path.name}: {n} ({prof})", f"# kind: {g.kind}, {g.kind_why}"]
    if g.header > 1:
        above = "line 1 is" if g.header == 2 else f"lines 1-{g.header - 1} are"
        out.append(f"# header on line {g.header}: {above} a title block")
    out += [f"# note: {note}" for note in g.notes]
    out += [f"# ambiguous: {a}" for a in g.ambiguous]
    if g.missing:
        missing = ", ".join(g.missing)
        out.append(f"# NEEDS EDITS: no column found for {missing}; map it under columns")
    out += ["kinds:", f"  {g.kind}:"]
    out += _reading_lines(g)
    out += _column_lines(g, columns)
    if g.lines_sum is not None:
        out.append(f"    lines: {{sum: {_y(g.lines_sum)}}}   # {g.lines_note}")
    if g.value_maps:
        out.append("    value_maps:   # status words proposed from their meaning: check them")
        out.append(f"      status: {_y(g.value_maps)}")
    return "\n".join(out) + "\n"


def _reading_lines(g: _Guesses) -> list[str]:
    """Return the config lines of file name, encoding, delimiter, header, separators, dates."""
    from ..config import Config
    from .load import detect_kind

    out = []
    try:
        named = detect_kind(g.path, Config())
    except FileRefusedError:
        named = None
    if named != g.kind:
        out.append(
            f"    file_patterns: [{_y(g.path.name)}]   # the file name does not say {g.kind}"
        )
    if g.encoding:
        out.append(f"    encoding: {_y(g.encoding)}")
    if g.delimiter:
        out.append(f"    delimiter: {_y(g.delimiter)}")
    opts_for_auto = KindOptions(
        columns={c: t for t, c in g.mapping.items()}, section_column=g.section
    )
    auto_line = None if g.missing else find_header(g.first, g.kind, opts_for_auto)
    if auto_line == g.header:
        out.append(f"    header_row: auto   # finds line {g.header}")
    else:
        out.append(f"    header_row: {g.header}")
    sep = g.sep
    out.append(f"    decimal: {_y(sep[0])}")
    out.append(f"    thousands: {_y(sep[1])}   # amounts read best as 1{sep[1]}234{sep[0]}56")
    if g.formats:
        out.append(f"    date_formats: {_y(g.formats)}")
        out += [f"    #   {e}" for e in g.date_evidence]
    if g.section:
        out.append(
            f"    section_column: {g.section}   # no {g.section} column; {g.section_lines:,} "
            "lines of one cell name the rows below them"
        )
    return out


def _column_lines(g: _Guesses, columns: list[str]) -> list[str]:
    """Return the ``columns:`` block, each guess with its evidence, and the unmapped columns."""
    out = ["    columns:"]
    width = max((len(_y(c)) for c in g.mapping.values()), default=0)
    for t, c in g.mapping.items():
        comment = g.why.get(t, "by name")
        if t in g.others:
            comment += f"; other candidates: {', '.join(map(repr, g.others[t]))}"
        out.append(f"      {_y(c).ljust(width)}: {t}   # {comment}")
    if g.line_col:
        out.append(f"      {_y(g.line_col).ljust(width)}: {LINE_ID}   # identifies the lines")
    unmapped = [c for c in columns if c not in g.mapping.values() and c != g.line_col]
    if unmapped:
        out.append(f"    # unmapped: {', '.join(_y(c) for c in unmapped)}")
    if g.kind == "payments" and "payment_id" not in g.mapping:
        out.append("    # no payment id column: ingest derives a stable id from each row")
    return out


def _check_guesses(con, g: _Guesses, raw, text: str) -> str:
    """Return the accounting of the proposed config tried on the file (on the sample of a big
    file), or why it is not checked or was refused."""
    if g.missing:
        return "not checked: columns missing"
    if g.sampled:
        from .read import RawTable

        part = con.sql("SELECT * FROM _sample").to_arrow_table()
        sample_raw = RawTable(g.path, part, raw.columns, [], raw.encoding, raw.delimiter, raw.excel)
        return _check(g.path, g.kind, text, sample=sample_raw) + " (on the sample)"
    return _check(g.path, g.kind, text)


def _check(path: Path, kind: str, text: str, sample=None) -> str:
    """Return the accounting of the config tried on the file (or on ``sample``, a RawTable of
    the sampled rows), or why it was refused."""
    from .clean import clean_export
    from .read import read_export

    cfg = config_from_dict(yaml.safe_load(text), source="inspect")
    try:
        raw = sample if sample is not None else read_export(path, cfg.kind(kind), kind)
        result = clean_export(raw, kind, cfg.kind(kind), validate=False)
    except SalesOpsError as exc:
        return f"REFUSED: {exc}"
    docs = f" ({result.documents:,} documents)" if result.documents != result.loaded else ""
    return (
        f"read {result.rows_read:,} = loaded {result.loaded:,}{docs} + rejected "
        f"{result.rejected:,} + duplicates {result.duplicates:,} + skipped {result.skipped:,}"
    )
