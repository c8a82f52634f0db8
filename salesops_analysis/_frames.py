"""Arrow/DuckDB → pandas conversion with the dtypes the package uses.

Amounts become ``float64``, each the nearest double to its decimal (``13.51`` reads as
``float("13.51")``, as a CSV reader would give it; cents are exact well beyond any invoice
total), dates become ``datetime64[us]`` and text the pandas ``str`` dtype, so that every
DataFrame the API returns has the same, vectorizable dtypes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

#: DuckDB types read as another type: decimals as doubles, dates as timestamps.
_SQL_CASTS = {"DATE": "TIMESTAMP"}


def arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """Return ``table`` as a DataFrame: decimals as float64, dates as datetime64[us]."""
    fields, columns = [], []
    for f, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_decimal(f.type):
            column = decimal_to_float(column)
            f = pa.field(f.name, pa.float64())
        elif pa.types.is_date(f.type):
            f = pa.field(f.name, pa.timestamp("us"))
            column = column.cast(f.type)
        fields.append(f)
        columns.append(column)
    # one block per column: no consolidated copy of the numeric and date columns (a quarter
    # less memory when reading a two-million-row table of invoices' columns)
    return pa.table(columns, schema=pa.schema(fields)).to_pandas(split_blocks=True)


def decimal_to_float(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Return a decimal column as float64, each value the nearest double to the decimal.

    The unscaled integer divided by ``10**scale``: both are exact doubles up to 2**53, so
    the quotient is correctly rounded (Arrow's own cast is not: about one value in eight
    comes out one unit in the last place off). Wider values fall back to Arrow's cast.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    unscaled = _unscaled(column)
    if unscaled is None:
        return column.cast(pa.float64())
    values = unscaled.astype(np.float64) / 10.0**column.type.scale
    mask = column.is_null().to_numpy(zero_copy_only=False) if column.null_count else None
    return pa.array(values, type=pa.float64(), mask=mask)


def _unscaled(column: pa.Array) -> np.ndarray | None:
    """Return the unscaled integers of a decimal128 array, or ``None`` where one does not
    fit in 2**53 (or the array is no decimal128)."""
    if not pa.types.is_decimal128(column.type):
        return None
    if not len(column):
        return np.zeros(0, dtype=np.int64)
    words = np.frombuffer(column.buffers()[1], dtype=np.int64)
    words = words[2 * column.offset : 2 * (column.offset + len(column))]
    low, high = words[0::2], words[1::2]
    if column.null_count:  # the slots of missing values may hold anything: zero them
        missing = column.is_null().to_numpy(zero_copy_only=False)
        low, high = np.where(missing, 0, low), np.where(missing, 0, high)
    # a value fits in an int64 where the high word is the low word's sign extension
    if not np.array_equal(high, np.where(low < 0, -1, 0)):
        return None
    if np.abs(low).max() > 2**53:
        return None
    return low


def query_frame(con, query: str, params: dict | None = None) -> pd.DataFrame:
    """Return the result of a DuckDB ``query`` as a DataFrame with the package's dtypes.

    DuckDB casts the decimals to doubles (correctly rounded) and the dates to timestamps, and
    hands its text over as Arrow large strings, which pandas keeps without a copy: a table
    is held once, not as DuckDB's result and a converted copy beside it.
    """
    rel = con.sql(query, params=params) if params else con.sql(query)
    select = []
    for name, kind in zip(rel.columns, rel.types, strict=True):
        text, quoted = str(kind), '"' + name.replace('"', '""') + '"'
        target = "DOUBLE" if text.startswith("DECIMAL") else _SQL_CASTS.get(text)
        select.append(f"CAST({quoted} AS {target}) AS {quoted}" if target else quoted)
    wrapped = f"SELECT {', '.join(select)} FROM ({query})"
    con.execute("SET arrow_large_buffer_size = true")
    try:
        result = con.sql(wrapped, params=params) if params else con.sql(wrapped)
        table = compact_text(result.to_arrow_table())
    finally:
        con.execute("RESET arrow_large_buffer_size")
    return table.to_pandas(split_blocks=True, self_destruct=True)


def compact_text(table: pa.Table) -> pa.Table:
    """Return ``table`` with each text column copied into one buffer of its exact size.

    DuckDB grows its text buffers with room to spare, in many batches: held as they are, a
    ten-million-row table of ids keeps about half as much again in slack. Each column is
    copied in turn, so at most one column is held twice.
    """
    for i, column in enumerate(table.columns):
        if pa.types.is_large_string(column.type) or pa.types.is_string(column.type):
            table = table.set_column(i, table.field(i), column.combine_chunks())
            del column
    return table
