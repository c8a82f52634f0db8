"""What a file is written in: its encoding, its delimiter, and a workbook cell's text.

Small helpers shared by the reader (:mod:`~salesops_analysis.ingest.read`) and ``salesops
inspect`` (:mod:`~salesops_analysis.ingest.inspect`), so that both see a file the same way.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

__all__ = ["DELIMITERS", "cell_text", "detect_encoding", "sniff_delimiter"]

#: The delimiters tried on a CSV export, in the order ties are broken.
DELIMITERS = (",", ";", "\t", "|")


def detect_encoding(path: Path, head: bytes, option: str) -> str:
    """Return the encoding of a text file from its first bytes (``option`` unless ``"auto"``).

    A byte-order mark decides (UTF-8, UTF-16); else UTF-8 when the bytes decode as UTF-8 (a
    multi-byte character cut by the end of ``head`` is allowed), else cp1252.

    Examples
    --------
    >>> detect_encoding(Path("x.csv"), "Müller".encode("cp1252"), "auto")
    'cp1252'
    >>> detect_encoding(Path("x.csv"), b"\\xef\\xbb\\xbfid", "auto")
    'utf-8'
    """
    if option != "auto":
        return option
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a multi-byte character cut by the sample's end
            return "utf-8"
        return "cp1252"


def sniff_delimiter(lines: list[str], option: str) -> str:
    """Return the delimiter most used on one line among ``lines`` (``option`` unless ``"auto"``).

    Counting the most on any one line, not on the first, lets a title block (lines with few
    delimiters) sit above the header. Delimiters inside double quotes do not count; a file with
    none is read as comma-separated. ``"\\t"`` and ``"tab"`` mean a tab.

    Examples
    --------
    >>> sniff_delimiter(["Report", 'a;b;"c;d"', "1;2;3"], "auto")
    ';'
    >>> sniff_delimiter(["a"], "tab")
    '\\t'
    """
    if option != "auto":
        return "\t" if option in ("\\t", "tab") else option
    counts = {d: max(_count_outside_quotes(line, d) for line in lines) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _count_outside_quotes(line: str, ch: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == ch and not quoted:
            count += 1
    return count


def cell_text(value: object) -> str:
    """Return a workbook cell's value as the text ingest reads.

    Blank for an empty cell; a date as ISO ``YYYY-MM-DD`` (with the time when it has one); a
    whole float without ``.0`` (ids typed as numbers); anything else as ``str``.

    Examples
    --------
    >>> cell_text(dt.datetime(2025, 1, 31)), cell_text(1037.0), cell_text(None)
    ('2025-01-31', '1037', '')
    """
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
