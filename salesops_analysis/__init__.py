"""salesops-analysis: daily sales-ops MIS and collections risk from ERP exports.

The public API is what ``__all__`` lists::

    import salesops_analysis as so
    wh = so.open_warehouse("data/salesops.duckdb")
    invoices = wh.table("invoices")
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING

from ._errors import (
    AccessDeniedError,
    ConfigError,
    CurrencyError,
    DiskFullError,
    FileRefusedError,
    LockTimeoutError,
    ModelError,
    ReconciliationError,
    ReportError,
    SalesOpsError,
    TemporaryError,
    WarehouseError,
)
from .config import Collector, Company, Config, KindOptions, load_config
from .schemas import KINDS

if TYPE_CHECKING:
    from .ingest import CleanExport

# The rest of the public API is imported on first use (PEP 562): the command line and the report
# runner start without loading pandas, pyarrow and DuckDB they may not need in that process.
_LAZY = {
    "generate_demo": ".demo",
    "CleanExport": ".ingest",
    "read_export": ".ingest",
    "IngestResult": ".ingest.load",
    "detect_kind": ".ingest.load",
    "ingest_file": ".ingest.load",
    "Warehouse": ".warehouse",
    "open_warehouse": ".warehouse",
    "upgrade_warehouse": ".warehouse",
    "account_view": ".reports.accounts",
    "account_worklist": ".risk.accounts",
    "call_coverage": ".risk.accounts",
    "collector_calls": ".risk.accounts",
    "collector_load": ".risk.accounts",
    "safe_file_names": ".reports.statements",
    "write_statements": ".reports.statements",
    "letters_due": ".reports.letters",
    "write_letters": ".reports.letters",
    "implied_payments": ".metrics.snapshots",
    "snapshot_changes": ".metrics.snapshots",
    "snapshot_reconciliation": ".metrics.snapshots",
    "write_open_items": ".demo_snapshots",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def clean_file(path, kind: str | None = None, config: Config | str | None = None) -> CleanExport:
    """Return one export read and cleaned, without touching a warehouse.

    Parameters
    ----------
    path : str or Path
        The export file.
    kind : str, optional
        Its kind; by default from the file name.
    config : Config or path, optional
        The configuration (default: ``salesops.yml`` if present, else built-in defaults).

    Returns
    -------
    CleanExport
        ``.data`` (clean rows), ``.rejects_frame`` and the accounting (``.summary()``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "payments.csv"
    >>> _ = p.write_text("payment_id,invoice_id,payment_date,amount\\nP1,I1,2025-01-02,10.00\\n")
    >>> clean_file(p, config=Config()).summary()["loaded"]
    1
    """
    from .ingest import clean_export, read_export
    from .ingest.load import detect_kind

    cfg = config if isinstance(config, Config) else load_config(config)
    kind = kind or detect_kind(path, cfg)
    raw = read_export(path, cfg.kind(kind), kind)
    return clean_export(raw, kind, cfg.kind(kind))


__all__ = [
    "KINDS",
    "AccessDeniedError",
    "CleanExport",
    "Collector",
    "Company",
    "Config",
    "ConfigError",
    "CurrencyError",
    "DiskFullError",
    "FileRefusedError",
    "IngestResult",
    "KindOptions",
    "LockTimeoutError",
    "ModelError",
    "ReconciliationError",
    "ReportError",
    "SalesOpsError",
    "TemporaryError",
    "Warehouse",
    "WarehouseError",
    "__version__",
    "account_view",
    "account_worklist",
    "call_coverage",
    "clean_file",
    "collector_calls",
    "collector_load",
    "detect_kind",
    "generate_demo",
    "implied_payments",
    "ingest_file",
    "letters_due",
    "load_config",
    "open_warehouse",
    "read_export",
    "safe_file_names",
    "snapshot_changes",
    "snapshot_reconciliation",
    "upgrade_warehouse",
    "write_letters",
    "write_open_items",
    "write_statements",
]
