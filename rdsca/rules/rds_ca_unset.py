"""rds-ca-unset: a database that names no CA, so the account's default for new launches decides (advisory).

A new database then gets the region's default (``rds-ca-rsa2048-g1`` unless the account overrides it with
ModifyCertificates); an existing one keeps whatever CA it has, which the configuration cannot see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdsca import catalog
from rdsca.resources import MISSING, DatabaseView
from rdsca.rules._common import TARGET_SCHEMA, Rule, choose_ca, how_to_fix, label


def fix(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    return choose_ca(view, config)


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    if not view.type.database or view.ca is not MISSING:
        return None
    verdict = view.verdict()
    if verdict.status is not catalog.Status.UNSET:
        return None  # e.g. RDS Custom, which ignores the setting
    return (
        f"{label(view)}: {verdict.reason}; an existing database keeps the CA it has. "
        f"{how_to_fix(view, fix(view, config))}"
    )


RULE = Rule(
    name="rds-ca-unset",
    description="A database should name its CA rather than leave it to the account default.",
    level="advisory",
    severity="low",
    config=TARGET_SCHEMA,
    steps="Name the CA explicitly.",
    judge=judge,
    fix=fix,
)
