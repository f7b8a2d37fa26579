#!/usr/bin/env python3
"""Stress: ``kill -9`` an ``rdsca rotate --apply`` at a random moment, then ``--resume`` it; many times.

Each trial gets a fresh account in the fake AWS (its own process, so it outlives what is killed) with ``--databases``
DB instances on rds-ca-2019 in two regions. ``rdsca rotate --accounts ACCOUNT --apply --yes --apply-immediately
--journal J`` starts as a real process and is killed with SIGKILL after a random delay drawn over the run's length;
once no request is in flight at the fake, ``--resume J`` runs to completion. Checked for every trial, from the fake's
own record of what it accepted and the journal on disk:

- no database changed twice, none missed (exactly one accepted ModifyDBInstance each, every one on the target CA);
- the journal accounts for every request: each change the fake accepted has an intent in the journal, and after
  the resume every intent has an outcome.

    python bench/kill_stress.py [--trials 50] [--databases 12] [--latency 0.05] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakeproc import FakeProcess, instance

REGIONS = ("us-east-1", "eu-west-1")
TARGET = "rds-ca-rsa2048-g1"


def rotate(env: dict[str, str], account: str, journal: Path, resume: bool) -> subprocess.Popen[bytes]:
    args = ["rotate", "--accounts", account, "--regions", ",".join(REGIONS), "--apply", "--yes",
            "--apply-immediately", "--resume" if resume else "--journal", str(journal)]
    return subprocess.Popen([sys.executable, "-m", "rdsca.cli", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def records(journal: Path) -> list[dict]:
    if not journal.exists():
        return []
    return [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]


def phase(before: list[dict], databases: int) -> str:
    intents = [r for r in before if r["type"] == "intent"]
    outcomes = {r["seq"] for r in before if r["type"] == "outcome"}
    if not intents:
        return "before any request"
    if any(i["seq"] not in outcomes for i in intents):
        return "with a request unfinished"
    return "after the last request" if len(intents) == databases else "between requests"


def trial(fake: FakeProcess, env: dict[str, str], number: int, databases: int, window: float, folder: Path,
          rng: random.Random) -> dict:
    account = f"{300000000000 + number:012d}"
    for region in REGIONS:
        names = [f"db-{region}-{i}" for i in range(databases // len(REGIONS))]
        fake.control("seed", {"account": account, "region": region,
                              "instances": [instance(n, "mysql", "8.0.39", "rds-ca-2019") for n in names]})
    journal = folder / f"trial-{number}.jsonl"
    first = rotate(env, account, journal, resume=False)
    time.sleep(rng.uniform(0, window))
    first.send_signal(signal.SIGKILL)
    first.wait()
    fake.wait_idle()
    killed_at = phase(records(journal), databases)
    second = rotate(env, account, journal, resume=journal.exists() and journal.stat().st_size > 0)
    _, err = second.communicate(timeout=300)
    if second.returncode != 0:
        raise SystemExit(f"trial {number}: the resume failed ({second.returncode}): {err.decode()[-500:]}")
    return check(fake, account, journal, databases) | {"killed": killed_at}


def check(fake: FakeProcess, account: str, journal: Path, databases: int) -> dict:
    accepted = [c for c in fake.control("changes") if c["account"] == account and c["action"] == "ModifyDBInstance"]
    per_db = Counter(c["identifier"] for c in accepted)
    cas = [d["ca"] for arn, d in fake.control("databases").items() if f":{account}:" in arn]
    written = records(journal)
    intents = {(r["region"], r["resource"]) for r in written if r["type"] == "intent"}
    outcomes = {r["seq"] for r in written if r["type"] == "outcome"}
    return {
        "changed twice": sum(1 for n in per_db.values() if n > 1),
        "missed": databases - len(per_db) + sum(1 for ca in cas if ca != TARGET),
        "not in the journal": sum(1 for c in accepted if (c["region"], c["identifier"]) not in intents),
        "intents without outcome": sum(1 for r in written if r["type"] == "intent" and r["seq"] not in outcomes),
        "requests": len(accepted),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--databases", type=int, default=12)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with FakeProcess("2026-11-27") as fake, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ENDPOINT_URL=fake.endpoint, AWS_ACCESS_KEY_ID="AKIDSTRESS", AWS_SECRET_ACCESS_KEY="x",
                   AWS_DEFAULT_REGION="us-east-1", RDSCA_AS_OF="2026-11-27", RDSCA_STATE_DIR=str(folder / "state"))
        fake.control("configure", {"latency": args.latency})
        # How long an uninterrupted run takes: kills are drawn over that window.
        probe_account = f"{399999999999:012d}"
        for region in REGIONS:
            fake.control("seed", {"account": probe_account, "region": region, "instances": [
                instance(f"db-{i}", "mysql", "8.0.39", "rds-ca-2019") for i in range(args.databases // 2)]})
        start = time.perf_counter()
        probe = rotate(env, probe_account, folder / "probe.jsonl", resume=False)
        probe.wait()
        window = (time.perf_counter() - start) * 1.3
        totals: Counter[str] = Counter()
        phases: Counter[str] = Counter()
        for number in range(1, args.trials + 1):
            result = trial(fake, env, number, args.databases, window, folder, rng)
            phases[result.pop("killed")] += 1
            totals.update(result)
            print(f"trial {number}: {result}", flush=True)
    print(f"\n{args.trials} trials, {args.databases} databases each, kills drawn over {window:.1f} s")
    print("killed: " + ", ".join(f"{k} {v}" for k, v in sorted(phases.items())))
    print("totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    bad = totals["changed twice"] + totals["missed"] + totals["not in the journal"] + totals["intents without outcome"]
    print("RESULT: " + ("every database changed exactly once; the journal accounts for every request" if not bad
                        else f"{bad} problem(s)"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
