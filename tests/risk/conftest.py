"""A trained model on the session's demo warehouse (training takes a few seconds)."""

from __future__ import annotations

import pytest

import salesops_analysis as so
from salesops_analysis.metrics import load_tables
from salesops_analysis.risk import train_from_tables

AS_OF = "2025-06-30"


@pytest.fixture(scope="session")
def demo_tables(demo_db):
    with so.open_warehouse(demo_db, read_only=True) as wh:
        return load_tables(wh)


@pytest.fixture(scope="session")
def demo_model(demo_tables, demo_config):
    return train_from_tables(demo_tables, AS_OF, demo_config)


@pytest.fixture(scope="session")
def demo_features(demo_model, demo_tables):
    """The feature table of every modelled demo invoice at AS_OF (as if all were open)."""
    import numpy as np

    from salesops_analysis.metrics.days import day_number
    from salesops_analysis.risk.features import Knowledge, features_at

    k = Knowledge.at(
        AS_OF,
        demo_tables.invoices,
        demo_tables.payments,
        demo_tables.activities,
        demo_tables.customers,
        categorical=list(demo_model.bundle.categorical),
    )
    rows = np.flatnonzero(k.modelled)
    return features_at(k, rows, np.full(len(rows), day_number(AS_OF)))
