"""Every account of an AWS Organization: selection (--org, --ou, --accounts), assumed roles, one account's failure
reported while the rest goes on, the account on every row and journal line, rotate and default-ca across accounts."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from rdsca.aws.fake import FakeAccount

from .conftest import Org, instance, journal_pairs, member_instance, organization, run

US = ("--regions", "us-east-1")


@pytest.fixture
def org(account: FakeAccount) -> Org:
    found = organization()
    instance("us-east-1", "mgmt-db", "mysql", "8.0.39", "rds-ca-2019")
    member_instance(found.members["prod"], "us-east-1", "prod-db", "mysql", "8.0.39", "rds-ca-2019")
    member_instance(found.members["staging"], "us-east-1", "staging-db", "postgres", "16.4", "rds-ca-rsa2048-g1")
    member_instance(found.members["dev"], "us-east-1", "dev-db", "postgres", "16.4", "rds-ca-2019")
    account.assumed.clear()  # the seeding's own
    return found


def _rows(result: object) -> set[tuple[str, str]]:
    return {(d["account"], d["identifier"]) for d in result.json()["databases"]}  # type: ignore[attr-defined]


def test_org_scans_every_member_but_not_the_management_account(org: Org) -> None:
    result = run("audit", "--org", *US, "--format", "json")
    assert result.exit_code == 1, result.stderr
    m = org.members
    assert _rows(result) == {(m["prod"], "prod-db"), (m["staging"], "staging-db"), (m["dev"], "dev-db")}
    assert [a["account"] for a in result.json()["accounts"]] == sorted(m.values())
    with_management = run("audit", "--org", "--include-management", *US, "--format", "json")
    assert (org.management, "mgmt-db") in _rows(with_management)


def test_an_ou_takes_the_units_below_it(org: Org) -> None:
    m = org.members
    apps = run("audit", "--ou", org.ous["apps"], *US, "--format", "json")
    assert _rows(apps) == {(m["prod"], "prod-db"), (m["staging"], "staging-db")}
    team = run("audit", "--ou", org.ous["team"], *US, "--format", "json")
    assert _rows(team) == {(m["staging"], "staging-db")}


def test_accounts_by_id(org: Org, account: FakeAccount) -> None:
    m = org.members
    result = run("audit", "--accounts", f"{m['dev']},{org.management}", *US, "--format", "json")
    assert _rows(result) == {(m["dev"], "dev-db"), (org.management, "mgmt-db")}
    # The caller's own account is read with its own credentials: no role is assumed into it.
    assert [a["RoleArn"].split(":")[4] for a in account.assumed] == [m["dev"]]


def test_roles_are_assumed_with_a_session_name_and_the_external_id(org: Org, account: FakeAccount) -> None:
    run("audit", "--accounts", org.members["prod"], "--role-name", "Auditor", "--external-id", "shared-secret-id", *US)
    (assumed,) = account.assumed
    assert assumed == {"RoleArn": f"arn:aws:iam::{org.members['prod']}:role/Auditor",
                       "RoleSessionName": "rdsca-moto", "ExternalId": "shared-secret-id"}


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("missing role", "cannot reach the account (AccessDenied: User: arn:aws:iam::123456789012:user/operator is not "
                         "authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{dev}:role/"
                         "OrganizationAccountAccessRole)"),
        ("service control policy", "us-east-1: cannot list DB instances (AccessDenied: User: arn:aws:sts::{dev}:"
                                   "assumed-role/rdsca is not authorized to perform: rds:DescribeDBInstances with an "
                                   "explicit deny in a service control policy)"),
        ("region not enabled", "us-east-1: cannot list DB instances (InvalidClientTokenId: The security token included "
                               "in the request is invalid.)"),
    ],
)
def test_one_account_failing_is_reported_and_the_rest_goes_on(org: Org, account: FakeAccount, fault: str, error: str) -> None:
    dev = org.members["dev"]
    if fault == "missing role":
        account.missing_roles.add((dev, "OrganizationAccountAccessRole"))
    elif fault == "service control policy":
        account.scp_denied[dev] = {"rds"}
    else:
        account.opted_out.add((dev, "us-east-1"))
    result = run("audit", "--org", *US, "--format", "json")
    assert result.exit_code == 2
    m = org.members
    assert _rows(result) == {(m["prod"], "prod-db"), (m["staging"], "staging-db")}
    assert result.json()["errors"] == [f"{dev} {error.format(dev=dev)}" if fault != "missing role"
                                       else f"{dev}: {error.format(dev=dev)}"]
    assert f"error: {dev}" in result.stderr


def test_a_region_an_account_has_not_enabled_is_not_scanned_by_default(org: Org, account: FakeAccount) -> None:
    dev = org.members["dev"]
    member_instance(dev, "eu-west-1", "dev-eu", "mysql", "8.0.39", "rds-ca-2019")
    account.opted_out.add((dev, "eu-west-1"))
    result = run("audit", "--accounts", dev, "--format", "json")
    assert result.exit_code == 1, result.stderr
    regions = [r["region"] for r in result.json()["regions"]]
    assert "eu-west-1" not in regions and "us-east-1" in regions
    assert _rows(result) == {(dev, "dev-db")}


def test_every_output_names_the_account(org: Org) -> None:
    prod = org.members["prod"]
    args = ("audit", "--accounts", prod, *US)
    table = run(*args).stdout
    assert table.splitlines()[0].startswith("ACCOUNT ") and table.splitlines()[2].startswith(prod)
    rows = list(csv.DictReader(io.StringIO(run(*args, "--format", "csv").stdout)))
    # One row per finding (issue 26.7): one database, each of its findings on a row of its own, each naming it.
    assert {(r["account"], r["identifier"]) for r in rows} == {(prod, rows[0]["identifier"])}
    assert len({r["finding"] for r in rows}) == len(rows) and all(r["policy"].startswith("rds-ca-") for r in rows)
    sarif = run(*args, "--format", "sarif").json()
    assert all(f"(account {prod}, us-east-1)" in r["message"]["text"] for r in sarif["runs"][0]["results"])


def test_progress_is_shown_on_stderr(org: Org) -> None:
    result = run("audit", "--org", "--include-management", *US)
    assert result.stderr.splitlines()[-1] == (
        "scanned 4/4 account(s), 4/4 region(s): 4 database(s), 3 with findings so far"
    )


def test_rotate_across_accounts_journals_each_account(org: Org, account: FakeAccount, tmp_path: Path, state_dir: Path) -> None:
    journal = tmp_path / "j.jsonl"
    result = run("rotate", "--org", "--include-management", *US, "--apply", "--yes", "--journal", str(journal))
    assert result.exit_code == 0, result.stderr
    changed = {(c["account"], c["identifier"]) for c in account.changes if c["action"] == "ModifyDBInstance"}
    m = org.members
    assert changed == {(org.management, "mgmt-db"), (m["prod"], "prod-db"), (m["dev"], "dev-db")}
    pairs = journal_pairs(journal)
    assert {(i["account"], i["resource"], o["result"]) for i, o in pairs} == {(a, r, "accepted") for a, r in changed}
    assert sorted(p.name for p in (state_dir / "locks").glob("account-*")) == sorted(
        f"account-{a}-us-east-1.lock" for a in (org.management, *m.values())
    )
    again = run("rotate", "--org", "--include-management", *US, "--apply", "--yes", "--resume", str(journal))
    assert again.exit_code == 0 and "nothing to change" in again.stderr


def test_default_ca_across_accounts(org: Org, account: FakeAccount, tmp_path: Path) -> None:
    result = run("default-ca", "set", "rds-ca-rsa4096-g1", "--org", *US, "--apply", "--journal",
                 str(tmp_path / "d.jsonl"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert sorted((o["account"], o["result"]) for o in result.json()) == sorted(
        (a, "done") for a in org.members.values()
    )
    assert {a: account.region("us-east-1", a).override for a in org.members.values()} == dict.fromkeys(
        org.members.values(), "rds-ca-rsa4096-g1"
    )
    assert account.region("us-east-1").override is None  # the management account was not asked for
    assert sorted(i["account"] for i, _ in journal_pairs(tmp_path / "d.jsonl")) == sorted(org.members.values())


def test_workers_do_not_change_the_result(org: Org) -> None:
    one = run("audit", "--org", *US, "--workers", "1", "--format", "json").json()
    many = run("audit", "--org", *US, "--workers", "16", "--format", "json").json()
    assert json.dumps(one["databases"]) == json.dumps(many["databases"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--org", "--accounts", "111111111111"), "--org and --accounts cannot be combined"),
        (("--accounts", "111111111111,,222222222222"), "an empty account id"),
        (("--accounts", "12345"), "'12345' is not an AWS account id (12 digits)"),
        (("--ou", "team"), "'team' is not an organizational unit id"),
        (("--external-id", "x"), "--external-id needs --org, --ou or --accounts"),
        (("--accounts", "111111111111", "--include-management"), "--include-management applies to --org and --ou"),
    ],
)
def test_account_selection_usage_errors(account: FakeAccount, args: tuple[str, ...], message: str) -> None:
    result = run("audit", *args, *US)
    assert result.exit_code == 2 and message in result.stderr
    assert account.calls == []


def test_only_active_accounts_are_selected() -> None:
    from rdsca.aws.accounts import _active

    assert _active({"State": "ACTIVE", "Status": "SUSPENDED"})
    assert not _active({"State": "SUSPENDED", "Status": "ACTIVE"})  # State wins: Status is being retired
    assert not _active({"State": "PENDING_CLOSURE"})
    assert _active({"Status": "ACTIVE"})  # an older API answer without State


def test_assumed_credentials_are_renewed_before_they_expire(org: Org, account: FakeAccount) -> None:
    """botocore renews the credentials 15 minutes before they end: 15-minute credentials (STS's shortest) are
    renewed at every call, as a long run's are each time they near their end; hour-long ones are not."""
    from rdsca.aws.session import Aws

    caller = Aws()
    prod = caller.assume(org.members["prod"], "OrganizationAccountAccessRole", "rdsca-test", duration_seconds=900)
    client = prod.client("rds", "us-east-1")
    for _ in range(3):
        client.describe_db_instances()
    assert len(account.assumed) >= 3
    short = caller.assume(org.members["prod"], "OrganizationAccountAccessRole", "rdsca-test")
    before = len(account.assumed)
    client = short.client("rds", "us-east-1")
    for _ in range(3):
        client.describe_db_instances()
    assert len(account.assumed) == before + 1


def test_the_per_account_rate_allows_a_burst_then_paces(monkeypatch: pytest.MonkeyPatch) -> None:
    from rdsca.aws import session

    now = [100.0]
    slept: list[float] = []
    monkeypatch.setattr(session.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(session.time, "sleep", lambda s: slept.append(round(s, 3)))
    limiter = session.RateLimiter(10, burst=5)
    for _ in range(7):
        limiter.wait()
    assert slept == [0.1, 0.2]  # five at once, then one every 0.1 s
    now[0] += 1.0  # a quiet second refills ten tokens, capped at the burst of five
    slept.clear()
    for _ in range(5):
        limiter.wait()
    assert slept == []


def test_the_demo_organization_has_the_same_account_ids_on_every_run() -> None:
    """moto makes up account ids at random: a demo whose ids change cannot be followed from the README."""
    from ..conftest import invoke

    seen = []
    for _ in range(2):
        _code, out, _err = invoke("audit", "--demo", "--org", "--format", "json")
        seen.append(sorted({d["account"] for d in json.loads(out)["databases"]}))
    assert seen[0] == seen[1] and seen[0]
