"""Labelled rows: which invoices (late model) or overdue snapshots (overdue model) have an
outcome known at a cut-off, uniform samples of them, and the time cuts between the sets.

``late`` rows
    Invoices scored on their invoice date; the label is "paid more than ``grace_days`` after
    due, or still unpaid then".
``overdue`` rows
    Snapshots of invoices still open :data:`OVERDUE_OFFSETS` (1, 15, 30, 60 and 90) days after
    due + grace; the label is "still not fully paid :data:`HORIZON_DAYS` (30) days later".

With ``decided``, a set keeps only rows whose outcome nothing after the cut-off can change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...metrics.days import NO_DAY
from ..features import Knowledge, features_at

__all__ = [
    "HORIZON_DAYS",
    "OVERDUE_OFFSETS",
    "LabelledRows",
    "add_features",
    "cut_at_share",
    "iso_date",
    "late_rows",
    "day_span",
    "overdue_rows",
    "sample_record",
    "uniform_sample",
]

#: Days after due + grace at which an open invoice is a snapshot of the overdue model.
OVERDUE_OFFSETS = (1, 15, 30, 60, 90)
#: The overdue model's horizon: still not fully paid this many days after the snapshot.
HORIZON_DAYS = 30


@dataclass
class LabelledRows:
    """Labelled rows: invoice row positions, snapshot days, outcomes (and, once computed, their
    feature table). ``total`` counts the rows the set was sampled from."""

    rows: np.ndarray
    snap: np.ndarray
    y: np.ndarray
    X: pd.DataFrame | None = None
    total: int = -1

    def __post_init__(self) -> None:
        if self.total < 0:
            self.total = len(self.y)


def late_rows(
    k: Knowledge, cutoff: int, lo: int, hi: int, *, decided: bool = False
) -> LabelledRows:
    """Return the invoices issued in [lo, hi) with outcome known at ``cutoff``, scored at issue.

    With ``decided``, only invoices already past due + grace at ``cutoff``: their outcome is
    known whatever the customer did. (Of the invoices not yet due, only those paid early are
    known: keeping them would teach the model that recent invoices are rarely late.)
    """
    known, late = k.late_label(cutoff)
    issued = k.ledger.issued
    keep = known & (issued >= lo) & (issued < hi)
    if decided:
        keep &= k.ledger.due + k.grace_days < cutoff
    rows = np.flatnonzero(keep)
    return LabelledRows(rows, issued[rows], late[rows].astype(np.int8))


def overdue_rows(
    k: Knowledge, cutoff: int, lo: int, hi: int, *, decided: bool = False
) -> LabelledRows:
    """Return the snapshots in [lo, hi) of invoices still open past due + grace, label known
    at ``cutoff`` (with ``decided``: only snapshots whose whole horizon has passed by
    ``cutoff``)."""
    led = k.ledger
    base = np.flatnonzero(k.modelled)
    start = led.due[base] + k.grace_days
    closed = np.where(k.closed[base] <= cutoff, k.closed[base], NO_DAY)
    issued = led.issued[base]
    parts = []
    # one offset at a time: the candidate snapshots of every invoice are never held at once
    for offset in OVERDUE_OFFSETS:
        snap = start + offset
        open_at_s = (closed > snap) & (issued <= snap)
        known = snap + HORIZON_DAYS <= cutoff
        if not decided:
            known |= closed <= cutoff
        keep = np.flatnonzero(open_at_s & known & (snap >= lo) & (snap < hi) & (snap <= cutoff))
        parts.append((base[keep], snap[keep], closed[keep] > snap[keep] + HORIZON_DAYS))
    rows, snap, y = (np.concatenate(p) for p in zip(*parts, strict=True))
    return LabelledRows(rows, snap, y.astype(np.int8))


def uniform_sample(r: LabelledRows, limit: int, seed: int) -> LabelledRows:
    """Return at most ``limit`` of the rows, drawn uniformly at random from the whole set (so
    from every part of its period, never the most recent ones only), in their order."""
    n = len(r.y)
    if n <= limit:
        return r
    keep = np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))
    return LabelledRows(r.rows[keep], r.snap[keep], r.y[keep], total=n)


def add_features(k: Knowledge, *sets: LabelledRows) -> None:
    """Compute the feature tables of several row sets in one pass (features depend on the
    invoice and snapshot day only, never on a label cut-off) and set each set's ``X``."""
    X = features_at(
        k, np.concatenate([s.rows for s in sets]), np.concatenate([s.snap for s in sets])
    )
    start = 0
    for s in sets:
        s.X = X.iloc[start : start + len(s.rows)].reset_index(drop=True)
        start += len(s.rows)


def cut_at_share(days: np.ndarray, share: float) -> int:
    """Return the first day of the latest ``share`` of rows (ties go to the later part).

    Examples
    --------
    >>> import numpy as np
    >>> cut_at_share(np.array([5, 1, 2, 3, 4, 6, 7, 8, 9, 10]), 0.3)
    8
    """
    s = np.sort(days)
    return int(s[min(len(s) - 1, int(np.floor(len(s) * (1 - share))))])


def iso_date(day: int) -> str:
    """Return day number ``day`` (days since 1970-01-01) as an ISO date.

    Examples
    --------
    >>> iso_date(20269)
    '2025-06-30'
    """
    return str(np.datetime64(int(day), "D"))


def day_span(days: np.ndarray) -> list[str | None]:
    """Return the first and last day of ``days`` as ISO dates (``[None, None]`` if empty)."""
    return [iso_date(days.min()), iso_date(days.max())] if len(days) else [None, None]


def sample_record(r: LabelledRows) -> dict:
    """Return how a set was sampled: rows kept, rows it was drawn from, first and last month."""
    ends = (r.snap.min(), r.snap.max()) if len(r.snap) else ()
    months = [str(np.datetime64(int(d), "D").astype("datetime64[M]")) for d in ends] or [None, None]
    return {"rows": int(len(r.y)), "drawn_from": int(r.total), "months": months}
