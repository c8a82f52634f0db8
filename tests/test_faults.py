"""Faults a scheduled run meets, met for real: a full disk (a size-limited tmpfs), SIGTERM,
and what they leave: one line naming the cause and what was kept, a retryable exit code, and
nothing half-written."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import salesops_analysis as so
from salesops_analysis.cli import main
from salesops_analysis.warehouse import lock_path, snapshot_path
from tests.conftest import DEMO_CONFIG, SALESOPS, count_rows, salesops


@contextlib.contextmanager
def small_disk(path: Path, size: str):
    """Mount a tmpfs of ``size`` at ``path`` (root only; the test is skipped elsewhere, and the
    injected-ENOSPC tests below still run)."""
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` up to ``leave`` free bytes; return the filler file."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free - leave
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(free, 0))
    return filler


@pytest.fixture(scope="module")
def big_payments(small_exports, tmp_path_factory) -> Path:
    """About 900,000 payments: an ingest long enough to interrupt (a second after it takes the
    lock, even on a loaded machine), big enough to fill a disk."""
    lines = (small_exports / "payments.csv").read_text().splitlines(keepends=True)
    path = tmp_path_factory.mktemp("big") / "payments.csv"
    with path.open("w") as fh:
        fh.write(lines[0])
        for i in range(300):
            fh.writelines(line.replace(",", f"-{i},", 1) for line in lines[1:])
    return path


def test_warehouse_disk_full_during_ingest_is_one_line_exit_75_and_keeps_the_last_commit(
    db_without_payments, big_payments, small_exports, tmp_path
):
    # room for the warehouse and its readers' copy once the filler is gone: these payments pay
    # each invoice 300 times, and with their invoice ids stored with ZSTD the warehouse takes
    # 32 MB (28 MB before)
    with small_disk(tmp_path / "disk", "96m") as disk:
        db = disk / "salesops.duckdb"
        shutil.copy(db_without_payments, db)
        assert count_rows(db) == 0  # publishes the readers' copy
        invoices_before = db.stat().st_size
        filler = fill(disk, leave=256 * 1024)
        r = salesops("ingest", big_payments, "--db", db, "--config", DEMO_CONFIG)
        assert r.returncode == 75, r.stderr
        last = r.stderr.strip().splitlines()[-1]
        assert last.startswith("error: disk full writing ")
        assert str(disk) in last  # which path
        assert "payments.csv not loaded (rolled back)" in last
        assert "unexpected" not in r.stderr and "Traceback" not in r.stderr
        # the last committed state is readable, the lock is free, no temporary file is left
        assert count_rows(db) == 0
        assert lock_path(db).read_text() == ""
        assert not list(disk.glob("*.tmp-*"))
        # room again: the next ingest loads the file
        filler.unlink()
        r = salesops("ingest", big_payments, "--db", db, "--config", DEMO_CONFIG)
        assert r.returncode == 0, r.stderr
        assert count_rows(db) > 0 and db.stat().st_size >= invoices_before


def test_readers_copy_that_cannot_be_written_keeps_the_previous_one(
    db_without_payments, tmp_path, monkeypatch
):
    """Injected ENOSPC at the copy (where no tmpfs can be mounted this is the disk-full test)."""
    db = tmp_path / "salesops.duckdb"
    shutil.copy(db_without_payments, db)
    before = count_rows(db)
    snap = snapshot_path(db)
    inode = snap.stat().st_ino

    def no_room(src, dst, *a, **k):
        Path(dst).write_bytes(b"half")  # a partial copy, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    wh = so.open_warehouse(db)
    wh.con.execute("DELETE FROM invoices_history")
    monkeypatch.setattr(shutil, "copyfile", no_room)
    with pytest.raises(so.DiskFullError, match=r"disk full writing .*published.*tmp-") as info:
        wh.close()
    assert "readers keep the previous state" in str(info.value)
    assert "the readers' copy needs " in str(info.value) and " MB" in str(info.value)
    assert info.value.exit_code == 75
    monkeypatch.undo()
    assert snap.stat().st_ino == inode and count_rows(db) == before
    assert not list(tmp_path.glob("*.tmp-*"))  # the partial copy is gone
    assert lock_path(db).read_text() == ""  # the lock was released
    # the next writer publishes what the first one committed
    with so.open_warehouse(db):
        pass
    with so.open_warehouse(db, read_only=True) as reader:
        assert reader.sql("SELECT count(*) AS n FROM invoices")["n"].iloc[0] == 0


def test_sigterm_during_ingest_rolls_back_the_file_and_says_so(
    db_without_payments, big_payments, tmp_path
):
    db = tmp_path / "salesops.duckdb"
    shutil.copy(db_without_payments, db)
    proc = subprocess.Popen(
        [SALESOPS, "ingest", big_payments, "--db", db, "--config", DEMO_CONFIG],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    end = time.monotonic() + 60
    while not lock_path(db).exists() or lock_path(db).read_text().split("\n")[0] != str(proc.pid):
        assert time.monotonic() < end and proc.poll() is None
        time.sleep(0.02)
    time.sleep(1.0)
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143
    assert stderr.strip().splitlines()[-1] == (
        f"error: interrupted by SIGTERM: payments.csv not loaded (rolled back); {db} keeps "
        "its last committed state"
    )
    assert count_rows(db) == 0 and lock_path(db).read_text() == ""
    r = salesops("ingest", big_payments, "--db", db, "--config", DEMO_CONFIG)
    assert r.returncode == 0 and "took over" not in r.stderr  # released, not left stale


def test_permission_denied_is_named(db_without_payments, tmp_path):
    if os.geteuid() == 0:
        # root reads and writes whatever the mode bits say: a read-only mount refuses it
        with small_disk(tmp_path / "ro", "8m") as disk:
            shutil.copy(db_without_payments, disk / "salesops.duckdb")
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
            r = salesops(
                "ingest", db_without_payments, "--db", disk / "salesops.duckdb", "--kind", "orders"
            )
    else:
        folder = tmp_path / "locked"
        folder.mkdir()
        shutil.copy(db_without_payments, folder / "salesops.duckdb")
        folder.chmod(0o500)
        r = salesops(
            "ingest", db_without_payments, "--db", folder / "salesops.duckdb", "--kind", "orders"
        )
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert "read-only file system" in last or "permission denied" in last
    assert "salesops.duckdb" in last and "unexpected" not in last


def test_usage_errors_exit_2():
    result = CliRunner().invoke(main, ["ingest", "x.csv", "--wait", "soon"])
    assert result.exit_code == 2
