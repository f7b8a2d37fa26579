"""rds-ca-restart-pending (issue 25.4): a CA change made without a restart leaves the old certificate served."""

from __future__ import annotations

from .harness import Pack

NAME = "rds-ca-restart-pending"
DOCDB = "aws:docdb/clusterInstance:ClusterInstance"
NATIVE = "aws-native:rds:DbInstance"


def test_docdb_without_restart_is_restart_pending() -> None:
    props = {"clusterIdentifier": "docs", "identifier": "docs-0", "caCertIdentifier": "rds-ca-rsa2048-g1",
             "certificateRotationRestart": "false"}
    (diag,) = [d for d in Pack().analyze(DOCDB, props, name="docs-0") if d.policy == NAME]
    assert diag.level == "advisory"
    assert diag.message.endswith(
        "aws.docdb.ClusterInstance docs-0: restart-pending: with certificate_rotation_restart=\"false\" its CA changes "
        "to rds-ca-rsa2048-g1 but it keeps serving its old server certificate until it restarts, and clients that "
        "verify TLS against the new CA fail. Once the change is applied, reboot it: aws docdb reboot-db-instance "
        "--db-instance-identifier docs-0."
    )


def test_a_restart_or_no_ca_is_not_pending() -> None:
    for props in (
        {"caCertificateIdentifier": "rds-ca-rsa2048-g1", "certificateRotationRestart": True, "engine": "mysql"},
        {"caCertificateIdentifier": "rds-ca-rsa2048-g1", "engine": "mysql"},
        {"certificateRotationRestart": False, "engine": "mysql"},
    ):
        assert [d for d in Pack().analyze(NATIVE, props) if d.policy == NAME] == []
    pending = {"caCertificateIdentifier": "rds-ca-rsa2048-g1", "certificateRotationRestart": False, "engine": "mysql"}
    assert [d.policy for d in Pack().analyze(NATIVE, pending) if d.policy == NAME] == [NAME]
