"""The one database view: a resource's type and properties turned into engine, version, region, kind and whether a
CA applies, for every front end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from rdsca import catalog
from rdsca.resources.tables import ALL_TYPES
from rdsca.resources.types import Kind, ResourceType
from rdsca.resources.values import MISSING, Reader, Unknown, known_text, read_plain

# -- the database view ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseView:
    """One resource as every judgement sees it."""

    type: ResourceType
    name: str
    kind: Kind
    #: The CA value: a string, ``MISSING``, ``NULL``, an ``Unknown`` or a malformed value (a number, a list).
    ca: Any
    engine: str | None
    engine_version: str | None
    region: str | None
    apply_immediately: Any = MISSING
    #: The database's identifier in AWS when the configuration names it (autonamed otherwise).
    identifier: str | None = None
    cluster: Any = MISSING
    rotation_restart: Any = MISSING
    #: Why no CA applies to this resource (Aurora cluster, RDS Custom, Neptune, proxies...), or None.
    not_applicable: str | None = None
    #: Why it cannot be told yet whether a CA applies (a cluster whose engine is unknown), or None.
    undecided: str | None = None
    #: Unknown values among engine, version and region: a judgement that needs them is provisional.
    unknowns: tuple[Unknown, ...] = ()
    #: The engine version is the cluster's (given by the caller), not one the resource itself carries.
    version_from_cluster: bool = False
    _verdicts: dict[Any, catalog.Verdict] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def applies(self) -> bool:
        return self.not_applicable is None and self.undecided is None

    @property
    def ca_is_set(self) -> bool:
        return self.ca is not MISSING and not isinstance(self.ca, Unknown)

    @property
    def ca_property(self) -> str:
        return self.type.fields.ca

    def verdict(self, today: Any = None) -> catalog.Verdict:
        """``catalog.evaluate`` for this CA (null counts as malformed, not unset). Needs a known CA. Kept per day
        asked (None: the clock's today at the first ask): every rule judging one resource asks it again."""
        found = self._verdicts.get(today)
        if found is None:
            assert not isinstance(self.ca, Unknown), "an unknown CA cannot be judged"
            ca = None if self.ca is MISSING else self.ca
            found = self._verdicts[today] = catalog.evaluate(ca, self.engine, self.engine_version, self.region, today)
        return found

    def with_ca(self, ca: Any) -> DatabaseView:
        return replace(self, ca=ca)


def resource_type(token: str) -> ResourceType | None:
    return ALL_TYPES.get(token)


def database_view(
    token: str | ResourceType,
    props: Mapping[str, Any],
    name: str,
    *,
    region: str | None = None,
    engine_version: str | None = None,
    read: Reader = read_plain,
) -> DatabaseView | None:
    """The view of one resource, or None when rdsca does not cover its type.

    ``region``: the region when the resource does not name its own (its provider's, else the stack's).
    ``engine_version``: the version when it lives elsewhere (the cluster of a DocumentDB or Aurora instance).
    ``read``: how this front end reads a property (its unknowns and secrets).
    """
    rtype = token if isinstance(token, ResourceType) else ALL_TYPES.get(token)
    if rtype is None:
        return None
    f = rtype.fields
    unknowns: list[Unknown] = []

    def value(name: str | None) -> Any:
        result = read(props, name) if name else MISSING
        if isinstance(result, Unknown):
            unknowns.append(result)
        return result

    engine_value = value(f.engine)
    if engine_value is MISSING:
        engine: str | None = rtype.default_engine
    elif isinstance(engine_value, Unknown):
        engine = None
    else:
        engine = known_text(engine_value) or rtype.default_engine
    version = engine_version if engine_version is not None else known_text(value(f.engine_version))
    own_region = known_text(value(f.region))
    kind, not_applicable, undecided = _kind(rtype, engine, version, isinstance(engine_value, Unknown), props, read)
    return DatabaseView(
        type=rtype,
        name=name,
        kind=kind,
        ca=read(props, f.ca),
        engine=engine,
        engine_version=version,
        region=own_region or region,
        apply_immediately=read(props, f.apply_immediately) if f.apply_immediately else MISSING,
        identifier=known_text(read(props, f.identifier)) if f.identifier else None,
        cluster=read(props, f.cluster) if f.cluster else MISSING,
        rotation_restart=read(props, f.rotation_restart) if f.rotation_restart else MISSING,
        not_applicable=not_applicable,
        undecided=undecided,
        unknowns=tuple(unknowns),
        version_from_cluster=engine_version is not None,
    )


def _kind(
    rtype: ResourceType, engine: str | None, version: str | None, engine_unknown: bool, props: Any, read: Reader
) -> tuple[Kind, str | None, str | None]:
    """(kind, why no CA applies, why it cannot be told yet)."""
    if rtype.kind is Kind.RDS_PROXY:
        return Kind.RDS_PROXY, catalog.PROXY_NOT_APPLICABLE, None
    if rtype.cluster_resource:
        return _cluster_kind(rtype, engine, engine_unknown, props, read)
    kind = _instance_kind(rtype, engine, props, read)
    if kind is Kind.MULTI_AZ_MEMBER:
        cluster = known_text(read(props, rtype.fields.cluster or ""))
        return kind, catalog.MULTI_AZ_MEMBER_NOT_APPLICABLE.format(cluster=cluster), None
    return kind, catalog.not_applicable(engine, version), None


def _cluster_kind(
    rtype: ResourceType, engine: str | None, engine_unknown: bool, props: Any, read: Reader
) -> tuple[Kind, str | None, str | None]:
    if engine is None:
        why = "the cluster's engine is not known yet, so it cannot be told whether it is a Multi-AZ DB cluster"
        return Kind.MULTI_AZ_CLUSTER, None, why + " (which carries a CA) or an Aurora cluster (which does not)"
    if rtype.kind_from_engine and read(props, "EngineMode") == "serverless":
        return Kind.SERVERLESS_V1_CLUSTER, catalog.SERVERLESS_V1_NOT_APPLICABLE, None
    if catalog.is_aurora(engine):
        return Kind.AURORA_CLUSTER, catalog.AURORA_CLUSTER_NOT_APPLICABLE, None
    if rtype.kind_from_engine and not known_text(read(props, "DBClusterInstanceClass")):
        # A DocumentDB or Neptune cluster listed by the RDS API: its instances carry the CA.
        return Kind.AURORA_CLUSTER, catalog.AURORA_CLUSTER_NOT_APPLICABLE, None
    return Kind.MULTI_AZ_CLUSTER, catalog.not_applicable(engine), None


_KIND_BY_ENGINE = {"docdb": Kind.DOCDB_INSTANCE, "neptune": Kind.NEPTUNE_INSTANCE}


def _instance_kind(rtype: ResourceType, engine: str | None, props: Any, read: Reader) -> Kind:
    if not rtype.kind_from_engine or engine is None:
        return rtype.kind
    if engine in _KIND_BY_ENGINE:
        return _KIND_BY_ENGINE[engine]
    if catalog.is_aurora(engine):
        return Kind.AURORA_INSTANCE
    if catalog.not_applicable(engine):
        return Kind.RDS_CUSTOM_INSTANCE
    if known_text(read(props, rtype.fields.cluster or "")):
        return Kind.MULTI_AZ_MEMBER
    return rtype.kind
