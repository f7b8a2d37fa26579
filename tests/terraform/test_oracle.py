"""Terraform itself as the oracle: expressions evaluated by rdsca and by `terraform console`, values compared.

Terraform 1.11 runs offline on expressions that need no provider. The expressions are batched into one
`jsonencode([...])` so that Terraform starts once. Skipped, naming why, where Terraform is not installed.
Disagreements found so far are fixed (replace with a /regex/, recursive flatten); what rdsca does not implement yet
is listed in the README's known limits.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rdsca.resources import Unknown
from rdsca.terraform.model import ConfigError

from .test_expr import value

#: Pure expressions over literals: operators, string and collection functions, for, splats, templates.
EXPRESSIONS = [
    '"rds-ca-2019"',
    'replace("rds-ca-rsa2048-g1", "/rsa2048-g1$/", "2019")',
    'replace("ab-cd", "/(\\\\w+)-(\\\\w+)/", "$2_$1")',
    'replace("ab-cd", "/(\\\\w+)-(\\\\w+)/", "$${2}.$${1}")',
    'replace("a.b", "/\\\\./", "$$")',
    'replace("rds-ca-2019", "2019", "rsa2048-g1")',
    'flatten([["rds-ca-2019"], [[["x"]]], []])',
    'flatten([[1, [2, [3]]], 4])',
    'upper("rds-ca")',
    'lower("RDS-CA-2019")',
    'join("-", ["rds", "ca", "2019"])',
    'split("-", "rds-ca-2019")',
    'format("rds-ca-%s", "2019")',
    'format("%d-%s", 7, "x")',
    'trimspace("  rds-ca-2019  ")',
    'substr("rds-ca-2019", 7, 4)',
    'coalesce("", "rds-ca-2019")',
    'element(["a", "b", "c"], 4)',
    'length(["a", "b"])',
    'concat(["a"], ["b", "c"])',
    'distinct(["a", "b", "a"])',
    'contains(["rds-ca-2019"], "rds-ca-2019")',
    'lookup({a = "rds-ca-2019"}, "a", "x")',
    'keys({b = 1, a = 2})',
    'values({b = 1, a = 2})',
    'zipmap(["a", "b"], ["rds-ca-2019", "x"])',
    'merge({a = 1}, {b = 2}, {a = 3})',
    '[for s in ["a", "b"] : upper(s)]',
    '{for k, v in {a = 1, b = 2} : k => v * 2}',
    '[{ca = "rds-ca-2019"}, {ca = "x"}][*].ca',
    '"${"rds"}-ca-${2000 + 19}"',
    '1 + 2 * 3 - 4 / 2',
    '5 % 3 == 2 && !false',
    'true ? "rds-ca-2019" : "x"',
    'startswith("rds-ca-2019", "rds-ca")',
    'endswith("rds-ca-2019", "2019")',
    'tostring(2019)',
    'range(3)',
    'reverse(["a", "b"])',
    'sort(["b", "a"])',
    'compact(["a", "", "b"])',
    'regex("rds-ca-([0-9]+)", "rds-ca-2019")',
    'trimprefix("rds-ca-2019", "rds-")',
    'trimsuffix("rds-ca-2019", "-2019")',
    'chomp("rds-ca-2019\\n")',
    'one(["rds-ca-2019"])',
    'base64decode("cmRzLWNhLTIwMTk=")',
    'jsondecode("{\\"ca\\": \\"rds-ca-2019\\"}").ca',
    'format("%5s|%-5s|%05d|%x|%q|%t", "ab", "cd", 42, 255, "rds", true)',
    'format("%.2f", 3.14159)',
    'nonsensitive(sensitive("rds-ca-2019"))',
    'trim("--rds-ca-2019--", "-")',
    'title("rds ca")',
    'strrev("9102")',
    'regexall("[0-9]", "a1b2")',
    'regex("(?P<family>rsa[0-9]+)", "rds-ca-rsa2048-g1")',
    'index(["a", "rds-ca-2019"], "rds-ca-2019")',
    'slice(["a", "b", "c"], 1, 3)',
    'chunklist(["a", "b", "c"], 2)',
    'setunion(["b"], ["a", "b"])',
    'setintersection(["a", "b"], ["b", "c"])',
    'setsubtract(["a", "b"], ["b"])',
    'max(1, 5, 3)',
    'min(4, 2)',
    'abs(-3)',
    'ceil(1.2)',
    'floor(1.8)',
    'sum([1, 2, 3])',
    'alltrue([true, true])',
    'anytrue([false, true])',
    'base64encode("rds-ca-2019")',
    'jsonencode({ca = "rds-ca-2019"})',
    'yamldecode("ca: rds-ca-2019").ca',
    'urlencode("rds ca/2019")',
    'sha256("rds-ca-2019")',
    'md5("rds-ca-2019")',
    'coalescelist([], ["rds-ca-2019"])',
    'transpose({a = ["1", "2"], b = ["2"]})',
    'indent(2, "a\\nb")',
    'parseint("ff", 16)',
    'signum(-7)',
    'pow(2, 10)',
]


def _terraform_values(expressions: list[str], workdir: Path) -> list[Any]:
    batch = "jsonencode([" + ", ".join(expressions) + "])\n"
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1"}
    proc = subprocess.run(
        ["terraform", "console"], input=batch, cwd=workdir, capture_output=True, text=True, check=False, env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(json.loads(proc.stdout.strip().splitlines()[-1]))


def _rdsca_value(text: str) -> Any:
    result = value(text, {})
    return f"unknown: {result.reason}" if isinstance(result, Unknown) else result


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_rdsca_evaluates_what_terraform_evaluates(tmp_path: Path) -> None:
    expected = _terraform_values(EXPRESSIONS, tmp_path)
    disagreements = []
    for text, want in zip(EXPRESSIONS, expected, strict=True):
        got = _rdsca_value(text)
        # Terraform's JSON has numbers as floats where rdsca keeps ints: 5.0 == 5 compares equal.
        if got != want:
            disagreements.append(f"{text}: terraform {want!r}, rdsca {got!r}")
    assert not disagreements, "\n".join(disagreements)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_file_functions_read_what_terraform_reads(tmp_path: Path) -> None:
    """file, filebase64, fileexists and templatefile, for files in the configuration, compared with Terraform."""
    from rdsca.terraform.expr import Scope, evaluate
    from rdsca.terraform.hcl import parse_source
    from rdsca.terraform.model import SourceFile

    (tmp_path / "ca.txt").write_text("rds-ca-2019")
    (tmp_path / "t.tpl").write_text('ca = "${family}"\n')
    expressions = [
        'file("ca.txt")',
        'filebase64("ca.txt")',
        'fileexists("nope.txt")',
        'templatefile("t.tpl", { family = "rds-ca-2019" })',
        'trimprefix(file("${path.module}/ca.txt"), "rds-")',
    ]
    expected = _terraform_values(expressions, tmp_path)
    path = {"module": str(tmp_path), "root": str(tmp_path), "cwd": str(tmp_path)}
    for text, want in zip(expressions, expected, strict=True):
        top = parse_source(SourceFile(tmp_path / "t.tf", f"x = {text}\n".encode(), "hcl"))
        assert evaluate(top.attributes["x"].expr, Scope(path=path)) == want, text


def test_a_file_outside_the_configuration_is_never_read(tmp_path: Path) -> None:
    from rdsca.terraform.expr import Scope, evaluate
    from rdsca.terraform.hcl import parse_source
    from rdsca.terraform.model import SourceFile

    secret = tmp_path / "secret.txt"
    secret.write_text("do not print")
    root = tmp_path / "config"
    root.mkdir()
    top = parse_source(SourceFile(root / "t.tf", b'x = file("../secret.txt")\n', "hcl"))
    value = evaluate(top.attributes["x"].expr, Scope(path={"module": str(root), "root": str(root), "cwd": str(root)}))
    assert isinstance(value, Unknown) and value.undecided and "outside the configuration" in value.reason


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_several_hundred_generated_expressions_agree_with_terraform(tmp_path: Path) -> None:
    """Issue 23.16: every function rdsca implements over typical and edge inputs, operators, for, splats and
    templates (tests/terraform/oracle_cases.py). A value rdsca computes must be Terraform's; a value rdsca cannot
    compute must be "cannot decide" (never another value), and those are the README's known limits, listed here so
    that a new one fails."""
    from .oracle_cases import cases

    expressions = cases()
    assert len(expressions) >= 500
    expected = _terraform_values(expressions, tmp_path)
    wrong, undecided = [], []
    for text, want in zip(expressions, expected, strict=True):
        try:
            got = value(text, {})
        except ConfigError as exc:  # Terraform evaluates it: rdsca refusing it is a disagreement too
            wrong.append(f"{text}: terraform {want!r}, rdsca refused it ({exc})")
            continue
        if isinstance(got, Unknown):
            undecided.append(text)
        elif got != want or (type(got) is bool and type(want) is not bool):
            wrong.append(f"{text}: terraform {want!r}, rdsca {got!r}")
    assert not wrong, "\n".join(wrong)
    # The one known limit among them (README): template directives (%{ if }, %{ for }) are "cannot decide".
    assert undecided == [text for text in expressions if "%{" in text], undecided


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_variable_sources_take_the_precedence_terraform_gives_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 23.16, configurations: defaults, terraform.tfvars, *.auto.tfvars (lexical order), TF_VAR_, -var-file
    and -var (in the order given), with count/for_each over the result, valued by rdsca and by Terraform."""
    import json as _json

    from .conftest import run_json

    names = ["v_default", "v_tfvars", "v_auto", "v_env", "v_env_vs_tfvars", "v_cli", "v_list"]
    (tmp_path / "variables.tf").write_text("".join(
        f'variable "{n}" {{\n  default = "default-{n}"\n}}\n' for n in names[:-1]
    ) + 'variable "v_list" {\n  type    = list(string)\n  default = ["a"]\n}\n')
    (tmp_path / "terraform.tfvars").write_text(
        'v_tfvars = "tfvars"\nv_auto = "tfvars"\nv_env_vs_tfvars = "tfvars"\nv_list = ["t1", "t2"]\n')
    (tmp_path / "a.auto.tfvars").write_text('v_auto = "a-auto"\nv_cli = "a-auto"\n')
    (tmp_path / "b.auto.tfvars").write_text('v_auto = "b-auto"\n')
    (tmp_path / "extra.tfvars").write_text('v_cli = "var-file"\n')
    env = {"TF_VAR_v_env": "env", "TF_VAR_v_env_vs_tfvars": "env"}
    cli = ["--var-file", str(tmp_path / "extra.tfvars"), "--var", "v_cli=var"]  # -var-file is relative to the cwd
    picked = "{" + ", ".join(f"{n} = var.{n}" for n in names[:-1]) + "}"
    batch = f"jsonencode([{picked}, var.v_list])\n"
    proc = subprocess.run(
        ["terraform", "console", "-var-file=extra.tfvars", "-var", "v_cli=var"], input=batch, cwd=tmp_path,
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, **env, "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    expected, expected_list = _json.loads(_json.loads(proc.stdout.strip().splitlines()[-1]))

    (tmp_path / "main.tf").write_text(
        f'resource "aws_db_instance" "each" {{\n  for_each           = {picked}\n'
        "  ca_cert_identifier = each.value\n}\n"
        'resource "aws_db_instance" "counted" {\n  count              = length(var.v_list)\n'
        "  ca_cert_identifier = var.v_list[count.index]\n}\n"
    )
    for key, text in env.items():
        monkeypatch.setenv(key, text)
    _code, report = run_json("check", tmp_path, *cli)
    values = {r["address"]: r["values"].get("ca_cert_identifier") for r in report["resources"]}
    assert {n: values[f'aws_db_instance.each["{n}"]'] for n in names[:-1]} == expected
    assert [values[f"aws_db_instance.counted[{i}]"] for i in range(len(expected_list))] == expected_list
