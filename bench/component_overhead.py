#!/usr/bin/env python3
"""Benchmark: what CertificateRotation and rotate_all add to a program with N RDS instances, run offline.

Each variant runs in a fresh interpreter (as ``rdsca check`` runs a program) through the same offline engine;
only the program run is timed, not interpreter start-up. Variants are interleaved over the repetitions so
machine noise hits them alike. Peak memory is the child's maximum resident set size.

    python bench/component_overhead.py [--instances 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROGRAMS = {
    "direct": """
import pulumi_aws as aws
for i in range({n}):
    aws.rds.Instance(f"db{{i}}", engine="mysql", engine_version="8.0.39", instance_class="db.t4g.medium",
                     allocated_storage=20, ca_cert_identifier="rds-ca-rsa2048-g1", apply_immediately=True)
""",
    "component": """
import pulumi, pulumi_aws as aws
from rdsca import CertificateRotation
rotation = CertificateRotation("rotation")
for i in range({n}):
    aws.rds.Instance(f"db{{i}}", engine="mysql", engine_version="8.0.39", instance_class="db.t4g.medium",
                     allocated_storage=20, opts=pulumi.ResourceOptions(parent=rotation))
""",
    "rotate_all": """
import pulumi_aws as aws
from rdsca import rotate_all
rotate_all()
for i in range({n}):
    aws.rds.Instance(f"db{{i}}", engine="mysql", engine_version="8.0.39", instance_class="db.t4g.medium",
                     allocated_storage=20)
""",
}


def child(variant: str, n: int) -> None:
    from rdsca.runner.python_host import execute

    with tempfile.TemporaryDirectory() as tmp:
        main = Path(tmp, "__main__.py")
        main.write_text(PROGRAMS[variant].format(n=n))
        spec = {
            "directory": tmp,
            "main": str(main),
            "project": "bench",
            "stack": "dev",
            "config": {"aws:region": "us-west-2"},
            "secure_keys": [],
            "region": "us-west-2",
        }
        start = time.perf_counter()
        result = execute(spec)
        elapsed = time.perf_counter() - start
    assert result["error"] is None, result["error"]
    dbs = [r for r in result["registrations"] if r["type"] == "aws:rds/instance:Instance"]
    assert len(dbs) == n and all(r["inputs"]["caCertIdentifier"] == "rds-ca-rsa2048-g1" for r in dbs)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mib": peak_mib}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.instances)
        return
    times: dict[str, list[float]] = {v: [] for v in PROGRAMS}
    peaks: dict[str, float] = dict.fromkeys(PROGRAMS, 0.0)
    for _ in range(args.repeat):
        for variant in PROGRAMS:
            out = (
                subprocess.run(
                    [sys.executable, __file__, "--child", variant, "--instances", str(args.instances)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            sample = json.loads(out)
            times[variant].append(sample["seconds"])
            peaks[variant] = max(peaks[variant], sample["peak_mib"])
    base = statistics.median(times["direct"])
    print(
        f"{args.instances} RDS instances, {args.repeat} runs each, Python {platform.python_version()}, "
        f"{platform.machine()}"
    )
    print("| variant | median s | min s | max s | ratio to direct | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for variant, samples in times.items():
        med = statistics.median(samples)
        print(
            f"| {variant} | {med:.2f} | {min(samples):.2f} | {max(samples):.2f} | {med / base:.2f}x | "
            f"{peaks[variant]:.0f} |"
        )


if __name__ == "__main__":
    main()
