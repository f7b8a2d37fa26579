"""The CI controls of issue 26 over a Terraform configuration (in process, fast): baselines, the configuration file,
rule selection, the severity filter, JUnit's skipped cases, list-rules; hostile inputs give one error and exit 2."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from ..conftest import REPO, invoke, one_error_line
from ..terraform.conftest import write_tf

LEGACY = {
    "main.tf": """
    resource "aws_db_instance" "old" {
      engine             = "mysql"
      ca_cert_identifier = "rds-ca-2019"
    }
    resource "aws_db_instance" "unset" {
      engine = "postgres"
    }
    """,
}
SARIF_SCHEMA = json.loads((REPO / "tests" / "fixtures" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root (``.git``) holding the configuration, and the working directory."""
    (tmp_path / ".git").mkdir()
    write_tf(tmp_path / "infra", LEGACY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check_json(*args: str | Path) -> tuple[int, dict, str]:
    code, out, err = invoke("check", *args, "--format", "json")
    return code, json.loads(out), err


def test_a_baseline_fails_only_on_new_findings_and_survives_moving_code(repo: Path) -> None:
    code, report, err = check_json("infra", "--create-baseline", "base.json", "--allow-suppress-refused")
    assert code == 1 and "2 finding(s) written to base.json" in err
    entries = json.loads((repo / "base.json").read_text())["findings"]
    assert {(e["resource"], e["policy"]) for e in entries} == {
        ("aws_db_instance.old", "rds-ca-retired"), ("aws_db_instance.unset", "rds-ca-unset")}
    # The same findings, reformatted and moved to another file: nothing new.
    (repo / "infra" / "main.tf").unlink()
    write_tf(repo / "infra", {"b.tf": 'resource "aws_db_instance" "unset" { engine = "postgres" }\n',
                              "a.tf": '\n\nresource "aws_db_instance" "old" {\n  ca_cert_identifier = "rds-ca-2019"\n'
                                      '  engine = "mysql"\n}\n'})
    code, report, err = check_json("infra", "--baseline", "base.json", "--allow-suppress-refused")
    assert code == 0, (report["diagnostics"], err)
    assert {d["suppressed"]["location"] for d in report["suppressed"]} == {"base.json"}
    # A new retired CA fails; a fixed one is listed as gone so that the file can shrink.
    write_tf(repo / "infra", {"b.tf": 'resource "aws_db_instance" "unset" {\n  engine = "postgres"\n'
                                      '  ca_cert_identifier = "rds-ca-rsa2048-g1"\n}\n'
                                      'resource "aws_db_instance" "new" {\n  engine = "mysql"\n'
                                      '  ca_cert_identifier = "rds-ca-2019"\n}\n'})
    code, report, err = check_json("infra", "--baseline", "base.json", "--allow-suppress-refused")
    assert code == 1
    assert [(d["address"], d["policy"]) for d in report["diagnostics"]] == [("aws_db_instance.new", "rds-ca-retired")]
    assert "rds-ca-unset for aws_db_instance.unset is no longer found" in err


def test_a_baselined_retired_ca_still_fails_unless_allowed(repo: Path) -> None:
    """The deploy fails on a retired CA whatever a report says: a baseline accepts it only when asked."""
    invoke("check", "infra", "--create-baseline", "base.json")
    code, report, err = check_json("infra", "--baseline", "base.json")
    assert code == 1 and [d["policy"] for d in report["diagnostics"]] == ["rds-ca-retired"]
    assert "is in the baseline but still fails" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"not json{", "not JSON"),
        (b'{"findings": []}', "not an rdsca baseline"),
        (b'{"format": "rdsca-baseline/1", "findings": [{"resource": 1}]}', "needs a 'resource' and a 'policy'"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_a_bad_baseline_is_one_error(repo: Path, content: bytes, expected: str) -> None:
    (repo / "base.json").write_bytes(content)
    line = one_error_line(*invoke("check", "infra", "--baseline", "base.json"))
    assert "base.json" in line and expected in line


def test_a_missing_baseline_says_how_to_make_one(repo: Path) -> None:
    line = one_error_line(*invoke("check", "infra", "--baseline", "none.json"))
    assert "--create-baseline none.json" in line


def test_the_configuration_file_suppresses_by_pattern_and_the_command_line_wins(repo: Path) -> None:
    (repo / ".rdsca.yaml").write_text(
        "format: json\n"
        "skip:\n"
        "  - policy: rds-ca-unset\n"
        "    resource: 'aws_db_instance.uns*'\n"
        "    reason: the account default is managed centrally\n"
        "  - policy: rds-ca-expiring\n"
        "    reason: nothing matches this one\n"
    )
    (repo / "infra" / "sub").mkdir()
    code, out, err = invoke("check", "infra")  # format: json from the file
    report = json.loads(out)
    assert code == 1  # the retired CA still fails
    (suppressed,) = report["suppressed"]
    assert suppressed["address"] == "aws_db_instance.unset"
    assert suppressed["suppressed"]["kind"] == "external"
    assert suppressed["suppressed"]["location"].endswith(".rdsca.yaml: skip[0]")
    assert "the suppression rds-ca-expiring for * matches no finding" in err
    code, out, _ = invoke("check", "infra", "--format", "table")  # the command line wins
    assert out.startswith("Terraform configuration infra")
    assert "rds-ca-unset  (aws_db_instance.unset): the account default is managed centrally" in out
    code, out, _ = invoke("check", "infra", "--format", "sarif")
    sarif = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    (result,) = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert result["suppressions"][0]["kind"] == "external"


def test_the_configuration_file_is_found_up_to_the_repository_root(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".rdsca.yaml").write_text("format: [not, a, format]\n")  # above the inner repository: never read
    inner = repo / "inner"
    (inner / ".git").mkdir(parents=True)
    write_tf(inner / "infra", LEGACY)
    (inner / ".rdsca.yaml").write_text("severity: critical\n")
    monkeypatch.chdir(inner / "infra")
    code, out, _ = invoke("config", "show", "--format", "json")
    shown = json.loads(out)
    assert code == 0 and shown["file"] == str(inner / ".rdsca.yaml")
    assert shown["settings"] == [{"key": "severity", "value": "critical", "source": str(inner / ".rdsca.yaml")}]
    # severity: critical from the file: the low rds-ca-unset finding is left out, and the table says so.
    code, out, _ = invoke("check", ".")
    assert code == 1 and "rds-ca-retired" in out
    assert "rds-ca-unset  (" not in out and "1 finding(s) not shown" in out
    (inner / ".rdsca.yaml").unlink()
    code, out, _ = invoke("config", "show")
    assert out.startswith("no .rdsca.yaml here or above")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("colour: always\n", "unknown key 'colour'"),
        ("apply: true\n", "changes an account or files"),
        ("fix: true\n", "changes an account or files"),
        ("skip:\n  - policy: rds-ca-unset\n", "'reason' is required"),
        ("skip: everything\n", "skip: a list"),
        ("- a\n- b\n", "expected a mapping"),
        ("format: {a: b}\n", "format: a value or a list"),
        ("key: [unclosed\n", "not YAML"),
    ],
)
def test_a_bad_configuration_file_is_one_error_naming_it(repo: Path, text: str, expected: str) -> None:
    (repo / ".rdsca.yaml").write_text(text)
    line = one_error_line(*invoke("check", "infra"))
    assert ".rdsca.yaml" in line and expected in line, line


def test_config_given_on_the_command_line(repo: Path) -> None:
    (repo / "team.yaml").write_text("skip-check: rds-ca-unset\n")
    code, out, _ = invoke("check", "infra", "--config", "team.yaml", "--format", "json")
    assert code == 1 and [d["policy"] for d in json.loads(out)["diagnostics"]] == ["rds-ca-retired"]
    line = one_error_line(*invoke("--config", "missing.yaml", "check", "infra"))
    assert "missing.yaml: no such file" in line


def test_check_and_skip_check_name_real_policies(repo: Path) -> None:
    code, report, _ = check_json("infra", "--check", "rds-ca-unset")
    assert code == 0 and [d["policy"] for d in report["diagnostics"]] == ["rds-ca-unset"]
    code, report, _ = check_json("infra", "--skip-check", "rds-ca-unset,rds-ca-retired")
    assert code == 0 and report["diagnostics"] == []
    line = one_error_line(*invoke("check", "infra", "--check", "rds-ca-retierd"))
    assert "--check" in line and "rds-ca-retierd" in line
    line = one_error_line(*invoke("check", "infra", "--severity", "urgent"))
    assert "urgent: not a severity" in line


def test_junit_lists_suppressed_findings_as_skipped(repo: Path) -> None:
    (repo / ".rdsca.yaml").write_text("skip:\n  - {policy: rds-ca-unset, reason: accepted}\n")
    code, _, _ = invoke("check", "infra", "--output", "junit=out.xml")
    assert code == 1
    suite = ET.parse(repo / "out.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("skipped") == "1" and suite.get("failures") == "1"
    (skipped,) = suite.iter("skipped")
    assert "accepted" in (skipped.get("message") or "")


def test_two_outputs_to_one_path_is_a_usage_error(repo: Path) -> None:
    line = one_error_line(*invoke("check", "infra", "--output", "json=a", "--output", "sarif=a"))
    assert "given twice" in line


def test_list_rules_names_every_rule_and_the_checks_it_overlaps() -> None:
    from rdsca import rules

    code, out, _ = invoke("list-rules", "--format", "json")
    listed = {r["id"]: r for r in json.loads(out)["rules"]}
    assert code == 0 and set(listed) == set(rules.BY_NAME)
    assert listed["rds-ca-retired"]["overlaps"]["checkov"] == "CKV_AWS_211"
    assert "audit" in listed["rds-ca-restart-pending"]["front_ends"]
    assert "audit" not in listed["rds-ca-unset"]["front_ends"]


RESULTS_SCHEMA = json.loads((REPO / "docs" / "schemas" / "results.schema.json").read_text())


def test_a_directory_and_its_plan_give_the_same_findings_in_the_one_shape(tmp_path: Path) -> None:
    """Issue 26.7/26.8: one finding per resource and problem (a plan's stack-state finding is folded into the CA
    rule's, citing both), and `results` valid against the documented schema."""
    directory = REPO / "examples" / "terraform-legacy"
    code, report, _ = check_json(directory)
    plan = {"format_version": "1.2", "terraform_version": "1.11.0",
            "planned_values": {"root_module": {"resources": [
                {"address": r["address"], "mode": "managed", "type": r["type"], "name": r["name"], "values": r["values"]}
                for r in report["resources"]]}},
            "resource_changes": [
                {"address": r["address"], "mode": "managed", "type": r["type"], "name": r["name"],
                 "change": {"actions": ["create"], "before": None, "after": r["values"], "after_unknown": {}}}
                for r in report["resources"]]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    plan_code, plan_report, _ = check_json(tmp_path / "plan.json")
    assert len(plan_report["diagnostics"]) > len(report["diagnostics"])  # the plan's state is judged too
    for document in (report, plan_report):
        jsonschema.Draft7Validator(RESULTS_SCHEMA).validate(document)
    assert code == plan_code == 1
    assert [(r["resource"], r["policy"]) for r in report["results"]] == [
        (r["resource"], r["policy"]) for r in plan_report["results"]]
    assert ["rds-ca-retired", "rds-ca-stack-state"] in [r["policies"] for r in plan_report["results"]]
    table = invoke("check", tmp_path / "plan.json")[1]
    assert table.count("- [mandatory]") == len(report["results"])
    assert "(outside Terraform" not in table  # the table's messages are short; JSON keeps them whole
    sarif = json.loads(invoke("check", tmp_path / "plan.json", "--format", "sarif")[1])
    assert len(sarif["runs"][0]["results"]) == len(report["results"])


@pytest.mark.parametrize("value", ["/tmp/report.sarif", "../outside.sarif", "sub/../../x.sarif"])
def test_a_configuration_file_cannot_write_outside_its_folder(repo: Path, value: str) -> None:
    """A cloned repository's .rdsca.yaml must not choose where rdsca writes (or reads) outside the repository."""
    (repo / ".rdsca.yaml").write_text(f"output: ['sarif={value}']\n")
    line = one_error_line(*invoke("check", "infra"))
    assert "must be a path inside" in line


def test_paths_in_the_configuration_file_are_relative_to_it(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".rdsca.yaml").write_text("output: ['json=reports/out.json']\n")
    (repo / "reports").mkdir()
    monkeypatch.chdir(repo / "infra")
    code, _, _ = invoke("check", ".")
    assert code == 1 and json.loads((repo / "reports" / "out.json").read_text())["results"]


def test_a_baseline_and_a_report_to_one_path_is_a_usage_error(repo: Path) -> None:
    line = one_error_line(*invoke("check", "infra", "--output", "json=b.json", "--create-baseline", "b.json"))
    assert "--create-baseline" in line and not (repo / "b.json").exists()
