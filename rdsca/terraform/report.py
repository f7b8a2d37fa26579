"""``rdsca check`` output for Terraform configurations and plans: the same table, JSON and SARIF as for a Pulumi
program, with Terraform addresses where Pulumi has URNs and file and line of the attribute (or block) in SARIF."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import click

from rdsca import __version__, catalog, findings
from rdsca.output import apply_mode, check_columns, emit_json, printable
from rdsca.resources import ACCOUNT_DEFAULT_CLI, MISSING, TERRAFORM_TYPES, Unknown
from rdsca.rules import Rule
from rdsca.rules._common import diagnostic_rank
from rdsca.terminal import echo_table, warn
from rdsca.terraform.judge import Database, TerraformReport
from rdsca.terraform.model import Resource, Span
from rdsca.text import shorten

UNKNOWN_JSON = "[unknown]"
SENSITIVE_JSON = "[sensitive]"


@functools.cache
def _judged_attributes(type_name: str) -> tuple[str, ...]:
    """The attributes rdsca judges on a resource type (computed once per type: called for every resource)."""
    f = TERRAFORM_TYPES[type_name].fields
    names = (f.ca, f.apply_immediately, f.engine, f.engine_version, f.identifier, f.region, f.cluster)
    return tuple(n for n in names if n)


def _shown(resource: Resource, attribute: str, value: Any) -> Any:
    if attribute in resource.sensitive:
        return SENSITIVE_JSON
    return UNKNOWN_JSON if isinstance(value, Unknown) else value


def _values(resource: Resource) -> dict[str, Any]:
    """Only the attributes rdsca judges: a configuration or plan also holds passwords, which are never printed."""
    values = resource.values
    return {n: _shown(resource, n, values[n]) for n in _judged_attributes(resource.type) if n in values}


def _unknowns(resource: Resource) -> dict[str, str]:
    return {
        n: resource.values[n].reason
        for n in _judged_attributes(resource.type)
        if isinstance(resource.values.get(n), Unknown)
    }


@functools.lru_cache(maxsize=4096)
def _relative(path: Path) -> str:
    """A file as the report names it, relative to the working folder (once per file, not per resource)."""
    try:
        return Path(os.path.relpath(path, Path.cwd())).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def _position(span: Span | None) -> dict[str, Any] | None:
    if span is None:
        return None
    return {"file": _relative(span.file.path), "line": span.line}


def _ca_span(resource: Resource) -> Span | None:
    return resource.where(TERRAFORM_TYPES[resource.type].fields.ca)


def resource_json(resource: Resource, databases: dict[str, Database]) -> dict[str, Any]:
    row = databases.get(resource.address)
    return {
        "address": resource.address,
        "type": resource.type,
        "name": resource.name,
        "values": _values(resource),
        "unknown": _unknowns(resource),
        "source": _position(_ca_span(resource)),
        "restart": row.restart if row and row.restart else None,
        "ca_status": (row.status if row.verdict else None) if row else None,
        # The CA to move to (rdsca report's target column), when the verdict names one.
        "replacement": (row.verdict.replacement if row.verdict else None) if row else None,
    }


def to_json(report: TerraformReport) -> dict[str, Any]:
    databases = {d.resource.address: d for d in report.outcome.databases}
    return {
        "kind": report.kind,
        "path": str(report.path),
        "resources": [resource_json(r, databases) for r in report.resources],
        "results": findings.results(_located(report, report.outcome.diagnostics),
                                    _located(report, report.outcome.suppressed)),
        "diagnostics": report.outcome.diagnostics,
        "suppressed": report.outcome.suppressed,
        "unchecked_modules": [m.to_json() for m in report.outcome.unchecked],
        "fixes": report.fixes,
        "warnings": report.warnings,
        "blocked": report.blocked,
        "status": report.status,
    }


def _located(report: TerraformReport, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings with where they are (file and line): the module argument or call, else where the resource's CA is
    set (its block when unset), for the one finding shape."""
    by_address = {r.address: r for r in report.resources}

    def where(d: dict[str, Any]) -> dict[str, Any] | None:
        span = report.outcome.spans.get((d["address"], d["policy"]))
        resource = by_address.get(d["address"])
        return _position(span) if span is not None else (_position(_ca_span(resource)) if resource else None)

    return [{**d, "location": where(d)} for d in found]


def remediation_steps(rule: Rule) -> str:
    """A rule's remediation steps for Terraform users: what to do, the attribute per resource type, the AWS CLI."""
    target = catalog.DEFAULT_TARGET
    lines = [rule.steps, "In Terraform:"]
    for rtype in TERRAFORM_TYPES.values():
        apply = f"{rtype.fields.apply_immediately} = true" if rtype.database and rtype.fields.apply_immediately else ""
        lines.append(f'  {rtype.display}: {rtype.ca_argument} = "{target}"' + (f", {apply}" if apply else ""))
    lines.append("Outside Terraform (AWS CLI):")
    databases = [t for t in TERRAFORM_TYPES.values() if t.database]
    lines += [f"  {cli}" for cli in dict.fromkeys(t.cli_command(target) for t in databases)]
    lines.append(f"Account default for new launches: {ACCOUNT_DEFAULT_CLI.format(ca=target)}")
    return "\n".join(lines)


def _location(report: TerraformReport, resource: Resource | None, address: str) -> dict[str, Any]:
    from rdsca import sarif  # SARIF output only (start-up)

    span = _ca_span(resource) if resource else None
    if span is None:
        return sarif.location(report.path, 1, address)
    column = None
    if report.kind == "plan":  # terraform show -json writes one line: the column tells resources apart
        line_start = span.file.data.rfind(b"\n", 0, span.start) + 1
        column = len(span.file.data[line_start : span.start].decode("utf-8", "replace")) + 1
    return sarif.location(span.file.path, span.line, address, column)


def _diagnostic_location(report: TerraformReport, by_address: dict[str, Resource], d: dict[str, Any]) -> dict[str, Any]:
    from rdsca import sarif

    span = report.outcome.spans.get((d["address"], d["policy"]))
    if span is not None:  # a module call's argument, or the call itself
        return sarif.location(span.file.path, span.line, d["address"])
    return _location(report, by_address.get(d["address"]), d["address"])


def to_sarif(report: TerraformReport) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per policy, one result per diagnostic at the attribute's line (the block's when the
    attribute is unset; the resource's entry in a plan file)."""
    from rdsca import sarif

    rules = [
        sarif.Rule(rule.name, rule.description, sarif.LEVEL[level], rule.severity, remediation_steps(rule), rule.url)
        for rule, level in report.outcome.rules
    ]
    by_address = {r.address: r for r in report.resources}
    # One result per resource and problem (a plan's stack-state finding is folded into the CA rule's), as for a
    # directory: the other policies that found it are named in the message.
    results = [
        sarif.result(
            d["policy"],
            sarif.LEVEL[d["level"]],
            findings.cited(d),
            [_diagnostic_location(report, by_address, d)],
        )
        for d in findings.merge(report.outcome.diagnostics)
    ]
    for d in report.outcome.suppressed:
        # Shown as suppressed by code scanning, with the reason.
        found = sarif.result(d["policy"], sarif.LEVEL[d["level"]], d["message"],
                             [_diagnostic_location(report, by_address, d)])
        found["suppressions"] = [sarif.suppression(d["suppressed"])]
        results.append(found)
    return sarif.document(f"rdsca-check/{report.kind}/", rules, results)


def _apply(value: Any) -> str:
    if value is True or value is False or value is MISSING:
        return apply_mode(value is True)
    return "unknown" if isinstance(value, Unknown) else str(value)


def _ca(db: Database) -> str:
    if TERRAFORM_TYPES[db.resource.type].fields.ca in db.resource.sensitive:
        return "(sensitive)"
    ca = db.view.ca
    if isinstance(ca, Unknown):
        return "(known after apply)"
    return "(account default)" if ca is MISSING else shorten(str(ca))


def print_report(report: TerraformReport, fmt: str, hidden: int = 0) -> None:
    """``hidden``: how many findings --check, --skip-check or --severity left out (the table says so)."""
    if fmt == "json":
        emit_json(to_json(report))
    elif fmt == "sarif":
        emit_json(to_sarif(report))
    else:
        _print_table(report, hidden)
    for warning in report.warnings:
        warn(warning)


def _rows(report: TerraformReport) -> list[list[str]]:
    rows = []
    for db in report.outcome.databases:
        view = db.view
        status = db.status
        engine = " ".join(x for x in (view.engine, view.engine_version) if x) or "?"
        apply = _apply(view.apply_immediately) if view.type.fields.apply_immediately else "-"
        region = view.region or "-"
        rows.append([db.resource.address, str(view.kind), region, engine, _ca(db), apply, db.restart or "-", status])
    return sorted(rows, key=lambda row: (row[2], row[1], row[0]))


def _print_table(report: TerraformReport, hidden: int = 0) -> None:
    what = "Terraform plan" if report.kind == "plan" else "Terraform configuration"
    rows = _rows(report)
    click.echo(printable(f"{what} {report.path}: {len(rows)} database(s)"))
    if rows:
        echo_table(check_columns("ADDRESS"), rows)
    click.echo("")
    click.echo("Policies:")
    click.echo(f"    rdsca@v{__version__}: {report.status}")
    diagnostics = sorted(
        findings.merge(report.outcome.diagnostics),
        key=lambda d: (*diagnostic_rank(d["level"], d.get("severity")), d["policy"], d["address"]),
    )
    # One entry per resource and problem, its message short: --format json has every policy's whole message.
    for d in diagnostics:
        click.echo(printable(f"        - [{d['level']}]  {', '.join(d['policies'])}  ({d['address']})"))
        click.echo(f"          {printable(findings.short_message(d['message']))}")
    for line in findings.set_aside_lines(report.outcome.suppressed, hidden):
        click.echo(printable(line))
    if report.outcome.unchecked:
        click.echo(f"Not checked ({len(report.outcome.unchecked)} module(s) not installed; run terraform init):")
        for module in report.outcome.unchecked:
            click.echo(printable(f"    - {module.address} (source {module.source}) at {module.span.where()}"))
    if report.fixes:
        click.echo("Fixes:")
        for fix in report.fixes:
            click.echo(printable(f"    - {fix['address']}: {fix['message']}"))
