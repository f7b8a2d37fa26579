"""The resources rdsca judges, their field names in each front end, and the one database view built from them.

Every front end (the Pulumi component and policies, ``rdsca check``, Terraform, the live-account scan) turns a
resource's type and properties into a ``DatabaseView`` with ``database_view``; nothing else works out engine,
version, region, kind or whether a CA applies. Field names: Pulumi wire (camelCase) names as transforms, mocks and
policies see them (pulumi-aws 7.51, pulumi-aws-native 1.84 schemas); Terraform attribute names (terraform-provider-aws
and awscc); AWS API member names (botocore's RDS model). Facts about CAs and engines come from ``rdsca.catalog``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from rdsca import catalog


class Kind(str, enum.Enum):
    """What a resource is, as people call it."""

    RDS_INSTANCE = "RDS instance"
    AURORA_INSTANCE = "Aurora instance"
    MULTI_AZ_CLUSTER = "Multi-AZ DB cluster"
    DOCDB_INSTANCE = "DocumentDB instance"
    NATIVE_RDS_INSTANCE = "RDS instance (aws-native)"
    ACCOUNT_DEFAULT = "account default CA"
    AURORA_CLUSTER = "Aurora cluster"
    MULTI_AZ_MEMBER = "Multi-AZ cluster member"
    NEPTUNE_INSTANCE = "Neptune instance"
    RDS_CUSTOM_INSTANCE = "RDS Custom instance"
    SERVERLESS_V1_CLUSTER = "Aurora Serverless v1 cluster"
    RDS_PROXY = "RDS Proxy"

    def __str__(self) -> str:
        return self.value


class FrontEnd(str, enum.Enum):
    PULUMI = "pulumi"
    TERRAFORM = "terraform"
    AWS = "aws"


@dataclass(frozen=True)
class Fields:
    """The names one resource type gives to what rdsca reads, in one front end (None: the type has no such field).
    AWS API names may be dotted paths into nested members (``CertificateDetails.CAIdentifier``)."""

    ca: str
    apply_immediately: str | None = None
    engine: str | None = None
    engine_version: str | None = None
    region: str | None = None
    identifier: str | None = None
    #: The cluster an instance belongs to (DocumentDB instances take their engine version from it).
    cluster: str | None = None
    rotation_restart: str | None = None


@dataclass(frozen=True)
class ResourceType:
    token: str
    front_end: FrontEnd
    kind: Kind
    fields: Fields
    #: How users write the type (``aws.rds.Instance``, ``aws_db_instance``) and its CA argument.
    display: str
    ca_argument: str
    #: Engine assumed when the resource does not say (DocumentDB instances default to "docdb").
    default_engine: str | None = None
    #: A DB cluster resource: Multi-AZ DB clusters carry a CA, Aurora clusters (``catalog.is_aurora``) do not.
    cluster_resource: bool = False
    #: ``certificateRotationRestart`` is typed as a string ("true"/"false") in pulumi-aws 7.51.
    rotation_restart_is_string: bool = False
    #: The kind follows the engine (the AWS API lists every engine's instances with one shape).
    kind_from_engine: bool = False
    #: The AWS CLI call that changes the CA of a database outside the IaC tool ({id}: its identifier).
    cli_modify: str = "aws rds modify-db-instance --db-instance-identifier {id}"
    #: The resource type of the cluster that the ``cluster`` field names (where an instance's engine version lives
    #: when it sets none), for front ends that resolve it from the configuration (Terraform).
    cluster_type: str | None = None

    @property
    def database(self) -> bool:
        """False for the account default (``aws.rds.Certificate``), which is a setting, not a database."""
        return self.kind is not Kind.ACCOUNT_DEFAULT

    def cli_command(self, ca_id: str, identifier: str | None = None) -> str:
        if not self.database:
            return ACCOUNT_DEFAULT_CLI.format(ca=ca_id)
        modify = self.cli_modify.format(id=identifier or "NAME")
        return f"{modify} --ca-certificate-identifier {ca_id} --apply-immediately"


#: ModifyCertificates: the override of the default CA for new launches in one region.
ACCOUNT_DEFAULT_CLI = "aws rds modify-certificates --certificate-identifier {ca} --region REGION"
_INSTANCE_CLI = "aws rds modify-db-instance --db-instance-identifier {id}"
_CLUSTER_CLI = "aws rds modify-db-cluster --db-cluster-identifier {id}"
_DOCDB_CLI = "aws docdb modify-db-instance --db-instance-identifier {id}"


def _pulumi(token: str, kind: Kind, display: str, ca: str, **extra: Any) -> ResourceType:
    names = {"ca_certificate_identifier": "caCertificateIdentifier", "ca_cert_identifier": "caCertIdentifier"}
    field_names = {
        "apply_immediately": "applyImmediately",
        "engine": "engine",
        "engine_version": "engineVersion",
        "region": "region",
        "identifier": "identifier",
        **extra.pop("fields", {}),
    }
    return ResourceType(token, FrontEnd.PULUMI, kind, Fields(names[ca], **field_names), display, ca, **extra)


# -- Pulumi (pulumi-aws 7.51, pulumi-aws-native 1.84) ---------------------------------------------------------------

RDS_INSTANCE = _pulumi("aws:rds/instance:Instance", Kind.RDS_INSTANCE, "aws.rds.Instance", "ca_cert_identifier")
RDS_CLUSTER_INSTANCE = _pulumi(
    "aws:rds/clusterInstance:ClusterInstance",
    Kind.AURORA_INSTANCE,
    "aws.rds.ClusterInstance",
    "ca_cert_identifier",
    fields={"cluster": "clusterIdentifier"},
)
RDS_CLUSTER = _pulumi(
    "aws:rds/cluster:Cluster",
    Kind.MULTI_AZ_CLUSTER,
    "aws.rds.Cluster",
    "ca_certificate_identifier",
    fields={"identifier": "clusterIdentifier"},
    cluster_resource=True,
    cli_modify=_CLUSTER_CLI,
)
DOCDB_CLUSTER_INSTANCE = _pulumi(
    "aws:docdb/clusterInstance:ClusterInstance",
    Kind.DOCDB_INSTANCE,
    "aws.docdb.ClusterInstance",
    "ca_cert_identifier",
    # The engine version lives on the DocumentDB cluster, not the instance.
    fields={"engine_version": None, "cluster": "clusterIdentifier", "rotation_restart": "certificateRotationRestart"},
    default_engine="docdb",
    rotation_restart_is_string=True,
    cli_modify=_DOCDB_CLI,
)
NATIVE_DB_INSTANCE = _pulumi(
    "aws-native:rds:DbInstance",
    Kind.NATIVE_RDS_INSTANCE,
    "aws_native.rds.DbInstance",
    "ca_certificate_identifier",
    fields={"identifier": "dbInstanceIdentifier", "rotation_restart": "certificateRotationRestart"},
)
ACCOUNT_DEFAULT = ResourceType(
    "aws:rds/certificate:Certificate",
    FrontEnd.PULUMI,
    Kind.ACCOUNT_DEFAULT,
    Fields("certificateIdentifier", region="region"),
    "aws.rds.Certificate",
    "certificate_identifier",
)
#: The DocumentDB cluster, whose engine version its instances share.
DOCDB_CLUSTER_TOKEN = "aws:docdb/cluster:Cluster"

PULUMI_DATABASES: Mapping[str, ResourceType] = {
    t.token: t for t in (RDS_INSTANCE, RDS_CLUSTER_INSTANCE, RDS_CLUSTER, DOCDB_CLUSTER_INSTANCE, NATIVE_DB_INSTANCE)
}
PULUMI_TYPES: Mapping[str, ResourceType] = {**PULUMI_DATABASES, ACCOUNT_DEFAULT.token: ACCOUNT_DEFAULT}

AWS_PROVIDER_TOKEN = "pulumi:providers:aws"
ENGINE_VERSION_INVOKE = "aws:rds/getEngineVersion:getEngineVersion"
REGION_INVOKE = "aws:index/getRegion:getRegion"


# -- Terraform (terraform-provider-aws 5.x/6.x, awscc) ----------------------------------------------------------------


def _terraform(token: str, kind: Kind, ca: str, **extra: Any) -> ResourceType:
    field_names = {
        "apply_immediately": "apply_immediately",
        "engine": "engine",
        "engine_version": "engine_version",
        "region": "region",
        "identifier": "identifier",
        **extra.pop("fields", {}),
    }
    return ResourceType(token, FrontEnd.TERRAFORM, kind, Fields(ca, **field_names), token, ca, **extra)


#: The DocumentDB cluster, whose engine version its instances share.
TERRAFORM_DOCDB_CLUSTER = "aws_docdb_cluster"

TERRAFORM_TYPES: Mapping[str, ResourceType] = {
    t.token: t
    for t in (
        _terraform("aws_db_instance", Kind.RDS_INSTANCE, "ca_cert_identifier"),
        _terraform(
            "aws_rds_cluster_instance",
            Kind.AURORA_INSTANCE,
            "ca_cert_identifier",
            fields={"cluster": "cluster_identifier"},
            cluster_type="aws_rds_cluster",
        ),
        _terraform(
            "aws_rds_cluster",
            Kind.MULTI_AZ_CLUSTER,
            "ca_certificate_identifier",
            fields={"identifier": "cluster_identifier"},
            cluster_resource=True,
            cli_modify=_CLUSTER_CLI,
        ),
        _terraform(
            "aws_docdb_cluster_instance",
            Kind.DOCDB_INSTANCE,
            "ca_cert_identifier",
            # engine_version is computed on the instance (terraform-provider-aws docdb cluster_instance.go): the
            # configuration's version is the cluster's.
            fields={"engine_version": None, "cluster": "cluster_identifier"},
            default_engine="docdb",
            cli_modify=_DOCDB_CLI,
            cluster_type=TERRAFORM_DOCDB_CLUSTER,
        ),
        _terraform(
            "awscc_rds_db_instance",
            Kind.RDS_INSTANCE,
            "ca_certificate_identifier",
            # The awscc documentation read lists no apply_immediately (CloudFormation's DBInstance added
            # ApplyImmediately later: pulumi-aws-native 1.84 has it), so rdsca neither reads nor writes it.
            fields={
                "identifier": "db_instance_identifier",
                "rotation_restart": "certificate_rotation_restart",
                "apply_immediately": None,
            },
        ),
        ResourceType(
            "aws_rds_certificate",
            FrontEnd.TERRAFORM,
            Kind.ACCOUNT_DEFAULT,
            Fields("certificate_identifier", region="region"),
            "aws_rds_certificate",
            "certificate_identifier",
        ),
    )
}
#: What Terraform reads from the cluster an instance names: ``aws_rds_cluster`` and ``aws_docdb_cluster`` both carry
#: ``cluster_identifier`` and ``engine_version``.
TERRAFORM_CLUSTER_FIELDS = Fields("-", engine_version="engine_version", identifier="cluster_identifier")


# -- AWS API (botocore's RDS model: DescribeDBInstances, DescribeDBClusters, DescribeDBProxies) ----------------------

AWS_DB_INSTANCE = ResourceType(
    "DBInstance",
    FrontEnd.AWS,
    Kind.RDS_INSTANCE,
    Fields(
        "CACertificateIdentifier",
        engine="Engine",
        engine_version="EngineVersion",
        identifier="DBInstanceIdentifier",
        cluster="DBClusterIdentifier",
    ),
    "DB instance",
    "CACertificateIdentifier",
    kind_from_engine=True,
)
# A DBCluster has no CACertificateIdentifier member: its CA is in CertificateDetails (botocore's DBCluster shape).
AWS_DB_CLUSTER = ResourceType(
    "DBCluster",
    FrontEnd.AWS,
    Kind.MULTI_AZ_CLUSTER,
    Fields(
        "CertificateDetails.CAIdentifier",
        engine="Engine",
        engine_version="EngineVersion",
        identifier="DBClusterIdentifier",
    ),
    "DB cluster",
    "CACertificateIdentifier",
    cluster_resource=True,
    kind_from_engine=True,
    cli_modify=_CLUSTER_CLI,
)
AWS_DB_PROXY = ResourceType(
    "DBProxy",
    FrontEnd.AWS,
    Kind.RDS_PROXY,
    Fields("-", engine="EngineFamily", identifier="DBProxyName"),
    "DB proxy",
    "-",
)

ALL_TYPES: Mapping[str, ResourceType] = {
    **PULUMI_TYPES,
    **TERRAFORM_TYPES,
    **{t.token: t for t in (AWS_DB_INSTANCE, AWS_DB_CLUSTER, AWS_DB_PROXY)},
}


# -- values --------------------------------------------------------------------------------------------------------


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


class _Null:
    """A property present with the value null (the Pulumi SDK drops None inputs; other tools may not)."""

    def __repr__(self) -> str:
        return "null"


#: A property that is absent. ``NULL``: present and null.
MISSING: Any = _Missing()
NULL: Any = _Null()


@dataclass(frozen=True)
class Unknown:
    """A value not known yet (computed during a preview or plan). ``payload`` is what the front end keeps with it:
    the policy SDK's ``UnknownValueError``, a Terraform expression, the property path."""

    payload: Any = None
    #: Why it is not known, for people ("computed by another resource", "var.ca has no default").
    reason: str = ""


#: ``read(props, name) -> value | MISSING | NULL | Unknown``: how a front end reads one property.
Reader = Callable[[Mapping[str, Any], str], Any]


def read_plain(props: Mapping[str, Any], name: str) -> Any:
    """A property of already-normalised values (dotted names walk nested mappings)."""
    value: Any = props
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return NULL if value is None else value


def known_text(value: Any) -> str | None:
    """A value as a non-empty string, or None (missing, null, unknown, another type, empty)."""
    return value if isinstance(value, str) and value else None


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
        """``catalog.evaluate`` for this CA (null counts as malformed, not unset). Needs a known CA."""
        assert not isinstance(self.ca, Unknown), "an unknown CA cannot be judged"
        ca = None if self.ca is MISSING else self.ca
        return catalog.evaluate(ca, self.engine, self.engine_version, self.region, today)

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
    ``engine_version``: the version when it lives elsewhere (a DocumentDB instance's cluster).
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


__all__ = [
    "ACCOUNT_DEFAULT",
    "ALL_TYPES",
    "MISSING",
    "NULL",
    "PULUMI_DATABASES",
    "PULUMI_TYPES",
    "TERRAFORM_CLUSTER_FIELDS",
    "TERRAFORM_TYPES",
    "DatabaseView",
    "Fields",
    "FrontEnd",
    "Kind",
    "ResourceType",
    "Unknown",
    "database_view",
    "known_text",
    "read_plain",
]
