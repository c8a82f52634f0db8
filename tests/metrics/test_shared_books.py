"""One ledger and one order book for several days: the daily MIS of each day is the same as
with its own, and a ledger keeps the balances of a few days only, answering every day right."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesops_analysis as so
from salesops_analysis.metrics import Tables, daily_mis, load_tables
from salesops_analysis.metrics.orders import REMEMBERED_ANSWERS, OrderBook
from salesops_analysis.metrics.receivables import REMEMBERED_DAYS, Ledger
from salesops_analysis.reports.daily import last_month_end
from tests.metrics.conftest import invoices, payments

DAYS = ["2025-06-30", "2025-06-29", "2025-05-31", "2024-03-31"]


@pytest.fixture(scope="module")
def demo_tables(demo_db):
    with so.open_warehouse(demo_db, read_only=True) as wh:
        return load_tables(wh)


def _same(a, b) -> None:
    assert a.metrics == b.metrics
    for name in ("aging", "aging_by_currency", "backlog", "escalations", "activity"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    for name, frame in a.changes.items():
        pd.testing.assert_frame_equal(frame, b.changes[name])


def test_daily_mis_of_several_days_on_one_ledger_and_book_equals_each_alone(
    demo_tables, demo_config
):
    t = demo_tables
    doc, book = Ledger(t.invoices, t.payments), OrderBook(t.orders)
    for day in [*DAYS, last_month_end("2025-06-30")]:
        shared = daily_mis(t, day, demo_config, ledger=doc, book=book)
        _same(shared, daily_mis(t, day, demo_config))
    assert len(doc._balances) <= REMEMBERED_DAYS


def test_daily_mis_on_a_shared_ledger_of_one_invoice_and_of_none():
    one = Tables(
        invoices=invoices([("I1", "2025-06-01", "2025-06-15", 100.0)]),
        payments=payments([("I1", "2025-06-30", 40.0)]),
    )
    shared = daily_mis(one, "2025-06-30", ledger=Ledger(one.invoices, one.payments))
    _same(shared, daily_mis(one, "2025-06-30"))
    assert shared.metrics["ar_open"] == 60.0
    none = Tables()
    led = Ledger(none.invoices, none.payments)
    empty = daily_mis(none, "2025-06-30", ledger=led, book=OrderBook(none.orders))
    assert empty.metrics["ar_open"] == 0.0 and empty.metrics["open_invoices"] == 0


def test_an_order_book_forgets_old_answers_and_still_answers_each_day_right(demo_tables):
    sla = {"received": 2, "processing": 7, "on_hold": 5, "shipped": 3}
    book = OrderBook(demo_tables.orders)
    days = ["2025-06-30", "2025-06-29", "2025-05-31", "2025-01-15", "2025-06-30", "2024-12-31"]
    for day in days + days[::-1]:
        fresh = OrderBook(demo_tables.orders)
        assert np.array_equal(book.status_codes(day), fresh.status_codes(day))
        for mine, theirs in zip(
            book.escalation_arrays(day, sla), fresh.escalation_arrays(day, sla), strict=True
        ):
            assert np.array_equal(mine, theirs)
        assert len(book._memo) <= REMEMBERED_ANSWERS
    assert len(book._memo) == REMEMBERED_ANSWERS


@pytest.mark.parametrize("day", ["2025-06-30", "2025-06-01", "2024-03-31"])
def test_the_mis_reads_only_the_activities_its_days_need_and_gives_the_same_report(
    demo_db, demo_tables, demo_config, day
):
    """The MIS reads the promises to pay and the activities from the last month-end's previous
    day on (:func:`mis_rows`): every figure and table of the day, the previous day and the last
    month-end is what all the activities give."""
    from salesops_analysis.reports.daily import MIS_COLUMNS, mis_rows

    with so.open_warehouse(demo_db, read_only=True) as wh:
        few = load_tables(wh, columns=MIS_COLUMNS, rows=mis_rows(day))
    act = demo_tables.activities
    assert 0 < len(few.activities) < len(act) // 2  # a real cut, not everything
    assert few.has("activities")
    for other in (day, pd.Timestamp(day) - pd.Timedelta(days=1), last_month_end(day)):
        _same(daily_mis(few, other, demo_config), daily_mis(demo_tables, other, demo_config))


def test_rows_of_the_payments_cannot_be_chosen(demo_db):
    with so.open_warehouse(demo_db, read_only=True) as wh, pytest.raises(ValueError):
        load_tables(wh, rows={"payments": "amount > 0"})
    with so.open_warehouse(demo_db, read_only=True) as wh, pytest.raises(ValueError):
        load_tables(wh, rows={"nope": "true"})


@pytest.mark.parametrize("day", [*DAYS, "2020-01-01"])
def test_the_aging_by_currency_reads_the_open_items_without_copying_them(
    demo_tables, demo_config, day
):
    from salesops_analysis.metrics.mis import _open_in_document_currency
    from salesops_analysis.metrics.receivables import aging_buckets

    doc = Ledger(demo_tables.invoices, demo_tables.payments)
    day = pd.Timestamp(day)
    for basis in ("due_date", "invoice_date"):
        kw = dict(edges=demo_config.aging_edges, basis=basis, by="currency")
        pd.testing.assert_frame_equal(
            aging_buckets(_open_in_document_currency(doc, day), **kw),
            aging_buckets(doc.open_items(day, open_only=True), **kw),
        )
