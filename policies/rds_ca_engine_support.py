"""rds-ca-engine-support: the database's engine (and version) refuses its CA.

RDS rejects the modification, for example SQL Server with ``rds-ca-ecc384-g1`` ("Version ... for DB engine
sqlserver-se doesn't support certificate rds-ca-ecc384-g1"), so the deployment would fail.
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
    Unknown,
    choose_ca,
    remediation_steps,
    resource_policy,
)

CONFIG = TARGET_SCHEMA
#: CAs that some engine refuses: only for these does an unknown engine or version keep the judgement open.
REFUSED_SOMEWHERE = frozenset().union(*(fact.refuses for fact in catalog.ENGINE_FACTS))


def fix(sub: Subject, config: Mapping[str, Any]) -> str | None:
    return choose_ca(sub, config, allowed=lambda ca_id: ca_id != sub.ca)


def judge(sub: Subject, config: Mapping[str, Any]) -> str | None:
    if sub.db_type is None or sub.ca is MISSING:
        return None
    if isinstance(sub.ca, Unknown):
        # Only an engine that refuses some CA can refuse this one: otherwise there is nothing to wait for.
        if any(fact.refuses for fact in catalog.engine_facts(sub.engine, sub.engine_version)):
            raise sub.ca.error
        return None
    ca = sub.ca
    verdict = sub.verdict()
    if verdict.status is catalog.Status.REFUSED:
        return f"{sub.python_class} {sub.name}: {verdict.reason}. {sub.fix(fix(sub, config) or verdict.replacement)}"
    if verdict.status is catalog.Status.OK and ca in REFUSED_SOMEWHERE and sub.unknowns:
        raise sub.unknowns[0].error  # the engine or version decides, and preview cannot know it yet
    return None


policy = resource_policy(
    name="rds-ca-engine-support",
    description="A database's CA must be one its engine and version support.",
    judge=judge,
    fix=fix,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config=CONFIG,
    steps=remediation_steps(
        f"Choose a CA the engine supports: SQL Server and DocumentDB 3.6 refuse {catalog.ECC384_G1}; "
        f"{catalog.RSA2048_G1} is supported by every engine."
    ),
)
