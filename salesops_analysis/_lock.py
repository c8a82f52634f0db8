"""Inter-process locks that say who holds them, and the clean-up of what dead processes left.

A lock is a file locked with ``flock``: the kernel frees it when its holder ends, however it
ends (``kill -9`` included), so a crashed run never blocks the next one. The file also records
who holds it (pid, command, start time), so that a run that has to wait can say for whom, and a
run that takes over a lock whose holder died without releasing it can say so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ._errors import LockTimeoutError

__all__ = ["LockHolder", "ProcessLock", "pid_alive", "remove_stale_temporaries"]

#: How often a waiting run tries the lock again.
POLL_SECONDS = 0.2


def pid_alive(pid: int) -> bool:
    """Return whether a process with this pid is running (on this machine)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _command() -> str:
    argv0 = sys.argv[0] if sys.argv else ""
    head = "python -c" if argv0 == "-c" else (Path(argv0).name or "python")
    text = " ".join([head, *sys.argv[1:]])
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or held) a lock: process id, command line and since when."""

    pid: int
    command: str
    since: str

    def describe(self) -> str:
        """Return e.g. ``pid 4242 (salesops ingest data/raw) since 2025-06-30 06:30:02``."""
        return f"pid {self.pid} ({self.command}) since {self.since}"

    def to_text(self) -> str:
        """Return the lock file's content for this holder."""
        return f"{self.pid}\n{self.since}\n{self.command}\n"

    @classmethod
    def from_text(cls, text: str) -> LockHolder | None:
        """Return the holder a lock file names, or ``None`` if it names none."""
        lines = text.splitlines()
        if len(lines) < 3 or not lines[0].strip().isdigit():
            return None
        return cls(int(lines[0]), lines[2], lines[1])

    @classmethod
    def me(cls) -> LockHolder:
        """Return this process as a holder."""
        return cls(
            os.getpid(), _command(), dt.datetime.now().isoformat(sep=" ", timespec="seconds")
        )


class ProcessLock:
    """An exclusive lock between processes (and between threads of one process).

    Parameters
    ----------
    path : str or Path
        The lock file (created if missing, never deleted: deleting a lock file another process
        has open would let two runs hold "the" lock at once).
    what : str
        What the lock protects, in the users' words (for messages).

    Examples
    --------
    >>> import tempfile, os
    >>> lock = ProcessLock(os.path.join(tempfile.mkdtemp(), "x.lock"), what="the example")
    >>> lock.acquire(wait=0)
    >>> lock.holder().pid == os.getpid()
    True
    >>> lock.release()
    """

    def __init__(self, path: str | Path, *, what: str) -> None:
        self.path = Path(path)
        self.what = what
        self._fh = None

    def holder(self) -> LockHolder | None:
        """Return who the lock file names as holder (``None`` when it names nobody)."""
        try:
            return LockHolder.from_text(self.path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return None

    def acquire(self, wait: float, notify: Callable[[str], None] | None = None) -> None:
        """Take the lock, waiting up to ``wait`` seconds for its holder.

        ``notify`` receives one line when the run has to wait (naming the holder) and when it
        takes over a lock whose holder died without releasing it.

        Raises
        ------
        LockTimeoutError
            Still held by another process after ``wait`` seconds.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="utf-8")
        deadline = time.monotonic() + max(wait, 0.0)
        told = None
        try:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    holder = self.holder()
                    who = holder.describe() if holder else "another process"
                    if time.monotonic() >= deadline:
                        raise LockTimeoutError(
                            f"{self.what} is locked by {who}; waited {wait:.0f}s "
                            f"(--wait; lock file {self.path})"
                        ) from None
                    if notify is not None and who != told:
                        notify(f"waiting for {self.what}: locked by {who} (up to {wait:.0f}s)")
                        told = who
                    time.sleep(POLL_SECONDS)
            fh.seek(0)
            previous = LockHolder.from_text(fh.read())
            if previous is not None and notify is not None:
                # a holder that ended normally emptied the file: this one died holding it
                state = (
                    "no longer running" if not pid_alive(previous.pid) else "it did not release it"
                )
                notify(f"took over {self.what} from {previous.describe()}: {state}")
            fh.seek(0)
            fh.truncate()
            fh.write(LockHolder.me().to_text())
            fh.flush()
        except BaseException:
            fh.close()
            raise
        self._fh = fh

    def release(self) -> None:
        """Empty the lock file and release the lock (a no-op when not held)."""
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            with contextlib.suppress(OSError):
                fh.seek(0)
                fh.truncate()
                fh.flush()
            fcntl.flock(fh, fcntl.LOCK_UN)
        finally:
            fh.close()

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fh is not None

    @contextlib.contextmanager
    def hold(self, wait: float, notify: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the lock for a ``with`` block (see :meth:`acquire`)."""
        self.acquire(wait, notify)
        try:
            yield
        finally:
            self.release()


_TEMP = re.compile(r"\.(?:tmp|old)-(\d+)$")


def remove_stale_temporaries(folder: str | Path, pattern: str = "*") -> list[Path]:
    """Remove the temporary files and folders (``*.tmp-<pid>``, ``*.old-<pid>``) in ``folder``
    whose process is no longer running; return what was removed.

    A run writes its output under such a name and renames it into place only when complete; a
    run killed before that (``kill -9``, a power cut) leaves it behind. ``pattern`` narrows the
    names looked at (a glob, e.g. ``".*.tmp-*"``).
    """
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for path in folder.glob(pattern):
        m = _TEMP.search(path.name)
        if m is None or pid_alive(int(m.group(1))):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        removed.append(path)
    return removed
