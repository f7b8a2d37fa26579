"""``rdsca rotate`` and ``rdsca default-ca`` against the fake account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdsca.aws.fake import FakeAccount

from .conftest import instance, journal_pairs, modify_calls, multi_az_cluster, rds, run


@pytest.fixture
def fleet(account: FakeAccount) -> FakeAccount:
    instance("us-east-1", "old-mysql", "mysql", "8.0.39", "rds-ca-2019", Tags=[{"Key": "team", "Value": "billing"}])
    instance("us-east-1", "pg", "postgres", "16.4", "rds-ca-rsa2048-g1")
    instance("us-east-1", "mssql", "sqlserver-se", "15.00.4236.7.v1", "rds-ca-ecc384-g1")
    instance("eu-west-1", "maria", "mariadb", "10.6.16", "rds-ca-2019")
    account.add_docdb("eu-west-1", "docs-0", "rds-ca-2019")
    return account


REGIONS = ("--regions", "us-east-1,eu-west-1")


def cas(region: str) -> dict[str, str]:
    return {i["DBInstanceIdentifier"]: i["CACertificateIdentifier"] for i in rds(region).describe_db_instances()["DBInstances"]}


def test_dry_run_plans_and_changes_nothing(fleet: FakeAccount) -> None:
    result = run("rotate", *REGIONS, "--format", "json")
    assert result.exit_code == 0
    plan = result.json()
    assert plan["applied"] is False
    assert [(c["account"], c["identifier"], c["from_ca"], c["to_ca"], c["timing"], c["restart"]) for c in plan["plan"]] == [
        # Retired CAs: verifying clients already fail, so the change is applied now (issue 25.1, the guide).
        ("123456789012", "docs-0", "rds-ca-2019", "rds-ca-rsa2048-g1", "now", "unknown"),
        ("123456789012", "maria", "rds-ca-2019", "rds-ca-rsa2048-g1", "now", "no"),
        # A current CA (its engine refuses it) and a restart: the maintenance window.
        ("123456789012", "mssql", "rds-ca-ecc384-g1", "rds-ca-rsa2048-g1", "maintenance window", "yes"),
        ("123456789012", "old-mysql", "rds-ca-2019", "rds-ca-rsa2048-g1", "now", "unknown"),
    ]  # in a stable order: account, region, kind, name
    assert modify_calls(fleet) == []
    table = run("rotate", *REGIONS)
    assert "dry run: 4 change(s) planned; nothing was changed (add --apply)." in table.stdout
    assert "when: 123456789012 us-east-1 mssql: a change between current CAs and it restarts to rotate: waits for " \
        "the maintenance window" in table.stdout
    assert "note: a change applied now also applies every other pending modification of that database" in table.stdout


@pytest.mark.parametrize(
    ("policy", "timings"),
    [
        # "By default, this operation is scheduled to run during your next maintenance window": never a restart now.
        ("avoid", {"docs-0": "maintenance window", "maria": "now", "mssql": "maintenance window",
                   "old-mysql": "maintenance window"}),
        ("allow", {"docs-0": "now", "maria": "now", "mssql": "now", "old-mysql": "now"}),
    ],
)
def test_restart_policy_overrides_when_changes_apply(fleet: FakeAccount, policy: str, timings: dict) -> None:
    plan = run("rotate", *REGIONS, "--restart", policy, "--format", "json").json()
    assert {c["identifier"]: c["timing"] for c in plan["plan"]} == timings
    assert run("rotate", *REGIONS, "--restart", "avoid", "--apply-immediately").exit_code == 2


def test_apply_changes_exactly_the_plan_and_a_second_audit_is_clean(fleet: FakeAccount, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    result = run("rotate", *REGIONS, "--apply", "--yes", "--apply-immediately", "--journal", str(journal))
    assert result.exit_code == 0, result.stderr
    assert sorted(modify_calls(fleet)) == [("eu-west-1", "ModifyDBInstance")] * 2 + [("us-east-1", "ModifyDBInstance")] * 2
    assert cas("us-east-1") == {"old-mysql": "rds-ca-rsa2048-g1", "pg": "rds-ca-rsa2048-g1", "mssql": "rds-ca-rsa2048-g1"}
    assert cas("eu-west-1") == {"maria": "rds-ca-rsa2048-g1", "docs-0": "rds-ca-rsa2048-g1"}
    pairs = journal_pairs(journal)
    assert {(i["account"], i["resource"], i["previous_ca"], i["new_ca"], o["result"]) for i, o in pairs} == {
        ("123456789012", "old-mysql", "rds-ca-2019", "rds-ca-rsa2048-g1", "accepted"),
        ("123456789012", "mssql", "rds-ca-ecc384-g1", "rds-ca-rsa2048-g1", "accepted"),
        ("123456789012", "maria", "rds-ca-2019", "rds-ca-rsa2048-g1", "accepted"),
        ("123456789012", "docs-0", "rds-ca-2019", "rds-ca-rsa2048-g1", "accepted"),
    }
    intent = next(i for i, _ in pairs if i["resource"] == "old-mysql")
    assert intent["request"] == {
        "DBInstanceIdentifier": "old-mysql", "CACertificateIdentifier": "rds-ca-rsa2048-g1", "ApplyImmediately": True
    }
    assert "never-print-this" not in journal.read_text() and "secret-key" not in journal.read_text()
    assert run("audit", *REGIONS, "--format", "json").exit_code == 0


def test_a_scheduled_fix_is_a_finding_until_applied(fleet: FakeAccount, tmp_path: Path) -> None:
    """The maintenance window (--restart avoid) leaves the retired CA served until then: still a finding (exit 1)
    unless --accept-scheduled, and rotate does not send the same change again."""
    result = run("rotate", "--regions", "us-east-1", "--identifier", "old-*", "--restart", "avoid", "--apply", "--yes",
                 "--journal", str(tmp_path / "j.jsonl"), "--format", "json")
    assert result.exit_code == 0
    report = run("audit", "--regions", "us-east-1", "--format", "json")
    (db,) = [d for d in report.json()["databases"] if d["identifier"] == "old-mysql"]
    assert (db["ca"], db["pending_ca"], db["serving"]) == ("rds-ca-2019", "rds-ca-rsa2048-g1", "retired-ca")
    assert db["scheduled"] == "scheduled for the maintenance window wed:06:38-wed:07:08 UTC"
    assert db["findings"][0].endswith(
        "the change to rds-ca-rsa2048-g1 is scheduled for the maintenance window wed:06:38-wed:07:08 UTC (apply it "
        "now: rdsca rotate --apply-immediately)"
    )
    assert report.exit_code == 1
    accepted = run("audit", "--regions", "us-east-1", "--accept-scheduled", "--format", "json")
    (db,) = [d for d in accepted.json()["databases"] if d["identifier"] == "old-mysql"]
    assert db["findings"] == [] and db["notes"][0] == (
        "retired CA until the change to rds-ca-rsa2048-g1 lands: scheduled for the maintenance window "
        "wed:06:38-wed:07:08 UTC"
    )
    again = run("rotate", "--regions", "us-east-1", "--identifier", "old-*", "--restart", "avoid", "--format",
                "json").json()
    assert again["plan"] == [] and "already pending" in again["left_out"][0]["reason"]
    # By default (the guide's rule) the pending change to a retired CA is applied now instead.
    now = run("rotate", "--regions", "us-east-1", "--identifier", "old-*", "--format", "json").json()
    assert [(c["identifier"], c["timing"]) for c in now["plan"]] == [("old-mysql", "now")]


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
    assert "not accepted: 123456789012 eu-west-1 maria: AccessDenied: injected AccessDenied" in result.stderr
    assert "not accepted: 123456789012 eu-west-1 docs-0: AccessDenied: injected AccessDenied" in result.stderr


def test_no_restart_needs_the_acknowledgement(fleet: FakeAccount, tmp_path: Path) -> None:
    refused = run("rotate", *REGIONS, "--no-restart")
    assert refused.exit_code == 2 and "--no-restart needs --i-know-clients-do-not-verify-tls" in refused.stderr
    ok = run("rotate", "--regions", "us-east-1", "--identifier", "old-mysql", "--no-restart",
             "--i-know-clients-do-not-verify-tls", "--apply", "--yes", "--journal", str(tmp_path / "j.jsonl"))
    assert ok.exit_code == 0
    ((intent, _),) = journal_pairs(tmp_path / "j.jsonl")
    assert intent["request"]["CertificateRotationRestart"] is False


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


def test_a_retired_ca_with_a_pending_rotation_action_gets_one_change(account: FakeAccount, tmp_path: Path) -> None:
    """Issue 25.5: a database on rds-ca-2019 with a pending ca-certificate-rotation action got both
    ApplyPendingMaintenanceAction and ModifyDBInstance in one plan. The CA change wins (it sets the chosen CA with
    the chosen apply mode); the action is named as not applied."""
    instance("us-east-1", "old", "postgres", "16.4", "rds-ca-2019")
    arn = account.arn("us-east-1", "old")
    account.maintenance[arn] = [{"Action": "ca-certificate-rotation", "OptInStatus": "pending"}]
    result = run("rotate", "--regions", "us-east-1", "--pending-maintenance", "--ca", "rds-ca-rsa4096-g1", "--apply",
                 "--yes", "--apply-immediately", "--journal", str(tmp_path / "j.jsonl"))
    assert result.exit_code == 0, result.stderr
    assert modify_calls(account) == [("us-east-1", "ModifyDBInstance")]
    assert account.database("us-east-1", "old").ca == "rds-ca-rsa4096-g1"
    assert "old: pending ca-certificate-rotation not applied: the CA change to rds-ca-rsa4096-g1 replaces it" in (
        result.stdout + result.stderr)


def test_multi_az_cluster_is_modified_as_a_cluster(account: FakeAccount, tmp_path: Path) -> None:
    multi_az_cluster("us-east-1", "ledger", "rds-ca-2019")
    result = run("rotate", "--regions", "us-east-1", "--apply", "--yes", "--apply-immediately",
                 "--journal", str(tmp_path / "j.jsonl"))
    assert result.exit_code == 0, result.stderr
    assert ("us-east-1", "ModifyDBCluster") in modify_calls(account)
    assert account.database("us-east-1", "ledger", "cluster").ca == "rds-ca-rsa2048-g1"
    ((intent, _),) = journal_pairs(tmp_path / "j.jsonl")
    assert intent["request"] == {"DBClusterIdentifier": "ledger", "CACertificateIdentifier": "rds-ca-rsa2048-g1",
                                 "ApplyImmediately": True}


def test_no_restart_is_never_sent_to_modify_db_cluster(account: FakeAccount, tmp_path: Path) -> None:
    """ModifyDBCluster has no CertificateRotationRestart (botocore's model; sending it failed with "Unknown
    parameter"): a Multi-AZ DB cluster is left out of a --no-restart run, and the reason says what to do instead."""
    multi_az_cluster("us-east-1", "ledger", "rds-ca-2019")
    instance("us-east-1", "db", "mysql", "8.0.39", "rds-ca-2019")
    result = run("rotate", "--regions", "us-east-1", "--no-restart", "--i-know-clients-do-not-verify-tls",
                 "--apply", "--yes", "--apply-immediately", "--journal", str(tmp_path / "j.jsonl"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert modify_calls(account) == [("us-east-1", "ModifyDBInstance")]
    (left,) = result.json()["left_out"]
    assert left["arn"].endswith(":cluster:ledger")
    assert left["reason"].startswith("ModifyDBCluster has no CertificateRotationRestart parameter")


def test_default_ca_show_set_refuse_and_remove(fleet: FakeAccount, tmp_path: Path) -> None:
    shown = run("default-ca", "show", *REGIONS, "--format", "json").json()
    assert [(r["account"], r["region"], r["default_ca"], r["override"]) for r in shown] == [
        ("123456789012", "us-east-1", "rds-ca-rsa2048-g1", None), ("123456789012", "eu-west-1", "rds-ca-rsa2048-g1", None)
    ]
    # SQL Server in us-east-1 refuses ECC384: setting it as the default there would break new SQL Server launches.
    journal = tmp_path / "d.jsonl"
    refused = run("default-ca", "set", "rds-ca-ecc384-g1", *REGIONS, "--apply", "--journal", str(journal), "--format", "json")
    assert refused.exit_code == 1
    outcome = {o["region"]: (o["result"], o["message"]) for o in refused.json()}
    assert outcome["us-east-1"] == ("refused", "engines in use refuse rds-ca-ecc384-g1: mssql (sqlserver-se 15.00.4236.7.v1)")
    assert outcome["eu-west-1"] == ("done", "set the default to rds-ca-ecc384-g1")
    assert fleet.region("eu-west-1").override == "rds-ca-ecc384-g1" and fleet.region("us-east-1").override is None
    ((intent, result),) = journal_pairs(journal)
    assert (intent["account"], intent["region"], intent["action"], result["result"]) == (
        "123456789012", "eu-west-1", "modify-certificates", "accepted"
    )
    dry = run("default-ca", "remove", "--regions", "eu-west-1")
    assert dry.exit_code == 0 and "dry run" in dry.stdout and fleet.region("eu-west-1").override == "rds-ca-ecc384-g1"
    assert run("default-ca", "remove", "--regions", "eu-west-1", "--apply").exit_code == 0
    assert fleet.region("eu-west-1").override is None


def test_done_when_audit_finds_rotate_fixes_audit_is_clean(account: FakeAccount, tmp_path: Path) -> None:
    """Databases on rds-ca-2019: audit exits 1; rotate --apply --yes changes exactly those, now (their verifying
    clients already fail: AWS's guide), and the next audit is clean. With --restart avoid the change waits: the
    audit still exits 1 while the retired CA is served (0 with --accept-scheduled), and 0 once the maintenance
    window has applied the change."""
    instance("us-east-1", "a", "mysql", "8.0.39", "rds-ca-2019")
    instance("eu-west-1", "b", "postgres", "16.4", "rds-ca-2019")
    instance("eu-west-1", "c", "postgres", "16.4", "rds-ca-rsa4096-g1")
    first = run("audit", *REGIONS, "--format", "json")
    assert first.exit_code == 1
    assert {d["identifier"]: d["ca_status"] for d in first.json()["databases"]} == {"a": "retired", "b": "retired", "c": "ok"}
    instance("us-east-1", "d", "mysql", "8.0.39", "rds-ca-2019")
    rotate = ("rotate", *REGIONS, "--apply", "--yes", "--journal", str(tmp_path / "j.jsonl"))
    assert run(*rotate, "--identifier", "d").exit_code == 0
    assert account.database("us-east-1", "d").ca == "rds-ca-rsa2048-g1"  # applied now
    assert run(*rotate, "--restart", "avoid").exit_code == 0
    assert sorted(modify_calls(account)) == [("eu-west-1", "ModifyDBInstance")] + [("us-east-1", "ModifyDBInstance")] * 2
    second = run("audit", *REGIONS, "--format", "json")
    assert second.exit_code == 1
    assert {d["identifier"]: d["pending_ca"] for d in second.json()["databases"]} == {
        "a": "rds-ca-rsa2048-g1", "b": "rds-ca-rsa2048-g1", "c": None, "d": None
    }
    assert run("audit", *REGIONS, "--accept-scheduled").exit_code == 0
    account.run_maintenance()
    assert run("audit", *REGIONS).exit_code == 0


def test_plan_json_is_stable_across_runs(fleet: FakeAccount) -> None:
    first = run("rotate", *REGIONS, "--format", "json").json()
    second = run("rotate", *REGIONS, "--format", "json").json()
    assert first == second
    assert json.dumps(first)  # serialisable


def test_default_ca_show_reads_the_setting_without_listing_databases(account: FakeAccount) -> None:
    """`default-ca show` scanned every database of every region to print one setting per region."""
    for region in ("us-east-1", "eu-west-1"):
        instance(region, f"db-{region}", "mysql", "8.0.39", "rds-ca-2019")
    account.calls.clear()
    shown = run("default-ca", "show", *REGIONS, "--format", "json").json()
    assert {(r["region"], r["default_ca"]) for r in shown} == {
        ("us-east-1", "rds-ca-rsa2048-g1"),
        ("eu-west-1", "rds-ca-rsa2048-g1"),
    }
    rds_actions = {c.action for c in account.calls if c.service == "rds"}
    assert rds_actions == {"DescribeCertificates"}


def test_no_restart_with_only_a_multi_az_cluster_says_why_and_exits_1(account: FakeAccount, tmp_path: Path) -> None:
    """`rotate --apply --no-restart` with only a Multi-AZ cluster selected said "nothing to change" and exited 0 while
    the cluster stayed on rds-ca-2019."""
    multi_az_cluster("us-east-1", "ledger", "rds-ca-2019")
    result = run("rotate", "--regions", "us-east-1", "--apply", "--yes", "--no-restart", "--i-know-clients-do-not-verify-tls",
                 "--journal", str(tmp_path / "j.jsonl"))
    assert result.exit_code == 1, result.stderr
    assert "left out: 123456789012 us-east-1 ledger: ModifyDBCluster has no CertificateRotationRestart" in result.stderr
    assert "nothing could be changed" in result.stderr
    assert modify_calls(account) == []


def _probe_file(tmp_path: Path, report: dict, verdicts: dict[str, str | None]) -> Path:
    """A probe JSON (the shape `rdsca probe --format json` writes: host, port, probed, target_ca, stores) for the
    databases of an audit: identifier -> the store's rotation answer, or None for "could not probe"."""
    endpoints = []
    for db in report["databases"]:
        if db["identifier"] not in verdicts or not db["endpoint_address"]:
            continue
        verdict = verdicts[db["identifier"]]
        endpoints.append({
            "endpoint": f"{db['endpoint_address']}:{db['endpoint_port']}", "host": db["endpoint_address"].upper(),
            "port": db["endpoint_port"], "probed": verdict is not None, "error": None if verdict else "timed out",
            "target_ca": "rds-ca-rsa2048-g1",
            "stores": [{"store": "/etc/ssl/app.pem", "rotation": verdict}] if verdict else [],
        })
    path = tmp_path / "probe.json"
    path.write_text(json.dumps({"as_of": "2026-11-27", "stores": [], "endpoints": endpoints}))
    return path


def test_clients_first_ready_from_refuses_changes_whose_clients_will_break(fleet: FakeAccount, tmp_path: Path) -> None:
    """Issue 25.3, AWS's guide: "Before you update your DB instances ... make sure that you update your clients".
    With --ready-from, a database whose probe says a store will break, or that was not probed, is not changed
    (exit 1, each named); the others are."""
    report = run("audit", *REGIONS, "--format", "json").json()
    probe = _probe_file(tmp_path, report, {"old-mysql": "ready", "maria": "will-break", "mssql": None})
    plan = run("rotate", *REGIONS, "--ready-from", str(probe), "--format", "json")
    assert plan.exit_code == 1
    doc = plan.json()
    assert [c["identifier"] for c in doc["plan"]] == ["old-mysql"]
    reasons = {r["arn"].rsplit(":", 1)[1]: r["reason"] for r in doc["left_out"]}
    assert reasons["maria"] == ("clients not ready: clients with /etc/ssl/app.pem will break once it serves "
                                "rds-ca-rsa2048-g1")
    assert reasons["mssql"] == "clients not ready: not probed: timed out"
    assert reasons["docs-0"] in ("clients not ready: AWS lists no endpoint for it (yet)",
                                 "clients not ready: not probed: run rdsca probe --from-audit AUDIT.json --store ... "
                                 "first")
    applied = run("rotate", *REGIONS, "--ready-from", str(probe), "--apply", "--yes",
                  "--journal", str(tmp_path / "j.jsonl"))
    assert applied.exit_code == 1
    assert modify_calls(fleet) == [("us-east-1", "ModifyDBInstance")]
    # audit joins the same file: a CLIENTS column, and the JSON says why.
    joined = run("audit", *REGIONS, "--probe", str(probe), "--format", "json").json()
    clients = {d["identifier"]: d["clients"] and d["clients"]["state"] for d in joined["databases"]}
    assert (clients["maria"], clients["mssql"], clients["old-mysql"]) == ("will-break", "not-probed", "ready")
    table = run("audit", *REGIONS, "--probe", str(probe))
    assert "CLIENTS" in table.stdout.splitlines()[0]


def test_a_probe_file_that_is_not_one_is_exit_2_before_any_call(fleet: FakeAccount, tmp_path: Path) -> None:
    bad = tmp_path / "probe.json"
    bad.write_text('{"endpoints": [{"host": 3}]}')
    result = run("rotate", *REGIONS, "--ready-from", str(bad))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == f"rdsca: error: {bad}: endpoint #0 has no host and port"
    assert run("audit", *REGIONS, "--probe", str(bad)).exit_code == 2


def test_a_change_applied_now_names_the_other_pending_modifications(fleet: FakeAccount) -> None:
    """Issue 25.8, AWS's guide: applying immediately also applies every other pending modification. The plan names
    them (their names only: PendingModifiedValues can hold a master password, whose value is never read)."""
    db = fleet.database("us-east-1", "old-mysql")
    db.pending_other = {"AllocatedStorage": "200", "MasterUserPassword": "never-print-this-either"}
    result = run("rotate", *REGIONS)
    assert ("note: 123456789012 us-east-1 old-mysql: applied now, its change also applies the pending "
            "AllocatedStorage, MasterUserPassword (PendingModifiedValues)") in result.stdout
    assert "never-print-this-either" not in result.stdout + result.stderr
    report = run("audit", *REGIONS, "--format", "json").json()
    (row,) = [d for d in report["databases"] if d["identifier"] == "old-mysql"]
    assert row["pending_changes"] == ["AllocatedStorage", "MasterUserPassword"]
    assert "never-print-this-either" not in json.dumps(report)
