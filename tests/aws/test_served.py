"""What each database serves: a retired CA (a finding even with a fix scheduled), a change waiting for a restart (a
finding until it restarts; ``rotate --reboot``), server certificate expiry by AWS's two rules, and the table and
CSV showing pending maintenance and notes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from rdsca.aws.fake import FakeAccount

from .conftest import instance, modify_calls, rds, run

US = ("--regions", "us-east-1")
NO_RESTART = ("--no-restart", "--i-know-clients-do-not-verify-tls")


def _db(result: object, name: str) -> dict:
    return next(d for d in result.json()["databases"] if d["identifier"] == name)  # type: ignore[attr-defined]


def test_a_no_restart_change_is_a_finding_until_a_reboot(account: FakeAccount) -> None:
    """After --no-restart the database keeps presenting its old certificate (CertificateDetails says which): the audit
    said "ok" before; now it is restart-pending (exit 1), and rotate --reboot reboots it (RebootDBInstance)."""
    instance("us-east-1", "db", "mysql", "8.0.39", "rds-ca-2019")
    assert run("rotate", *US, *NO_RESTART, "--apply-immediately", "--apply", "--yes").exit_code == 0
    audit = run("audit", *US, "--format", "json")
    assert audit.exit_code == 1
    db = _db(audit, "db")
    assert (db["ca"], db["ca_status"], db["serving"], db["served_ca"]) == (
        "rds-ca-rsa2048-g1", "ok", "restart-pending", "rds-ca-2019"
    )
    assert db["findings"] == [
        "restart pending: presents a certificate from rds-ca-2019, not from its CA rds-ca-rsa2048-g1 "
        "(CertificateDetails); updating is required for clients that verify the certificate (rdsca rotate --reboot)",
        # ...and that old certificate is the 2019 one, long expired.
        "server certificate expired on 2024-08-22; updating is required for clients that verify the certificate",
    ]
    dry = run("rotate", *US, "--reboot", "--format", "json").json()
    assert [(c["identifier"], c["action"], c["reason"]) for c in dry["plan"]] == [
        ("db", "reboot-db-instance", "certificate-details")
    ]
    assert modify_calls(account) == [("us-east-1", "ModifyDBInstance")]  # the dry run rebooted nothing
    assert run("rotate", *US, "--reboot", "--apply", "--yes").exit_code == 0
    assert modify_calls(account)[-1] == ("us-east-1", "RebootDBInstance")
    assert run("audit", *US).exit_code == 0


def test_the_journal_tells_of_a_restart_aws_does_not_show(account: FakeAccount) -> None:
    """Where AWS already reports the new CA in CertificateDetails, the journal's no-restart record still says the
    database has not restarted: restart pending until a journaled reboot."""
    instance("us-east-1", "db", "mysql", "8.0.39", "rds-ca-2019")
    assert run("rotate", *US, *NO_RESTART, "--apply-immediately", "--apply", "--yes").exit_code == 0
    fake_db = account.database("us-east-1", "db")
    fake_db.served = fake_db.ca  # as if AWS updated CertificateDetails at once
    db = _db(run("audit", *US, "--format", "json"), "db")
    assert db["serving"] == "restart-pending"
    assert db["findings"][0].startswith("restart pending: its CA was changed to rds-ca-rsa2048-g1 without a restart at ")
    assert "(journal " in db["findings"][0]
    reboot = run("rotate", *US, "--reboot", "--apply", "--yes", "--format", "json")
    assert [(o["action"], o["result"]) for o in reboot.json()["outcomes"]] == [("reboot-db-instance", "accepted")]
    assert run("audit", *US).exit_code == 0


def test_an_engine_that_rotates_without_a_restart_needs_no_reboot(account: FakeAccount) -> None:
    instance("us-east-1", "maria", "mariadb", "10.6.16", "rds-ca-2019")  # recorded: rotates without a restart
    assert run("rotate", *US, *NO_RESTART, "--apply-immediately", "--apply", "--yes").exit_code == 0
    assert run("audit", *US).exit_code == 0


def test_babelfish_instances_are_rebooted_after_the_change(account: FakeAccount) -> None:
    client = rds("us-east-1")
    client.create_db_cluster_parameter_group(DBClusterParameterGroupName="bf", DBParameterGroupFamily="aurora-postgresql15",
                                             Description="Babelfish")
    client.modify_db_cluster_parameter_group(DBClusterParameterGroupName="bf", Parameters=[
        {"ParameterName": "rds.babelfish_status", "ParameterValue": "on", "ApplyMethod": "pending-reboot"}])
    for name, group in (("tds", "bf"), ("plain", None)):
        extra = {"DBClusterParameterGroupName": group} if group else {}
        client.create_db_cluster(DBClusterIdentifier=name, Engine="aurora-postgresql", EngineVersion="15.4",
                                 MasterUsername="admin", MasterUserPassword="password-12", **extra)
        client.create_db_instance(DBInstanceIdentifier=f"{name}-1", Engine="aurora-postgresql", EngineVersion="15.4",
                                  DBInstanceClass="db.r6g.large", DBClusterIdentifier=name,
                                  CACertificateIdentifier="rds-ca-2019")
    plan = run("rotate", *US, "--apply-immediately", "--reboot", "--format", "json").json()
    assert [(c["identifier"], c["action"]) for c in plan["plan"]] == [
        ("plain-1", "modify-db-instance"), ("tds-1", "modify-db-instance"), ("tds-1", "reboot-db-instance")
    ]
    without = run("rotate", *US, "--apply-immediately", "--apply", "--yes", "--format", "json")
    assert without.json()["notes"] == [
        "123456789012 us-east-1 tds-1: Babelfish needs a reboot once the new CA is set (rdsca rotate --reboot --apply)"
    ]
    db = _db(run("audit", *US, "--format", "json"), "tds-1")
    assert db["serving"] == "restart-pending" and "on a Babelfish cluster, which needs a reboot" in db["findings"][0]
    assert _db(run("audit", *US, "--format", "json"), "plain-1")["findings"] == []
    assert run("rotate", *US, "--reboot", "--apply", "--yes").exit_code == 0
    assert modify_calls(account)[-1] == ("us-east-1", "RebootDBInstance")
    assert run("audit", *US).exit_code == 0


def test_a_multi_az_cluster_is_rebooted_as_a_cluster() -> None:
    from rdsca.aws import audit, rotate
    from rdsca.aws.scan import Database, RegionScan
    from rdsca.resources import Kind

    arn = "arn:aws:rds:us-east-1:1:cluster:ledger"
    db = Database("us-east-1", Kind.MULTI_AZ_CLUSTER, "ledger", arn, "postgres", "16.4", "rds-ca-rsa2048-g1",
                  account="1")
    record = audit.RestartRecord(arn, "rds-ca-rsa2048-g1", "2026-11-27T00:00:00Z", "j.jsonl", "no-restart")
    result = audit.audit_regions([RegionScan("us-east-1", [db], account="1")],
                         audit.Options(dt.date(2026, 11, 27), restarts={arn: record}))
    (change,) = rotate.make_plan(result, rotate.PlanOptions(reboot=True)).changes
    assert (change.action, change.request()) == ("reboot-db-cluster", {"DBClusterIdentifier": "ledger"})


# -- server certificates --------------------------------------------------------------------------------------------


def _valid_till(account: FakeAccount, name: str, days: int) -> None:
    account.database("us-east-1", name).valid_till = dt.datetime(2026, 11, 27, tzinfo=dt.timezone.utc) + dt.timedelta(days)


@pytest.mark.parametrize(
    ("days", "finding"),
    [(200, None), (100, "server certificate expires on 2027-03-07 (100 days left) and was not rotated at half life as "
                        "RDS does for this engine version")],
)
def test_a_restart_free_engine_is_rotated_by_rds_at_half_life(account: FakeAccount, days: int, finding: str | None) -> None:
    instance("us-east-1", "maria", "mariadb", "10.6.16", "rds-ca-rsa2048-g1")
    _valid_till(account, "maria", days)
    db = _db(run("audit", *US, "--format", "json"), "maria")
    assert db["findings"] == ([finding] if finding else [])


def test_an_engine_that_restarts_gets_a_maintenance_action(account: FakeAccount) -> None:
    for name in ("none", "pending", "dated"):
        instance("us-east-1", name, "sqlserver-se", "15.00.4236.7.v1", "rds-ca-rsa2048-g1")
        _valid_till(account, name, 100)
    account.maintenance[account.arn("us-east-1", "pending")] = [
        {"Action": "server-certificate-rotation", "OptInStatus": "pending"}]
    account.maintenance[account.arn("us-east-1", "dated")] = [
        {"Action": "server-certificate-rotation", "OptInStatus": "pending", "CurrentApplyDate": "2027-01-10T00:00:00Z"}]
    result = run("audit", *US, "--format", "json")
    assert _db(result, "none")["findings"] == [
        "server certificate expires on 2027-03-07 (100 days left); no rotation is scheduled"]
    assert _db(result, "pending")["findings"] == [
        "server certificate expires on 2027-03-07 (100 days left); apply its pending maintenance action (rdsca rotate "
        "--pending-maintenance; it restarts)"]
    dated = _db(result, "dated")
    assert dated["findings"] == [] and dated["notes"][0] == (
        "server certificate expires on 2027-03-07; server-certificate-rotation scheduled for 2027-01-10")


def test_pending_maintenance_and_notes_are_in_the_table_and_csv(account: FakeAccount) -> None:
    instance("ap-south-1", "mumbai", "postgres", "16.4", "rds-ca-rsa4096-g1")
    account.maintenance[account.arn("ap-south-1", "mumbai")] = [
        {"Action": "ca-certificate-rotation", "OptInStatus": "next-maintenance"}]
    args = ("--regions", "ap-south-1")
    table = run("audit", *args).stdout
    assert "ca-certificate-rotation (next-maintenance)" in table.splitlines()[2]
    assert ("note: 123456789012 ap-south-1 mumbai: rds-ca-rsa4096-g1 in ap-south-1: the RDS SSL page says this CA is not "
            "available in this region") in table
    (row,) = csv.DictReader(io.StringIO(run("audit", *args, "--format", "csv").stdout))
    assert row["account"] == "123456789012" and row["pending_maintenance"] == "ca-certificate-rotation (next-maintenance)"
    assert "the RDS SSL page says this CA is not available in this region" in row["notes"]


def test_rows_come_in_a_stable_order(account: FakeAccount, tmp_path: Path) -> None:
    for region, name in (("us-east-1", "zeta"), ("eu-west-1", "beta"), ("us-east-1", "alpha"), ("eu-west-1", "alpha")):
        instance(region, name, "mysql", "8.0.39", "rds-ca-2019")
    account.add_docdb("us-east-1", "docs", "rds-ca-2019")
    rows = run("audit", "--regions", "us-east-1,eu-west-1", "--format", "json").json()["databases"]
    assert [(r["region"], r["kind"], r["identifier"]) for r in rows] == [
        ("eu-west-1", "RDS instance", "alpha"), ("eu-west-1", "RDS instance", "beta"),
        ("us-east-1", "DocumentDB instance", "docs"), ("us-east-1", "RDS instance", "alpha"),
        ("us-east-1", "RDS instance", "zeta"),
    ]
    table = run("audit", "--regions", "us-east-1,eu-west-1").stdout.splitlines()[2:7]
    assert [line.split()[2] for line in table] == ["alpha", "beta", "docs", "alpha", "zeta"]
