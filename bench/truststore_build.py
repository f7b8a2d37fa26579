#!/usr/bin/env python3
"""Benchmark: a JKS trust store from the real RDS bundle, ``rdsca truststore build`` vs the seed's keytool loop.

The loop (``bench/seed_truststore.sh``) is the AWS sample: awk splits the bundle, ``keytool -import`` runs once per
certificate and ``keytool -list`` once per alias to print expiry dates (one JVM start each). rdsca builds the store
and prints every entry's expiry (``truststore build`` then ``truststore inspect``), each a command timed
wall-clock. Two rdsca variants: its default (the 93 current roots) and ``--include-intermediates --keep-expired``
(all 121 certificates, the loop's work).

    python bench/truststore_build.py [--repeat 3] [--seed-repeat 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO / "tests" / "fixtures" / "rds-global-bundle-2024-06.pem"
RDSCA = [sys.executable, "-m", "rdsca.cli", "truststore"]


def timed(cmds: list[list[str]], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    for cmd in cmds:
        subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed-repeat", type=int, default=1)
    args = parser.parse_args()
    if not shutil.which("keytool"):
        sys.exit("keytool (a JDK) is needed for the comparison")
    env = dict(os.environ, STORE_PW="changeit")
    results: dict[str, list[float]] = {
        "seed keytool loop (121 certs)": [],
        "rdsca default (93 roots)": [],
        "rdsca all 121 certs": [],
    }
    for i in range(max(args.repeat, args.seed_repeat)):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            if i < args.seed_repeat:
                seed = work / "seed"
                seed.mkdir()
                results["seed keytool loop (121 certs)"].append(
                    timed([["sh", str(REPO / "bench" / "seed_truststore.sh"), str(BUNDLE), str(seed)]], work, env)
                )
            if i < args.repeat:
                variants = (
                    ("rdsca default (93 roots)", [], "a.jks"),
                    ("rdsca all 121 certs", ["--include-intermediates", "--keep-expired"], "b.jks"),
                )
                for label, extra, out in variants:
                    results[label].append(
                        timed(
                            [
                                [
                                    *RDSCA,
                                    "build",
                                    "--bundle",
                                    str(BUNDLE),
                                    "--out",
                                    out,
                                    "--password-env",
                                    "STORE_PW",
                                    *extra,
                                ],
                                [*RDSCA, "inspect", out, "--password-env", "STORE_PW"],
                            ],
                            work,
                            env,
                        )
                    )
    base = statistics.median(results["seed keytool loop (121 certs)"])
    print("| method | runs | median s | ratio (seed / this) |")
    print("|---|---|---|---|")
    for label, samples in results.items():
        med = statistics.median(samples)
        print(f"| {label} | {len(samples)} | {med:.2f} | {base / med:.0f}x |")


if __name__ == "__main__":
    main()
