"""The ``salesops`` command line.

Every command takes ``--db`` and ``--config``, exits 0 on success and non-zero with a one-line
reason on failure (``SALESOPS_DEBUG=1`` shows the traceback of an unexpected error).

Exit status (docs/scheduling.md says which a scheduler should retry): 0 success; 1 failure (a
refused export, a failing notebook, a bug); 2 usage (a bad option); 75 a temporary condition
(the warehouse or a report locked past ``--wait``, a full disk); 130 / 143 interrupted by
SIGINT / SIGTERM.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from pathlib import Path

import click

from . import __version__, _signals
from ._errors import FileRefusedError, SalesOpsError, TemporaryError, os_error
from .config import Config, load_config
from .schemas import KINDS

DB_HELP = "DuckDB warehouse file."
CONFIG_HELP = "Config file (default: salesops.yml if present, else built-in defaults)."
_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq"}


class DateType(click.ParamType):
    """A calendar date, YYYY-MM-DD."""

    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"'{value}' is not a date in YYYY-MM-DD form", param, ctx)


DATE = DateType()


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


#: What the running command has kept so far, for the line printed when a signal stops it.
_KEPT: dict = {"note": None}


def _interrupted_line() -> str:
    note = _KEPT["note"]() if _KEPT["note"] is not None else ""
    sep = " " if note.startswith("during ") else ": "
    return f"interrupted by {_signals.received() or 'SIGINT'}" + (sep + note if note else "")


def friendly_errors(func):
    """Turn package errors into one-line messages and their exit codes; stop cleanly on
    SIGTERM and SIGINT (clean-up runs, then one line says what was kept)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _KEPT["note"] = None
        with _signals.handling():
            try:
                return func(*args, **kwargs)
            except (click.exceptions.Exit, click.ClickException, SystemExit):
                raise
            except BaseException as exc:
                # after a signal, whatever a library raised on its way out is the interruption
                if isinstance(exc, KeyboardInterrupt) or _signals.INTERRUPTED.is_set():
                    _fail(_interrupted_line(), _signals.exit_code())
                if isinstance(exc, SalesOpsError):
                    _fail(str(exc), exc.exit_code)
                error = os_error(exc, kept="nothing half-written was put in place")
                if error is None:  # a bug: say so (disk full, permissions are expected)
                    _unexpected(exc)
                _fail(str(error), error.exit_code)

    return wrapper


def _unexpected(exc: Exception) -> None:
    if os.environ.get("SALESOPS_DEBUG"):
        raise exc
    _fail(
        f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        " (set SALESOPS_DEBUG=1 for the traceback)"
    )


def wait_option(func):
    """Add ``--wait SECONDS`` to a command that writes the warehouse."""
    return click.option(
        "--wait",
        type=click.FloatRange(min=0),
        default=600.0,
        show_default=True,
        help="Seconds to wait for another run writing the warehouse (exit 75 past it).",
    )(func)


def _notify(line: str) -> None:
    click.echo(line, err=True)


def common(func):
    """Add ``--db`` and ``--config`` to a command."""
    func = click.option(
        "--config", "config_path", type=click.Path(dir_okay=False), default=None, help=CONFIG_HELP
    )(func)
    func = click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        default="data/salesops.duckdb",
        show_default=True,
        help=DB_HELP,
    )(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="salesops")
def main() -> None:
    """Sales-ops MIS and collections risk from ERP exports.

    \b
    Exit status: 0 done, 1 failure, 2 usage, 75 temporary condition (a lock held
    past --wait, a full disk: retry later), 130/143 interrupted by SIGINT/SIGTERM.
    """


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="data/raw",
    show_default=True,
    help="Folder for the exports.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option(
    "--scale",
    type=click.IntRange(min=100),
    default=50_000,
    show_default=True,
    help="About how many invoices.",
)
@click.option("--start", type=DATE, default=None, help="First day simulated (default: end - 2y).")
@click.option("--end", type=DATE, default=None, help="Last day simulated (default 2025-06-30).")
@common
@friendly_errors
def demo(out, seed, scale, start, end, db_path, config_path) -> None:
    """Write realistic, messy demo ERP exports (same seed, same bytes)."""
    import time

    from .demo import generate_demo

    t0 = time.perf_counter()
    manifest = generate_demo(out, seed=seed, scale=scale, start=start, end=end)
    for name, info in sorted(manifest["files"].items()):
        click.echo(
            f"{Path(out) / name}: {info['rows']:,} rows "
            f"({info['exact_duplicates']} duplicates, {info['bad_rows']} broken rows)"
        )
    click.echo(
        f"demo period {manifest['start']} .. {manifest['end']}, seed {seed}, "
        f"{time.perf_counter() - t0:.1f}s"
    )


def _expand(paths: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(
                sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in _SUFFIXES)
            )
        else:
            files.append(p)
    return files


def run_ingest(
    files: list[Path],
    db_path: str,
    config: Config,
    kind: str | None,
    echo=click.echo,
    *,
    wait: float = 600.0,
) -> tuple[list, list[str]]:
    """Ingest files in reference order; return results and one-line errors of refused files.

    Waits up to ``wait`` seconds for another process writing the warehouse. A full disk or a
    permission problem stops the run: the file being loaded is rolled back, those loaded before
    it stay committed (:class:`~salesops_analysis.DiskFullError`, ``AccessDeniedError``).
    """
    import duckdb
    from tqdm import tqdm

    from .ingest.load import INGEST_ORDER, detect_kind, ingest_file
    from .warehouse import open_warehouse

    errors: list[str] = []
    planned: list[tuple[str, Path]] = []
    for f in files:
        if not f.exists():
            errors.append(f"{f}: file not found")
            echo(f"refused: {errors[-1]}", err=True)
            continue
        try:
            planned.append((kind or detect_kind(f, config), f))
        except FileRefusedError as exc:
            errors.append(str(exc))
            echo(f"refused: {exc}", err=True)
    planned.sort(key=lambda kf: INGEST_ORDER.index(kf[0]))
    results = []
    current: list[Path] = []

    def kept() -> str:
        loaded = sum(r.status == "loaded" for r in results)
        committed = (
            f"{loaded} file(s) loaded before it stay committed in {db_path}"
            if loaded
            else f"{db_path} keeps its last committed state"
        )
        if not current:
            return committed.replace(" before it", "")
        return f"{current[-1].name} not loaded (rolled back); {committed}"

    _KEPT["note"] = kept
    total = sum(f.stat().st_size for _, f in planned if f.exists())
    with (
        open_warehouse(db_path, wait=wait, notify=_notify) as wh,
        tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc="ingest",
            disable=None,
            leave=False,
            file=sys.stderr,
        ) as bar,
    ):
        for k, f in planned:
            bar.set_postfix_str(f.name)
            current[:] = [f]
            try:
                r = ingest_file(wh, f, config, kind=k)
                results.append(r)
                bar.write(r.line(), file=sys.stdout) if bar.disable is False else echo(r.line())
            except FileRefusedError as exc:
                errors.append(str(exc))
                echo(f"refused: {exc}", err=True)
            except (OSError, duckdb.Error) as exc:  # the disk, not the file
                error = os_error(exc, kept=kept())
                if error is None:
                    raise
                raise error from None
            current.clear()
            bar.update(f.stat().st_size if f.exists() else 0)
    return results, errors


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--kind",
    type=click.Choice(list(KINDS)),
    default=None,
    help="Kind of every file given (default: from each file's name).",
)
@wait_option
@common
@friendly_errors
def ingest(paths, kind, wait, db_path, config_path) -> None:
    """Clean, validate and load exports (files or folders) into the warehouse."""
    config = load_config(config_path)
    files = _expand(paths)
    if not files:
        raise SalesOpsError(f"no export files found in {', '.join(paths)}")
    results, errors = run_ingest(files, db_path, config, kind, wait=wait)
    if errors:
        _fail(f"{len(errors)} of {len(files)} file(s) refused, nothing of them loaded (see above)")
    loaded = sum(r.status == "loaded" for r in results)
    click.echo(f"{loaded} file(s) loaded, {len(results) - loaded} already ingested, into {db_path}")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--kind",
    type=click.Choice(list(KINDS)),
    default=None,
    help="Kind of export (default: from the file name, else from its columns).",
)
@common
@friendly_errors
def inspect(path, kind, db_path, config_path) -> None:
    """Print a config (YAML) that reads the export PATH, with the evidence for each choice."""
    from .ingest.inspect import inspect_export

    click.echo(inspect_export(path, kind=kind).config_text, nl=False)


def _warehouse(db_path: str) -> str:
    """Return ``db_path`` if a warehouse is there, else refuse with a one-line message."""
    if not Path(db_path).exists():
        raise SalesOpsError(f"{db_path}: no warehouse there; run `salesops ingest` first")
    return db_path


def _tables(db_path: str, load=None):
    """Return the warehouse tables, or ``load(wh)`` of the open warehouse."""
    from .metrics import load_tables
    from .warehouse import open_warehouse

    with open_warehouse(_warehouse(db_path), read_only=True) as wh:
        return (load or load_tables)(wh)


def _auc_line(name: str, ev: dict) -> str:
    b = ev["baselines"]
    return (
        f"{name}: test ROC AUC {ev['roc_auc']:.3f} (customer late share "
        f"{b['customer_late_share']['roc_auc']:.3f}, days past due × amount "
        f"{b['days_past_due_amount']['roc_auc']:.3f}); Brier {ev['brier']:.3f} (base rate "
        f"{ev['brier_base_rate']:.3f}); top-10% late amount "
        f"{ev['top_decile_late_amount_share']:.1%} ({ev['rows']:,} test rows)"
    )


@main.command()
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    required=True,
    help="Knowledge date: train on what was known at its end.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="models",
    show_default=True,
    help="Folder for the model, its card and metrics.",
)
@common
@friendly_errors
def train(as_of, out, db_path, config_path) -> None:
    """Fit, evaluate (by time) and save the late-payment models."""
    from .risk.model import save_model, train_from_warehouse

    config = load_config(config_path)
    click.echo(f"training on what was known at the end of {as_of} ...", err=True)
    model = train_from_warehouse(_warehouse(db_path), as_of, config)
    paths = save_model(model, out)
    m = model.metrics
    click.echo(
        _auc_line(f"late ({m['model']['late']})", {**m["test"], "baselines": m["baselines"]})
    )
    if m["model"]["overdue"]:
        click.echo(_auc_line(f"overdue ({m['model']['overdue']})", m["overdue"]))
    if model.deployment_note:
        click.echo(model.deployment_note)
    click.echo(f"wrote {paths['model']}, {paths['card'].name}, {paths['metrics'].name}")
    _train_cash_timing(db_path, as_of, config, out)


@main.command()
@click.option("--as-of", "as_of", type=DATE, required=True, help="Score open invoices then.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV or Parquet file (default data/scores/worklist_<as-of>.csv).",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Model file (default: the newest in --models trained on or before --as-of).",
)
@click.option(
    "--models",
    "models_dir",
    type=click.Path(file_okay=False),
    default="models",
    show_default=True,
    help="Folder of trained models.",
)
@common
@friendly_errors
def score(as_of, out, model_path, models_dir, db_path, config_path) -> None:
    """Score open invoices and write the ranked collections worklist."""
    from .risk.model import latest_model, load_model
    from .risk.worklist import worklist

    config = load_config(config_path)
    path = Path(model_path) if model_path else latest_model(models_dir, as_of)
    model = load_model(path) if path is not None else None
    tables = _tables(db_path)
    wl = worklist(model, tables, as_of, config)
    # when each invoice should be paid (the cash-timing model in --models, else one trained now)
    from .reports.collections import cash_forecast_or_reason, with_pay_dates

    forecast, why_not = cash_forecast_or_reason(tables, as_of, config, models_dir)
    wl = with_pay_dates(wl, forecast)
    if why_not is not None:
        click.echo(f"no expected pay dates: {why_not}", err=True)
    elif forecast.model_trained_seconds is not None:  # never a silent training
        click.echo(f"expected pay dates: {forecast.model_note}", err=True)
    if model is None:
        ranked_by = wl["score_kind"].iloc[0] if len(wl) else "nothing (no open invoices)"
        click.echo(
            f"no model trained on or before {as_of} in {models_dir}/: ranked by {ranked_by} "
            f"(run `salesops train --as-of {as_of}` for model scores)",
            err=True,
        )
    out = Path(out) if out else Path("data/scores") / f"worklist_{as_of}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    # written beside, then renamed: a full disk or a signal never leaves half a worklist
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    from ._lock import remove_stale_temporaries

    remove_stale_temporaries(out.parent, f".{out.name}.tmp-*")  # left by killed runs
    _KEPT["note"] = lambda: f"{out} not written; a worklist there before is unchanged"
    try:
        if out.suffix.lower() in (".parquet", ".pq"):
            wl.to_parquet(tmp, index=False)
        else:
            # as the collections report writes it: text that a spreadsheet would run as a
            # formula is quoted
            from .reports.excel import write_worklist_csv

            write_worklist_csv(wl, tmp)
        os.replace(tmp, out)
    except OSError as exc:
        error = os_error(exc, kept=f"{out} not written; a worklist there before is unchanged")
        raise (error or exc) from None
    finally:
        tmp.unlink(missing_ok=True)
    total = wl["expected_late_amount"].sum()
    ccy = wl["reporting_currency"].iloc[0] if len(wl) else config.reporting_currency
    scored_with = path.name if path is not None else "a baseline"
    click.echo(
        f"{len(wl):,} open invoices scored with {scored_with}; expected late amount "
        f"{total:,.2f} {ccy}; wrote {out}"
    )


@main.command()
@click.argument(
    "report_name", metavar="daily-mis|collections", type=click.Choice(["daily-mis", "collections"])
)
@click.option("--date", "day", type=DATE, required=True, help="Report day (YYYY-MM-DD).")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="reports",
    show_default=True,
    help="Reports folder: the report lands in <out>/<date>/<report>/.",
)
@click.option(
    "--models",
    "models_dir",
    type=click.Path(file_okay=False),
    default="models",
    show_default=True,
    help="Trained models (collections).",
)
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
    from .reports import run_report

    if not Path(db_path).exists():
        raise SalesOpsError(f"{db_path}: no warehouse there; run `salesops ingest` first")
    state = _ReportState(out, day)
    _KEPT["note"] = lambda: state.line([report_name])
    run = run_report(
        report_name,
        day,
        db_path=db_path,
        config_path=_config_file(config_path),
        out=out,
        models_dir=models_dir,
        model_path=model_path,
        wait=wait,
        notify=_notify,
    )
    click.echo(run.line())


class _ReportState:
    """Which reports of a day a run has published, told by their folders (a published report
    is a new folder, renamed into place)."""

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


def _config_file(config_path: str | None) -> str | None:
    """Return the config file the notebooks should read (the default one, if present)."""
    if config_path:
        return config_path
    return "salesops.yml" if Path("salesops.yml").exists() else None


@main.command()
@click.option("--date", "day", type=DATE, required=True, help="Report day (YYYY-MM-DD).")
@click.option(
    "--raw",
    "raw_dir",
    type=click.Path(file_okay=False),
    default="data/raw",
    show_default=True,
    help="Folder of ERP exports to ingest.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="reports",
    show_default=True,
    help="Reports folder.",
)
@click.option(
    "--models",
    "models_dir",
    type=click.Path(file_okay=False),
    default="models",
    show_default=True,
    help="Trained models.",
)
@wait_option
@common
@friendly_errors
def daily(day, raw_dir, out, models_dir, wait, db_path, config_path) -> None:
    """Ingest new exports, then run every report for the day (what cron calls)."""
    import threading

    from .reports.runner import REPORTS, ReportKernel, _notebook_tools

    # the report kernels start (collections, the longer report, first) and import their
    # libraries, and papermill and nbconvert load, while the exports are checked; the
    # notebooks read the warehouse only after that
    first = sorted(REPORTS, key=lambda name: name != "collections")
    kernels = {name: ReportKernel(name) for name in first}
    threading.Thread(target=_notebook_tools, daemon=True).start()
    try:
        _daily(day, raw_dir, out, models_dir, db_path, config_path, kernels, wait)
    finally:
        for kernel in kernels.values():  # those no run took over (e.g. no warehouse)
            kernel.shutdown()


def _daily(day, raw_dir, out, models_dir, db_path, config_path, kernels, wait) -> None:
    from .reports import REPORTS, run_report

    config = load_config(config_path)
    failures: list[SalesOpsError | str] = []
    state = _ReportState(out, day)
    files = _expand((raw_dir,)) if Path(raw_dir).is_dir() else []
    if files:
        try:
            results, errors = run_ingest(
                files, db_path, config, None, echo=lambda *a, **k: None, wait=wait
            )
        except KeyboardInterrupt:
            note = _KEPT["note"]() if _KEPT["note"] else ""
            _KEPT["note"] = lambda: (
                f"during ingest: {note}; reports not run, the previous " + ("reports are unchanged")
            )
            raise
        loaded = sum(r.status == "loaded" for r in results)
        rows = sum(r.loaded for r in results)
        click.echo(
            f"ingest: {loaded} new file(s), {rows:,} rows loaded, "
            f"{len(results) - loaded} already ingested, {len(errors)} refused"
        )
        failures += [f"ingest: {e}" for e in errors]
    else:
        click.echo(f"ingest: no exports in {raw_dir}")
    if not Path(db_path).exists():
        raise SalesOpsError(f"{db_path}: no warehouse; nothing to report")
    from .warehouse import SCHEMA_VERSION, upgrade_warehouse

    if upgrade_warehouse(db_path, wait=wait, notify=_notify):  # the reports open it read-only
        click.echo(f"warehouse: {db_path} upgraded to schema version {SCHEMA_VERSION}")
    # the reports are independent: run them side by side, each notebook in its own kernel
    # process; threads suffice to drive the kernels (and start faster than worker processes)
    from concurrent.futures import ThreadPoolExecutor

    _KEPT["note"] = lambda: state.line(list(REPORTS))
    kwargs = dict(
        db_path=db_path,
        config_path=_config_file(config_path),
        out=out,
        models_dir=models_dir,
        progress=False,
        wait=wait,
        notify=_notify,
    )
    with ThreadPoolExecutor(max_workers=len(REPORTS)) as pool:
        futures = {
            name: pool.submit(run_report, name, day, kernel=kernels.pop(name), **kwargs)
            for name in REPORTS
        }
        for name, future in futures.items():
            try:
                click.echo(future.result().line())
            except SalesOpsError as exc:
                click.echo(f"{name} {day}: FAILED: {exc}")
                failures.append(exc)
    if failures:
        # retrying helps only when every failure was a temporary condition (lock, full disk)
        code = 75 if all(isinstance(f, TemporaryError) for f in failures) else 1
        _fail(f"{len(failures)} step(s) failed; first: {failures[0]}", code)


@main.command()
@click.option("--date", "day", type=DATE, required=True, help="Statement date (YYYY-MM-DD).")
@click.option(
    "--customer",
    "customer_ids",
    multiple=True,
    help="Only this customer id (repeat for several); added to the existing folder.",
)
@click.option(
    "--all",
    "all_customers",
    is_flag=True,
    help="Every customer with an open item (default: those with an overdue balance).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="reports",
    show_default=True,
    help="Reports folder: statements land in <out>/<date>/collections/statements/.",
)
@common
@friendly_errors
def statements(day, customer_ids, all_customers, out, db_path, config_path) -> None:
    """Write statements of account (one HTML page per customer) and their index."""
    from .reports.statements import write_statements

    if customer_ids and all_customers:
        raise click.UsageError("give --customer or --all, not both")
    config = load_config(config_path)
    folder = Path(out) / str(day) / "collections" / "statements"
    written = write_statements(
        _tables(db_path),
        day,
        folder,
        config,
        customers=list(customer_ids) if customer_ids else None,
        all_customers=all_customers,
    )
    click.echo(written.line())


def _train_cash_timing(db_path: str, as_of, config: Config, out: str) -> None:
    """Train, backtest and save the cash-timing model next to the late-payment model."""
    from ._errors import ModelError
    from .risk.backtest import forecast_summary, train_cash_timing

    click.echo("backtesting the cash forecast ...", err=True)
    try:
        _, metrics, paths = train_cash_timing(_tables(db_path), as_of, config, out)
    except ModelError as exc:  # the late-payment model is saved; say why this one is not
        click.echo(f"cash-timing model skipped: {exc}")
        return
    click.echo(forecast_summary(metrics["forecast"]))
    click.echo(f"wrote {paths['model']}, {paths['card'].name}, {paths['metrics'].name}")


@main.command()
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    required=True,
    help="Forecast the cash from the invoices open at the end of this day.",
)
@click.option(
    "--weeks", type=click.IntRange(1, 26), default=13, show_default=True, help="Weeks ahead."
)
@click.option(
    "--models",
    "models_dir",
    type=click.Path(file_okay=False),
    default="models",
    show_default=True,
    help="Folder of trained models (the newest cash_timing model trained on or before "
    "--as-of is used; without one, a model is trained, backtested and saved there).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV file (default data/forecast/cash_forecast_<as-of>.csv).",
)
@click.option(
    "--by",
    "by",
    type=click.Choice(["currency", "team", "segment"]),
    multiple=True,
    help="Break the forecast down (repeat for several); the CSV then has one row per group "
    "and week.",
)
@common
@friendly_errors
def forecast(as_of, weeks, models_dir, out, by, db_path, config_path) -> None:
    """Forecast the cash the open invoices bring in, week by week, with an 80% band."""
    from .risk.forecast import cash_forecast

    config = load_config(config_path)
    fc = cash_forecast(_tables(db_path), as_of, config, models_dir, weeks=weeks, by=by)
    if fc.model_trained_seconds is not None:  # never a silent training
        click.echo(fc.model_note, err=True)
    out = Path(out) if out else Path("data/forecast") / f"cash_forecast_{as_of}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    table = fc.by_group if by else fc.weekly
    table.to_csv(out, index=False, date_format="%Y-%m-%d")
    due_view = fc.weekly["due_date_view"].sum()
    click.echo(
        f"{len(fc.per_invoice):,} open invoices: {fc.total_expected:,.2f} {fc.currency} expected "
        f"in the next {weeks} weeks (80% band {fc.total_p10:,.2f} - {fc.total_p90:,.2f}; "
        f"due-date view {due_view:,.2f}); model: {fc.model}; wrote {out}"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
