"""The example configs in examples/ read their example exports, and `salesops inspect` proposes
a config that reads each of them, with zero edits, into the same rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import salesops_analysis as so
from salesops_analysis.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FILES = {
    "quickbooks_ar_aging_detail.csv": (6, 15),
    "erpnext_accounts_receivable.csv": (4, 1),
    "sap_fbl5n_customer_line_items.txt": (5, 7),
    "zoho_books_invoices.csv": (4, 0),
    "odoo_invoices.xlsx": (6, 0),
    "xero_aged_receivables_detail.xlsx": (6, 16),
    "sage_aged_debtors_detailed.csv": (5, 9),
}


def ingest(tmp_path: Path, name: str, export: Path, config: Path) -> tuple[pd.DataFrame, str]:
    db = tmp_path / f"{name}.duckdb"
    result = CliRunner().invoke(
        main, ["ingest", str(export), "--config", str(config), "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    with so.open_warehouse(db, read_only=True) as wh:
        rows = wh.table("invoices").sort_values("invoice_id").reset_index(drop=True)
    return rows, result.output


@pytest.mark.parametrize("name", sorted(FILES))
def test_example_config_reads_its_export(tmp_path, name):
    export = EXAMPLES / name
    rows, output = ingest(tmp_path, "hand", export, export.with_suffix(".yml"))
    documents, skipped = FILES[name]
    assert len(rows) == documents
    assert f"skipped {skipped}" in output if skipped else "skipped" not in output
    assert rows["amount"].notna().all() and rows["due_date"].notna().all()


@pytest.mark.parametrize("name", sorted(FILES))
def test_inspect_config_ingests_the_example_with_zero_edits_into_the_same_rows(tmp_path, name):
    export = EXAMPLES / name
    result = CliRunner().invoke(main, ["inspect", str(export)])
    assert result.exit_code == 0, result.output
    assert "NEEDS EDITS" not in result.output and "REFUSED" not in result.output
    proposed = tmp_path / "proposed.yml"
    proposed.write_text(result.output)
    by_inspect, _ = ingest(tmp_path, "inspect", export, proposed)
    by_hand, _ = ingest(tmp_path, "hand", export, export.with_suffix(".yml"))
    pd.testing.assert_frame_equal(by_inspect, by_hand)


def test_xero_invoices_take_the_contact_named_above_them(tmp_path):
    export = EXAMPLES / "xero_aged_receivables_detail.xlsx"
    rows, _ = ingest(tmp_path, "hand", export, export.with_suffix(".yml"))
    by_contact = rows.groupby("customer_id")["amount"].sum().round(2).to_dict()
    # the "Total <contact>" lines of the file
    assert by_contact == {
        "Bayside Club": 1409.50,
        "City Limousines": 2916.42,
        "Ridgeway University": 7450.10,
    }


def test_sage_report_lines_are_skipped_and_the_total_ties(tmp_path):
    export = EXAMPLES / "sage_aged_debtors_detailed.csv"
    rows, output = ingest(tmp_path, "hand", export, export.with_suffix(".yml"))
    assert round(rows["amount"].sum(), 2) == 16397.70  # the grand Total line
    assert rows.groupby("customer_id").size().to_dict() == {
        "Acme Builders Ltd": 2,
        "Harbour Cafe": 2,
        "Northfield School": 1,
    }
    assert "read 14 = loaded 5" in output and "skipped 9" in output
