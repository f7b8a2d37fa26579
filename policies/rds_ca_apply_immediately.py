"""rds-ca-apply-immediately: a CA set with ``applyImmediately`` false or unset (disabled by default).

Without it the change waits for the next maintenance window (ModifyDBInstance ApplyImmediately). Disabled by
default: ``Analyze`` sees inputs, not whether the CA actually changes, and ``CertificateRotation(restart="avoid")``
defers restarting databases on purpose. Enable it (advisory) where every change should land now.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from rdsca.policies._common import MISSING, Subject, Unknown, remediation_steps, resource_policy
from rdsca.resources import DATABASE_TYPES

CONFIG: dict[str, dict[str, Any]] = {}


def fix(sub: Subject, config: Mapping[str, Any]) -> str | None:
    return sub.ca if isinstance(sub.ca, str) else None


def judge(sub: Subject, config: Mapping[str, Any]) -> str | None:
    if sub.db_type is None or not sub.db_type.apply_immediately or not sub.ca_is_set:
        return None
    if isinstance(sub.apply_immediately, Unknown):
        raise sub.apply_immediately.error
    if sub.apply_immediately is True:
        return None
    state = "unset" if sub.apply_immediately is MISSING else repr(sub.apply_immediately)
    return (
        f"{sub.python_class} {sub.name}: the CA is set but {sub.db_type.apply_immediately} is {state}, so the "
        "change waits for the next maintenance window. Set apply_immediately=True to apply it now (engines that "
        "restart to rotate will restart)."
    )


policy = resource_policy(
    name="rds-ca-apply-immediately",
    description="A database's CA change should be applied immediately, not in the maintenance window.",
    judge=judge,
    fix=fix,
    apply_immediately=True,
    enforcement_level=EnforcementLevel.DISABLED,
    severity=Severity.LOW,
    config=CONFIG,
    steps=remediation_steps("Set apply_immediately=True together with the CA."),
    types=frozenset(DATABASE_TYPES),
)
