"""The process dies at a chosen point of ``rotate --apply`` (as by ``kill -9``), then ``--resume`` runs: no database
is changed twice, none is missed, and the journal accounts for every request AWS received.

A kill is a ``BaseException`` raised at the point: nothing after it runs (no outcome line, no clean-up write), files
are closed and locks dropped as the operating system does for a dead process. A torn write puts half a line on disk
first. ``bench/kill_stress.py`` does the same with real ``kill -9`` at random moments.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from rdsca.aws import journal, live
from rdsca.aws.fake import FakeAccount

from .conftest import instance, journal_pairs, run

APPLY = ("rotate", "--regions", "us-east-1", "--apply", "--yes", "--apply-immediately", "--workers", "1")
NAMES = ("a", "b", "c")


class Killed(BaseException):
    """The process is gone."""


def _kill_on_write(monkeypatch: pytest.MonkeyPatch, number: int, how: str) -> None:
    """Die at the ``number``-th journal line: before writing it, halfway through it, or just after it."""
    real = journal.Journal._write
    count = [0]

    def write(self: journal.Journal, record: dict, consequence: str) -> None:
        count[0] += 1
        if count[0] != number:
            return real(self, record, consequence)
        if how == "before":
            raise Killed
        if how == "torn":
            import json

            line = (json.dumps(record) + "\n").encode()
            assert self._handle is not None
            self._handle.write(line[: len(line) // 2])
            self._handle.flush()
            raise Killed
        real(self, record, consequence)
        raise Killed

    monkeypatch.setattr(journal.Journal, "_write", write)


def _kill_on_request(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    """Die after AWS accepted the ``number``-th change, before its answer is read."""
    real = live.Scanned.client
    count = [0]

    def client(self: live.Scanned) -> object:
        make = real(self)

        class Dying:
            def __init__(self, inner: object) -> None:
                self.inner = inner

            def __getattr__(self, name: str) -> object:
                method = getattr(self.inner, name)
                if not name.startswith(("modify", "reboot", "apply")):
                    return method

                def call(**kwargs: object) -> object:
                    answer = method(**kwargs)
                    count[0] += 1
                    if count[0] == number:
                        raise Killed
                    return answer

                return call

        return lambda account, region: Dying(make(account, region))

    monkeypatch.setattr(live.Scanned, "client", client)


def _kill(monkeypatch: pytest.MonkeyPatch, point: tuple) -> None:
    if point[0] == "request":
        _kill_on_request(monkeypatch, point[1])
    else:
        _kill_on_write(monkeypatch, point[1], point[2])


def _run_killed(args: tuple[str, ...], point: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        _kill(patch, point)
        with pytest.raises(Killed):
            run(*args)


def _check(fake: FakeAccount, path: Path) -> None:
    """Every database changed exactly once; the journal holds an intent for each change AWS accepted, and every
    intent has an outcome."""
    changed = Counter(c["identifier"] for c in fake.changes if c["action"] == "ModifyDBInstance")
    assert changed == dict.fromkeys(NAMES, 1)
    assert {db.identifier: db.ca for db in fake.databases.values()} == dict.fromkeys(NAMES, "rds-ca-rsa2048-g1")
    pairs = journal_pairs(path)
    assert all(outcome is not None for _, outcome in pairs), pairs
    done = Counter(i["resource"] for i, o in pairs if o and o["result"] in ("accepted", "reconciled-done"))
    assert done == changed
    assert journal.read(path).unresolved == []


@pytest.fixture
def fleet(account: FakeAccount) -> FakeAccount:
    for name in NAMES:
        instance("us-east-1", name, "mysql", "8.0.39", "rds-ca-2019")
    return account


# Journal lines of the first run: 1 start, 2 intent a, 3 outcome a, 4 intent b, 5 outcome b, 6 intent c, 7 outcome c.
POINTS = {
    "before the start line": ("write", 1, "before"),
    "after the start line": ("write", 1, "after"),
    "before the first intent": ("write", 2, "before"),
    "in the middle of the first intent": ("write", 2, "torn"),
    "after the first intent, before its request": ("write", 2, "after"),
    "after AWS accepted the first request": ("request", 1),
    "in the middle of the first outcome": ("write", 3, "torn"),
    "after the first outcome": ("write", 3, "after"),
    "after the last intent, before its request": ("write", 6, "after"),
    "after AWS accepted the last request": ("request", 3),
    "after the last outcome": ("write", 7, "after"),
}


@pytest.mark.parametrize("point", POINTS.values(), ids=POINTS.keys())
def test_kill_then_resume(fleet: FakeAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: tuple) -> None:
    path = tmp_path / "j.jsonl"
    _run_killed((*APPLY, "--journal", str(path)), point, monkeypatch)
    resumed = run(*APPLY, "--resume" if path.exists() else "--journal", str(path))
    assert resumed.exit_code == 0, resumed.stderr
    _check(fleet, path)


def test_kill_during_the_resume_then_resume_again(fleet: FakeAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.jsonl"
    _run_killed((*APPLY, "--journal", str(path)), ("request", 1), monkeypatch)
    # The resume writes its start line, then the reconciled outcome of the first request: it dies right after.
    _run_killed((*APPLY, "--resume", str(path)), ("write", 2, "after"), monkeypatch)
    again = run(*APPLY, "--resume", str(path))
    assert again.exit_code == 0, again.stderr
    _check(fleet, path)
    assert [o["result"] for _, o in journal_pairs(path)] == ["reconciled-done", "accepted", "accepted"]
