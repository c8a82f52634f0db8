"""Which export column feeds which canonical column: the mapping rule, written once.

Used to find the header row of a report layout (the first line whose names map every required
column) and to map the columns of the header found.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import KindOptions
from ..schemas import KINDS

__all__ = [
    "DERIVABLE",
    "LINE_ID",
    "SECTION_SOURCE",
    "ColumnMatch",
    "match_columns",
    "normalize",
    "unheaded_name",
]

#: Required canonical columns that may be missing from a file because ingest derives them, as
#: :attr:`~salesops_analysis.schemas.Table.derived` declares (documented in docs/config.md): a
#: payments export without a payment id gets a stable id from its row.
DERIVABLE = {kind: table.derivable for kind, table in KINDS.items() if table.derivable}

#: The mapping target that identifies the lines of one document in a line-level export.
LINE_ID = "line_id"

#: The source column that ``section_column`` maps: each data row's section line text (the
#: nearest one-cell line above it), added by
#: :func:`~salesops_analysis.ingest.layout.split_report_lines`.
SECTION_SOURCE = "(section line)"


def normalize(name: str) -> str:
    """Return a header as a canonical-looking name: ``"Due Date "`` -> ``"due_date"``."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def unheaded_name(position: int) -> str:
    """Return the name given to a column without a header (``position`` from 0)."""
    return f"(column {position + 1})"


@dataclass(frozen=True)
class ColumnMatch:
    """The result of matching a header: target -> source column, the sources used, what is
    missing, and two sources claiming one target (``clash``)."""

    mapping: dict[str, str]
    used: frozenset[str]
    missing: tuple[str, ...]
    clash: tuple[str, str, str] | None = None


def match_columns(columns: list[str], kind: str, options: KindOptions) -> ColumnMatch:
    """Return how the header ``columns`` map to the canonical columns of ``kind``.

    Source names in ``options.columns`` match headers ignoring case and surrounding spaces; a
    header already named canonically needs no mapping.
    """
    table = KINDS[kind]
    canonical = set(table.columns)
    by_norm = {c.strip().lower(): c for c in columns}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    clash = None
    for src, target in options.columns.items():
        col = by_norm.get(src.strip().lower())
        if col is None:
            continue
        if target in mapping and clash is None:
            clash = (mapping[target], col, target)
            continue
        mapping[target] = col
        used.add(col)
    for col in columns:
        if col in used:
            continue
        name = normalize(col)
        if name in canonical and name not in mapping:
            mapping[name] = col
            used.add(col)
    section = options.section_column
    if section and section not in mapping:  # named on the section line above the rows
        mapping[section] = SECTION_SOURCE
    optional = DERIVABLE.get(kind, ())
    missing = tuple(
        f.name
        for f in table.fields
        if f.required and f.name not in mapping and f.name not in optional
    )
    return ColumnMatch(mapping, frozenset(used), missing, clash)
