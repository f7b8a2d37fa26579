"""rds-ca-unset: a database that names no CA, so the account's default for new launches decides (advisory).

A new database then gets the region's default (``rds-ca-rsa2048-g1`` unless the account overrides it with
ModifyCertificates); an existing one keeps whatever CA it has, which the program cannot see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from rdsca import catalog
from rdsca.policies._common import MISSING, TARGET_SCHEMA, Subject, choose_ca, remediation_steps, resource_policy

CONFIG = TARGET_SCHEMA


def fix(sub: Subject, config: Mapping[str, Any]) -> str | None:
    return choose_ca(sub, config)


def judge(sub: Subject, config: Mapping[str, Any]) -> str | None:
    if sub.db_type is None or sub.ca is not MISSING:
        return None
    verdict = sub.verdict()
    if verdict.status is not catalog.Status.UNSET:
        return None  # e.g. RDS Custom, which ignores the setting
    return (
        f"{sub.python_class} {sub.name}: {verdict.reason}; an existing database keeps the CA it has. "
        f"{sub.fix(fix(sub, config))}"
    )


policy = resource_policy(
    name="rds-ca-unset",
    description="A database should name its CA rather than leave it to the account default.",
    judge=judge,
    fix=fix,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    config=CONFIG,
    steps=remediation_steps("Name the CA explicitly."),
)
