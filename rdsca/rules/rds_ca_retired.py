"""rds-ca-retired: a database or account default names a retired, unknown, malformed or expired CA.

``rds-ca-2019`` expired on 2024-08-22; AWS now answers ``CertificateNotFound`` for it and a deployment that names
it fails ("Certificate not found").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdsca import catalog
from rdsca.resources import MISSING, DatabaseView
from rdsca.rules._common import TARGET_SCHEMA, Rule, choose_ca, how_to_fix, label, need_ca


def fix(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    return choose_ca(view, config)


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    if need_ca(view) is MISSING:
        return None
    verdict = view.verdict()
    if not verdict.status.invalid_ca:
        return None
    return f"{label(view)}: {verdict.reason}. {how_to_fix(view, fix(view, config) or verdict.replacement)}"


RULE = Rule(
    name="rds-ca-retired",
    description="RDS, Aurora and DocumentDB databases must not name a retired, unknown or expired CA.",
    level="mandatory",
    severity="critical",
    config=TARGET_SCHEMA,
    steps=f"Replace the CA with a current one ({', '.join(catalog.CURRENT_CAS)}).",
    judge=judge,
    fix=fix,
)
