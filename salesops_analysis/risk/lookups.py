"""Who and what per invoice or customer: the latest entry per target, customers as codes, each
customer's latest sales rep.

These are the lookups both worklists (invoices and accounts) make over whole columns; each is
the same choice a stable sort of the rows would make, without sorting a million rows in Python.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..metrics.days import day_numbers
from ..metrics.ids import id_keys, row_positions
from .texts import TEXT, take

__all__ = ["customer_codes", "latest_entry", "latest_rep"]


def latest_entry(rows: np.ndarray, n: int, date: pd.Series, ident: pd.Series) -> np.ndarray:
    """Return, for each of ``n`` targets, the position of its latest entry by ``(date,
    ident)`` among entries for target ``rows`` (ties: the later entry), or -1.

    The same choice as sorting by (row, date, ident) stably, missing values last, and keeping
    each row's last entry; Arrow sorts the keys without building a frame.

    Examples
    --------
    >>> date = pd.Series(pd.to_datetime(["2025-01-02", "2025-01-01", "2025-01-05"]))
    >>> latest_entry(np.array([0, 0, 2]), 3, date, pd.Series(["a", "b", "c"])).tolist()
    [0, -1, 2]
    """
    latest = np.full(n, -1, dtype=np.int64)
    if not len(rows):
        return latest
    table = pa.table(
        {
            "row": pa.array(rows),
            "date": pa.array(date),
            "ident": pa.array(ident),
            "at": pa.array(np.arange(len(rows))),
        }
    )
    order = pc.sort_indices(
        table,
        sort_keys=[(name, "ascending", "at_end") for name in ("row", "date", "ident", "at")],
    ).to_numpy()
    sorted_rows = rows[order]
    last = np.flatnonzero(np.r_[sorted_rows[1:] != sorted_rows[:-1], True])
    latest[sorted_rows[last]] = order[last]
    return latest


def customer_codes(customers: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Return a code per row of ``customers`` (ids compared ignoring case and surrounding
    spaces, as :func:`~salesops_analysis.metrics.ids.row_positions` does; -1 where missing)
    and the distinct normalized ids.

    Examples
    --------
    >>> code, distinct = customer_codes(pd.Series(["A", " a", "B", None], dtype="str"))
    >>> code.tolist(), distinct.tolist()
    ([0, 0, 1, -1], ['a', 'b'])
    """
    encoded = pc.dictionary_encode(id_keys(customers))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks()
    code = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return code, pd.Series(pd.array(encoded.dictionary.cast(TEXT), dtype="str"))


def latest_rep(orders: pd.DataFrame, code: np.ndarray, distinct: pd.Series) -> pa.Array:
    """Return the sales rep of each customer's latest order with a rep (null if none; of two
    orders on that day, the later row), as an Arrow array; ``code`` and ``distinct`` are the
    customers' :func:`customer_codes`."""
    if not len(orders) or not len(code):
        return pa.nulls(len(code), TEXT)
    # match the (many) orders to the (few) distinct customers first; then two grouped maxima
    # (latest day, then latest row on that day) instead of sorting a million orders
    pos = row_positions(orders["customer_id"], distinct)
    keep = np.flatnonzero((pos >= 0) & orders["sales_rep"].notna().to_numpy())
    group = pos[keep]
    day = day_numbers(orders["order_date"])[keep]
    latest = np.full(len(distinct), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, group, day)
    on_latest = day == latest[group]
    chosen = np.full(len(distinct), -1, dtype=np.int64)
    np.maximum.at(chosen, group[on_latest], keep[on_latest])
    return take(take(orders["sales_rep"], chosen), code)
