"""Read an export file (CSV, XLSX, Parquet) into an Arrow table of strings.

Every value is read as text, exactly as exported, so that ids keep their leading zeros and the
cleaning step sees what the user sees. Each row carries its line number in the file (``_line``;
the header is line 1) so that rejects can point at it.

Problems that make the whole file unusable raise :class:`~salesops_analysis.FileRefusedError`
with a one-line reason: missing or empty file, binary or HTML content, corrupt workbook or
Parquet file, duplicate column names, unterminated quotes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .._errors import FileRefusedError
from ..config import KindOptions

__all__ = ["RaggedRow", "RawTable", "read_export"]

_DELIMITERS = [",", ";", "\t", "|"]


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

    @property
    def rows_read(self) -> int:
        """Return the number of data rows in the file (ragged rows included)."""
        return self.table.num_rows + len(self.ragged)


def read_export(path: str | Path, options: KindOptions | None = None) -> RawTable:
    """Return the file's rows as strings, with their line numbers.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.txt``/``.tsv`` (any of ``,`` ``;`` tab ``|``), ``.xlsx``/``.xlsm`` or
        ``.parquet`` file.
    options : KindOptions, optional
        Reading options (encoding, delimiter, sheet).

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
        raw = _read_xlsx(path, options)
    elif suffix in (".parquet", ".pq"):
        raw = _read_parquet(path)
    elif suffix == ".xls":
        raise FileRefusedError(
            path, "old .xls workbooks are not supported: save it as .xlsx or CSV"
        )
    else:
        raw = _read_csv(path, options)
    _check_header(path, raw.columns)
    if raw.rows_read == 0:
        raise FileRefusedError(path, "has a header but no data rows")
    return raw


def _check_header(path: Path, columns: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(columns):
        if name == "":
            raise FileRefusedError(path, f"column {i + 1} has an empty header")
        if name.lower() in seen:
            raise FileRefusedError(
                path,
                f"duplicate column name '{name}' (columns {seen[name.lower()] + 1} and {i + 1})",
            )
        seen[name.lower()] = i


def _detect_encoding(path: Path, head: bytes, option: str) -> str:
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


def _sniff_delimiter(header: str, option: str) -> str:
    if option != "auto":
        return "\t" if option in ("\\t", "tab") else option
    counts = {d: _count_outside_quotes(header, d) for d in _DELIMITERS}
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


def _read_csv(path: Path, options: KindOptions) -> RawTable:
    data = path.read_bytes()
    head = data[:65536]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefusedError(path, "not a text table (binary content)")
    encoding = _detect_encoding(path, head, options.encoding)
    try:
        text_head = head.decode(encoding, errors="replace").lstrip("\ufeff")
    except LookupError:
        raise FileRefusedError(path, f"unknown encoding '{encoding}' in config") from None
    stripped = text_head.lstrip().lower()
    if stripped.startswith(("<!doctype", "<html", "<?xml", "<table")):
        raise FileRefusedError(path, "an HTML/XML page, not a CSV export")
    if data.startswith(b"PK\x03\x04"):
        raise FileRefusedError(path, "a zip/xlsx file with a CSV name: rename it to .xlsx")
    header_line = text_head.splitlines()[0] if text_head.strip() else ""
    if not header_line.strip():
        raise FileRefusedError(path, "first line is blank: expected a header row")
    delimiter = _sniff_delimiter(header_line, options.delimiter)
    if np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == ord('"')) % 2 == 1:
        raise FileRefusedError(path, "unterminated quoted field (odd number of '\"' characters)")
    columns = [c.strip() for c in next(csv.reader([header_line], delimiter=delimiter))]
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
            return _read_csv_as(path, options, "cp1252")
        raise FileRefusedError(path, f"not a readable CSV table ({_first_line(exc)})") from None
    blank_lines = b"\n\n" in data or b"\n\r\n" in data
    if ragged or blank_lines:
        # Rare: exact line numbers need a line-aware parser. Python's csv module counts lines.
        return _read_csv_slow(path, data, encoding, delimiter, columns)
    lines = pa.array(range(2, table.num_rows + 2), type=pa.int64())
    return RawTable(path, table.append_column("_line", lines), columns, [], encoding, delimiter)


def _read_csv_as(path: Path, options: KindOptions, encoding: str) -> RawTable:
    opts = KindOptions(**{**options.__dict__, "encoding": encoding})
    return _read_csv(path, opts)


def _read_csv_slow(
    path: Path, data: bytes, encoding: str, delimiter: str, columns: list[str]
) -> RawTable:
    text = data.decode(encoding, errors="strict").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader)
    n = len(columns)
    cols: list[list[str]] = [[] for _ in range(n)]
    lines: list[int] = []
    ragged: list[RaggedRow] = []
    start = reader.line_num + 1
    for record in reader:
        if not record or record == [""]:
            start = reader.line_num + 1
            continue
        if len(record) != n:
            ragged.append(RaggedRow(start, delimiter.join(record), n, len(record)))
        else:
            for i, value in enumerate(record):
                cols[i].append(value)
            lines.append(start)
        start = reader.line_num + 1
    arrays = {c: pa.array(v, type=pa.string()) for c, v in zip(columns, cols, strict=True)}
    arrays["_line"] = pa.array(lines, type=pa.int64())
    return RawTable(path, pa.table(arrays), columns, ragged, encoding, delimiter)


def _cell_text(value: object) -> str:
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


def _read_xlsx(path: Path, options: KindOptions) -> RawTable:
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
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise FileRefusedError(path, "the sheet is empty")
        while header and header[-1] is None:
            header = header[:-1]
        columns = [_cell_text(h).strip() for h in header]
        _check_header(path, columns)
        n = len(columns)
        cols: list[list[str]] = [[] for _ in range(n)]
        lines: list[int] = []
        for line, row in enumerate(rows, start=2):
            if row is None or all(v is None for v in row):
                continue
            values = list(row[:n]) + [None] * (n - len(row))
            for i, v in enumerate(values):
                cols[i].append(_cell_text(v))
            lines.append(line)
    finally:
        wb.close()
    arrays = {c: pa.array(v, type=pa.string()) for c, v in zip(columns, cols, strict=True)}
    arrays["_line"] = pa.array(lines, type=pa.int64())
    return RawTable(path, pa.table(arrays), columns, [], "xlsx", None, excel=True)


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
