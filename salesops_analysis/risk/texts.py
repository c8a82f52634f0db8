"""Text columns built by Arrow over whole columns, for the worklists.

A worklist of a million invoices has a dozen text columns; building each through Python
strings row by row takes seconds, so the pieces here join, pick and format whole Arrow arrays
(and format a date or a code's text once per distinct value). Every result is the same text a
row-by-row build gives; ``tests/risk/test_worklist.py`` checks them against pandas.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "TEXT",
    "as_text",
    "code_text",
    "date_text",
    "join_text",
    "select_text",
    "take",
    "text_column",
]

#: The Arrow type of every text the worklists build.
TEXT = pa.large_string()


def code_text(codes: np.ndarray, values: Sequence[str]) -> pd.Series:
    """Return ``values[code]`` for every code, as a string column.

    Examples
    --------
    >>> code_text(np.array([1, 0, 1]), ["no", "yes"]).tolist()
    ['yes', 'no', 'yes']
    """
    decoded = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(values)).dictionary_decode()
    return pd.Series(pd.array(decoded, dtype="str"))


def as_text(values) -> pa.Array:
    """Return ``values`` (a pandas column, an Arrow array) as one large-string Arrow array."""
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(TEXT)


def join_text(*parts) -> pa.Array:
    """Return the texts concatenated element-wise (a ``str`` part is the same for every row);
    null where any part is null.

    Examples
    --------
    >>> join_text("due ", pa.array(["today", None])).to_pylist()
    ['due today', None]
    """
    parts = [pa.scalar(p, TEXT) if isinstance(p, str) else p.cast(TEXT) for p in parts]
    return pc.binary_join_element_wise(*parts, pa.scalar("", TEXT))


def select_text(conditions: Sequence[np.ndarray], choices: Sequence, default) -> pa.Array:
    """Return, per row, the choice of the first condition that holds, else ``default``: the
    Arrow twin of :func:`numpy.select` for text (a ``str`` choice is the same for every row).

    Examples
    --------
    >>> yes, no = np.array([True, False, False]), np.array([True, True, False])
    >>> select_text([yes, no], ["a", pa.array(["b1", "b2", "b3"])], "c").to_pylist()
    ['a', 'b2', 'c']
    """
    out = default if not isinstance(default, str) else pa.scalar(default, TEXT)
    for condition, choice in zip(reversed(conditions), reversed(choices), strict=True):
        value = pa.scalar(choice, TEXT) if isinstance(choice, str) else choice
        out = pc.if_else(pa.array(condition), value, out)
    return out


def text_column(values: pa.Array) -> pd.Series:
    """Return an Arrow text array as a pandas string column."""
    return pd.Series(pd.array(values, dtype="str"))


def take(values, positions: np.ndarray) -> pa.Array:
    """Return ``values`` (an Arrow array or pandas column) at ``positions`` (null where -1)."""
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    return arr.take(pa.array(positions, mask=positions < 0))


def date_text(values: pa.Array) -> pa.Array:
    """Return each timestamp as 'YYYY-MM-DD' (null stays null), formatted once per distinct
    value (Arrow's ``strftime`` formats every row)."""
    encoded = pc.dictionary_encode(values)
    days = encoded.dictionary.to_numpy(zero_copy_only=False).astype("datetime64[D]")
    texts = pa.array(np.datetime_as_string(days, unit="D"), TEXT)
    return pa.DictionaryArray.from_arrays(encoded.indices, texts).dictionary_decode()
