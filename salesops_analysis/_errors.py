"""Exceptions raised by salesops-analysis.

One root, :class:`SalesOpsError`, and a shallow tree below it. Errors from pandas, DuckDB,
pyarrow or openpyxl are translated at the boundary so that callers catch only these.
"""

from __future__ import annotations


class SalesOpsError(Exception):
    """Base class for every error this package raises on purpose."""

    #: The ``salesops`` command's exit status for this error (see docs/scheduling.md).
    exit_code = 1


class TemporaryError(SalesOpsError):
    """A condition that a later retry may not meet: a lock held too long, a full disk."""

    exit_code = 75  # EX_TEMPFAIL (sysexits.h): schedulers retry it


class LockTimeoutError(TemporaryError):
    """Another process held a lock (warehouse, report) for longer than the run would wait."""


class DiskFullError(TemporaryError):
    """A write failed for lack of space; nothing half-written was left in place."""


class AccessDeniedError(SalesOpsError):
    """The operating system refused to read or write a path (permissions)."""


class ConfigError(SalesOpsError):
    """The configuration file (``salesops.yml``) is missing, malformed or has an unknown key."""


class FileRefusedError(SalesOpsError):
    """An export file cannot be loaded at all; nothing of it was written to the warehouse."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class WarehouseError(SalesOpsError):
    """The DuckDB warehouse is missing, locked, or from an incompatible schema version."""


class CurrencyError(SalesOpsError):
    """Amounts in several currencies cannot be added up without FX rates."""


class ReconciliationError(SalesOpsError):
    """A computed figure does not reconcile (for example aging buckets vs. open balance)."""


class ModelError(SalesOpsError):
    """A late-payment model cannot be trained, loaded or used on the given data."""


class ReportError(SalesOpsError):
    """A report run failed; the executed notebook is kept for diagnosis."""


def os_error(exc: BaseException, *, kept: str, path: object = None) -> SalesOpsError | None:
    """Return the package error for an expected operating-system fault, or ``None``.

    Disk full and permission denied, whether raised by Python (``OSError``) or reported in a
    DuckDB message, become one line naming the path (where known) and ``kept``: what the run
    left as it was (e.g. "the warehouse keeps its last committed state"). ``path`` names the
    place written when the error itself does not (a ``write`` on an open file).
    """
    import errno

    if not isinstance(exc, OSError) and not type(exc).__module__.startswith(("duckdb", "_duckdb")):
        return None
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    path = getattr(exc, "filename", None) or path
    where = f" {path}" if path else ""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(f"disk full writing{where}: {kept}")
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "read-only file system" if exc.errno == errno.EROFS else "permission denied"
        return AccessDeniedError(f"{reason}:{where or ' ' + text}: {kept}")
    lowered = text.lower()
    if "no space left on device" in lowered or "disk quota exceeded" in lowered:
        import re

        m = re.search(r'file "([^"]+)"', text)
        found = m.group(1) if m else path or "(path unknown)"
        return DiskFullError(f"disk full writing {found}: {kept}")
    if "permission denied" in lowered:
        return AccessDeniedError(f"permission denied: {text}: {kept}")
    return None
