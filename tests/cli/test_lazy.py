"""Start-up (issue 30.3): ``rdsca --help`` lists every command without importing any, and each command imports
only its own area. The tests count modules, not seconds (no timed test)."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from rdsca.cli import COMMANDS, cli

from ..conftest import REPO

PROBE = """
import sys, runpy
sys.argv = ["rdsca", *sys.argv[1:]]
try:
    runpy.run_module("rdsca.cli", run_name="__main__")
except SystemExit:
    pass
heavy = ["rdsca.cli.check", "rdsca.cli.aws", "rdsca.cli.probe", "rdsca.cli.truststore", "rdsca.cli.report",
         "rdsca.cli.rules", "rdsca.catalog", "rdsca.findings", "grpc", "pulumi", "botocore", "cryptography",
         "jinja2", "rich", "yaml", "jsonschema", "tree_sitter", "hashlib", "ctypes", "pulumi_policy", "subprocess",
         "tempfile", "rdsca.terraform.plan"]
print("LOADED:" + ",".join(m for m in heavy if m in sys.modules), file=sys.stderr)
"""


def loaded(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=REPO / "docs",
                          check=False)
    line = next(line for line in reversed(done.stderr.splitlines()) if line.startswith("LOADED:"))
    return [m for m in line.removeprefix("LOADED:").split(",") if m]


def test_help_imports_no_command() -> None:
    assert loaded("--help") == []
    assert loaded("--version") == []


def test_a_command_imports_its_own_area_only(tmp_path) -> None:
    (tmp_path / "a.json").write_text('{"accounts": [], "regions": [], "databases": []}')
    modules = loaded("report", str(tmp_path / "a.json"), "--html", str(tmp_path / "r.html"))
    assert "rdsca.cli.report" in modules and "jinja2" in modules
    assert not {"rdsca.cli.check", "rdsca.cli.aws", "rdsca.cli.probe", "grpc", "pulumi", "botocore"} & set(modules)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_listed_help_line_is_the_command_s_own(name: str) -> None:
    command = cli.commands[name]
    for limit in (30, 45, 60, 80, 200):
        assert click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit) == \
            command.get_short_help_str(limit), (name, limit)


def test_every_command_is_registered_and_help_lists_them_all() -> None:
    from click.testing import CliRunner

    out = CliRunner().invoke(cli, ["--help"], terminal_width=100).output
    listed = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == sorted(COMMANDS)
    assert sorted(cli.commands) == sorted(COMMANDS)  # iterating the group imports every command


def test_a_terraform_check_imports_no_pulumi_grpc_or_boto(tmp_path) -> None:
    """The Terraform path is meant to be interactive at 10,000 resources and about 0.2 s at 1,000 (issue 30):
    Pulumi's SDK, gRPC, boto, OpenSSL's hashes (``md5()`` in a configuration imports them when used) and ctypes stay
    out, with or without a policy config (whose schema check needs only jsonschema); and so do what only other
    inputs or --fix use (a plan's reader, subprocess, tempfile)."""
    (tmp_path / "main.tf").write_text('resource "aws_db_instance" "d" {\n  ca_cert_identifier = "rds-ca-2019"\n}\n')
    (tmp_path / "config.json").write_text('{"rds-ca-retired": "advisory"}')
    heavy = {"grpc", "pulumi", "pulumi_policy", "botocore", "cryptography", "hashlib", "ctypes", "jinja2", "subprocess",
             "tempfile", "rdsca.terraform.plan"}
    plain = loaded("check", str(tmp_path), "--format", "json")
    assert "tree_sitter" in plain and not heavy & set(plain) and "jsonschema" not in plain
    configured = loaded("check", str(tmp_path), "--policy-pack-config", str(tmp_path / "config.json"))
    # jsonschema's own imports bring tempfile (importlib.resources)
    assert "tree_sitter" in configured and "jsonschema" in configured and not (heavy - {"tempfile"}) & set(configured)
