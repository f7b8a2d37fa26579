"""Inline suppressions in a Pulumi Python program (issue 26.1): the comment on the statement that constructs the
resource (the SDK's sourcePosition), a reason required, text inside a string is no comment, and a CA AWS refuses
at deploy time is not hidden unless asked. One program run per assertion group: each starts a pack."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from ..conftest import REPO, rdsca, write_program

PROGRAM = """
import pulumi_aws as aws

# rdsca:skip=rds-ca-unset the account default is managed centrally
aws.rds.Instance("a", engine="mysql", instance_class="db.t3.micro")
aws.rds.Instance(
    "b",
    engine="mysql",
    instance_class="db.t3.micro",
    ca_cert_identifier="rds-ca-2019",  # rdsca:skip=rds-ca-retired,rds-ca-stack-state legacy, gone in January
)
note = "# rdsca:skip=rds-ca-unset not a comment"; aws.rds.Instance("c", engine="mysql", instance_class="db.t3.micro")
aws.rds.Instance("d", engine="mysql", instance_class="db.t3.micro")  # rdsca:skip=rds-ca-unset
"""


def _pack_run(directory: Path, *more: str) -> tuple[int, dict, str]:
    out = directory / "out.sarif"
    proc = rdsca("check", directory, "--policy-pack", REPO / "policies", "--format", "json",
                 "--output", f"sarif={out}", *more)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, {"json": json.loads(proc.stdout), "sarif": json.loads(out.read_text())}, proc.stderr


def test_comments_on_the_constructing_statement_suppress(tmp_path: Path) -> None:
    directory = write_program(tmp_path / "prog", PROGRAM)
    code, reports, err = _pack_run(directory)
    report = reports["json"]
    suppressed = {(d["urn"].rsplit("::", 1)[-1], d["policy"]): d["suppressed"] for d in report["suppressed"]}
    assert set(suppressed) == {("a", "rds-ca-unset")}
    assert suppressed[("a", "rds-ca-unset")]["kind"] == "inSource"
    assert suppressed[("a", "rds-ca-unset")]["location"].endswith("__main__.py:4")
    remaining = {(d["urn"].rsplit("::", 1)[-1], d["policy"]) for d in report["diagnostics"]}
    assert ("c", "rds-ca-unset") in remaining  # the text in a string is no comment
    assert ("d", "rds-ca-unset") in remaining  # no reason: not applied, and said
    assert ("b", "rds-ca-retired") in remaining and code == 1  # refused at deploy time: not hidden
    assert "__main__.py:13: rdsca:skip without a reason is not applied" in err
    assert "the suppression of rds-ca-retired for" in err and "is not applied: AWS refuses this CA" in err
    schema = json.loads((REPO / "tests" / "fixtures" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(reports["sarif"])
    marked = [r for r in reports["sarif"]["runs"][0]["results"] if r.get("suppressions")]
    assert [r["suppressions"][0]["kind"] for r in marked] == ["inSource"]
    # The one finding shape (issue 26.8): b's retired CA once, citing both policies; a's suppressed entry last.
    results_schema = json.loads((REPO / "docs" / "schemas" / "results.schema.json").read_text())
    jsonschema.Draft7Validator(results_schema).validate(report)
    by_name = {(r["name"], r["policy"]): r for r in report["results"]}
    assert by_name[("b", "rds-ca-retired")]["policies"] == ["rds-ca-retired", "rds-ca-stack-state"]
    assert by_name[("b", "rds-ca-retired")]["location"]["line"] in range(6, 12)
    assert report["results"][-1]["suppressed"]["kind"] == "inSource"


def test_allow_suppress_refused_accepts_the_retired_ca(tmp_path: Path) -> None:
    directory = write_program(tmp_path / "prog", PROGRAM)
    code, reports, _ = _pack_run(directory, "--allow-suppress-refused", "--skip-check", "rds-ca-unset")
    report = reports["json"]
    assert {(d["urn"].rsplit("::", 1)[-1], d["policy"]) for d in report["suppressed"]} == {
        ("b", "rds-ca-retired"), ("b", "rds-ca-stack-state")}
    assert code == 0 and report["blocked"] is False, report["diagnostics"]


def test_junit_without_a_pack_counts_the_databases_findings(tmp_path: Path) -> None:
    """Without a pack, each database's finding is a failing JUnit case (they were named 'None' and did not fail)."""
    directory = write_program(tmp_path / "prog", PROGRAM)
    out = tmp_path / "out.xml"
    proc = rdsca("check", directory, "--output", f"junit={out}")
    assert proc.returncode == 1, proc.stderr
    text = out.read_text()
    assert 'failures="1"' in text and 'classname="rds-ca-retired"' in text
