"""Exclusive locks in the per-user state directory: one per journal, one per account and region being changed.

Two runs that would change the same databases cannot run at once: the second fails at once and names the first's
process. The locks are ``flock`` locks (``msvcrt.locking`` on Windows) on files under ``<state dir>/locks``: the
operating system drops them when their process ends, even by ``kill -9``, so a lock is never left stale. The file
holds the holder's pid and start time for the message, nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rdsca import clock
from rdsca.errors import RdscaError
from rdsca.paths import state_dir


class LockBusy(RdscaError):
    """Another run holds a lock this run needs."""


def _folder() -> Path:
    folder = state_dir() / "locks"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def account_key(account: str, region: str) -> str:
    return f"account-{account}-{region}"


def journal_key(path: Path) -> str:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return f"journal-{digest}"


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(path: Path) -> str:
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if "pid" not in info:
        return "another rdsca run"
    return f"another rdsca run (pid {info['pid']}, {info.get('command', 'rdsca')}, since {info.get('since', '?')})"


def _raise_file_limit(wanted: int) -> None:
    """Each lock holds a file open: raise the soft limit on open files to the hard one when many are needed."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows has no such limit here
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and wanted + 256 > soft:
        target = hard if hard == resource.RLIM_INFINITY else max(soft, min(hard, wanted + 1024))
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class Locks:
    """Locks held by this run; ``release()`` (or leaving the ``with`` block) lets them go."""

    def __init__(self, command: str) -> None:
        self.command = command
        self._held: dict[str, IO[str]] = {}

    def acquire(self, key: str, what: str) -> None:
        """Take ``key`` (``what`` names it for people) or raise ``LockBusy`` naming the holder, without waiting."""
        if key in self._held:
            return
        _raise_file_limit(len(self._held) + 1)
        path = _folder() / f"{key}.lock"
        handle = path.open("a+", encoding="utf-8")
        if not _try_lock(handle):
            handle.close()
            raise LockBusy(f"{what} is locked by {_holder(path)}; lock file {path}")
        since = clock.utc_now()
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "command": self.command, "since": since}))
        handle.flush()
        self._held[key] = handle

    def release(self) -> None:
        for handle in self._held.values():
            handle.close()  # closing the file drops its lock
        self._held.clear()

    def __enter__(self) -> Locks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def holding(command: str) -> Iterator[Locks]:
    locks = Locks(command)
    try:
        yield locks
    finally:
        locks.release()
