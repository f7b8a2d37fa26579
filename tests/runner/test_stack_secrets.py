"""Encrypted stack config (issue 23.12): decrypted as the CLI's passphrase provider does, never shown; where it
cannot be decrypted, said, and a CA that may come from it is "cannot decide", never a pass with a wrong reason."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from rdsca.runner import stack_secrets

from ..conftest import REPO, rdsca, write_program

PACK = REPO / "policies"


@pytest.fixture(autouse=True)
def no_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    """The passphrase comes from each test, never from the machine running them."""
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
#: A stack's encryptionsalt written by the Pulumi CLI for the passphrase "password" (pulumi/pulumi
#: pkg/secrets/passphrase/manager_test.go): the algorithm here opens the CLI's own check value.
CLI_SALT = "v1:fozI5u6B030=:v1:F+6ZduKKd8G0/V7L:PGMFeIzwobWRKmEAzUdaQHqC5mMRIQ=="
PROGRAM = """
import pulumi, pulumi_aws as aws
config = pulumi.Config()
aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier=config.require_secret("ca"))
"""


def _key(state: str, passphrase: str) -> bytes:
    salt = base64.b64decode(state.split(":")[1])
    return stack_secrets._key(passphrase, salt)


def _stack(tmp_path: Path, *, salt: str | None = CLI_SALT, provider: str | None = None) -> Path:
    value = stack_secrets.encrypt(_key(CLI_SALT, "password"), "rds-ca-2019", b"\x01" * 12)
    lines = [f"encryptionsalt: {salt}"] if salt else []
    lines += [f"secretsprovider: {provider}"] if provider else []
    lines += ["config:", "  testprog:ca:", f"    secure: {value}"]
    return write_program(tmp_path / "prog", PROGRAM, stacks={"dev": "\n".join(lines) + "\n"})


def test_the_cli_s_own_check_value_opens_with_its_passphrase() -> None:
    assert stack_secrets._passphrase_key(CLI_SALT, "password", Path("Pulumi.dev.yaml"))
    with pytest.raises(stack_secrets.StackSecretsError, match="incorrect passphrase"):
        stack_secrets._passphrase_key(CLI_SALT, "password123", Path("Pulumi.dev.yaml"))


def test_a_secret_retired_ca_is_blocked_and_never_shown(tmp_path: Path) -> None:
    """It passed with "comes from another resource's output"; a real preview decrypts it and blocks it."""
    program = _stack(tmp_path)
    reports = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "sarif", "pulumi", "junit")}
    outputs = [arg for fmt, path in reports.items() for arg in ("--output", f"{fmt}={path}")]
    proc = rdsca("check", program, "--policy-pack", PACK, *outputs, env={"PULUMI_CONFIG_PASSPHRASE": "password"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # The engine filters secure values out of everything: the table and every other format.
    for text in (proc.stdout + proc.stderr, *(path.read_text() for path in reports.values())):
        assert "rds-ca-2019" not in text
    doc = json.loads(reports["json"].read_text())
    assert ("rds-ca-retired", "mandatory") in {(d["policy"], d["level"]) for d in doc["diagnostics"]}
    passfile = tmp_path / "passphrase.txt"
    passfile.write_text("password\n")
    proc = rdsca("check", program, "--policy-pack", PACK, env={"PULUMI_CONFIG_PASSPHRASE_FILE": str(passfile)})
    assert proc.returncode == 1


def test_a_wrong_passphrase_is_one_error_line(tmp_path: Path) -> None:
    program = _stack(tmp_path)
    proc = rdsca("check", program, env={"PULUMI_CONFIG_PASSPHRASE": "nope"})
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"rdsca: error: {program / 'Pulumi.dev.yaml'}: incorrect passphrase: set PULUMI_CONFIG_PASSPHRASE to the "
        "stack's passphrase, or PULUMI_CONFIG_PASSPHRASE_FILE to a file holding it"
    )


@pytest.mark.parametrize(
    ("salt", "provider", "why"),
    [
        (CLI_SALT, None, "no passphrase: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE"),
        (None, "awskms://alias/stack-key?region=us-east-1", "the stack's secrets provider is awskms"),
        (None, None, "encrypted by the Pulumi Cloud service"),
    ],
    ids=["no passphrase", "cloud kms", "pulumi cloud"],
)
def test_a_value_that_cannot_be_decrypted_is_said_and_cannot_decide(
    tmp_path: Path, salt: str | None, provider: str | None, why: str
) -> None:
    program = _stack(tmp_path, salt=salt, provider=provider)
    proc = rdsca("check", program, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (db,) = doc["databases"]
    assert db["status"] == "cannot decide"
    assert db["reason"].startswith("cannot decide: the CA is not known here, and the program read secure config "
                                   "testprog:ca, which was not decrypted (")
    assert why in db["reason"]
    assert any(w.startswith("config testprog:ca is secure and was not decrypted: ") for w in doc["warnings"])
