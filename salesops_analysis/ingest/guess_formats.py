"""``salesops inspect``: how an export is written: its header line, date formats and separators.

Every guess is made by trying the candidates on the values (of an evenly spread sample of a big
file, in the DuckDB table ``_sample``) and keeping the counts as evidence.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .._errors import FileRefusedError
from ..config import MONTH_NAME_FORMATS, KindOptions
from ..sql import quote_literal, quote_name
from .layout import HEADER_SEARCH_LINES

__all__ = [
    "DATE_CANDIDATES",
    "SEPARATORS",
    "ColumnProfile",
    "choose_date_formats",
    "first_rows",
    "guess_header",
    "profile_columns",
]

#: Date formats tried on every date-like column (ISO first; %y before %Y, see config.py).
DATE_CANDIDATES = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d",
    "%m/%d/%y",
    "%m/%d/%Y",
    "%d/%m/%y",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%d.%m.%y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    *MONTH_NAME_FORMATS,
)


#: Decimal and thousands separator conventions tried on amount columns, in order of preference.
SEPARATORS = ((".", ","), (",", "."), (".", ""), (",", ""), (",", " "), (".", "'"))


# -- the header ------------------------------------------------------------------------------
def first_rows(path: Path) -> tuple[list[tuple[int, list[str]]], str | None, str | None]:
    """Return the first lines as cells, and the encoding and delimiter (None for a workbook)."""
    from .sniff import cell_text, detect_encoding, sniff_delimiter

    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # the reader refuses it with the reason below
            raise FileRefusedError(path, f"not a readable .xlsx workbook ({exc})") from None
        try:
            rows = []
            for i, row in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
                rows.append((i, [cell_text(v) for v in row]))
                if i >= HEADER_SEARCH_LINES:
                    break
        finally:
            wb.close()
        return rows, None, None
    if not path.is_file():
        raise FileRefusedError(path, "file not found")
    head = path.read_bytes()[:65536]
    encoding = detect_encoding(path, head, "auto")
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = text.splitlines()[:HEADER_SEARCH_LINES]
    if not lines:
        raise FileRefusedError(path, "file is empty")
    delimiter = sniff_delimiter(lines, "auto")
    rows = list(enumerate(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter), 1))
    return rows, encoding, delimiter


def _looks_like_value(cell: str) -> bool:
    s = cell.strip()
    return bool(re.fullmatch(r"[-+($€£¥]*\s*[\d.,/:\- ]+\)?", s)) and any(c.isdigit() for c in s)


def guess_header(rows: list[tuple[int, list[str]]]) -> int:
    """Return the line number of the header among the first lines of a file.

    The first line whose non-blank cells are all text (no number, amount or date) and at least
    half as many as the fullest line's, and at least two.
    """
    counts = [sum(1 for c in cells if c.strip()) for _, cells in rows]
    most = max(counts, default=0)
    for (line, cells), n in zip(rows, counts, strict=True):
        if n >= max(2, most / 2) and not any(_looks_like_value(c) for c in cells if c.strip()):
            return line
    return rows[0][0] if rows else 1


# -- profiling -------------------------------------------------------------------------------
@dataclass
class ColumnProfile:
    """What one column of the sample holds: filled and distinct values, how many values each
    candidate date format reads, how many each separator convention reads as amounts, and how
    many are written with decimals or a currency sign."""

    name: str
    filled: int = 0
    distinct: int = 0
    dates: dict[str, int] = field(default_factory=dict)
    amounts: dict[tuple[str, str], int] = field(default_factory=dict)
    decimals: int = 0  # values written with a decimal part or a currency sign

    @property
    def date_like(self) -> bool:
        """Return whether one date format reads at least 90% of the filled values."""
        return self.filled > 0 and max(self.dates.values(), default=0) >= 0.9 * self.filled

    def amount_like(self, sep: tuple[str, str]) -> bool:
        """Return whether the separators ``sep`` read at least 90% of the values as amounts."""
        return self.filled > 0 and self.amounts.get(sep, 0) >= 0.9 * self.filled


_DATE_SHAPE = r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|^\d{8}$|[a-z]{3}"


_AMOUNT_SHAPE = r"^[-+(\s]*[$€£¥]?\s*[\d.,' ]*\d[\d.,' ]*\s*[$€£¥]?\s*\)?-?$"


def profile_columns(con: duckdb.DuckDBPyConnection, columns: list[str]) -> dict[str, ColumnProfile]:
    """Return what each column of ``_sample`` holds: filled values, dates and amounts per format.

    Formats are tried only on the columns whose values mostly have the shape of a date or an
    amount (one cheap regex pass), since a failed strptime costs DuckDB far more than a match.
    """
    from .parse_sql import amount_expr

    vals = {c: f"nullif(trim({quote_name(c)}), '')" for c in columns}
    shape = []
    for c in columns:
        v = vals[c]
        shape += [
            f"count({v})",
            f"approx_count_distinct({v})",
            f"count(CASE WHEN regexp_matches(lower({v}), {quote_literal(_DATE_SHAPE)}) THEN 1 END)",
            f"count(CASE WHEN regexp_matches({v}, {quote_literal(_AMOUNT_SHAPE)}) THEN 1 END)",
            rf"count(CASE WHEN regexp_matches({v}, '[.,]\d{{1,2}}\)?-?$|[$€£¥]') THEN 1 END)",
        ]
    row = con.execute(f"SELECT {', '.join(shape)} FROM _sample").fetchall()[0] if columns else []
    out = {}
    for i, c in enumerate(columns):
        filled, distinct, dated, numeric, decimals = (int(x) for x in row[5 * i : 5 * i + 5])
        p = ColumnProfile(c, filled, distinct, decimals=decimals)
        p.dates = dict.fromkeys(DATE_CANDIDATES, 0)
        p.amounts = dict.fromkeys(SEPARATORS, 0)
        v = vals[c]
        exprs = []
        if filled and dated >= 0.5 * filled:
            exprs += [
                f"count(CASE WHEN try_strptime({v}, {quote_literal(f)}) >= TIMESTAMP '1900-01-01' "
                "THEN 1 END)"
                for f in DATE_CANDIDATES
            ]
        if filled and numeric >= 0.5 * filled:
            exprs += [
                f"count({amount_expr(v, KindOptions(decimal=d, thousands=t))})"
                for d, t in SEPARATORS
            ]
        if exprs:
            counts = con.execute(f"SELECT {', '.join(exprs)} FROM _sample").fetchall()[0]
            if filled and dated >= 0.5 * filled:
                p.dates = dict(zip(DATE_CANDIDATES, map(int, counts), strict=False))
                counts = counts[len(DATE_CANDIDATES) :]
            if filled and numeric >= 0.5 * filled:
                p.amounts = dict(zip(SEPARATORS, map(int, counts), strict=True))
        out[c] = p
    return out


_RIVALS = {
    "%m/%d/%Y": "%d/%m/%Y",
    "%d/%m/%Y": "%m/%d/%Y",
    "%m/%d/%y": "%d/%m/%y",
    "%d/%m/%y": "%m/%d/%y",
    "%d-%m-%Y": "%m-%d-%Y",
    "%m-%d-%Y": "%d-%m-%Y",
}


def _date_evidence(p: ColumnProfile, formats: list[str], covered: int) -> str:
    line = f"{p.name}: {covered:,} of {p.filled:,} values parse as {' or '.join(formats)}"
    for f in formats:
        if f in _RIVALS:
            line += f"; {p.filled - p.dates.get(_RIVALS[f], 0):,} are impossible as {_RIVALS[f]}"
    return line


def choose_date_formats(
    con: duckdb.DuckDBPyConnection, date_cols: list[str], profiles: dict[str, ColumnProfile]
) -> tuple[list[str], list[str], list[str]]:
    """Return the date formats covering every value of the date columns, evidence, ambiguities.

    One format that reads every value of every date column wins; else, per column, the formats
    that read most of the values not read yet (greedy, up to four), in the candidates' order.
    """
    chosen: list[str] = []
    evidence: list[str] = []
    ambiguous: list[str] = []
    filled = [c for c in date_cols if profiles[c].filled]
    # one format that reads every value of every date column: the columns decide together
    full = [
        f
        for f in DATE_CANDIDATES
        if filled and all(profiles[c].dates[f] == profiles[c].filled for c in filled)
    ]
    if full:
        if len(full) > 1:
            ambiguous.append(
                f"dates: every value parses as any of {', '.join(full)}; {full[0]} chosen"
            )
        for c in filled:
            evidence.append(_date_evidence(profiles[c], [full[0]], profiles[c].filled))
        return [full[0]], evidence, ambiguous
    for c in date_cols:
        p = profiles[c]
        if p.filled == 0:
            continue
        # greedy cover: the format that parses most values not parsed yet, until none is left
        covered = 0
        own: list[str] = []
        while covered < p.filled and len(own) < 4:
            done = " OR ".join(
                f"try_strptime(v, {quote_literal(f)}) >= TIMESTAMP '1900-01-01'"
                for f in chosen + own
            )
            counts = con.execute(
                "SELECT "
                + ", ".join(
                    f"count(CASE WHEN try_strptime(v, {quote_literal(f)}) "
                    ">= TIMESTAMP '1900-01-01' "
                    "THEN 1 END)"
                    for f in DATE_CANDIDATES
                )
                + f" FROM (SELECT nullif(trim({quote_name(c)}), '') AS v FROM _sample)"
                + " WHERE v IS NOT NULL"
                + (f" AND NOT coalesce({done}, false)" if done else "")
            ).fetchall()[0]
            best = max(counts)
            if best == 0:
                break
            ties = [f for f, n in zip(DATE_CANDIDATES, counts, strict=True) if n == best]
            pick = ties[0]
            if len(ties) > 1:
                ambiguous.append(
                    f"{c}: {best:,} values parse as any of {', '.join(ties)}; {pick} chosen"
                )
            own.append(pick)
            covered += best
        for f in own:
            if f not in chosen:
                chosen.append(f)
        if own:
            evidence.append(_date_evidence(p, own, covered))
        elif chosen:  # read by the formats another column chose
            best = max(chosen, key=lambda f: p.dates.get(f, 0))
            evidence.append(_date_evidence(p, [best], p.dates.get(best, 0)))
    # in the candidates' order: %y before %Y, so that "12/19/20" is never read as the year 20
    chosen.sort(key=DATE_CANDIDATES.index)
    return chosen, evidence, ambiguous
