"""How the warehouse stores the history: keys and ids that rarely repeat with ZSTD where it can."""

from __future__ import annotations

import duckdb

import salesops_analysis as so
from salesops_analysis.schemas import KINDS
from salesops_analysis.warehouse_schema import (
    ZSTD_STORAGE,
    create_tables,
    refresh_view,
    storage_version,
)
from tests.conftest import write


def _ddl(con, table: str) -> str:
    return con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = ?", [table]).fetchall()[
        0
    ][0]


def _compressed(ddl: str) -> set[str]:
    inside = ddl[ddl.index("(") + 1 : ddl.rindex(")")]
    return {
        c.split()[0].strip('"') for c in inside.split(", ") if "USING COMPRESSION ZSTD" in c.upper()
    }


def test_keys_are_written_with_zstd(tmp_path):
    rows = "".join(
        f"I{i:05d},C{i % 7},SO{i:05d},2025-01-10,2025-02-09,{i}.50,USD,open,0\n" for i in range(300)
    )
    p = write(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,order_id,invoice_date,due_date,amount,currency,status,paid_amount\n"
        + rows,
    )
    path = tmp_path / "w.duckdb"
    with so.open_warehouse(path) as wh:
        assert storage_version(wh.con) >= ZSTD_STORAGE
        for kind, table in KINDS.items():
            one = set(table.key) if len(table.key) == 1 else set()
            assert _compressed(_ddl(wh.con, f"{kind}_history")) == {*one, *table.distinct, "_key"}
        so.ingest_file(wh, p, so.Config())
        wh.con.execute("CHECKPOINT")
        used = dict(
            wh.con.execute("""
                SELECT column_name, string_agg(DISTINCT compression, ',')
                FROM pragma_storage_info('invoices_history')
                WHERE segment_type = 'VARCHAR' GROUP BY 1""").fetchall()
        )
    assert used["invoice_id"] == used["order_id"] == used["_key"] == "ZSTD"
    assert "ZSTD" not in used["customer_id"]  # ids that repeat keep DuckDB's choice
    with so.open_warehouse(path, read_only=True) as wh:
        got = wh.con.execute("SELECT invoice_id, order_id FROM invoices ORDER BY 1").fetchall()
    assert got == [(f"I{i:05d}", f"SO{i:05d}") for i in range(300)]


def test_an_older_storage_version_keeps_duckdbs_own_choice(tmp_path):
    # a file in the storage of DuckDB 1.0 takes USING COMPRESSION zstd but stores the column
    # uncompressed: no column asks for it there
    con = duckdb.connect()
    con.execute(f"ATTACH '{tmp_path / 'old.duckdb'}' AS old (STORAGE_VERSION 'v1.0.0')")
    con.execute("USE old")
    assert storage_version(con) == (1, 0, 0)
    create_tables(con)
    assert all(not _compressed(_ddl(con, f"{kind}_history")) for kind in KINDS)


def test_views_see_only_the_warehouse_in_use_when_another_is_attached(tmp_path):
    # a copy or restore that attaches a second warehouse must not see its columns twice
    other = tmp_path / "other.duckdb"
    with so.open_warehouse(other):
        pass
    with so.open_warehouse(tmp_path / "w.duckdb") as wh:
        wh.con.execute(f"ATTACH '{other}' AS other (READ_ONLY)")
        refresh_view(wh.con, "invoices")
        assert wh.columns("invoices_history")[0] == "invoice_id"
        assert len(wh.columns("invoices_history")) == len(set(wh.columns("invoices_history")))
        got = [r[0] for r in wh.con.execute("DESCRIBE invoices").fetchall()]
        wh.con.execute("DETACH other")
    assert got == KINDS["invoices"].columns
