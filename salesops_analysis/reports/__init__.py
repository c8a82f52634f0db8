"""Reports: the content (computed here), the notebooks that show it, and the runner.

Submodules load on first use, so a daily-mis run never imports scikit-learn.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "CollectionsReport": "collections",
    "collections_report": "collections",
    "DailyReport": "daily",
    "daily_mis_report": "daily",
    "neutralize": "tables_out",
    "write_csv": "tables_out",
    "write_index": "index",
    "write_worklist_csv": "excel",
    "write_worklist_xlsx": "excel",
    "AccountView": "accounts",
    "account_view": "accounts",
    "LettersWritten": "letters",
    "letters_due": "letters",
    "write_letters": "letters",
    "StatementsWritten": "statements",
    "safe_file_names": "files",
    "write_statements": "statements",
    "REPORTS": "runner",
    "ReportRun": "runner",
    "notebook_path": "runner",
    "run_report": "runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
