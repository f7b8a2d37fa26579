"""rds-ca-stack-state: after this update, the stack's databases or account default would still be on a bad CA.

Judged over each resource's state after the update (for a resource that already exists, the deployed state with
this update's inputs applied). It catches a database whose CA the configuration leaves unset while AWS still has
it on ``rds-ca-2019``, which no rule over inputs can see, and a DocumentDB instance on a CA its cluster's engine
version refuses (the instance does not carry the version). Values not known yet are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdsca.catalog import Status
from rdsca.resources import MISSING, DatabaseView, Unknown
from rdsca.rules._common import Rule, how_to_fix, label, setting


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    if view.ca is MISSING or isinstance(view.ca, Unknown):
        return None
    verdict = view.verdict()
    if verdict.status.invalid_ca:
        return (
            f"{label(view)}: its state after this update is {setting(view, view.type.ca_argument, view.ca)}: "
            f"{verdict.reason}. {how_to_fix(view, verdict.replacement)}"
        )
    if verdict.status is Status.REFUSED and view.version_from_cluster and view.engine_version:
        # A DocumentDB instance's engine version is its cluster's, and an Aurora instance that names none runs its
        # cluster's: only the whole stack shows both, so the resource rule cannot catch DocumentDB 3.6 or Aurora
        # MySQL 2.04 with ECC384, and this one does (AWS refuses it at deploy).
        fix = how_to_fix(view, verdict.replacement)
        return f"{label(view)}: {verdict.reason}, the engine version of its cluster. {fix}"
    return None


RULE = Rule(
    name="rds-ca-stack-state",
    description="After the update, no database or account default in the stack may be on a retired CA, or on one "
    "its cluster's engine version refuses.",
    level="mandatory",
    severity="critical",
    config={},
    steps="Set the CA explicitly in code: a database whose CA is unset keeps the one it has in AWS.",
    judge=judge,
    stack=True,
)
