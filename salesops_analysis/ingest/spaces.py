"""Spaces around values: found and removed before the parse, as DuckDB's ``trim`` would.

Every value of an export is read without the spaces around it (``" INV-1 "`` is ``INV-1``). The
parse's SQL used to ``trim`` every value of every column, which copied all the text and took
about a quarter of the parse. Now the columns that have such spaces are trimmed by Arrow
before the parse (:func:`trimmed_columns`), and the SQL reads every value as it is
(:func:`~salesops_analysis.ingest.parse_sql.trim_sql`). Most columns of a real export have no
surrounding spaces at all: :func:`may_need_trim` tells them apart without copying anything.

What counts as a space is what DuckDB's ``trim`` removes (:data:`SPACES`: the Unicode space
separators), so the values parsed are the same either way; the raw values shown in the
rejects stay as the file has them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["SPACES", "may_need_trim", "trim_spaces", "trimmed_columns"]

#: The characters DuckDB's ``trim(text)`` removes from both ends: the space and the other
#: Unicode space separators (category Zs). A test compares it with DuckDB's own ``trim``.
SPACES = " \u00a0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u202f\u205f\u3000"


def may_need_trim(column: pa.ChunkedArray | pa.Array) -> bool:
    """Return False only when no value of ``column`` starts or ends with a space.

    A value can lose something to a trim only when its first or last byte is a space or any
    non-ASCII byte (every character of :data:`SPACES` but the space is non-ASCII). Those bytes
    are looked up at the values' edges in the Arrow buffers, without a copy of the text (a few
    milliseconds per million values). Anything but Arrow ``string`` or ``large_string`` text
    may need a trim.

    Examples
    --------
    >>> may_need_trim(pa.array(["INV-1", "", "12.50"]))
    False
    >>> may_need_trim(pa.array(["INV-1", "12.50 "]))
    True
    >>> may_need_trim(pa.array(["\\u00a0INV-1"]))
    True
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for chunk in chunks:
        if pa.types.is_string(chunk.type):
            width = np.int32
        elif pa.types.is_large_string(chunk.type):
            width = np.int64
        else:
            return True
        _, offsets, data = chunk.buffers()
        if data is None or len(chunk) == 0 or data.size == 0:
            continue  # no text at all: every value is empty (or missing)
        text = np.frombuffer(data, dtype=np.uint8)
        edge = (text == 0x20) | (text >= 0x80)  # a space, or part of a non-ASCII character
        if not edge.any():
            continue
        bounds = np.frombuffer(offsets, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
        starts, ends = bounds[:-1], bounds[1:]
        # each filled value's first byte (at its start) and last byte (just before its end)
        filled = ends > starts
        first = edge.take(starts, mode="clip") & filled
        last = edge.take(ends - 1, mode="clip") & filled
        if first.any() or last.any():
            return True
    return False


def trim_spaces(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Return the text of ``column`` without the :data:`SPACES` around each value.

    Examples
    --------
    >>> trim_spaces(pa.array([" INV-1 ", "\\u00a012.50", "a b"])).to_pylist()
    ['INV-1', '12.50', 'a b']
    """
    return pc.utf8_trim(column, characters=SPACES)


def trimmed_columns(table: pa.Table, names: list[str]) -> tuple[pa.Table, dict[str, str]]:
    """Return ``table`` with a trimmed copy of each column of ``names`` that needs one, and
    where the trimmed text of each of ``names`` is: itself, or the copy (``_trimmed_<n>``).

    Examples
    --------
    >>> t = pa.table({"id": [" A1", "B2"], "amount": ["1.50", "2"]})
    >>> out, where = trimmed_columns(t, ["id", "amount"])
    >>> where
    {'id': '_trimmed_0', 'amount': 'amount'}
    >>> out.column("_trimmed_0").to_pylist()
    ['A1', 'B2']
    """
    where: dict[str, str] = {}
    taken = set(table.column_names)
    for name in dict.fromkeys(names):
        column = table.column(name)
        if not may_need_trim(column):
            where[name] = name
            continue
        copy = f"_trimmed_{len(where)}"
        while copy in taken:
            copy = "_" + copy
        table = table.append_column(copy, trim_spaces(column))
        taken.add(copy)
        where[name] = copy
    return table, where
