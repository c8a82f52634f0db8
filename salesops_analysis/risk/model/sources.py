"""Training from the warehouse: read only the columns training needs, build the knowledge,
let the tables go, then train (:func:`~salesops_analysis.risk.model.train.train_models`).

``salesops train`` reads the warehouse once for both its models (:func:`read_training`): the
late-payment models and the cash-timing model then share one knowledge, held as arrays, with
the settlements the timing model needs; no table is held while either trains.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..features import Knowledge
from ..settlements import Settlements
from .bundle import TrainedModel
from .train import train_models

__all__ = [
    "TRAINING_COLUMNS",
    "TrainingData",
    "give_back_memory",
    "read_training",
    "train_from_knowledge",
    "training_data",
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


def training_tables(wh, config, *, currency: bool = False):
    """Return the warehouse tables with only the columns training reads (see
    :data:`TRAINING_COLUMNS`; orders and FX rates empty): a fraction of the memory of every
    column of every table. Payments are as in :func:`~salesops_analysis.metrics.load_tables`
    (implied by open-items snapshots without a payments export; ``None`` without either).
    With ``currency``, the invoices' currency column too (the cash-timing model's backtest
    converts each month-end at its rates)."""
    from ...metrics import Tables
    from ...metrics.tables import payments_table

    frames = {}
    for kind, wanted in TRAINING_COLUMNS.items():
        have = [c for c in wh.columns(f"{kind}_history") if not c.startswith("_")]
        extra = [c for c in config.model_categorical if c not in wanted]
        if currency and kind == "invoices":
            extra.append("currency")
        frames[kind] = wh.table(kind, columns=[c for c in [*wanted, *extra] if c in have])
    # the payments export, else the payments open-items snapshots imply, else None
    frames["payments"], source = payments_table(wh, columns=list(frames["payments"].columns))
    return Tables(**frames, payments_source=source)


@dataclass(frozen=True)
class _InvoiceDays:
    """What training and the cash-timing model read of a
    :class:`~salesops_analysis.metrics.receivables.Ledger` once the :class:`Knowledge` (and
    the :class:`~salesops_analysis.risk.settlements.Settlements`) are built: amount, issue
    day, due day, write-off flag and currency (``None`` without the column) per invoice row."""

    amount: np.ndarray
    issued: np.ndarray
    due: np.ndarray
    written_off: np.ndarray
    currency: pd.Series | None


def _arrays_only(k: Knowledge) -> Knowledge:
    """Return ``k`` whose ledger is its :class:`_InvoiceDays` (no table, no payments)."""
    led = k.ledger
    days = _InvoiceDays(led.amount, led.issued, led.due, led.written_off, led.currency)
    return replace(k, ledger=days)


def training_knowledge(tables, as_of, config) -> Knowledge:
    """Return what the ``tables`` knew at the end of ``as_of``, holding arrays only: its
    ledger keeps no table, so the tables can be freed before training."""
    k = Knowledge.of(
        tables,
        as_of,
        grace_days=config.grace_days,
        categorical=list(config.model_categorical),
    )
    return _arrays_only(k)


@dataclass(frozen=True, eq=False)
class TrainingData:
    """What ``salesops train`` reads of the warehouse, once, for both its models.

    Attributes
    ----------
    knowledge : Knowledge
        What was known at the end of the as-of day, with the configured categorical features,
        holding arrays only (see :func:`training_knowledge`).
    settlements : Settlements
        Each invoice's settlements by any day, known at the as-of day (the cash-timing model's
        invoice-weeks and its backtest's actual cash).
    rates : Tables
        The FX rates and one row per currency of the invoices, payments and orders: what
        :meth:`~salesops_analysis.metrics.tables.Tables.rates` reads, without the tables.
    payments_implied : bool
        Settlement dates come from open-items snapshots (said in the model card).
    """

    knowledge: Knowledge
    settlements: Settlements
    rates: object
    payments_implied: bool


def _distinct_currencies(frame: pd.DataFrame) -> pd.DataFrame:
    """Return one row per distinct currency of ``frame`` (none without the column)."""
    if "currency" not in frame:
        return pd.DataFrame({"currency": pd.Series([], dtype="str")})
    return frame[["currency"]].drop_duplicates(ignore_index=True)


def _warehouse_currencies(wh, view: str) -> pd.DataFrame:
    """Return one row per distinct currency of a warehouse ``view`` (``orders``,
    ``payments`` or ``implied_payments``), counted by the warehouse: the rows themselves are
    not read."""
    kind = "payments" if view == "implied_payments" else view
    if "currency" not in wh.columns(f"{kind}_history"):
        return _distinct_currencies(pd.DataFrame())
    values = wh.con.execute(f"SELECT DISTINCT currency FROM {view}").fetchall()
    return pd.DataFrame({"currency": pd.Series([v for (v,) in values], dtype="str")})


def training_data(tables, as_of, config, *, rates=None) -> TrainingData:
    """Return the :class:`TrainingData` of warehouse ``tables`` as known at the end of
    ``as_of``; ``rates`` answers the FX rates (default: ``tables`` themselves, which are
    then held; :func:`read_training` passes the rates alone)."""
    k = Knowledge.of(
        tables,
        as_of,
        grace_days=config.grace_days,
        categorical=list(config.model_categorical),
    )
    settle = Settlements(k.ledger, k.T)
    rates = tables if rates is None else rates
    return TrainingData(_arrays_only(k), settle, rates, tables.payments_implied)


def read_training(db_path, as_of, config) -> TrainingData:
    """Return what both models of ``salesops train`` read of the warehouse at ``db_path``, as
    known at the end of ``as_of``: the tables are read once (training's columns and the
    currencies), turned into arrays, and let go before anything trains.

    Payments implied by open-items snapshots stand for the payments, as in
    :func:`~salesops_analysis.metrics.load_tables`.
    """
    from ...metrics import Tables
    from ...warehouse import open_warehouse

    with open_warehouse(db_path, read_only=True) as wh:
        tables = training_tables(wh, config, currency=True)
        # the payments the tables hold: exported, or implied by open-items snapshots
        source = {"export": "payments", "snapshots": "implied_payments"}
        view = source.get(tables.payments_source)
        rates = Tables(
            invoices=_distinct_currencies(tables.invoices),
            payments=None if view is None else _warehouse_currencies(wh, view),
            orders=_warehouse_currencies(wh, "orders"),
            fx_rates=wh.table("fx_rates"),
        )
    data = training_data(tables, as_of, config, rates=rates)
    del tables
    give_back_memory()
    return data


def give_back_memory() -> None:
    """Return freed memory to the system: Arrow's pool keeps the buffers of freed tables, and
    the C allocator the pages of freed frames, until asked (on a 10M-invoice book the tables
    read for training leave about 1.7 GiB behind). Harmless where neither applies."""
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
    except OSError:
        trim = None
    if trim is not None:  # glibc only
        trim(0)


def train_from_knowledge(data: TrainingData, config) -> TrainedModel:
    """Return the late-payment models trained on :func:`read_training`'s ``data``."""
    model = train_models(
        data.knowledge,
        categorical=list(config.model_categorical),
        test_share=config.model_test_share,
    )
    return with_settlement_note(model, data.payments_implied)


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
    reading it once with :func:`read_training` (the warehouse is closed again, and the tables
    let go, before training): training holds arrays and sampled rows only."""
    return train_from_knowledge(read_training(db_path, as_of, config), config)
