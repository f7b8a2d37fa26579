"""``rdsca check`` output for Terraform configurations and plans: the same table, JSON and SARIF as for a Pulumi
program, with Terraform addresses where Pulumi has URNs and file and line of the attribute (or block) in SARIF."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from rdsca import __version__
from rdsca.output import emit_json, render_table
from rdsca.report import SARIF_LEVEL, SECURITY_SEVERITY
from rdsca.terraform.judge import Database, Outcome
from rdsca.terraform.model import Resource, Span, Unknown
from rdsca.terraform.types import TYPES

UNKNOWN_JSON = "[unknown]"
SENSITIVE_JSON = "[sensitive]"


@dataclass
class TerraformReport:
    kind: str  # "terraform" or "plan"
    path: Path
    resources: list[Resource]
    outcome: Outcome
    warnings: list[str] = field(default_factory=list)
    #: Lines describing fixes (``--fix``/``--diff``), shown after the policies.
    fixes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return self.outcome.blocked


def _shown(resource: Resource, attribute: str, value: Any) -> Any:
    if attribute in resource.sensitive:
        return SENSITIVE_JSON
    return UNKNOWN_JSON if isinstance(value, Unknown) else value


def _values(resource: Resource) -> dict[str, Any]:
    """Only the attributes rdsca judges: a configuration or plan also holds passwords, which are never printed."""
    kind = TYPES[resource.type]
    names = [kind.ca_attribute, kind.apply_attribute, "engine", "engine_version", kind.identifier_attribute, "region"]
    names.append(kind.cluster_attribute)
    return {n: _shown(resource, n, resource.values[n]) for n in names if n and n in resource.values}


def _unknowns(resource: Resource) -> dict[str, str]:
    kind = TYPES[resource.type]
    names = {kind.ca_attribute, kind.apply_attribute, "engine", "engine_version", "region"}
    return {n: v.reason for n, v in resource.values.items() if n in names and isinstance(v, Unknown)}


def _relative(path: Path) -> str:
    try:
        return Path(os.path.relpath(path, Path.cwd())).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def _position(span: Span | None) -> dict[str, Any] | None:
    if span is None:
        return None
    return {"file": _relative(span.file.path), "line": span.line}


def resource_json(resource: Resource, databases: dict[str, Database]) -> dict[str, Any]:
    row = databases.get(resource.address)
    kind = TYPES[resource.type]
    return {
        "address": resource.address,
        "type": resource.type,
        "name": resource.name,
        "values": _values(resource),
        "unknown": _unknowns(resource),
        "source": _position(resource.where(kind.ca_attribute)),
        "restart": row.restart if row and row.restart else None,
        "ca_status": row.verdict.status.value if row and row.verdict else None,
    }


def to_json(report: TerraformReport) -> dict[str, Any]:
    databases = {d.resource.address: d for d in report.outcome.databases}
    return {
        "kind": report.kind,
        "path": str(report.path),
        "resources": [resource_json(r, databases) for r in report.resources],
        "diagnostics": report.outcome.diagnostics,
        "fixes": report.fixes,
        "warnings": report.warnings,
        "blocked": report.blocked,
    }


def _location(report: TerraformReport, address: str) -> dict[str, Any]:
    resource = next((r for r in report.resources if r.address == address), None)
    span = resource.where(TYPES[resource.type].ca_attribute) if resource else None
    uri, line, column = (_relative(span.file.path), span.line, None) if span else (_relative(report.path), 1, None)
    if span is not None and report.kind == "plan":
        line_start = span.file.data.rfind(b"\n", 0, span.start) + 1
        column = len(span.file.data[line_start : span.start].decode("utf-8", "replace")) + 1
    region: dict[str, Any] = {"startLine": line}
    if column:
        region["startColumn"] = column
    return {
        "physicalLocation": {"artifactLocation": {"uri": uri}, "region": region},
        "logicalLocations": [{"fullyQualifiedName": address, "kind": "resource"}],
    }


def sarif(report: TerraformReport) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per policy, one result per diagnostic at the attribute's line (the block's when the
    attribute is unset; the resource's entry in a plan file)."""
    rules = []
    for p in report.outcome.policies:
        rule: dict[str, Any] = {
            "id": p["name"],
            "shortDescription": {"text": p["description"]},
            "defaultConfiguration": {"level": SARIF_LEVEL.get(p["level"], "warning")},
            "properties": {"tags": ["security", "rds", "tls", "terraform"]},
        }
        if p.get("remediation_steps"):
            rule["help"] = {"text": p["remediation_steps"]}
        if p.get("url"):
            rule["helpUri"] = p["url"]
        if p.get("severity") in SECURITY_SEVERITY:
            rule["properties"]["security-severity"] = SECURITY_SEVERITY[p["severity"]]
        rules.append(rule)
    results = [
        {
            "ruleId": d["policy"],
            "level": SARIF_LEVEL.get(d["level"], "warning"),
            "message": {"text": d["message"]},
            "locations": [_location(report, d["address"])],
        }
        for d in report.outcome.diagnostics
    ]
    driver = {
        "name": "rdsca",
        "version": __version__,
        "informationUri": "https://github.com/rdsca/rdsca",
        "rules": rules,
    }
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": driver}, "automationDetails": {"id": f"rdsca-check/{report.kind}/"}, "results": results}
        ],
    }


def _apply(value: Any) -> str:
    if value is True:
        return "immediately"
    if value in (False, None):
        return "maintenance window"
    return "unknown" if isinstance(value, Unknown) else str(value)


def _ca(db: Database) -> str:
    if db.resource.sensitive and TYPES[db.resource.type].ca_attribute in db.resource.sensitive:
        return "(sensitive)"
    if isinstance(db.ca, Unknown):
        return "(known after apply)"
    return db.ca if db.ca is not None else "(account default)"


def print_report(report: TerraformReport, fmt: str) -> None:
    if fmt == "json":
        emit_json(to_json(report))
    elif fmt == "sarif":
        emit_json(sarif(report))
    else:
        _print_table(report)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)


def _print_table(report: TerraformReport) -> None:
    what = "Terraform plan" if report.kind == "plan" else "Terraform configuration"
    rows = []
    for db in report.outcome.databases:
        status = db.verdict.status.value if db.verdict else "not known until apply"
        engine = " ".join(x for x in (db.engine, db.engine_version) if x) or "?"
        apply = "-" if db.kind == "account default" else _apply(db.apply_immediately)
        rows.append([db.resource.address, db.kind, engine, _ca(db), apply, db.restart or "-", status])
    click.echo(f"{what} {report.path}: {len(report.outcome.databases)} database(s)")
    if rows:
        click.echo(render_table(["ADDRESS", "KIND", "ENGINE", "CA", "APPLY", "RESTART", "CA STATUS"], rows))
    click.echo("")
    click.echo("Policies:")
    click.echo(f"    rdsca@v{__version__}: {'blocked' if report.blocked else 'passed'}")
    diagnostics = sorted(
        report.outcome.diagnostics, key=lambda d: (d["level"] != "mandatory", d["policy"], d["address"])
    )
    for d in diagnostics:
        click.echo(f"        - [{d['level']}]  {d['policy']}  ({d['address']})")
        for line in d["message"].splitlines():
            click.echo(f"          {line}")
    if report.fixes:
        click.echo("Fixes:")
        for fix in report.fixes:
            click.echo(f"    - {fix['address']}: {fix['message']}")
