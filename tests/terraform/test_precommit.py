"""The repository's .pre-commit-hooks.yaml through ``pre-commit try-repo`` on a scratch git repository: the Terraform
hook blocks a commit of a retired CA, --fix rewrites it, and the fixed tree passes. pre-commit builds the hook's own
virtualenv from this repository, as it does for a user."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def try_repo(scratch: Path, hook: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), hook, "--all-files"],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_terraform_hooks_block_fix_and_pass(tmp_path: Path) -> None:
    scratch = tmp_path / "infra"
    (scratch / "db").mkdir(parents=True)
    (scratch / "db" / "main.tf").write_text(
        'resource "aws_db_instance" "a" {\n  engine             = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n'
    )
    git(scratch, "init", "-q")
    git(scratch, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"), "RDSCA_AS_OF": "2026-11-27"}
    blocked = try_repo(scratch, "rdsca-terraform", env)
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "rds-ca-retired" in blocked.stdout
    fixed = try_repo(scratch, "rdsca-terraform-fix", env)
    assert fixed.returncode == 1  # pre-commit fails a hook that modified files, so the edit is reviewed
    assert 'ca_cert_identifier = "rds-ca-rsa2048-g1"' in (scratch / "db" / "main.tf").read_text()
    git(scratch, "add", ".")
    passed = try_repo(scratch, "rdsca-terraform", env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
