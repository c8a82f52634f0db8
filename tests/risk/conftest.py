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
