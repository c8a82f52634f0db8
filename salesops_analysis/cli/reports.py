"""Commands that publish reports: ``report`` runs one notebook, ``daily`` ingests the new
exports and runs every report of the day (what cron calls)."""

from __future__ import annotations

from pathlib import Path

import click

from .._errors import SalesOpsError, TemporaryError
from ..config import load_config
from .errors import fail, friendly_errors, kept_so_far, say_kept
from .exports import expand, run_ingest
from .options import DATE, common, models_option, notify, out_folder_option, wait_option, warehouse

__all__ = ["SIDE_BY_SIDE_INVOICES", "ReportState", "config_file", "daily", "report", "side_by_side"]

#: Up to this many invoices ``salesops daily`` runs its reports side by side; above it, one
#: after the other. Each report kernel holds its own copy of the tables it reads, so side by
#: side the tree's peak is the sum of both kernels' peaks (3.1 GiB at 1M invoices; at 10M,
#: 23 GiB before the savings of #16, 11 GiB one after the other with them: RESULTS.md).
SIDE_BY_SIDE_INVOICES = 2_000_000


@click.command()
@click.argument(
    "report_name", metavar="daily-mis|collections", type=click.Choice(["daily-mis", "collections"])
)
@click.option("--date", "day", type=DATE, required=True, help="Report day (YYYY-MM-DD).")
@out_folder_option("reports", "Reports folder: the report lands in <out>/<date>/<report>/.")
@models_option("Trained models (collections).")
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Model file to use (collections; default: newest fitting --date).",
)
@click.option(
    "--wait",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for a concurrent run of the same report and date.",
)
@common
@friendly_errors
def report(report_name, day, out, models_dir, model_path, wait, db_path, config_path) -> None:
    """Run a report notebook and publish notebook, HTML, metrics.json and tables."""
    from ..reports import run_report

    warehouse(db_path)
    state = ReportState(out, day)
    say_kept(lambda: state.line([report_name]))
    run = run_report(
        report_name,
        day,
        db_path=db_path,
        config_path=config_file(config_path),
        out=out,
        models_dir=models_dir,
        model_path=model_path,
        wait=wait,
        notify=notify,
    )
    click.echo(run.line())


class ReportState:
    """Which reports of a day a run has published, told by their folders (a published report
    is a new folder, renamed into place).

    Parameters
    ----------
    out : str
        The reports folder.
    day : date or str
        The report day: its folder is ``out/day``.
    """

    def __init__(self, out: str, day) -> None:
        self.day_dir = Path(out) / str(day)
        self.before = {name: self._inode(name) for name in ("daily-mis", "collections")}

    def _inode(self, name: str) -> int | None:
        try:
            return (self.day_dir / name).stat().st_ino
        except OSError:
            return None

    def line(self, names: list[str]) -> str:
        """Return e.g. "daily-mis published, collections not run; the previous collections
        report is unchanged"."""
        done = [n for n in names if self._inode(n) not in (None, self.before[n])]
        missed = [n for n in names if n not in done]
        parts = [f"{n} published" for n in done] + [f"{n} not run" for n in missed]
        kept = [
            f"the previous {n} report is unchanged"
            if self.before[n] is not None
            else f"no {n} report of {self.day_dir.name} was written"
            for n in missed
        ]
        return ", ".join(parts) + ("; " + ", ".join(kept) if kept else "")


def config_file(config_path: str | None) -> str | None:
    """Return the config file the notebooks should read (the default one, if present)."""
    if config_path:
        return config_path
    return "salesops.yml" if Path("salesops.yml").exists() else None


@click.command()
@click.option("--date", "day", type=DATE, required=True, help="Report day (YYYY-MM-DD).")
@click.option(
    "--raw",
    "raw_dir",
    type=click.Path(file_okay=False),
    default="data/raw",
    show_default=True,
    help="Folder of ERP exports to ingest.",
)
@out_folder_option("reports", "Reports folder.")
@models_option("Trained models.")
@click.option(
    "--side-by-side/--one-at-a-time",
    "together",
    default=None,
    help="Run the reports at the same time (faster, the memory of both) or one after the "
    f"other; default: side by side up to {SIDE_BY_SIDE_INVOICES:,} invoices.",
)
@wait_option
@common
@friendly_errors
def daily(day, raw_dir, out, models_dir, together, wait, db_path, config_path) -> None:
    """Ingest new exports, then run every report for the day (what cron calls)."""
    import threading

    from ..reports.runner import REPORTS, ReportKernel, notebook_tools

    # the report kernels start (collections, the longer report, first) and import their
    # libraries, and papermill and nbconvert load, while the exports are checked; the
    # notebooks read the warehouse only after that
    first = sorted(REPORTS, key=lambda name: name != "collections")
    kernels = {name: ReportKernel(name) for name in first}
    threading.Thread(target=notebook_tools, daemon=True).start()
    try:
        config = load_config(config_path)
        state = ReportState(out, day)  # before anything runs: what was published before
        failures = _ingest_new(raw_dir, db_path, config, wait)
        failures += _run_reports(
            day, out, state, models_dir, db_path, config_path, kernels, wait, together
        )
    finally:
        for kernel in kernels.values():  # those no run took over (e.g. no warehouse)
            kernel.shutdown()
    if failures:
        # retrying helps only when every failure was a temporary condition (lock, full disk)
        code = 75 if all(isinstance(f, TemporaryError) for f in failures) else 1
        fail(f"{len(failures)} step(s) failed; first: {failures[0]}", code)


def _ingest_new(raw_dir: str, db_path: str, config, wait: float) -> list:
    """Ingest the exports in ``raw_dir``; return the refused files as failures."""
    files = expand((raw_dir,)) if Path(raw_dir).is_dir() else []
    if not files:
        click.echo(f"ingest: no exports in {raw_dir}")
        return []
    try:
        results, errors = run_ingest(
            files, db_path, config, None, echo=lambda *a, **k: None, wait=wait
        )
    except KeyboardInterrupt:
        note = kept_so_far()
        say_kept(
            lambda: f"during ingest: {note}; reports not run, the previous reports are unchanged"
        )
        raise
    loaded = sum(r.status == "loaded" for r in results)
    rows = sum(r.loaded for r in results)
    click.echo(
        f"ingest: {loaded} new file(s), {rows:,} rows loaded, "
        f"{len(results) - loaded} already ingested, {len(errors)} refused"
    )
    return [f"ingest: {e}" for e in errors]


def side_by_side(db_path: str) -> bool:
    """Return whether ``salesops daily`` runs its reports side by side on this warehouse: up
    to :data:`SIDE_BY_SIDE_INVOICES` invoices (each report's kernel holds its own tables, so
    side by side their memory adds up)."""
    from ..warehouse import open_warehouse

    with open_warehouse(db_path, read_only=True) as wh:
        invoices = wh.con.execute("SELECT count(*) FROM invoices").fetchall()[0][0]
    return invoices <= SIDE_BY_SIDE_INVOICES


def _run_reports(day, out, state, models_dir, db_path, config_path, kernels, wait, together):
    """Run every report of ``day``, side by side or (``together`` False) one after the other;
    return the failures (printing each line). ``together`` ``None``: :func:`side_by_side`."""
    from concurrent.futures import ThreadPoolExecutor

    from ..reports import REPORTS, run_report
    from ..warehouse import SCHEMA_VERSION, upgrade_warehouse

    if not Path(db_path).exists():
        raise SalesOpsError(f"{db_path}: no warehouse; nothing to report")
    if upgrade_warehouse(db_path, wait=wait, notify=notify):  # the reports open it read-only
        click.echo(f"warehouse: {db_path} upgraded to schema version {SCHEMA_VERSION}")
    if together is None:
        together = side_by_side(db_path)
    if not together:
        # a kernel waiting its turn would hold its imports (0.2 GiB) beside the running
        # report's peak: each later report starts its own kernel when its turn comes
        for name in list(REPORTS)[1:]:
            if name in kernels:
                kernels.pop(name).shutdown()
    # the reports are independent: each notebook runs in its own kernel process (started
    # ahead); threads suffice to drive the kernels (and start faster than worker processes)
    say_kept(lambda: state.line(list(REPORTS)))
    kwargs = dict(
        db_path=db_path,
        config_path=config_file(config_path),
        out=out,
        models_dir=models_dir,
        progress=False,
        wait=wait,
        notify=notify,
    )
    failures: list = []
    with ThreadPoolExecutor(max_workers=len(REPORTS) if together else 1) as pool:
        # one worker runs them in order; the kernel waiting its turn idles (imports only)
        futures = {
            name: pool.submit(
                lambda n: run_report(n, day, kernel=kernels.pop(n, None), **kwargs), name
            )
            for name in REPORTS
        }
        try:
            for name, future in futures.items():
                try:
                    click.echo(future.result().line())
                except SalesOpsError as exc:
                    click.echo(f"{name} {day}: FAILED: {exc}")
                    failures.append(exc)
        except BaseException:
            for future in futures.values():
                future.cancel()  # a report still waiting its turn does not start
            raise
    return failures
