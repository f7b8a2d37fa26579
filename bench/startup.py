#!/usr/bin/env python3
"""Benchmark: start-up (issue 30, goal 3): ``rdsca --help``, the reference stack with and without the policy pack,
and a 1,000-resource Terraform check, against the interpreter alone.

    python bench/startup.py [--repeat 8]

Each command is timed wall-clock from start to exit, the commands interleaved over the repetitions, each run once
untimed first; the load average is printed before and after. Bytecode is read and written as an installed package's
is (pip compiles it at install), even when this shell sets ``PYTHONDONTWRITEBYTECODE``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RDSCA = [sys.executable, "-m", "rdsca.cli"]
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "RDSCA_AS_OF": "2026-11-27"}
GOALS = {"rdsca --help": 0.1, "rdsca check . --policy-pack policies (reference stack)": 0.8}


def write_terraform(directory: Path, resources: int) -> None:
    blocks = [
        f'resource "aws_db_instance" "db{i}" {{\n  engine             = "postgres"\n'
        f'  ca_cert_identifier = "{"rds-ca-2019" if i % 2 == 0 else "rds-ca-rsa2048-g1"}"\n'
        "  apply_immediately  = true\n}\n"
        for i in range(resources)
    ]
    (directory / "main.tf").write_text("\n".join(blocks))


def run(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=ENV, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed (exit {done.returncode}): {done.stderr.decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=8)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        write_terraform(Path(tmp), 1000)
        commands = {
            "python -c pass (the interpreter alone)": [sys.executable, "-c", "pass"],
            "rdsca --help": [*RDSCA, "--help"],
            "rdsca check . (reference stack)": [*RDSCA, "check", ".", "--format", "json"],
            "rdsca check . --policy-pack policies (reference stack)": [
                *RDSCA, "check", ".", "--format", "json", "--policy-pack", "policies",
            ],
            "rdsca check DIR (Terraform, 1,000 resources)": [*RDSCA, "check", tmp, "--format", "json"],
        }
        for command in commands.values():
            run(command)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                times[name].append(run(command))
    print(f"\n{args.repeat} interleaved runs each")
    print("| command | median s | min s | max s | goal |")
    print("|---|---|---|---|---|")
    for name, samples in times.items():
        goal = f"< {GOALS[name]} s" if name in GOALS else "-"
        print(f"| {name} | {statistics.median(samples):.3f} | {min(samples):.3f} | {max(samples):.3f} | {goal} |")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
