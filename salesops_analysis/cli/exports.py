"""Commands that bring exports in: ``demo`` writes them, ``inspect`` reads one and proposes a
config, ``ingest`` loads them into the warehouse."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .._errors import FileRefusedError, SalesOpsError, os_error
from ..config import Config, load_config
from ..schemas import KINDS
from .errors import fail, friendly_errors, say_kept
from .options import DATE, common, notify, out_folder_option, wait_option

__all__ = ["demo", "expand", "ingest", "inspect", "run_ingest"]

_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq"}


@click.command()
@out_folder_option("data/raw", "Folder for the exports.")
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
@click.option(
    "--snapshots",
    "snapshot_days",
    type=click.IntRange(min=1),
    default=None,
    is_flag=False,
    flag_value=92,
    help="Also write daily open-items reports for the last N days (default 92) to OUT/open_items.",
)
@common
@friendly_errors
def demo(out, seed, scale, start, end, snapshot_days, db_path, config_path) -> None:
    """Write realistic, messy demo ERP exports (same seed, same bytes)."""
    import time

    from ..demo import generate_demo

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
    if snapshot_days:
        from ..demo_snapshots import write_open_items

        snaps = write_open_items(out, load_config(config_path), days=snapshot_days, end=end)
        click.echo(
            f"{snaps['folder']}: {len(snaps['files'])} daily open-items reports "
            f"({snaps['open_items']:,} open items), config {snaps['folder']}/salesops.yml"
        )


def expand(paths: tuple[str, ...]) -> list[Path]:
    """Return the files given, each folder replaced by the export files in it (sorted)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(
                sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in _SUFFIXES)
            )
        else:
            files.append(p)
    return files


def _plan(files: list[Path], config: Config, kind: str | None, echo) -> tuple[list, list[str]]:
    """Return (kind, file) in reference order, and one-line errors of files refused already."""
    from ..ingest.load import INGEST_ORDER, detect_kind

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
    return planned, errors


class _NoBar:
    """A progress bar that draws nothing, for a run without a terminal (cron, a pipe)."""

    disable = True

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def set_postfix_str(self, text: str) -> None:
        """Draw nothing."""

    def update(self, n: int) -> None:
        """Draw nothing."""


def _progress(total: int):
    """Return the ingest's progress bar over ``total`` bytes: tqdm's on a terminal, else one
    that draws nothing (as tqdm's would, without importing it: it loads multiprocessing)."""
    if not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        desc="ingest",
        disable=None,
        leave=False,
        file=sys.stderr,
    )


def run_ingest(
    files: list[Path],
    db_path: str,
    config: Config,
    kind: str | None,
    echo=click.echo,
    *,
    wait: float = 600.0,
    as_of=None,
) -> tuple[list, list[str]]:
    """Ingest files in reference order; return results and one-line errors of refused files.

    Waits up to ``wait`` seconds for another process writing the warehouse. A full disk or a
    permission problem stops the run: the file being loaded is rolled back, those loaded before
    it stay committed (:class:`~salesops_analysis.DiskFullError`, ``AccessDeniedError``).
    """
    import duckdb

    from ..ingest.load import ingest_file
    from ..warehouse import open_warehouse

    planned, errors = _plan(files, config, kind, echo)
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

    say_kept(kept)
    total = sum(f.stat().st_size for _, f in planned if f.exists())
    with open_warehouse(db_path, wait=wait, notify=notify) as wh, _progress(total) as bar:
        for k, f in planned:
            bar.set_postfix_str(f.name)
            current[:] = [f]
            try:
                r = ingest_file(wh, f, config, kind=k, as_of=as_of)
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


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--kind",
    type=click.Choice(list(KINDS)),
    default=None,
    help="Kind of every file given (default: from each file's name).",
)
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    default=None,
    help="Snapshot date of open-items exports (snapshot: true) whose name and title state none.",
)
@wait_option
@common
@friendly_errors
def ingest(paths, kind, as_of, wait, db_path, config_path) -> None:
    """Clean, validate and load exports (files or folders) into the warehouse."""
    config = load_config(config_path)
    files = expand(paths)
    if not files:
        raise SalesOpsError(f"no export files found in {', '.join(paths)}")
    results, errors = run_ingest(files, db_path, config, kind, wait=wait, as_of=as_of)
    if errors:
        fail(f"{len(errors)} of {len(files)} file(s) refused, nothing of them loaded (see above)")
    loaded = sum(r.status == "loaded" for r in results)
    click.echo(f"{loaded} file(s) loaded, {len(results) - loaded} already ingested, into {db_path}")


@click.command()
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
    from ..ingest.inspect import inspect_export

    click.echo(inspect_export(path, kind=kind).config_text, nl=False)
