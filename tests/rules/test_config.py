"""rdsca.rules.config: the one policy-config merger and validator, for the runner and the Terraform front end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rdsca.rules import config as pc
from rdsca.rules.config import PolicyConfig

from ..terraform.conftest import run, run_json, write_tf

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}


def test_layers_apply_as_the_cli_applies_them() -> None:
    defaults = {"p": PolicyConfig("advisory", {"a": 1}), "q": PolicyConfig("mandatory", None)}
    layers = [
        {"all": PolicyConfig("disabled", None), "q": PolicyConfig("", {"b": "x"})},
        {"p": PolicyConfig("mandatory", {"b": "y"})},
    ]
    merged = pc.merge(defaults, layers)
    # ``all`` first, then each policy's level; properties merged over what is there.
    assert merged == {"p": PolicyConfig("mandatory", {"a": 1, "b": "y"}), "q": PolicyConfig("disabled", {"b": "x"})}
    assert defaults["p"].properties == {"a": 1}  # the defaults are not changed


def test_schema_errors_are_listed_by_property_whatever_order_they_are_found_in() -> None:
    config = {"p": PolicyConfig("advisory", {"b": 3, "a": "x"})}
    with pytest.raises(pc.PolicyConfigError) as caught:
        pc.validate(config, {"p": SCHEMA}, source="f.json")
    assert str(caught.value) == (
        "f.json: invalid policy config: p: a: 'x' is not of type 'integer'; p: b: 3 is not of type 'string'"
    )


def test_both_front_ends_list_the_same_errors_the_same_way(tmp_path: Path) -> None:
    """The Terraform path once sorted schema errors as strings, the runner by property: now one function."""
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"rds-ca-expiring": {"targetCa": 7, "days": "soon"}}))
    write_tf(tmp_path, {"main.tf": 'resource "aws_db_instance" "a" {\n  engine = "mysql"\n}\n'})
    result = run("check", tmp_path, "--policy-pack-config", config)
    assert result.exit_code == 2
    first = result.stderr.strip().splitlines()[-1]
    assert first.index("days") < first.index("targetCa")  # by property name, as the CLI lists them


def test_a_policy_name_no_rule_has_is_a_warning_on_the_terraform_path_too(tmp_path: Path) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"rds-ca-retierd": "advisory"}))  # a typo: silently ignored before
    write_tf(tmp_path, {"main.tf": 'resource "aws_db_instance" "a" {\n  ca_cert_identifier = "rds-ca-2019"\n}\n'})
    code, document = run_json("check", tmp_path, "--policy-pack-config", config)
    assert code == 1  # the typo did not turn the retired-CA policy off
    assert "the policy config names rds-ca-retierd, which pack rdsca does not have" in document["warnings"]


def test_the_terraform_front_end_does_not_import_the_runner_or_the_pulumi_sdk(tmp_path: Path) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"all": "mandatory"}))
    write_tf(tmp_path, {"main.tf": 'resource "aws_db_instance" "a" {\n  ca_cert_identifier = "rds-ca-2019"\n}\n'})
    probe = (
        "import sys; from rdsca.terraform.check import check; from pathlib import Path; "
        f"check(Path({str(tmp_path)!r}), 'terraform', None, Path({str(config)!r})); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'grpc') or m.startswith('rdsca.runner')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
