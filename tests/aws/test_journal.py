"""The rotation journal: a write-ahead log read strictly, written before every request, reconciled on resume."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from rdsca.aws import journal
from rdsca.aws.fake import FakeAccount

from ..conftest import invoke
from .conftest import instance, journal_pairs, modify_calls, run

APPLY = ("rotate", "--regions", "us-east-1", "--apply", "--yes", "--apply-immediately", "--workers", "1")


@pytest.fixture
def fleet(account: FakeAccount) -> FakeAccount:
    for name in ("a", "b", "c"):
        instance("us-east-1", name, "mysql", "8.0.39", "rds-ca-2019")
    account.calls.clear()
    return account


def _lines(*records: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


START = {"type": "start", "time": "2026-11-27T00:00:00Z", "pid": 1, "command": "rotate"}
INTENT = {"type": "intent", "seq": 1, "time": "2026-11-27T00:00:01Z", "account": "123456789012", "region": "us-east-1",
          "resource": "a", "arn": "arn:aws:rds:us-east-1:123456789012:db:a", "action": "modify-db-instance",
          "previous_ca": "rds-ca-2019", "new_ca": "rds-ca-rsa2048-g1",
          "request": {"DBInstanceIdentifier": "a", "CACertificateIdentifier": "rds-ca-rsa2048-g1"}}
OUTCOME = {"type": "outcome", "seq": 1, "time": "2026-11-27T00:00:02Z", "result": "accepted", "message": ""}


# -- reading -------------------------------------------------------------------------------------------------------


def test_a_torn_last_line_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(_lines(START, INTENT) + json.dumps(OUTCOME)[:20])
    contents = journal.read(path)
    assert [r["type"] for r in contents.records] == ["start", "intent"]
    assert contents.torn_bytes == 20
    assert contents.warnings == [
        f"{path}: line 3 was cut off by an interrupted write (20 bytes); it is dropped: a cut intent was never sent, "
        "a cut outcome leaves its intent to be checked against AWS"
    ]
    assert [i["seq"] for i in contents.unresolved] == [1]


def test_a_whole_last_record_without_its_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(_lines(START, INTENT) + json.dumps(OUTCOME))
    contents = journal.read(path)
    assert contents.unresolved == [] and contents.warnings == [] and contents.needs_newline


@pytest.mark.parametrize(
    ("middle", "why"),
    [
        ("{not json", "line 2 is not a journal record (not JSON)"),
        ('{"type": "intent"}', "line 2 is a intent record without seq, time, account, region, resource, arn, action, request"),
        ('{"type": "outcome", "seq": "1", "time": "t", "result": "accepted"}', "line 2 has an invalid seq in its outcome record"),
        ("[1, 2]", "line 2 is not a journal record (no start, intent or outcome type)"),
    ],
)
def test_a_corrupt_line_elsewhere_names_its_line(tmp_path: Path, middle: str, why: str) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(_lines(START) + middle + "\n" + _lines(INTENT))
    with pytest.raises(journal.JournalError) as caught:
        journal.read(path)
    assert str(caught.value) == f"{path}: {why}"


def test_resume_with_a_corrupt_line_is_exit_2_and_changes_nothing(fleet: FakeAccount, tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(_lines(START) + "garbage\n" + _lines(INTENT, OUTCOME))
    result = run(*APPLY, "--resume", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"rdsca: error: {path}: line 2 is not a journal record (not JSON)"
    assert fleet.calls == [] and modify_calls(fleet) == []


@pytest.mark.parametrize(
    ("data", "why"),
    [(b'{"type": "start"}\n\xff\xfe\x00garbage\n', "not a journal (line 2 is not UTF-8 text)"),
     (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00", "not a journal (it holds binary data)")],
    ids=["not UTF-8", "binary"],
)
@pytest.mark.parametrize("apply", [True, False], ids=["apply", "dry-run"])
def test_resume_with_a_file_that_is_not_text_is_exit_2(
    fleet: FakeAccount, tmp_path: Path, data: bytes, why: str, apply: bool
) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(data)
    args = APPLY if apply else tuple(a for a in APPLY if a not in ("--apply", "--yes"))
    result = run(*args, "--resume", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"rdsca: error: {path}: {why}"
    assert "Traceback" not in result.stderr and modify_calls(fleet) == []


def test_resume_after_a_torn_last_line_warns_and_goes_on(fleet: FakeAccount, tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(_lines(START) + json.dumps(INTENT)[:30])
    result = run(*APPLY, "--resume", str(path))
    assert result.exit_code == 0, result.stderr
    assert "warning: " in result.stderr and "line 2 was cut off by an interrupted write (30 bytes)" in result.stderr
    assert sorted(modify_calls(fleet)) == [("us-east-1", "ModifyDBInstance")] * 3
    journal.read(path)  # what is appended follows whole lines: the journal reads cleanly again
    assert [o["result"] for _, o in journal_pairs(path)] == ["accepted"] * 3


# -- writing -------------------------------------------------------------------------------------------------------


def test_a_journal_in_a_missing_folder_is_a_usage_error(fleet: FakeAccount, tmp_path: Path) -> None:
    path = tmp_path / "no-such-folder" / "j.jsonl"
    result = run(*APPLY, "--journal", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1].endswith(
        f"--journal {path}: the folder {path.parent} does not exist"
    )
    assert fleet.calls == [] and not path.parent.exists()


def test_a_device_as_journal_is_refused_before_any_request(fleet: FakeAccount) -> None:
    """``--journal /dev/full`` modified a database, then crashed with a traceback. A device (or FIFO, or folder)
    is no journal: it is refused before anything is sent."""
    result = run(*APPLY, "--journal", "/dev/full")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == "rdsca: error: /dev/full: not a journal (not a regular file)"
    assert modify_calls(fleet) == []


def test_a_full_disk_stops_before_any_request(
    fleet: FakeAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up as the start record is written: nothing is sent, and the message says so."""
    path = tmp_path / "j.jsonl"

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal.os, "fsync", full)
    result = run(*APPLY, "--journal", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"rdsca: error: cannot write the journal {path} (No space left on device): nothing was sent; its last "
        "complete record is line 0"
    )
    assert modify_calls(fleet) == []


def test_a_write_failure_after_a_request_stops_and_says_so(
    fleet: FakeAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outcome of the first request cannot be written: the run stops before the next request, names what was
    sent, and the next run checks it against AWS instead of sending it again."""
    path = tmp_path / "j.jsonl"
    real = journal.Journal._write
    writes = []

    class Full:
        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    def failing(self: journal.Journal, record: dict, consequence: str) -> None:
        writes.append(record["type"])
        handle = self._handle
        if record["type"] == "outcome":
            self._handle = Full()  # type: ignore[assignment]
        try:
            real(self, record, consequence)
        finally:
            self._handle = handle

    monkeypatch.setattr(journal.Journal, "_write", failing)
    result = run(*APPLY, "--journal", str(path))
    assert result.exit_code == 2
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(f"rdsca: error: cannot write the journal {path} (No space left on device): the request "
                              "for a was sent and ended accepted, but only its intent is recorded")
    assert message.endswith("its last complete record is line 2")
    assert modify_calls(fleet) == [("us-east-1", "ModifyDBInstance")]
    monkeypatch.setattr(journal.Journal, "_write", real)
    resumed = run(*APPLY, "--resume", str(path))
    assert resumed.exit_code == 0, resumed.stderr
    assert "resume: 123456789012 us-east-1 a modify-db-instance: AWS shows it done" in resumed.stderr
    assert sorted(modify_calls(fleet)) == [("us-east-1", "ModifyDBInstance")] * 3  # a: once, b and c: once
    assert [o["result"] for _, o in journal_pairs(path)] == ["reconciled-done", "accepted", "accepted"]


def test_resume_with_another_ca_plans_again(fleet: FakeAccount, tmp_path: Path) -> None:
    """The journal is not trusted over the scan: changes accepted for one CA do not hide a new plan for another."""
    path = tmp_path / "j.jsonl"
    window = ("rotate", "--regions", "us-east-1", "--restart", "avoid", "--apply", "--yes", "--workers", "1")
    assert run(*window, "--journal", str(path)).exit_code == 0
    assert [c.pending for c in fleet.databases.values()] == ["rds-ca-rsa2048-g1"] * 3
    resumed = run(*window, "--resume", str(path), "--ca", "rds-ca-rsa4096-g1")
    assert resumed.exit_code == 0, resumed.stderr
    assert [c.pending for c in fleet.databases.values()] == ["rds-ca-rsa4096-g1"] * 3
    assert [(i["new_ca"], o["result"]) for i, o in journal_pairs(path)] == (
        [("rds-ca-rsa2048-g1", "accepted")] * 3 + [("rds-ca-rsa4096-g1", "accepted")] * 3
    )


def test_ctrl_c_during_a_request_leaves_its_intent(
    fleet: FakeAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.jsonl"
    # Ctrl-C as the second request is about to go out (its intent is on disk).
    monkeypatch.setattr(journal.Journal, "intent", _intent_then(KeyboardInterrupt, after=2))
    result = run(*APPLY, "--journal", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"rdsca: error: interrupted; {path} records every request sent (an intent before each, an outcome after): "
        f"continue with --resume {path}, which checks unfinished requests against AWS"
    )
    assert [(i["resource"], o and o["result"]) for i, o in journal_pairs(path)] == [("a", "accepted"), ("b", None)]


def _intent_then(error: type[BaseException], after: int) -> object:
    real = journal.Journal.intent
    count = [0]

    def intent(self: journal.Journal, fields: dict) -> int:
        seq = real(self, fields)
        count[0] += 1
        if count[0] == after:
            raise error
        return seq

    return intent


@pytest.mark.parametrize("content", ["notes about the rotation", '{"a": "half', "one line\nand a last one"])
def test_a_file_that_is_not_a_journal_is_refused_and_left_as_it_was(tmp_path: Path, content: str) -> None:
    """`rotate --journal FILE` on a file that is not a journal cut its content as a "torn line" and wrote records in
    its place: whatever its name, such a file is refused (exit 2) and untouched."""
    path = tmp_path / "rotation.jsonl"
    path.write_text(content)
    with pytest.raises(journal.JournalError, match="not a journal"):
        journal.Journal.open(path, "rdsca rotate --apply")
    assert path.read_text() == content
    code, _out, err = invoke("rotate", "--demo", "--apply", "--yes", "--journal", str(path))
    assert code == 2 and "not a journal" in err
    assert path.read_text() == content


def test_resume_of_a_link_to_a_device_is_refused_on_a_dry_run_too(tmp_path: Path) -> None:
    link = tmp_path / "journal.jsonl"
    link.symlink_to("/dev/zero")
    code, _out, err = invoke("rotate", "--demo", "--resume", str(link))
    assert code == 2 and "not a journal (not a regular file)" in err
