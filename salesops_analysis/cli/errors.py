"""How a ``salesops`` command fails: one line on standard error and an exit status.

Package errors carry their exit status (1 failure, 75 temporary); a full disk or a permission
problem becomes one line naming the path; SIGINT / SIGTERM stop the run cleanly with one line
saying what the command kept (130 / 143); anything else is a bug, said as such.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

import click

from .. import _signals
from .._errors import SalesOpsError, os_error

__all__ = ["fail", "friendly_errors", "kept_so_far", "say_kept"]

#: What the running command has kept so far, for the line printed when a signal stops it.
_KEPT: dict = {"note": None}


def say_kept(note: Callable[[], str] | None) -> None:
    """Set what the running command would say it kept if a signal stopped it now.

    ``note()`` is called only then, so it describes the state at that moment, e.g.
    "invoices.csv not loaded (rolled back); 2 file(s) loaded before it stay committed".
    """
    _KEPT["note"] = note


def kept_so_far() -> str:
    """Return what the running command has kept so far ("" if it has not said)."""
    return _KEPT["note"]() if _KEPT["note"] is not None else ""


def fail(message: str, code: int = 1) -> None:
    """Print ``error: message`` on standard error and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _interrupted_line() -> str:
    note = kept_so_far()
    sep = " " if note.startswith("during ") else ": "
    return f"interrupted by {_signals.received() or 'SIGINT'}" + (sep + note if note else "")


def friendly_errors(func):
    """Turn package errors into one-line messages and their exit codes; stop cleanly on
    SIGTERM and SIGINT (clean-up runs, then one line says what was kept)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        say_kept(None)
        with _signals.handling():
            try:
                return func(*args, **kwargs)
            except (click.exceptions.Exit, click.ClickException, SystemExit):
                raise
            except BaseException as exc:
                # after a signal, whatever a library raised on its way out is the interruption
                if isinstance(exc, KeyboardInterrupt) or _signals.INTERRUPTED.is_set():
                    fail(_interrupted_line(), _signals.exit_code())
                if isinstance(exc, SalesOpsError):
                    fail(str(exc), exc.exit_code)
                error = os_error(exc, kept="nothing half-written was put in place")
                if error is None:  # a bug: say so (disk full, permissions are expected)
                    _unexpected(exc)
                fail(str(error), error.exit_code)

    return wrapper


def _unexpected(exc: Exception) -> None:
    if os.environ.get("SALESOPS_DEBUG"):
        raise exc
    fail(
        f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        " (set SALESOPS_DEBUG=1 for the traceback)"
    )
