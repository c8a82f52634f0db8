"""Ingest: read ERP exports, clean and validate them, load them into the warehouse."""

from .clean import CleanExport, clean_export
from .read import RawTable, read_export

__all__ = ["CleanExport", "RawTable", "clean_export", "read_export"]
