"""Options and helpers every ``salesops`` command shares: dates, ``--db``/``--config``,
``--wait``, and opening the warehouse for reading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .._errors import SalesOpsError

__all__ = [
    "DATE",
    "DateType",
    "common",
    "models_option",
    "notify",
    "out_folder_option",
    "read_tables",
    "wait_option",
    "warehouse",
]

DB_HELP = "DuckDB warehouse file."
CONFIG_HELP = "Config file (default: salesops.yml if present, else built-in defaults)."


class DateType(click.ParamType):
    """A calendar date, YYYY-MM-DD."""

    name = "DATE"

    def convert(self, value, param, ctx):
        """Return ``value`` as a :class:`datetime.date`, or fail with a usage error."""
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"'{value}' is not a date in YYYY-MM-DD form", param, ctx)


DATE = DateType()


def wait_option(func):
    """Add ``--wait SECONDS`` to a command that writes the warehouse."""
    return click.option(
        "--wait",
        type=click.FloatRange(min=0),
        default=600.0,
        show_default=True,
        help="Seconds to wait for another run writing the warehouse (exit 75 past it).",
    )(func)


def models_option(help: str):
    """Add ``--models DIR`` (default ``models``), the folder of trained models."""
    return click.option(
        "--models",
        "models_dir",
        type=click.Path(file_okay=False),
        default="models",
        show_default=True,
        help=help,
    )


def out_folder_option(default: str, help: str):
    """Add ``--out DIR``, the folder a command writes into (shown with its default)."""
    return click.option(
        "--out",
        type=click.Path(file_okay=False),
        default=default,
        show_default=True,
        help=help,
    )


def notify(line: str) -> None:
    """Tell the user one line on standard error (e.g. for whom a run waits)."""
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


def warehouse(db_path: str) -> str:
    """Return ``db_path`` if a warehouse is there, else refuse with a one-line message."""
    if not Path(db_path).exists():
        raise SalesOpsError(f"{db_path}: no warehouse there; run `salesops ingest` first")
    return db_path


def read_tables(db_path: str):
    """Return the warehouse's tables (:func:`~salesops_analysis.metrics.load_tables`), read from
    its readers' copy."""
    from ..metrics import load_tables
    from ..warehouse import open_warehouse

    with open_warehouse(warehouse(db_path), read_only=True) as wh:
        return load_tables(wh)
