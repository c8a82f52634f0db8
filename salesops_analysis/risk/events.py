"""The one counting primitive under the features: dated events of groups, summed up to a day.

Every point-in-time feature is a question of one shape: *for this group (a customer, an
invoice), what do its events dated before the day s add up to?* :class:`Events` holds the
events (a group code, a day and named weights per event) and answers that question for many
``(group, s)`` queries at once (a :class:`Query`), either for the events dated **strictly
before** s (:meth:`Events.before`) or **on or before** s (:meth:`Events.up_to`). Nothing else
in the features module counts.

The fast paths all live here, each checked against a plain loop in
``tests/risk/test_events.py``:

* **one scoring day** (every query on the same day, as when today's open invoices are
  scored): sums are ``np.bincount`` over the events of that day or before, with no sort;
* **many days** (training, drift): events sorted once by a packed ``(group, day)`` key
  (:func:`packed_keys`), cumulative sums, and two binary searches per query, the queries
  themselves sorted once (:attr:`Query.order`) and shared by every :class:`Events` asked;
* **windows by position** (the last n events before s): the sorted path, with bounds counted
  per group code instead of searched when all queries are on one day.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import numpy as np

__all__ = [
    "DAY_BITS",
    "Events",
    "LastEvents",
    "Query",
    "Window",
    "packed_keys",
    "sorted_bounds",
    "stable_order",
]

#: Bits of a packed ``(group, day)`` key that hold the day (days up to 2329-01-01 fit).
DAY_BITS = 17
_K = np.int64(1 << DAY_BITS)


def packed_keys(group: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Return one int64 key per ``(group, day)`` pair that sorts by group, then day.

    ``group * 2**DAY_BITS + day``: negative group codes (-1: no group) sort first.
    """
    return group.astype(np.int64) * _K + day.astype(np.int64)


def stable_order(keys: np.ndarray) -> np.ndarray:
    """Return ``np.argsort(keys, kind="stable")`` for int64 ``keys``.

    When each key's offset from the smallest and its position fit in one int64 together, the
    order is read off one plain sort of those packed numbers (a vectorized sort, no index
    array carried along, several times faster than an argsort of the keys); otherwise it is
    that argsort.
    """
    keys = np.asarray(keys, dtype=np.int64)
    n = len(keys)
    if n < 2:
        return np.arange(n, dtype=np.intp)
    bits = int(n - 1).bit_length()
    low = int(keys.min())
    if int(keys.max()) - low >= 1 << (62 - bits):
        return np.argsort(keys, kind="stable")
    packed = np.left_shift(keys - low, bits)
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    packed &= (1 << bits) - 1
    return packed.astype(np.intp, copy=False)


class Query:
    """The ``(group, day)`` points asked about: one per feature row.

    The order that sorts the points (needed by the many-days path) is computed once, when
    first needed, and shared by every :class:`Events` the query is asked of.
    """

    def __init__(self, group: np.ndarray, day: np.ndarray) -> None:
        self.group = np.asarray(group, dtype=np.int64)
        self.day = np.asarray(day, dtype=np.int64)
        one = len(self.day) > 0 and self.day.min() == self.day.max()
        #: The day of every query when they are all on one day, else ``None``.
        self.one_day: int | None = int(self.day[0]) if one else None

    def __len__(self) -> int:
        return len(self.group)

    @cached_property
    def order(self) -> np.ndarray:
        """Positions that sort the queries by (group, day); ties cannot matter."""
        return stable_order(packed_keys(self.group, self.day))


class Events:
    """Dated events per group, with named weights, summed per query up to a day.

    Parameters
    ----------
    group : ndarray of int
        The group code of each event: 0 or more, or -1 (no group; a group like any other).
    day : ndarray of int
        The day of each event (days since 1970-01-01).
    weights : mapping of str to ndarray
        Named weights per event; :meth:`Window.total` sums them.

    Notes
    -----
    Events with equal ``(group, day)`` keep their input order (it matters where a window is
    cut by position: :meth:`Window.last`). The sort is done on the first question that needs
    it, never for a one-day sum.
    """

    def __init__(
        self, group: np.ndarray, day: np.ndarray, weights: Mapping[str, np.ndarray]
    ) -> None:
        self.group = np.asarray(group, dtype=np.int64)
        self.day = np.asarray(day, dtype=np.int64)
        self.weights = dict(weights)

    def __len__(self) -> int:
        return len(self.group)

    def before(self, query: Query) -> Window:
        """Return, per query, the group's events dated strictly before its day."""
        return Window(self, query, include_day=False)

    def up_to(self, query: Query) -> Window:
        """Return, per query, the group's events dated on or before its day."""
        return Window(self, query, include_day=True)

    # -- the sorted form (many-days path and windows by position) ----------------------------
    @cached_property
    def _sorted(self) -> tuple[np.ndarray, np.ndarray]:
        keys = packed_keys(self.group, self.day)
        order = stable_order(keys)
        return order, keys[order]

    @property
    def keys(self) -> np.ndarray:
        """The packed ``(group, day)`` keys of the events, sorted."""
        return self._sorted[1]

    def sorted_weights(self, name: str) -> np.ndarray:
        """Return weight ``name`` of the events in the order of :attr:`keys`."""
        return self.weights[name][self._sorted[0]]

    def cumulative(self, name: str) -> np.ndarray:
        """Return ``[0, w0, w0 + w1, ...]`` of weight ``name`` in the order of :attr:`keys`."""
        cache = self.__dict__.setdefault("_cumulative", {})
        if name not in cache:
            cum = np.cumsum(self.sorted_weights(name), dtype="float64")
            cache[name] = np.concatenate([[0.0], cum])
        return cache[name]

    def bounds(self, query: Query, *, include_day: bool) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(lo, hi)``: per query, its window's first and past-the-end positions in
        :attr:`keys` (the group's events dated before, or on or before, its day)."""
        return sorted_bounds(self.keys, query, include_day=include_day)


def sorted_bounds(
    keys: np.ndarray, query: Query, *, include_day: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(lo, hi)`` positions in sorted packed ``keys`` (:func:`packed_keys`) of each
    query's group events dated before (or on or before) its day."""
    group, day = query.group, query.day
    if query.one_day is not None:
        first, last = int(group.min()), int(group.max())
        if last - first <= 4 * len(group) + 1024:
            return _one_day_bounds(keys, group, query.one_day, first, last, include_day)
    order = query.order
    side = "right" if include_day else "left"
    g, d = group[order], day[order]  # sorted needles: binary searches ~10x faster
    lo = np.empty(len(group), dtype=np.int64)
    hi = np.empty(len(group), dtype=np.int64)
    lo[order] = np.searchsorted(keys, packed_keys(g, np.zeros_like(d)), side="left")
    hi[order] = np.searchsorted(keys, packed_keys(g, d), side=side)
    return lo, hi


def _one_day_bounds(all_keys, group, day: int, first: int, last: int, include_day: bool):
    """Bounds of one-day queries with dense group codes, counted per code: events of the
    codes before it, and of its own those dated up to the day (they come first, as events
    are sorted by day within a group)."""
    width = last - first + 1
    a, b = np.searchsorted(all_keys, np.array([first, last + 1], dtype=np.int64) * _K)
    keys = all_keys[a:b]
    g = (keys >> DAY_BITS) - first  # the group part of a key (floor division by _K)
    d = keys & (_K - 1)  # its day part
    within = d <= day if include_day else d < day
    per_code = np.bincount(g, minlength=width)
    lo_c = np.cumsum(per_code) - per_code + a
    hi_c = lo_c + np.bincount(g[within], minlength=width)
    return lo_c[group - first], hi_c[group - first]


class Window:
    """Per query, the events of its group dated before (or on or before) its day.

    Built by :meth:`Events.before` and :meth:`Events.up_to`; nothing is computed until a
    total or a position is asked for.
    """

    def __init__(self, events: Events, query: Query, *, include_day: bool) -> None:
        self.events = events
        self.query = query
        self.include_day = include_day

    @cached_property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` positions of each query's events in the sorted events."""
        return self.events.bounds(self.query, include_day=self.include_day)

    def total(self, name: str) -> np.ndarray:
        """Return, per query, the sum of weight ``name`` over its events."""
        if self.query.one_day is not None:
            # one day for all: a weighted count per group code, no sort needed
            m, bins, n_bins = self._one_day_bins
            w = self.events.weights[name][m]
            # float64 even with no event in the window (bincount of nothing counts in int64)
            sums = np.bincount(bins, weights=w, minlength=n_bins).astype(np.float64, copy=False)
            return sums[self.query.group + 1]
        lo, hi = self.bounds
        c = self.events.cumulative(name)
        return c[hi] - c[lo]

    @cached_property
    def _one_day_bins(self) -> tuple[np.ndarray, np.ndarray, int]:
        """The events within the window of a one-day query, their bin (group code + 1, so
        that -1 is a bin) and the number of bins."""
        ev, q = self.events, self.query
        m = ev.day <= q.one_day if self.include_day else ev.day < q.one_day
        n_bins = max(int(ev.group.max(initial=-1)), int(q.group.max(initial=-1))) + 2
        return m, ev.group[m] + 1, n_bins

    def last(self, n: int) -> LastEvents:
        """Return, per query, only the last ``n`` of its events (by day; ties in input order)."""
        lo, hi = self.bounds
        return LastEvents(self.events, np.maximum(lo, hi - n), hi)

    def count(self) -> np.ndarray:
        """Return, per query, the number of its events."""
        lo, hi = self.bounds
        return hi - lo

    def last_value(self, name: str, *, default: float) -> np.ndarray:
        """Return, per query, weight ``name`` of its last event (``default`` where none)."""
        lo, hi = self.bounds
        if not len(self.events):
            return np.full(len(lo), default, dtype=np.float64)
        value = self.events.sorted_weights(name).astype(np.float64)[np.maximum(hi - 1, 0)]
        return np.where(hi > lo, value, default)


class LastEvents:
    """Per query, a positional slice of its window (see :meth:`Window.last`)."""

    def __init__(self, events: Events, lo: np.ndarray, hi: np.ndarray) -> None:
        self.events, self.lo, self.hi = events, lo, hi

    def total(self, name: str) -> np.ndarray:
        """Return, per query, the sum of weight ``name`` over the sliced events."""
        c = self.events.cumulative(name)
        return c[self.hi] - c[self.lo]
