"""The embedded DuckDB warehouse: canonical tables with history, the ingest log and rejects.

Layout (``schema_version`` 3)
-----------------------------
``<kind>_history``
    Every version of every row ever loaded: the canonical columns (then extras), ``_key`` (the
    lower-cased key), ``_row_hash``, ``_file_id``, ``_line`` and the validity period
    ``_valid_from`` / ``_valid_to`` (load times; ``_valid_to`` is NULL for the current version).
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
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Self

import duckdb

from ._errors import WarehouseError
from .schemas import KINDS, sql_type

if TYPE_CHECKING:  # pandas loads on first read: checking what is already ingested needs none
    import pandas as pd

__all__ = ["SCHEMA_VERSION", "Warehouse", "open_warehouse", "upgrade_warehouse"]

SCHEMA_VERSION = 3
DEFAULT_DB = Path("data/salesops.duckdb")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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


# Each migration takes a warehouse at version i and brings it to i + 1.
_MIGRATIONS: list = [
    _create_file_stats,  # 1 -> 2: files already ingested known by their stat
    _add_report_lines,  # 2 -> 3: skipped report lines, documents loaded
]


class Warehouse:
    """An open warehouse; use :func:`open_warehouse`.

    Examples
    --------
    >>> import tempfile, os
    >>> with open_warehouse(os.path.join(tempfile.mkdtemp(), "w.duckdb")) as wh:
    ...     len(wh.table("invoices"))
    0
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise WarehouseError(f"{self.path}: no warehouse there; run `salesops ingest` first")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            msg = str(exc).splitlines()[0]
            if "lock" in msg.lower():
                msg = "in use by another process (a running ingest or report?)"
            raise WarehouseError(f"{self.path}: cannot open the warehouse: {msg}") from None
        except duckdb.Error as exc:
            raise WarehouseError(
                f"{self.path}: not a DuckDB warehouse ({str(exc).splitlines()[0]})"
            ) from None
        self._setup()

    # -- schema --------------------------------------------------------------------------------
    def _setup(self) -> None:
        tables = {
            r[0]
            for r in self.con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        if "_meta" not in tables:
            if self.read_only:
                raise WarehouseError(f"{self.path}: not a salesops warehouse (no _meta table)")
            self._create()
            return
        version = int(
            self.con.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchall()[0][
                0
            ]
        )
        if version > SCHEMA_VERSION:
            raise WarehouseError(
                f"{self.path}: warehouse schema version {version} is newer than this salesops "
                f"({SCHEMA_VERSION}); upgrade the package"
            )
        if version < SCHEMA_VERSION:
            if self.read_only:
                raise WarehouseError(
                    f"{self.path}: schema version {version} needs an upgrade; "
                    "open it once for writing (e.g. `salesops ingest`)"
                )
            for step in range(version, SCHEMA_VERSION):
                with self.transaction():
                    _MIGRATIONS[step - 1](self.con)
                    self.con.execute(
                        "UPDATE _meta SET value = ? WHERE key = 'schema_version'", [str(step + 1)]
                    )

    def _create(self) -> None:
        with self.transaction():
            self.con.execute("CREATE TABLE _meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            self.con.execute(
                "INSERT INTO _meta VALUES ('schema_version', ?), ('created_at', ?)",
                [str(SCHEMA_VERSION), dt.datetime.now().isoformat(timespec="seconds")],
            )
            self.con.execute("""
                CREATE TABLE ingest_log (
                    file_id INTEGER PRIMARY KEY, file_name VARCHAR, file_path VARCHAR,
                    content_hash VARCHAR, kind VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
                    rows_rejected BIGINT, rows_duplicate BIGINT, rows_inserted BIGINT,
                    rows_updated BIGINT, rows_unchanged BIGINT, unmatched_references BIGINT,
                    unmatched_note VARCHAR, ignored_columns VARCHAR, loaded_at TIMESTAMP,
                    seconds DOUBLE, rows_skipped BIGINT DEFAULT 0, documents_loaded BIGINT)""")
            self.con.execute("""
                CREATE TABLE rejects (file_id INTEGER, file_name VARCHAR, line BIGINT,
                    "column" VARCHAR, value VARCHAR, reason VARCHAR)""")
            _create_file_stats(self.con)
            _create_skipped_lines(self.con)
            for kind, table in KINDS.items():
                cols = ", ".join(f"{_q(f.name)} {sql_type(f)}" for f in table.fields)
                self.con.execute(f"""
                    CREATE TABLE {kind}_history ({cols}, _key VARCHAR, _row_hash UBIGINT,
                        _file_id INTEGER, _line BIGINT, _valid_from TIMESTAMP,
                        _valid_to TIMESTAMP)""")
                self.refresh_view(kind)

    def refresh_view(self, kind: str) -> None:
        """(Re)create the current-rows view of ``kind`` over its history table."""
        cols = [c for c in self.columns(f"{kind}_history") if not c.startswith("_")]
        self.con.execute(
            f"CREATE OR REPLACE VIEW {kind} AS SELECT {', '.join(_q(c) for c in cols)} "
            f"FROM {kind}_history WHERE _valid_to IS NULL"
        )

    def columns(self, table: str) -> list[str]:
        """Return the column names of a table, in order."""
        return [
            r[0]
            for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]

    # -- transactions --------------------------------------------------------------------------
    def transaction(self):
        """Return a context manager that commits on success and rolls back on error."""
        return _Transaction(self.con)

    # -- reading -------------------------------------------------------------------------------
    def table(
        self,
        kind: str,
        *,
        as_of_load: dt.datetime | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """Return a canonical table as a DataFrame.

        Parameters
        ----------
        kind : str
            ``orders``, ``invoices``, ``payments``, ``activities``, ``customers`` or
            ``fx_rates``.
        as_of_load : datetime, optional
            Return the rows as they were after the loads up to this moment (history), instead
            of the current rows.
        columns : list of str, optional
            Only these columns (reading fewer columns of a big table is faster).

        Raises
        ------
        WarehouseError
            An unknown table, or a column the table does not have.
        """
        if kind not in KINDS:
            raise WarehouseError(f"unknown table '{kind}' (tables: {', '.join(KINDS)})")
        cols = [c for c in self.columns(f"{kind}_history") if not c.startswith("_")]
        if columns is not None:
            unknown = [c for c in columns if c not in cols]
            if unknown:
                raise WarehouseError(
                    f"table '{kind}' has no column {', '.join(unknown)} (it has: {', '.join(cols)})"
                )
            cols = list(columns)
        from ._frames import arrow_to_frame

        if as_of_load is None:
            select = "*" if columns is None else ", ".join(_q(c) for c in cols)
            return arrow_to_frame(self.con.sql(f"SELECT {select} FROM {kind}").to_arrow_table())
        return arrow_to_frame(
            self.con.sql(
                f"SELECT {', '.join(_q(c) for c in cols)} FROM {kind}_history "
                "WHERE _valid_from <= $t AND (_valid_to IS NULL OR _valid_to > $t)",
                params={"t": as_of_load},
            ).to_arrow_table()
        )

    def ingest_log(self) -> pd.DataFrame:
        """Return the ingest log, oldest first."""
        return self.con.sql("SELECT * FROM ingest_log ORDER BY file_id").df()

    def rejects(self, file_id: int | None = None) -> pd.DataFrame:
        """Return the rejected rows (of one load, or of all)."""
        where = f"WHERE file_id = {int(file_id)}" if file_id is not None else ""
        return self.con.sql(f"SELECT * FROM rejects {where} ORDER BY file_id, line").df()

    def skipped_lines(self, file_id: int | None = None) -> pd.DataFrame:
        """Return the skipped report lines (of one load, or of all): file, line, text, reason."""
        where = f"WHERE file_id = {int(file_id)}" if file_id is not None else ""
        return self.con.sql(f"SELECT * FROM skipped_lines {where} ORDER BY file_id, line").df()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Transaction:
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


def open_warehouse(path: str | Path = DEFAULT_DB, *, read_only: bool = False) -> Warehouse:
    """Return the warehouse at ``path``, creating (or upgrading) it when opened for writing.

    Raises
    ------
    WarehouseError
        Missing (read-only), locked by another process, not a DuckDB file, or from a newer
        version of salesops.
    """
    return Warehouse(path, read_only=read_only)


def upgrade_warehouse(path: str | Path = DEFAULT_DB) -> bool:
    """Bring the warehouse at ``path`` to this version's schema if it is older; return whether it
    was upgraded.

    Readers open the warehouse read-only and refuse an older schema; ``salesops daily`` calls
    this first, so that a morning without new exports after a package upgrade still reports. It
    opens for writing only when an upgrade is due; anything else (no file, not a warehouse, a
    lock) is left for the next open to report.
    """
    path = Path(path)
    if not path.is_file():
        return False
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            rows = con.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchall()
        finally:
            con.close()
        version = int(rows[0][0])
    except (duckdb.Error, IndexError, ValueError):
        return False
    if version >= SCHEMA_VERSION:
        return False
    open_warehouse(path).close()
    return True
