"""``rdsca audit`` against the fake account: verdicts, regions, faults, formats."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import boto3
import jsonschema
import pytest

from rdsca.aws.fake import DocDbInstance, FakeAccount

from ..conftest import invoke
from .conftest import actions, instance, multi_az_cluster, rds, run

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture
def fleet(account: FakeAccount) -> FakeAccount:
    instance("us-east-1", "old-mysql", "mysql", "8.0.39", "rds-ca-2019")
    instance("us-east-1", "pg", "postgres", "16.4", "rds-ca-rsa2048-g1")
    instance("us-east-1", "mssql", "sqlserver-se", "15.00.4236.7.v1", "rds-ca-ecc384-g1")
    instance("us-east-1", "graph", "neptune", "1.3.2.1", "rds-ca-2019")
    instance("eu-west-1", "maria", "mariadb", "10.6.16", "rds-ca-rsa4096-g1")
    instance("eu-west-1", "typo", "postgres", "13.4", "rds-ca-rsa2048-gl")
    account.region("eu-west-1").docdb.append(DocDbInstance("docs-0", "rds-ca-2019"))
    return account


def statuses(report: dict) -> dict[str, tuple[str, str, str]]:
    return {d["identifier"]: (d["region"], d["ca_status"], d["restart"]) for d in report["databases"]}


def test_multi_region_audit_with_mixed_cas(fleet: FakeAccount) -> None:
    result = run("audit", "--regions", "us-east-1,eu-west-1", "--format", "json")
    assert result.exit_code == 1
    report = result.json()
    assert statuses(report) == {
        "old-mysql": ("us-east-1", "retired", "unknown"),
        "pg": ("us-east-1", "ok", "unknown"),
        "mssql": ("us-east-1", "refused", "yes"),
        "graph": ("us-east-1", "not-applicable", "no"),
        "maria": ("eu-west-1", "ok", "no"),  # mariadb 10.6.16 rotates without restart (catalog, served by the fake)
        "typo": ("eu-west-1", "unknown", "no"),
        "docs-0": ("eu-west-1", "retired", "unknown"),
    }
    assert report["findings"] == 4
    by_id = {d["identifier"]: d for d in report["databases"]}
    assert by_id["graph"]["not_applicable"].startswith("Neptune endpoints use certificates chained to the Amazon Root CAs")
    # postgres 16.4's fixture does not say it rotates without a restart: a 36-month server certificate.
    assert by_id["pg"]["server_certificate_valid_till"] == "2029-11-27T00:00:00Z"
    # mariadb 10.6.16 rotates without a restart (recorded fixture): a 12-month one.
    assert by_id["maria"]["server_certificate_valid_till"] == "2027-11-27T00:00:00Z"
    assert by_id["old-mysql"]["replacement"] == "rds-ca-rsa2048-g1"
    # Issue 25.6: SQL Server on ECC384 serves a current CA its engine refuses, not a retired one.
    assert (by_id["mssql"]["serving"], by_id["old-mysql"]["serving"]) == ("refused-ca", "retired-ca")
    assert [r["default_ca_for_new_launches"] for r in report["regions"]] == ["rds-ca-rsa2048-g1"] * 2
    assert report["errors"] == []


def test_documentdb_is_counted_once(fleet: FakeAccount) -> None:
    report = run("audit", "--regions", "eu-west-1", "--format", "json").json()
    assert [d["identifier"] for d in report["databases"]].count("docs-0") == 1


def test_calls_grow_with_pages_not_databases(fleet: FakeAccount) -> None:
    run("audit", "--regions", "us-east-1,eu-west-1", "--format", "json")
    calls = actions(fleet)
    assert calls.count("DescribeDBInstances") == 2
    assert calls.count("DescribeCertificates") == 2
    # One per distinct (engine, version) per region, never per database; Neptune is not applicable.
    assert calls.count("DescribeDBEngineVersions") == 3 + 3


def test_a_ca_the_region_does_not_offer_is_certificate_not_found(account: FakeAccount) -> None:
    account.region("us-east-1").withdrawn.add("rds-ca-rsa4096-g1")
    instance("us-east-1", "db", "postgres", "16.4", "rds-ca-rsa4096-g1")
    report = run("audit", "--regions", "us-east-1", "--format", "json").json()
    (db,) = report["databases"]
    assert db["ca_status"] == "retired"
    assert "not offered in us-east-1 (DescribeCertificates does not list it: CertificateNotFound)" in db["reason"]


def test_access_denied_listing_one_region_is_an_error_for_that_region(fleet: FakeAccount) -> None:
    fleet.fail("eu-west-1", "DescribeDBInstances", "AccessDenied")
    result = run("audit", "--regions", "us-east-1,eu-west-1", "--format", "json")
    assert result.exit_code == 2
    report = result.json()
    assert {d["region"] for d in report["databases"]} == {"us-east-1"}
    assert report["errors"] == [
        "123456789012 eu-west-1: cannot list DB instances (AccessDenied: injected AccessDenied for DescribeDBInstances "
        "in eu-west-1)"
    ]
    assert "error: 123456789012 eu-west-1: cannot list DB instances" in result.stderr


def test_refused_optional_apis_are_warnings_and_the_catalog_stands_in(fleet: FakeAccount) -> None:
    fleet.fail("us-east-1", "DescribeCertificates", "AccessDenied")
    fleet.fail("us-east-1", "DescribeDBEngineVersions", "AccessDenied")
    fleet.fail("us-east-1", "DescribePendingMaintenanceActions", "AccessDenied")
    result = run("audit", "--regions", "us-east-1", "--format", "json")
    assert result.exit_code == 1  # the findings decide, not the warnings
    report = result.json()
    assert statuses(report)["old-mysql"] == ("us-east-1", "retired", "unknown")
    assert statuses(report)["mssql"][1] == "refused"  # from the catalog now
    warnings = report["regions"][0]["warnings"]
    assert any("DescribeCertificates not available" in w and "built-in catalog" in w for w in warnings)
    assert any("engine versions not available" in w for w in warnings)
    assert any("pending maintenance actions not available" in w for w in warnings)


def test_throttling_is_retried(fleet: FakeAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.retries.bucket
    import botocore.retries.standard

    # botocore's own back-off and adaptive rate limiting (seconds of sleep) are not what is tested: the retries are.
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(botocore.retries.bucket.TokenBucket, "acquire", lambda self, amount=1, block=True: True)
    fleet.fail("us-east-1", "DescribeDBInstances", "Throttling", times=2)
    result = run("audit", "--regions", "us-east-1", "--format", "json")
    assert result.exit_code == 1
    assert [c.action for c in fleet.calls if c.region == "us-east-1"].count("DescribeDBInstances") == 3
    assert len(result.json()["databases"]) == 4


def test_multi_az_cluster_carries_the_ca(account: FakeAccount) -> None:
    multi_az_cluster("us-east-1", "ledger", "rds-ca-2019")
    report = run("audit", "--regions", "us-east-1", "--format", "json").json()
    (cluster,) = [d for d in report["databases"] if d["identifier"] == "ledger"]
    assert (cluster["kind"], cluster["ca"], cluster["ca_status"]) == ("Multi-AZ DB cluster", "rds-ca-2019", "retired")


def test_pending_changes_and_maintenance_are_reported(account: FakeAccount) -> None:
    instance("us-east-1", "db", "mysql", "8.0.39", "rds-ca-2019")
    rds("us-east-1").modify_db_instance(DBInstanceIdentifier="db", CACertificateIdentifier="rds-ca-rsa2048-g1")
    account.maintenance[account.arn("us-east-1", "db")] = [{"Action": "ca-certificate-rotation", "OptInStatus": "pending"}]
    (db,) = run("audit", "--regions", "us-east-1", "--format", "json").json()["databases"]
    assert db["ca"] == "rds-ca-2019" and db["pending_ca"] == "rds-ca-rsa2048-g1"
    assert [m["action"] for m in db["pending_maintenance"]] == ["ca-certificate-rotation"]


def test_expiring_threshold(account: FakeAccount) -> None:
    # us-east-1's RSA2048 G1 root ends 2061-05-25; a server certificate issued on 2061-01-01 ends with its CA.
    account.today = dt.date(2061, 1, 1)
    instance("us-east-1", "db", "postgres", "16.4", "rds-ca-rsa2048-g1")
    assert run("audit", "--regions", "us-east-1", "--as-of", "2061-01-01", "--format", "json").exit_code == 1
    assert run("audit", "--regions", "us-east-1", "--as-of", "2061-01-01", "--expiring-days", "30",
               "--format", "json").exit_code == 0


def test_csv_and_sarif(fleet: FakeAccount) -> None:
    rows = list(csv.DictReader(io.StringIO(run("audit", "--regions", "us-east-1", "--format", "csv").stdout)))
    assert {r["identifier"]: r["ca_status"] for r in rows} == {
        "old-mysql": "retired", "pg": "ok", "mssql": "refused", "graph": "not-applicable"
    }
    sarif = run("audit", "--regions", "us-east-1", "--format", "sarif").json()
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].rsplit(":", 1)[1]) for r in results} >= {
        ("rdsca-audit-retired-ca", "old-mysql"), ("rdsca-audit-refused-ca", "mssql")
    }


def test_no_secret_is_printed(fleet: FakeAccount) -> None:
    for fmt in ("table", "json", "csv", "sarif"):
        result = run("audit", "--regions", "us-east-1", "--format", fmt)
        assert "never-print-this" not in result.stdout + result.stderr
        assert "secret-key-never-printed" not in result.stdout + result.stderr


def test_table_and_clean_account(account: FakeAccount) -> None:
    instance("us-east-1", "pg", "postgres", "16.4", "rds-ca-rsa2048-g1")
    result = run("audit", "--regions", "us-east-1")
    assert result.exit_code == 0
    assert "us-east-1: new databases get rds-ca-rsa2048-g1" in result.stdout
    assert "scanned 1/1 account(s), 1/1 region(s): 1 database(s), 0 with findings so far" in result.stderr


def test_unknown_profile_is_one_clear_error(account: FakeAccount) -> None:
    result = run("audit", "--profile", "no-such-profile", "--regions", "us-east-1")
    assert result.exit_code == 2
    assert result.stderr.strip() == "rdsca: error: The config profile (no-such-profile) could not be found"


def test_proxies_and_serverless_v1_are_not_applicable(account: FakeAccount) -> None:
    client = rds("us-east-1")
    client.create_db_cluster(DBClusterIdentifier="sls", Engine="aurora-mysql", EngineMode="serverless",
                             MasterUsername="admin", MasterUserPassword="x-password-1")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    client.create_db_proxy(DBProxyName="front", EngineFamily="MYSQL", RoleArn="arn:aws:iam::123456789012:role/r",
                           Auth=[{"SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s"}],
                           VpcSubnetIds=subnets)
    report = run("audit", "--regions", "us-east-1", "--format", "json")
    assert report.exit_code == 0
    rows = {d["identifier"]: d for d in report.json()["databases"]}
    assert rows["sls"]["kind"] == "Aurora Serverless v1 cluster" and rows["sls"]["ca_status"] == "not-applicable"
    assert rows["front"]["kind"] == "RDS Proxy" and "ACM certificates" in rows["front"]["not_applicable"]


def test_default_regions_are_the_enabled_ones(account: FakeAccount) -> None:
    instance("eu-central-1", "db", "postgres", "16.4", "rds-ca-2019")
    result = run("audit", "--format", "json")
    assert result.exit_code == 1
    regions = [r["region"] for r in result.json()["regions"]]
    assert "eu-central-1" in regions and "us-east-1" in regions
    assert "ap-east-1" not in regions  # an opt-in region the account has not enabled (moto: not-opted-in)
    assert [d["identifier"] for d in result.json()["databases"]] == ["db"]


def test_demo_without_moto_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "moto" else real(name, *a))
    result = run("audit", "--demo")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "rdsca: error: --demo (a fake AWS account) needs rdsca[demo], which is not installed here",
        "rdsca: hint: pip install 'rdsca[demo]' (from a clone: pip install '.[demo]')"]


def test_the_same_database_listed_twice_is_one_row() -> None:
    """The RDS API lists DocumentDB and Neptune instances too: a database seen twice (same ARN) is judged once."""
    from rdsca.aws import audit
    from rdsca.aws.scan import Database, RegionScan
    from rdsca.resources import Kind

    db = Database("eu-west-1", Kind.DOCDB_INSTANCE, "docs-0", "arn:aws:rds:eu-west-1:1:db:docs-0", "docdb", "5.0.0",
                  "rds-ca-2019")
    result = audit.audit_regions([RegionScan("eu-west-1", databases=[db, db])], audit.Options(dt.date(2026, 11, 27)))
    assert [r.db.identifier for r in result.rows] == ["docs-0"]
    assert [f.kind for f in result.rows[0].findings] == ["retired"]


def test_audit_json_carries_each_endpoint_for_rdsca_probe(fleet: FakeAccount, tmp_path: Path) -> None:
    from rdsca.probe.endpoints import load_audit

    result = run("audit", "--regions", "us-east-1,eu-west-1", "--format", "json")
    by_id = {d["identifier"]: d for d in result.json()["databases"]}
    assert (by_id["pg"]["endpoint_address"], by_id["pg"]["endpoint_port"]) == (
        "pg.aaaaaaaaaa.us-east-1.rds.amazonaws.com", 5432
    )
    # The fake's DocumentDB instances (rdsca.aws.fake) carry no endpoint: read as "cannot be probed".
    assert (by_id["docs-0"]["endpoint_address"], by_id["docs-0"]["endpoint_port"]) == (None, None)
    path = tmp_path / "audit.json"
    path.write_text(result.stdout)
    endpoints = {e.database: (e.address, e.engine, e.region, e.error is None) for e in load_audit(path)}
    assert endpoints == {
        "old-mysql": ("old-mysql.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306", "mysql", "us-east-1", True),
        "pg": ("pg.aaaaaaaaaa.us-east-1.rds.amazonaws.com:5432", "postgres", "us-east-1", True),
        "mssql": ("mssql.aaaaaaaaaa.us-east-1.rds.amazonaws.com:1433", "sqlserver", "us-east-1", True),
        "graph": ("graph.aaaaaaaaaa.us-east-1.rds.amazonaws.com:8182", "tls", "us-east-1", True),
        "maria": ("maria.aaaaaaaaaa.eu-west-1.rds.amazonaws.com:3306", "mariadb", "eu-west-1", True),
        "typo": ("typo.aaaaaaaaaa.eu-west-1.rds.amazonaws.com:5432", "postgres", "eu-west-1", True),
        "docs-0": ("-", "docdb", "eu-west-1", False),
    }


def test_demo_audit_far_in_the_future_is_not_an_internal_error() -> None:
    """`rdsca audit --demo --as-of 9999-12-31`: the fake account adds years to today (year 10002), answers 500, and
    the command prints about 40 lines of the fake server's tracebacks, then 'internal error: ResponseParserError'."""
    _code, _out, err = invoke("audit", "--demo", "--as-of", "9999-12-31")
    assert "Traceback" not in err, err[-2000:]
    assert "internal error" not in err, err[-2000:]


def test_region_as_the_aws_cli_spells_it(fleet: FakeAccount) -> None:
    """Issue 26.10: `--region` (singular, repeatable) beside `--regions`."""
    report = run("audit", "--region", "us-east-1", "--region", "eu-west-1", "--format", "json").json()
    assert {d["region"] for d in report["databases"]} == {"us-east-1", "eu-west-1"}
    one = run("audit", "--region", "eu-west-1", "--regions", "eu-west-1", "--format", "json").json()
    assert {d["region"] for d in one["databases"]} == {"eu-west-1"}
    bad = run("audit", "--region", "nowhere")
    assert bad.exit_code == 2 and "--region" in bad.stderr and "'nowhere' is not an AWS region name" in bad.stderr
