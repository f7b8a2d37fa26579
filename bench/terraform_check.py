"""Benchmark: ``rdsca check DIR`` on Terraform against ``checkov -d DIR --check CKV_AWS_211``, interleaved.

    python bench/terraform_check.py --checkov /path/to/venv/bin/checkov [--repeat 5]

Part 1: one .tf file with 1,000 ``aws_db_instance`` resources (four engines, half on ``rds-ca-2019``); both tools
timed wall-clock from start to exit, alternating. The script asserts that both list every verdict: rdsca 500
``rds-ca-retired`` findings, Checkov 500 failed CKV_AWS_211 checks. Part 2: 10,000 resources in 100 files, rdsca
alone: time and peak memory of the child process. Checkov runs from its own virtualenv (not a project dependency).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENGINES = [("mysql", "8.0.39"), ("postgres", "16.4"), ("mariadb", "10.11.9"), ("sqlserver-se", "15.00.4236.7.v1")]
RDSCA = [sys.executable, "-m", "rdsca.cli"]


def write_fleet(directory: Path, resources: int, files: int) -> None:
    per_file = resources // files
    for f in range(files):
        blocks = []
        for i in range(f * per_file, (f + 1) * per_file):
            engine, version = ENGINES[i % len(ENGINES)]
            ca = "rds-ca-2019" if i % 2 == 0 else "rds-ca-rsa2048-g1"
            blocks.append(
                f'resource "aws_db_instance" "db{i}" {{\n  identifier         = "db-{i}"\n'
                f'  engine             = "{engine}"\n'
                f'  engine_version     = "{version}"\n  instance_class     = "db.t4g.medium"\n'
                f'  ca_cert_identifier = "{ca}"\n  apply_immediately  = true\n}}\n'
            )
        (directory / f"fleet{f:03d}.tf").write_text("\n".join(blocks))


def timed(command: list[str]) -> tuple[float, int, str]:
    """Wall-clock seconds, exit code and stdout of one command; peak RSS of children is read separately."""
    start = time.perf_counter()
    proc = subprocess.run(
        command, capture_output=True, text=True, check=False, env={**os.environ, "RDSCA_AS_OF": "2026-11-27"}
    )
    return time.perf_counter() - start, proc.returncode, proc.stdout


def rdsca_findings(stdout: str) -> int:
    document = json.loads(stdout)
    return sum(1 for d in document["diagnostics"] if d["policy"] == "rds-ca-retired")


def checkov_failures(stdout: str) -> int:
    document = json.loads(stdout)
    reports = document if isinstance(document, list) else [document]
    return sum(len(r["results"]["failed_checks"]) for r in reports if isinstance(r, dict) and "results" in r)


def compare(directory: Path, checkov: str, repeat: int) -> None:
    rows: dict[str, list[float]] = {"rdsca check": [], "checkov CKV_AWS_211": []}
    commands = {
        "rdsca check": [*RDSCA, "check", str(directory), "--format", "json"],
        "checkov CKV_AWS_211": [
            checkov,
            "-d",
            str(directory),
            "--check",
            "CKV_AWS_211",
            "-o",
            "json",
            "--quiet",
            "--skip-download",
        ],
    }
    for _ in range(repeat):
        for name, command in commands.items():
            seconds, code, stdout = timed(command)
            count = rdsca_findings(stdout) if name == "rdsca check" else checkov_failures(stdout)
            assert count == 500, f"{name}: {count} findings (exit {code}), expected 500"
            rows[name].append(seconds)
    base = statistics.median(rows["rdsca check"])
    print("| command | runs | median s | min s | max s | ratio to rdsca |")
    print("|---|---|---|---|---|---|")
    for name, values in rows.items():
        median = statistics.median(values)
        print(
            f"| {name} | {len(values)} | {median:.2f} | {min(values):.2f} | {max(values):.2f} | {median / base:.2f}x |"
        )


def large(directory: Path) -> None:
    seconds, code, stdout = timed([*RDSCA, "check", str(directory), "--format", "json"])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    findings = rdsca_findings(stdout)
    assert findings == 5000, findings
    print(
        f"\n10,000 resources in 100 files: {seconds:.2f} s, exit {code}, {findings} rds-ca-retired findings, "
        f"peak RSS {peak_kib / 1024:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", required=True, help="path to the checkov executable (its own virtualenv)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        one, many = Path(tmp, "one"), Path(tmp, "many")
        one.mkdir()
        many.mkdir()
        write_fleet(one, 1000, 1)
        write_fleet(many, 10000, 100)
        large(many)  # first: peak RSS of children is the largest child so far
        compare(one, args.checkov, args.repeat)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
