"""The embedded DuckDB warehouse: canonical tables with history, the ingest log and rejects.

:func:`open_warehouse` opens it, for writing (one writer at a time, queued on a lock file) or
for reading (the copy the last writer published). The tables are described in
:mod:`salesops_analysis.warehouse_schema` (with the migrations from older versions), the
readers' copy and the lock file beside the warehouse in :mod:`salesops_analysis.warehouse_copy`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Self

import duckdb

from ._errors import WarehouseError, os_error
from ._lock import ProcessLock
from .schemas import KINDS
from .sql import quote_literal, quote_name
from .warehouse_copy import (
    attach_read_only,
    connect,
    lock_path,
    publish,
    published,
    remove_unpublished,
    snapshot_path,
)
from .warehouse_schema import SCHEMA_VERSION, Transaction, columns, prepare_schema, refresh_view

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

DEFAULT_DB = Path("data/salesops.duckdb")
#: Seconds a writer waits for another writer to finish (``--wait``).
DEFAULT_WAIT = 600.0


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
            self.file = published(self.path, wait=wait, notify=notify)
            self.con = attach_read_only(self.file, self.path)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = ProcessLock(lock_path(self.path), what=f"the warehouse {self.path}")
            try:
                self._lock.acquire(wait, notify)
            except OSError as exc:  # e.g. a read-only folder
                raise (os_error(exc, kept="nothing was changed") or exc) from None
            try:
                remove_unpublished(self.path)
                self.file = self.path
                self.con = connect(self.path)
            except BaseException:
                self._lock.release()
                raise
        try:
            prepare_schema(self.con, self.path, read_only=read_only)
            if self._lock is not None and not snapshot_path(self.path).is_file():
                self.con.execute("CHECKPOINT")
                publish(self.path)  # readers can open it from now on
        except BaseException:
            self._close_quietly()
            raise

    # -- schema --------------------------------------------------------------------------------
    def refresh_view(self, kind: str) -> None:
        """(Re)create the current-rows view of ``kind`` over its history table."""
        refresh_view(self.con, kind)

    def columns(self, table: str) -> list[str]:
        """Return the column names of a table, in order."""
        return columns(self.con, table)

    # -- transactions --------------------------------------------------------------------------
    def transaction(self):
        """Return a context manager that commits on success and rolls back on error."""
        return Transaction(self.con)

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
        from ._frames import query_frame

        if as_of_load is None:
            select = "*" if columns is None else ", ".join(quote_name(c) for c in cols)
            return query_frame(self.con, f"SELECT {select} FROM {kind}")
        return query_frame(
            self.con,
            f"SELECT {', '.join(quote_name(c) for c in cols)} FROM {kind}_history "
            "WHERE _valid_from <= $t AND (_valid_to IS NULL OR _valid_to > $t)",
            {"t": as_of_load},
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

        # any statement an analyst writes (SHOW, PRAGMA, a trailing ";"): converted as it is
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
