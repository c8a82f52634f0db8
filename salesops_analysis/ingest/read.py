"""Read an export file (CSV, XLSX, Parquet) into an Arrow table of strings.

Every value is read as text, exactly as exported, so that ids keep their leading zeros and the
cleaning step sees what the user sees. Each row carries its line number in the file (``_line``;
line 1 is the first line of the file) so that rejects can point at it.

The header is found as :func:`~salesops_analysis.ingest.layout.find_header` says (line 1 of a
plain export; below a title block in a report layout). Title lines, blank lines and one-cell
lines of the wrong width are kept as :class:`~salesops_analysis.ingest.layout.SkippedLine` s,
counted in ``rows_read``.

Problems that make the whole file unusable raise :class:`~salesops_analysis.FileRefusedError`
with a one-line reason: missing or empty file, binary or HTML content, corrupt workbook or
Parquet file, duplicate column names, unterminated quotes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .._errors import FileRefusedError
from ..config import KindOptions
from .layout import BLANK, HEADER_SEARCH_LINES, SHORT, TITLE, SkippedLine, find_header, name_columns
from .sniff import cell_text, detect_encoding, sniff_delimiter

__all__ = ["RaggedRow", "RawTable", "count_byte", "line_numbers", "read_export"]


@dataclass
class RaggedRow:
    """A CSV line whose number of fields differs from the header's."""

    line: int
    text: str
    expected: int
    actual: int


@dataclass
class RawTable:
    """An export as read: string columns plus ``_line``, and what reading found."""

    path: Path
    table: pa.Table
    columns: list[str]
    ragged: list[RaggedRow] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str | None = None
    excel: bool = False
    header_line: int = 1
    skipped: list[SkippedLine] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Return the number of lines read besides the header (ragged and skipped included)."""
        return self.table.num_rows + len(self.ragged) + len(self.skipped)


def read_export(
    path: str | Path, options: KindOptions | None = None, kind: str | None = None
) -> RawTable:
    """Return the file's rows as strings, with their line numbers.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.txt``/``.tsv`` (any of ``,`` ``;`` tab ``|``), ``.xlsx``/``.xlsm`` or
        ``.parquet`` file.
    options : KindOptions, optional
        Reading options (encoding, delimiter, sheet, header row).
    kind : str, optional
        The export's kind: with ``header_row: auto`` the header is the first line that maps
        every required column of this kind. Without a kind, the first non-blank line.

    Raises
    ------
    FileRefusedError
        The file cannot be read as a table at all.
    """
    path = Path(path)
    options = options or KindOptions()
    if not path.exists():
        raise FileRefusedError(path, "file not found")
    if path.is_dir():
        raise FileRefusedError(path, "is a folder, not a file")
    if path.stat().st_size == 0:
        raise FileRefusedError(path, "file is empty")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raw = _read_xlsx(path, options, kind)
    elif suffix in (".parquet", ".pq"):
        raw = _read_parquet(path)
    elif suffix == ".xls":
        raise FileRefusedError(
            path, "old .xls workbooks are not supported: save it as .xlsx or CSV"
        )
    else:
        raw = _read_csv(path, options, kind)
    _check_header(path, raw.columns)
    if raw.table.num_rows + len(raw.ragged) == 0:
        raise FileRefusedError(path, "has a header but no data rows")
    return raw


def _check_header(path: Path, columns: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(columns):
        if name.lower() in seen:
            raise FileRefusedError(
                path,
                f"duplicate column name '{name}' (columns {seen[name.lower()] + 1} and {i + 1})",
            )
        seen[name.lower()] = i


def _line_text(cells: list[str], sep: str) -> str:
    return sep.join(cells).rstrip(sep + " ")


def _read_csv(path: Path, options: KindOptions, kind: str | None = None) -> RawTable:
    data = path.read_bytes()
    head = data[:65536]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefusedError(path, "not a text table (binary content)")
    encoding = detect_encoding(path, head, options.encoding)
    try:
        text_head = head.decode(encoding, errors="replace").lstrip("\ufeff")
    except LookupError:
        raise FileRefusedError(path, f"unknown encoding '{encoding}' in config") from None
    stripped = text_head.lstrip().lower()
    if stripped.startswith(("<!doctype", "<html", "<?xml", "<table")):
        raise FileRefusedError(path, "an HTML/XML page, not a CSV export")
    if data.startswith(b"PK\x03\x04"):
        raise FileRefusedError(path, "a zip/xlsx file with a CSV name: rename it to .xlsx")
    first_lines = text_head.splitlines()[: HEADER_SEARCH_LINES + 1]
    if len(data) > len(head) and len(first_lines) > 1:
        first_lines = first_lines[:-1]  # the sample may end inside the last line
    if not any(line.strip() for line in first_lines):
        raise FileRefusedError(path, "first line is blank: expected a header row")
    delimiter = sniff_delimiter(first_lines, options.delimiter)
    rows = list(enumerate(csv.reader(first_lines, delimiter=delimiter), start=1))
    header_line = find_header(rows, kind, options)
    if header_line == 1 and not first_lines[0].strip():
        raise FileRefusedError(path, "first line is blank: expected a header row")
    if count_byte(data, b'"') % 2 == 1:
        raise FileRefusedError(path, "unterminated quoted field (odd number of '\"' characters)")
    if header_line != 1:
        return _read_csv_slow(path, data, encoding, delimiter, header_line)
    columns = name_columns(next(csv.reader([first_lines[0]], delimiter=delimiter)))
    _check_header(path, columns)

    ragged: list[RaggedRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        ragged.append(RaggedRow(-1, row.text, row.expected_columns, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)),
            read_options=pacsv.ReadOptions(column_names=columns, skip_rows=1, encoding=encoding),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if encoding == "utf-8" and options.encoding == "auto" and "UTF8" in str(exc).upper():
            return _read_csv_as(path, options, "cp1252", kind)
        raise FileRefusedError(path, f"not a readable CSV table ({_first_line(exc)})") from None
    # one line per row (and the header): else blank lines (which the fast reader drops) or line
    # breaks inside quoted values moved the line numbers
    one_line_each = count_byte(data, b"\n") in (table.num_rows, table.num_rows + 1)
    if ragged or not one_line_each:
        # Rare: exact line numbers need a line-aware parser. Python's csv module counts lines.
        return _read_csv_slow(path, data, encoding, delimiter, 1)
    lines = line_numbers(2, table.num_rows)
    return RawTable(path, table.append_column("_line", lines), columns, [], encoding, delimiter)


def count_byte(data: bytes, byte: bytes) -> int:
    """Return how many times the one-byte ``byte`` occurs in ``data`` (``data.count(byte)``).

    Compared by NumPy a few megabytes at a time: about twice as fast as ``bytes.count`` on an
    export of a hundred megabytes, and without a temporary array the size of the file.

    Examples
    --------
    >>> count_byte(b'a,"b",c', b'"')
    2
    """
    values = np.frombuffer(data, dtype=np.uint8)
    code = byte[0]
    step = 1 << 22
    return sum(
        int(np.count_nonzero(values[i : i + step] == code)) for i in range(0, len(values), step)
    )


def line_numbers(first: int, n: int) -> pa.Array:
    """Return the int64 array ``first, first + 1, ..., first + n - 1``.

    Built from a NumPy buffer: ``pa.array`` of Python or NumPy values imports pandas (about
    0.16 s), which a plain CSV's ingest otherwise never needs.

    Examples
    --------
    >>> line_numbers(2, 3).to_pylist()
    [2, 3, 4]
    """
    values = np.arange(first, first + n, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(values)])


def _read_csv_as(path: Path, options: KindOptions, encoding: str, kind: str | None) -> RawTable:
    opts = KindOptions(**{**options.__dict__, "encoding": encoding})
    return _read_csv(path, opts, kind)


def _read_csv_slow(
    path: Path, data: bytes, encoding: str, delimiter: str, header_line: int
) -> RawTable:
    """Read line by line: a title block, blank lines or lines of the wrong width."""
    try:
        text = data.decode(encoding, errors="strict").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise FileRefusedError(path, f"not {encoding} text ({_first_line(exc)})") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    skipped: list[SkippedLine] = []
    header: list[str] | None = None
    start = 1
    for record in reader:
        if start >= header_line:
            header = record
            break
        skipped.append(SkippedLine(start, _line_text(record, delimiter), TITLE))
        start = reader.line_num + 1
    if header is None or not any(c.strip() for c in header):
        raise FileRefusedError(path, f"line {header_line} is blank or missing: expected a header")
    columns = name_columns(header)
    _check_header(path, columns)
    n = len(columns)
    cols: list[list[str]] = [[] for _ in range(n)]
    lines: list[int] = []
    ragged: list[RaggedRow] = []
    start = reader.line_num + 1
    for record in reader:
        if not any(c.strip() for c in record):
            skipped.append(SkippedLine(start, _line_text(record, delimiter), BLANK))
        elif len(record) != n:
            if sum(1 for c in record if c.strip()) <= 1:
                skipped.append(SkippedLine(start, _line_text(record, delimiter), SHORT))
            else:
                ragged.append(RaggedRow(start, delimiter.join(record), n, len(record)))
        else:
            for i, value in enumerate(record):
                cols[i].append(value)
            lines.append(start)
        start = reader.line_num + 1
    arrays = {c: pa.array(v, type=pa.string()) for c, v in zip(columns, cols, strict=True)}
    arrays["_line"] = pa.array(lines, type=pa.int64())
    return RawTable(
        path,
        pa.table(arrays),
        columns,
        ragged,
        encoding,
        delimiter,
        header_line=header_line,
        skipped=skipped,
    )


def _read_xlsx(path: Path, options: KindOptions, kind: str | None = None) -> RawTable:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileRefusedError(
            path, f"not a readable .xlsx workbook ({_first_line(exc)})"
        ) from None
    try:
        if options.sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(options.sheet, int):
            ws = wb.worksheets[options.sheet]
        else:
            if options.sheet not in wb.sheetnames:
                raise FileRefusedError(
                    path, f"no sheet named '{options.sheet}' (sheets: {', '.join(wb.sheetnames)})"
                )
            ws = wb[options.sheet]
        rows = [
            [cell_text(v) for v in row] if row is not None else []
            for row in ws.iter_rows(values_only=True)
        ]
    finally:
        wb.close()
    if not rows:
        raise FileRefusedError(path, "the sheet is empty")
    header_line = find_header(list(enumerate(rows[:HEADER_SEARCH_LINES], start=1)), kind, options)
    if header_line > len(rows):
        raise FileRefusedError(path, f"header_row {header_line} is past the end of the sheet")
    header = rows[header_line - 1]
    while header and not header[-1].strip():
        header = header[:-1]
    if not header:
        raise FileRefusedError(path, f"row {header_line} is blank: expected a header row")
    columns = name_columns(header)
    _check_header(path, columns)
    n = len(columns)
    skipped = [
        SkippedLine(i, _line_text(row, ", "), TITLE)
        for i, row in enumerate(rows[: header_line - 1], start=1)
    ]
    cols: list[list[str]] = [[] for _ in range(n)]
    lines: list[int] = []
    for line, row in enumerate(rows[header_line:], start=header_line + 1):
        if not any(v.strip() for v in row):
            skipped.append(SkippedLine(line, _line_text(row, ", "), BLANK))
            continue
        values = row[:n] + [""] * (n - len(row))
        for i, v in enumerate(values):
            cols[i].append(v)
        lines.append(line)
    arrays = {c: pa.array(v, type=pa.string()) for c, v in zip(columns, cols, strict=True)}
    arrays["_line"] = pa.array(lines, type=pa.int64())
    return RawTable(
        path,
        pa.table(arrays),
        columns,
        [],
        "xlsx",
        None,
        excel=True,
        header_line=header_line,
        skipped=skipped,
    )


def _read_parquet(path: Path) -> RawTable:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileRefusedError(path, f"not a readable Parquet file ({_first_line(exc)})") from None
    columns = [c.strip() for c in table.column_names]
    _check_header(path, columns)
    arrays = {}
    for name, col in zip(columns, table.columns, strict=True):
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S")
        elif not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
            col = pc.cast(col, pa.string())
        arrays[name] = pc.fill_null(col, "")
    # Parquet has no header line: _line is the row number, from 1
    arrays["_line"] = pa.array(range(1, table.num_rows + 1), type=pa.int64())
    return RawTable(path, pa.table(arrays), columns, [], "parquet", None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
