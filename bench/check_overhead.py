#!/usr/bin/env python3
"""Benchmark: ``rdsca check`` of an N-database program, end to end, against the SDK's own floor.

The floor is the same program run under the SDK's plain mocks (``pulumi.runtime.set_mocks`` and
``@pulumi.runtime.test``, the way Pulumi documents unit-testing a program): no transforms run, no engine
semantics, nothing analysed. A second reference runs the SDK's stock ``MockMonitor`` the way the language host
runs a program (a root ``Stack``, ``run_in_stack``, the host's executor: what ``rdsca check`` does, less rdsca's
monitor), to separate the cost of running a program faithfully from the cost of rdsca's own code.
``rdsca check`` runs the program in its own host process through the engine monitor and analyses every
database; ``--policy-pack policies`` additionally starts the pack and drives it over gRPC.
Every variant is one command, timed wall-clock from start to exit (interpreter start-up included), and the
variants are interleaved over the repetitions.

    python bench/check_overhead.py [--databases 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RDSCA = [sys.executable, "-m", "rdsca.cli"]

PROGRAM = """
import pulumi_aws as aws
ENGINES = [("mysql", "8.0.39"), ("postgres", "16.4"), ("mariadb", "10.11.9")]
for i in range({n}):
    engine, version = ENGINES[i % 3]
    aws.rds.Instance(f"db{{i}}", engine=engine, engine_version=version, instance_class="db.t4g.medium",
                     allocated_storage=20, username="admin", manage_master_user_password=True,
                     ca_cert_identifier="rds-ca-rsa2048-g1", apply_immediately=True)
"""

FLOOR = """
import runpy, sys
import pulumi

class Mocks(pulumi.runtime.Mocks):
    count = 0

    def new_resource(self, args):
        Mocks.count += 1
        return args.name + "-id", args.inputs

    def call(self, args):
        return {}

pulumi.runtime.set_mocks(Mocks(), project="bench", stack="dev", preview=True)

@pulumi.runtime.test
def run():
    runpy.run_path(sys.argv[1], run_name="__main__")

run()
print(Mocks.count, file=sys.stderr)
"""


def sdk_mocks_language_host(program: str) -> None:
    """Child: the stock MockMonitor inside rdsca's language-host run (same settings, stack and executor)."""
    from pulumi.runtime import mocks as pulumi_mocks

    from rdsca.runner import host, host_spec, load_project

    class Monitor(pulumi_mocks.MockMonitor):
        def __init__(self, mocks: pulumi_mocks.Mocks, project: str, stack: str) -> None:
            super().__init__(mocks)
            self.registrations: list = []
            self.root_urn = ""

    class Mocks(host.OfflineMocks):
        def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict]:
            return args.name + "-id", args.inputs

    host.EngineMonitor = Monitor  # type: ignore[misc,assignment]
    host.OfflineMocks = Mocks  # type: ignore[misc]
    result = host.execute(host_spec(load_project(Path(program))))
    assert result["error"] is None, result["error"]


def timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, proc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child-sdk-host", metavar="PROGRAM_DIR")
    args = parser.parse_args()
    if args.child_sdk_host:
        sdk_mocks_language_host(args.child_sdk_host)
        return
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp, "prog")
        program.mkdir()
        (program / "Pulumi.yaml").write_text("name: bench\nruntime: python\nconfig:\n  aws:region: us-west-2\n")
        (program / "__main__.py").write_text(PROGRAM.format(n=args.databases))
        floor = Path(tmp, "floor.py")
        floor.write_text(FLOOR)
        variants = {
            "plain mocks (SDK floor)": [sys.executable, str(floor), str(program / "__main__.py")],
            "SDK mocks, run as the language host runs it": [
                sys.executable, str(Path(__file__).resolve()), "--child-sdk-host", str(program),
            ],
            "rdsca check": [*RDSCA, "check", str(program), "--format", "json"],
            "rdsca check --policy-pack": [
                *RDSCA, "check", str(program), "--format", "json", "--policy-pack", str(REPO / "policies"),
            ],
        }
        times: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(args.repeat):
            for label, cmd in variants.items():
                seconds, proc = timed(cmd, program)
                assert proc.returncode == 0, proc.stderr[-2000:]
                if label.startswith("plain"):
                    assert int(proc.stderr.split()[-1]) == args.databases, proc.stderr[-500:]
                elif label.startswith("rdsca"):
                    report = json.loads(proc.stdout)
                    dbs = [r for r in report["resources"] if r["type"] == "aws:rds/instance:Instance"]
                    assert len(dbs) == args.databases
                times[label].append(seconds)
    base = statistics.median(times["plain mocks (SDK floor)"])
    print(f"{args.databases} RDS instances, {args.repeat} runs each, Python {platform.python_version()}")
    print("| command | median s | min s | max s | ratio to floor |")
    print("|---|---|---|---|---|")
    for label, samples in times.items():
        med = statistics.median(samples)
        print(f"| {label} | {med:.2f} | {min(samples):.2f} | {max(samples):.2f} | {med / base:.2f}x |")


if __name__ == "__main__":
    main()
