"""Pulumi type tokens and property names of every database resource rdsca manages: one mapping per type.

Wire (camelCase) names are what transforms, mocks and policies see; Python names are what programs write.
Source: pulumi-aws 7.51 and pulumi-aws-native 1.84 schemas (see docs/rds-ca-facts in the design notes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class DatabaseType:
    token: str
    #: Human name used in output.
    kind: str
    #: The CA property as a transform or policy sees it (wire name) and as a Python program writes it.
    ca_property: str
    ca_argument: str
    apply_immediately: str | None = "applyImmediately"
    engine_property: str | None = "engine"
    version_property: str | None = "engineVersion"
    #: Engine assumed when the resource does not say (DocumentDB instances default to "docdb").
    default_engine: str | None = None
    #: ``certificateRotationRestart`` where the resource has it, and whether the provider types it as a string.
    rotation_restart_property: str | None = None
    rotation_restart_is_string: bool = False
    region_property: str | None = "region"
    #: Multi-AZ DB clusters carry a CA, Aurora clusters (engine ``aurora*``) do not: their CA is per instance.
    skip_engine_prefix: str | None = None
    #: The Python class as users write it, and the AWS CLI call that changes the CA of a database outside Pulumi.
    python_class: str = ""
    cli_modify: str = "aws rds modify-db-instance --db-instance-identifier {id}"
    #: The database's identifier in AWS, when the program names it (autonamed otherwise).
    identifier_property: str = "identifier"

    def cli_command(self, ca_id: str, identifier: str | None = None) -> str:
        modify = self.cli_modify.format(id=identifier or "NAME")
        return f"{modify} --ca-certificate-identifier {ca_id} --apply-immediately"


RDS_INSTANCE = DatabaseType(
    "aws:rds/instance:Instance",
    "RDS instance",
    "caCertIdentifier",
    "ca_cert_identifier",
    python_class="aws.rds.Instance",
)
RDS_CLUSTER_INSTANCE = DatabaseType(
    "aws:rds/clusterInstance:ClusterInstance",
    "Aurora instance",
    "caCertIdentifier",
    "ca_cert_identifier",
    python_class="aws.rds.ClusterInstance",
)
RDS_CLUSTER = DatabaseType(
    "aws:rds/cluster:Cluster",
    "Multi-AZ DB cluster",
    "caCertificateIdentifier",
    "ca_certificate_identifier",
    skip_engine_prefix="aurora",
    python_class="aws.rds.Cluster",
    cli_modify="aws rds modify-db-cluster --db-cluster-identifier {id}",
    identifier_property="clusterIdentifier",
)
DOCDB_CLUSTER_INSTANCE = DatabaseType(
    "aws:docdb/clusterInstance:ClusterInstance",
    "DocumentDB instance",
    "caCertIdentifier",
    "ca_cert_identifier",
    # The engine version lives on the docdb cluster, not the instance.
    version_property=None,
    default_engine="docdb",
    # Typed as a string ("true"/"false") in pulumi-aws 7.51.
    rotation_restart_property="certificateRotationRestart",
    rotation_restart_is_string=True,
    python_class="aws.docdb.ClusterInstance",
    cli_modify="aws docdb modify-db-instance --db-instance-identifier {id}",
)
NATIVE_DB_INSTANCE = DatabaseType(
    "aws-native:rds:DbInstance",
    "RDS instance (aws-native)",
    "caCertificateIdentifier",
    "ca_certificate_identifier",
    rotation_restart_property="certificateRotationRestart",
    python_class="aws_native.rds.DbInstance",
    identifier_property="dbInstanceIdentifier",
)

DATABASE_TYPES: Mapping[str, DatabaseType] = {
    t.token: t for t in (RDS_INSTANCE, RDS_CLUSTER_INSTANCE, RDS_CLUSTER, DOCDB_CLUSTER_INSTANCE, NATIVE_DB_INSTANCE)
}

#: The account's default CA for new launches (ModifyCertificates), one per region.
ACCOUNT_DEFAULT_TOKEN = "aws:rds/certificate:Certificate"
ACCOUNT_DEFAULT_PROPERTY = "certificateIdentifier"
ACCOUNT_DEFAULT_ARGUMENT = "certificate_identifier"
ACCOUNT_DEFAULT_CLASS = "aws.rds.Certificate"
#: ModifyCertificates: the override of the default CA for new launches in one region.
ACCOUNT_DEFAULT_CLI = "aws rds modify-certificates --certificate-identifier {ca} --region REGION"

AWS_PROVIDER_TOKEN = "pulumi:providers:aws"
ENGINE_VERSION_INVOKE = "aws:rds/getEngineVersion:getEngineVersion"
REGION_INVOKE = "aws:index/getRegion:getRegion"
