"""Benchmark: ``rdsca check DIR`` on Terraform against ``checkov -d DIR --check CKV_AWS_211``, interleaved.

    python3 -m venv ~/.cache/rdsca-bench/checkov && ~/.cache/rdsca-bench/checkov/bin/pip install checkov
    python bench/terraform_check.py [--checkov PATH] [--repeat 5] [--repeat-large 3]

Part 1: one .tf file with 1,000 ``aws_db_instance`` resources (four engines, half on ``rds-ca-2019``). Part 2: the
same resources ten times over, 10,000 in 100 files. Both tools are timed wall-clock from start to exit, alternating,
with each child's own peak RSS; the script asserts that both list every verdict (rdsca's ``rds-ca-retired``
findings, Checkov's failed CKV_AWS_211 checks, one per retired database). Part 3: 10,000 resources whose values come
from variables, locals, templates, conditionals and functions (each expression stays a syntax tree), rdsca alone.
Checkov runs from its own virtualenv (not a project dependency). The load average is printed before and after.

Both tools run as installed: pip compiles every module's bytecode at install time (Checkov's virtualenv holds a
``.pyc`` for each of its modules), so each child runs with Python's default of reading and writing bytecode even when
this shell sets ``PYTHONDONTWRITEBYTECODE`` (an editable checkout without it compiles rdsca's ~100 modules from
source at every start: +50 ms), and each command runs once untimed first.
"""

from __future__ import annotations

import argparse
import json
import os
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


def write_expression_fleet(directory: Path, resources: int, files: int) -> None:
    """Every value a reference, template, conditional or function call (none is a plain literal)."""
    (directory / "variables.tf").write_text(
        'variable "env" {\n  default = "prod"\n}\nlocals {\n  old_ca  = "rds-ca-2019"\n'
        '  new_ca  = "rds-ca-rsa2048-g1"\n  engines = { a = "mysql", b = "postgres" }\n}\n'
    )
    per_file = resources // files
    for f in range(files):
        blocks = []
        for i in range(f * per_file, (f + 1) * per_file):
            ca = "local.old_ca" if i % 2 == 0 else "local.new_ca"
            engine = 'local.engines["a"]' if i % 2 else "local.engines.b"
            version = '"8.0.39"' if i % 2 else '"16.4"'
            blocks.append(
                f'resource "aws_db_instance" "db{i}" {{\n  identifier         = "${{var.env}}-db-{i}"\n'
                f"  engine             = {engine}\n  engine_version     = {version}\n"
                f'  instance_class     = "db.t4g.medium"\n  ca_cert_identifier = {ca}\n'
                f'  apply_immediately  = var.env == "prod" ? true : false\n'
                f'  tags = {{\n    Name  = "db-${{var.env}}-{i}"\n    Owner = upper("team-{i % 7}")\n  }}\n}}\n'
            )
        (directory / f"fleet{f:03d}.tf").write_text("\n".join(blocks))


#: The children's environment: today pinned, and bytecode read and written as an installed package's is.
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "RDSCA_AS_OF": "2026-11-27"}


def timed(command: list[str]) -> tuple[float, int, str, float]:
    """Wall-clock seconds, exit code, stdout and the child's own peak RSS in MiB."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=ENV)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        stdout = out.read().decode()
    return seconds, os.waitstatus_to_exitcode(status), stdout, usage.ru_maxrss / 1024


def rdsca_findings(stdout: str) -> int:
    document = json.loads(stdout)
    return sum(1 for d in document["diagnostics"] if d["policy"] == "rds-ca-retired")


def checkov_failures(stdout: str) -> int:
    document = json.loads(stdout)
    reports = document if isinstance(document, list) else [document]
    return sum(len(r["results"]["failed_checks"]) for r in reports if isinstance(r, dict) and "results" in r)


def compare(label: str, directory: Path, checkov: str, repeat: int, retired: int) -> None:
    rows: dict[str, list[tuple[float, float]]] = {"rdsca check": [], "checkov CKV_AWS_211": []}
    commands = {
        "rdsca check": [*RDSCA, "check", str(directory), "--format", "json"],
        "checkov CKV_AWS_211": [
            checkov, "-d", str(directory), "--check", "CKV_AWS_211", "-o", "json", "--quiet", "--skip-download",
        ],
    }
    for command in commands.values():
        timed(command)  # untimed: bytecode written, files in the page cache
    for _ in range(repeat):
        for name, command in commands.items():
            seconds, code, stdout, peak = timed(command)
            count = rdsca_findings(stdout) if name == "rdsca check" else checkov_failures(stdout)
            assert count == retired, f"{name}: {count} findings (exit {code}), expected {retired}"
            rows[name].append((seconds, peak))
    base = statistics.median(s for s, _ in rows["rdsca check"])
    print(f"\n{label}, {repeat} interleaved runs each")
    print("| command | median s | min s | max s | ratio to rdsca | peak RSS MiB (median) |")
    print("|---|---|---|---|---|---|")
    for name, values in rows.items():
        times = [s for s, _ in values]
        median = statistics.median(times)
        peak = statistics.median(p for _, p in values)
        print(f"| {name} | {median:.2f} | {min(times):.2f} | {max(times):.2f} | {median / base:.1f}x | {peak:.0f} |")


def alone(label: str, directory: Path, repeat: int, retired: int) -> None:
    runs = []
    timed([*RDSCA, "check", str(directory), "--format", "json"])
    for _ in range(repeat):
        seconds, code, stdout, peak = timed([*RDSCA, "check", str(directory), "--format", "json"])
        assert rdsca_findings(stdout) == retired, (code, stdout[-500:])
        runs.append((seconds, peak))
    times = [s for s, _ in runs]
    print(f"\n{label}: rdsca check median {statistics.median(times):.2f} s (min {min(times):.2f}, max "
          f"{max(times):.2f}, {repeat} runs), peak RSS {statistics.median(p for _, p in runs):.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", default=str(Path.home() / ".cache/rdsca-bench/checkov/bin/checkov"),
                        help="path to the checkov executable (its own virtualenv)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--repeat-large", type=int, default=3)
    args = parser.parse_args()
    if not Path(args.checkov).exists():
        sys.exit(f"no checkov at {args.checkov}: create its virtualenv as the docstring shows, or pass --checkov")
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        one, many, exprs = Path(tmp, "one"), Path(tmp, "many"), Path(tmp, "exprs")
        for directory in (one, many, exprs):
            directory.mkdir()
        write_fleet(one, 1000, 1)
        write_fleet(many, 10000, 100)
        write_expression_fleet(exprs, 10000, 100)
        compare("1,000 resources in one file", one, args.checkov, args.repeat, 500)
        compare("10,000 resources in 100 files", many, args.checkov, args.repeat_large, 5000)
        alone("10,000 resources in 100 files, every value an expression", exprs, args.repeat_large, 5000)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
