"""Ingest: read ERP exports, clean and validate them, load them into the warehouse.

The reading and cleaning modules load on first use, so checking which exports are already
ingested (what `salesops daily` does on most files) does not import pandas.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "CleanExport": "clean",
    "clean_export": "clean",
    "Inspection": "inspect",
    "inspect_export": "inspect",
    "RawTable": "read",
    "read_export": "read",
}

__all__ = ["CleanExport", "Inspection", "RawTable", "clean_export", "inspect_export", "read_export"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
