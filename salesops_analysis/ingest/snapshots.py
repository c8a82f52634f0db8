"""Open-items snapshots: the date a snapshot shows, and the history of every snapshot loaded.

An invoices export read with ``snapshot: true`` is the complete list of open items on one day,
its **snapshot date**. The rule for that date, written once (:func:`snapshot_date`):

1. the file name (``open_items_2025-06-30.csv``, ``..._2025_06_30``, ``..._20250630``), else
2. the title block above the header ("As of June 30, 2025", "as at 30/06/2025",
   "Open items at key date 30.06.2025", "Stichtag: 30.06.2025"), else
3. ``salesops ingest --as-of D``.

A file name and a title that name different dates refuse the file; so does a snapshot with no
date at all. Both refusals are one line naming the file.

History (``invoice_snapshots``): one row per invoice per snapshot date, with its open amount,
the invoice's amount, customer, currency, dates and the file it came from. Re-ingesting a file
changes nothing (the ingest log knows its content). A second, different file for a date already
loaded is a correction: it becomes that date's picture, and the rows it replaces stay, marked
``superseded_by`` the correcting file. ``snapshot_files`` lists every snapshot file with its date,
where the date came from, its row count and open total.

What the history implies (settlements, cash collected) is computed in
:mod:`salesops_analysis.metrics.snapshots`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import FileRefusedError

if TYPE_CHECKING:
    import duckdb

    from ..config import KindOptions
    from .read import RawTable

__all__ = [
    "SNAPSHOT_TABLES",
    "after_load",
    "create_snapshot_tables",
    "date_from_name",
    "date_from_title",
    "record_snapshot",
    "snapshot_key",
    "snapshot_date",
]

#: The tables this module keeps in the warehouse.
SNAPSHOT_TABLES = ("invoice_snapshots", "snapshot_files")

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january", "januar", "janvier"),
            ("feb", "february", "februar", "fevrier"),
            ("mar", "march", "maerz", "märz", "mars"),
            ("apr", "april", "avril"),
            ("may", "mai"),
            ("jun", "june", "juni", "juin"),
            ("jul", "july", "juli", "juillet"),
            ("aug", "august", "aout"),
            ("sep", "sept", "september", "septembre"),
            ("oct", "october", "okt", "oktober", "octobre"),
            ("nov", "november", "novembre"),
            ("dec", "december", "dez", "dezember", "decembre"),
        ],
        start=1,
    )
    for m in names
}

# In a file name: a year-first date standing alone (not inside a longer run of digits).
_NAME_DATE = re.compile(r"(?<!\d)(20\d\d|19\d\d)([-_.]?)(\d\d)\2(\d\d)(?!\d)")

# In a title line: the words that introduce the report's date, then the date.
_TITLE_WORDS = re.compile(
    r"\b(?:as\s+of|as\s+at|as\s+on|key\s+date|stichtag|report\s+date|statement\s+date"
    r"|open\s+items?\s+(?:at\s+key\s+date|at|on|as\s+of))\b[\s:]*(?P<rest>.*)",
    re.IGNORECASE,
)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\b")
_COMPACT = re.compile(r"^(\d{4})(\d\d)(\d\d)\b")
_NUMERIC = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d\d)\b")
_MONTH_FIRST = re.compile(r"^([A-Za-zäÄéû]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DAY_FIRST = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\.?\s+([A-Za-zäÄéû]+)\.?,?\s+(\d{4})\b")


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def date_from_name(name: str) -> dt.date | None:
    """Return the date in a file name (``2025-06-30``, ``2025_06_30``, ``20250630``), or None.

    The last date in the name counts (``open_items_2025-07-01_for_2025-06-30.csv`` is a
    snapshot of June 30).

    Examples
    --------
    >>> date_from_name("open_items_2025-06-30.csv")
    datetime.date(2025, 6, 30)
    >>> date_from_name("AR_20250630.xlsx")
    datetime.date(2025, 6, 30)
    >>> date_from_name("invoices.csv") is None
    True
    """
    found = [_date(int(y), int(m), int(d)) for y, _, m, d in _NAME_DATE.findall(Path(name).stem)]
    found = [d for d in found if d is not None]
    return found[-1] if found else None


def _parse_title_date(text: str, day_first: bool) -> dt.date | None:
    text = text.strip()
    if m := _ISO.match(text):
        return _date(int(m[1]), int(m[2]), int(m[3]))
    if m := _COMPACT.match(text):
        return _date(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC.match(text):
        a, b, year = int(m[1]), int(m[3]), int(m[4])
        year += 2000 if year < 100 else 0
        # dots are day-first everywhere they are used; otherwise a part over 12 is the day,
        # and only then the kind's day_first option decides
        first_is_day = m[2] == "." or a > 12 or (b <= 12 and day_first)
        return _date(year, b, a) if first_is_day else _date(year, a, b)
    if m := _MONTH_FIRST.match(text):
        month = _MONTHS.get(m[1].lower())
        return _date(int(m[3]), month, int(m[2])) if month else None
    if m := _DAY_FIRST.match(text):
        month = _MONTHS.get(m[2].lower())
        return _date(int(m[3]), month, int(m[1])) if month else None
    return None


def date_from_title(lines: list[str], *, day_first: bool = False) -> dt.date | None:
    """Return the date a report's title block states ("As of June 30, 2025"), or None.

    Only a date introduced by "as of", "as at", "as on", "key date", "Stichtag", "report
    date", "statement date" or "open items at" counts: a print time in a footer or a date
    range in a subtitle does not.

    Parameters
    ----------
    lines : list of str
        The title lines, top first.
    day_first : bool
        Read an ambiguous ``01/02/2025`` as 1 February (the kind's ``day_first`` option).

    Examples
    --------
    >>> date_from_title(["Acme Ltd", "A/R Aging Detail", "As of June 30, 2025"])
    datetime.date(2025, 6, 30)
    >>> date_from_title(["Aged Debtors", "as at 30/06/2025"])
    datetime.date(2025, 6, 30)
    >>> date_from_title(["Offene Posten", "Stichtag: 30.06.2025"])
    datetime.date(2025, 6, 30)
    """
    for line in lines:
        for m in _TITLE_WORDS.finditer(line.replace('"', " ").replace(",,", " ")):
            found = _parse_title_date(m["rest"], day_first)
            if found is not None:
                return found
    return None


def snapshot_key(path: str | Path, as_of: dt.date | None, options: KindOptions) -> str:
    """Return what tells a snapshot file from another with the same bytes ("" for a file not
    read as a snapshot): the date in its name, else the ``--as-of`` date (a date in the title
    is part of the bytes already).

    Added to the content hash, so that re-ingesting a file is a no-op, while an unchanged list
    of open items exported on two days is two snapshots.
    """
    day = date_from_name(Path(path).name) or as_of if options.snapshot else None
    return f":snapshot:{day}" if day else ""


def snapshot_date(
    path: str | Path,
    raw: RawTable,
    options: KindOptions,
    as_of: dt.date | None = None,
) -> tuple[dt.date, str]:
    """Return a snapshot file's date and where it came from (``file name``, ``title``,
    ``--as-of``).

    Raises
    ------
    FileRefusedError
        No date in the name, the title or ``as_of``; or the name and the title disagree.
    """
    from .layout import TITLE

    from_name = date_from_name(Path(path).name)
    titles = [s.text for s in raw.skipped if s.reason == TITLE]
    from_title = date_from_title(titles, day_first=options.day_first)
    if from_name and from_title and from_name != from_title:
        raise FileRefusedError(
            path,
            f"snapshot date unclear: the file name says {from_name}, the title says "
            f"{from_title}; rename the file or fix the title",
        )
    if from_name:
        return from_name, "file name"
    if from_title:
        return from_title, "title"
    if as_of is not None:
        return as_of, "--as-of"
    raise FileRefusedError(
        path,
        "snapshot: true but no snapshot date: none in the file name (e.g. open_items_2025-06-30"
        ".csv) or the title block (e.g. 'As of June 30, 2025'); pass --as-of DATE",
    )


def create_snapshot_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the snapshot history tables if the warehouse has none yet."""
    con.execute("""
        CREATE TABLE IF NOT EXISTS invoice_snapshots (
            snapshot_date DATE, invoice_id VARCHAR, customer_id VARCHAR, currency VARCHAR,
            invoice_date DATE, due_date DATE, amount DOUBLE, open_amount DOUBLE,
            file_id INTEGER, file_name VARCHAR, line BIGINT, _key VARCHAR,
            superseded_by INTEGER)""")
    con.execute("""
        CREATE TABLE IF NOT EXISTS snapshot_files (
            snapshot_date DATE, file_id INTEGER, file_name VARCHAR, date_from VARCHAR,
            open_items BIGINT, open_total DOUBLE, loaded_at TIMESTAMP, superseded_by INTEGER)""")


def record_snapshot(
    con: duckdb.DuckDBPyConnection,
    *,
    file_id: int,
    file_name: str,
    day: dt.date,
    date_from: str,
) -> int:
    """Add the loaded file (the ingest's ``_clean`` rows) to the history as the picture of
    ``day``; return how many earlier rows of that date it supersedes.

    The open amount is the mapped ``open_amount`` (the balance), else ``amount - paid_amount``;
    an open-items list with neither column shows every listed invoice as wholly open.
    """
    create_snapshot_tables(con)
    superseded = con.execute(
        "SELECT count(*) FROM invoice_snapshots WHERE snapshot_date = ? AND superseded_by IS NULL",
        [day],
    ).fetchall()[0][0]
    params = {"f": file_id, "d": day}
    con.execute(
        "UPDATE invoice_snapshots SET superseded_by = $f "
        "WHERE snapshot_date = $d AND superseded_by IS NULL",
        params,
    )
    con.execute(
        "UPDATE snapshot_files SET superseded_by = $f "
        "WHERE snapshot_date = $d AND superseded_by IS NULL",
        params,
    )
    con.execute(
        """
        INSERT INTO invoice_snapshots
        SELECT $d, invoice_id, customer_id, currency, invoice_date, due_date, amount,
               round(coalesce(open_amount, amount - coalesce(paid_amount, 0)), 2), $f, $n,
               _line, _key, NULL
        FROM _clean""",
        {**params, "n": file_name},
    )
    con.execute(
        """
        INSERT INTO snapshot_files
        SELECT $d, $f, $n, $w, count(*), coalesce(round(sum(open_amount), 2), 0),
               current_timestamp, NULL
        FROM invoice_snapshots WHERE file_id = $f""",
        {**params, "n": file_name, "w": date_from},
    )
    return int(superseded)


def after_load(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    file_id: int,
    file_name: str,
    snapshot: tuple[dt.date, str] | None,
) -> str:
    """Keep the snapshot history and what it implies current after a file was loaded; return
    the note ``salesops ingest`` prints for it ("" when there is nothing to say).

    A snapshot (``snapshot`` is its date and where the date came from) joins the history; a
    payments export loaded beside snapshots is checked against them. Either way the implied
    payments and the contradictions are recomputed (one SQL pass over the history).
    """
    if kind != "payments" and (kind != "invoices" or snapshot is None):
        return ""  # before importing the metrics (and pandas), which a plain load never needs
    from ..metrics.snapshots import has_snapshots, refresh_implied

    if kind == "invoices" and snapshot is not None:
        day, date_from = snapshot
        superseded = record_snapshot(
            con, file_id=file_id, file_name=file_name, day=day, date_from=date_from
        )
    elif kind == "payments" and has_snapshots(con):
        day, date_from, superseded = None, "", 0
    else:
        return ""
    has_payments = bool(
        con.execute("SELECT count(*) FROM ingest_log WHERE kind = 'payments'").fetchall()[0][0]
    )
    contradictions = refresh_implied(con, has_payments=has_payments)
    parts = []
    if day is not None:
        n, total = con.execute(
            "SELECT count(*), coalesce(sum(amount), 0) FROM implied_payments "
            "WHERE payment_date = ?",
            [day],
        ).fetchall()[0]
        parts.append(
            f"snapshot of {day} (date from {'' if date_from == '--as-of' else 'the '}"
            f"{date_from}): {n:,} implied payments on that date, {total:,.2f}"
        )
        if superseded:
            parts.append(f"corrects that date's picture ({superseded:,} earlier rows superseded)")
    if has_payments:
        parts.append(
            f"{contradictions:,} snapshot balances contradict the payments export"
            + (" (see table snapshot_contradictions)" if contradictions else "")
        )
    return "; ".join(parts)
