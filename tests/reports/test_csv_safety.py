"""Every CSV and XLSX the reports write is safe to open in a spreadsheet.

Customer ids, invoice ids, customer names, sales reps, teams and collectors' names are planted
with each formula-like first character (``=``, ``+``, ``-``, ``@``, tab, CR) straight into a
warehouse; the daily MIS and the collections report then write their files, and every cell of
every file is read back: a text that a spreadsheet would evaluate never starts a cell.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

import salesops_analysis as so
from salesops_analysis.reports import collections_report, daily_mis_report
from tests.reports.conftest import DAY

PREFIXES = ["=", "+", "-", "@", "\t", "\r"]

# the SQL that gives a text one of the prefixes, the same one for the same text in every table
_PLANT = (
    "CASE abs(hash({c})) % 6 WHEN 0 THEN '=' WHEN 1 THEN '+' WHEN 2 THEN '-' WHEN 3 THEN '@' "
    "WHEN 4 THEN chr(9) ELSE chr(13) END || {c}"
)
PLANTED = {
    "invoices": ["customer_id", "invoice_id"],
    "payments": ["customer_id", "invoice_id"],
    "orders": ["customer_id", "sales_rep", "team"],
    "activities": ["customer_id", "invoice_id", "owner"],
    "customers": ["customer_id", "name"],
}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def written(small_site, tmp_path_factory) -> Path:
    """Both reports' files, written from a copy of the small site with planted texts."""
    out = tmp_path_factory.mktemp("planted")
    db = out / "planted.duckdb"
    shutil.copy(small_site / "data" / "salesops.duckdb", db)
    with so.open_warehouse(db) as wh:
        for table, columns in PLANTED.items():
            sets = ", ".join(f"{c} = {_PLANT.format(c=c)}" for c in columns)
            wh.con.execute(f"UPDATE {table}_history SET {sets}")  # under the current view
        counts = wh.con.execute(
            "SELECT count(*) FILTER (WHERE sales_rep[1] = '='), "
            "count(*) FILTER (WHERE team[1] NOT BETWEEN 'A' AND 'z') FROM orders"
        ).fetchall()[0]
    assert min(counts) > 0  # the plant took
    config = small_site / "salesops.yml"
    daily_mis_report(db, DAY, config, out / "daily-mis")
    collections_report(db, DAY, config, out / "collections", models_dir=out / "models")
    return out


def test_every_csv_cell_is_a_number_or_starts_harmlessly(written):
    files = sorted(written.glob("*/*.csv"))
    names = {p.name for p in files}
    assert {"escalations.csv", "open_orders.csv", "aging_by_team.csv", "activity.csv"} <= names
    assert {"changes_promises_broken.csv", "worklist.csv", "drift.csv"} <= names
    seen: dict[str, set[str]] = {}
    for path in files:
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell[:1] in PREFIXES:
                        assert _is_number(cell), f"{path.name}: {cell!r}"
                    if cell[:1] == "'" and cell[1:2] in PREFIXES:
                        seen.setdefault(path.name, set()).add(cell[1])
    # the planted texts did reach the files the issue names, neutralized, every prefix
    for name in ("escalations.csv", "open_orders.csv", "worklist.csv"):
        assert seen.get(name) == set(PREFIXES), name
    for name in ("aging_by_team.csv", "changes_newly_overdue.csv", "changes_new_escalations.csv"):
        assert seen.get(name), (name, (written / "daily-mis" / name).read_text()[:500])


def test_every_xlsx_text_cell_that_could_be_a_formula_is_quoted(written):
    books = sorted(written.glob("*/*.xlsx"))
    assert [p.name for p in books] == ["worklist.xlsx"]
    quoted: set[str] = set()
    for path in books:
        for ws in load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        raise AssertionError(f"{path.name} {cell.coordinate}: a formula")
                    if cell.data_type != "s" or not cell.value:
                        continue
                    # a carriage return is stored escaped (_x000D_): Excel reads back "\r"
                    text = cell.value.replace("_x000D_", "\r")
                    if text[:1] in PREFIXES:
                        assert cell.quotePrefix, f"{path.name} {cell.coordinate}: {text!r}"
                        quoted.add(text[0])
    assert quoted == set(PREFIXES)
