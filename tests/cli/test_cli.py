"""``rdsca check`` end to end, as a user runs it: a subprocess, exit codes, JSON, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import REPO, rdsca, write_program

DB_TYPES = {
    "aws:rds/instance:Instance": "caCertIdentifier",
    "aws:rds/clusterInstance:ClusterInstance": "caCertIdentifier",
    "aws:rds/cluster:Cluster": "caCertificateIdentifier",
    "aws:docdb/clusterInstance:ClusterInstance": "caCertIdentifier",
}


@pytest.fixture(scope="module")
def reference_json() -> dict:
    proc = rdsca("check", str(REPO), "--format", "json", "--as-of", "2026-11-27")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_reference_stack_json_shape(reference_json: dict) -> None:
    assert set(reference_json) >= {
        "program",
        "stack",
        "resources",
        "diagnostics",
        "remediations",
        "warnings",
        "blocked",
    }
    assert reference_json["stack"] == "dev"
    assert reference_json["program"] == str(REPO)
    assert (reference_json["diagnostics"], reference_json["remediations"], reference_json["blocked"]) == ([], [], False)
    assert reference_json["warnings"] == []
    for resource in reference_json["resources"]:
        assert set(resource) == {"urn", "type", "name", "parent", "inputs", "restart"}


def test_reference_stack_puts_every_database_on_the_configured_ca(reference_json: dict) -> None:
    by_name = {r["name"]: r for r in reference_json["resources"]}
    databases = {
        name: (r["inputs"].get(DB_TYPES[r["type"]]), r["inputs"].get("applyImmediately"), r["restart"])
        for name, r in by_name.items()
        # Every database type, less the Aurora cluster (its CA lives on its instances; checked below).
        if r["type"] in DB_TYPES and name != "orders-aurora"
    }
    # AWS's rotation guide (issue 25.1): no current CA is known for a new stack, and each may restart to rotate, so
    # every change waits for its maintenance window.
    assert databases == {
        "orders-aurora-0": ("rds-ca-rsa2048-g1", False, "unknown"),
        "orders-aurora-1": ("rds-ca-rsa2048-g1", False, "unknown"),
        "billing-mysql": ("rds-ca-rsa2048-g1", False, "unknown"),
        "reports-sqlserver": ("rds-ca-rsa2048-g1", False, "yes"),
        "ledger-multiaz": ("rds-ca-rsa2048-g1", False, "unknown"),
        "catalog-docdb-0": ("rds-ca-rsa2048-g1", False, "unknown"),
    }
    aurora = by_name["orders-aurora"]
    assert "caCertificateIdentifier" not in aurora["inputs"] and aurora["restart"] is None
    # Computed outputs stay unknown, as in a preview; the component's own registration is there too.
    assert by_name["orders-aurora-0"]["inputs"]["clusterIdentifier"] == "[unknown]"
    assert by_name["ca-rotation"]["type"] == "rdsca:index:CertificateRotation"
    assert by_name["billing-mysql"]["urn"] == (
        "urn:pulumi:dev::rdsca-reference::rdsca:index:CertificateRotation$aws:rds/instance:Instance::billing-mysql"
    )


def test_table_output_and_summary_line() -> None:
    proc = rdsca("check", ".")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"Program {REPO} (stack dev): 6 database(s)"
    assert lines[1].split() == ["DATABASE", "KIND", "REGION", "ENGINE", "CA", "APPLY", "RESTART", "CA", "STATUS"]
    assert len(lines) == 3 + 6
    assert proc.stderr.count("info: rdsca: 6 wait for their maintenance window, where they restart: ") == 1
    assert "Traceback" not in proc.stderr


def test_stack_config_changes_the_ca(tmp_path: Path) -> None:
    # Same program, another stack file: the CA and fallback come from config.
    target = tmp_path / "ref"
    target.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (target / name).write_text((REPO / name).read_text())
    (target / "Pulumi.ecc.yaml").write_text(
        "config:\n  rdsca-reference:caIdentifier: rds-ca-ecc384-g1\n  rdsca-reference:restart: avoid\n"
    )
    proc = rdsca("check", str(target), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    got = {
        r["name"]: (r["inputs"].get(DB_TYPES.get(r["type"], "-")), r["inputs"].get("applyImmediately"))
        for r in json.loads(proc.stdout)["resources"]
        if r["restart"] is not None
    }
    assert got["reports-sqlserver"] == ("rds-ca-rsa4096-g1", False)  # fallback: SQL Server refuses ECC384
    assert got["billing-mysql"] == ("rds-ca-ecc384-g1", False)  # may restart: deferred
    assert got["catalog-docdb-0"] == ("rds-ca-ecc384-g1", False)


def test_retired_and_typo_cas_are_findings(tmp_path: Path) -> None:
    directory = write_program(
        tmp_path / "legacy",
        """
        import pulumi_aws as aws
        aws.rds.Instance("old", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier="rds-ca-2019")
        aws.rds.Instance("typo", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier="rds-ca-rsa2048-g2")
        aws.rds.Instance("fine", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier="rds-ca-rsa4096-g1")
        """,
    )
    proc = rdsca("check", str(directory))
    assert proc.returncode == 1, proc.stderr
    findings = [line for line in proc.stdout.splitlines() if line.startswith("finding:")]
    assert findings == [
        "finding: old: rds-ca-2019 is retired (expired on 2024-08-22); AWS answers CertificateNotFound and "
        "deployments naming it fail. Use rds-ca-rsa2048-g1.",
        "finding: typo: unknown CA 'rds-ca-rsa2048-g2': valid CAs are rds-ca-rsa2048-g1, rds-ca-rsa4096-g1, "
        "rds-ca-ecc384-g1. Use rds-ca-rsa2048-g1.",
    ]


def test_as_of_judges_dates(tmp_path: Path) -> None:
    directory = write_program(
        tmp_path / "p",
        """
        import pulumi_aws as aws
        aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier="rds-ca-rsa2048-g1")
        """,
    )
    assert rdsca("check", str(directory), "--as-of", "2030-01-01").returncode == 0
    late = rdsca("check", str(directory), "--as-of", "2062-01-01")
    assert late.returncode == 1
    assert "finding: db: rds-ca-rsa2048-g1 expired on 2061-05-24 in us-west-2. Use rds-ca-rsa4096-g1." in late.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "/nonexistent/dir"], "rdsca: error: /nonexistent/dir: no such directory"),
        (["check", ".", "--stack", "prod"], "no stack file Pulumi.prod.yaml (stacks here: dev)"),
        (["check", ".", "--as-of", "27/11/2026"], "invalid date '27/11/2026': expected YYYY-MM-DD"),
        (["check", ".", "--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args: list[str], message: str) -> None:
    proc = rdsca(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_a_raising_program_exits_2_with_one_line(tmp_path: Path) -> None:
    directory = write_program(tmp_path / "p", "import pulumi\nraise ValueError('bad config value')\n")
    proc = rdsca("check", str(directory))
    assert proc.returncode == 2
    assert proc.stderr.strip() == "rdsca: error: the program failed: __main__.py:2: ValueError: bad config value"


def test_program_prints_do_not_corrupt_json(tmp_path: Path) -> None:
    directory = write_program(tmp_path / "p", "print('hello from the program')\n")
    proc = rdsca("check", str(directory), "--format", "json")
    assert proc.returncode == 0
    # Only the root stack: the program registers nothing else.
    assert [r["type"] for r in json.loads(proc.stdout)["resources"]] == ["pulumi:pulumi:Stack"]
    assert "hello from the program" in proc.stderr


def test_every_command_is_reachable_as_python_m_rdsca_cli() -> None:
    proc = rdsca("--help")
    assert proc.returncode == 0
    for command in ("check", "audit", "rotate", "default-ca", "truststore"):
        assert f"  {command}" in proc.stdout


@pytest.mark.parametrize("fmt", ["pulumi", "table", "json"])
def test_every_output_works_on_a_narrow_encoding(fmt: str) -> None:
    """`PYTHONIOENCODING=cp1252 rdsca check examples/mysql-web-tier --policy-pack policies --format pulumi` was an
    "internal error: UnicodeEncodeError": a character the encoding lacks is replaced, never fatal."""
    proc = rdsca(
        "check", "examples/mysql-web-tier", "--policy-pack", "policies", "--format", fmt,
        env={"PYTHONIOENCODING": "cp1252"},
    )
    assert proc.returncode == 1, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert "rds-ca-2019" in proc.stdout


def test_soft_fail_turns_findings_into_exit_0_never_errors(tmp_path: Path) -> None:
    """Issue 26.3 (as Checkov's --soft-fail): findings are still reported, the exit is 0; an error stays 2."""
    from ..conftest import invoke

    legacy = REPO / "examples" / "terraform-legacy"
    code, out, _ = invoke("check", legacy)
    assert code == 1 and "rds-ca-retired" in out
    code, out, _ = invoke("check", legacy, "--soft-fail")
    assert code == 0 and "rds-ca-retired" in out
    assert invoke("check", tmp_path / "missing", "--soft-fail")[0] == 2
    unmet = invoke("truststore", "inspect", REPO / "tests" / "fixtures" / "rds-global-bundle-2024-06.pem",
                   "--require-region", "xx-nowhere-1", "--soft-fail")
    assert unmet[0] == 0 and "unmet: no current root for xx-nowhere-1" in unmet[1]
