"""Report runs that end early: SIGTERM in a real subprocess, a full disk (tmpfs), temporary
folders left by killed runs. The last good report stays, nothing temporary stays."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from salesops_analysis._lock import pid_alive
from salesops_analysis.reports import run_report
from salesops_analysis.reports.runner import remove_stale_runs
from tests.reports.conftest import DAY
from tests.test_faults import fill, small_disk

SALESOPS = str(Path(sys.executable).with_name("salesops"))


def _children(pid: int) -> set[int]:
    """Return the pids of the live child processes of ``pid`` (Linux /proc)."""
    kids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.add(int(stat.parent.name))
    return kids


def _wait_for(condition, timeout: float = 120.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _report(small_site: Path, out: Path, name: str = "daily-mis") -> Path:
    run = run_report(
        name,
        DAY,
        db_path=small_site / "data" / "salesops.duckdb",
        config_path=small_site / "salesops.yml",
        out=out,
        progress=False,
    )
    return run.folder


def _command(small_site: Path, out: Path, *args: str) -> list[str]:
    return [
        SALESOPS,
        *args,
        "--date",
        DAY,
        "--db",
        str(small_site / "data" / "salesops.duckdb"),
        "--config",
        str(small_site / "salesops.yml"),
        "--out",
        str(out),
    ]


def _leftovers(day_dir: Path) -> list[str]:
    return sorted(p.name for p in day_dir.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def test_sigterm_during_a_report_removes_its_folder_and_keeps_the_last_good_report(
    small_site, tmp_path
):
    out = tmp_path / "reports"
    folder = _report(small_site, out)
    good = (folder / "metrics.json").read_text()
    inode = folder.stat().st_ino
    proc = subprocess.Popen(
        _command(small_site, out, "report", "daily-mis"),
        cwd=small_site,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tmp = out / DAY / f".daily-mis.tmp-{proc.pid}"
    assert _wait_for(tmp.exists), "the run never started its notebook"
    time.sleep(1.0)  # the notebook is running
    assert proc.poll() is None
    kernels = _children(proc.pid)
    assert kernels, "the report's kernel should be a child of the run"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143
    assert stderr.strip().splitlines()[-1] == (
        "error: interrupted by SIGTERM: daily-mis not run; the previous daily-mis report is "
        "unchanged"
    )
    assert "Traceback" not in stderr
    assert not tmp.exists() and _leftovers(out / DAY) == []
    assert not (out / DAY / "daily-mis.failed.ipynb").exists()  # not a notebook failure
    assert folder.stat().st_ino == inode and (folder / "metrics.json").read_text() == good
    assert _wait_for(lambda: not any(pid_alive(k) for k in kernels), timeout=20)


def test_sigterm_during_daily_says_which_reports_were_published(small_site, tmp_path):
    out = tmp_path / "reports"
    raw = tmp_path / "raw"
    raw.mkdir()
    first = subprocess.run(
        _command(small_site, out, "daily") + ["--raw", str(raw)],
        cwd=small_site,
        capture_output=True,
        text=True,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    names = ("daily-mis", "collections")
    before = {n: (out / DAY / n).stat().st_ino for n in names}
    proc = subprocess.Popen(
        _command(small_site, out, "daily") + ["--raw", str(raw)],
        cwd=small_site,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # both notebooks running side by side
    assert _wait_for(
        lambda: (
            all((out / DAY / f".{n}.tmp-{proc.pid}").exists() for n in names)
            or proc.poll() is not None
        )
    )
    assert proc.poll() is None
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    last = stderr.strip().splitlines()[-1]
    published = [n for n in names if (out / DAY / n).stat().st_ino != before[n]]
    missed = [n for n in names if n not in published]
    assert missed, "both reports finished before the signal"
    expected = ", ".join([f"{n} published" for n in published] + [f"{n} not run" for n in missed])
    expected += "; " + ", ".join(f"the previous {n} report is unchanged" for n in missed)
    assert last == f"error: interrupted by SIGTERM: {expected}"
    assert _leftovers(out / DAY) == []
    for n in missed:
        assert json.loads((out / DAY / n / "metrics.json").read_text())["report_date"] == DAY


def test_disk_full_while_writing_a_report_exits_75_and_leaves_nothing_half_written(
    small_site, tmp_path
):
    with small_disk(tmp_path / "disk", "32m") as disk:
        out = disk / "reports"
        # the first report of a date, on a full disk
        filler = fill(disk, leave=64 * 1024)
        r = subprocess.run(
            _command(small_site, out, "report", "daily-mis"),
            cwd=small_site,
            capture_output=True,
            text=True,
            check=False,
        )
        assert r.returncode == 75, r.stderr
        last = r.stderr.strip().splitlines()[-1]
        assert last.startswith(f"error: disk full writing {out / DAY}")
        assert last.endswith(
            "daily-mis 2025-06-30 not published; there was no earlier report of that date"
        )
        assert "unexpected" not in r.stderr and "Traceback" not in r.stderr
        assert _leftovers(out / DAY) == [] and not (out / DAY / "daily-mis").exists()
        # room again: a good report; then the disk fills up and the next run fails
        filler.unlink()
        folder = _report(small_site, out)
        good = (folder / "metrics.json").read_text()
        files = sorted(p.name for p in folder.iterdir())
        filler = fill(disk, leave=64 * 1024)
        r = subprocess.run(
            _command(small_site, out, "report", "daily-mis"),
            cwd=small_site,
            capture_output=True,
            text=True,
            check=False,
        )
        assert r.returncode == 75, r.stderr
        assert (
            r.stderr.strip()
            .splitlines()[-1]
            .endswith(
                f"daily-mis 2025-06-30 not published; the previous report in {folder} is unchanged"
            )
        )
        assert _leftovers(out / DAY) == []
        assert (folder / "metrics.json").read_text() == good
        assert sorted(p.name for p in folder.iterdir()) == files


def test_a_run_removes_temporary_folders_of_dead_processes_first(small_site, tmp_path):
    out = tmp_path / "reports"
    done = subprocess.run(["true"], check=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    assert done.returncode == 0 and not pid_alive(dead.pid)
    alive = subprocess.Popen(["sleep", "120"])
    try:
        stale = [
            out / DAY / f".daily-mis.tmp-{dead.pid}",
            out / "2025-06-29" / f".collections.tmp-{dead.pid}",
        ]
        for path in stale:
            path.mkdir(parents=True)
            (path / "report.ipynb").write_text("{half")
        running = out / DAY / f".collections.tmp-{alive.pid}"
        running.mkdir()
        # a swap cut short: the previous report was moved aside, the new one not yet in place
        aside = out / "2025-06-28" / f".collections.old-{dead.pid}"
        aside.mkdir(parents=True)
        (aside / "metrics.json").write_text('{"report_date": "2025-06-28"}')
        folder = _report(small_site, out)
        assert all(not p.exists() for p in stale)
        assert running.exists()  # a live run's folder is left alone
        restored = out / "2025-06-28" / "collections" / "metrics.json"
        assert json.loads(restored.read_text()) == {"report_date": "2025-06-28"}
        assert not aside.exists()
        assert (folder / "metrics.json").exists()
        assert remove_stale_runs(out) == []  # nothing more to remove
    finally:
        alive.kill()
        alive.wait()
    assert remove_stale_runs(out) == [running]
