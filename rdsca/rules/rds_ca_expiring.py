"""rds-ca-expiring: a current CA whose validity ends within ``days`` days (per region where the region is known)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdsca import catalog, clock
from rdsca.resources import MISSING, DatabaseView, Unknown
from rdsca.rules._common import TARGET_SCHEMA, Rule, choose_ca, how_to_fix, label

CONFIG = {
    "days": {
        "type": "integer",
        "minimum": 0,
        "default": clock.EXPIRING_DAYS,
        "description": "Report a CA whose validity ends within this many days.",
    },
    **TARGET_SCHEMA,
}


def fix(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    return choose_ca(view, config, allowed=lambda ca_id: ca_id != view.ca, also=catalog.CURRENT_CAS)


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    if view.ca is MISSING or isinstance(view.ca, Unknown):
        return None  # advisory: an unknown CA is left to rds-ca-retired's preview note
    verdict = view.verdict()
    days = config.get("days")
    if verdict.status is not catalog.Status.OK or verdict.days_left is None or not isinstance(days, int):
        return None
    if verdict.days_left > days or verdict.valid_until is None:
        return None
    where = f" in {view.region}" if view.region else ""
    return (
        f"{label(view)}: {view.ca} expires on {verdict.valid_until.date().isoformat()}{where} "
        f"({verdict.days_left} days left, threshold {days}). {how_to_fix(view, fix(view, config))}"
    )


RULE = Rule(
    name="rds-ca-expiring",
    description="A database's CA should not expire soon.",
    level="advisory",
    severity="medium",
    config=CONFIG,
    steps="Move the database to a CA that is valid for longer.",
    judge=judge,
    fix=fix,
)
