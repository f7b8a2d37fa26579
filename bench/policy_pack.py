#!/usr/bin/env python3
"""Benchmark: rdsca's policy pack over gRPC against an empty pack of the same shape, N RDS resources.

Both packs run as the CLI runs them (``python -u -m pulumi.policy``, own process) and are driven by the same
engine-side code as ``rdsca check --policy-pack`` (``rdsca.runner.pack_calls.PolicyRun``, which the host uses):
``ConfigureStack``, ``GetAnalyzerInfo``, ``Configure``, then per resource ``Remediate`` (only when a policy is at
level remediate, as here with ``--remediate``) and ``Analyze``, then one ``AnalyzeStack`` over all of them. The
empty pack has the same policy names, levels, config schemas and remediation hooks, with bodies that do nothing,
so the difference is the cost of rdsca's judgements. Pack start-up is timed apart from the resource traffic.
Runs are interleaved so machine noise hits both packs alike.

    python bench/policy_pack.py [--resources 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rdsca.runner.pack_calls import PolicyRun  # noqa: E402
from rdsca.runner.pack_client import Subject  # noqa: E402
from rdsca.runner.pack_launch import project_info  # noqa: E402
from rdsca.runner.policy_packs import load_pack  # noqa: E402
from rdsca.runner.secrets import SecretFilter  # noqa: E402

EMPTY_PACK = '''
from pulumi_policy import PolicyPack, ResourceValidationPolicy, StackValidationPolicy
from rdsca.policies import ALL_POLICIES

def validate(args, report_violation):
    return None

def remediate(args):
    return None

def validate_stack(args, report_violation):
    return None

policies = []
for p in ALL_POLICIES:
    if isinstance(p, ResourceValidationPolicy):
        policies.append(ResourceValidationPolicy(
            name=p.name, description=p.description, validate=validate,
            remediate=remediate if p.has_remediation() else None,
            enforcement_level=p.enforcement_level, config_schema=p.config_schema))
    else:
        policies.append(StackValidationPolicy(
            name=p.name, description=p.description, validate=validate_stack,
            enforcement_level=p.enforcement_level, config_schema=p.config_schema))
PolicyPack(name="empty", policies=policies)
'''

CAS = ["rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1", "rds-ca-2019"]
ENGINES = [("mysql", "8.0.39"), ("postgres", "16.4"), ("sqlserver-se", "15.00.4236.7.v1"), ("mariadb", "10.11.9")]


def registrations(n: int) -> list[dict[str, Any]]:
    regs = []
    for i in range(n):
        engine, version = ENGINES[i % len(ENGINES)]
        ca = CAS[i % len(CAS)] if engine != "sqlserver-se" else "rds-ca-rsa2048-g1"
        wire = {
            "engine": engine,
            "engineVersion": version,
            "instanceClass": "db.t4g.medium",
            "allocatedStorage": 20.0,
            "caCertIdentifier": ca,
            "applyImmediately": True,
            "username": "admin",
            "manageMasterUserPassword": True,
        }
        regs.append({"urn": f"urn:pulumi:dev::bench::aws:rds/instance:Instance::db{i}", "name": f"db{i}", "wire": wire})
    return regs


def run_once(pack_dir: Path, n: int, remediate: bool) -> tuple[float, float, int]:
    from pulumi.runtime.proto import analyzer_pb2

    project = project_info({"project": "bench", "stack": "dev", "config": {"aws:region": "us-west-2"}})
    pack = load_pack(pack_dir)
    config = {"all": {"level": "remediate", "properties": None}} if remediate else {}
    spec = {"directory": str(pack.directory), "python": pack.python, "version": pack.version, "config": config}
    start = time.perf_counter()
    run = PolicyRun([spec], project, float("inf"), SecretFilter())
    try:
        run.ready()
        started = time.perf_counter() - start
        begin = time.perf_counter()
        stack = []
        for index, reg in enumerate(registrations(n)):
            subject = Subject("aws:rds/instance:Instance", reg["name"], reg["urn"])
            fields = {"type": subject.type, "urn": subject.urn, "name": subject.name,
                      "options": analyzer_pb2.AnalyzerResourceOptions()}
            props = run.remediate(index, subject, fields, reg["wire"])
            run.analyze(index, subject, fields, props)
            stack.append({**fields, "properties": props})
        run.drain()
        run.analyze_stack(stack, n)
        total = time.perf_counter() - begin
        return started, total, len(run.result()["diagnostics"])
    finally:
        run.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--remediate", action="store_true", help="every policy at level remediate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp)
        (empty / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
        (empty / "__main__.py").write_text(EMPTY_PACK)
        packs = {"empty pack": empty, "rdsca pack": REPO / "policies"}
        totals: dict[str, list[float]] = {k: [] for k in packs}
        starts: dict[str, list[float]] = {k: [] for k in packs}
        diags: dict[str, int] = {}
        for _ in range(args.repeat):
            for label, directory in packs.items():
                started, total, count = run_once(directory, args.resources, args.remediate)
                starts[label].append(started)
                totals[label].append(total)
                diags[label] = count
    base = statistics.median(totals["empty pack"])
    print(f"{args.resources} RDS resources, {args.repeat} runs each, Python {platform.python_version()}")
    print("| pack | start-up s | run s (median) | min s | max s | resources/s | ratio | diagnostics |")
    print("|---|---|---|---|---|---|---|---|")
    for label in packs:
        med = statistics.median(totals[label])
        print(
            f"| {label} | {statistics.median(starts[label]):.2f} | {med:.2f} | {min(totals[label]):.2f} | "
            f"{max(totals[label]):.2f} | {args.resources / med:,.0f} | {med / base:.2f}x | {diags[label]} |"
        )


if __name__ == "__main__":
    main()
