"""Inline suppressions in Terraform (issue 26.1): rdsca's own with a reason, Checkov's CKV_AWS_211 honoured, only
real comments count, and never for a CA AWS refuses at deploy time unless asked."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from .conftest import run, run_json, write_tf

FILES = {"main.tf": """
    resource "aws_db_instance" "a" {
      engine = "mysql"
      # rdsca:skip=rds-ca-unset the account default is managed centrally
    }
    resource "aws_db_instance" "b" {
      #checkov:skip=CKV_AWS_211:legacy, decommissioned in January
      ca_cert_identifier = "rds-ca-2019"
      tags = { note = "# rdsca:skip=rds-ca-unset not a comment" }
    }
    resource "aws_db_instance" "c" {
      tags = { note = "# rdsca:skip=rds-ca-unset inside a string" }
      // rdsca:skip=rds-ca-unset
    }
    resource "aws_db_instance" "d" {
      ca_cert_identifier = "rds-ca-rsa2048-g1"
      # rdsca:skip=rds-ca-expiring nothing to suppress here
    }
"""}


def test_suppressions_with_reasons_and_what_they_never_hide(tmp_path: Path) -> None:
    code, report = run_json("check", write_tf(tmp_path, FILES))
    assert code == 1  # b's retired CA stays: AWS refuses it at deploy time
    kept = {(d["policy"], d["address"]) for d in report["diagnostics"]}
    assert kept == {("rds-ca-retired", "aws_db_instance.b"), ("rds-ca-unset", "aws_db_instance.c")}
    (suppressed,) = report["suppressed"]
    assert (suppressed["policy"], suppressed["address"]) == ("rds-ca-unset", "aws_db_instance.a")
    assert suppressed["suppressed"] == {"kind": "inSource", "reason": "the account default is managed centrally",
                                        "location": f"{tmp_path / 'main.tf'}:3"}
    warnings = report["warnings"]
    assert any("rdsca:skip without a reason is not applied" in w and "main.tf:12" in w for w in warnings)
    assert any("the suppression of rds-ca-retired for aws_db_instance.b is not applied: AWS refuses" in w
               for w in warnings)
    assert any("the suppression rds-ca-expiring matches no finding" in w for w in warnings)


def test_allow_suppress_refused_and_sarif(tmp_path: Path) -> None:
    write_tf(tmp_path, FILES)
    code, report = run_json("check", tmp_path, "--allow-suppress-refused")
    assert code == 0, report  # only c's advisory finding is left
    reasons = {d["address"]: d["suppressed"]["reason"] for d in report["suppressed"]}
    assert reasons["aws_db_instance.b"] == "legacy, decommissioned in January"
    sarif = json.loads(run("check", tmp_path, "--allow-suppress-refused", "--format", "sarif").stdout)
    suppressed = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert {r["suppressions"][0]["justification"] for r in suppressed} == {
        "the account default is managed centrally", "legacy, decommissioned in January"}
    assert all(r["suppressions"][0]["kind"] == "inSource" for r in suppressed)
    schema = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)


def test_soft_and_hard_fail_on_by_policy_or_level() -> None:
    """Issue 26.3, as Checkov's: --soft-fail-on (these do not fail), --hard-fail-on (only these fail)."""
    legacy = Path(__file__).resolve().parents[2] / "examples" / "terraform-legacy"  # retired + engine-support
    cases = {
        (): 1,
        ("--soft-fail-on", "rds-ca-retired"): 1,  # engine-support still fails
        ("--soft-fail-on", "rds-ca-retired,rds-ca-engine-support"): 0,
        ("--soft-fail-on", "mandatory"): 0,
        ("--hard-fail-on", "advisory"): 0,
        ("--hard-fail-on", "rds-ca-retired"): 1,
        ("--hard-fail-on", "rds-ca-retired", "--soft-fail-on", "rds-ca-retired"): 0,
    }
    for args, code in cases.items():
        assert run("check", legacy, *args).exit_code == code, args
    assert run("check", legacy / "missing", "--soft-fail-on", "mandatory").exit_code == 2


def test_several_reports_in_one_run(tmp_path: Path) -> None:
    """Issue 26.4: --output FORMAT=PATH (repeatable, atomic), JUnit for CI systems; the same path twice and an
    unknown format are usage errors."""
    import xml.etree.ElementTree as ET

    legacy = Path(__file__).resolve().parents[2] / "examples" / "terraform-legacy"
    result = run("check", legacy, "--output", f"json={tmp_path / 'r.json'}", "--output", f"sarif={tmp_path / 'r.sarif'}",
                 "--output", f"junit={tmp_path / 'r.xml'}")
    assert result.exit_code == 1 and result.stdout.startswith("Terraform configuration")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    suite = ET.parse(tmp_path / "r.xml").getroot()
    failures = [c.find("failure").get("type") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert sorted(failures) == sorted(d["policy"] for d in doc["diagnostics"] if d["level"] == "mandatory")
    assert suite.get("failures") == str(len(failures))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
    same = run("check", legacy, "--output", f"json={tmp_path / 'x'}", "--output", f"sarif={tmp_path / 'x'}")
    assert same.exit_code == 2 and "is given twice" in same.stderr
    assert run("check", legacy, "--output", f"xml={tmp_path / 'x'}").exit_code == 2
    assert run("check", legacy, "--output", f"json={tmp_path / 'nope' / 'x'}").exit_code == 2


def test_a_comment_in_a_module_block_covers_what_the_module_declares(tmp_path: Path) -> None:
    """Issue 26.1: the comment in a module call applies to the databases of that instance (a local module), and to
    a module that is not installed (its rds-ca-unchecked finding)."""
    write_tf(tmp_path, {
        "main.tf": """
        module "legacy" {
          source = "./legacy"
          # rdsca:skip=rds-ca-unset the legacy stack uses the account default until it is retired
        }
        module "remote" {
          source = "terraform-aws-modules/rds/aws"
          # rdsca:skip=rds-ca-unchecked installed by the release pipeline only
        }
        resource "aws_db_instance" "own" {
          engine = "mysql"
        }
        """,
        "legacy/main.tf": """
        resource "aws_db_instance" "a" {
          engine = "postgres"
        }
        """,
    })
    code, report = run_json("check", tmp_path)
    assert code == 0  # rds-ca-unset on own is advisory
    suppressed = {(d["address"], d["policy"]) for d in report["suppressed"]}
    assert suppressed == {("module.legacy.aws_db_instance.a", "rds-ca-unset"), ("module.remote", "rds-ca-unchecked")}
    assert [(d["address"], d["policy"]) for d in report["diagnostics"]] == [("aws_db_instance.own", "rds-ca-unset")]
    assert report["suppressed"][0]["suppressed"]["location"].endswith("main.tf:3")


def test_a_ca_passed_to_a_module_that_does_not_declare_it_is_not_a_pass(tmp_path: Path) -> None:
    """Found on terraform-aws-modules/terraform-aws-rds with its root module missing: a retired CA passed to a local
    module without that variable read as a clean run. Terraform refuses the argument; rdsca says so, and the
    retired CA is a finding at the argument (a comment in the module block may suppress it, when allowed)."""
    write_tf(tmp_path, {
        "main.tf": """
        module "db" {
          source             = "./empty"
          ca_cert_identifier = "rds-ca-2019"
        }
        """,
        "empty/variables.tf": 'variable "engine" {\n  default = "mysql"\n}\n',
    })
    result = run("check", tmp_path, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [(d["address"], d["policy"]) for d in report["diagnostics"]] == [("module.db", "rds-ca-retired")]
    assert "does not declare it (Terraform refuses it: Unsupported argument)" in report["diagnostics"][0]["message"]
    assert any("passes ca_cert_identifier, which its module" in w for w in report["warnings"])


def test_fix_edits_the_caller_s_argument_of_a_module_outside_the_checked_folder(tmp_path: Path) -> None:
    """Found on boldlink/terraform-AWS-rds (examples call `source = "../../"`): a retired CA the caller passes to a
    module outside the checked folder was "fix by hand"; the literal is the caller's, so --fix edits it there and
    never the module."""
    write_tf(tmp_path, {
        "infra/main.tf": """
        module "db" {
          source             = "../modules/db"
          ca_cert_identifier = "rds-ca-2019"
        }
        """,
        "modules/db/main.tf": """
        variable "ca_cert_identifier" {
          type = string
        }
        resource "aws_db_instance" "this" {
          engine             = "mysql"
          ca_cert_identifier = var.ca_cert_identifier
        }
        """,
    })
    module = (tmp_path / "modules" / "db" / "main.tf").read_text()
    result = run("check", tmp_path / "infra", "--fix")
    assert 'ca_cert_identifier = "rds-ca-rsa2048-g1"' in (tmp_path / "infra" / "main.tf").read_text(), result.stdout
    assert (tmp_path / "modules" / "db" / "main.tf").read_text() == module
    assert "apply_immediately = true is not added: the module is installed" in result.stdout
    assert run("check", tmp_path / "infra").exit_code == 0
