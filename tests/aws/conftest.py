"""A fake AWS account on a loopback port (moto server plus rdsca.aws.fake), and a CLI runner pointed at it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from rdsca.aws.fake import FakeAccount
from rdsca.cli import cli

TODAY = dt.date(2026, 11, 27)
PASSWORD = "never-print-this-1"


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAccount]:
    with FakeAccount(TODAY) as fake:  # starts from empty accounts (moto's backends are reset)
        monkeypatch.setenv("AWS_ENDPOINT_URL", fake.endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTESTING")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-key-never-printed")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        yield fake


def rds(region: str) -> Any:
    return boto3.client("rds", region_name=region)


def instance(region: str, name: str, engine: str, version: str, ca: str, **extra: Any) -> None:
    rds(region).create_db_instance(
        DBInstanceIdentifier=name, Engine=engine, EngineVersion=version, DBInstanceClass="db.m6g.large",
        AllocatedStorage=20, MasterUsername="admin", MasterUserPassword=PASSWORD, CACertificateIdentifier=ca,
        **extra,
    )


def multi_az_cluster(region: str, name: str, ca: str | None = None, **extra: Any) -> None:
    """A Multi-AZ DB cluster (non-Aurora engine with DBClusterInstanceClass), which carries its own CA."""
    if ca:
        extra["CACertificateIdentifier"] = ca
    rds(region).create_db_cluster(
        DBClusterIdentifier=name, Engine="postgres", EngineVersion="16.4", DBClusterInstanceClass="db.m6gd.large",
        StorageType="io1", AllocatedStorage=100, Iops=1000, MasterUsername="admin", MasterUserPassword=PASSWORD,
        **extra,
    )


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run(*args: str, stdin: str | None = None) -> Result:
    """``rdsca ARGS`` in process (the fake account lives in this process)."""
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def modify_calls(fake: FakeAccount) -> list[tuple[str, str]]:
    """(region, action) of every call that changes something, in order."""
    return [(c.region, c.action) for c in fake.calls if c.action.startswith(("Modify", "Apply", "Reboot"))]


def journal_pairs(path: Any) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(intent, outcome or None) for every request a journal records, in order."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    outcomes = {r["seq"]: r for r in records if r["type"] == "outcome"}
    return [(r, outcomes.get(r["seq"])) for r in records if r["type"] == "intent"]


def actions(fake: FakeAccount) -> list[str]:
    return [c.action for c in fake.calls]


@dataclass
class Org:
    """An organization in the fake: the management account (the tests' own), members by name, OUs by name."""

    management: str
    members: dict[str, str]
    ous: dict[str, str]


def organization(names: tuple[str, ...] = ("prod", "staging", "dev")) -> Org:
    """Root -> apps -> team (nested OUs); prod in apps, staging in team, the rest in the root."""
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    apps = org.create_organizational_unit(ParentId=root, Name="apps")["OrganizationalUnit"]["Id"]
    team = org.create_organizational_unit(ParentId=apps, Name="team")["OrganizationalUnit"]["Id"]
    members = {}
    for name in names:
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        members[name] = status["AccountId"]
    for name, target in (("prod", apps), ("staging", team)):
        if name in members:
            org.move_account(AccountId=members[name], SourceParentId=root, DestinationParentId=target)
    management = org.describe_organization()["Organization"]["MasterAccountId"]
    return Org(management, members, {"root": root, "apps": apps, "team": team})


def member_client(account_id: str, service: str, region: str) -> Any:
    """A client in a member account, through its OrganizationAccountAccessRole (moto partitions by account)."""
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="seed"
    )["Credentials"]
    return boto3.client(service, region_name=region, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


def member_instance(account_id: str, region: str, name: str, engine: str, version: str, ca: str) -> None:
    member_client(account_id, "rds", region).create_db_instance(
        DBInstanceIdentifier=name, Engine=engine, EngineVersion=version, DBInstanceClass="db.m6g.large",
        AllocatedStorage=20, MasterUsername="admin", MasterUserPassword=PASSWORD, CACertificateIdentifier=ca,
    )
