"""The resources rdsca judges, their field names in each front end, and the one database view built from them.

Every front end (the Pulumi component and policies, ``rdsca check``, Terraform, the live-account scan) turns a
resource's type and properties into a ``DatabaseView`` with ``database_view``; nothing else works out engine,
version, region, kind or whether a CA applies. Field names: Pulumi wire (camelCase) names as transforms, mocks and
policies see them (pulumi-aws 7.51, pulumi-aws-native 1.84 schemas); Terraform attribute names (terraform-provider-aws
and awscc); AWS API member names (botocore's RDS model). Facts about CAs and engines come from ``rdsca.catalog``.

By role: ``types`` (what a resource type is), ``tables`` (the three front ends' types), ``values`` (markers for
missing, null and unknown values), ``view`` (the database view). This face re-exports them.
"""

from rdsca.resources.tables import (
    ACCOUNT_DEFAULT,
    ALL_TYPES,
    AWS_DB_CLUSTER,
    AWS_DB_INSTANCE,
    AWS_DB_PROXY,
    AWS_PROVIDER_TOKEN,
    CLUSTER_TOKENS,
    DOCDB_CLUSTER_INSTANCE,
    DOCDB_CLUSTER_TOKEN,
    ENGINE_VERSION_INVOKE,
    NATIVE_DB_INSTANCE,
    PULUMI_DATABASES,
    PULUMI_TYPES,
    RDS_CLUSTER,
    RDS_CLUSTER_INSTANCE,
    RDS_CLUSTER_TOKEN,
    RDS_INSTANCE,
    REGION_INVOKE,
    TERRAFORM_CLUSTER_FIELDS,
    TERRAFORM_DOCDB_CLUSTER,
    TERRAFORM_TYPES,
)
from rdsca.resources.types import ACCOUNT_DEFAULT_CLI, Fields, FrontEnd, Kind, ResourceType
from rdsca.resources.values import MISSING, NULL, Reader, Unknown, known_text, read_plain
from rdsca.resources.view import DatabaseView, database_view, resource_type

__all__ = [
    "ACCOUNT_DEFAULT",
    "ACCOUNT_DEFAULT_CLI",
    "ALL_TYPES",
    "AWS_DB_CLUSTER",
    "AWS_DB_INSTANCE",
    "AWS_DB_PROXY",
    "AWS_PROVIDER_TOKEN",
    "CLUSTER_TOKENS",
    "DOCDB_CLUSTER_INSTANCE",
    "DOCDB_CLUSTER_TOKEN",
    "ENGINE_VERSION_INVOKE",
    "MISSING",
    "NATIVE_DB_INSTANCE",
    "NULL",
    "PULUMI_DATABASES",
    "PULUMI_TYPES",
    "RDS_CLUSTER",
    "RDS_CLUSTER_INSTANCE",
    "RDS_CLUSTER_TOKEN",
    "RDS_INSTANCE",
    "REGION_INVOKE",
    "TERRAFORM_CLUSTER_FIELDS",
    "TERRAFORM_DOCDB_CLUSTER",
    "TERRAFORM_TYPES",
    "DatabaseView",
    "Fields",
    "FrontEnd",
    "Kind",
    "Reader",
    "ResourceType",
    "Unknown",
    "database_view",
    "known_text",
    "read_plain",
    "resource_type",
]
