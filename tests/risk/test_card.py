"""The model card reads the typed bundle: what it says of each model and of the drift reference."""

from __future__ import annotations

import dataclasses

from salesops_analysis.risk.card import model_card


def test_card_names_both_models_and_the_drift_window(demo_model):
    b = demo_model.bundle
    card = model_card(demo_model, "late_payment_2025-06-30.skops")
    assert card.startswith("# Late-payment model late_payment_2025-06-30.skops")
    assert f"- **late** (`{b.late.chosen}`)" in card
    assert f"(`{b.overdue.chosen}`)" in card and "Overdue model: test results" in card
    w = b.late.drift_window
    assert f"of the {w['rows']:,} invoices issued {w['issued'][0]} .. {w['issued'][1]}" in card
    assert f"The shares of {len(b.late.drift_reference)} features" in card


def test_card_of_a_bundle_without_overdue_model_or_drift_window(demo_model):
    """A file where nothing was ever overdue has no overdue model; the card says why. A model
    saved before the drift window was recorded still gets a card."""
    metrics = dict(demo_model.metrics, overdue={"skipped": "only 12 rows with a known outcome"})
    bundle = dataclasses.replace(
        demo_model.bundle.with_late(drift_window=None), overdue=None, metrics=metrics
    )
    card = model_card(type(demo_model)(bundle), "m.skops")
    assert "(not trained: only 12 rows with a known outcome)" in card
    assert "Overdue model: test results" not in card
    assert "of the 0 invoices issued ? .. ?" in card
