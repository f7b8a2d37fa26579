"""rds-ca-engine-support: the database's engine (and version) refuses its CA.

RDS rejects the modification, for example SQL Server with ``rds-ca-ecc384-g1`` ("Version ... for DB engine
sqlserver-se doesn't support certificate rds-ca-ecc384-g1"), so the deployment would fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdsca import catalog
from rdsca.resources import MISSING, DatabaseView, Kind, Unknown
from rdsca.rules._common import TARGET_SCHEMA, Rule, UnknownValue, choose_ca, how_to_fix, label

#: CAs that some engine refuses: only for these does an unknown engine or version keep the judgement open.
REFUSED_SOMEWHERE = frozenset().union(*(fact.refuses for fact in catalog.ENGINE_FACTS))


def fix(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    if view.kind is Kind.AURORA_CLUSTER:
        return None  # no CA to write: the fix is to remove it, which is the user's to do
    return choose_ca(view, config, allowed=lambda ca_id: ca_id != view.ca)


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    if view.ca is MISSING:
        return None
    if view.kind is Kind.AURORA_CLUSTER:
        # ModifyDBCluster / CreateDBCluster: CACertificateIdentifier is "Valid for Cluster Type: Multi-AZ DB
        # clusters" (RDS API Reference); an Aurora cluster's CA is each of its instances' own.
        return (
            f"{label(view)}: an Aurora cluster takes no CA (AWS accepts {view.ca_property} only for Multi-AZ DB "
            f"clusters, so the deployment fails): remove it and set the CA on each of the cluster's instances."
        )
    if isinstance(view.ca, Unknown):
        # Only an engine that refuses some CA can refuse this one: otherwise there is nothing to wait for.
        if any(fact.refuses for fact in catalog.engine_facts(view.engine, view.engine_version)):
            raise UnknownValue(view.ca)
        return None
    verdict = view.verdict()
    if verdict.status is catalog.Status.REFUSED:
        return f"{label(view)}: {verdict.reason}. {how_to_fix(view, fix(view, config) or verdict.replacement)}"
    if verdict.status is catalog.Status.OK and view.ca in REFUSED_SOMEWHERE and view.unknowns:
        raise UnknownValue(view.unknowns[0])  # the engine or version decides, and it is not known yet
    return None


RULE = Rule(
    name="rds-ca-engine-support",
    description="A database's CA must be one its engine and version support.",
    level="mandatory",
    severity="high",
    config=TARGET_SCHEMA,
    steps=f"Choose a CA the engine supports: SQL Server and DocumentDB 3.6 refuse {catalog.ECC384_G1}; "
    f"{catalog.RSA2048_G1} is supported by every engine.",
    judge=judge,
    fix=fix,
    databases_only=True,
    aurora_clusters=True,
)
