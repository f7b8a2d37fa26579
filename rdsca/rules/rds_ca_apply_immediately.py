"""rds-ca-apply-immediately: a CA set with ``applyImmediately`` false or unset (disabled by default).

Without it the change waits for the next maintenance window (ModifyDBInstance ApplyImmediately). Disabled by
default: a configuration shows inputs, not whether the CA actually changes, and
``CertificateRotation(restart="avoid")`` defers restarting databases on purpose. Enable it (advisory) where every
change should land now.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdsca.resources import MISSING, DatabaseView, Unknown
from rdsca.rules._common import Rule, UnknownValue, label, setting


def fix(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    return view.ca if isinstance(view.ca, str) else None


#: How users write the setting, in Pulumi (Python) and Terraform alike.
_ARGUMENT = "apply_immediately"


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    if not view.type.database or view.type.fields.apply_immediately is None or not view.ca_is_set:
        return None
    if isinstance(view.apply_immediately, Unknown):
        raise UnknownValue(view.apply_immediately)
    if view.apply_immediately is True:
        return None
    value = view.apply_immediately
    how = "without apply_immediately" if value is MISSING else "with " + setting(view, _ARGUMENT, value)
    return (
        f"{label(view)}: the CA is set {how}, so the change waits for the next maintenance window. "
        f"Set {setting(view, _ARGUMENT, True)} to apply it now (engines that restart to rotate will restart)."
    )


RULE = Rule(
    name="rds-ca-apply-immediately",
    description="A database's CA change should be applied immediately, not in the maintenance window.",
    level="disabled",
    severity="low",
    config={},
    steps="Set apply_immediately together with the CA, so that the change does not wait for the maintenance window.",
    judge=judge,
    fix=fix,
    apply_immediately=True,
    databases_only=True,
)
