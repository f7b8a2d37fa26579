"""The resource types of each front end (Pulumi wire names, Terraform attributes, AWS API members): the one table
of field names every front end reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdsca.resources.types import _CLUSTER_CLI, _DOCDB_CLI, Fields, FrontEnd, Kind, ResourceType


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
#: The clusters whose engine version their instances share (an Aurora instance may also name its own).
RDS_CLUSTER_TOKEN = "aws:rds/cluster:Cluster"
DOCDB_CLUSTER_TOKEN = "aws:docdb/cluster:Cluster"

RDS_CLUSTER_INSTANCE = _pulumi(
    "aws:rds/clusterInstance:ClusterInstance",
    Kind.AURORA_INSTANCE,
    "aws.rds.ClusterInstance",
    "ca_cert_identifier",
    fields={"cluster": "clusterIdentifier"},
    cluster_type=RDS_CLUSTER_TOKEN,
)
RDS_CLUSTER = _pulumi(
    RDS_CLUSTER_TOKEN,
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
    cluster_type=DOCDB_CLUSTER_TOKEN,
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
CLUSTER_TOKENS = frozenset({RDS_CLUSTER_TOKEN, DOCDB_CLUSTER_TOKEN})

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
            fields={"engine_version": None, "cluster": "cluster_identifier",
                    "rotation_restart": "certificate_rotation_restart"},
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
