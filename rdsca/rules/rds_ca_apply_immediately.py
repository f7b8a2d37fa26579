"""rds-ca-apply-immediately: a CA set with ``applyImmediately`` false or unset (disabled by default).

Without it the change waits for the next maintenance window (ModifyDBInstance ApplyImmediately). Disabled by
default: a configuration shows inputs, not whether the CA actually changes, and
``CertificateRotation(restart="avoid")`` defers restarting databases on purpose. Enable it (advisory) where every
change should land now.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rdsca.resources import MISSING, DatabaseView, FrontEnd, Unknown
from rdsca.rules._common import Rule, UnknownValue, label


def fix(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    return view.ca if isinstance(view.ca, str) else None


def _setting(view: DatabaseView, value: Any) -> str:
    """``apply_immediately`` with ``value``, as the user writes it in this front end."""
    if view.type.front_end is FrontEnd.TERRAFORM:
        text = str(value).lower() if isinstance(value, bool) else json.dumps(value, default=str)
        return f"apply_immediately = {text}"
    text = str(value) if isinstance(value, bool) else repr(value)
    return f"apply_immediately={text}"


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    if not view.type.database or view.type.fields.apply_immediately is None or not view.ca_is_set:
        return None
    if isinstance(view.apply_immediately, Unknown):
        raise UnknownValue(view.apply_immediately)
    if view.apply_immediately is True:
        return None
    value = view.apply_immediately
    how = "without apply_immediately" if value is MISSING else f"with {_setting(view, value)}"
    return (
        f"{label(view)}: the CA is set {how}, so the change waits for the next maintenance window. "
        f"Set {_setting(view, True)} to apply it now (engines that restart to rotate will restart)."
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
