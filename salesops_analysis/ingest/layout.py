"""Report layouts: the header row, and the report lines around and between the data.

Accounting systems export reports, not tables: a title block above the header, section rows
("Current", "1 - 30 days past due"), subtotal rows ("Total for Current"), a grand ``TOTAL`` row
and a footer with the print time. The rule, written once:

* the **header** is line ``header_row`` when set, else (``auto``) the first of the first
  :data:`HEADER_SEARCH_LINES` lines whose names map every required column of the kind; lines
  above it are the **title block**;
* below it, a line is a **report line** when every cell is blank, or when its key is blank (or
  holds the ``Total`` label itself), it
  has no date (every mapped date column blank, the label, or words without a digit: a
  section's name may sit in the first column, a date column) and either holds a single
  non-blank cell (a **section, title or footer** line: "Current", "Printed on ...") or its
  first non-blank cell starts with ``Total`` or ``Subtotal``, or is only asterisks (SAP marks
  totals ``*``,
  ``**``): ``Total``/``Grand Total``/``Report Total`` alone is the **grand total**, any other
  such text a **subtotal** ("Total for Current", "*");
* a CSV line with the wrong number of fields holding at most one non-blank cell (a footer such as
  ``Printed on ...``) is a report line too.

With ``section_column: <column>`` (e.g. ``customer_id``), the text of a section line is that
column's value for the data rows below it, up to the next section line (Xero's Aged Receivables
Detail names each contact only on a line above its invoices).

Report lines are skipped, never loaded, and counted (``rows_skipped``); each one is kept in the
warehouse's ``skipped_lines`` with its line number, text and reason. A line with data but no key
(a date, or several cells without a ``Total`` label) is not a report line: it is rejected as
``blank key``, never skipped.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..config import KindOptions
from ..schemas import KINDS
from .columns import DERIVABLE, SECTION_SOURCE, match_columns, unheaded_name

if TYPE_CHECKING:
    from .read import RawTable

__all__ = [
    "HEADER_SEARCH_LINES",
    "ReportLines",
    "SkippedLine",
    "find_header",
    "name_columns",
    "split_report_lines",
]

HEADER_SEARCH_LINES = 30

BLANK = "blank line"
TITLE = "title block (above the header)"
GRAND_TOTAL = "grand total"
SUBTOTAL = "subtotal"
SECTION = "section, title or footer line (one cell, no key, no date)"
SHORT = "title or footer line (one cell)"

_GRAND_WORDS = ("total", "grand total", "report total", "total:", "grand total:", "'total'")
_SUBTOTAL_PREFIX = r"^('?(sub)?total'?:?(\s|$)|\*+$)"
_BLANK_OR_LABEL = r"^\s*(('?(sub)?total'?:?(\s|$)|\*+\s*$)|$)"


@dataclass(frozen=True)
class SkippedLine:
    """A report line: its line number in the file, its text and why it was skipped."""

    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class ReportLines:
    """What :func:`split_report_lines` found: the skipped lines and the grand total row.

    ``grand_total`` holds the source values of the single grand total row (``None`` when the file
    has none, or several, which are then taken as subtotals) and ``grand_total_line`` its line.
    ``sections`` holds the section lines below the header: ``line`` and ``value`` (the text of
    their one cell).
    """

    skipped: pa.Table
    grand_total: dict[str, str] | None = None
    grand_total_line: int | None = None
    sections: pa.Table | None = None


def name_columns(cells: list[str]) -> list[str]:
    """Return the header's column names: stripped, a blank one named ``(column N)``."""
    return [c.strip() or unheaded_name(i) for i, c in enumerate(cells)]


def find_header(rows: list[tuple[int, list[str]]], kind: str | None, options: KindOptions) -> int:
    """Return the line number of the header row among the first lines ``rows``.

    ``rows`` holds ``(line number, cells)`` of the first lines of the file. With
    ``header_row: N`` it is N; with ``auto`` the first line whose names map every required
    column of ``kind``; without a kind, or when no line does, the first non-blank line (the
    missing columns are then reported by the mapping).
    """
    if options.header_row != "auto":
        return int(options.header_row)
    first = next((line for line, cells in rows if any(c.strip() for c in cells)), 1)
    if kind is None:
        return first
    for line, cells in rows[:HEADER_SEARCH_LINES]:
        if sum(1 for c in cells if c.strip()) < 2:
            continue
        if not match_columns(name_columns(cells), kind, options).missing:
            return line
    return first


def _blank_or_label(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return where a cell is blank or holds a total label ("Total", "Total for ...", "*")."""
    return pc.match_substring_regex(col, _BLANK_OR_LABEL, ignore_case=True)


_SKIPPED_SCHEMA = pa.schema([("line", pa.int64()), ("text", pa.string()), ("reason", pa.string())])
_SECTIONS_SCHEMA = pa.schema([("line", pa.int64()), ("value", pa.string())])


def _skipped_table(lines: list[int], texts: list[str], reasons: list[str]) -> pa.Table:
    if not lines:  # a plain export: no conversion from Python lists (pa.array imports pandas)
        return pa.Table.from_batches([], _SKIPPED_SCHEMA)
    return pa.table(
        {
            "line": pa.array(lines, pa.int64()),
            "text": pa.array(texts, pa.string()),
            "reason": pa.array(reasons, pa.string()),
        }
    )


def split_report_lines(
    raw: RawTable, kind: str, mapping: dict[str, str]
) -> tuple[RawTable, ReportLines]:
    """Return the export without its report lines, and the report lines (see module docs).

    ``skipped`` holds the reader's own skipped lines (title block, blank and one-cell lines)
    and the table's report lines, by line number. Where a column is mapped from the section
    lines (``section_column``, source :data:`~salesops_analysis.ingest.columns.SECTION_SOURCE`),
    each data row gets the text of the nearest section line above it (blank above the first).
    """
    data, report = _split(raw, kind, mapping)
    if SECTION_SOURCE in mapping.values():
        data = _with_sections(data, report.sections)
    return data, report


def _with_sections(data: RawTable, sections: pa.Table | None) -> RawTable:
    """Return ``data`` with a section column: each row's nearest section line above."""
    from .read import RawTable

    lines = data.table.column("_line").to_numpy()
    values = np.array([""], dtype=object)
    at = np.zeros(len(lines), dtype=np.int64)
    if sections is not None and sections.num_rows:
        ordered = sections.sort_by("line")
        values = np.array(["", *ordered.column("value").to_pylist()], dtype=object)
        at = np.searchsorted(ordered.column("line").to_numpy(), lines, side="right")
    table = data.table.append_column(SECTION_SOURCE, pa.array(values[at], pa.string()))
    return RawTable(
        data.path,
        table,
        [*data.columns, SECTION_SOURCE],
        data.ragged,
        data.encoding,
        data.delimiter,
        data.excel,
        header_line=data.header_line,
        skipped=data.skipped,
    )


def _split(raw: RawTable, kind: str, mapping: dict[str, str]) -> tuple[RawTable, ReportLines]:
    from .read import RawTable

    pre_table, pre_sections = _reader_lines(raw)
    unchanged = raw, ReportLines(pre_table, sections=pre_sections)
    candidate = _candidates(raw, kind, mapping)
    if candidate is None:
        return unchanged
    # only the few candidate rows are looked at cell by cell
    cand = raw.table.filter(candidate)
    cells = [pc.utf8_trim_whitespace(cand.column(c)) for c in raw.columns]
    filled = [pc.not_equal(c, "") for c in cells]
    n_filled = filled[0].cast(pa.int32())
    for f in filled[1:]:
        n_filled = pc.add(n_filled, f.cast(pa.int32()))
    firsts = pc.coalesce(*[pc.if_else(f, c, None) for f, c in zip(filled, cells, strict=True)])
    first = pc.utf8_lower(pc.fill_null(firsts, ""))
    blank = pc.equal(n_filled, 0)
    grand = pc.is_in(first, value_set=pa.array(_GRAND_WORDS))
    sub = pc.match_substring_regex(first, _SUBTOTAL_PREFIX)
    is_report = pc.or_(pc.less_equal(n_filled, 1), sub)
    if not pc.all(is_report).as_py():  # rows with data but no key stay, to be rejected
        cand = cand.filter(is_report)
        if cand.num_rows == 0:
            return unchanged
        blank, grand, sub, firsts = (a.filter(is_report) for a in (blank, grand, sub, firsts))
        candidate = pc.is_in(
            raw.table.column("_line"), value_set=cand.column("_line").combine_chunks()
        )
    reason = pc.if_else(
        blank, BLANK, pc.if_else(grand, GRAND_TOTAL, pc.if_else(sub, SUBTOTAL, SECTION))
    )
    sep = raw.delimiter or ","
    text = pc.utf8_rtrim(
        pc.binary_join_element_wise(*[cand.column(c) for c in raw.columns], sep),
        characters=sep + " ",
    )
    lines = cand.column("_line")
    report = _skipped_table(lines.to_pylist(), text.to_pylist(), reason.to_pylist())
    grand_rows = cand.filter(grand)
    total = total_line = None
    if grand_rows.num_rows == 1:
        total = {c: grand_rows.column(c)[0].as_py() for c in raw.columns}
        total_line = grand_rows.column("_line")[0].as_py()
    data = RawTable(
        raw.path,
        raw.table.filter(pc.invert(candidate)),
        raw.columns,
        raw.ragged,
        raw.encoding,
        raw.delimiter,
        raw.excel,
        header_line=raw.header_line,
        skipped=[],
    )
    skipped = pa.concat_tables([pre_table, report]).sort_by("line")
    section = pc.and_(pc.invert(blank), pc.invert(pc.or_(grand, sub)))
    found = pa.table({"line": lines.filter(section), "value": firsts.filter(section)})
    sections = pa.concat_tables([pre_sections, found.cast(pre_sections.schema)])
    return data, ReportLines(skipped, total, total_line, sections)


def _reader_lines(raw: RawTable) -> tuple[pa.Table, pa.Table]:
    """Return the lines the reader skipped (title block, blank and one-cell lines), and those of
    them below the header that hold one cell (section lines: line, value)."""
    pre = raw.skipped
    pre_table = _skipped_table(
        [s.line for s in pre], [s.text for s in pre], [s.reason for s in pre]
    )
    sep = raw.delimiter or ","
    short = [s for s in pre if s.reason == SHORT and s.line > raw.header_line]
    if not short:
        return pre_table, pa.Table.from_batches([], _SECTIONS_SCHEMA)
    sections = pa.table(
        {
            "line": pa.array([s.line for s in short], pa.int64()),
            "value": pa.array([s.text.strip(sep + " ") for s in short], pa.string()),
        }
    )
    return pre_table, sections


def _candidates(raw: RawTable, kind: str, mapping: dict[str, str]) -> pa.ChunkedArray | None:
    """Return where a row may be a report line (None where none may): the key blank, or holding
    the total label itself ("Total" in the first column), and the dates blank, the label, or
    words (a section's name in a date column)."""
    table = KINDS[kind]
    key_cols = [mapping[k] for k in table.key if k in mapping and mapping[k] != SECTION_SOURCE]
    if kind in DERIVABLE and not key_cols:  # a derived payment id: its invoice names the row
        key_cols = [mapping[c] for c in ("invoice_id",) if c in mapping]
    date_cols = [mapping[f.name] for f in table.fields if f.type == "date" and f.name in mapping]
    date_cols = [c for c in date_cols if c != SECTION_SOURCE]
    t = raw.table
    if t.num_rows == 0 or not key_cols:
        return None
    # the key alone first: in a plain export no row is a candidate and nothing more is read;
    # then the few rows with a blank key
    candidate = _blank_or_label(t.column(key_cols[0]))
    if not pc.any(candidate).as_py():
        return None
    few = t.filter(candidate)
    conditions = [_blank_or_label(few.column(c)) for c in key_cols[1:]]
    conditions += [
        pc.or_(_blank_or_label(few.column(c)), pc.invert(_has_digit(few.column(c))))
        for c in date_cols
    ]
    lines = few.column("_line")
    if conditions:
        lines = lines.filter(functools.reduce(pc.and_, conditions))
    if len(lines) == 0:
        return None
    return pc.is_in(t.column("_line"), value_set=lines.combine_chunks())


def _has_digit(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return where a cell holds a digit (a date does; a customer's name rarely)."""
    return pc.match_substring_regex(col, r"\d")
