"""rds-ca-allowed-list: an organisation's own list of allowed CAs (off until ``allowedCas`` is configured)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdsca import catalog
from rdsca.resources import MISSING, DatabaseView
from rdsca.rules._common import TARGET_SCHEMA, Rule, choose_ca, how_to_fix, label, need_ca

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


def fix(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    allowed = _allowed(config)
    return choose_ca(view, config, allowed=lambda ca_id: ca_id in allowed, also=tuple(allowed))


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    allowed = _allowed(config)
    if not allowed:
        return None
    ca = need_ca(view)
    if ca is MISSING or ca in allowed:
        return None
    shown = ca if isinstance(ca, str) else repr(ca)
    listed = ", ".join(allowed)
    return f"{label(view)}: {shown} is not in the allowed list ({listed}). {how_to_fix(view, fix(view, config))}"


RULE = Rule(
    name="rds-ca-allowed-list",
    description="A database's CA must be one the organisation allows.",
    level="mandatory",
    severity="high",
    config=CONFIG,
    steps="Use a CA from the organisation's allowed list.",
    judge=judge,
    fix=fix,
)
