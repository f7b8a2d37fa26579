"""rds-ca-availability-note: a CA that may not be available here, or needs extra set-up (advisory).

Covers the unconfirmed region restrictions in the catalog, engine caveats (Oracle and ECC384), and CAs that some
versions of the engine refuse when the version is not known (DocumentDB instances do not carry the version).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdsca import catalog
from rdsca.resources import MISSING, DatabaseView, Unknown
from rdsca.rules._common import Rule, label


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    ca = view.ca
    if ca is MISSING or isinstance(ca, Unknown) or not view.type.database:
        return None  # advisory: an unknown CA is left to rds-ca-retired's preview note
    verdict = view.verdict()
    if verdict.status is not catalog.Status.OK:
        return None
    notes = list(verdict.warnings)
    patterns = catalog.refusing_versions(view.engine, ca) if view.engine_version is None else []
    if patterns:
        notes.append(
            f"{view.engine} versions {', '.join(patterns)} refuse {ca} and the version is not known here: "
            "check the engine version"
        )
    return f"{label(view)}: " + "; ".join(notes) + "." if notes else None


RULE = Rule(
    name="rds-ca-availability-note",
    description="A database's CA may be unavailable in its region or engine version, or need extra set-up.",
    level="advisory",
    severity="low",
    config={},
    steps=f"If in doubt, use {catalog.RSA2048_G1}, which every region and engine supports.",
    judge=judge,
)
