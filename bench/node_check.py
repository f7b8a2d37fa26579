#!/usr/bin/env python3
"""Benchmark (issue 28.5): ``rdsca check --policy-pack`` of a 1,000-instance TypeScript program against the Node
SDK's own floor, the same program under ``pulumi.runtime.setMocks`` (the Node SDK's documented unit-test path: no
engine, no pack). Both compile the program with ts-node as the SDK does (type-checked), both are one process
tree timed from start to exit; the variants are interleaved over the repetitions and the load average printed.

    python bench/node_check.py [--databases 1000] [--repeat 5]

Needs Node.js and the test cache's npm packages (``tests/installs.py`` installs them on first use).
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
sys.path.insert(0, str(REPO))

PROGRAM = """import * as aws from "@pulumi/aws";
const engines: [string, string][] = [["mysql", "8.0.39"], ["postgres", "16.4"], ["mariadb", "10.11.9"]];
for (let i = 0; i < {n}; i++) {{
    const [engine, version] = engines[i % engines.length];
    new aws.rds.Instance(`db-${{i}}`, {{
        engine, engineVersion: version, instanceClass: "db.t4g.medium", allocatedStorage: 20,
        manageMasterUserPassword: true, username: "admin",
        caCertIdentifier: i % 2 ? "rds-ca-2019" : "rds-ca-rsa2048-g1",
    }});
}}
"""
FLOOR = """const pulumi = require("@pulumi/pulumi");
pulumi.runtime.setMocks({
    newResource: (args) => ({ id: `${args.name}_id`, state: args.inputs }),
    call: (args) => args.inputs,
}, "bench", "dev", true);
require("ts-node").register({ project: process.argv[2] + "/tsconfig.json" });
require(process.argv[2] + "/index.ts");
"""
TSCONFIG = ('{"compilerOptions": {"strict": true, "target": "es2020", "module": "commonjs", '
            '"moduleResolution": "node", "skipLibCheck": true}, "files": ["index.ts"]}')


def timed(command: list[str], cwd: Path, ok: tuple[int, ...]) -> float:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    if done.returncode not in ok:
        raise SystemExit(f"{command}: exit {done.returncode}: {done.stderr[-2000:]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from tests import installs

    node_modules = installs.npm_env("pulumi", ["@pulumi/pulumi@3", "@pulumi/aws@7", "typescript@5", "ts-node@10"])
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "fleet"
        program.mkdir()
        (program / "Pulumi.yaml").write_text("name: fleet\nruntime: nodejs\nconfig:\n  aws:region: us-west-2\n")
        (program / "index.ts").write_text(PROGRAM.format(n=args.databases))
        (program / "tsconfig.json").write_text(TSCONFIG)
        (program / "package.json").write_text('{"name": "fleet", "main": "index.ts"}')
        (program / "node_modules").symlink_to(node_modules)
        (program / "floor.js").write_text(FLOOR)
        variants = {
            "floor: Node SDK setMocks": (["node", "floor.js", str(program)], (0,)),
            "rdsca check --policy-pack": ([sys.executable, "-m", "rdsca.cli", "check", str(program), "--policy-pack",
                                           str(REPO / "policies"), "--format", "json"], (1,)),
        }
        print(f"load average before: {os.getloadavg()[0]:.2f}; {args.databases} databases, {args.repeat} runs each")
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, (command, ok) in variants.items():
                times[name].append(timed(command, program, ok))
        floor = statistics.median(times["floor: Node SDK setMocks"])
        print("| variant | median s | min s | max s | ratio to floor |")
        print("|---|---|---|---|---|")
        for name, values in times.items():
            print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} | "
                  f"{statistics.median(values) / floor:.2f}x |")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
