"""Variable type constraints shape values as Terraform's conversion does: ``optional()`` attributes are filled
(null or their default) and undeclared attributes dropped, before anything reads the variable.

Found on a public Aurora module: ``instances = map(object({ ca_cert_identifier = optional(string) }))`` read by
``try(coalesce(each.value.ca_cert_identifier, var.cluster_ca_cert_identifier), null)``. Without the conversion the
attribute is missing, ``try`` falls back to null, and a cluster-wide ``rds-ca-2019`` was reported as "no CA set".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rdsca.terraform import expr, hcl
from rdsca.terraform import types as tftypes
from rdsca.terraform.config import read_module

from .conftest import run_json, write_tf

VARIABLES = """
variable "cluster_ca" {
  default = "rds-ca-2019"
}

variable "instances" {
  type = map(object({
    ca    = optional(string)
    class = optional(string, "db.t3.micro")
    tags  = optional(map(string), {})
    nested = optional(object({
      ca = optional(string, "rds-ca-ecc384-g1")
    }), {})
  }))
  default = {
    one   = {}
    two   = { ca = "rds-ca-rsa4096-g1" }
    three = { ca = null, extra = "dropped", nested = {} }
    four  = { class = null, nested = { ca = "rds-ca-rsa2048-g1" } }
  }
}
"""

#: Per instance: the CA the module computes, and the converted object as a whole.
PICKS = "{for k, v in var.instances : k => try(coalesce(v.ca, var.cluster_ca), null)}"


def _rdsca(tmp_path: Path) -> dict[str, Any]:
    files = {
        "variables.tf": VARIABLES,
        "main.tf": """
            resource "aws_db_instance" "db" {
              for_each           = var.instances
              engine             = "postgres"
              ca_cert_identifier = try(coalesce(each.value.ca, var.cluster_ca), null)
            }
            resource "aws_db_instance" "nested" {
              for_each           = var.instances
              engine             = "postgres"
              ca_cert_identifier = each.value.nested.ca
            }
        """,
    }
    code, report = run_json("check", write_tf(tmp_path, files))
    assert code == 1, report
    return {r["address"]: r["values"].get("ca_cert_identifier") for r in report["resources"]}


def test_optional_attributes_as_terraform_fills_them(tmp_path: Path) -> None:
    cas = _rdsca(tmp_path / "rdsca")
    assert cas == {
        'aws_db_instance.db["four"]': "rds-ca-2019",
        'aws_db_instance.db["one"]': "rds-ca-2019",
        'aws_db_instance.db["three"]': "rds-ca-2019",
        'aws_db_instance.db["two"]': "rds-ca-rsa4096-g1",
        'aws_db_instance.nested["four"]': "rds-ca-rsa2048-g1",
        'aws_db_instance.nested["one"]': "rds-ca-ecc384-g1",
        'aws_db_instance.nested["three"]': "rds-ca-ecc384-g1",
        'aws_db_instance.nested["two"]': "rds-ca-ecc384-g1",
    }


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_the_conversion_agrees_with_terraform(tmp_path: Path) -> None:
    """The same variable, converted by ``terraform console``: every instance's object and picked CA agree."""
    (tmp_path / "variables.tf").write_text(VARIABLES)
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1"}
    proc = subprocess.run(
        ["terraform", "console"], input=f"jsonencode([var.instances, {PICKS}])\n", cwd=tmp_path, capture_output=True,
        text=True, check=False, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    converted, picks = json.loads(json.loads(proc.stdout.strip().splitlines()[-1]))

    module = read_module(tmp_path, True, [])
    block = module.variables["instances"]
    declared = tftypes.parse(block.attributes["type"].expr)
    default = expr.evaluate(block.attributes["default"].expr, expr.Scope())
    assert tftypes.conform(default, declared) == converted
    cas = _rdsca(tmp_path / "rdsca")
    assert {k: cas[f'aws_db_instance.db["{k}"]'] for k in picks} == picks


@pytest.mark.parametrize(
    "text",
    ["string", "any", "list(string)", "map(any)", "set(number)", 'tuple([string, number])', "object({a = string})",
     "weird(x)", '"string"'],
)
def test_types_parse_or_fall_back_to_any(text: str) -> None:
    parsed = tftypes.parse(hcl.parse_expression(text, "t"))
    assert parsed.kind == {"weird(x)": "any", '"string"': "any"}.get(text, text.split("(")[0])


def test_a_value_missing_a_required_attribute_is_left_as_given() -> None:
    declared = tftypes.parse(hcl.parse_expression("object({a = string, b = optional(string)})", "t"))
    assert tftypes.conform({"b": "x"}, declared) == {"b": "x"}
    assert tftypes.conform({"a": "x", "c": 1}, declared) == {"a": "x", "b": None}
