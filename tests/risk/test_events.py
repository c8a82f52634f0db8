"""The counting primitive: every fast path gives what a plain loop over the events gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from salesops_analysis.risk.events import Events, Query, packed_keys, stable_order


# -- the plain reference: one query at a time, a mask and a sum ------------------------------
def _in_window(group, day, g, d, include_day):
    return np.flatnonzero((group == g) & ((day <= d) if include_day else (day < d)))


def reference_total(group, day, w, q_group, q_day, include_day):
    return np.array(
        [
            w[_in_window(group, day, g, d, include_day)].sum()
            for g, d in zip(q_group, q_day, strict=True)
        ]
    )


def reference_last(group, day, w, q_group, q_day, include_day, n):
    """Sum of the last ``n`` events (by day, ties in input order) of each query's window."""
    out = []
    for g, d in zip(q_group, q_day, strict=True):
        idx = _in_window(group, day, g, d, include_day)
        idx = idx[np.argsort(day[idx], kind="stable")]
        out.append(w[idx[max(len(idx) - n, 0) :]].sum() if n else 0.0)
    return np.array(out)


def reference_last_value(group, day, w, q_group, q_day, include_day, default):
    out = []
    for g, d in zip(q_group, q_day, strict=True):
        idx = _in_window(group, day, g, d, include_day)
        idx = idx[np.argsort(day[idx], kind="stable")]
        out.append(w[idx[-1]] if len(idx) else default)
    return np.array(out, dtype=float)


@st.composite
def books(draw, *, max_group: int = 6):
    """Events (group, day, an integer and a float weight) and queries; query days all on one
    day (the one-day paths) or spread (the sorted path); group codes dense or far apart (the
    one-day bounds counted per code, or searched)."""
    n = draw(st.integers(0, 40))
    spread = draw(st.sampled_from([1, 1_000_000]))  # dense codes, or codes far apart
    group = np.array(draw(st.lists(st.integers(-1, max_group), min_size=n, max_size=n)), int)
    group = np.where(group >= 0, group * spread, -1)  # codes are -1 (no group) or more
    day = np.array(draw(st.lists(st.integers(20_000, 20_012), min_size=n, max_size=n)))
    ints = np.array(draw(st.lists(st.integers(0, 40), min_size=n, max_size=n)), dtype=float)
    floats = np.array(
        draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=n, max_size=n)),
        dtype=float,
    )
    m = draw(st.integers(0, 25))
    q_group = np.array(draw(st.lists(st.integers(-1, max_group + 2), min_size=m, max_size=m)))
    if draw(st.booleans()):
        q_day = np.full(m, draw(st.integers(19_999, 20_013)))
    else:
        q_day = np.array(draw(st.lists(st.integers(19_999, 20_013), min_size=m, max_size=m)))
    return (
        group.astype(np.int64),
        day.astype(np.int64),
        ints,
        floats,
        np.where(q_group >= 0, q_group * spread, -1).astype(np.int64),
        q_day.astype(np.int64),
    )


@settings(max_examples=300, deadline=None)
@given(books(), st.booleans(), st.integers(0, 6))
def test_every_path_equals_the_plain_loop(book, include_day, n):
    group, day, ints, floats, q_group, q_day = book
    events = Events(group, day, {"ints": ints, "floats": floats})
    query = Query(q_group, q_day)
    window = events.up_to(query) if include_day else events.before(query)
    # integer-valued weights: exactly; float weights: up to the rounding of running sums
    np.testing.assert_array_equal(
        window.total("ints"), reference_total(group, day, ints, q_group, q_day, include_day)
    )
    np.testing.assert_allclose(
        window.total("floats"),
        reference_total(group, day, floats, q_group, q_day, include_day),
        atol=1e-9,
    )
    np.testing.assert_array_equal(
        window.count(),
        reference_total(group, day, np.ones(len(group)), q_group, q_day, include_day),
    )
    np.testing.assert_array_equal(
        window.last(n).total("ints"),
        reference_last(group, day, ints, q_group, q_day, include_day, n),
    )
    np.testing.assert_array_equal(
        window.last_value("ints", default=-1.0),
        reference_last_value(group, day, ints, q_group, q_day, include_day, -1.0),
    )


@settings(max_examples=100, deadline=None)
@given(books())
def test_bounds_are_a_binary_search_per_query(book):
    """The one-day bounds (counted once per group code) and the sorted-needle searches give
    every query the bounds a binary search of its own would."""
    group, day, ints, _, q_group, q_day = book
    events = Events(group, day, {"n": ints})
    for include_day, side in ((True, "right"), (False, "left")):
        lo, hi = events.bounds(Query(q_group, q_day), include_day=include_day)
        keys = events.keys
        np.testing.assert_array_equal(
            lo, np.searchsorted(keys, packed_keys(q_group, np.zeros_like(q_day)), "left")
        )
        np.testing.assert_array_equal(hi, np.searchsorted(keys, packed_keys(q_group, q_day), side))


def test_one_day_sums_equal_the_sorted_path_on_many_groups():
    """The bincount path (all queries on one day) and the sorted path (a second day added)
    agree, dense and sparse group codes alike, code -1 and groups without events included."""
    rng = np.random.default_rng(7)
    group = rng.integers(-1, 50, 2_000)
    day = rng.integers(20_000, 20_100, 2_000)
    w = rng.integers(0, 9, 2_000).astype(float)
    events = Events(group, day, {"w": w})
    queries = rng.integers(-1, 60, 500)
    for d in (19_999, 20_050, 20_100):
        one_day = Query(queries, np.full(500, d))
        many = Query(np.r_[queries, 0], np.r_[np.full(500, d), d + 1])
        assert one_day.one_day == d and many.one_day is None
        for window in (Events.up_to, Events.before):
            a = window(events, one_day).total("w")
            b = window(events, many).total("w")[:500]
            np.testing.assert_array_equal(a, b)


def test_empty_and_one_row_inputs():
    none = np.zeros(0, dtype=np.int64)
    empty = Events(none, none, {"w": np.zeros(0)})
    one = Events(np.array([3]), np.array([20_000]), {"w": np.array([2.5])})
    for q in (Query(none, none), Query(np.array([3]), np.array([20_000]))):
        for events in (empty, one):
            for window in (events.before(q), events.up_to(q)):
                assert len(window.total("w")) == len(q)
                assert window.total("w").dtype == np.float64  # no window holds an event
                assert len(window.last(2).total("w")) == len(q)
                assert len(window.last_value("w", default=-1.0)) == len(q)
    q = Query(np.array([3, 3, 4]), np.array([20_000, 20_001, 20_001]))
    assert one.up_to(q).total("w").tolist() == [2.5, 2.5, 0.0]
    assert one.before(q).total("w").tolist() == [0.0, 2.5, 0.0]
    assert one.before(q).last_value("w", default=-1.0).tolist() == [-1.0, 2.5, -1.0]
    assert empty.up_to(q).total("w").tolist() == [0.0, 0.0, 0.0]
    assert empty.up_to(q).last_value("w", default=-1.0).tolist() == [-1.0, -1.0, -1.0]
    one_day = Query(np.array([3]), np.array([20_000]))
    assert one.up_to(one_day).total("w").tolist() == [2.5]
    assert one.before(one_day).total("w").tolist() == [0.0]


def test_ties_on_one_day_keep_their_input_order_when_cut_by_position():
    """The last n events of a window are cut by position: events of one day count in the
    order they were given (as the customer's settled invoices are)."""
    events = Events(
        np.zeros(4, dtype=np.int64),
        np.array([5, 7, 7, 7]),
        {"w": np.array([1.0, 10.0, 100.0, 1000.0])},
    )
    q = Query(np.array([0]), np.array([8]))
    assert events.before(q).last(2).total("w").tolist() == [1100.0]
    assert events.before(q).last_value("w", default=0.0).tolist() == [1000.0]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(2**40), 2**40), max_size=300),
    st.integers(0, 5),
)
def test_stable_order_is_a_stable_argsort(values, spread):
    """Packed sorting gives ``argsort(kind="stable")``: ties in input order, negative keys,
    and spans too wide to pack (which fall back to argsort itself)."""
    keys = np.array(values, dtype=np.int64) // (10 ** (2 * spread))  # from all-distinct to ties
    np.testing.assert_array_equal(stable_order(keys), np.argsort(keys, kind="stable"))


def test_stable_order_of_many_ties_and_the_widest_keys():
    rng = np.random.default_rng(3)
    ties = rng.integers(0, 50, 100_000)
    np.testing.assert_array_equal(stable_order(ties), np.argsort(ties, kind="stable"))
    wide = np.array([2**62, -(2**62), 0, 2**62, 5], dtype=np.int64)
    np.testing.assert_array_equal(stable_order(wide), np.argsort(wide, kind="stable"))


def test_stable_order_by_hand_for_keys_too_wide_to_pack_and_keys_near_the_top():
    # forty keys alternating 2**62 and 0: too wide to pack; ties keep their input order
    wide = np.array([2**62, 0] * 20, dtype=np.int64)
    assert stable_order(wide).tolist() == list(range(1, 40, 2)) + list(range(0, 40, 2))
    # narrow keys near the top of int64: packed as offsets from the smallest
    top = np.array([2**61 + 2, 2**61, 2**61 + 1], dtype=np.int64)
    assert stable_order(top).tolist() == [1, 2, 0]
    mid = np.array([2**60 + 1, 2**60 - 1, 2**60], dtype=np.int64)
    assert stable_order(mid).tolist() == [1, 2, 0]
