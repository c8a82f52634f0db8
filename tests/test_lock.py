"""Lock files that say who holds them, and the clean-up of what dead processes left."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from salesops_analysis import LockTimeoutError
from salesops_analysis._lock import (
    LockHolder,
    ProcessLock,
    pid_alive,
    remove_stale_temporaries,
)


@pytest.fixture
def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    return proc.pid


def test_pid_alive():
    assert pid_alive(os.getpid())
    assert not pid_alive(0) and not pid_alive(-1)


def test_a_lock_left_by_a_dead_process_is_taken_over_and_said_so(tmp_path, dead_pid):
    path = tmp_path / "x.lock"
    path.write_text(
        LockHolder(dead_pid, "salesops report daily-mis", "2025-06-30 06:30:00").to_text()
    )
    lines: list[str] = []
    lock = ProcessLock(path, what="the daily-mis report of 2025-06-30")
    lock.acquire(wait=0, notify=lines.append)
    assert lines == [
        f"took over the daily-mis report of 2025-06-30 from pid {dead_pid} (salesops report "
        "daily-mis) since 2025-06-30 06:30:00: no longer running"
    ]
    assert lock.holder().pid == os.getpid()
    lock.release()
    assert path.read_text() == "" and not lock.held


def test_a_held_lock_times_out_naming_its_holder(tmp_path):
    path = tmp_path / "x.lock"
    with ProcessLock(path, what="the thing").hold(wait=0):
        lines: list[str] = []
        with pytest.raises(LockTimeoutError, match=f"the thing is locked by pid {os.getpid()}"):
            ProcessLock(path, what="the thing").acquire(wait=0.3, notify=lines.append)
        assert len(lines) == 1 and lines[0].startswith("waiting for the thing: locked by pid")
    with ProcessLock(path, what="the thing").hold(wait=0):  # free again
        pass


def test_lock_file_naming_nobody():
    assert LockHolder.from_text("") is None
    assert LockHolder.from_text("garbage\n") is None
    one = LockHolder(12, "salesops ingest", "2025-01-01 00:00:00")
    assert LockHolder.from_text(one.to_text()) == one


def test_remove_stale_temporaries_keeps_live_ones(tmp_path, dead_pid):
    assert remove_stale_temporaries(tmp_path / "missing") == []
    assert remove_stale_temporaries(tmp_path) == []  # empty folder
    stale_dir = tmp_path / f".daily-mis.tmp-{dead_pid}"
    stale_dir.mkdir()
    (stale_dir / "report.ipynb").write_text("{")
    stale_file = tmp_path / f"w.published.duckdb.tmp-{dead_pid}"
    stale_file.write_bytes(b"half")
    live = tmp_path / f".collections.tmp-{os.getpid()}"
    live.mkdir()
    other = tmp_path / "report.ipynb"
    other.write_text("{}")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted([stale_dir, stale_file])
    assert live.exists() and other.exists()
