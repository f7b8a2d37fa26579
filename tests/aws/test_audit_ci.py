"""audit under CI controls (issue 26): the configuration file's suppressions by identifier (a live database is not
deployed: a retired CA may be accepted), a baseline, one CSV row per finding, several reports in one run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest

from ..conftest import REPO, rdsca


@pytest.mark.usefixtures("pinned_today")
def test_audit_suppressions_baseline_and_reports(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".rdsca.yaml").write_text(
        "skip:\n"
        "  - {policy: rds-ca-retired, resource: 'billing-*', reason: decommissioned on Friday}\n"
        "  - {policy: rds-ca-unset, reason: 'a rule audit does not judge, not warned about'}\n"
    )
    first = rdsca("audit", "--demo", "--format", "json", "--create-baseline", "base.json",
                  "--output", "csv=audit.csv", "--output", "sarif=audit.sarif", cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    report = json.loads(first.stdout)
    (suppressed,) = report["suppressed"]
    assert (suppressed["name"], suppressed["policy"]) == ("billing-mysql", "rds-ca-retired")
    assert suppressed["suppressed"]["reason"] == "decommissioned on Friday"
    assert "matches no finding" not in first.stderr
    schema = json.loads((REPO / "docs" / "schemas" / "results.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(report)
    assert report["results"][-1]["suppressed"]["reason"] == "decommissioned on Friday"
    # One CSV row per finding: each parses back to one finding and its policy, whatever its text holds.
    rows = list(csv.DictReader((tmp_path / "audit.csv").open()))
    with_findings = [r for r in rows if r["finding"]]
    assert len(with_findings) == sum(len(d["findings"]) for d in report["databases"])
    assert all(r["policy"].startswith("rds-ca-") for r in with_findings)
    sarif = json.loads((tmp_path / "audit.sarif").read_text())
    schema = json.loads((REPO / "tests" / "fixtures" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert [r["suppressions"][0]["kind"] for r in sarif["runs"][0]["results"] if r.get("suppressions")] == [
        "external"]
    # The baseline holds what remained; with it, nothing is new.
    baseline = json.loads((tmp_path / "base.json").read_text())["findings"]
    assert ("arn:aws:rds:us-east-1:123456789012:db:billing-mysql", "rds-ca-retired") not in {
        (e["resource"], e["policy"]) for e in baseline}
    second = rdsca("audit", "--demo", "--baseline", "base.json", "--format", "json", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert len(json.loads(second.stdout)["suppressed"]) == len(baseline) + 1
