"""Stopping cleanly when a scheduler stops a run (SIGTERM) or a user presses Ctrl-C (SIGINT).

cron, systemd and Airflow end a job that runs too long, or is stopped, with SIGTERM, which by
default kills Python without running ``finally`` blocks. While :func:`handling` is active both
signals raise :class:`KeyboardInterrupt` in the main thread instead, so every ``finally`` and
``with`` block runs: transactions roll back, temporary report folders are removed, kernels are
stopped. Worker threads never receive the exception; they look at :data:`INTERRUPTED` at their
next step (:func:`check`), and :func:`on_interrupt` callbacks stop what they wait on (a kernel).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

__all__ = ["INTERRUPTED", "check", "deferred", "exit_code", "handling", "on_interrupt", "received"]

#: Set once a handled signal has arrived.
INTERRUPTED = threading.Event()

_state: dict = {"signal": None, "deferred": 0, "pending": False}
_callbacks: list[Callable[[], None]] = []
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def received() -> str | None:
    """Return the name of the signal that interrupted the run (``SIGTERM``), or ``None``."""
    sig = _state["signal"]
    return signal.Signals(sig).name if sig is not None else None


def exit_code() -> int:
    """Return the exit status of an interrupted run: 128 + the signal number (143, 130)."""
    return 128 + (_state["signal"] or signal.SIGINT)


def _handler(signum, frame) -> None:
    if _state["signal"] is not None:
        return  # the first signal's clean-up is under way: let it finish
    _state["signal"] = signum
    INTERRUPTED.set()
    for callback in list(_callbacks):
        with contextlib.suppress(Exception):
            callback()
    if _state["deferred"]:
        _state["pending"] = True
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def handling() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into :class:`KeyboardInterrupt` for the ``with`` block (main
    thread only; elsewhere a no-op), then restore the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    _state.update(signal=None, deferred=0, pending=False)
    INTERRUPTED.clear()
    for sig in _SIGNALS:
        signal.signal(sig, _handler)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        INTERRUPTED.clear()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold a signal back until the ``with`` block ends (a few renames that must all happen)."""
    main = threading.current_thread() is threading.main_thread()
    if main:
        _state["deferred"] += 1
    try:
        yield
    finally:
        if main:
            _state["deferred"] -= 1
            if not _state["deferred"] and _state["pending"]:
                _state["pending"] = False
                raise KeyboardInterrupt


def check() -> None:
    """Raise :class:`KeyboardInterrupt` if the run was interrupted (for worker threads)."""
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt


@contextlib.contextmanager
def on_interrupt(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` (quick, e.g. killing a process) when a signal arrives in the block."""
    _callbacks.append(callback)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            _callbacks.remove(callback)
