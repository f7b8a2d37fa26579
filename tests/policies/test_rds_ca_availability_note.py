"""rds-ca-availability-note: unconfirmed region restrictions, engine caveats, versions not known here."""

from __future__ import annotations

from .harness import DOCDB_INSTANCE, HAPPY, INSTANCE, Pack, failing

NAME = "rds-ca-availability-note"

CASES = {
    "rsa4096-in-ca-west-1": (INSTANCE, {"engine": "postgres", "caCertIdentifier": "rds-ca-rsa4096-g1", "region": "ca-west-1"}),
    "rsa2048-in-ca-west-1": (INSTANCE, {"engine": "postgres", "caCertIdentifier": "rds-ca-rsa2048-g1", "region": "ca-west-1"}),
    "ecc-in-china": (INSTANCE, {"engine": "mysql", "caCertIdentifier": "rds-ca-ecc384-g1", "region": "cn-north-1"}),
    "oracle-ecc": (INSTANCE, {"engine": "oracle-se2", "caCertIdentifier": "rds-ca-ecc384-g1"}),
    "docdb-instance-ecc": (DOCDB_INSTANCE, {"caCertIdentifier": "rds-ca-ecc384-g1"}),
    "docdb-instance-rsa2048": (DOCDB_INSTANCE, {"caCertIdentifier": "rds-ca-rsa2048-g1"}),
    "sqlserver-ecc-refused": (INSTANCE, {"engine": "sqlserver-se", "caCertIdentifier": "rds-ca-ecc384-g1"}),
}


def test_exact_notes(pack: Pack) -> None:
    assert failing(pack, NAME, HAPPY) == set()
    assert failing(pack, NAME, CASES) == {"rsa4096-in-ca-west-1", "ecc-in-china", "oracle-ecc", "docdb-instance-ecc"}


def test_notes_are_advisory_and_explain(pack: Pack) -> None:
    (diag,) = [d for d in pack.analyze(*CASES["docdb-instance-ecc"], name="catalog-0") if d.policy == NAME]
    assert diag.level == "advisory"
    assert diag.message.endswith(
        "aws.docdb.ClusterInstance catalog-0: docdb versions 3.6, 3.6.* refuse rds-ca-ecc384-g1 and the version "
        "is not known here: check the engine version."
    )


def test_region_from_the_provider(pack: Pack) -> None:
    props = {"engine": "postgres", "caCertIdentifier": "rds-ca-rsa4096-g1"}
    assert [d.policy for d in pack.analyze(INSTANCE, props, provider_region="eu-south-2")] == [NAME]
    assert [d.policy for d in pack.analyze(INSTANCE, props, provider_region="eu-west-1")] == []
