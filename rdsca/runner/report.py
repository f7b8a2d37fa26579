"""Rendering of ``rdsca check`` results: rdsca's table for people, JSON, SARIF for code scanning, and the policy
section exactly as ``pulumi preview`` prints it (``--format pulumi``) for teams that compare CI output with the CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import click

from rdsca import catalog, findings, sarif
from rdsca.output import apply_mode, check_columns, emit_json, printable
from rdsca.runner.judge import CheckReport, DatabaseRow
from rdsca.terminal import echo_table, inform, warn
from rdsca.text import shorten

FORMATS = ("table", "json", "sarif", "pulumi")


def _apply_mode(value: object) -> str:
    return apply_mode(value) if value in (True, False, None) else str(value)


def _resource_label(urn: str) -> str:
    if not urn:
        return "stack"
    parts = urn.split("::")
    return f"{parts[2].rsplit('$', 1)[-1]}: {parts[3]}" if len(parts) >= 4 else urn


def _shown(value: Any) -> str:
    return "(unset)" if value is None else json.dumps(value)


def _echo_lines(text: str, indent: str) -> None:
    # Messages come from a program or a pack: each line printed with control characters escaped.
    for line in text.splitlines() or [""]:
        click.echo(f"{indent}{printable(line)}")


# -- table ---------------------------------------------------------------------------------------------------------


def _print_policies(report: CheckReport) -> None:
    policy = report.policy
    assert policy is not None
    click.echo("")
    click.echo("Policies:")
    descriptions = {p["name"]: p.get("description") for p in policy.policies}
    for pack in policy.packs:
        click.echo(printable(f"    {pack.name}@v{pack.version}: {report.pack_status(pack.blocked)}"))
        # One entry per resource and problem, its message short (the policy's description and the command line
        # outside Pulumi left out): --format json has every policy's whole message, --format pulumi the CLI's view.
        for d in findings.merge(d for d in report.diagnostics if d["pack"] == pack.name):
            label = _resource_label(d["urn"])
            click.echo(printable(f"        - [{d['level']}]  {', '.join(d['policies'])}  ({label})"))
            _echo_lines(findings.short_message(d["message"], descriptions.get(d["policy"])), "          ")
    if report.remediations:
        click.echo("    Remediations:")
        for r in report.remediations:
            click.echo(printable(f"        - [remediate]  {r['policy']}  ({_resource_label(r['urn'])})"))
            for change in r["changes"]:
                before, after = (_shown(change[k]) for k in ("before", "after"))
                click.echo(printable(f"          {change['property']}: {before} => {after}"))


def _table_row(db: DatabaseRow) -> list[str]:
    engine = " ".join(x for x in (db.engine, db.engine_version) if x) or "?"
    ca = shorten(str(db.ca)) if db.ca is not None else "(account default)"
    cells = [db.name, db.kind, db.region or "?", engine, ca, _apply_mode(db.apply_immediately), db.restart, db.status]
    # Names and values come from the program: escaped, so that none can restyle the terminal.
    return [printable(str(cell)) for cell in cells]


def print_table(report: CheckReport) -> None:
    click.echo(printable(f"Program {report.program} (stack {report.stack}): {len(report.databases)} database(s)"))
    if report.databases:
        echo_table(check_columns("DATABASE"), [_table_row(db) for db in report.databases])
    if report.policy is not None:
        _print_policies(report)
    else:
        for db in report.findings:
            click.echo(printable(f"finding: {db.name}: {db.message}"))
    for line in findings.set_aside_lines(report.suppressed, report.hidden):
        click.echo(printable(line))


# -- SARIF ---------------------------------------------------------------------------------------------------------

#: Rules for a check without a policy pack: the catalog's verdicts, as ``rdsca audit --format sarif`` reports them.
CATALOG_RULES = sarif.ca_rules("check", catalog.ROTATION_GUIDE)


def _location(report: CheckReport, urn: str) -> dict[str, Any]:
    source = report.sources.get(urn)
    if source:
        path, line = Path(unquote(urlparse(source["uri"]).path)), int(source.get("line") or 1)
    else:
        path, line = Path(report.program) / "Pulumi.yaml", 1
    return sarif.location(path, line, urn or None)


def to_sarif(report: CheckReport) -> dict[str, Any]:
    """SARIF 2.1.0, each result located where the program registered the resource (the SDK sends the source
    position with every registration). With a pack: one rule per policy, one result per diagnostic. Without:
    the findings that decide the exit code, one rule per kind of verdict."""
    policy = report.policy
    if policy is None:
        results = []
        for db in report.findings:
            assert db.verdict is not None
            rule = CATALOG_RULES["refused" if db.verdict.status is catalog.Status.REFUSED else "retired"]
            message = f"{_resource_label(db.urn)}: {db.message}"
            results.append(sarif.result(rule.id, rule.level, message, [_location(report, db.urn)]))
        # Without a pack the rules are the catalog's verdicts: a refused CA's, or any other's.
        results += _suppressed_results(report, lambda policy: CATALOG_RULES[
            "refused" if policy == "rds-ca-engine-support" else "retired"].id)
        return sarif.document(f"rdsca-check/{report.stack}", list(CATALOG_RULES.values()), results)
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
        sarif.result(d["policy"], sarif.LEVEL.get(d["level"], "warning"), findings.cited(d),
                     [_location(report, d["urn"])])
        for d in findings.merge(report.diagnostics)
    ]
    return sarif.document(f"rdsca-check/{policy.pack}/{report.stack}", rules, results + _suppressed_results(report))


def _suppressed_results(report: CheckReport, rule_id: Callable[[str], str] = str) -> list[dict[str, Any]]:
    """Findings set aside, each with its SARIF suppression (code scanning shows them as suppressed)."""
    results = []
    for d in report.suppressed:
        found = sarif.result(rule_id(d["policy"]), sarif.LEVEL.get(d["level"], "warning"), d["message"],
                             [_location(report, d["urn"])])
        found["suppressions"] = [sarif.suppression(d["suppressed"])]
        results.append(found)
    return results


# -- the Pulumi CLI's policy section -------------------------------------------------------------------------------
# Read from pulumi/pulumi at 1b5949891b3c (2026-08-21): pkg/backend/display/progress.go (printPolicies),
# diff.go (renderDiffPolicyViolationEvent, renderDiffPolicyRemediationEvent, policyResourceClause), rows.go
# (writeShortDiff), sdk/go/common/tokens/tokens.go (Type.DisplayName) and pkg/engine/update.go (abbreviateFilePath).


def display_name(token: str) -> str:
    """``aws:rds/instance:Instance`` -> ``aws:rds:Instance``: the module path cut at its last slash when what
    follows is the type's name in camel case, as ``tokens.Type.DisplayName`` does; otherwise the token itself."""
    parts = token.split(":")
    if len(parts) != 3 or not parts[2] or "/" not in parts[1]:
        return token
    module, _, file = parts[1].rpartition("/")
    if file != parts[2][:1].lower() + parts[2][1:]:
        return token
    return f"{parts[0]}:{module}:{parts[2]}"


def _clause(urn: str) -> str:
    """``  (type: name)`` for a policy event's resource; nothing for an empty URN."""
    parts = urn.split("::")
    if len(parts) < 4:
        return ""
    return f"  ({display_name(parts[2].rsplit('$', 1)[-1])}: {parts[3]})"


def abbreviate_path(path: str) -> str:
    """How the CLI names a local pack: cleaned, and a path over 75 characters shortened to its first two and
    last two parts."""
    path = os.path.normpath(path)
    if len(path) > 75:
        parts = path.split("/")
        if len(parts) > 4:
            path = "/".join([*parts[:2], "...", *parts[-2:]])
    return path


def _short_diff(changes: list[dict[str, Any]]) -> str:
    adds = sorted(c["property"] for c in changes if c["before"] is None)
    deletes = sorted(c["property"] for c in changes if c["after"] is None and c["before"] is not None)
    updates = sorted(c["property"] for c in changes if c["before"] is not None and c["after"] is not None)
    groups = (("+", adds), ("-", deletes), ("~", updates))
    return "diff: " + "".join(f"{sign}{','.join(keys)}" for sign, keys in groups if keys)


def _pack_mark(diagnostics: list[dict[str, Any]]) -> str:
    levels = {d["level"] for d in diagnostics}
    return "❌" if "mandatory" in levels else ("⚠️" if levels else "✅")


def print_pulumi(report: CheckReport, pack_paths: Sequence[str], show_remediations: bool = False) -> None:
    """The ``Policies:`` section of ``pulumi preview --policy-pack PATH...`` (without colours), pack after pack."""
    policy = report.policy
    assert policy is not None
    click.echo("Policies:")
    indent = "        "
    paths = [*pack_paths, *[""] * len(policy.packs)][: len(policy.packs)]
    for pack, pack_path in zip(policy.packs, paths, strict=True):
        diagnostics = [d for d in report.diagnostics if d["pack"] == pack.name]
        remediations = [r for r in report.remediations if r.get("pack", pack.name) == pack.name]
        mark = _pack_mark(diagnostics)
        click.echo(printable(f"    {mark} {pack.name}@v{pack.version} (local: {abbreviate_path(pack_path)})"))
        if show_remediations:
            for r in remediations:
                line = f"{indent}- [remediate]  {r['policy']}{_clause(r['urn'])} [{_short_diff(r['changes'])}]"
                click.echo(printable(line))
        else:
            counts: dict[str, int] = {}
            for r in remediations:
                counts[r["policy"]] = counts.get(r["policy"], 0) + 1
            for name in sorted(counts):
                noun = "resource" if counts[name] == 1 else "resources"
                click.echo(printable(f"{indent}- [remediate]  {name}  ({counts[name]} {noun})"))
        for d in diagnostics:
            severity = f" [severity: {d['severity']}]" if d.get("severity") else ""
            click.echo(printable(f"{indent}- [{d['level']}]{severity}  {d['policy']}{_clause(d['urn'])}"))
            _echo_lines(d["message"].rstrip("\n"), f"{indent}  ")
    click.echo("")


# -- all formats ---------------------------------------------------------------------------------------------------


def print_check(
    report: CheckReport,
    fmt: str,
    pack_paths: Sequence[str] = (),
    show_remediations: bool = False,
    echo_warnings: bool = True,
) -> None:
    if fmt == "json":
        emit_json(report.to_json())
    elif fmt == "sarif":
        emit_json(to_sarif(report))
    elif fmt == "pulumi":
        print_pulumi(report, pack_paths, show_remediations)
    else:
        print_table(report)
        for entry in report.log:
            if entry["severity"] == "info":
                inform(f"info: {printable(entry['message'])}")
    if echo_warnings:
        for warning in report.warnings:
            warn(warning)
