"""Two ``rotate --apply`` runs at once (real processes): the second fails at once naming the first, and every
database is changed exactly once. Without locks both modified every database (16 calls for 8 databases)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from rdsca.aws.fake import FakeAccount

from ..conftest import rdsca_started
from .conftest import instance

NAMES = ("a", "b", "c", "d")


def _env(fake: FakeAccount, state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=fake.endpoint, AWS_ACCESS_KEY_ID="AKIDTESTING", AWS_SECRET_ACCESS_KEY="x",
               AWS_DEFAULT_REGION="us-east-1", RDSCA_STATE_DIR=str(state))
    return env


def _rotate(env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    args = ["rotate", "--regions", "us-east-1", "--apply", "--yes", "--apply-immediately", "--workers", "1", *extra]
    return rdsca_started(*args, env=env)


def _wait_for_lock(state: Path, pid: int) -> None:
    """Until the first run holds the account's lock (it takes it before scanning)."""
    lock = state / "locks" / "account-123456789012-us-east-1.lock"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if json.loads(lock.read_text() or "{}").get("pid") == pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError("the first run never took its lock")


@pytest.mark.parametrize("journals", ["the same journal", "their own default journals"])
def test_two_runs_at_once_change_each_database_once(
    account: FakeAccount, tmp_path: Path, state_dir: Path, journals: str
) -> None:
    for name in NAMES:
        instance("us-east-1", name, "mysql", "8.0.39", "rds-ca-2019")
    # The first run takes several seconds: the second, started once the first holds its lock, must find it held even
    # on a loaded machine, where starting a Python process alone can take seconds (seen with two suites at once).
    account.latency = 0.4
    env = _env(account, state_dir)
    extra = ("--journal", str(tmp_path / "j.jsonl")) if journals == "the same journal" else ()
    first = _rotate(env, *extra)
    _wait_for_lock(state_dir, first.pid)
    second = _rotate(env, *extra)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 2, err
    assert first.poll() is None  # it failed at once: the first run had not finished, so it did not wait for it
    message = err.strip().splitlines()[-1]
    assert message.startswith("rdsca: error: ") and "is locked by another rdsca run (pid " + str(first.pid) in message
    _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    changed = Counter(c["identifier"] for c in account.changes if c["action"] == "ModifyDBInstance")
    assert changed == dict.fromkeys(NAMES, 1)
