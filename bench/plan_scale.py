"""How reading a Terraform plan scales with its number of resource changes (issue: 20,000 changes took 24-36 s
against 1.6 s for 5,000, because each address was searched from the start of the file). Linear now.

    .venv/bin/python bench/plan_scale.py            # prints a table; docs/benchmarks.md keeps the figures
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rdsca.terraform.plan import load_plan


def plan(n: int) -> dict:
    changes = [
        {
            "address": f"aws_db_instance.db_{i}",
            "mode": "managed",
            "type": "aws_db_instance",
            "name": f"db_{i}",
            "change": {
                "actions": ["create"],
                "after": {"engine": "mysql", "identifier": f"db-{i}", "ca_cert_identifier": "rds-ca-2019"},
                "after_unknown": {},
            },
        }
        for i in range(n)
    ]
    return {"format_version": "1.2", "resource_changes": changes}


def main() -> int:
    print(f"load average: {os.getloadavg()}")
    print(f"{'changes':>8}  {'median s':>9}  {'s per 1,000':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (5_000, 10_000, 20_000, 40_000):
            path = Path(tmp) / f"plan-{n}.json"
            path.write_text(json.dumps(plan(n), indent=2))
            times = []
            for _ in range(3):
                start = time.perf_counter()
                resources, _warnings = load_plan(path)
                times.append(time.perf_counter() - start)
            assert len(resources) == n
            median = statistics.median(times)
            print(f"{n:>8}  {median:>9.2f}  {median / n * 1000:>11.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
