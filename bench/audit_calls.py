#!/usr/bin/env python3
"""Benchmark: ``rdsca audit``'s API calls and time for N instances across R regions on the local fake account.

The fake account (moto server plus ``rdsca.aws.fake``) runs on a loopback port; the scan is the one ``rdsca audit``
runs (``rdsca.aws.live.scan_scope``). Calls are counted per operation by the client seam. The same scan runs with one
worker (regions one after another) and with one worker per region, to show the regions scanning in parallel.

    python bench/audit_calls.py [--instances 2000] [--regions 4]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import math
import os
import platform
import time

import boto3

from rdsca.aws import audit, live, scan
from rdsca.aws.fake import FakeAccount

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]
ENGINES = [("mysql", "8.0.39"), ("postgres", "16.4"), ("mariadb", "10.6.16"), ("sqlserver-se", "15.00.4236.7.v1")]
CAS = ["rds-ca-2019", "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1"]


def seed(endpoint: str, region: str, count: int, offset: int) -> None:
    client = boto3.client("rds", region_name=region, endpoint_url=endpoint)
    for i in range(count):
        engine, version = ENGINES[(offset + i) % len(ENGINES)]
        client.create_db_instance(
            DBInstanceIdentifier=f"db-{offset + i}",
            Engine=engine,
            EngineVersion=version,
            DBInstanceClass="db.t4g.medium",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="bench-password-1",
            CACertificateIdentifier=CAS[(offset + i) % len(CAS)],
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument(
        "--latency", type=float, default=0.05, help="Seconds added to each scan call (real APIs are remote)."
    )
    args = parser.parse_args()
    regions = REGIONS[: args.regions]
    per_region = args.instances // len(regions)
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    with FakeAccount(dt.date.today()) as account:
        os.environ["AWS_ENDPOINT_URL"] = account.endpoint
        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(len(regions)) as pool:
            list(pool.map(lambda r: seed(account.endpoint, r[1], per_region, r[0] * per_region), enumerate(regions)))
        seeded = time.perf_counter() - start
        print(f"seeded {per_region * len(regions)} instances in {len(regions)} regions in {seeded:.1f} s")
        results = {}
        account.latency = args.latency
        for workers in (1, len(regions)):
            start = time.perf_counter()
            scope = live.Scope(regions=tuple(regions), workers=workers)
            scanned = live.scan_scope(scope, audit.Options(dt.date.today()))
            result = scanned.result
            results[workers] = (time.perf_counter() - start, scanned.calls, len(result.rows), len(result.findings))
    latency_ms = args.latency * 1000
    print(f"Python {platform.python_version()}, {per_region} instances per region, {latency_ms:.0f} ms per call")
    print("| workers | seconds | databases | findings | " + " | ".join(sorted(results[1][1])) + " |")
    print("|---|---|---|---|" + "---|" * len(results[1][1]))
    for workers, (seconds, calls, rows, findings) in results.items():
        cells = " | ".join(str(calls.get(op, 0)) for op in sorted(results[1][1]))
        print(f"| {workers} | {seconds:.2f} | {rows} | {findings} | {cells} |")
    pages = math.ceil(per_region / scan.PAGE)
    calls = results[len(regions)][1]
    per = calls["DescribeDBInstances"] / len(regions)
    print(f"DescribeDBInstances per region: {per:.0f} (pages of {scan.PAGE}: {pages})")
    versions = calls["DescribeDBEngineVersions"]
    print(f"DescribeDBEngineVersions: {versions} for {len(ENGINES)} engine versions x {len(regions)} regions")
    print(f"DescribeCertificates: {calls['DescribeCertificates']} for {len(regions)} regions")


if __name__ == "__main__":
    main()
