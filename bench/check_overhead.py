#!/usr/bin/env python3
"""Benchmark: ``rdsca check`` (with and without the policy pack) of an N-database program against the SDK's floor.

Two floors, each the same program:

(a) **plain SDK mocks**: ``pulumi.runtime.set_mocks`` and ``@pulumi.runtime.test``, the way Pulumi documents
    unit-testing a program: no transforms run, no engine semantics, nothing analysed;
(b) **SDK mocks, run as the language host runs a program**: the SDK's stock ``MockMonitor`` inside rdsca's host
    (a root ``Stack``, ``run_in_stack``, the host's executor and the SDK's own final wait), to separate the cost of
    running a program the language host's way from the cost of rdsca's own work.

Two fleets: every database on a current CA, and half of them on ``rds-ca-2019``. Every variant is one command,
timed wall-clock from start to exit (interpreter start-up included); variants and fleets are interleaved over the
repetitions, and the load average is printed before and after. ``--large N`` then runs ``rdsca check
--policy-pack`` once on N and on 1,000 databases with 90% retired, with peak memory (the sum over the process tree,
sampled every 50 ms).

Every command runs with bytecode read and written, as an installed package's is (pip compiles it at install; the
Pulumi SDK's virtualenv holds it), even when this shell sets ``PYTHONDONTWRITEBYTECODE``: without it, each of
rdsca's processes (the command, the host, the pack, the relay) compiles its modules from source at every start.
Each command runs once untimed first.

    python bench/check_overhead.py [--databases 1000] [--repeat 5] [--large 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RDSCA = [sys.executable, "-m", "rdsca.cli"]
#: The children's environment: bytecode read and written as an installed package's is.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

PROGRAM = """
import pulumi_aws as aws
ENGINES = [("mysql", "8.0.39"), ("postgres", "16.4"), ("mariadb", "10.11.9")]
for i in range({n}):
    engine, version = ENGINES[i % 3]
    ca = "rds-ca-2019" if i % 10 < {retired_tenths} else "rds-ca-rsa2048-g1"
    aws.rds.Instance(f"db{{i}}", engine=engine, engine_version=version, instance_class="db.t4g.medium",
                     allocated_storage=20, username="admin", manage_master_user_password=True,
                     ca_cert_identifier=ca, apply_immediately=True)
"""

#: The three fleet shapes of issue 30 (1,000 databases each by default).
SHAPES = {
    # one engine, a password in plain text in the program (a secret the SDK and the pack carry), half retired
    "one engine, plain passwords": """
import pulumi_aws as aws
for i in range({n}):
    ca = "rds-ca-2019" if i % 2 == 0 else "rds-ca-rsa2048-g1"
    aws.rds.Instance(f"db{{i}}", engine="postgres", engine_version="16.4", instance_class="db.t4g.medium",
                     allocated_storage=20, username="admin", password="correct-horse-battery-staple",
                     ca_cert_identifier=ca, apply_immediately=True)
""",
    "mixed engines, managed passwords": PROGRAM.replace("{retired_tenths}", "5"),
    # 90% retired, long resource names: every diagnostic is long (the name appears three times in each)
    "90% retired, long messages": """
import pulumi_aws as aws
ENGINES = [("mysql", "8.0.39"), ("postgres", "16.4"), ("mariadb", "10.11.9")]
for i in range({n}):
    engine, version = ENGINES[i % 3]
    ca = "rds-ca-2019" if i % 10 < 9 else "rds-ca-rsa2048-g1"
    name = f"payments-ledger-eu-central-reporting-replica-{{i:05d}}-" + "x" * 60
    aws.rds.Instance(name, engine=engine, engine_version=version, instance_class="db.t4g.medium",
                     allocated_storage=20, username="admin", manage_master_user_password=True,
                     ca_cert_identifier=ca, apply_immediately=False)
""",
}
RETIRED_SHARE = {"one engine, plain passwords": 0.5, "mixed engines, managed passwords": 0.5,
                 "90% retired, long messages": 0.9}

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

#: Floor (a) under the host's collection policy (``rdsca.gc_policy``): the like-for-like floor, so that the
#: policy's gain is not counted as the absence of overhead.
FLOOR_GC = FLOOR.replace(
    "run()\n", "from rdsca import gc_policy\nwith gc_policy.amortised_collections():\n    run()\n"
)


def sdk_mocks_language_host(program: str) -> None:
    """Child: the stock MockMonitor and the SDK's own final wait inside rdsca's host run."""
    import contextlib

    from pulumi.runtime import mocks as pulumi_mocks

    from rdsca import sdk_internals
    from rdsca.runner import python_host as host
    from rdsca.runner.check import host_spec, load_project

    class Monitor(pulumi_mocks.MockMonitor):
        def __init__(self, mocks: pulumi_mocks.Mocks, project: str, stack: str, engine: object) -> None:
            super().__init__(mocks)

    class Mocks(host.OfflineMocks):
        def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict]:
            return args.name + "-id", args.inputs

    host.EngineMonitor = Monitor  # type: ignore[misc,assignment]
    host.OfflineMocks = Mocks  # type: ignore[misc]
    sdk_internals.linear_final_wait = contextlib.nullcontext  # type: ignore[assignment]
    result = host.execute(host_spec(load_project(Path(program))))
    assert result["error"] is None, result["error"]


def write_program(directory: Path, n: int, retired_tenths: int) -> Path:
    directory.mkdir(parents=True)
    (directory / "Pulumi.yaml").write_text("name: bench\nruntime: python\nconfig:\n  aws:region: us-west-2\n")
    (directory / "__main__.py").write_text(PROGRAM.format(n=n, retired_tenths=retired_tenths))
    return directory


def timed(
    cmd: list[str], cwd: Path, sample_memory: bool = False
) -> tuple[float, subprocess.CompletedProcess[str], int]:
    """Wall seconds, the completed process, and (when asked) the peak RSS in bytes summed over its process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    peak = 0
    if sample_memory:
        import threading

        import psutil

        def sample() -> None:
            nonlocal peak
            root = psutil.Process(proc.pid)
            while proc.poll() is None:
                try:
                    tree = [root, *root.children(recursive=True)]
                    peak = max(peak, sum(p.memory_info().rss for p in tree))
                except psutil.Error:
                    pass
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    return elapsed, subprocess.CompletedProcess(cmd, proc.returncode, out, err), peak


def warm_up(commands: Iterable[list[str]], cwd: Path) -> None:
    """Each command once, untimed: bytecode written, files in the page cache."""
    for cmd in commands:
        timed(cmd, cwd)


def check(label: str, proc: subprocess.CompletedProcess[str], n: int, retired: bool) -> None:
    if label.startswith("plain"):
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert int(proc.stderr.split()[-1]) == n, proc.stderr[-500:]
        return
    if label.startswith("SDK"):
        assert proc.returncode == 0, proc.stderr[-2000:]
        return
    assert proc.returncode == (1 if retired else 0), proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert len([r for r in report["resources"] if r["type"] == "aws:rds/instance:Instance"]) == n
    if "--policy-pack" in proc.args:
        blocked = {d["urn"] for d in report["diagnostics"] if d["policy"] == "rds-ca-retired"}
        assert len(blocked) == (sum(i % 10 < 5 for i in range(n)) if retired else 0), len(blocked)


def variants(program: Path, floor: Path) -> dict[str, list[str]]:
    return {
        "plain SDK mocks: floor (a)": [sys.executable, str(floor), str(program / "__main__.py")],
        "SDK mocks run as the language host runs them: floor (b)": [
            sys.executable, str(Path(__file__).resolve()), "--child-sdk-host", str(program),
        ],
        "plain SDK mocks, rdsca's collection policy: floor (a')": [
            sys.executable, str(floor.with_name("floor_gc.py")), str(program / "__main__.py"),
        ],
        "rdsca check": [*RDSCA, "check", str(program), "--format", "json"],
        "rdsca check --policy-pack": [
            *RDSCA, "check", str(program), "--format", "json", "--policy-pack", str(REPO / "policies"),
        ],
    }


def fleets(tmp: Path, n: int, repeat: int) -> None:
    floor = tmp / "floor.py"
    floor.write_text(FLOOR)
    floor.with_name("floor_gc.py").write_text(FLOOR_GC)
    programs = {
        "all current": write_program(tmp / "current", n, 0),
        "half retired": write_program(tmp / "half", n, 5),
    }
    times: dict[tuple[str, str], list[float]] = {}
    warm_up(variants(programs["half retired"], floor).values(), programs["half retired"])
    for _ in range(repeat):
        for fleet, program in programs.items():
            for label, cmd in variants(program, floor).items():
                seconds, proc, _ = timed(cmd, program)
                check(label, proc, n, fleet == "half retired")
                times.setdefault((fleet, label), []).append(seconds)
    print(f"\n{n} RDS instances per fleet, {repeat} interleaved runs each")
    print("| fleet | command | median s | min s | max s | ratio to floor (a) | ratio to floor (b) |")
    print("|---|---|---|---|---|---|---|")
    for fleet in programs:
        floor_a = statistics.median(times[(fleet, "plain SDK mocks: floor (a)")])
        floor_b = statistics.median(times[(fleet, "SDK mocks run as the language host runs them: floor (b)")])
        for label in variants(programs[fleet], floor):
            samples = times[(fleet, label)]
            med = statistics.median(samples)
            print(
                f"| {fleet} | {label} | {med:.2f} | {min(samples):.2f} | {max(samples):.2f} | "
                f"{med / floor_a:.2f}x | {med / floor_b:.2f}x |"
            )


def shapes(tmp: Path, n: int, repeat: int) -> None:
    """Issue 30's goal: ``rdsca check --policy-pack`` against floor (a) on three fleet shapes, interleaved."""
    floor = tmp / "floor.py"
    floor.write_text(FLOOR)
    floor.with_name("floor_gc.py").write_text(FLOOR_GC)
    programs = {}
    for index, (shape, text) in enumerate(SHAPES.items()):
        directory = tmp / f"shape{index}"
        directory.mkdir(parents=True)
        (directory / "Pulumi.yaml").write_text("name: bench\nruntime: python\nconfig:\n  aws:region: us-west-2\n")
        (directory / "__main__.py").write_text(text.format(n=n))
        programs[shape] = directory
    labels = ["plain SDK mocks: floor (a)", "plain SDK mocks, rdsca's collection policy: floor (a')", "rdsca check",
              "rdsca check --policy-pack"]
    times: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    first = next(iter(programs.values()))
    warm_up([variants(first, floor)[label] for label in labels], first)
    for _ in range(repeat):
        for shape, program in programs.items():
            commands = variants(program, floor)
            for label in labels:
                before = os.times()
                seconds, proc, _ = timed(commands[label], program)
                after = os.times()
                retired = round(n * RETIRED_SHARE[shape])
                if label.startswith("plain"):
                    check(label, proc, n, True)
                else:
                    assert proc.returncode == 1, proc.stderr[-2000:]
                    report = json.loads(proc.stdout)
                    found = {d.get("urn") or d.get("address") for d in report["diagnostics"]
                             if d["policy"] == "rds-ca-retired"}
                    assert "--policy-pack" not in label or len(found) == retired, (shape, label, len(found), retired)
                times.setdefault((shape, label), []).append(seconds)
                cpu.setdefault((shape, label), []).append(
                    after.children_user + after.children_system - before.children_user - before.children_system
                )
    print(f"\n{n} databases per shape, {repeat} interleaved runs; medians (CPU: user+system of the process tree)")
    print("| fleet shape | command | median s | min s | max s | ratio to floor (a) | ratio to floor (a') | CPU s | "
          "CPU ratio (a) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for shape in programs:
        base = statistics.median(times[(shape, labels[0])])
        base_gc = statistics.median(times[(shape, labels[1])])
        base_cpu = statistics.median(cpu[(shape, labels[0])])
        for label in labels:
            samples = times[(shape, label)]
            med, med_cpu = statistics.median(samples), statistics.median(cpu[(shape, label)])
            print(f"| {shape} | {label} | {med:.2f} | {min(samples):.2f} | {max(samples):.2f} | {med / base:.2f}x | "
                  f"{med / base_gc:.2f}x | {med_cpu:.2f} | {med_cpu / base_cpu:.2f}x |")


def large(tmp: Path, sizes: list[int]) -> None:
    floor = tmp / "floor.py"
    floor.write_text(FLOOR)
    floor.with_name("floor_gc.py").write_text(FLOOR_GC)
    print("\n90% of the databases on rds-ca-2019, one run each")
    print("| command | databases | seconds | seconds per 1,000 | peak memory MiB (process tree) | diagnostics |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        program = write_program(tmp / f"large{n}", n, 9)
        cmd = [*RDSCA, "check", str(program), "--format", "json", "--policy-pack", str(REPO / "policies")]
        seconds, proc, peak = timed(cmd, program, sample_memory=True)
        assert proc.returncode == 1, proc.stderr[-2000:]
        diagnostics = len(json.loads(proc.stdout)["diagnostics"])
        print(f"| rdsca check --policy-pack | {n:,} | {seconds:.1f} | {seconds / (n / 1000):.2f} | "
              f"{peak / 2**20:.0f} | {diagnostics:,} |")
        for label, script in (("floor (a)", floor), ("floor (a')", floor.with_name("floor_gc.py"))):
            seconds, proc, peak = timed([sys.executable, str(script), str(program / "__main__.py")], program, True)
            check("plain", proc, n, True)
            print(f"| plain SDK mocks: {label} | {n:,} | {seconds:.1f} | {seconds / (n / 1000):.2f} | "
                  f"{peak / 2**20:.0f} | - |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--large", type=int, default=0, help="also run N databases, 90%% retired (and 1,000)")
    parser.add_argument("--skip-fleets", action="store_true")
    parser.add_argument("--shapes", action="store_true", help="issue 30's three fleet shapes instead of the fleets")
    parser.add_argument("--child-sdk-host", metavar="PROGRAM_DIR")
    args = parser.parse_args()
    if args.child_sdk_host:
        sdk_mocks_language_host(args.child_sdk_host)
        return
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.shapes:
            shapes(Path(tmp), args.databases, args.repeat)
        elif not args.skip_fleets:
            fleets(Path(tmp), args.databases, args.repeat)
        if args.large:
            large(Path(tmp), [1000, args.large])
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
