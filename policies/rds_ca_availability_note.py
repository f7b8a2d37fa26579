"""rds-ca-availability-note: a CA that may not be available here, or needs extra set-up (advisory).

Covers the unconfirmed region restrictions in the catalog, engine caveats (Oracle and ECC384), and CAs that some
versions of the engine refuse when the version is not known (DocumentDB instances do not carry the version).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from rdsca import catalog
from rdsca.policies._common import MISSING, Subject, Unknown, remediation_steps, resource_policy

CONFIG: dict[str, dict[str, Any]] = {}


def judge(sub: Subject, config: Mapping[str, Any]) -> str | None:
    ca = sub.ca
    if ca is MISSING or isinstance(ca, Unknown) or sub.db_type is None:
        return None  # advisory: an unknown CA is left to rds-ca-retired's preview note
    verdict = sub.verdict()
    if verdict.status is not catalog.Status.OK:
        return None
    notes = list(verdict.warnings)
    patterns = catalog.refusing_versions(sub.engine, ca) if sub.engine_version is None else []
    if patterns:
        notes.append(
            f"{sub.engine} versions {', '.join(patterns)} refuse {ca} and the version is not known here: "
            "check the engine version"
        )
    return f"{sub.python_class} {sub.name}: " + "; ".join(notes) + "." if notes else None


policy = resource_policy(
    name="rds-ca-availability-note",
    description="A database's CA may be unavailable in its region or engine version, or need extra set-up.",
    judge=judge,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    config=CONFIG,
    steps=remediation_steps(f"If in doubt, use {catalog.RSA2048_G1}, which every region and engine supports."),
)
