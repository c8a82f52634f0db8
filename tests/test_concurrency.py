"""Analysts and the scheduled run share the warehouse: real processes, real DuckDB files.

Readers open the copy the last writer published; writers queue behind a lock file (pid,
command, since) that the kernel frees when its holder dies.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import salesops_analysis as so
from salesops_analysis.warehouse import lock_path, snapshot_path
from tests.conftest import DEMO_CONFIG, SALESOPS, count_rows, salesops

DAY = "2025-06-30"


@pytest.fixture
def db(db_without_payments, tmp_path) -> Path:
    """A fresh copy of the base warehouse (its readers' copy is published on first use)."""
    path = tmp_path / "data" / "salesops.duckdb"
    path.parent.mkdir()
    shutil.copy(db_without_payments, path)
    return path


def holder_pid(db: Path) -> int | None:
    try:
        first = lock_path(db).read_text().split("\n")[0]
    except OSError:
        return None
    return int(first) if first.isdigit() else None


def wait_for(condition, timeout: float = 60.0, step: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return False


READER = textwrap.dedent("""
    import json, os, sys, time
    import salesops_analysis as so
    db, lock, out = sys.argv[1:4]

    def payments(wh):
        return wh.con.execute("SELECT count(*) FROM payments").fetchall()[0][0]

    def holder():
        try:
            return open(lock).read().split("\\n")[0]
        except OSError:
            return ""

    held = so.open_warehouse(db, read_only=True)  # an analyst's notebook, left open
    first = payments(held)
    print("ready", flush=True)
    log = []
    while not os.path.exists(out + ".stop"):  # new readers, one after another
        before, t = holder(), time.perf_counter()
        try:
            with so.open_warehouse(db, read_only=True) as wh:
                n, error = payments(wh), None
        except Exception as exc:
            n, error = None, repr(exc)
        log.append(dict(before=before, after=holder(), count=n, error=error,
                        seconds=time.perf_counter() - t))
        time.sleep(0.02)
    still = payments(held)
    held.close()
    with so.open_warehouse(db, read_only=True) as wh:
        reopened = payments(wh)
    json.dump(dict(first=first, still=still, reopened=reopened, log=log), open(out, "w"))
""")


def test_a_reader_left_open_never_stops_daily_and_new_readers_see_the_last_commit(
    small_exports, db, tmp_path
):
    new = tmp_path / "new_exports"
    new.mkdir()
    shutil.copy(small_exports / "payments.csv", new / "payments.csv")
    out = tmp_path / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db), str(lock_path(db)), str(out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout.readline().strip() == "ready"
    daily = subprocess.Popen(
        [SALESOPS, "daily", "--date", DAY, "--raw", new, "--db", db, "--config", DEMO_CONFIG],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = daily.communicate(timeout=600)
    Path(str(out) + ".stop").touch()
    reader.wait(timeout=60)
    assert daily.returncode == 0, stderr
    assert "ingest: 1 new file(s)" in stdout
    result = json.loads(out.read_text())
    assert result["first"] == 0  # no payments before the run
    assert result["still"] == 0  # the reader left open keeps its consistent (old) state
    assert result["reopened"] == count_rows(db) > 0  # reopening shows the new commit
    log = result["log"]
    assert all(entry["error"] is None for entry in log), log
    during = [e for e in log if e["before"] == e["after"] == str(daily.pid)]
    assert during, "no reader started while daily held the warehouse"
    # while daily was writing, new readers got the previous state at once
    assert all(e["count"] == 0 for e in during)
    assert max(e["seconds"] for e in during) < 5.0  # an open, not a wait for the writer
    assert {e["count"] for e in log} <= {0, result["reopened"]}


WRITER = textwrap.dedent("""
    import sys
    import salesops_analysis as so
    wh = so.open_warehouse(sys.argv[1])
    wh.con.execute("BEGIN TRANSACTION")
    wh.con.execute("DELETE FROM invoices_history")  # a write in progress, not committed
    print("writing", flush=True)
    if sys.stdin.readline().strip() == "commit":
        wh.con.execute("COMMIT")
    wh.close()
    print("closed", flush=True)
""")


def _writer(db: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "writing", proc.stderr.read()
    return proc


def test_a_reader_opening_during_a_write_gets_the_previous_state_at_once(db):
    invoices = count_rows(db, "invoices")
    writer = _writer(db)
    try:
        started = time.perf_counter()
        code = (
            "import sys, salesops_analysis as so\n"
            "with so.open_warehouse(sys.argv[1], read_only=True) as wh:\n"
            "    print(wh.sql('SELECT count(*) AS n FROM invoices')['n'].iloc[0])\n"
        )
        r = subprocess.run(
            [sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0, r.stderr
        assert int(r.stdout) == invoices
        assert time.perf_counter() - started < 15  # a process start, not a wait
        writer.stdin.write("commit\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "closed"
    finally:
        writer.kill()
        writer.wait()
    assert count_rows(db, "invoices") == 0  # the commit is published when the writer closes


def test_a_second_writer_waits_naming_the_holder_then_runs(small_exports, db):
    writer = _writer(db)
    try:
        ingest = subprocess.Popen(
            [
                SALESOPS,
                "ingest",
                small_exports / "payments.csv",
                "--db",
                db,
                "--config",
                DEMO_CONFIG,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # it says that it waits, and for whom
        line = ingest.stderr.readline()
        assert f"waiting for the warehouse {db}: locked by pid {writer.pid} (python" in line
        assert " since 20" in line and "(up to 600s)" in line
        time.sleep(1.0)
        assert ingest.poll() is None  # still waiting
        writer.stdin.write("rollback\n")
        writer.stdin.flush()
        stdout, stderr = ingest.communicate(timeout=300)
    finally:
        writer.kill()
        writer.wait()
    assert ingest.returncode == 0, stderr
    assert "1 file(s) loaded" in stdout
    assert (
        count_rows(db) > 0 and count_rows(db, "invoices") > 0
    )  # the rolled-back delete left no trace


def test_a_writer_past_its_wait_exits_75_naming_the_holder(small_exports, db):
    writer = _writer(db)
    try:
        started = time.monotonic()
        r = salesops("ingest", small_exports / "payments.csv", "--db", db, "--wait", "1")
        elapsed = time.monotonic() - started
    finally:
        writer.kill()
        writer.wait()
    assert r.returncode == 75
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: the warehouse {db} is locked by pid {writer.pid} (python")
    assert "waited 1s" in last and "Traceback" not in r.stderr
    assert 1.0 <= elapsed < 30
    assert count_rows(db) == 0  # nothing loaded


def test_two_concurrent_ingests_of_different_files_both_load_with_exact_accounting(
    small_exports, db, db_without_payments, tmp_path
):
    # a second activities export: the first half of the rows again, and new ones
    lines = (small_exports / "activities.csv").read_text().splitlines(keepends=True)
    extra = tmp_path / "activities_extra.csv"
    extra.write_text(lines[0] + "".join(lines[1 : len(lines) // 2]))
    jobs = [(small_exports / "payments.csv", "payments"), (extra, "activities")]
    procs = [
        subprocess.Popen(
            [SALESOPS, "ingest", f, "--db", db, "--config", DEMO_CONFIG, "--kind", kind],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f, kind in jobs
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (stdout, stderr) in zip(procs, outs, strict=True):
        assert p.returncode == 0, stderr
        assert "1 file(s) loaded" in stdout
    # the same files one after the other give the same accounting and tables
    reference = tmp_path / "reference.duckdb"
    shutil.copy(db_without_payments, reference)
    for f, kind in jobs:
        r = salesops("ingest", f, "--db", reference, "--config", DEMO_CONFIG, "--kind", kind)
        assert r.returncode == 0, r.stderr
    columns = ["rows_read", "rows_loaded", "rows_rejected", "rows_duplicate", "rows_inserted"]
    with (
        so.open_warehouse(db, read_only=True) as wh,
        so.open_warehouse(reference, read_only=True) as ref,
    ):
        got = wh.ingest_log().set_index("file_name")
        expected = ref.ingest_log().set_index("file_name")
        for name in ("payments.csv", "activities_extra.csv"):
            row = got.loc[name]
            assert row.rows_read == row.rows_loaded + row.rows_rejected + row.rows_duplicate
            assert row[columns].tolist() == expected.loc[name, columns].tolist()
        assert (
            got.loc["payments.csv", "rows_read"]
            == len((small_exports / "payments.csv").read_text().splitlines()) - 1
        )
        for table in ("payments", "activities"):
            assert len(wh.table(table)) == len(ref.table(table))


def test_kill_9_during_an_ingest_keeps_the_last_commit_and_the_next_ingest_takes_over(
    small_exports, db, tmp_path
):
    before = count_rows(db, "invoices")
    big = tmp_path / "payments.csv"  # long enough to be killed in the middle
    lines = (small_exports / "payments.csv").read_text().splitlines(keepends=True)
    body = lines[1:]
    with big.open("w") as fh:
        fh.write(lines[0])
        for i in range(300):
            fh.writelines(line.replace(",", f"-{i},", 1) for line in body)
    proc = subprocess.Popen(
        [SALESOPS, "ingest", big, "--db", db, "--config", DEMO_CONFIG],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert wait_for(lambda: holder_pid(db) == proc.pid), "the ingest never took the lock"
    time.sleep(1.0)
    assert proc.poll() is None, "the ingest ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # the lock file still names the dead process; readers see the last committed state
    assert holder_pid(db) == proc.pid
    assert count_rows(db) == 0 and count_rows(db, "invoices") == before
    r = salesops("ingest", big, "--db", db, "--config", DEMO_CONFIG, "--wait", "5")
    assert r.returncode == 0, r.stderr
    assert f"took over the warehouse {db} from pid {proc.pid}" in r.stderr
    assert "no longer running" in r.stderr
    with so.open_warehouse(db, read_only=True) as wh:
        row = wh.ingest_log().set_index("file_name").loc["payments.csv"]
        assert int(row.rows_read) == len(body) * 300
        assert len(wh.table("payments")) == row.rows_loaded
    assert holder_pid(db) is None  # released: the file names nobody
    assert not list(db.parent.glob("*.tmp-*"))


def test_readers_copy_is_replaced_atomically_and_only_when_something_changed(db):
    snap = snapshot_path(db)
    count_rows(db)  # the first reader publishes the copy of a warehouse that has none
    first = snap.stat()
    with so.open_warehouse(db):
        pass  # a writer that changes nothing does not copy
    assert snap.stat().st_ino == first.st_ino
    held = so.open_warehouse(db, read_only=True)
    with so.open_warehouse(db) as wh:
        wh.con.execute("DELETE FROM orders_history")
    assert snap.stat().st_ino != first.st_ino  # a new file renamed over the old one
    assert held.sql("SELECT count(*) AS n FROM orders")["n"].iloc[0] > 0
    held.close()
    assert count_rows(db, "orders") == 0


def test_sql_returns_a_dataframe_and_readers_cannot_write(db):
    with so.open_warehouse(db, read_only=True) as wh:
        frame = wh.sql("SELECT customer_id, count(*) AS n FROM invoices GROUP BY 1 ORDER BY 1")
        assert list(frame.columns) == ["customer_id", "n"] and len(frame) > 1
        one = wh.sql("SELECT count(*) AS n FROM invoices WHERE customer_id = ?", ["nobody"])
        assert one["n"].tolist() == [0]
        import duckdb

        with pytest.raises(duckdb.Error):
            wh.con.execute("DELETE FROM invoices_history")
