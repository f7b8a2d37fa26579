"""Child processes of ``rdsca check`` that never outlive it: one process group per run, stopped as a whole.

``rdsca check`` starts the host in a new session (its own process group); the host starts the policy packs, and
the program may start processes of its own: all of them share that group. Stopping the run signals the whole
group, so grandchildren go too (a process that makes itself a new session escapes, as from any shell). SIGTERM
and SIGHUP to ``rdsca check`` stop the run like Ctrl-C does. Nothing here writes a file: a child's output comes
back over a pipe.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import threading
import time
from typing import IO, Any

POSIX = os.name == "posix"
#: How long a stopped group gets to exit on SIGTERM before SIGKILL.
GRACE_S = 1.0


def group_options() -> dict[str, Any]:
    """``Popen`` arguments that start a child as the leader of a new process group (a new session on POSIX)."""
    if POSIX:
        return {"start_new_session": True}
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]


def group_alive(pgid: int) -> bool:
    if not POSIX:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(process: subprocess.Popen[Any], grace: float = GRACE_S) -> None:
    """Stop ``process`` and every process in its group: SIGTERM, then SIGKILL after ``grace`` seconds; reaps it."""
    if not POSIX:
        if process.poll() is None:
            process.kill()
        process.wait()
        return
    pgid = process.pid  # the leader of its own session: the group id is its pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if process.poll() is not None and not group_alive(pgid):
            break
        time.sleep(0.02)
    # Only a group that still has members: an empty group's id could in principle belong to someone else by now.
    if group_alive(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    process.wait()


def stop_process(process: subprocess.Popen[Any], grace: float = GRACE_S) -> None:
    """Stop one child (not its group): SIGTERM, then SIGKILL after ``grace``; reaps it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class OutputTail:
    """Drains a child's pipe on a thread and keeps the last lines in memory (never in a file)."""

    def __init__(self, stream: IO[bytes], lines: int = 200) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=lines)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):
            for raw in iter(stream.readline, b""):
                with self._lock:
                    self._lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def wait(self, timeout: float) -> None:
        """Wait until the pipe closes (the child exited), at most ``timeout`` seconds."""
        self._thread.join(timeout)

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def summary(self, count: int = 5) -> str:
        shown = [line.strip() for line in self.lines() if line.strip()]
        return " | ".join(shown[-count:]) if shown else "no error output"
