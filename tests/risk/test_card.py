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


def test_a_model_trained_on_snapshot_payments_says_so_in_its_card(demo_model):
    """Settlement dates inferred from open-items snapshots are known only to within the gap
    between snapshots: the model card says so (issue #15); a model trained on a payments
    export does not."""
    from salesops_analysis.metrics.snapshots import SETTLEMENT_NOTE
    from salesops_analysis.risk.model import with_settlement_note

    assert with_settlement_note(demo_model, False) is demo_model
    assert "settlements" not in demo_model.metrics
    assert SETTLEMENT_NOTE not in model_card(demo_model, "m.skops")
    implied = with_settlement_note(demo_model, True)
    assert implied.metrics["settlements"] == SETTLEMENT_NOTE
    assert f"- {SETTLEMENT_NOTE}" in model_card(implied, "m.skops").split("## Limits")[1]
    assert "settlements" not in demo_model.metrics  # the original is left as it was


def test_training_on_implied_payments_records_the_note(demo_tables, demo_config):
    """`train_from_tables` on tables whose payments open-items snapshots imply."""
    from salesops_analysis.metrics.snapshots import SETTLEMENT_NOTE
    from salesops_analysis.risk import train_from_tables

    implied = dataclasses.replace(demo_tables, payments_source="snapshots")
    assert implied.payments_implied and not demo_tables.payments_implied
    model = train_from_tables(implied, "2025-06-30", demo_config)
    assert model.metrics["settlements"] == SETTLEMENT_NOTE
