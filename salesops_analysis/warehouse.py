"""The embedded DuckDB warehouse: canonical tables with history, the ingest log and rejects.

Layout (``schema_version`` 4)
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

Files beside it
---------------
``<stem>.published<suffix>`` (``data/salesops.published.duckdb``)
    The readers' copy: what every read-only open reads, published by each writer that changed
    something, when it closes (see :func:`publish`).
``<name>.lock`` (``data/salesops.duckdb.lock``)
    The writers' lock: who writes (pid, command, since), empty when nobody does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Self

import duckdb

from ._errors import WarehouseError, os_error
from ._lock import ProcessLock, remove_stale_temporaries
from .schemas import KINDS, sql_type
from .sql import quote_literal, quote_name

if TYPE_CHECKING:  # pandas loads on first read: checking what is already ingested needs none
    import pandas as pd

__all__ = [
    "DEFAULT_WAIT",
    "SCHEMA_VERSION",
    "Warehouse",
    "lock_path",
    "open_warehouse",
    "publish",
    "snapshot_path",
    "upgrade_warehouse",
]

SCHEMA_VERSION = 4
DEFAULT_DB = Path("data/salesops.duckdb")
#: Seconds a writer waits for another writer to finish (``--wait``).
DEFAULT_WAIT = 600.0


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


# Each migration takes a warehouse at version i and brings it to i + 1.
_MIGRATIONS: list = [
    _create_file_stats,  # 1 -> 2: files already ingested known by their stat
    _add_report_lines,  # 2 -> 3: skipped report lines, documents loaded
    _add_open_amount,  # 3 -> 4: open_amount as a canonical invoices amount
]


# -- readers beside a writer -------------------------------------------------------------------
# DuckDB lets one process write a database file or many read it, never both. So the writer keeps
# the warehouse file to itself (behind a lock file: writers queue), and readers open a copy that
# each writer publishes when it closes: copied under a temporary name, then renamed over the
# previous copy. Renaming is atomic, and a reader that still has the previous copy open keeps
# reading it (the file lives on until closed), so readers never wait and never see half a load.


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def lock_path(path: str | Path) -> Path:
    """Return the writers' lock file of the warehouse at ``path`` (``<name>.lock``)."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


def snapshot_path(path: str | Path) -> Path:
    """Return the readers' copy of the warehouse at ``path`` (``<stem>.published<suffix>``)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.published{path.suffix}")


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path))
    except duckdb.IOException as exc:
        msg = str(exc).splitlines()[0]
        if "lock" in msg.lower():
            msg = "in use by another process (a program opening the file itself?)"
        error = os_error(exc, kept="nothing was changed")
        raise error or WarehouseError(f"{path}: cannot open the warehouse: {msg}") from None
    except duckdb.Error as exc:
        raise WarehouseError(
            f"{path}: not a DuckDB warehouse ({str(exc).splitlines()[0]})"
        ) from None


def _attach_read_only(file: Path, path: Path) -> duckdb.DuckDBPyConnection:
    # attached to an in-memory database rather than opened: within one process DuckDB shares
    # one open database per path, which would go on showing a copy replaced since
    con = duckdb.connect(config={"temp_directory": f"{path}.tmp"})
    try:
        con.execute(f"ATTACH {quote_literal(file)} AS wh (READ_ONLY)")
        con.execute("USE wh")
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(
            f"{path}: cannot read the warehouse ({str(exc).splitlines()[0]})"
        ) from None
    return con


def _published(path: Path, *, wait: float, notify: Callable[[str], None] | None) -> Path:
    """Return the readers' copy of the warehouse, publishing it first if there is none yet
    (a warehouse written by a version of salesops without readers' copies)."""
    snap = snapshot_path(path)
    if snap.is_file():
        return snap
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse there; run `salesops ingest` first")
    lock = ProcessLock(lock_path(path), what=f"the warehouse {path}")
    holder = lock.holder()
    if holder is not None and holder.pid == os.getpid():
        raise WarehouseError(
            f"{path}: nothing published for readers yet; the writer open in this process "
            "publishes when it closes"
        )
    with lock.hold(wait, notify):
        if not snap.is_file():
            publish(path)
    return snap


def _remove_unpublished(path: Path) -> None:
    """Remove readers' copies left half-written by writers that died while publishing."""
    snap = snapshot_path(path)
    remove_stale_temporaries(snap.parent, f"{snap.name}.tmp-*")


def publish(path: str | Path) -> bool:
    """Publish the warehouse at ``path`` to its readers if it changed since the last time;
    return whether it did.

    The caller holds the writers' lock (:class:`Warehouse` does, when a writer closes). The
    copy keeps the warehouse file's size and modification time, which is how the next call
    knows it is current.

    Raises
    ------
    DiskFullError, AccessDeniedError
        No room or no right to write the copy; the previous copy is left as it was.
    """
    path = Path(path)
    snap = snapshot_path(path)
    if Path(f"{path}.wal").exists():  # commits not yet in the file (e.g. after a kill -9)
        con = _connect(path)
        try:
            con.execute("CHECKPOINT")
        finally:
            con.close()
    src = path.stat()
    with contextlib.suppress(FileNotFoundError):
        dst = snap.stat()
        if (dst.st_size, dst.st_mtime_ns) == (src.st_size, src.st_mtime_ns):
            return False
    tmp = snap.with_name(f"{snap.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(path, tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.utime(tmp, ns=(src.st_atime_ns, src.st_mtime_ns))
        os.replace(tmp, snap)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            kept = (
                f"the readers' copy needs {src.st_size / 2**20:,.1f} MB; what was committed is "
                f"in {path}, readers keep the previous state until a later run publishes it"
            )
            error = os_error(exc, kept=kept)
            if error is not None:
                raise error from None
        raise
    return True


class Warehouse:
    """An open warehouse; use :func:`open_warehouse`.

    Examples
    --------
    >>> import tempfile, os
    >>> with open_warehouse(os.path.join(tempfile.mkdtemp(), "w.duckdb")) as wh:
    ...     len(wh.table("invoices"))
    0
    """

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        wait: float = DEFAULT_WAIT,
        notify: Callable[[str], None] | None = _to_stderr,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._lock: ProcessLock | None = None
        self._closed = False
        if read_only:
            self.file = _published(self.path, wait=wait, notify=notify)
            self.con = _attach_read_only(self.file, self.path)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = ProcessLock(lock_path(self.path), what=f"the warehouse {self.path}")
            try:
                self._lock.acquire(wait, notify)
            except OSError as exc:  # e.g. a read-only folder
                raise (os_error(exc, kept="nothing was changed") or exc) from None
            try:
                _remove_unpublished(self.path)
                self.file = self.path
                self.con = _connect(self.path)
            except BaseException:
                self._lock.release()
                raise
        try:
            self._setup()
            if self._lock is not None and not snapshot_path(self.path).is_file():
                self.con.execute("CHECKPOINT")
                publish(self.path)  # readers can open it from now on
        except BaseException:
            self._close_quietly()
            raise

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
                cols = ", ".join(f"{quote_name(f.name)} {sql_type(f)}" for f in table.fields)
                self.con.execute(f"""
                    CREATE TABLE {kind}_history ({cols}, _key VARCHAR, _row_hash UBIGINT,
                        _file_id INTEGER, _line BIGINT, _valid_from TIMESTAMP,
                        _valid_to TIMESTAMP)""")
                self.refresh_view(kind)

    def refresh_view(self, kind: str) -> None:
        """(Re)create the current-rows view of ``kind`` over its history table."""
        cols = [c for c in self.columns(f"{kind}_history") if not c.startswith("_")]
        self.con.execute(
            f"CREATE OR REPLACE VIEW {kind} AS SELECT {', '.join(quote_name(c) for c in cols)} "
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
            select = "*" if columns is None else ", ".join(quote_name(c) for c in cols)
            return arrow_to_frame(self.con.sql(f"SELECT {select} FROM {kind}").to_arrow_table())
        return arrow_to_frame(
            self.con.sql(
                f"SELECT {', '.join(quote_name(c) for c in cols)} FROM {kind}_history "
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

    def sql(self, query: str, params: list | dict | None = None) -> pd.DataFrame:
        """Return the result of a SQL query as a DataFrame.

        The analysts' own door into the warehouse: a read-only warehouse answers from the last
        committed ingest, whatever a running ingest is doing.

        Examples
        --------
        >>> import tempfile, os
        >>> with open_warehouse(os.path.join(tempfile.mkdtemp(), "w.duckdb")) as wh:
        ...     wh.sql("SELECT count(*) AS n FROM invoices")["n"].tolist()
        [0]
        """
        from ._frames import arrow_to_frame

        return arrow_to_frame(self.con.sql(query, params=params).to_arrow_table())

    def skipped_lines(self, file_id: int | None = None) -> pd.DataFrame:
        """Return the skipped report lines (of one load, or of all): file, line, text, reason."""
        where = f"WHERE file_id = {int(file_id)}" if file_id is not None else ""
        return self.con.sql(f"SELECT * FROM skipped_lines {where} ORDER BY file_id, line").df()

    def close(self) -> None:
        """Close the connection; a writer then publishes what it committed to the readers.

        Raises
        ------
        DiskFullError, AccessDeniedError
            The readers' copy could not be written: what was committed stays in the warehouse,
            readers keep the previous state until the next writer publishes.
        """
        if self._closed:
            return
        self._closed = True
        if self._lock is None:
            self.con.close()
            return
        try:
            try:
                self.con.execute("CHECKPOINT")  # the readers' copy needs every commit in the file
            finally:
                self.con.close()
            publish(self.path)
        finally:
            self._lock.release()

    def _close_quietly(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()
        self._closed = True
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
            return
        # the run already fails: publish what was committed before, if the disk allows,
        # without hiding the first error
        try:
            self.close()
        except Exception:
            self._close_quietly()


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


def open_warehouse(
    path: str | Path = DEFAULT_DB,
    *,
    read_only: bool = False,
    wait: float = DEFAULT_WAIT,
    notify: Callable[[str], None] | None = _to_stderr,
) -> Warehouse:
    """Return the warehouse at ``path``, creating (or upgrading) it when opened for writing.

    Readers and writers never exclude each other: a read-only warehouse shows the state the last
    writer published when it closed, at once, whatever a writer is doing meanwhile. Writers
    queue: one waits up to ``wait`` seconds for another, telling ``notify`` (default: standard
    error) for whom it waits.

    Parameters
    ----------
    path : str or Path
        The warehouse file (its readers' copy sits beside it, see :func:`snapshot_path`).
    read_only : bool
        Open the last published state for reading.
    wait : float
        Seconds a writer waits for another writer (default 600).
    notify : callable, optional
        Receives one line when the writer has to wait, or takes over the lock of a process
        that died holding it.

    Raises
    ------
    WarehouseError
        Missing (read-only), not a DuckDB file, or from a newer version of salesops.
    LockTimeoutError
        Another writer held the warehouse for more than ``wait`` seconds.
    """
    return Warehouse(path, read_only=read_only, wait=wait, notify=notify)


def upgrade_warehouse(
    path: str | Path = DEFAULT_DB,
    *,
    wait: float = DEFAULT_WAIT,
    notify: Callable[[str], None] | None = _to_stderr,
) -> bool:
    """Bring the warehouse at ``path`` to this version's schema if it is older; return whether it
    was upgraded.

    Readers open the warehouse read-only and refuse an older schema; ``salesops daily`` calls
    this first, so that a morning without new exports after a package upgrade still reports. It
    opens for writing only when the readers' copy is of an older version; anything else (no
    file, not a warehouse) is left for the next open to report.
    """
    path = Path(path)
    if not path.is_file():
        return False
    snap = snapshot_path(path)
    try:
        con = duckdb.connect()
        try:
            con.execute(
                f"ATTACH {quote_literal(snap if snap.is_file() else path)} AS wh (READ_ONLY)"
            )
            rows = con.execute("SELECT value FROM wh._meta WHERE key = 'schema_version'").fetchall()
        finally:
            con.close()
        version = int(rows[0][0])
    except (duckdb.Error, IndexError, ValueError):
        return False
    if version >= SCHEMA_VERSION:
        return False
    open_warehouse(path, wait=wait, notify=notify).close()
    return True
