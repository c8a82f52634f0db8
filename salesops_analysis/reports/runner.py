"""Run a report notebook with papermill, export it to HTML, and publish it atomically.

``reports/<date>/<report>/`` gets ``report.ipynb`` (executed), ``report.html`` (no code cells,
images embedded: one file to e-mail), ``metrics.json`` and the report's tables. The run
happens in a temporary folder beside it and replaces the published folder only on success; a
failed run keeps its executed notebook as ``reports/<date>/<report>.failed.ipynb`` and leaves
the previous good report in place. A lock file makes a second run of the same report and date
wait (up to ``wait`` seconds), then refuse.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .. import _signals
from .._errors import DiskFullError, ReportError, os_error
from .._lock import ProcessLock, pid_alive, remove_stale_temporaries
from .index import write_index

__all__ = [
    "REPORTS",
    "ReportKernel",
    "ReportRun",
    "notebook_path",
    "notebook_tools",
    "remove_stale_runs",
    "run_report",
]

REPORTS = {"daily-mis": "daily_mis", "collections": "collections"}

#: What a report's kernel runs before its notebook (see :class:`ReportKernel`): the notebook's
#: own imports and the libraries the package loads on first use for that report. skops comes
#: first: on import it searches every module loaded so far for the home of each numpy and
#: scipy ufunc, so it loads faster before pandas and matplotlib.
WARM_UP = {
    "daily-mis": "import pandas, matplotlib.pyplot, IPython.display, duckdb\n"
    "import salesops_analysis.reports.charts, salesops_analysis.reports.daily",
    "collections": "from salesops_analysis._skops import skops_io\nskops_io()\n"
    "import pandas, matplotlib.pyplot, IPython.display, duckdb, xlsxwriter\n"
    "import sklearn.calibration, sklearn.ensemble, sklearn.linear_model\n"
    "import salesops_analysis.reports.charts, salesops_analysis.reports.collections",
}
#: The kernel's own start-up warnings are noise in cron mail.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
#: The report kernels' environment, beside the caller's: Arrow allocates from the system's
#: allocator, which hands the buffers of a freed ten-million-row column back to the system
#: (Arrow's default pool keeps them, and the kernel's memory stays at its peak).
KERNEL_ENVIRONMENT = {"ARROW_DEFAULT_MEMORY_POOL": "system"}


@dataclass
class ReportRun:
    """Where a finished report was published, and its headline figures."""

    report: str
    date: str
    folder: Path
    metrics: dict
    seconds: float

    def line(self) -> str:
        """Return the one-line summary printed by the CLI."""
        return f"{self.report} {self.date}: {self.folder} ({self.seconds:.1f}s)"


def notebook_path(report: str) -> Path:
    """Return the packaged notebook of a report (``daily-mis``, ``collections``, ``explore``)."""
    name = REPORTS.get(report, report)
    path = Path(str(resources.files("salesops_analysis") / "notebooks" / f"{name}.ipynb"))
    if not path.is_file():
        raise ReportError(f"unknown report '{report}' (reports: {', '.join(REPORTS)})")
    return path


@contextlib.contextmanager
def _lock(path: Path, wait: float, what: str = "this report and date", notify=None):
    """Hold the lock of one report and date: a second run waits up to ``wait`` seconds."""
    with ProcessLock(path, what=what).hold(wait, notify):
        yield


def remove_stale_runs(out: str | Path) -> list[Path]:
    """Remove what killed report runs left under ``out/<date>/``; return what was removed.

    A run works in ``.<report>.tmp-<pid>/`` and, while it swaps in the new report, keeps the
    previous one as ``.<report>.old-<pid>/``. When that process is gone (``kill -9``, a power
    cut), its temporary folder is removed and a previous report is put back if the swap did not
    finish. Folders of running processes are left alone.
    """
    removed: list[Path] = []
    out = Path(out)
    if not out.is_dir():
        return removed
    for day_dir in out.iterdir():
        if not day_dir.is_dir() or day_dir.name.startswith("."):
            continue
        for old in day_dir.glob(".*.old-*"):
            pid = old.name.rsplit("-", 1)[-1]
            final = day_dir / old.name[1:].rsplit(".old-", 1)[0]
            if pid.isdigit() and not pid_alive(int(pid)) and not final.exists():
                # the swap was cut short: the previous report goes back (once: the reports of
                # `salesops daily` clean up side by side)
                with contextlib.suppress(OSError):
                    old.rename(final)
        removed += remove_stale_temporaries(day_dir, ".*.tmp-*")
        removed += remove_stale_temporaries(day_dir, ".*.old-*")
    return removed


_IMPORT_LOCK = threading.Lock()


def notebook_tools():
    """Return the modules papermill and nbconvert, imported without jsonschema's slow IRI
    format checker.

    jsonschema (imported by nbformat) loads ``rfc3987_syntax`` when it is installed
    (jupyterlab pulls it in through ``jsonschema[format-nongpl]``); that module compiles about
    35 Lark grammars at import, 2 to 5 s per report run, for an ``iri`` format check that no
    notebook schema uses (python-jsonschema/jsonschema#1428). It is hidden during this import
    only, so jsonschema simply leaves that one format unchecked in this process.
    """
    with _IMPORT_LOCK:  # `salesops daily` runs reports from two threads
        blocked = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
        if blocked:
            sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # -> ImportError
        try:
            import nbconvert
            import papermill
        finally:
            if blocked:
                sys.modules.pop("rfc3987_syntax", None)
    return papermill, nbconvert


#: The former name, kept while branches that import it are merged.
_notebook_tools = notebook_tools


class ReportKernel:
    """A report's kernel, started ahead of its run with the report's libraries imported.

    ``salesops daily`` starts one per report before it checks the exports, so that the
    kernels' start (about 1 s) and imports (3 to 5 s: pandas, matplotlib, scikit-learn, skops)
    overlap that check instead of following it. Only imports run ahead (silently, outside the
    notebook's history): the notebook reads the warehouse only when :func:`run_report` executes
    it, after the check. An import that fails here fails again, loudly, in the notebook.

    Parameters
    ----------
    report : str
        ``daily-mis`` or ``collections``.
    cwd : str or Path, optional
        The kernel's working directory (default: the current one).
    """

    def __init__(self, report: str, cwd: str | Path | None = None) -> None:
        self.report = report
        self._cwd = str(Path(cwd or Path.cwd()))
        self._km = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, daemon=True, name=f"kernel-{report}")
        self._thread.start()

    def _start(self) -> None:
        try:
            from jupyter_client.blocking import BlockingKernelClient
            from jupyter_client.manager import AsyncKernelManager
            from jupyter_core.utils import run_sync

            km = AsyncKernelManager(kernel_name="python3")
            self._km = km
            run_sync(km.start_kernel)(
                cwd=self._cwd,
                extra_arguments=KERNEL_ARGUMENTS,
                env={**os.environ, **KERNEL_ENVIRONMENT},
            )
            if _signals.INTERRUPTED.is_set():  # the signal came while it was starting
                self.kill()
                return
            kc = BlockingKernelClient()
            kc.load_connection_info(km.get_connection_info())
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=60)
                kc.execute_interactive(
                    WARM_UP.get(self.report, ""),
                    silent=True,
                    store_history=False,
                    timeout=120,
                    output_hook=lambda msg: None,
                )
            finally:
                kc.stop_channels()
        except BaseException as exc:  # reported by manager(); the run then starts its own
            self._error = exc

    def manager(self):
        """Wait for the warm-up; return the kernel manager, or ``None`` if the kernel did not
        start (the run then starts a kernel of its own)."""
        if not self._join():
            raise KeyboardInterrupt  # interrupted while the kernel warmed up
        if self._error is not None or self._km is None or not self._km.has_kernel:
            self.shutdown()
            return None
        return self._km

    def _join(self) -> bool:
        """Wait for the warm-up; return ``False`` if a signal came first."""
        while self._thread.is_alive():
            self._thread.join(0.1)
            if _signals.INTERRUPTED.is_set():
                return not self._thread.is_alive()
        return True

    def kill(self) -> None:
        """Kill the kernel process (safe from a signal handler: one system call)."""
        km = self._km
        provisioner = getattr(km, "provisioner", None) if km is not None else None
        pid = getattr(provisioner, "pid", None)
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, 9)

    def shutdown(self) -> None:
        """Stop the kernel at once (it ran no notebook, or its notebook has finished)."""
        if not self._join():  # a signal: the warm-up may wait long for a killed kernel
            self.kill()
            return
        km, self._km = self._km, None
        if km is not None and km.has_kernel:
            from jupyter_core.utils import run_sync

            with contextlib.suppress(Exception):
                run_sync(km.shutdown_kernel)(now=True)


def _export_html(notebook: Path, html: Path) -> None:
    _, nbconvert = notebook_tools()
    exporter = nbconvert.HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True
    )
    body, _ = exporter.from_filename(str(notebook))
    html.write_text(body, encoding="utf-8")


class _NoMetrics(Exception):
    pass


def _execute(pm, nb: Path, executed: Path, params: dict, tmp: Path, progress: bool, kernel):
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    km = kernel.manager()
    try:
        pm.execute_notebook(
            str(nb),
            str(executed),
            parameters={**params, "out_dir": str(tmp)},
            kernel_name="python3",
            progress_bar=progress,
            cwd=str(Path.cwd()),
            extra_arguments=KERNEL_ARGUMENTS,
            # every output has arrived and every file is closed when the last cell ends; a
            # graceful shutdown then only waits about 1.3 s for a 2 GB kernel to tear itself down
            shutdown_kernel="immediate",
            # a warm kernel (None: papermill starts one)
            km=km,
        )
    finally:
        kernel.shutdown()  # papermill stops only the kernels it started
    if not (tmp / "metrics.json").exists():
        raise _NoMetrics


def _disk_full(exc) -> bool:
    text = f"{exc.ename}: {exc.evalue}"
    return "No space left on device" in text or f"[Errno {errno.ENOSPC}]" in text


def _kept(final: Path) -> str:
    if final.exists():
        return f"the previous report in {final} is unchanged"
    return "there was no earlier report of that date"


def _could_not_run(report: str, day: str, exc: BaseException, executed: Path, failed: Path):
    if executed.exists():
        shutil.move(executed, failed)
    return ReportError(
        f"{report} {day} could not run: {type(exc).__name__}: "
        f"{str(exc).splitlines()[0] if str(exc) else ''}"
    )


@dataclass(frozen=True)
class _RunPaths:
    """Where one run of a report for one date reads and writes."""

    report: str
    day: str
    notebook: Path
    out: Path  # the reports root, absolute
    params: dict

    @property
    def day_dir(self) -> Path:
        return self.out / self.day

    @property
    def final(self) -> Path:
        """The published report folder."""
        return self.day_dir / self.report

    @property
    def failed(self) -> Path:
        """Where a failed run's executed notebook is kept."""
        return self.day_dir / f"{self.report}.failed.ipynb"

    @property
    def tmp(self) -> Path:
        """This process's working folder, published by renaming it."""
        return self.day_dir / f".{self.report}.tmp-{os.getpid()}"


def _prepare(report: str, date, db_path, config_path, out, models_dir, model_path) -> _RunPaths:
    """Return the run's paths and notebook parameters (every path absolute)."""
    day = str(date)
    params = {
        "report_date": day,
        "db_path": str(Path(db_path).resolve()),
        "config_path": str(Path(config_path).resolve()) if config_path else "",
    }
    if report == "collections":
        params["models_dir"] = str(Path(models_dir).resolve())
        params["model_path"] = str(Path(model_path).resolve()) if model_path else ""
    # absolute: papermill keeps one process-wide working directory for its output handler, and
    # daily runs two reports in threads; a relative path could land in another run's folder
    return _RunPaths(report, day, notebook_path(report), Path(out).resolve(), params)


def _publish(run: _RunPaths) -> None:
    """Put the finished run in place of the published report (both renames, or neither)."""
    _signals.check()  # an interrupted run publishes nothing
    old = run.day_dir / f".{run.report}.old-{os.getpid()}"
    with _signals.deferred():
        if run.final.exists():
            run.final.rename(old)
        run.tmp.rename(run.final)
    shutil.rmtree(old, ignore_errors=True)
    run.failed.unlink(missing_ok=True)


@contextlib.contextmanager
def _failures_explained(pm, run: _RunPaths):
    """Turn whatever stops the run into one error that says what was kept; remove the
    working folder of a run that was not published."""
    executed = run.tmp / "report.ipynb"
    report, day, failed = run.report, run.day, run.failed
    try:
        yield
    except pm.PapermillExecutionError as exc:
        if _disk_full(exc):
            raise DiskFullError(
                f"disk full writing {run.tmp}: {report} {day} not published; {_kept(run.final)}"
            ) from None
        shutil.move(executed, failed)
        evalue = str(exc.evalue).strip().splitlines()[0] if exc.evalue else ""
        raise ReportError(
            f"{report} {day} failed in cell {exc.exec_count}: {exc.ename}: "
            f"{evalue} (executed notebook kept at {failed})"
        ) from None
    except _NoMetrics:
        shutil.move(executed, failed)
        raise ReportError(
            f"{report} {day}: the notebook wrote no metrics.json "
            f"(executed notebook kept at {failed})"
        ) from None
    except OSError as exc:
        kept = f"{report} {day} not published; {_kept(run.final)}"
        error = os_error(exc, kept=kept, path=run.tmp)
        if error is not None:
            raise error from None
        raise _could_not_run(report, day, exc, executed, failed) from None
    except (ReportError, KeyboardInterrupt):
        raise
    except Exception as exc:
        if _signals.INTERRUPTED.is_set():  # the kernel was stopped by the signal
            raise KeyboardInterrupt from None
        raise _could_not_run(report, day, exc, executed, failed) from None
    finally:
        if run.tmp.exists():  # not published (a published run's folder was renamed)
            shutil.rmtree(run.tmp, ignore_errors=True)


def run_report(
    report: str,
    date,
    *,
    db_path: str | Path = "data/salesops.duckdb",
    config_path: str | Path | None = None,
    out: str | Path = "reports",
    models_dir: str | Path = "models",
    model_path: str | Path | None = None,
    progress: bool = True,
    wait: float = 60.0,
    kernel: ReportKernel | None = None,
    notify=None,
) -> ReportRun:
    """Execute a report notebook for ``date`` and publish it under ``out/<date>/<report>/``.

    ``kernel`` is a :class:`ReportKernel` started earlier for this report; the run uses it and
    stops it when done (without one, the run starts and stops its own). ``notify`` receives a
    line when the run waits for another run of the same report and date.

    Before it starts, the run removes what killed runs left in ``out`` (see
    :func:`remove_stale_runs`). Whatever ends the run early (an error, a full disk, SIGTERM
    or Ctrl-C as :class:`KeyboardInterrupt`), its temporary folder is removed and the report
    published before, if any, stays as it was.

    Raises
    ------
    ReportError
        The notebook failed (message: the failing cell and error, and where the executed
        notebook was kept).
    LockTimeoutError
        Another run of the same report and date held the lock for more than ``wait`` seconds.
    DiskFullError, AccessDeniedError
        The report could not be written; nothing of it was published.
    """
    pm, _ = notebook_tools()
    started = time.perf_counter()
    run = _prepare(report, date, db_path, config_path, out, models_dir, model_path)
    if kernel is None:  # a kernel of the run's own, so that a signal can stop it
        kernel = ReportKernel(report)
    remove_stale_runs(run.out)
    with contextlib.ExitStack() as stack:
        stack.callback(kernel.shutdown)  # however the run ends (also if the lock times out)
        stack.enter_context(_signals.on_interrupt(kernel.kill))
        what = f"the {report} report of {run.day}"
        stack.enter_context(_lock(run.day_dir / f".{report}.lock", wait, what, notify))
        with _failures_explained(pm, run):
            executed = run.tmp / "report.ipynb"
            _execute(pm, run.notebook, executed, run.params, run.tmp, progress, kernel)
            _export_html(executed, run.tmp / "report.html")
            _publish(run)
    metrics = json.loads((run.final / "metrics.json").read_text())
    write_index(run.out)  # reports/index.html lists every published date, this one included
    return ReportRun(report, run.day, run.final, metrics, time.perf_counter() - started)
