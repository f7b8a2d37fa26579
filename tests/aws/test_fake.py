"""The fake account answers from response fixtures in the real API's shape, not from rdsca's catalog, so it can
disagree with the catalog: a wrong catalog entry is caught."""

from __future__ import annotations

import ast
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import botocore.exceptions
import botocore.session
import pytest

from rdsca import catalog
from rdsca.aws.fake import FakeAccount, fixtures

from .conftest import instance, modify_calls, multi_az_cluster, rds, run

REPO = Path(__file__).resolve().parents[2]
FAKE = REPO / "rdsca" / "aws" / "fake"


def test_every_engine_version_fixture_says_where_it_comes_from() -> None:
    for version in fixtures.engine_versions().values():
        assert version.provenance.startswith(("recorded: ", "synthetic: ")), version
    recorded = sorted(k for k, v in fixtures.engine_versions().items() if v.provenance.startswith("recorded"))
    assert recorded == [("mariadb", "10.6.16"), ("postgres", "13.4")]


def test_engine_version_fixtures_are_in_the_api_shape() -> None:
    shape = botocore.session.get_session().get_service_model("rds").shape_for("DBEngineVersion")
    for version in fixtures.engine_versions().values():
        assert set(version.raw) <= set(shape.members), set(version.raw) - set(shape.members)


def test_the_synthetic_certificates_reproduce_the_recorded_example() -> None:
    """tools/fake_certificates.py derives the listings from the real bundle; for us-west-2 it gives exactly what the
    aws-cli example recorded (the account-level override fields aside), and the committed file is its output."""
    check = subprocess.run([sys.executable, str(REPO / "tools" / "fake_certificates.py"), "--check"], cwd=REPO)
    assert check.returncode == 0, "rdsca/aws/fake/data is not what tools/fake_certificates.py writes"
    recorded = json.loads((REPO / "tests" / "fixtures" / "describe-certificates.us-west-2.json").read_text())
    synthetic = json.loads((FAKE / "data" / "describe-certificates.synthetic.json").read_text())
    drop = {"CustomerOverride", "CustomerOverrideValidTill"}

    def strip(cert: dict) -> dict:
        return {k: v for k, v in cert.items() if k not in drop}

    assert [strip(c) for c in synthetic["regions"]["us-west-2"]["Certificates"]] == [
        strip(c) for c in recorded["Certificates"]
    ]
    assert synthetic["provenance"].startswith("synthetic: ")
    assert fixtures.certificates("us-west-2")[0].provenance == "recorded"


def test_the_fake_does_not_read_the_catalog() -> None:
    """Only the demo's seeding names CAs through the catalog; what the fake answers comes from its fixtures."""
    for path in sorted(FAKE.glob("*.py")):
        if path.name == "demo.py":
            continue
        tree = ast.parse(path.read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }
        assert "rdsca.catalog" not in imported and not any("catalog" in (m or "") for m in imported), path.name


def test_a_ca_the_engine_version_does_not_list_is_refused(account: FakeAccount) -> None:
    instance("us-east-1", "mssql", "sqlserver-se", "15.00.4236.7.v1", "rds-ca-rsa2048-g1")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        rds("us-east-1").modify_db_instance(DBInstanceIdentifier="mssql", CACertificateIdentifier="rds-ca-ecc384-g1")
    assert refused.value.response["Error"] == {
        "Type": "Sender",
        "Code": "InvalidParameterCombination",
        "Message": "Version 15.00.4236.7.v1 for DB engine sqlserver-se doesn't support certificate rds-ca-ecc384-g1",
    }
    assert account.database("us-east-1", "mssql").ca == "rds-ca-rsa2048-g1"


def test_an_expired_ca_is_not_found(account: FakeAccount) -> None:
    instance("us-east-1", "db", "mysql", "8.0.39", "rds-ca-rsa2048-g1")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        rds("us-east-1").modify_db_instance(DBInstanceIdentifier="db", CACertificateIdentifier="rds-ca-2019")
    assert refused.value.response["Error"]["Code"] == "CertificateNotFound"
    listed = rds("us-east-1").describe_certificates()
    assert [c["CertificateIdentifier"] for c in listed["Certificates"]] == [
        "rds-ca-ecc384-g1", "rds-ca-rsa4096-g1", "rds-ca-rsa2048-g1"
    ]


def test_a_db_cluster_has_the_real_shape(account: FakeAccount) -> None:
    """botocore's DBCluster has no CACertificateIdentifier: the CA is CertificateDetails.CAIdentifier, and a pending
    change PendingModifiedValues.CertificateDetails (a top-level member would be dropped by botocore's parser)."""
    multi_az_cluster("us-east-1", "ledger", "rds-ca-rsa4096-g1")
    rds("us-east-1").modify_db_cluster(DBClusterIdentifier="ledger", CACertificateIdentifier="rds-ca-rsa2048-g1")
    (cluster,) = rds("us-east-1").describe_db_clusters()["DBClusters"]
    assert "CACertificateIdentifier" not in cluster
    assert cluster["CertificateDetails"]["CAIdentifier"] == "rds-ca-rsa4096-g1"
    assert cluster["PendingModifiedValues"]["CertificateDetails"] == {"CAIdentifier": "rds-ca-rsa2048-g1"}
    shape = botocore.session.get_session().get_service_model("rds").shape_for("DBCluster")
    assert "CACertificateIdentifier" not in shape.members


def test_a_no_restart_change_is_served_after_a_reboot(account: FakeAccount) -> None:
    instance("us-east-1", "db", "mysql", "8.0.39", "rds-ca-2019")
    rds("us-east-1").modify_db_instance(DBInstanceIdentifier="db", CACertificateIdentifier="rds-ca-rsa2048-g1",
                                        ApplyImmediately=True, CertificateRotationRestart=False)
    (db,) = rds("us-east-1").describe_db_instances()["DBInstances"]
    assert (db["CACertificateIdentifier"], db["CertificateDetails"]["CAIdentifier"]) == ("rds-ca-rsa2048-g1", "rds-ca-2019")
    rds("us-east-1").reboot_db_instance(DBInstanceIdentifier="db")
    (db,) = rds("us-east-1").describe_db_instances()["DBInstances"]
    assert db["CertificateDetails"] == {"CAIdentifier": "rds-ca-rsa2048-g1",
                                        "ValidTill": dt.datetime(2029, 11, 27, tzinfo=dt.timezone.utc)}


def test_a_wrong_catalog_entry_about_an_engine_is_caught(
    account: FakeAccount, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With the engine-version API refused, rotate relies on the catalog. A catalog that forgot SQL Server's refusal
    of ECC384 plans the change; the fake refuses it as AWS does, and rotate reports it (exit 1)."""
    wrong = tuple(f for f in catalog.ENGINE_FACTS if f.engine != "sqlserver-*")
    monkeypatch.setattr(catalog, "ENGINE_FACTS", wrong)
    catalog._engine_facts.cache_clear()
    catalog._evaluate_cached.cache_clear()
    instance("us-east-1", "mssql", "sqlserver-se", "15.00.4236.7.v1", "rds-ca-2019")
    account.fail("us-east-1", "DescribeDBEngineVersions", "AccessDenied")
    result = run("rotate", "--regions", "us-east-1", "--ca", "rds-ca-ecc384-g1", "--apply", "--yes",
                 "--journal", str(tmp_path / "j.jsonl"))
    catalog._engine_facts.cache_clear()
    catalog._evaluate_cached.cache_clear()
    assert result.exit_code == 1
    assert modify_calls(account) == [("us-east-1", "ModifyDBInstance")]
    assert ("not accepted: 123456789012 us-east-1 mssql: InvalidParameterCombination: Version 15.00.4236.7.v1 for DB "
            "engine sqlserver-se doesn't support certificate rds-ca-ecc384-g1") in result.stderr


def test_a_wrong_catalog_date_is_caught(account: FakeAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalog with a wrong validity date is contradicted by the region's DescribeCertificates: a warning names
    both dates, and the region's answer is used (the database is not reported as expired)."""
    real = catalog.CATALOG[catalog.RSA4096_G1]
    dates = {**real.valid_until_by_region, "us-east-1": dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)}
    from dataclasses import replace

    monkeypatch.setitem(catalog.CATALOG, catalog.RSA4096_G1, replace(real, valid_until_by_region=dates))  # type: ignore[arg-type]
    catalog._evaluate_cached.cache_clear()
    instance("us-east-1", "db", "postgres", "16.4", "rds-ca-rsa4096-g1")
    result = run("audit", "--regions", "us-east-1", "--format", "json")
    catalog._evaluate_cached.cache_clear()
    assert result.exit_code == 0
    assert result.json()["databases"][0]["ca_status"] == "ok"
    assert ("warning: 123456789012 us-east-1: the built-in catalog says rds-ca-rsa4096-g1 is valid until 2025-01-01, "
            "DescribeCertificates says 2121-05-25; the region's answer is used") in result.stderr
