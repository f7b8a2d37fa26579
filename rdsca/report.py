"""Rendering of ``rdsca check`` results."""

from __future__ import annotations

import click

from rdsca.output import emit_json, render_table
from rdsca.runner import CheckReport


def _apply_mode(value: object) -> str:
    if value is True:
        return "immediately"
    if value in (False, None):
        return "maintenance window"
    return str(value)


def print_check(report: CheckReport, fmt: str) -> None:
    if fmt == "json":
        emit_json(report.to_json())
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
    for db in report.findings:
        assert db.verdict is not None
        instead = f" Use {db.verdict.replacement}." if db.verdict.replacement else ""
        click.echo(f"finding: {db.name}: {db.verdict.reason}.{instead}")
    for entry in report.log:
        if entry["severity"] == "info":
            click.echo(f"info: {entry['message']}", err=True)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
