"""The example programs run offline, unmodified: Aurora, RDS for MySQL and DocumentDB stacks that look up
availability zones, AMIs, the default VPC and the account id, as real programs do."""

from __future__ import annotations

import json

import pytest

from .conftest import REPO, rdsca

LOOKUPS = {
    "aws:index/getAvailabilityZones:getAvailabilityZones",
    "aws:index/getCallerIdentity:getCallerIdentity",
    "aws:ec2/getVpc:getVpc",
}


@pytest.mark.parametrize(
    ("example", "code", "databases", "more_lookups"),
    [
        (
            "aurora-default-vpc",
            0,
            {("orders-0", "eu-central-1", "rds-ca-rsa4096-g1", "ok"), ("orders-1", "eu-central-1", "rds-ca-rsa4096-g1", "ok")},
            # get_engine_version: the version and rotation flag are the catalog's, its other fields placeholders.
            {"aws:ec2/getAmi:getAmi", "aws:ec2/getSubnets:getSubnets", "aws:rds/getEngineVersion:getEngineVersion"},
        ),
        (
            "mysql-web-tier",
            1,
            {("shop-mysql", "us-east-1", "rds-ca-2019", "retired"),
             ("shop-mysql-replica", "us-east-1", "rds-ca-rsa2048-g1", "ok")},
            {"aws:ec2/getAmi:getAmi", "aws:index/getPartition:getPartition", "aws:iam/getPolicyDocument:getPolicyDocument"},
        ),
        (
            "docdb-catalog",
            0,
            {(f"catalog-ap-southeast-2{zone}", "ap-southeast-2", "rds-ca-ecc384-g1", "ok") for zone in "abc"},
            {"aws:ec2/getSubnets:getSubnets", "aws:rds/getEngineVersion:getEngineVersion"},
        ),
    ],
)
def test_example_runs_offline(example: str, code: int, databases: set, more_lookups: set) -> None:
    proc = rdsca("check", str(REPO / "examples" / example), "--format", "json")
    assert proc.returncode == code, proc.stderr
    report = json.loads(proc.stdout)
    assert {(d["name"], d["region"], d["ca"], d["status"]) for d in report["databases"]} == databases
    assert {p["token"] for p in report["placeholder_answers"]} == LOOKUPS | more_lookups
    assert [w for w in report["warnings"] if w.startswith("data sources answered with placeholder values")]


def test_the_docdb_example_finds_its_clusters_version() -> None:
    """DocumentDB 5.0 takes ECC384; the instances' version comes from their cluster, through the dependency."""
    report = json.loads(rdsca("check", str(REPO / "examples" / "docdb-catalog"), "--format", "json").stdout)
    assert {d["engine_version"] for d in report["databases"]} == {"5.0.0"}
