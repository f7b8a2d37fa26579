"""``rdsca rotate`` and ``rdsca default-ca`` against the fake account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdsca.aws.fake import DocDbInstance, FakeAccount

from .conftest import instance, modify_calls, rds, run


@pytest.fixture
def fleet(account: FakeAccount) -> FakeAccount:
    instance("us-east-1", "old-mysql", "mysql", "8.0.39", "rds-ca-2019", Tags=[{"Key": "team", "Value": "billing"}])
    instance("us-east-1", "pg", "postgres", "16.4", "rds-ca-rsa2048-g1")
    instance("us-east-1", "mssql", "sqlserver-se", "15.00.4236.7.v1", "rds-ca-ecc384-g1")
    instance("eu-west-1", "maria", "mariadb", "10.6.16", "rds-ca-2019")
    account.region("eu-west-1").docdb.append(DocDbInstance("docs-0", "rds-ca-2019"))
    return account


REGIONS = ("--regions", "us-east-1,eu-west-1")


def cas(region: str) -> dict[str, str]:
    return {i["DBInstanceIdentifier"]: i["CACertificateIdentifier"] for i in rds(region).describe_db_instances()["DBInstances"]}


def test_dry_run_plans_and_changes_nothing(fleet: FakeAccount) -> None:
    result = run("rotate", *REGIONS, "--format", "json")
    assert result.exit_code == 0
    plan = result.json()
    assert plan["applied"] is False
    assert {(c["identifier"], c["from_ca"], c["to_ca"], c["timing"], c["restart"]) for c in plan["plan"]} == {
        ("old-mysql", "rds-ca-2019", "rds-ca-rsa2048-g1", "maintenance window", "unknown"),
        ("mssql", "rds-ca-ecc384-g1", "rds-ca-rsa2048-g1", "maintenance window", "yes"),
        ("maria", "rds-ca-2019", "rds-ca-rsa2048-g1", "maintenance window", "no"),
        ("docs-0", "rds-ca-2019", "rds-ca-rsa2048-g1", "maintenance window", "unknown"),
    }
    assert modify_calls(fleet) == []
    table = run("rotate", *REGIONS)
    assert "dry run: 4 change(s) planned; nothing was changed (add --apply)." in table.stdout


def test_apply_changes_exactly_the_plan_and_a_second_audit_is_clean(fleet: FakeAccount, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    result = run("rotate", *REGIONS, "--apply", "--yes", "--apply-immediately", "--journal", str(journal))
    assert result.exit_code == 0, result.stderr
    assert sorted(modify_calls(fleet)) == [("eu-west-1", "ModifyDBInstance")] * 2 + [("us-east-1", "ModifyDBInstance")] * 2
    assert cas("us-east-1") == {"old-mysql": "rds-ca-rsa2048-g1", "pg": "rds-ca-rsa2048-g1", "mssql": "rds-ca-rsa2048-g1"}
    assert cas("eu-west-1") == {"maria": "rds-ca-rsa2048-g1", "docs-0": "rds-ca-rsa2048-g1"}
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert {(e["resource"], e["previous_ca"], e["new_ca"], e["result"]) for e in entries} == {
        ("old-mysql", "rds-ca-2019", "rds-ca-rsa2048-g1", "accepted"),
        ("mssql", "rds-ca-ecc384-g1", "rds-ca-rsa2048-g1", "accepted"),
        ("maria", "rds-ca-2019", "rds-ca-rsa2048-g1", "accepted"),
        ("docs-0", "rds-ca-2019", "rds-ca-rsa2048-g1", "accepted"),
    }
    assert entries[0]["request"] == {
        "DBInstanceIdentifier": entries[0]["resource"], "CACertificateIdentifier": "rds-ca-rsa2048-g1", "ApplyImmediately": True
    }
    assert "never-print-this" not in journal.read_text() and "secret-key" not in journal.read_text()
    assert run("audit", *REGIONS, "--format", "json").exit_code == 0


def test_maintenance_window_leaves_the_change_pending(fleet: FakeAccount, tmp_path: Path) -> None:
    result = run("rotate", "--regions", "us-east-1", "--identifier", "old-*", "--apply", "--yes",
                 "--journal", str(tmp_path / "j.jsonl"), "--format", "json")
    assert result.exit_code == 0
    (db,) = [d for d in run("audit", "--regions", "us-east-1", "--format", "json").json()["databases"] if d["identifier"] == "old-mysql"]
    assert (db["ca"], db["pending_ca"]) == ("rds-ca-2019", "rds-ca-rsa2048-g1")
    assert db["findings"] == [] and db["notes"][0] == "retired CA; replaced by rds-ca-rsa2048-g1 in the next maintenance window"
    again = run("rotate", "--regions", "us-east-1", "--identifier", "old-*", "--format", "json").json()
    assert again["plan"] == [] and "already pending" in again["left_out"][0]["reason"]


def test_filters(fleet: FakeAccount) -> None:
    def planned(*args: str) -> set[str]:
        return {c["identifier"] for c in run("rotate", *REGIONS, *args, "--format", "json").json()["plan"]}

    assert planned("--engine", "mysql") == {"old-mysql"}
    assert planned("--engine", "maria*", "--engine", "docdb") == {"maria", "docs-0"}
    assert planned("--tag", "team=billing") == {"old-mysql"}
    assert planned("--identifier", "m*") == {"mssql", "maria"}


def test_an_engine_that_refuses_the_target_is_left_out_without_a_fallback(fleet: FakeAccount) -> None:
    plan = run("rotate", *REGIONS, "--ca", "rds-ca-ecc384-g1", "--format", "json").json()
    assert "mssql" not in {c["identifier"] for c in plan["plan"]}
    assert any(r["arn"].endswith(":mssql") and "give --fallback-ca" in r["reason"] for r in plan["left_out"])
    with_fallback = run("rotate", *REGIONS, "--ca", "rds-ca-ecc384-g1", "--fallback-ca", "rds-ca-rsa4096-g1", "--format", "json").json()
    assert {c["identifier"]: c["to_ca"] for c in with_fallback["plan"]}["mssql"] == "rds-ca-rsa4096-g1"


def test_default_journal_goes_to_the_per_user_state_directory(
    fleet: FakeAccount, tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("rotate", *REGIONS, "--identifier", "old-*", "--apply", "--yes")
    assert result.exit_code == 0, result.stderr
    (journal,) = (state_dir / "journals").glob("rdsca-rotate-*.jsonl")
    assert f"journal: {journal}" in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing lands in the working directory


def test_refused_changes_are_named_and_exit_1(fleet: FakeAccount, tmp_path: Path) -> None:
    fleet.fail("eu-west-1", "ModifyDBInstance", "AccessDenied")
    result = run("rotate", *REGIONS, "--apply", "--yes", "--journal", str(tmp_path / "j.jsonl"))
    assert result.exit_code == 1
    assert "not accepted: eu-west-1 maria: AccessDenied" in result.stderr
    assert "not accepted: eu-west-1 docs-0: AccessDenied" in result.stderr


def test_resume_after_an_interrupted_apply_repeats_nothing(
    fleet: FakeAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rdsca.aws import rotate as rot

    journal = tmp_path / "j.jsonl"
    real_apply = rot.apply

    def interrupted(*args, **kwargs):  # Ctrl-C after the second accepted change
        shown = kwargs.pop("on_outcome", None) or args[5]
        count = []

        def stop_after_two(outcome):
            shown(outcome)
            count.append(outcome)
            if len(count) == 2:
                raise KeyboardInterrupt

        return real_apply(*args[:5], stop_after_two)

    monkeypatch.setattr(rot, "apply", interrupted)
    first = run("rotate", *REGIONS, "--apply", "--yes", "--apply-immediately", "--journal", str(journal))
    assert first.exit_code == 2
    assert f"continue with --resume {journal}" in first.stderr
    assert len(journal.read_text().splitlines()) == 2
    monkeypatch.setattr(rot, "apply", real_apply)
    before = len(modify_calls(fleet))
    second = run("rotate", *REGIONS, "--apply", "--yes", "--apply-immediately", "--resume", str(journal))
    assert second.exit_code == 0, second.stderr
    # The two accepted changes (us-east-1, planned first) are not made again; only the other two are.
    assert modify_calls(fleet)[before:] == [("eu-west-1", "ModifyDBInstance")] * 2
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sorted(e["resource"] for e in entries if e["result"] == "accepted") == ["docs-0", "maria", "mssql", "old-mysql"]


def test_no_restart_needs_the_acknowledgement(fleet: FakeAccount, tmp_path: Path) -> None:
    refused = run("rotate", *REGIONS, "--no-restart")
    assert refused.exit_code == 2 and "--no-restart needs --i-know-clients-do-not-verify-tls" in refused.stderr
    ok = run("rotate", "--regions", "us-east-1", "--identifier", "old-mysql", "--no-restart",
             "--i-know-clients-do-not-verify-tls", "--apply", "--yes", "--journal", str(tmp_path / "j.jsonl"))
    assert ok.exit_code == 0
    entry = json.loads((tmp_path / "j.jsonl").read_text().splitlines()[0])
    assert entry["request"]["CertificateRotationRestart"] is False


def test_apply_without_a_terminal_needs_yes(fleet: FakeAccount) -> None:
    result = run("rotate", *REGIONS, "--apply")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("rdsca: error: --apply asks for confirmation; with no terminal, add --yes")
    assert modify_calls(fleet) == []


def test_bad_target_is_a_usage_error(account: FakeAccount) -> None:
    result = run("rotate", "--regions", "us-east-1", "--ca", "rds-ca-2019")
    assert result.exit_code == 2 and "cannot use 'rds-ca-2019' as the target CA" in result.stderr


def test_pending_maintenance_actions_are_applied_on_request(account: FakeAccount, tmp_path: Path) -> None:
    instance("us-east-1", "pg", "postgres", "16.4", "rds-ca-rsa2048-g1")
    arn = account.arn("us-east-1", "pg")
    account.maintenance[arn] = [{"Action": "ca-certificate-rotation", "OptInStatus": "pending"}]
    result = run("rotate", "--regions", "us-east-1", "--pending-maintenance", "--apply", "--yes",
                 "--apply-immediately", "--journal", str(tmp_path / "j.jsonl"))
    assert result.exit_code == 0
    assert modify_calls(account) == [("us-east-1", "ApplyPendingMaintenanceAction")]
    assert account.maintenance[arn] == []


def test_multi_az_cluster_is_modified_as_a_cluster(account: FakeAccount, tmp_path: Path) -> None:
    rds("us-east-1").create_db_cluster(
        DBClusterIdentifier="ledger", Engine="postgres", EngineVersion="16.4", DBClusterInstanceClass="db.m6gd.large",
        StorageType="io1", AllocatedStorage=100, Iops=1000, MasterUsername="admin", MasterUserPassword="x-password-1",
    )
    account.region("us-east-1").cluster_cas["ledger"] = "rds-ca-2019"
    result = run("rotate", "--regions", "us-east-1", "--apply", "--yes", "--apply-immediately",
                 "--journal", str(tmp_path / "j.jsonl"))
    assert result.exit_code == 0
    assert ("us-east-1", "ModifyDBCluster") in modify_calls(account)
    assert account.region("us-east-1").cluster_cas["ledger"] == "rds-ca-rsa2048-g1"


def test_default_ca_show_set_refuse_and_remove(fleet: FakeAccount) -> None:
    shown = run("default-ca", "show", *REGIONS, "--format", "json").json()
    assert [(r["region"], r["default_ca"], r["override"]) for r in shown] == [
        ("us-east-1", "rds-ca-rsa2048-g1", None), ("eu-west-1", "rds-ca-rsa2048-g1", None)
    ]
    # SQL Server in us-east-1 refuses ECC384: setting it as the default there would break new SQL Server launches.
    refused = run("default-ca", "set", "rds-ca-ecc384-g1", *REGIONS, "--apply", "--format", "json")
    assert refused.exit_code == 1
    outcome = {o["region"]: (o["result"], o["message"]) for o in refused.json()}
    assert outcome["us-east-1"] == ("refused", "engines in use refuse rds-ca-ecc384-g1: mssql (sqlserver-se 15.00.4236.7.v1)")
    assert outcome["eu-west-1"][0] == "done"
    assert fleet.region("eu-west-1").override == "rds-ca-ecc384-g1" and fleet.region("us-east-1").override is None
    dry = run("default-ca", "remove", "--regions", "eu-west-1")
    assert dry.exit_code == 0 and "dry run" in dry.stdout and fleet.region("eu-west-1").override == "rds-ca-ecc384-g1"
    assert run("default-ca", "remove", "--regions", "eu-west-1", "--apply").exit_code == 0
    assert fleet.region("eu-west-1").override is None


def test_journal_skip_is_by_resource_and_action(tmp_path: Path) -> None:
    from rdsca.aws import rotate as rot

    journal = tmp_path / "j.jsonl"
    change = rot.Change("us-east-1", "RDS instance", "db", "arn:db", "mysql", "rds-ca-2019", "rds-ca-rsa2048-g1",
                        "modify-db-instance", False, "unknown")
    journal.write_text(json.dumps({"arn": "arn:db", "action": "modify-db-instance", "result": "accepted"}) + "\n"
                       + json.dumps({"arn": "arn:other", "action": "modify-db-instance", "result": "refused"}) + "\n")
    assert rot.finished(journal) == {("arn:db", "modify-db-instance")}
    # aws=None: a skipped change makes no client and no call.
    (outcome,) = rot.apply(None, [change], journal, skip=rot.finished(journal))  # type: ignore[arg-type]
    assert outcome.result == "skipped"


def test_done_when_audit_finds_rotate_fixes_audit_is_clean(account: FakeAccount, tmp_path: Path) -> None:
    """The issue's acceptance run: databases on rds-ca-2019, audit exits 1, rotate --apply --yes (maintenance
    window, the default) changes exactly those, and a second audit exits 0."""
    instance("us-east-1", "a", "mysql", "8.0.39", "rds-ca-2019")
    instance("eu-west-1", "b", "postgres", "16.4", "rds-ca-2019")
    instance("eu-west-1", "c", "postgres", "16.4", "rds-ca-rsa4096-g1")
    first = run("audit", *REGIONS, "--format", "json")
    assert first.exit_code == 1
    assert {d["identifier"]: d["ca_status"] for d in first.json()["databases"]} == {"a": "retired", "b": "retired", "c": "ok"}
    assert run("rotate", *REGIONS, "--apply", "--yes", "--journal", str(tmp_path / "j.jsonl")).exit_code == 0
    assert sorted(modify_calls(account)) == [("eu-west-1", "ModifyDBInstance"), ("us-east-1", "ModifyDBInstance")]
    second = run("audit", *REGIONS, "--format", "json")
    assert second.exit_code == 0
    assert {d["identifier"]: d["pending_ca"] for d in second.json()["databases"]} == {
        "a": "rds-ca-rsa2048-g1", "b": "rds-ca-rsa2048-g1", "c": None
    }
