"""The readers' copy of the warehouse, and the files beside the warehouse.

DuckDB lets one process write a database file or many read it, never both. So the writer keeps
the warehouse file to itself (behind a lock file: writers queue), and readers open a copy that
each writer publishes when it closes: copied under a temporary name, then renamed over the
previous copy. Renaming is atomic, and a reader that still has the previous copy open keeps
reading it (the file lives on until closed), so readers never wait and never see half a load.

Files beside the warehouse
--------------------------
``<stem>.published<suffix>`` (``data/salesops.published.duckdb``)
    The readers' copy: what every read-only open reads, published by each writer that changed
    something, when it closes (see :func:`publish`).
``<name>.lock`` (``data/salesops.duckdb.lock``)
    The writers' lock: who writes (pid, command, since), empty when nobody does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb

from ._errors import WarehouseError, os_error
from ._lock import ProcessLock, remove_stale_temporaries
from .sql import quote_literal

__all__ = [
    "attach_read_only",
    "connect",
    "lock_path",
    "publish",
    "published",
    "remove_unpublished",
    "snapshot_path",
]


def lock_path(path: str | Path) -> Path:
    """Return the writers' lock file of the warehouse at ``path`` (``<name>.lock``)."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


def snapshot_path(path: str | Path) -> Path:
    """Return the readers' copy of the warehouse at ``path`` (``<stem>.published<suffix>``)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.published{path.suffix}")


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file at ``path`` for writing (the caller holds the writers' lock).

    Raises
    ------
    WarehouseError
        Not a DuckDB file, or held open by a process that does not take the lock.
    DiskFullError, AccessDeniedError
        No room or no right to open it.
    """
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


def attach_read_only(file: Path, path: Path) -> duckdb.DuckDBPyConnection:
    """Return an in-memory connection with the readers' copy ``file`` of the warehouse at
    ``path`` attached read-only and in use.

    Raises
    ------
    WarehouseError
        The copy cannot be read.
    """
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


def published(path: Path, *, wait: float, notify: Callable[[str], None] | None) -> Path:
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


def remove_unpublished(path: Path) -> None:
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
        con = connect(path)
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
