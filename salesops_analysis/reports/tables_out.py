"""The one place report tables become files a spreadsheet may open: the formula rule and the CSV
writer every report uses.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return could be run
as a formula by a spreadsheet (OWASP "CSV injection"). :func:`risky` says which cells those are;
in a CSV they get a leading apostrophe (:func:`neutralize`, :func:`write_csv`), in an .xlsx
Excel's quote prefix (:func:`~salesops_analysis.reports.excel.write_worklist_xlsx`). Numbers and
dates are never touched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DANGEROUS", "is_risky", "neutralize", "risky", "write_csv"]

#: First characters that make a spreadsheet read a text cell as a formula.
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _is_text(col: pd.Series) -> bool:
    return (
        col.dtype == object
        or pd.api.types.is_string_dtype(col)
        or isinstance(col.dtype, pd.CategoricalDtype)
    )


def _text(values: pd.Series) -> pa.Array:
    """Return a column's values as Arrow strings (missing values null)."""
    text = values.astype("str").where(values.notna())
    arr = pa.array(text, type=pa.string(), from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def risky(text: pa.Array) -> pa.Array:
    """Return, per Arrow string, whether it begins with a :data:`DANGEROUS` character (null:
    False). The one formula rule: every CSV and XLSX writer asks it."""
    first = pc.utf8_slice_codeunits(text, 0, 1)
    return pc.is_in(first, value_set=pa.array(DANGEROUS, type=text.type)).fill_null(False)


def is_risky(values: pd.Series) -> np.ndarray:
    """Return :func:`risky` of a pandas column as a boolean numpy array."""
    return risky(_text(values)).to_numpy(zero_copy_only=False).astype(bool)


def _neutralized(text: pa.Array) -> pa.Array:
    """Return ``text`` with an apostrophe before every risky value, missing values as ''."""
    hit = risky(text)
    if pc.any(hit).as_py():
        text = pc.if_else(hit, pc.binary_join_element_wise("'", text, ""), text)
    return text.fill_null("")


def neutralize(values: pd.Series) -> pd.Series:
    """Return text values with an apostrophe before any that a spreadsheet would evaluate
    (missing values as empty text).

    >>> neutralize(pd.Series(["=1+1", "a=b", None, "-5"])).tolist()
    ["'=1+1", 'a=b', '', "'-5"]
    """
    out = _neutralized(_text(values))
    return pd.Series(pd.array(out, dtype="str"), index=values.index, name=values.name)


def _csv_column(col: pd.Series) -> pa.Array:
    if _is_text(col):
        return _neutralized(_text(col))
    if pd.api.types.is_datetime64_any_dtype(col):
        if (col.isna() | (col == col.dt.normalize())).all():  # dates: YYYY-MM-DD
            return pa.array(col.to_numpy(dtype="datetime64[D]"))  # Arrow date32
        return pa.array(col.to_numpy(dtype="datetime64[s]"))  # Arrow timestamp[s]
    return pa.array(col.to_numpy(), from_pandas=True)


def write_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write a report table as CSV: UTF-8, text quoted where needed and neutralized by the
    formula rule, dates as YYYY-MM-DD, numbers as numbers, missing values empty.

    Parameters
    ----------
    frame : DataFrame
        The table. With ``index``, its index (one or more levels) is written as the first
        columns, neutralized like any text.
    path : str or Path
        The file to write.
    index : bool
        Write the index too.

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    pyarrow writes it about ten times faster than ``DataFrame.to_csv``.
    """
    import pyarrow.csv as pa_csv

    if index:
        frame = frame.reset_index()
    columns = {str(name): _csv_column(frame.iloc[:, j]) for j, name in enumerate(frame.columns)}
    path = Path(path)
    pa_csv.write_csv(pa.table(columns), path)
    return path
