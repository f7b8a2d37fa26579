"""rds-ca-engine-support: engines that refuse a CA, exact sets, unknown engines, remediation."""

from __future__ import annotations

from .harness import CLUSTER, DOCDB_INSTANCE, HAPPY, INSTANCE, NATIVE_INSTANCE, UNKNOWN, Pack, failing

NAME = "rds-ca-engine-support"
ECC = "rds-ca-ecc384-g1"

CASES = {
    "sqlserver-ecc": (INSTANCE, {"engine": "sqlserver-se", "caCertIdentifier": ECC}),
    "sqlserver-rsa4096": (INSTANCE, {"engine": "sqlserver-ee", "caCertIdentifier": "rds-ca-rsa4096-g1"}),
    "native-sqlserver-ecc": (NATIVE_INSTANCE, {"engine": "sqlserver-web", "caCertificateIdentifier": ECC}),
    "postgres-ecc": (INSTANCE, {"engine": "postgres", "engineVersion": "16.4", "caCertIdentifier": ECC}),
    "aurora-mysql-2.04-ecc": (INSTANCE, {"engine": "aurora-mysql", "engineVersion": "5.7.mysql_aurora.2.04.9",
                                         "caCertIdentifier": ECC}),
    "aurora-mysql-3-ecc": (INSTANCE, {"engine": "aurora-mysql", "engineVersion": "8.0.mysql_aurora.3.05.2",
                                      "caCertIdentifier": ECC}),
    "docdb-3.6-cluster-ecc": (CLUSTER, {"engine": "docdb", "engineVersion": "3.6.0", "caCertificateIdentifier": ECC}),
    "docdb-instance-ecc": (DOCDB_INSTANCE, {"caCertIdentifier": ECC}),
    "oracle-ecc": (INSTANCE, {"engine": "oracle-ee", "caCertIdentifier": ECC}),
    "sqlserver-unset": (INSTANCE, {"engine": "sqlserver-se"}),
    "sqlserver-retired": (INSTANCE, {"engine": "sqlserver-se", "caCertIdentifier": "rds-ca-2019"}),
}


def test_exact_refusals(pack: Pack) -> None:
    assert failing(pack, NAME, HAPPY) == set()
    assert failing(pack, NAME, CASES) == {
        "sqlserver-ecc",
        "native-sqlserver-ecc",
        "aurora-mysql-2.04-ecc",
        "docdb-3.6-cluster-ecc",
    }


def test_message(pack: Pack) -> None:
    (diag,) = [d for d in pack.analyze(*CASES["sqlserver-ecc"], name="erp") if d.policy == NAME]
    assert diag.level == "mandatory"
    assert diag.message.startswith(
        "A database's CA must be one its engine and version support.\n"
        "aws.rds.Instance erp: sqlserver-se does not support rds-ca-ecc384-g1. Set ca_cert_identifier="
    )
    # A change between current CAs on SQL Server, which restarts: the maintenance window (AWS's guide, issue 25.1).
    assert diag.message.endswith(
        'Set ca_cert_identifier="rds-ca-rsa2048-g1" on aws.rds.Instance erp (outside '
        "Pulumi: aws rds modify-db-instance --db-instance-identifier NAME --ca-certificate-identifier "
        "rds-ca-rsa2048-g1 --no-apply-immediately)."
    )


def test_unknown_engine_with_a_ca_some_engine_refuses_is_a_preview_note(pack: Pack) -> None:
    diags = [d for d in pack.analyze(INSTANCE, {"engine": UNKNOWN, "caCertIdentifier": ECC}) if d.policy == NAME]
    assert [d.level for d in diags] == ["advisory"]
    assert "can't be known during preview" in diags[0].message
    # RSA2048 is refused by no engine: nothing to wait for.
    rsa = {"engine": UNKNOWN, "caCertIdentifier": "rds-ca-rsa2048-g1"}
    assert [d for d in pack.analyze(INSTANCE, rsa) if d.policy == NAME] == []


def test_unknown_ca_on_an_engine_that_refuses_some_ca_is_a_preview_note(pack: Pack) -> None:
    mssql = [d for d in pack.analyze(INSTANCE, {"engine": "sqlserver-se", "caCertIdentifier": UNKNOWN})]
    assert [(d.policy, d.level) for d in mssql if d.policy == NAME] == [(NAME, "advisory")]
    pg = pack.analyze(INSTANCE, {"engine": "postgres", "caCertIdentifier": UNKNOWN})
    assert [d for d in pg if d.policy == NAME] == []


def test_remediation_moves_to_a_supported_ca() -> None:
    pack = Pack(levels={NAME: "remediate"})
    fixed, changed = pack.remediate(*CASES["sqlserver-ecc"])
    assert changed == [NAME]
    # A change between current CAs on SQL Server, which restarts to rotate: the maintenance window (issue 25.1).
    assert (fixed["caCertIdentifier"], fixed["applyImmediately"]) == ("rds-ca-rsa2048-g1", False)
    # A target the engine also refuses: the fallback.
    pack = Pack(config={NAME: {"targetCa": ECC, "fallbackCa": "rds-ca-rsa4096-g1"}}, levels={NAME: "remediate"})
    fixed, _ = pack.remediate(*CASES["sqlserver-ecc"])
    assert fixed["caCertIdentifier"] == "rds-ca-rsa4096-g1"
