"""The rotation journal: a write-ahead log of every request that changes an account, one JSON object a line.

Before each request an ``intent`` line (account, region, resource, ARN, action, previous and new CA, the request's
parameters) is written, flushed and fsynced; after it, an ``outcome`` line with the same ``seq``. A run that dies
between the two leaves an intent without an outcome, which the next run with the same journal checks against a fresh
scan instead of repeating it. Every run appends a ``start`` line. Requests never carry secrets, so the journal holds
none. Reading is strict: a line cut off by an interrupted write is tolerated only as the very last line (a warning;
it is dropped before anything is appended), any other line that is not a journal record stops the command.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rdsca import __version__, clock
from rdsca.errors import RdscaError
from rdsca.paths import state_dir

KINDS = ("start", "intent", "outcome")
#: The fields each record carries, and their JSON types (``None`` allowed where a tuple holds it).
_TEXT, _MAYBE_TEXT, _OBJECT = (str,), (str, type(None)), (dict,)
REQUIRED: dict[str, dict[str, tuple[type, ...]]] = {
    "start": {"time": _TEXT, "pid": (int,), "command": _TEXT},
    "intent": {"seq": (int,), "time": _TEXT, "account": _TEXT, "region": _TEXT, "resource": _MAYBE_TEXT,
               "arn": _MAYBE_TEXT, "action": _TEXT, "request": _OBJECT},
    "outcome": {"seq": (int,), "time": _TEXT, "result": _TEXT},
}
OPTIONAL: dict[str, tuple[type, ...]] = {"new_ca": _MAYBE_TEXT, "previous_ca": _MAYBE_TEXT, "reason": _MAYBE_TEXT}


class JournalError(RdscaError):
    """The journal cannot be read: not text, or a line that is not a journal record (exit 2)."""


class JournalWriteError(RdscaError):
    """A journal line could not be written; the run stops before its next request (exit 2)."""


def now() -> str:
    return clock.utc_now()


def default_path(command: str = "rotate") -> Path:
    """A new journal in the per-user state directory (never the working directory by surprise); the pid keeps two
    runs started in the same second apart."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = journals_dir()
    return folder / f"rdsca-{command}-{stamp}-{os.getpid()}.jsonl"


def journals_dir() -> Path:
    folder = state_dir() / "journals"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


@dataclass
class Contents:
    """What a journal says: its records in order, and what reading it noticed."""

    path: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    #: Bytes of a torn last line (an interrupted write), to drop before appending; 0 when the file ends cleanly.
    torn_bytes: int = 0
    #: The last line is a whole record without its newline: one is written before anything is appended.
    needs_newline: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def intents(self) -> dict[int, dict[str, Any]]:
        return {r["seq"]: r for r in self.records if r["type"] == "intent"}

    @property
    def outcomes(self) -> dict[int, dict[str, Any]]:
        return {r["seq"]: r for r in self.records if r["type"] == "outcome"}

    @property
    def unresolved(self) -> list[dict[str, Any]]:
        """Intents with no outcome: requests that may or may not have reached AWS."""
        outcomes = self.outcomes
        return [intent for seq, intent in sorted(self.intents.items()) if seq not in outcomes]

    @property
    def next_seq(self) -> int:
        return max((r["seq"] for r in self.records if "seq" in r), default=0) + 1

    def accepted(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(intent, outcome) pairs whose request AWS accepted (or a resume found done), in journal order."""
        intents = self.intents
        return [
            (intents[o["seq"]], o)
            for o in self.records
            if o["type"] == "outcome" and o["result"] in ("accepted", "reconciled-done") and o["seq"] in intents
        ]


def _record(line: str, number: int, path: Path) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        raise JournalError(f"{path}: line {number} is not a journal record (not JSON)") from None
    if not isinstance(record, dict) or record.get("type") not in KINDS:
        raise JournalError(f"{path}: line {number} is not a journal record (no start, intent or outcome type)")
    fields = REQUIRED[record["type"]]
    missing = [k for k in fields if k not in record]
    if missing:
        raise JournalError(f"{path}: line {number} is a {record['type']} record without {', '.join(missing)}")
    expected = {**OPTIONAL, **fields}
    wrong = [k for k, types in expected.items() if k in record and not _is(record[k], types)]
    if wrong or ("seq" in record and record["seq"] <= 0):
        field_name = (wrong or ["seq"])[0]
        raise JournalError(f"{path}: line {number} has an invalid {field_name} in its {record['type']} record")
    return record


def _is(value: Any, types: tuple[type, ...]) -> bool:
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def read(path: Path) -> Contents:
    """Read a journal; raise ``JournalError`` naming the file and line when it is not one."""
    if not path.is_file():  # a device (/dev/full reads zeros for ever), a folder, a pipe
        raise JournalError(f"{path}: not a journal (not a regular file)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the journal ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[: exc.start].count(b"\n") + 1
        raise JournalError(f"{path}: not a journal (line {bad} is not UTF-8 text)") from None
    if "\x00" in text:
        raise JournalError(f"{path}: not a journal (it holds binary data)")
    contents = Contents(path)
    lines = text.split("\n")
    last = len(lines)  # a file ending in "\n" has an empty last element
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if number == last:
            # No newline after it: the write of this line was cut off. Tolerated only here, at the very end.
            try:
                contents.records.append(_record(line, number, path))
                contents.needs_newline = True
                break
            except JournalError:
                # A cut-off record follows whole ones and starts as one does; anything else means the file is not
                # a journal, and cutting its "torn line" would destroy it.
                if not contents.records or not line.lstrip().startswith("{"):
                    raise JournalError(
                        f"{path}: not a journal (line {number} is not a journal record); give a journal rdsca "
                        "wrote, or a new file"
                    ) from None
            contents.torn_bytes = len(line.encode("utf-8"))
            contents.warnings.append(
                f"{path}: line {number} was cut off by an interrupted write ({contents.torn_bytes} bytes); it is "
                "dropped: a cut intent was never sent, a cut outcome leaves its intent to be checked against AWS"
            )
            break
        contents.records.append(_record(line, number, path))
    return contents


class Journal:
    """Appends records; every line is flushed and fsynced before the call that follows it. Thread-safe."""

    def __init__(self, path: Path, contents: Contents | None, command: str) -> None:
        self.path = path
        self.contents = contents or Contents(path)
        self._seq = self.contents.next_seq
        self._lock = threading.Lock()
        self._lines = sum(1 for _ in self.contents.records)
        self._handle: IO[bytes] | None = None
        self._command = command

    @classmethod
    def open(cls, path: Path, command: str) -> Journal:
        """Open ``path`` to append (reading what it holds first; a torn last line is cut off)."""
        contents = read(path) if path.is_file() and path.stat().st_size else None
        journal = cls(path, contents, command)
        try:
            journal._handle = path.open("ab")
            if contents is not None and contents.torn_bytes:
                journal._handle.truncate(path.stat().st_size - contents.torn_bytes)
            if contents is not None and contents.needs_newline:
                journal._handle.write(b"\n")
        except OSError as exc:
            reason = exc.strerror or exc
            raise JournalWriteError(f"cannot open the journal {path} ({reason}); nothing was sent") from None
        journal._write({"type": "start", "time": now(), "pid": os.getpid(), "command": command,
                        "rdsca": __version__}, "nothing was sent")
        return journal

    def _write(self, record: dict[str, Any], consequence: str) -> None:
        line = (json.dumps(record, sort_keys=False) + "\n").encode("utf-8")
        try:
            assert self._handle is not None
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as exc:
            raise JournalWriteError(
                f"cannot write the journal {self.path} ({exc.strerror or exc}): {consequence}; its last complete "
                f"record is line {self._lines}"
            ) from None
        self._lines += 1
        self.contents.records.append(record)

    def intent(self, fields: dict[str, Any]) -> int:
        """Record a request about to be made; returns its ``seq``. Raises ``JournalWriteError`` (request not made)."""
        with self._lock:
            seq = self._seq
            self._seq += 1
            what = f"the request for {fields.get('resource') or fields.get('region')} was not sent"
            self._write({"type": "intent", "seq": seq, "time": now(), **fields}, what)
            return seq

    def outcome(self, seq: int, result: str, message: str = "", **extra: Any) -> None:
        with self._lock:
            intent = self.contents.intents.get(seq, {})
            what = (
                f"the request for {intent.get('resource') or intent.get('region')} was sent and ended {result}, but "
                "only its intent is recorded: the next run with this journal checks it against AWS"
            )
            record = {"type": "outcome", "seq": seq, "time": now(), "result": result, "message": message, **extra}
            self._write(record, what)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
