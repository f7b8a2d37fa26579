"""The repository's .pre-commit-hooks.yaml, as shipped, through ``pre-commit try-repo`` on scratch git repositories:
the Terraform hook blocks a commit of a retired CA, the fix hook rewrites it, the fixed tree passes, and the Pulumi
hook runs this repository's legacy example.

pre-commit builds each hook's own virtualenv and installs rdsca into it from a clone of this repository, as it does
for a user (so a package missing from pyproject.toml fails here). Only the third-party dependencies are borrowed
from the test environment, which already has them: ``PIP_NO_DEPS`` keeps pip from downloading pulumi and the rest
into every hook environment (about 30 s each), and ``PYTHONPATH`` lets the hook import them. rdsca itself comes from
the hook environment: this environment installs it editable, through a ``.pth`` file that ``PYTHONPATH`` does not
read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def scratch_repository(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    git(directory, "init", "-q")
    git(directory, "add", ".")
    return directory


@pytest.fixture
def hook_env(tmp_path: Path) -> dict[str, str]:
    site = sysconfig.get_paths()["purelib"]
    assert not (Path(site) / "rdsca").exists(), "rdsca must not be importable from PYTHONPATH: the hook's own is tested"
    return {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "PIP_NO_DEPS": "1",
        "PYTHONPATH": site,
        "RDSCA_AS_OF": "2026-11-27",
    }


def try_repo(scratch: Path, hook: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), hook, "--all-files"],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_terraform_hooks_block_fix_and_pass(tmp_path: Path, hook_env: dict[str, str]) -> None:
    retired = 'resource "aws_db_instance" "a" {\n  engine             = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n'
    scratch = scratch_repository(tmp_path / "infra", {"db/main.tf": retired, "README.md": "not Terraform\n"})
    blocked = try_repo(scratch, "rdsca-terraform", hook_env)
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "Terraform configuration db: 1 database(s)" in blocked.stdout
    assert "[mandatory]  rds-ca-retired  (aws_db_instance.a)" in blocked.stdout
    fixed = try_repo(scratch, "rdsca-terraform-fix", hook_env)
    assert fixed.returncode == 1  # pre-commit fails a hook that modified files, so the edit is reviewed
    assert "files were modified by this hook" in fixed.stdout
    assert (scratch / "db" / "main.tf").read_text() == (
        'resource "aws_db_instance" "a" {\n  engine             = "mysql"\n  ca_cert_identifier = "rds-ca-rsa2048-g1"\n'
        "  apply_immediately  = true # may restart the database: mysql, version not known here\n}\n"
    )
    git(scratch, "add", ".")
    passed = try_repo(scratch, "rdsca-terraform", hook_env)
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_pulumi_hook_checks_the_legacy_example(tmp_path: Path, hook_env: dict[str, str]) -> None:
    """Issue 26.11: the project sits in a subdirectory (found from the changed files), and the repository's
    .rdsca.yaml applies in the hook as on the command line."""
    example = REPO / "examples" / "legacy-stack"
    files = {f"stacks/legacy/{p.name}": p.read_text() for p in example.iterdir() if p.is_file()}
    files["README.md"] = "not a program\n"
    files[".rdsca.yaml"] = "skip:\n  - {policy: rds-ca-retired, resource: billing-mysql, reason: accepted here}\n"
    scratch = scratch_repository(tmp_path / "stack", files)
    result = try_repo(scratch, "rdsca-pulumi", hook_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "/stack/stacks/legacy (stack dev): 5 database(s)" in result.stdout
    # The retired CA is not hidden by the suppression (AWS refuses it at deploy time), and the hook says so.
    assert "finding: billing-mysql: rds-ca-2019 is retired" in result.stdout
    assert "the suppression of rds-ca-retired for" in result.stdout + result.stderr
