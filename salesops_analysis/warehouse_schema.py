"""The warehouse's tables, and the migrations that bring an older warehouse to this version.

Layout (``schema_version`` 4)
-----------------------------
``<kind>_history``
    Every version of every row ever loaded: the canonical columns (then extras), ``_key`` (the
    lower-cased key), ``_row_hash``, ``_file_id``, ``_line`` and the validity period
    ``_valid_from`` / ``_valid_to`` (load times; ``_valid_to`` is NULL for the current version).
    A one-column key (``invoice_id``...), ``_key`` and the ids that rarely repeat
    (:attr:`~salesops_analysis.schemas.Table.distinct`) are stored with ZSTD where the file's
    storage version has it (a warehouse created by DuckDB 1.2 or later); other columns by
    DuckDB's own choice.
``<kind>`` (view)
    The current version of every row: canonical columns first, then extras.
``ingest_log``
    One row per file load: file, content hash, kind, rows read / loaded / rejected / duplicate,
    inserted / updated / unchanged, unmatched references, time.
``rejects``
    Every rejected row problem: file, line, column, raw value, reason.
``skipped_lines``
    Every report line skipped (title block, blank, section, subtotal, total, footer): file, line,
    text, reason. ``ingest_log.rows_skipped`` counts them and ``documents_loaded`` counts the
    documents built from a line-level export's loaded lines. Added in version 3.
``file_stats``
    Where each ingested file was seen on disk: path, kind, size, modification and change times
    (ns), inode and device, and its ``ingest_log`` row. A file seen again with all of these
    unchanged is known without reading it (as ``make`` and ``git`` decide); any write to a file
    moves its change time, so its content is then hashed again. Added in version 2.
``_meta``
    ``schema_version`` and other facts about the warehouse itself.

A new table or column: create it in :func:`create_tables`, bump :data:`SCHEMA_VERSION` and
append the step that adds it to an existing warehouse to :data:`MIGRATIONS`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from ._errors import WarehouseError
from .schemas import KINDS, sql_type
from .sql import quote_name

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Transaction",
    "columns",
    "create_tables",
    "prepare_schema",
    "refresh_view",
]

SCHEMA_VERSION = 4


def _create_file_stats(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE file_stats (file_id INTEGER, file_path VARCHAR, kind VARCHAR, size BIGINT,
            mtime_ns BIGINT, ctime_ns BIGINT, inode BIGINT, device BIGINT)""")


def _create_skipped_lines(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE IF NOT EXISTS skipped_lines (file_id INTEGER, file_name VARCHAR, line BIGINT,
            text VARCHAR, reason VARCHAR)""")


def _add_report_lines(con: duckdb.DuckDBPyConnection) -> None:
    """2 -> 3: skipped report lines, and documents beside lines, in the ingest log."""
    # IF NOT EXISTS: a warehouse marked older by hand (tests do) may already have them
    con.execute("ALTER TABLE ingest_log ADD COLUMN IF NOT EXISTS rows_skipped BIGINT DEFAULT 0")
    con.execute("ALTER TABLE ingest_log ADD COLUMN IF NOT EXISTS documents_loaded BIGINT")
    con.execute("UPDATE ingest_log SET documents_loaded = coalesce(documents_loaded, rows_loaded)")
    _create_skipped_lines(con)


def _add_open_amount(con: duckdb.DuckDBPyConnection) -> None:
    """3 -> 4: ``open_amount`` (balance due) is a canonical invoices amount.

    Before, a mapped balance was kept as an extra text column. Its values are converted where
    all of them read as amounts (``1,234.50``, ``$1,234.50``, ``(400.00)``, ``400.00-``); where
    any does not, the text is kept as ``open_amount_text`` and ``open_amount`` starts empty.
    """
    typ = con.execute(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'invoices_history' AND column_name = 'open_amount'"
    ).fetchall()
    if not typ:
        con.execute("ALTER TABLE invoices_history ADD COLUMN open_amount DECIMAL(18, 2)")
    elif typ[0][0] == "VARCHAR":
        digits = "regexp_replace(open_amount, '[$€£,()\\s+-]', '', 'g')"
        sign = "CASE WHEN open_amount LIKE '%(%' OR contains(open_amount, '-') THEN -1 ELSE 1 END"
        form = r"\(?[-+]?\s*[$€£]?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d*)?\s*\)?-?"
        value = (
            f"CASE WHEN regexp_full_match(trim(open_amount), '{form}') "
            f"THEN {sign} * TRY_CAST({digits} AS DECIMAL(18, 2)) END"
        )
        con.execute("DROP VIEW IF EXISTS invoices")
        (bad,) = con.execute(
            f"SELECT count(*) FROM invoices_history WHERE open_amount IS NOT NULL AND {value} "
            "IS NULL"
        ).fetchall()[0]
        if bad:
            con.execute("ALTER TABLE invoices_history RENAME open_amount TO open_amount_text")
            con.execute("ALTER TABLE invoices_history ADD COLUMN open_amount DECIMAL(18, 2)")
        else:
            con.execute(
                f"ALTER TABLE invoices_history ALTER open_amount TYPE DECIMAL(18, 2) USING {value}"
            )
    cols = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'invoices_history' ORDER BY ordinal_position"
        ).fetchall()
        if not r[0].startswith("_")
    ]
    con.execute(
        f"CREATE OR REPLACE VIEW invoices AS SELECT {', '.join(quote_name(c) for c in cols)} "
        "FROM invoices_history WHERE _valid_to IS NULL"
    )


#: Each migration takes a warehouse at version i and brings it to i + 1.
MIGRATIONS: list = [
    _create_file_stats,  # 1 -> 2: files already ingested known by their stat
    _add_report_lines,  # 2 -> 3: skipped report lines, documents loaded
    _add_open_amount,  # 3 -> 4: open_amount as a canonical invoices amount
]


class Transaction:
    """A context manager that commits on success and rolls back on error."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con.execute("BEGIN TRANSACTION")
        return self.con

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.con.execute("COMMIT")
        else:
            self.con.execute("ROLLBACK")


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Return the column names of a table of the database in use, in order (a table of the same
    name in another attached database is not looked at)."""
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_catalog = current_database() AND table_schema = current_schema() "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def refresh_view(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """(Re)create the current-rows view of ``kind`` over its history table."""
    cols = [c for c in columns(con, f"{kind}_history") if not c.startswith("_")]
    con.execute(
        f"CREATE OR REPLACE VIEW {kind} AS SELECT {', '.join(quote_name(c) for c in cols)} "
        f"FROM {kind}_history WHERE _valid_to IS NULL"
    )


def prepare_schema(con: duckdb.DuckDBPyConnection, path: Path, *, read_only: bool) -> None:
    """Create the tables of a new warehouse, or migrate an older one (writers only).

    Raises
    ------
    WarehouseError
        Not a salesops warehouse (read-only), from a newer salesops, or older and opened
        read-only.
    """
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    if "_meta" not in tables:
        if read_only:
            raise WarehouseError(f"{path}: not a salesops warehouse (no _meta table)")
        create_tables(con)
        return
    version = int(
        con.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchall()[0][0]
    )
    if version > SCHEMA_VERSION:
        raise WarehouseError(
            f"{path}: warehouse schema version {version} is newer than this salesops "
            f"({SCHEMA_VERSION}); upgrade the package"
        )
    if version < SCHEMA_VERSION:
        if read_only:
            raise WarehouseError(
                f"{path}: schema version {version} needs an upgrade; "
                "open it once for writing (e.g. `salesops ingest`)"
            )
        for step in range(version, SCHEMA_VERSION):
            with Transaction(con):
                MIGRATIONS[step - 1](con)
                con.execute(
                    "UPDATE _meta SET value = ? WHERE key = 'schema_version'", [str(step + 1)]
                )


#: The first storage version that compresses text with ZSTD (DuckDB 1.2); an older file takes
#: ``USING COMPRESSION zstd`` but stores such a column uncompressed.
ZSTD_STORAGE = (1, 2, 0)


def storage_version(con: duckdb.DuckDBPyConnection) -> tuple[int, ...]:
    """Return the storage version of the connection's database file (``(1, 0, 0)`` for
    ``v1.0.0+``; ``()`` when DuckDB does not say)."""
    tags = con.execute(
        "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    text = (tags[0][0] or {}).get("storage_version", "") if tags else ""
    digits = text.lstrip("v").rstrip("+").split(".")
    return tuple(int(d) for d in digits) if all(d.isdigit() for d in digits) else ()


def _history_columns(kind: str, zstd: bool) -> str:
    """Return the column definitions of ``<kind>_history``.

    With ``zstd``, a one-column key, ``_key`` and the kind's
    :attr:`~salesops_analysis.schemas.Table.distinct` ids are stored with ZSTD. Their values
    rarely repeat within a load, so DuckDB's dictionary cannot shorten them, and ZSTD writes them
    2-3 times faster (1M invoice ids: 0.07 s against 0.16 s): the 1M demo invoices load about
    0.2 s faster. The price is room: each ZSTD segment starts a block of its own, so the
    warehouse grows by one to two bytes per row and column (the 1M demo's six exports: 136.5 MiB
    against 126.0, +8%; the 10M demo warehouse +12%), and more where an id repeats many times
    within a row group (the faults test's payments, each invoice paid 300 times: 32.0 MiB
    against 27.8). Other columns keep DuckDB's own choice.
    """
    table = KINDS[kind]
    packed = " USING COMPRESSION zstd" if zstd else ""
    rare = {*table.distinct, *(table.key if len(table.key) == 1 else ())}
    cols = [
        f"{quote_name(f.name)} {sql_type(f)}{packed if f.name in rare else ''}"
        for f in table.fields
    ]
    cols += [f"_key VARCHAR{packed}", "_row_hash UBIGINT", "_file_id INTEGER", "_line BIGINT"]
    return ", ".join([*cols, "_valid_from TIMESTAMP", "_valid_to TIMESTAMP"])


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table and view of a new warehouse, in one transaction."""
    zstd = storage_version(con) >= ZSTD_STORAGE
    with Transaction(con):
        con.execute("CREATE TABLE _meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        con.execute(
            "INSERT INTO _meta VALUES ('schema_version', ?), ('created_at', ?)",
            [str(SCHEMA_VERSION), dt.datetime.now().isoformat(timespec="seconds")],
        )
        con.execute("""
            CREATE TABLE ingest_log (
                file_id INTEGER PRIMARY KEY, file_name VARCHAR, file_path VARCHAR,
                content_hash VARCHAR, kind VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
                rows_rejected BIGINT, rows_duplicate BIGINT, rows_inserted BIGINT,
                rows_updated BIGINT, rows_unchanged BIGINT, unmatched_references BIGINT,
                unmatched_note VARCHAR, ignored_columns VARCHAR, loaded_at TIMESTAMP,
                seconds DOUBLE, rows_skipped BIGINT DEFAULT 0, documents_loaded BIGINT)""")
        con.execute("""
            CREATE TABLE rejects (file_id INTEGER, file_name VARCHAR, line BIGINT,
                "column" VARCHAR, value VARCHAR, reason VARCHAR)""")
        _create_file_stats(con)
        _create_skipped_lines(con)
        for kind in KINDS:
            con.execute(f"CREATE TABLE {kind}_history ({_history_columns(kind, zstd)})")
            refresh_view(con, kind)
