"""Exceptions raised by salesops-analysis.

One root, :class:`SalesOpsError`, and a shallow tree below it. Errors from pandas, DuckDB,
pyarrow or openpyxl are translated at the boundary so that callers catch only these.
"""

from __future__ import annotations


class SalesOpsError(Exception):
    """Base class for every error this package raises on purpose."""


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
