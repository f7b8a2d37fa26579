"""Every AWS API member rdsca reads, and every request it sends, checked against botocore's service models."""

from __future__ import annotations

import botocore.session
import botocore.validate
import pytest

from rdsca.aws import rotate
from rdsca.resources import Kind

SESSION = botocore.session.get_session()
RDS = SESSION.get_service_model("rds")

#: (shape, dotted member path) pairs the scan reads.
READ = [
    ("DBInstance", "CACertificateIdentifier"),
    ("DBInstance", "CertificateDetails.CAIdentifier"),
    ("DBInstance", "CertificateDetails.ValidTill"),
    ("DBInstance", "PendingModifiedValues.CACertificateIdentifier"),
    ("DBInstance", "PreferredMaintenanceWindow"),
    ("DBInstance", "DBInstanceStatus"),
    ("DBInstance", "DBClusterIdentifier"),
    ("DBCluster", "CertificateDetails.CAIdentifier"),
    ("DBCluster", "CertificateDetails.ValidTill"),
    ("DBCluster", "PendingModifiedValues.CertificateDetails.CAIdentifier"),
    ("DBCluster", "DBClusterParameterGroup"),
    ("DBCluster", "PreferredMaintenanceWindow"),
    ("DBCluster", "Status"),
    ("DBCluster", "EngineMode"),
    ("DBCluster", "DBClusterInstanceClass"),
    ("PendingMaintenanceAction", "Action"),
    ("PendingMaintenanceAction", "OptInStatus"),
    ("PendingMaintenanceAction", "AutoAppliedAfterDate"),
    ("PendingMaintenanceAction", "CurrentApplyDate"),
    ("Certificate", "CustomerOverride"),
    ("Certificate", "ValidTill"),
    ("DBEngineVersion", "SupportedCACertificateIdentifiers"),
    ("DBEngineVersion", "SupportsCertificateRotationWithoutRestart"),
    ("Parameter", "ParameterName"),
    ("Parameter", "ParameterValue"),
]


@pytest.mark.parametrize(("shape", "path"), READ, ids=[f"{s}.{p}" for s, p in READ])
def test_every_member_read_is_in_the_model(shape: str, path: str) -> None:
    current = RDS.shape_for(shape)
    for part in path.split("."):
        assert part in current.members, f"{current.name} has no {part}"
        current = current.members[part]


def test_a_db_cluster_has_no_top_level_ca_and_modify_db_cluster_no_restart_flag() -> None:
    assert "CACertificateIdentifier" not in RDS.shape_for("DBCluster").members
    assert "CACertificateIdentifier" not in RDS.shape_for("ClusterPendingModifiedValues").members
    modify = RDS.operation_model("ModifyDBCluster").input_shape.members
    assert "CACertificateIdentifier" in modify and "CertificateRotationRestart" not in modify


def _change(kind: Kind, action: str, **extra: object) -> rotate.Change:
    return rotate.Change("us-east-1", kind, "db", "arn:aws:rds:us-east-1:1:db:db", "mysql", "rds-ca-2019",
                         "rds-ca-rsa2048-g1", action, False, "unknown", account="1", **extra)  # type: ignore[arg-type]


REQUESTS = {
    "modify-db-instance": _change(Kind.RDS_INSTANCE, rotate.MODIFY_INSTANCE),
    "modify-db-instance without restart": _change(Kind.RDS_INSTANCE, rotate.MODIFY_INSTANCE, no_restart=True),
    "modify-db-cluster (no restart asked)": _change(Kind.MULTI_AZ_CLUSTER, rotate.MODIFY_CLUSTER, no_restart=True),
    "apply-pending-maintenance": _change(Kind.RDS_INSTANCE, rotate.MAINTENANCE,
                                         maintenance_action="ca-certificate-rotation"),
    "reboot-db-instance": _change(Kind.RDS_INSTANCE, rotate.REBOOT_INSTANCE),
    "reboot-db-cluster": _change(Kind.MULTI_AZ_CLUSTER, rotate.REBOOT_CLUSTER),
}


@pytest.mark.parametrize("name", REQUESTS)
def test_every_request_sent_is_valid_for_its_operation(name: str) -> None:
    """What botocore would refuse client-side ("Unknown parameter CertificateRotationRestart") fails here first."""
    change = REQUESTS[name]
    operation = RDS.operation_model("".join(w.capitalize() for w in rotate.METHODS[change.action].split("_"))
                                    .replace("Db", "DB"))
    botocore.validate.validate_parameters(change.request(), operation.input_shape)


def test_the_other_services_members() -> None:
    account = SESSION.get_service_model("organizations").shape_for("Account").members
    assert {"Id", "Name", "State", "Status"} <= set(account)
    assume = SESSION.get_service_model("sts").operation_model("AssumeRole").input_shape.members
    assert {"RoleArn", "RoleSessionName", "ExternalId", "DurationSeconds"} <= set(assume)
    params = RDS.operation_model("DescribeDBClusterParameters").input_shape.members
    assert "Source" in params
