"""rds-ca-expiring: a current CA whose validity ends within ``days`` days (per region where the region is known)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from rdsca import catalog
from rdsca.policies._common import (
    MISSING,
    TARGET_SCHEMA,
    Subject,
    Unknown,
    choose_ca,
    remediation_steps,
    resource_policy,
)

CONFIG = {
    "days": {
        "type": "integer",
        "minimum": 0,
        "default": 180,
        "description": "Report a CA whose validity ends within this many days.",
    },
    **TARGET_SCHEMA,
}


def fix(sub: Subject, config: Mapping[str, Any]) -> str | None:
    return choose_ca(sub, config, allowed=lambda ca_id: ca_id != sub.ca, also=catalog.CURRENT_CAS)


def judge(sub: Subject, config: Mapping[str, Any]) -> str | None:
    if sub.ca is MISSING or isinstance(sub.ca, Unknown):
        return None  # advisory: an unknown CA is left to rds-ca-retired's preview note
    verdict = sub.verdict()
    days = config.get("days")
    if verdict.status is not catalog.Status.OK or verdict.days_left is None or not isinstance(days, int):
        return None
    if verdict.days_left > days or verdict.valid_until is None:
        return None
    where = f" in {sub.region}" if sub.region else ""
    return (
        f"{sub.python_class} {sub.name}: {sub.ca} expires on {verdict.valid_until.date().isoformat()}{where} "
        f"({verdict.days_left} days left, threshold {days}). {sub.fix(fix(sub, config))}"
    )


policy = resource_policy(
    name="rds-ca-expiring",
    description="A database's CA should not expire soon.",
    judge=judge,
    fix=fix,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    config=CONFIG,
    steps=remediation_steps("Move the database to a CA that is valid for longer."),
)
