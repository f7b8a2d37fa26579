#!/usr/bin/env python3
"""Benchmark: ``rdsca probe`` over 200 endpoints vs ``openssl s_client -starttls`` once per endpoint.

Real PostgreSQL and MariaDB servers on loopback (several of each, each on its own port, TLS on with a generated
test chain, started as the probe tests start them), listed in an audit-format file so that one ``rdsca probe``
command reaches every engine its own way. Variants, interleaved over the repetitions, each timed wall-clock from
start to exit:

- ``rdsca probe`` with its default concurrency (16), one command for all endpoints (interpreter start included,
  and measured alone as ``rdsca probe --help``);
- the same with ``--concurrency 1``;
- the manual method: ``openssl s_client -starttls postgres|mysql`` once per endpoint, one after another, verifying
  the chain against the same root and the host name (``-verify_return_error -verify_hostname``);
- the same ``s_client`` commands, 16 at a time (what a shell loop with ``xargs -P 16`` gives).

    python bench/probe_endpoints.py [--endpoints 200] [--servers 4] [--repeat 5]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.probe import pki, servers  # noqa: E402 - the probe tests' own server start-up

RDSCA = [sys.executable, "-m", "rdsca.cli", "probe"]


def start(count: int, workdir: Path) -> tuple[list[tuple[str, int]], list[servers.Server], Path]:
    """``count`` PostgreSQL and ``count`` MariaDB servers; returns (engine, port) pairs, the servers, the root."""
    root = pki.ca("bench root")
    cert, key = pki.write(workdir, "server", pki.server(["localhost"], root))
    root_file = workdir / "root.pem"
    root_file.write_bytes(root.pem)
    pg_template, maria_template = servers.postgres_template(), servers.mariadb_template()
    running, ports = [], []
    for _ in range(count):
        pg = servers.start_postgres(cert, key, template=pg_template)
        maria = servers.start_mariadb(maria_template, cert, key, root_file)
        running += [pg, maria]
        ports += [("postgres", pg.port), ("mariadb", maria.port)]
    return ports, running, root_file


def audit_file(endpoints: list[tuple[str, int]], path: Path) -> None:
    rows = [
        {
            "region": "us-east-1",
            "identifier": f"db-{i}",
            "engine": engine,
            "endpoint_address": "localhost",
            "endpoint_port": port,
            "ca": None,
        }
        for i, (engine, port) in enumerate(endpoints)
    ]
    path.write_text(json.dumps({"databases": rows}))


def s_client(engine: str, port: int, root: Path) -> None:
    starttls = "postgres" if engine == "postgres" else "mysql"
    done = subprocess.run(
        [
            "openssl",
            "s_client",
            "-connect",
            f"localhost:{port}",
            "-starttls",
            starttls,
            "-servername",
            "localhost",
            "-CAfile",
            str(root),
            "-verify_return_error",
            "-verify_hostname",
            "localhost",
            "-brief",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or "Verification: OK" not in done.stderr:
        raise SystemExit(f"s_client failed on {engine} {port}: {done.stderr[-300:]}")


def timed(run: object) -> float:
    started = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoints", type=int, default=200)
    parser.add_argument("--servers", type=int, default=4, help="PostgreSQL servers, and as many MariaDB servers")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ports, running, root = start(args.servers, work)
        try:
            endpoints = [ports[i % len(ports)] for i in range(args.endpoints)]
            audit = work / "audit.json"
            audit_file(endpoints, audit)
            env = dict(os.environ, RDSCA_AS_OF=pki.NOW.date().isoformat())

            def probe(*extra: str) -> None:
                done = subprocess.run(
                    [*RDSCA, "--from-audit", str(audit), "--store", str(root), "--format", "json", *extra],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                report = json.loads(done.stdout)
                trusted = sum(1 for e in report["endpoints"] for s in e["stores"] if s["trusted"])
                if done.returncode != 0 or trusted != args.endpoints:
                    raise SystemExit(f"rdsca probe: exit {done.returncode}, {trusted} trusted: {done.stderr[-300:]}")

            def manual(workers: int) -> None:
                with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                    list(pool.map(lambda e: s_client(e[0], e[1], root), endpoints))

            def startup() -> None:
                subprocess.run([*RDSCA, "--help"], env=env, capture_output=True, check=True)

            variants = {
                "rdsca start-up alone (probe --help)": startup,
                "rdsca probe (concurrency 16)": lambda: probe(),
                "rdsca probe --concurrency 1": lambda: probe("--concurrency", "1"),
                "openssl s_client, one after another": lambda: manual(1),
                "openssl s_client, 16 at a time": lambda: manual(16),
            }
            print(f"load average before: {os.getloadavg()}", flush=True)
            times: dict[str, list[float]] = {name: [] for name in variants}
            for round_ in range(args.repeat):
                for name, run in variants.items():
                    times[name].append(timed(run))
                print(f"round {round_ + 1}: " + ", ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items()), flush=True)
            print(f"load average after: {os.getloadavg()}")
        finally:
            for server in running:
                server.stop()
    base = statistics.median(times["openssl s_client, one after another"])
    print(
        f"\n{args.endpoints} endpoints on {len(ports)} ports ({args.servers} PostgreSQL + {args.servers} MariaDB), "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {args.repeat} interleaved rounds\n"
    )
    print("| method | median s | min s | max s | ms per endpoint | speed-up over s_client one by one |")
    print("|---|---|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median:.2f} | {min(values):.2f} | {max(values):.2f} | "
            f"{1000 * median / args.endpoints:.1f} | {base / median:.1f}x |"
        )


if __name__ == "__main__":
    main()
