#!/usr/bin/env python3
"""Set up the project's virtualenv and run its jobs, with nothing but Python 3.10+ on the machine.

    python3 tasks.py demo   # set up, then run the main job on the embedded default (offline)
    python3 tasks.py test   # set up (reusing .venv if present), then run the whole test suite
    python3 tasks.py docs   # regenerate the generated pages (docs/cli.md, the facts table) and build the site

Only the standard library is used here: this file runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if sys.platform == "win32" else "bin")
PY = BIN / "python"
STAMP = VENV / ".rdsca-installed"


def run(*cmd: str | Path, check: bool = True) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=check).returncode


def setup() -> None:
    if sys.version_info < (3, 10):  # noqa: UP036 - this file must run, and explain, on older Pythons
        sys.exit(f"rdsca needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    # Reinstall only when the dependency declaration changed (the install is editable: code changes are live).
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != digest:
        run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(PY, "-m", "pip", "install", "--quiet", "-e", ".[test]")
        STAMP.write_text(digest)


def demo() -> int:
    rdsca = BIN / "rdsca"
    # (command, the exit code it must give): the reference stack passes the policy pack; the legacy stack, which
    # names rds-ca-2019 and a typo directly, is blocked (1) and passes once the pack remediates it; then the
    # live-account commands against the embedded fake account.
    steps = [
        (("check", ".", "--policy-pack", "policies"), 0),
        (("check", "examples/legacy-stack", "--policy-pack", "policies"), 1),
        (("check", "examples/legacy-stack", "--policy-pack", "policies", "--remediate"), 0),
        # Programs that look up availability zones, AMIs, the default VPC and the account id run offline too (the
        # data sources get placeholder answers); the web tier still names rds-ca-2019 (1), printed as pulumi does.
        (("check", "examples/aurora-default-vpc", "--policy-pack", "policies"), 0),
        (("check", "examples/docdb-catalog", "--policy-pack", "policies"), 0),
        (("check", "examples/mysql-web-tier", "--policy-pack", "policies", "--format", "pulumi"), 1),
        # The same judgements over a Terraform configuration, and the diff that --fix would write (nothing written).
        (("check", "examples/terraform-legacy"), 1),
        (("check", "examples/terraform-legacy", "--diff"), 1),
        # A built-in fake AWS account (loopback, no credentials): the audit finds retired and refused CAs (1),
        # the rotation plan is a dry run (0).
        (("audit", "--demo"), 1),
        (("rotate", "--demo"), 0),
    ]
    node = _typescript_example()
    if node:
        # The legacy stack in TypeScript: the same violations through the Node.js SDK (needs Node.js and npm).
        steps.insert(2, (("check", "examples/ts-legacy-stack", "--policy-pack", "policies"), 1))
    # Each run's JSON is kept (--output json=) for the campaign report at the end.
    results = ROOT / ".demo"
    results.mkdir(exist_ok=True)
    for old in results.glob("*.json"):
        old.unlink()
    failed = []
    for number, (args, expected) in enumerate(steps):
        print(flush=True)
        reports = args[0] in ("check", "audit") and not {"--remediate", "--diff"} & set(args)
        kept = ("--output", f"json={results / f'{number:02d}.json'}") if reports else ()
        code = run(rdsca, *args, *kept, check=False)
        if code != expected:
            failed.append(f"rdsca {' '.join(args)}: exit {code}, expected {expected}")
    # The campaign in one page: the audit and the checks above joined per database (rdsca report).
    print(flush=True)
    page = ROOT / "demo-report.html"
    code = run(rdsca, "report", *sorted(results.glob("*.json")), "--html", str(page), check=False)
    if code != 1:  # the demo account's retired and refused CAs still need action
        failed.append(f"rdsca report: exit {code}, expected 1")
    else:
        print(f"demo: the campaign report is {page} (open it in a browser)")
    print()
    for line in failed:
        print(f"demo: FAILED {line}")
    if not failed:
        print("demo: all steps gave the expected result (blocked exits 1 by design)")
    return 1 if failed else 0


def _typescript_example() -> bool:
    """Install the TypeScript example's packages (npm, once) when Node.js and npm are here; False (and why) if not."""
    import shutil

    example = ROOT / "examples" / "ts-legacy-stack"
    if (example / "node_modules" / "@pulumi" / "pulumi").is_dir():
        return True
    if not (shutil.which("node") and shutil.which("npm")):
        print("demo: Node.js and npm are not installed: the TypeScript example is left out", flush=True)
        return False
    print("demo: installing the TypeScript example's packages (npm install in examples/ts-legacy-stack)", flush=True)
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=example)
    if done.returncode != 0:
        print("demo: npm install failed (no registry?): the TypeScript example is left out", flush=True)
        return False
    return True


def test() -> int:
    code = run(PY, "-m", "ruff", "check", ".", check=False)
    code = run(PY, "tools/typecheck.py", check=False) or code
    args = sys.argv[2:]
    # Two pytest-xdist workers per core (the tests share no state: every server, port and folder is their own; most
    # of their time is spent waiting on the processes they start, so a second worker per core fills it: on two
    # cores 319 s -> 273 s for the same commit), unless the arguments choose the workers or turn xdist off.
    workers = str(2 * (os.cpu_count() or 1))
    chosen = any(a.startswith(("-n", "--numprocesses")) or "no:xdist" in a for a in args)
    parallel = [] if chosen else ["-n", workers]
    code = run(PY, "-m", "pytest", "-q", *parallel, *args, check=False) or code
    return code


def docs() -> int:
    """Regenerate docs/cli.md (every command's --help) and the facts table (the catalog), then build the site."""
    code = run(PY, "tools/cli_reference.py", check=False)
    code = run(PY, "tools/facts_table.py", check=False) or code
    return run(PY, "-m", "mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"), check=False) or code


def main() -> int:
    jobs = {"demo": demo, "test": test, "docs": docs, "cli-reference": docs}
    if len(sys.argv) < 2 or sys.argv[1] not in jobs:
        print(__doc__)
        return 2
    setup()
    return jobs[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(main())
