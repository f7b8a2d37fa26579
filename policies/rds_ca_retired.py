"""rds-ca-retired: a database or account default names a retired, unknown, malformed or expired CA.

``rds-ca-2019`` expired on 2024-08-22; AWS now answers ``CertificateNotFound`` for it and a deployment that names
it fails ("Certificate not found"). This policy stops that at preview, and can rewrite the CA.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from rdsca import catalog
from rdsca.policies._common import (
    MISSING,
    TARGET_SCHEMA,
    Subject,
    choose_ca,
    need_ca,
    remediation_steps,
    resource_policy,
)

#: The verdicts this policy (and the stack policy, over outputs) blocks.
BAD = frozenset({catalog.Status.RETIRED, catalog.Status.UNKNOWN, catalog.Status.EXPIRED})
CONFIG = TARGET_SCHEMA


def fix(sub: Subject, config: Mapping[str, Any]) -> str | None:
    return choose_ca(sub, config)


def judge(sub: Subject, config: Mapping[str, Any]) -> str | None:
    if need_ca(sub) is MISSING:
        return None
    verdict = sub.verdict()
    if verdict.status not in BAD:
        return None
    return f"{sub.python_class} {sub.name}: {verdict.reason}. {sub.fix(fix(sub, config) or verdict.replacement)}"


policy = resource_policy(
    name="rds-ca-retired",
    description="RDS, Aurora and DocumentDB databases must not name a retired, unknown or expired CA.",
    judge=judge,
    fix=fix,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    config=CONFIG,
    steps=remediation_steps(f"Replace the CA with a current one ({', '.join(catalog.CURRENT_CAS)})."),
)
