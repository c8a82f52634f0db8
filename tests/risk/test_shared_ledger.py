"""One ledger per collections report: the figures and tables built from a shared
:class:`Ledger` (and the scoring's knowledge) equal those each step builds for itself, and the
`changes` of days without a model come from balances alone, equal to a scoring of that day."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import salesops_analysis as so
from salesops_analysis.metrics import Tables
from salesops_analysis.metrics.receivables import Ledger
from salesops_analysis.reports.collections import comparison_figures
from salesops_analysis.reports.statements import statement_items
from salesops_analysis.risk import score_by_baseline, score_open_invoices, worklist
from salesops_analysis.risk.accounts import account_worklist
from salesops_analysis.risk.features import Knowledge
from salesops_analysis.risk.forecast import cash_forecast
from salesops_analysis.risk.scores import open_figures, scored_rows
from salesops_analysis.risk.timing import train_timing
from tests.risk.cashbook import AS_OF as BOOK_DAY
from tests.risk.cashbook import cash_book

AS_OF = "2025-06-30"
DAYS = ["2024-02-29", "2025-05-31", "2025-06-29", AS_OF]


def _scored_figures(scored) -> dict:
    """The comparison figures as the report computed them from a scoring of the day."""
    inv = scored.invoices
    return {
        "ar_open": round(float(inv["open_amount_reporting"].sum()) + scored.open_not_scored, 2),
        "open_invoices": int(len(scored)),
        "overdue_invoices": int((inv["days_past_due"] > 0).sum()),
    }


@pytest.mark.parametrize("day", DAYS)
def test_open_figures_equal_a_baseline_scoring_of_the_day(demo_tables, demo_config, day):
    led = Ledger(demo_tables.invoices, demo_tables.payments)
    rates, _ = demo_tables.rates(day, demo_config)
    fast = open_figures(led, day, rates)
    assert fast == _scored_figures(score_by_baseline(demo_tables, day, demo_config))


def _invoices(rows: list[tuple]) -> pd.DataFrame:
    inv = pd.DataFrame(
        rows, columns=["invoice_id", "customer_id", "invoice_date", "due_date", "amount"]
    )
    return inv.assign(
        invoice_date=pd.to_datetime(inv["invoice_date"]),
        due_date=pd.to_datetime(inv["due_date"]),
        currency="EUR",
        status="open",
        paid_amount=0.0,
        paid_date=pd.NaT,
        applies_to_invoice_id=None,
        order_id=None,
        disputed=False,
        payment_terms="NET30",
    ).astype({"invoice_id": "str", "customer_id": "str", "currency": "str"})


def test_open_figures_of_a_hand_made_book():
    """Two invoices (one overdue, one due later), an unapplied credit note and a paid invoice,
    reported in USD at 1.1 per EUR: counted and summed by hand."""
    inv = _invoices(
        [
            ("I1", "C1", "2025-05-01", "2025-05-31", 100.0),  # 30 days past due
            ("I2", "C1", "2025-06-20", "2025-07-20", 50.0),  # not yet due
            ("CN", "C2", "2025-06-01", "2025-06-01", -20.0),  # unapplied credit: AR, not scored
            ("I3", "C2", "2025-07-05", "2025-08-05", 70.0),  # issued after the day
        ]
    )
    led = Ledger(inv)
    fig = open_figures(led, AS_OF, {"EUR": 1.1})
    assert fig == {"ar_open": 143.0, "open_invoices": 2, "overdue_invoices": 1}
    assert scored_rows(led, AS_OF).tolist() == [0, 1]
    nothing = {"ar_open": 0.0, "open_invoices": 0, "overdue_invoices": 0}
    assert open_figures(led, "2025-04-30", {"EUR": 1.1}) == nothing  # before any invoice
    one = Ledger(inv.iloc[:1])  # one row
    assert open_figures(one, AS_OF, {}) == {
        "ar_open": 100.0,
        "open_invoices": 1,
        "overdue_invoices": 1,
    }
    empty = Ledger(inv.iloc[:0])
    assert open_figures(empty, AS_OF, {}) == {
        "ar_open": 0.0,
        "open_invoices": 0,
        "overdue_invoices": 0,
    }
    assert scored_rows(empty, AS_OF).tolist() == []


def test_comparison_figures_with_a_shared_ledger_equal_those_built_alone(
    demo_tables, demo_config, demo_model, tmp_path
):
    led = Ledger(demo_tables.invoices, demo_tables.payments, activities=demo_tables.activities)
    for day in ("2025-06-29", "2025-05-31"):
        alone = comparison_figures(demo_tables, day, demo_config, tmp_path)
        shared = comparison_figures(demo_tables, day, demo_config, tmp_path, ledger=led)
        assert shared == alone
        assert alone["expected_late_amount"] is None  # no model fitted for that day
        scored = score_by_baseline(demo_tables, day, demo_config)
        assert {k: alone[k] for k in _scored_figures(scored)} == _scored_figures(scored)
    # with a model fitted for the day (today's), it scores, on the shared ledger too
    alone = comparison_figures(demo_tables, AS_OF, demo_config, current=demo_model)
    shared = comparison_figures(demo_tables, AS_OF, demo_config, current=demo_model, ledger=led)
    assert shared == alone and alone["expected_late_amount"] > 0


def test_scores_worklist_accounts_and_statements_on_a_shared_ledger(
    demo_tables, demo_config, demo_model
):
    t, cfg = demo_tables, demo_config
    alone = score_open_invoices(demo_model, t, AS_OF, cfg)
    led = Ledger(t.invoices, t.payments, activities=t.activities)
    shared = score_open_invoices(demo_model, t, AS_OF, cfg, ledger=led)
    assert shared.knowledge.ledger is led
    pd.testing.assert_frame_equal(shared.invoices, alone.invoices)
    pd.testing.assert_frame_equal(
        score_by_baseline(t, AS_OF, cfg, ledger=led).invoices,
        score_by_baseline(t, AS_OF, cfg).invoices,
    )
    wl = worklist(demo_model, t, AS_OF, cfg, scored=shared)
    pd.testing.assert_frame_equal(
        account_worklist(wl, t, cfg, AS_OF, ledger=led), account_worklist(wl, t, cfg, AS_OF)
    )
    pd.testing.assert_frame_equal(
        statement_items(t, AS_OF, cfg, ledger=led), statement_items(t, AS_OF, cfg)
    )


def test_forecast_on_the_scorings_knowledge_equals_its_own():
    t = cash_book()
    cfg = so.Config()
    model = train_timing(Knowledge.at(BOOK_DAY, t.invoices, t.payments, categorical=[]))
    alone = cash_forecast(t, BOOK_DAY, cfg, model=model)
    # the scoring's knowledge carries categories too: the forecast reads none of them
    k = Knowledge.of(t, BOOK_DAY, grace_days=cfg.grace_days, categorical=["segment"])
    shared = cash_forecast(t, BOOK_DAY, cfg, model=model, knowledge=k)
    pd.testing.assert_frame_equal(shared.weekly, alone.weekly)
    pd.testing.assert_frame_equal(shared.per_invoice, alone.per_invoice)
    assert (shared.total_p10, shared.total_p90) == (alone.total_p10, alone.total_p90)
    with pytest.raises(ValueError, match="knowledge of day"):
        cash_forecast(t, "2023-12-30", cfg, model=model, knowledge=k)
    with pytest.raises(ValueError, match="grace days"):
        cash_forecast(
            t, BOOK_DAY, replace(cfg, grace_days=cfg.grace_days + 3), model=model, knowledge=k
        )


def test_open_figures_of_tables_without_invoices():
    led = Ledger(Tables().invoices)
    assert open_figures(led, AS_OF, {}) == {
        "ar_open": 0.0,
        "open_invoices": 0,
        "overdue_invoices": 0,
    }
    assert np.array_equal(scored_rows(led, AS_OF), np.zeros(0, dtype=np.int64))
