"""What rdsca knows of a resource type: its kind of database, the front end it belongs to and its field names."""

from __future__ import annotations

import enum
import shlex
from dataclasses import dataclass

#: ModifyCertificates: the override of the default CA for new launches in one region.
ACCOUNT_DEFAULT_CLI = "aws rds modify-certificates --certificate-identifier {ca} --region REGION"
_INSTANCE_CLI = "aws rds modify-db-instance --db-instance-identifier {id}"
_CLUSTER_CLI = "aws rds modify-db-cluster --db-cluster-identifier {id}"
_DOCDB_CLI = "aws docdb modify-db-instance --db-instance-identifier {id}"


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

    def cli_command(self, ca_id: str, identifier: str | None = None, apply_immediately: bool = True) -> str:
        """The AWS CLI command that makes the change outside the front end. Every value is shell-quoted: an
        identifier comes from a file or an account (``x; rm -rf ~ #`` must stay one argument when pasted)."""
        if not self.database:
            return ACCOUNT_DEFAULT_CLI.format(ca=shlex.quote(ca_id))
        modify = self.cli_modify.format(id=shlex.quote(identifier) if identifier else "NAME")
        when = "--apply-immediately" if apply_immediately else "--no-apply-immediately"
        return f"{modify} --ca-certificate-identifier {shlex.quote(ca_id)} {when}"
