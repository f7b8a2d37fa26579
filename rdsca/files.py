"""Writing files people depend on: atomically, with the mode an ordinary file would get, never half-written.

A file is written to a temporary sibling, checked, then renamed over the target (``os.replace`` is atomic on POSIX
and Windows). A directory is built beside the target and swapped in: on Linux with ``renameat2(RENAME_EXCHANGE)``
(Linux 3.15+, glibc 2.28+; https://man7.org/linux/man-pages/man2/rename.2.html), so the target is never absent;
elsewhere the old directory is renamed aside and the new one renamed in, so the target is absent for an instant.
Either way nothing is left behind, also when a step fails.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

_RENAME_EXCHANGE = 2  # <linux/fs.h>
_AT_FDCWD = -100
_UMASK_LOCK = threading.Lock()


def umask() -> int:
    """The process's umask (reading it means setting it: done under a lock and restored at once)."""
    with _UMASK_LOCK:
        current = os.umask(0o022)
        os.umask(current)
    return current


def ordinary_mode(directory: bool = False) -> int:
    """The mode a file (0666) or directory (0777) the user creates gets under the current umask."""
    return (0o777 if directory else 0o666) & ~umask()


def existing_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def write_file(target: Path, data: bytes, mode: int, check: Callable[[Path], None] | None = None) -> None:
    """Write ``data`` to a temporary sibling with ``mode``, run ``check`` on it, then rename it over ``target``."""
    import tempfile  # here, not at the top: reading (every check) needs none of the writing modules (issue 30)

    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            _keep_owner(handle.fileno(), target)
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if check is not None:
            check(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _keep_owner(fd: int, target: Path) -> None:
    """A rewritten file keeps its owner and group (run as root on another user's file, a rename would otherwise hand
    it to root). Only root can give a file away; for anyone else the file is theirs already, or this fails and the
    owner is the writer's, as with any editor."""
    if not hasattr(os, "fchown"):
        return
    try:
        info = target.stat()
    except OSError:
        return  # a new file: the writer's
    with contextlib.suppress(OSError):
        os.fchown(fd, info.st_uid, info.st_gid)


def write_directory(
    target: Path, files: Mapping[str, bytes], mode: int, check: Callable[[Path], None] | None = None
) -> None:
    """Build a directory of ``files`` beside ``target`` (files get ``mode`` without execute bits), run ``check``
    on it, then swap it in; the old directory, if any, is removed."""
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, data in files.items():
            path = tmp / name
            path.write_bytes(data)
            path.chmod(mode & 0o666)
        tmp.chmod(mode)
        if check is not None:
            check(tmp)
        _swap_in(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # after a swap it holds the old directory


def _swap_in(new: Path, target: Path) -> None:
    """Put directory ``new`` at ``target``; whatever was at ``target`` ends up at ``new`` (or is removed)."""
    for _ in range(10):  # another writer may create or remove the target in between
        if target.exists() or target.is_symlink():
            if exchange(new, target):
                return
            _replace_aside(new, target)
            return
        try:
            new.rename(target)
            return
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    raise OSError(errno.EBUSY, "the target keeps changing under concurrent writers", str(target))


def exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where that is not available."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return False
    import ctypes  # on use: only a write that replaces a folder needs it

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False  # the kernel or the file system cannot exchange
    raise OSError(code, os.strerror(code), str(b))


def _replace_aside(new: Path, target: Path) -> None:
    import uuid

    aside = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    target.rename(aside)
    try:
        new.rename(target)
    except BaseException:
        aside.rename(target)
        raise
    aside.rename(new)  # the caller removes ``new``, now the old directory


def read_text(path: Path, error: type[Exception], what: str = "") -> str:
    """A file's text (UTF-8, as Pulumi's and Terraform's own files are); ``error`` names the file (and ``what`` it
    is) when it cannot be read or is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise error(f"cannot read {what} {path}: {reason}" if what else f"{path}: cannot read ({reason})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
