"""Load clean exports into the warehouse: one transaction per file, history kept.

* Re-ingesting a file whose content (SHA-256) was already loaded as the same kind is a no-op.
* A row whose key is new is inserted; a row whose key exists with the same content is counted
  ``unchanged``; with different content it closes the current version (``_valid_to`` = load
  time) and becomes the new current version, so earlier states can still be queried.
* References are checked, not enforced: payments for unknown invoices, invoices for unknown
  customers (when a customers table exists) are loaded and counted in ``unmatched_references``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import FileRefusedError
from ..config import Config, KindOptions
from ..schemas import KINDS
from ..sql import quote_name
from ..warehouse import Warehouse
from .snapshots import after_load, snapshot_date, snapshot_key

if TYPE_CHECKING:
    from .clean import CleanExport

__all__ = ["INGEST_ORDER", "IngestResult", "detect_kind", "ingest_file"]

#: Kinds are loaded in this order so that references (customers ← invoices ← payments) resolve.
INGEST_ORDER = ("customers", "fx_rates", "orders", "invoices", "payments", "activities")
_NAME_WORDS = {
    "orders": ("orders", "order"),
    "invoices": ("invoices", "invoice"),
    "payments": ("payments", "payment"),
    "activities": ("activities", "activity"),
    "customers": ("customers", "customer"),
    "fx_rates": ("fx_rates", "fx", "rates"),
}


@dataclass
class IngestResult:
    """What one file's ingest did."""

    path: str
    kind: str
    status: str  # loaded | already ingested
    file_id: int | None = None
    rows_read: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicates: int = 0
    skipped: int = 0
    documents: int = 0
    superseded: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    unmatched: int = 0
    unmatched_note: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0
    snapshot_note: str = ""  # open-items snapshots: the date, and what the history implies

    def line(self) -> str:
        """Return the one-line accounting printed by ``salesops ingest``."""
        name = Path(self.path).name
        if self.status != "loaded":
            return f"{name} ({self.kind}): {self.status}, nothing changed"
        docs = f"{self.documents:,} documents: " if self.documents != self.loaded else ""
        text = (
            f"{name} ({self.kind}): read {self.rows_read:,} = loaded {self.loaded:,} "
            f"({docs}new {self.inserted:,}, updated {self.updated:,}, "
            f"unchanged {self.unchanged:,}) + rejected {self.rejected:,} "
            f"+ duplicates {self.duplicates:,}"
        )
        if self.skipped:
            text += f" + skipped {self.skipped:,} (report lines)"
        text += f" in {self.seconds:.1f}s"
        if self.unmatched:
            text += f"; {self.unmatched_note}"
        if self.superseded:
            text += (
                f"; {self.superseded:,} rows superseded by a later row with the same key: if each"
                f" row is one line of a document, set kinds.{self.kind}.lines"
            )
        if self.snapshot_note:
            text += f"; {self.snapshot_note}"
        return text


def detect_kind(path: str | Path, config: Config) -> str:
    """Return the kind of an export from the config's file patterns or its file name.

    Raises
    ------
    FileRefusedError
        No kind, or several, can be told from the name.
    """
    name = Path(path).name.lower()
    for kind, options in config.kinds.items():
        if any(fnmatch.fnmatch(name, p.lower()) for p in options.file_patterns):
            return kind
    stem = Path(path).stem.lower().replace("-", "_").replace(" ", "_")
    found = [
        k
        for k, words in _NAME_WORDS.items()
        if any(w in stem.split("_") or stem.startswith(w) for w in words)
    ]
    if "fx_rates" in found and len(found) > 1:
        found = ["fx_rates"]
    if len(found) == 1:
        return found[0]
    if not found:
        raise FileRefusedError(
            path,
            f"cannot tell the kind of export from its name: pass --kind "
            f"({'|'.join(KINDS)}) or add kinds.<kind>.file_patterns",
        )
    raise FileRefusedError(path, f"name matches several kinds ({', '.join(found)}): pass --kind")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _stat_of(path: Path, kind: str) -> list:
    st = path.stat()
    return [
        str(path.resolve()),
        kind,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_ino,
        st.st_dev,
    ]


def _remember(wh: Warehouse, file_id: int, stat: list) -> None:
    """Record where ingested file ``file_id`` was seen on disk (``stat`` from :func:`_stat_of`)."""
    wh.con.execute(
        "INSERT INTO file_stats (file_id, file_path, kind, size, mtime_ns, ctime_ns, inode, "
        "device) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [file_id, *stat],
    )


def ingest_file(
    wh: Warehouse,
    path: str | Path,
    config: Config,
    *,
    kind: str | None = None,
    as_of: dt.date | None = None,
) -> IngestResult:
    """Clean one export and load it into the warehouse in one transaction.

    Parameters
    ----------
    wh : Warehouse
        An open, writable warehouse.
    path : str or Path
        The export.
    config : Config
        Mapping and parsing options.
    kind : str, optional
        The export's kind; by default from the file name.
    as_of : datetime.date, optional
        The date of an open-items snapshot whose name and title state none (``snapshot: true``).

    Returns
    -------
    IngestResult
        The accounting (``rows_read == loaded + rejected + duplicates``).

    Raises
    ------
    FileRefusedError
        The file cannot be loaded; the warehouse is unchanged.
    """
    started = time.perf_counter()
    path = Path(path)
    if kind is None:
        kind = detect_kind(path, config)
    elif kind not in KINDS:
        raise FileRefusedError(path, f"unknown kind '{kind}' (kinds: {', '.join(KINDS)})")
    if not path.is_file():
        raise FileRefusedError(path, "file not found" if not path.exists() else "not a file")
    con = wh.con
    # a file seen before, unchanged on disk, is not read again (see Warehouse: file_stats);
    # the stat is taken before reading, so a write during the hashing shows next time
    stat = _stat_of(path, kind)
    known = con.execute(
        "SELECT file_id FROM file_stats WHERE file_path = ? AND kind = ? AND size = ? "
        "AND mtime_ns = ? AND ctime_ns = ? AND inode = ? AND device = ?",
        stat,
    ).fetchall()
    if known:
        return IngestResult(str(path), kind, "already ingested", file_id=known[0][0])
    options = config.kind(kind)
    # the file is hashed (to know one ingested before under another name or stat) while it is
    # read and cleaned
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(_sha256, path)
        try:
            result = _clean_and_load(wh, path, kind, options, hashing, stat, as_of)
        finally:
            _drop_temp(wh)
    result.seconds = time.perf_counter() - started
    if result.status == "loaded":
        con.execute(
            "UPDATE ingest_log SET seconds = ? WHERE file_id = ?", [result.seconds, result.file_id]
        )
    return result


def _clean_and_load(
    wh: Warehouse,
    path: Path,
    kind: str,
    options: KindOptions,
    hashing: Future[str],
    stat: list,
    as_of=None,
) -> IngestResult:
    """Read and clean the file, then load it in one transaction, unless its content (hashed
    meanwhile by ``hashing``) was ingested before; the clean rows are checked against their
    schema in SQL first (:func:`~salesops_analysis.ingest.validate.check_schema_sql`)."""
    # reading and cleaning (pyarrow) load only for a file not ingested yet
    from .clean import clean_export
    from .read import read_export
    from .validate import check_schema_sql

    key = snapshot_key(path, as_of, options)  # an unchanged list on two days: two snapshots
    try:
        raw = read_export(path, options, kind)
        snap = snapshot_date(path, raw, options, as_of) if options.snapshot else None
        clean = clean_export(raw, kind, options, con=wh.con, validate=False)
    except FileRefusedError:
        seen = _ingested_before(wh, hashing.result() + key, kind, stat)
        if seen is None:
            raise
        return IngestResult(str(path), kind, "already ingested", file_id=seen)
    digest = hashing.result() + key
    seen = _ingested_before(wh, digest, kind, stat)
    if seen is not None:
        return IngestResult(str(path), kind, "already ingested", file_id=seen)
    check_schema_sql(wh.con, kind)
    with wh.transaction():
        result = _load(wh, clean, path, digest)
        _remember(wh, result.file_id, stat)
        result.snapshot_note = after_load(wh.con, kind, result.file_id, path.name, snap)
    return result


def _ingested_before(wh: Warehouse, digest: str, kind: str, stat: list) -> int | None:
    """Return the file id of an earlier load of the same content and kind (remembering this
    file's stat for it), else None."""
    seen = wh.con.execute(
        "SELECT file_id FROM ingest_log WHERE content_hash = ? AND kind = ?", [digest, kind]
    ).fetchall()
    if not seen:
        return None
    _remember(wh, seen[0][0], stat)
    return seen[0][0]


def _load(wh: Warehouse, clean: CleanExport, path: Path, digest: str) -> IngestResult:
    con = wh.con
    kind = clean.kind
    loaded_at = dt.datetime.now()
    file_id = con.execute("SELECT coalesce(max(file_id), 0) + 1 FROM ingest_log").fetchall()[0][0]
    _add_extra_columns(wh, kind, clean.extra_columns)
    unchanged, updated = _add_versions(wh, clean, file_id, loaded_at)
    inserted = clean.documents - unchanged - updated
    unmatched, note = _unmatched(wh, kind)
    _record_lines(con, clean, file_id, path.name)
    con.execute(
        "INSERT INTO ingest_log (file_id, file_name, file_path, content_hash, kind, rows_read, "
        "rows_loaded, rows_rejected, rows_duplicate, rows_inserted, rows_updated, "
        "rows_unchanged, unmatched_references, unmatched_note, ignored_columns, loaded_at, "
        "seconds, rows_skipped, documents_loaded) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            file_id,
            path.name,
            str(path.resolve()),
            digest,
            kind,
            clean.rows_read,
            clean.loaded,
            clean.rejected,
            clean.duplicates,
            inserted,
            updated,
            unchanged,
            unmatched,
            note,
            ", ".join(clean.ignored_columns),
            loaded_at,
            0.0,
            clean.skipped,
            clean.documents,
        ],
    )
    superseded = sum(
        1 for r in clean.rejects.column("reason").to_pylist() if r.startswith("superseded by")
    )
    return IngestResult(
        str(path),
        kind,
        "loaded",
        file_id=file_id,
        rows_read=clean.rows_read,
        loaded=clean.loaded,
        rejected=clean.rejected,
        duplicates=clean.duplicates,
        skipped=clean.skipped,
        documents=clean.documents,
        superseded=superseded,
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        unmatched=unmatched,
        unmatched_note=note,
        ignored_columns=clean.ignored_columns,
    )


def _add_extra_columns(wh: Warehouse, kind: str, extras: list[str]) -> None:
    """Add the file's extra columns the history table lacks (as text), and refresh the view."""
    history = f"{kind}_history"
    existing = set(wh.columns(history))
    new = [e for e in extras if e not in existing]
    for e in new:
        wh.con.execute(f"ALTER TABLE {history} ADD COLUMN {quote_name(e)} VARCHAR")
    if new:
        wh.refresh_view(kind)


def _add_versions(
    wh: Warehouse, clean: CleanExport, file_id: int, loaded_at: dt.datetime
) -> tuple[int, int]:
    """Add the clean rows (``_clean``) to the history: a row whose current version has the same
    content is unchanged; one with other content closes that version (updated); return
    ``(unchanged, updated)``."""
    con = wh.con
    history = f"{clean.kind}_history"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _match AS
        SELECT i._key, h._row_hash = i._row_hash AS same
        FROM _clean i JOIN {history} h ON h._key = i._key AND h._valid_to IS NULL""")
    unchanged, updated = con.execute(
        "SELECT count(*) FILTER (WHERE same), count(*) FILTER (WHERE NOT same) FROM _match"
    ).fetchall()[0]
    if updated:
        con.execute(
            f"""
            UPDATE {history} SET _valid_to = $t
            WHERE _valid_to IS NULL AND _key IN (SELECT _key FROM _match WHERE NOT same)""",
            {"t": loaded_at},
        )
    value_cols = KINDS[clean.kind].columns + clean.extra_columns
    insert_cols = ", ".join(quote_name(c) for c in value_cols)
    con.execute(
        f"""
        INSERT INTO {history} ({insert_cols}, _key, _row_hash, _file_id, _line, _valid_from,
                               _valid_to)
        SELECT {insert_cols}, _key, _row_hash, $f, _line, $t, NULL FROM _clean
        WHERE _key NOT IN (SELECT _key FROM _match WHERE same)
        ORDER BY _line""",
        {"f": file_id, "t": loaded_at},
    )
    return unchanged, updated


def _record_lines(con, clean: CleanExport, file_id: int, name: str) -> None:
    """Add the file's rejects and skipped report lines to their tables."""
    con.register("_rejects_arrow", clean.rejects)
    con.execute(
        """INSERT INTO rejects SELECT $f, $n, line, "column", value, reason
                   FROM _rejects_arrow""",
        {"f": file_id, "n": name},
    )
    con.unregister("_rejects_arrow")
    if clean.skipped_lines is not None and clean.skipped_lines.num_rows:
        con.register("_skipped_arrow", clean.skipped_lines)
        con.execute(
            "INSERT INTO skipped_lines SELECT $f, $n, line, text, reason FROM _skipped_arrow",
            {"f": file_id, "n": name},
        )
        con.unregister("_skipped_arrow")


def _drop_temp(wh: Warehouse) -> None:
    for kind, name in (
        ("VIEW", "_clean"),
        ("TABLE", "_match"),
        ("TABLE", "_parsed"),
        ("TABLE", "_dups"),
        ("TABLE", "_superseded"),
        ("TABLE", "_doc_lines"),
        ("TABLE", "_doc_conflicts"),
        ("TABLE", "_doc_broken"),
        ("TABLE", "_docs"),
    ):
        wh.con.execute(f"DROP {kind} IF EXISTS {name}")


def _unmatched(wh: Warehouse, kind: str) -> tuple[int, str]:
    """Count rows of the incoming file that reference a key the warehouse lacks."""
    con = wh.con
    checks = {
        "payments": ("invoice_id", "invoices_history", "payments for unknown invoices"),
        "invoices": ("customer_id", "customers_history", "invoices for unknown customers"),
        "orders": ("customer_id", "customers_history", "orders for unknown customers"),
    }
    if kind not in checks:
        return 0, ""
    col, target, what = checks[kind]
    has_any = con.execute(f"SELECT count(*) FROM {target} WHERE _valid_to IS NULL").fetchall()
    if has_any[0][0] == 0:
        return 0, ""
    n = con.execute(f"""
        SELECT count(*) FROM _clean i
        WHERE i.{col} IS NOT NULL AND lower(i.{col}) NOT IN
              (SELECT _key FROM {target} WHERE _valid_to IS NULL)""").fetchall()[0][0]
    return int(n), (f"{n:,} {what}" if n else "")
