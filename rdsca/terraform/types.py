"""Terraform resource types rdsca judges, with the attribute names it reads and writes.

Source: terraform-provider-aws resource docs (``aws_db_instance``, ``aws_rds_cluster_instance``, ``aws_rds_cluster``:
``ca_certificate_identifier`` "is only supported for Multi-AZ DB clusters", ``aws_docdb_cluster_instance``,
``aws_rds_certificate``) and terraform-provider-awscc ``awscc_rds_db_instance`` (``ca_certificate_identifier``,
``certificate_rotation_restart``, ``db_instance_identifier``; its schema lists no ``apply_immediately``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TerraformType:
    name: str
    #: The Pulumi type token of the same resource: the judgements and messages are shared with the Pulumi path.
    pulumi_token: str
    ca_attribute: str
    apply_attribute: str | None = "apply_immediately"
    identifier_attribute: str = "identifier"
    #: The attribute naming the cluster whose engine version an instance takes when it sets none.
    cluster_attribute: str | None = None
    #: Cluster resource types that ``cluster_attribute`` may reference.
    cluster_types: tuple[str, ...] = ()


DB_INSTANCE = TerraformType("aws_db_instance", "aws:rds/instance:Instance", "ca_cert_identifier")
CLUSTER_INSTANCE = TerraformType(
    "aws_rds_cluster_instance",
    "aws:rds/clusterInstance:ClusterInstance",
    "ca_cert_identifier",
    cluster_attribute="cluster_identifier",
    cluster_types=("aws_rds_cluster",),
)
MULTI_AZ_CLUSTER = TerraformType(
    "aws_rds_cluster", "aws:rds/cluster:Cluster", "ca_certificate_identifier", identifier_attribute="cluster_identifier"
)
DOCDB_INSTANCE = TerraformType(
    "aws_docdb_cluster_instance",
    "aws:docdb/clusterInstance:ClusterInstance",
    "ca_cert_identifier",
    cluster_attribute="cluster_identifier",
    cluster_types=("aws_docdb_cluster",),
)
ACCOUNT_DEFAULT = TerraformType(
    "aws_rds_certificate", "aws:rds/certificate:Certificate", "certificate_identifier", apply_attribute=None
)
AWSCC_DB_INSTANCE = TerraformType(
    "awscc_rds_db_instance",
    "aws-native:rds:DbInstance",
    "ca_certificate_identifier",
    apply_attribute=None,
    identifier_attribute="db_instance_identifier",
)

TYPES: dict[str, TerraformType] = {
    t.name: t
    for t in (DB_INSTANCE, CLUSTER_INSTANCE, MULTI_AZ_CLUSTER, DOCDB_INSTANCE, ACCOUNT_DEFAULT, AWSCC_DB_INSTANCE)
}
