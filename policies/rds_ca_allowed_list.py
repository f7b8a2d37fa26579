"""rds-ca-allowed-list: an organisation's own list of allowed CAs (off until ``allowedCas`` is configured)."""

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

CONFIG = {
    "allowedCas": {
        "type": "array",
        "items": {"type": "string", "enum": list(catalog.CURRENT_CAS)},
        "uniqueItems": True,
        "default": [],
        "description": "The CAs databases may use; empty (the default) allows every current CA.",
    },
    **TARGET_SCHEMA,
}


def _allowed(config: Mapping[str, Any]) -> list[str]:
    value = config.get("allowedCas")
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def fix(sub: Subject, config: Mapping[str, Any]) -> str | None:
    allowed = _allowed(config)
    return choose_ca(sub, config, allowed=lambda ca_id: ca_id in allowed, also=tuple(allowed))


def judge(sub: Subject, config: Mapping[str, Any]) -> str | None:
    allowed = _allowed(config)
    if not allowed:
        return None
    ca = need_ca(sub)
    if ca is MISSING or ca in allowed:
        return None
    shown = ca if isinstance(ca, str) else repr(ca)
    listed = ", ".join(allowed)
    return f"{sub.python_class} {sub.name}: {shown} is not in the allowed list ({listed}). {sub.fix(fix(sub, config))}"


policy = resource_policy(
    name="rds-ca-allowed-list",
    description="A database's CA must be one the organisation allows.",
    judge=judge,
    fix=fix,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config=CONFIG,
    steps=remediation_steps("Use a CA from the organisation's allowed list."),
)
