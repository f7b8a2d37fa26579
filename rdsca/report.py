"""Rendering of ``rdsca check`` results: a table for people, JSON, and SARIF for code scanning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import click

from rdsca import sarif
from rdsca.output import emit_json, render_table
from rdsca.runner import CheckReport


def _apply_mode(value: object) -> str:
    if value is True:
        return "immediately"
    if value in (False, None):
        return "maintenance window"
    return str(value)


def _resource_label(report: CheckReport, urn: str) -> str:
    if not urn:
        return "stack"
    parts = urn.split("::")
    return f"{parts[2].rsplit('$', 1)[-1]}: {parts[3]}" if len(parts) >= 4 else urn


def _shown(value: Any) -> str:
    return "(unset)" if value is None else json.dumps(value)


def _print_policies(report: CheckReport) -> None:
    policy = report.policy
    assert policy is not None
    click.echo("")
    click.echo("Policies:")
    for pack in policy.packs:
        click.echo(f"    {pack.name}@v{pack.version}: {'blocked' if pack.blocked else 'passed'}")
        found = [d for d in report.diagnostics if d["pack"] == pack.name]
        for d in sorted(found, key=lambda d: (d["level"] != "mandatory", d["policy"], d["urn"])):
            click.echo(f"        - [{d['level']}]  {d['policy']}  ({_resource_label(report, d['urn'])})")
            for line in d["message"].splitlines():
                click.echo(f"          {line}")
    if report.remediations:
        click.echo("    Remediations:")
        for r in report.remediations:
            click.echo(f"        - [remediate]  {r['policy']}  ({_resource_label(report, r['urn'])})")
            for change in r["changes"]:
                before, after = (_shown(change[k]) for k in ("before", "after"))
                click.echo(f"          {change['property']}: {before} => {after}")


def _location(report: CheckReport, urn: str) -> dict[str, Any]:
    source = report.sources.get(urn)
    if source:
        path, line = Path(unquote(urlparse(source["uri"]).path)), int(source.get("line") or 1)
    else:
        path, line = Path(report.program) / "Pulumi.yaml", 1
    return sarif.location(path, line, urn or None)


def to_sarif(report: CheckReport) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per policy, one result per diagnostic, located where the program registered the
    resource (the SDK sends the source position with every registration)."""
    policy = report.policy
    assert policy is not None
    rules = [
        sarif.Rule(
            p["name"],
            p["description"],
            sarif.LEVEL.get(p["level"], "warning"),
            p.get("severity"),
            p.get("remediation_steps") or None,
            p.get("url") or None,
        )
        for p in policy.policies
    ]
    results = [
        sarif.result(d["policy"], sarif.LEVEL.get(d["level"], "warning"), d["message"], [_location(report, d["urn"])])
        for d in report.diagnostics
    ]
    return sarif.document(f"rdsca-check/{policy.pack}/{report.stack}", rules, results)


def print_check(report: CheckReport, fmt: str) -> None:
    if fmt == "json":
        emit_json(report.to_json())
        return
    if fmt == "sarif":
        emit_json(to_sarif(report))
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)
        return
    rows = []
    for db in report.databases:
        verdict = db.verdict
        status = verdict.status.value if verdict else "not known until deploy"
        engine = " ".join(x for x in (db.engine, db.engine_version) if x) or "?"
        rows.append(
            [
                db.name,
                db.kind,
                engine,
                db.ca if db.ca is not None else "(account default)",
                _apply_mode(db.apply_immediately),
                db.restart,
                status,
            ]
        )
    click.echo(f"Program {report.program} (stack {report.stack}): {len(report.databases)} database(s)")
    if rows:
        click.echo(render_table(["DATABASE", "KIND", "ENGINE", "CA", "APPLY", "RESTART", "CA STATUS"], rows))
    if report.policy is not None:
        _print_policies(report)
    else:
        for db in report.findings:
            assert db.verdict is not None
            instead = f" Use {db.verdict.replacement}." if db.verdict.replacement else ""
            click.echo(f"finding: {db.name}: {db.verdict.reason}.{instead}")
    for entry in report.log:
        if entry["severity"] == "info":
            click.echo(f"info: {entry['message']}", err=True)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
