"""A small demo warehouse for the report runs (papermill executes real notebooks)."""

from __future__ import annotations

from pathlib import Path

import pytest

import salesops_analysis as so
from salesops_analysis.ingest.load import INGEST_ORDER
from tests.conftest import DEMO_CONFIG, write

DAY = "2025-06-30"
EVIL = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="session")
def small_site(tmp_path_factory) -> Path:
    """A working folder with data/raw, a warehouse and salesops.yml, like `make demo` makes."""
    site = tmp_path_factory.mktemp("site")
    raw = site / "data" / "raw"
    so.generate_demo(raw, scale=4000, seed=3)
    cfg = so.load_config(DEMO_CONFIG)
    (site / "salesops.yml").write_text(DEMO_CONFIG.read_text())
    with so.open_warehouse(site / "data" / "salesops.duckdb") as wh:
        for kind in INGEST_ORDER:
            so.ingest_file(wh, raw / f"{kind}.csv", cfg)
        # a customer whose name is a spreadsheet formula, with open invoices
        cust = wh.con.execute(
            "SELECT customer_id FROM invoices WHERE status IN ('open', 'partially_paid') "
            "ORDER BY amount DESC LIMIT 1"
        ).fetchall()[0][0]
        p = write(
            site / "customers_fix.csv",
            "Customer Code,Customer Name\n" + f'{cust},"{EVIL.replace(chr(34), chr(34) * 2)}"\n',
        )
        so.ingest_file(wh, p, cfg, kind="customers")
    return site
