#!/usr/bin/env python3
"""Benchmark: ``rdsca audit`` across an organisation, the fake AWS in its own process.

50 accounts x 4 regions x 100 DB instances (20,000 databases; four engines, a third of them on rds-ca-2019) in the
fake (``python -m rdsca.aws.fake`` in a child process, seeded through its control API), with a simulated latency
added to every call. The scan is ``rdsca audit --accounts ...``'s (``rdsca.aws.live.scan_scope``: an assumed role
per account, every account x region on a bounded pool, a per-account rate limit); it runs with one worker and with
the default pool, interleaved, ``--repeat`` times each. Reports wall time (median, min, max) and API calls per account.

    python bench/org_scale.py [--accounts 50] [--regions 4] [--databases 100] [--latency 0.05] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakeproc import FakeProcess, instance

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]
ENGINES = [("mysql", "8.0.39"), ("postgres", "16.4"), ("mariadb", "10.6.16"), ("sqlserver-se", "15.00.4236.7.v1")]
CAS = ["rds-ca-2019", "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1"]
TODAY = dt.date(2026, 11, 27)


def seed(fake: FakeProcess, accounts: list[str], regions: list[str], per_region: int) -> None:
    for a, account in enumerate(accounts):
        for r, region in enumerate(regions):
            specs = []
            for i in range(per_region):
                engine, version = ENGINES[(a + r + i) % len(ENGINES)]
                specs.append(instance(f"db-{i}", engine, version, CAS[(a + r + i) % len(CAS)]))
            fake.control("seed", {"account": account, "region": region, "instances": specs})


def scan_once(accounts: list[str], regions: list[str], workers: int) -> tuple[float, dict[str, int], int, int]:
    from rdsca.aws import accounts as acc
    from rdsca.aws import audit, live

    scope = live.Scope(regions=tuple(regions), workers=workers, selection=acc.Selection(accounts=tuple(accounts)))
    start = time.perf_counter()
    scanned = live.scan_scope(scope, audit.Options(TODAY))
    seconds = time.perf_counter() - start
    result = scanned.result
    assert not result.errors, result.errors[:3]
    return seconds, scanned.calls, len(result.rows), len(result.findings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--databases", type=int, default=100, help="DB instances per account and region.")
    parser.add_argument("--latency", type=float, default=0.05, help="Seconds added to every call at the fake.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8], help="Pool sizes to compare.")
    args = parser.parse_args()
    accounts = [f"{200000000000 + i:012d}" for i in range(args.accounts)]
    regions = REGIONS[: args.regions]
    with FakeProcess(TODAY.isoformat()) as fake:
        os.environ.update(AWS_ENDPOINT_URL=fake.endpoint, AWS_ACCESS_KEY_ID="AKIDBENCH", AWS_SECRET_ACCESS_KEY="x",
                          AWS_DEFAULT_REGION="us-east-1", RDSCA_AS_OF=TODAY.isoformat())
        start = time.perf_counter()
        seed(fake, accounts, regions, args.databases)
        seeded = args.accounts * len(regions) * args.databases
        print(f"seeded {seeded} databases in {time.perf_counter() - start:.0f} s", flush=True)
        fake.control("configure", {"latency": args.latency})
        runs: dict[int, list[float]] = {w: [] for w in args.workers}
        calls: dict[int, dict[str, int]] = {}
        for round_ in range(args.repeat):
            for workers in args.workers:  # interleaved: one run of each pool size per round
                seconds, counted, rows, findings = scan_once(accounts, regions, workers)
                runs[workers].append(seconds)
                calls[workers] = counted
                print(f"round {round_ + 1}: workers={workers} {seconds:.1f} s, {rows} databases, {findings} with "
                      f"findings, {sum(counted.values())} calls", flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nPython {platform.python_version()}, {os.cpu_count()} cores, load {load:.1f} at the end; "
          f"{args.latency * 1000:.0f} ms per call")
    base = statistics.median(runs[args.workers[0]])
    print("| workers | median s | min s | max s | speed-up | calls | calls per account |")
    print("|---|---|---|---|---|---|---|")
    for workers, seconds in runs.items():
        total = sum(calls[workers].values())
        median = statistics.median(seconds)
        print(f"| {workers} | {median:.1f} | {min(seconds):.1f} | {max(seconds):.1f} | {base / median:.1f}x "
              f"| {total} | {total / args.accounts:.1f} |")
    per_op = Counter(calls[args.workers[-1]])
    print("calls per account by operation: " + ", ".join(
        f"{op} {count / args.accounts:g}" for op, count in sorted(per_op.items())))


if __name__ == "__main__":
    main()
