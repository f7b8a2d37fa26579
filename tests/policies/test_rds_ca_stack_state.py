"""rds-ca-stack-state: resolved outputs after the update, including CAs the program leaves unset."""

from __future__ import annotations

from .harness import CERTIFICATE, CLUSTER, DOCDB_INSTANCE, INSTANCE, UNKNOWN, Diag, Pack

NAME = "rds-ca-stack-state"


def test_exact_sets(pack: Pack) -> None:
    resources = [
        (INSTANCE, "old-mysql", {"engine": "mysql", "caCertIdentifier": "rds-ca-2019"}),
        (INSTANCE, "new-pg", {"engine": "postgres", "caCertIdentifier": "rds-ca-rsa2048-g1"}),
        (INSTANCE, "planned", {"engine": "postgres", "caCertIdentifier": UNKNOWN}),
        (INSTANCE, "no-ca", {"engine": "postgres"}),
        (CLUSTER, "aurora", {"engine": "aurora-postgresql"}),
        (CLUSTER, "multi-az", {"engine": "postgres", "caCertificateIdentifier": "rds-ca-2015"}),
        (DOCDB_INSTANCE, "docs", {"caCertIdentifier": "rds-ca-2019"}),
        (CERTIFICATE, "default", {"certificateIdentifier": "rds-ca-2019"}),
        ("aws:s3/bucket:Bucket", "bucket", {"caCertIdentifier": "rds-ca-2019"}),
    ]
    diags = pack.analyze_stack(resources)
    assert {d.urn.rsplit("::", 1)[1] for d in diags} == {"old-mysql", "multi-az", "docs", "default"}
    assert {d.level for d in diags} == {"mandatory"}


def test_message(pack: Pack) -> None:
    (diag,) = pack.analyze_stack([(INSTANCE, "old", {"engine": "mysql", "caCertIdentifier": "rds-ca-2019"})])
    assert diag == Diag(
        NAME,
        "mandatory",
        "After the update, no database or account default in the stack may be on a retired CA, or on one its "
        "cluster's engine version refuses.\n"
        "aws.rds.Instance old: its state after this update is ca_cert_identifier=\"rds-ca-2019\": rds-ca-2019 is "
        "retired (expired on 2024-08-22); AWS answers CertificateNotFound and deployments naming it fail. "
        'Set ca_cert_identifier="rds-ca-rsa2048-g1", apply_immediately=True on aws.rds.Instance old (outside '
        "Pulumi: aws rds modify-db-instance --db-instance-identifier NAME --ca-certificate-identifier "
        "rds-ca-rsa2048-g1 --apply-immediately).",
        "urn:pulumi:dev::test::aws:rds/instance:Instance::old",
    )


def test_docdb_instance_on_a_ca_its_cluster_refuses(pack: Pack) -> None:
    """Only the stack shows an instance together with its cluster (the instance does not carry the version)."""
    cluster = "aws:docdb/cluster:Cluster"
    ecc = {"caCertIdentifier": "rds-ca-ecc384-g1"}
    resources = [
        (cluster, "old", {"engineVersion": "3.6.0", "clusterIdentifier": "old-docs"}),
        (cluster, "new", {"engineVersion": "5.0.0", "clusterIdentifier": "new-docs"}),
        (DOCDB_INSTANCE, "by-dependency", {**ecc, "clusterIdentifier": UNKNOWN}, {"clusterIdentifier": ["old"]}),
        (DOCDB_INSTANCE, "by-identifier", {**ecc, "clusterIdentifier": "old-docs"}),
        (DOCDB_INSTANCE, "on-5.0", {**ecc, "clusterIdentifier": UNKNOWN}, {"clusterIdentifier": ["new"]}),
        (DOCDB_INSTANCE, "cluster-elsewhere", {**ecc, "clusterIdentifier": "not-in-this-stack"}),
        # An autonamed cluster (no identifier) is never matched by an instance whose identifier is unknown.
        (cluster, "autonamed", {"engineVersion": "3.6.0"}),
        (DOCDB_INSTANCE, "no-link", {**ecc, "clusterIdentifier": UNKNOWN}),
    ]
    diags = pack.analyze_stack(resources)
    assert {d.urn.rsplit("::", 1)[1] for d in diags} == {"by-dependency", "by-identifier"}
    message = next(d.message for d in diags if d.urn.endswith("by-dependency"))
    assert message.splitlines()[1].startswith(
        "aws.docdb.ClusterInstance by-dependency: docdb 3.6.0 does not support rds-ca-ecc384-g1, the engine version of "
        'its cluster. Set ca_cert_identifier="rds-ca-rsa2048-g1"'
    )
