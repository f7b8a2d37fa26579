"""``rdsca list-rules``: every rule's id, severity, default level, the front ends that judge it, what it checks
and the checks of other scanners it overlaps (as ``checkov --list``)."""

from __future__ import annotations

from typing import Any

import click

from rdsca.cli.common import common_options


def rule_rows() -> list[dict[str, Any]]:
    from rdsca import rules
    from rdsca.aws.audit import POLICY_OF

    audited = set(POLICY_OF.values())
    rows = []
    for rule in rules.RULES:
        front_ends = ["check terraform"]
        if rule in (m.RULE for m in rules.MODULES):
            front_ends.insert(0, "check pulumi (policy pack)")
        elif rule.name == "rds-ca-undecided":
            front_ends.insert(0, "check pulumi")
        if rule.name in audited:
            front_ends.append("audit")
        rows.append({
            "id": rule.name, "severity": rule.severity, "level": rule.level, "front_ends": front_ends,
            "description": rule.description, "overlaps": dict(rules.OTHER_TOOLS.get(rule.name, {})),
        })
    return rows


@click.command("list-rules")
@common_options(("table", "json"))
def list_rules(fmt: str) -> None:
    """List rdsca's rules: the ids --check, --skip-check, suppressions and baselines name."""
    from rdsca.output import Column, emit_json, ident
    from rdsca.terminal import echo_table

    rows = rule_rows()
    if fmt == "json":
        emit_json({"rules": rows})
        return
    table = [[r["id"], r["severity"], r["level"], ", ".join(r["front_ends"]),
              ", ".join(f"{tool} {check}" for tool, check in r["overlaps"].items()) or "-"] for r in rows]
    # The other tools' checks go first on a narrow terminal, then the front ends (the JSON has both).
    columns = [ident("ID"), Column("SEVERITY"), Column("LEVEL"), Column("FRONT ENDS", elide=1, wrap=True),
               Column("OVERLAPS", elide=2, wrap=True)]
    echo_table(columns, table)
    click.echo("")
    for r in rows:
        click.echo(f"{r['id']}: {r['description']}")
