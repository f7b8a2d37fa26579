"""SIGTERM and SIGHUP unwind a run as Ctrl-C does: every ``finally`` runs, so a file being written leaves no
temporary file behind and child processes are stopped (``rdsca.runner.processes``).

Kept apart from the process handling so that every command sets this up without importing ``subprocess``: a
Terraform check starts no process (issue 30, start-up).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

POSIX = os.name == "posix"


class Terminated(BaseException):
    """``rdsca check`` received SIGTERM or SIGHUP (a ``BaseException``, like ``KeyboardInterrupt``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def signals_stop_the_run() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise ``Terminated`` in the main thread (so that ``finally`` blocks stop
    the children), as SIGINT raises ``KeyboardInterrupt``. Outside the main thread, or on Windows, nothing changes."""
    if not POSIX or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated(signum)

    saved = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)
