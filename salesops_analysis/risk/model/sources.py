"""Training from the warehouse: read only the columns training needs, build the knowledge,
let the tables go, then train (:func:`~salesops_analysis.risk.model.train.train_models`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..features import Knowledge
from .bundle import TrainedModel
from .train import train_models

__all__ = [
    "TRAINING_COLUMNS",
    "train_from_tables",
    "train_from_warehouse",
    "training_knowledge",
    "training_tables",
    "with_settlement_note",
]

#: The columns of each table that training reads (besides the categorical features named in
#: the configuration); orders and FX rates are not read.
TRAINING_COLUMNS = {
    "invoices": [
        "invoice_id",
        "customer_id",
        "invoice_date",
        "due_date",
        "amount",
        "status",
        "paid_amount",
        "paid_date",
        "applies_to_invoice_id",
    ],
    "payments": ["invoice_id", "payment_date", "amount"],
    "activities": ["invoice_id", "activity_date", "type", "outcome", "promised_date"],
    "customers": ["customer_id"],
}


def training_tables(wh, config):
    """Return the warehouse tables with only the columns training reads (see
    :data:`TRAINING_COLUMNS`; orders and FX rates empty): a fraction of the memory of every
    column of every table. Payments are as in :func:`~salesops_analysis.metrics.load_tables`
    (implied by open-items snapshots without a payments export; ``None`` without either)."""
    from ...metrics import Tables
    from ...metrics.tables import payments_table

    frames = {}
    for kind, wanted in TRAINING_COLUMNS.items():
        have = [c for c in wh.columns(f"{kind}_history") if not c.startswith("_")]
        extra = [c for c in config.model_categorical if c not in wanted]
        frames[kind] = wh.table(kind, columns=[c for c in [*wanted, *extra] if c in have])
    # the payments export, else the payments open-items snapshots imply, else None
    frames["payments"], source = payments_table(wh, columns=list(frames["payments"].columns))
    return Tables(**frames, payments_source=source)


@dataclass(frozen=True)
class _InvoiceDays:
    """What training reads of a :class:`~salesops_analysis.metrics.receivables.Ledger` once
    the :class:`Knowledge` is built: amount, issue day and due day per invoice row."""

    amount: np.ndarray
    issued: np.ndarray
    due: np.ndarray


def training_knowledge(tables, as_of, config) -> Knowledge:
    """Return what the ``tables`` knew at the end of ``as_of``, holding arrays only: its
    ledger keeps no table, so the tables can be freed before training."""
    k = Knowledge.of(
        tables,
        as_of,
        grace_days=config.grace_days,
        categorical=list(config.model_categorical),
    )
    led = k.ledger
    return replace(k, ledger=_InvoiceDays(led.amount, led.issued, led.due))


def train_from_tables(tables, as_of, config) -> TrainedModel:
    """Return models trained on the warehouse tables as known at the end of ``as_of``."""
    k = training_knowledge(tables, as_of, config)
    model = train_models(
        k, categorical=list(config.model_categorical), test_share=config.model_test_share
    )
    return with_settlement_note(model, tables.payments_implied)


def with_settlement_note(model: TrainedModel, payments_implied: bool) -> TrainedModel:
    """Return ``model`` with the note that its settlement dates were inferred from open-items
    snapshots (``metrics["settlements"]``, shown in the model card), when they were."""
    if not payments_implied:
        return model
    from ...metrics.snapshots import SETTLEMENT_NOTE

    metrics = {**model.metrics, "settlements": SETTLEMENT_NOTE}
    return TrainedModel(replace(model.bundle, metrics=metrics))


def train_from_warehouse(db_path, as_of, config) -> TrainedModel:
    """Return models trained on the warehouse at ``db_path`` as known at the end of ``as_of``,
    reading only :func:`training_tables` (the warehouse is closed again before training) and
    letting them go once the knowledge is built: training holds arrays and sampled rows only."""
    from ...warehouse import open_warehouse

    with open_warehouse(db_path, read_only=True) as wh:
        tables = training_tables(wh, config)
    k = training_knowledge(tables, as_of, config)
    implied = tables.payments_implied
    del tables
    model = train_models(
        k, categorical=list(config.model_categorical), test_share=config.model_test_share
    )
    return with_settlement_note(model, implied)
