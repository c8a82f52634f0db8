"""Loading into the warehouse: transactions, re-ingest, history, references, the real IBM file."""

from __future__ import annotations

import os
import time

import pytest

import salesops_analysis as so
from salesops_analysis.warehouse import SCHEMA_VERSION
from tests.conftest import IBM_CONFIG, IBM_CSV, requires_realdata, write

PAY = "payment_id,invoice_id,payment_date,amount\n"
CFG = so.Config()


@pytest.fixture
def wh(tmp_path):
    with so.open_warehouse(tmp_path / "w.duckdb") as w:
        yield w


def test_reingesting_the_same_content_is_a_no_op(wh, tmp_path):
    p = write(tmp_path / "payments.csv", PAY + "P1,I1,2025-01-02,10\nP2,I2,2025-01-03,20\n")
    first = so.ingest_file(wh, p, CFG)
    again = so.ingest_file(wh, p, CFG)
    assert first.status == "loaded" and first.inserted == 2
    assert again.status == "already ingested"
    assert len(wh.table("payments")) == 2
    assert len(wh.ingest_log()) == 1


def test_a_file_unchanged_on_disk_is_not_read_again(wh, tmp_path, monkeypatch):
    from salesops_analysis.ingest import load

    p = write(tmp_path / "payments.csv", PAY + "P1,I1,2025-01-02,10\n")
    assert so.ingest_file(wh, p, CFG).status == "loaded"

    def unread(path):
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(load, "_sha256", unread)
    assert so.ingest_file(wh, p, CFG).status == "already ingested"


def test_a_file_rewritten_with_its_old_size_and_times_is_read_again(wh, tmp_path):
    """Same size and modification time put back (as `touch -r` or a careless copy would): the
    change time still moved, so the new content is hashed and loaded."""
    p = write(tmp_path / "payments.csv", PAY + "P1,I1,2025-01-02,10\n")
    before = p.stat()
    assert so.ingest_file(wh, p, CFG).status == "loaded"
    time.sleep(0.01)
    p.write_text(PAY + "P1,I1,2025-01-02,90\n")  # same length, other amount
    os.utime(p, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert p.stat().st_size == before.st_size and p.stat().st_mtime_ns == before.st_mtime_ns
    again = so.ingest_file(wh, p, CFG)
    assert again.status == "loaded" and again.updated == 1
    assert wh.table("payments")["amount"].tolist() == [90.0]


def test_a_known_file_at_a_new_place_is_hashed_once_then_known_there(wh, tmp_path, monkeypatch):
    from salesops_analysis.ingest import load

    p = write(tmp_path / "payments.csv", PAY + "P1,I1,2025-01-02,10\n")
    so.ingest_file(wh, p, CFG)
    copy = tmp_path / "copy" / "payments.csv"
    copy.parent.mkdir()
    copy.write_bytes(p.read_bytes())
    assert so.ingest_file(wh, copy, CFG).status == "already ingested"  # by its content
    monkeypatch.setattr(load, "_sha256", lambda path: pytest.fail(f"{path} read again"))
    assert so.ingest_file(wh, copy, CFG).status == "already ingested"  # by its stat
    assert len(wh.ingest_log()) == 1


def test_a_version_1_warehouse_is_upgraded_in_place(tmp_path):
    path = tmp_path / "w.duckdb"
    p = write(tmp_path / "payments.csv", PAY + "P1,I1,2025-01-02,10\n")
    with so.open_warehouse(path) as wh:
        so.ingest_file(wh, p, CFG)
        wh.con.execute("DROP TABLE file_stats")
        _back_to_version_2(wh)
        wh.con.execute("UPDATE _meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(so.WarehouseError, match="needs an upgrade"):
        so.open_warehouse(path, read_only=True)
    with so.open_warehouse(path) as wh:
        v = wh.con.execute("SELECT value FROM _meta WHERE key='schema_version'").fetchall()[0][0]
        assert int(v) == SCHEMA_VERSION == 4
        assert so.ingest_file(wh, p, CFG).status == "already ingested"  # hashed, then known
        assert wh.con.execute("SELECT count(*) FROM file_stats").fetchall()[0][0] == 1
        assert len(wh.table("payments")) == 1


def _back_to_version_2(wh) -> None:
    """Make a fresh warehouse look as version 2 left it (no report-line accounting)."""
    wh.con.execute("DROP TABLE skipped_lines")
    wh.con.execute("ALTER TABLE ingest_log DROP COLUMN rows_skipped")
    wh.con.execute("ALTER TABLE ingest_log DROP COLUMN documents_loaded")
    wh.con.execute("UPDATE _meta SET value = '2' WHERE key = 'schema_version'")


def test_a_version_2_warehouse_gets_report_line_accounting_in_place(tmp_path):
    path = tmp_path / "w.duckdb"
    p = write(tmp_path / "payments.csv", PAY + "P1,I1,2025-01-02,10\nP2,I2,2025-01-03,20\n")
    with so.open_warehouse(path) as wh:
        so.ingest_file(wh, p, CFG)
        _back_to_version_2(wh)
    with so.open_warehouse(path) as wh:
        log = wh.ingest_log().iloc[0]
        assert (log.rows_read, log.rows_skipped, log.documents_loaded) == (2, 0, 2)
        assert wh.skipped_lines().empty
        report = write(
            tmp_path / "payments_report.csv",
            "Receipts\n\n" + PAY + "P3,I3,2025-01-04,5\nTotal,,,5\n",
        )
        r = so.ingest_file(wh, report, CFG)
        assert (r.rows_read, r.loaded, r.skipped) == (4, 1, 3)  # the header is not a row
        assert wh.skipped_lines()["line"].tolist() == [1, 2, 5]


def test_upgrade_warehouse_opens_for_writing_only_when_due(tmp_path):
    from salesops_analysis.warehouse import upgrade_warehouse

    path = tmp_path / "w.duckdb"
    assert upgrade_warehouse(path) is False  # no file: nothing to do (the next open says so)
    with so.open_warehouse(path) as wh:
        wh.con.execute("DROP TABLE file_stats")
        _back_to_version_2(wh)
        wh.con.execute("UPDATE _meta SET value = '1' WHERE key = 'schema_version'")
    assert upgrade_warehouse(path) is True
    with so.open_warehouse(path, read_only=True) as wh:
        assert "file_stats" in {t for (t,) in wh.con.execute("SHOW TABLES").fetchall()}
    with so.open_warehouse(path, read_only=True):  # a reader holds it: no write is needed
        assert upgrade_warehouse(path) is False
    assert upgrade_warehouse(write(tmp_path / "x.duckdb", "hello")) is False


def test_newer_export_updates_and_keeps_history(wh, tmp_path):
    old = write(tmp_path / "payments_mon.csv", PAY + "P1,I1,2025-01-02,10\nP2,I2,2025-01-03,20\n")
    r1 = so.ingest_file(wh, old, CFG, kind="payments")
    loaded_first = wh.con.execute("SELECT max(loaded_at) FROM ingest_log").fetchall()[0][0]
    time.sleep(0.01)
    new = write(
        tmp_path / "payments_tue.csv",
        PAY + "P1,I1,2025-01-02,10\np2,I2,2025-01-03,25\nP3,I3,2025-01-04,30\n",
    )
    r2 = so.ingest_file(wh, new, CFG, kind="payments")
    assert (r1.inserted, r2.inserted, r2.updated, r2.unchanged) == (2, 1, 1, 1)
    current = wh.table("payments").set_index("payment_id")["amount"].to_dict()
    assert current == {"P1": 10.0, "p2": 25.0, "P3": 30.0}
    before = wh.table("payments", as_of_load=loaded_first).set_index("payment_id")["amount"]
    assert before.to_dict() == {"P1": 10.0, "P2": 20.0}
    history = wh.con.execute(
        "SELECT amount, _valid_to IS NULL FROM payments_history WHERE _key = 'p2' "
        "ORDER BY _valid_from"
    ).fetchall()
    assert [(float(a), cur) for a, cur in history] == [(20.0, False), (25.0, True)]


def test_ingest_log_and_rejects_account_for_every_row(wh, tmp_path):
    p = write(
        tmp_path / "payments.csv",
        PAY + "P1,I1,2025-01-02,10\nP1,I1,2025-01-02,10\n"
        ",I2,2025-01-02,1\nP3,I3,2025-02-30,1\nP4,I4,2025-01-02\n",
    )
    r = so.ingest_file(wh, p, CFG)
    log = wh.ingest_log().iloc[0]
    assert (log.rows_read, log.rows_loaded, log.rows_rejected, log.rows_duplicate) == (5, 1, 3, 1)
    assert log.rows_read == log.rows_loaded + log.rows_rejected + log.rows_duplicate
    rej = wh.rejects(r.file_id)
    assert sorted(rej["line"]) == [4, 5, 6]
    assert set(rej["file_name"]) == {"payments.csv"}


def test_refused_file_leaves_the_warehouse_unchanged(wh, tmp_path):
    good = write(tmp_path / "payments.csv", PAY + "P1,I1,2025-01-02,10\n")
    so.ingest_file(wh, good, CFG)
    bad = write(tmp_path / "payments2.csv", "payment_id,invoice_id,amount\nP9,I9,1\n")
    with pytest.raises(so.FileRefusedError, match="payment_date"):
        so.ingest_file(wh, bad, CFG, kind="payments")
    assert len(wh.table("payments")) == 1
    assert len(wh.ingest_log()) == 1
    assert len(wh.rejects()) == 0


def test_payments_for_unknown_invoices_are_loaded_and_counted(wh, tmp_path):
    inv = write(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount\nI1,C1,2025-01-01,2025-01-31,10\n",
    )
    so.ingest_file(wh, inv, CFG)
    pay = write(tmp_path / "payments.csv", PAY + "P1,i1,2025-01-02,10\nP2,I404,2025-01-02,5\n")
    r = so.ingest_file(wh, pay, CFG)
    assert r.loaded == 2 and r.unmatched == 1
    assert "1 payments for unknown invoices" in r.line()


def test_kind_from_file_name(tmp_path):
    cfg = so.load_config(None)
    assert so.detect_kind(tmp_path / "ERP_Invoices_2025-06-30.csv", cfg) == "invoices"
    assert so.detect_kind(tmp_path / "fx_rates.csv", cfg) == "fx_rates"
    with pytest.raises(so.FileRefusedError, match="pass --kind"):
        so.detect_kind(tmp_path / "export.csv", cfg)


def test_config_file_patterns_name_the_kind(tmp_path):
    from salesops_analysis.config import config_from_dict

    cfg = config_from_dict({"kinds": {"payments": {"file_patterns": ["bank_*.csv"]}}})
    assert so.detect_kind(tmp_path / "bank_2025.csv", cfg) == "payments"


def test_schema_version_is_recorded_and_newer_warehouses_refused(tmp_path):
    path = tmp_path / "w.duckdb"
    with so.open_warehouse(path) as wh:
        v = wh.con.execute("SELECT value FROM _meta WHERE key='schema_version'").fetchall()[0][0]
        assert int(v) == SCHEMA_VERSION
        wh.con.execute("UPDATE _meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(so.WarehouseError, match="newer"):
        so.open_warehouse(path)


def test_not_a_warehouse_is_a_clear_error(tmp_path):
    p = write(tmp_path / "x.duckdb", "hello")
    with pytest.raises(so.WarehouseError, match="x.duckdb"):
        so.open_warehouse(p)


def test_demo_warehouse_has_every_table(demo_db):
    with so.open_warehouse(demo_db, read_only=True) as wh:
        log = wh.ingest_log()
        assert (log.rows_read == log.rows_loaded + log.rows_rejected + log.rows_duplicate).all()
        assert len(wh.table("invoices")) > 45_000
        assert len(wh.table("customers")) > 1_900


def test_reading_some_columns_of_a_table(demo_db):
    from salesops_analysis.metrics import load_tables

    with so.open_warehouse(demo_db, read_only=True) as wh:
        full = wh.table("orders")
        some = wh.table("orders", columns=["sales_rep", "customer_id"])
        with pytest.raises(so.WarehouseError, match="no column rep"):
            wh.table("orders", columns=["customer_id", "rep"])
        tables = load_tables(wh, columns={"orders": ["customer_id"]})
    assert list(some.columns) == ["sales_rep", "customer_id"]
    assert some.equals(full[["sales_rep", "customer_id"]])
    assert list(tables.orders.columns) == ["customer_id"]
    assert len(tables.invoices.columns) > 5


def test_tables_keep_the_export_order(demo_db, demo_raw, demo_config, tmp_path):
    """Rows come back in file and line order, so the same exports give the same tables (and
    the same model) in any warehouse: the insert runs on several threads."""
    with so.open_warehouse(demo_db, read_only=True) as wh:
        line = wh.con.sql("SELECT _line FROM invoices_history").fetchnumpy()["_line"]
        first = wh.table("invoices")
    assert (line[1:] > line[:-1]).all()
    with so.open_warehouse(tmp_path / "again.duckdb") as wh:
        so.ingest_file(wh, demo_raw / "invoices.csv", demo_config)
        again = wh.table("invoices")
    assert first.equals(again)


@requires_realdata
def test_ibm_sample_loads_all_invoices_with_zero_rejects(tmp_path):
    cfg = so.load_config(IBM_CONFIG)
    with so.open_warehouse(tmp_path / "ibm.duckdb") as wh:
        r = so.ingest_file(wh, IBM_CSV, cfg, kind="invoices")
        inv = wh.table("invoices")
    assert (r.rows_read, r.loaded, r.rejected, r.duplicates) == (2466, 2466, 0, 0)
    row = inv.set_index("invoice_id").loc["0000611365"]  # leading zeros kept
    assert str(row["invoice_date"].date()) == "2013-01-02"  # 1/2/2013 is M/D/YYYY
    assert row["status"] == "paid"
    assert inv["disputed"].sum() == 561
    assert set(inv["status"]) == {"paid"}
    assert {"DaysToSettle", "DaysLate"} <= set(r.ignored_columns)


def test_a_clean_table_that_breaks_its_schema_is_not_loaded(wh, tmp_path, monkeypatch):
    """The schema check runs before the rows are written: its failure leaves the warehouse as it
    was."""
    from salesops_analysis import schemas

    first = write(tmp_path / "payments_1.csv", PAY + "P1,I1,2025-01-02,10\n")
    so.ingest_file(wh, first, CFG)
    real = schemas.field_checks

    def broken(f):  # a schema the clean rows cannot meet: amounts must be negative
        extra = (schemas.ValueCheck("lt", 0),) if f.name == "amount" else ()
        return real(f) + extra

    monkeypatch.setattr(schemas, "field_checks", broken)
    second = write(tmp_path / "payments_2.csv", PAY + "P2,I2,2025-01-03,20\n")
    with pytest.raises(AssertionError, match="breaks its schema"):
        so.ingest_file(wh, second, CFG)
    assert wh.table("payments")["payment_id"].tolist() == ["P1"]
    assert len(wh.ingest_log()) == 1 and wh.rejects().empty


def test_content_ingested_before_is_known_even_where_the_config_now_refuses_it(wh, tmp_path):
    rows = "".join(f"P{i},I1,2025-01-02,10\n" for i in range(12))
    p = write(tmp_path / "payments.csv", PAY + rows)
    assert so.ingest_file(wh, p, CFG).status == "loaded"
    copy = write(tmp_path / "payments_copy.csv", PAY + rows)
    strict = so.Config()
    strict.kinds["payments"].date_formats = ["%d.%m.%Y"]  # reads none of its dates now
    assert so.ingest_file(wh, copy, strict).status == "already ingested"
    other = write(tmp_path / "payments_other.csv", PAY + rows.replace("P1,", "P99,"))
    with pytest.raises(so.FileRefusedError, match="not dates"):
        so.ingest_file(wh, other, strict)
    assert len(wh.ingest_log()) == 1


def _big_invoices(n: int, changed: int = -1) -> str:
    """An invoices export of ``n`` lines (several Arrow chunks and row groups) with exact
    duplicates, rejects, keys repeated with other content (superseded) and a yes/no column."""
    head = "invoice_id,customer_id,invoice_date,due_date,amount,currency,disputed\n"
    lines = []
    for i in range(n):
        amount = 100 + i % 50 + (1 if i == changed else 0)
        date = "not a date" if i % 997 == 5 else f"2025-01-{1 + i % 28:02d}"
        line = f"INV-{i},C{i % 31},{date},2025-03-01,{amount}.25,EUR,{('yes', 'no')[i % 2]}"
        if i % 1500 == 7:  # the same key again, other content: the later line wins
            line = f"INV-{i - 3},C1,2025-01-02,2025-03-01,1.00,EUR,no"
        lines.append(line)
        if i % 1000 == 3:
            lines.append(line)  # an exact duplicate
    return head + "\n".join(lines) + "\n"


def test_history_rows_are_written_in_line_order(tmp_path):
    """A file parsed on several threads (its rows in any order) is written to the history in
    line order, duplicates, rejects and superseded lines taken out; so is a second load that
    leaves most rows unchanged."""
    from salesops_analysis.ingest import read_export

    cfg = so.Config()
    p = write(tmp_path / "invoices.csv", _big_invoices(150_000))
    raw = read_export(p, cfg.kind("invoices"), "invoices")
    assert raw.table.column("invoice_id").num_chunks > 1  # scanned on several threads
    with so.open_warehouse(tmp_path / "w.duckdb") as wh:
        first = so.ingest_file(wh, p, cfg)
        assert (first.duplicates, first.superseded) == (150, 100)
        q = (
            "SELECT _line FROM invoices_history WHERE _file_id = ? AND _valid_from IS NOT NULL "
            "ORDER BY rowid"
        )
        lines = [r[0] for r in wh.con.execute(q, [first.file_id]).fetchall()]
        assert len(lines) == first.loaded == 150_000 + 150 - 150 - first.rejected
        assert lines == sorted(lines)
        text = _big_invoices(150_000, changed=123_456)
        second = so.ingest_file(wh, write(tmp_path / "invoices_2.csv", text), cfg)
        assert (second.updated, second.inserted) == (1, 0)
        assert second.unchanged == first.loaded - 1
        line = 1 + text.splitlines().index("INV-123456,C14,2025-01-05,2025-03-01,107.25,EUR,yes")
        assert [r[0] for r in wh.con.execute(q, [second.file_id]).fetchall()] == [line]
