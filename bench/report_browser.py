#!/usr/bin/env python3
"""Benchmark (issue 29.2): the campaign report of a 5,000-database fleet, opened in headless Chromium (Debian's, as
the browser tests use it, network off). Measures the page's size, the time `rdsca report` takes to write it, and in
the browser: load (navigation start to the load event's end), a text filter and a state filter applied, and a sort,
each timed inside the page around the synchronous handler; medians over the repetitions, load average printed.

    python bench/report_browser.py [--databases 5000] [--repeat 5]

Goal: the page opens and filters in under 2 s, and stays under 5 MB. The page draws the first 500 matching rows
(``rdsca.html_report.PAGE_SIZE``); "show all" is timed too.
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
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ENGINES = [("postgres", "16.4", "no"), ("mysql", "8.0.39", "no"), ("sqlserver-se", "15.00.4236.7.v1", "yes"),
           ("mariadb", "10.11.9", "no"), ("docdb", "5.0.0", "unknown"), ("oracle-ee", "19.0.0.0.ru-2024-04", "yes")]
CAS = [("rds-ca-2019", "retired"), ("rds-ca-rsa2048-g1", "ok"), ("rds-ca-rsa4096-g1", "ok"),
       ("rds-ca-ecc384-g1", "refused"), ("rds-ca-rsa2048-g1", "ok")]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]


def fleet(n: int) -> dict[str, Any]:
    """An audit of n databases over 40 accounts and 5 regions, with the findings an audit writes."""
    databases = []
    for i in range(n):
        engine, version, restart = ENGINES[i % len(ENGINES)]
        ca, status = CAS[i % len(CAS)]
        account, region = f"{100000000000 + i % 40}", REGIONS[i % len(REGIONS)]
        identifier = f"{engine.split('-')[0]}-{i:05d}"
        retired = status == "retired"
        databases.append({
            "account": account, "region": region, "kind": "RDS instance", "identifier": identifier,
            "arn": f"arn:aws:rds:{region}:{account}:db:{identifier}", "engine": engine, "engine_version": version,
            "endpoint_address": f"{identifier}.abcdefghijkl.{region}.rds.amazonaws.com", "endpoint_port": 5432,
            "ca": ca, "ca_status": status, "serving": "retired-ca" if retired else "ok", "served_ca": ca,
            "server_certificate_valid_till": "2024-08-22T17:08:50Z" if retired else "2027-08-22T17:08:50Z",
            "pending_ca": None, "scheduled": None, "maintenance_window": "sun:03:00-sun:03:30",
            "restart": restart, "replacement": "rds-ca-rsa2048-g1" if status != "ok" else None,
            "findings": [f"CA retired: {ca} is retired (expired on 2024-08-22); AWS answers CertificateNotFound and "
                         "deployments naming it fail; updating is required for clients that verify the certificate"]
            if retired else [], "notes": [], "clients": None,
        })
    return {"as_of": "2026-11-27", "accounts": [], "regions": [], "databases": databases, "results": []}


MEASURE = """
// Each step is timed around its handler and the layout it causes (offsetHeight forces the layout synchronously),
// so that the figure is what a person waits for, not only the script.
const box = document.getElementById('filter-text');
const state = document.getElementById('filter-state');
const drawn = () => Array.from(document.querySelectorAll('#databases tbody tr')).filter(r => !r.hidden).length;
const timed = (act) => {
  const t = performance.now(); act(); document.body.offsetHeight; return performance.now() - t;
};
const nav = performance.getEntriesByType('navigation')[0];
const first = drawn();
const text = timed(() => { box.value = 'postgres eu-west-1'; box.dispatchEvent(new Event('input')); });
const textRows = drawn();
box.value = ''; box.dispatchEvent(new Event('input'));
const byState = timed(() => { state.value = 'retired'; state.dispatchEvent(new Event('change')); });
const stateRows = drawn();
state.value = ''; state.dispatchEvent(new Event('change'));
const sort = timed(() => document.evaluate("//th/button[.='Identifier']", document, null, 9, null)
  .singleNodeValue.click());
const all = timed(() => document.getElementById('show-all').click());
return {load: nav.loadEventEnd - nav.startTime, text, byState, sort, all, first, textRows, stateRows,
        drawnAll: drawn()};
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from tests.report import browser

    with tempfile.TemporaryDirectory() as tmp:
        audit = Path(tmp) / "audit.json"
        audit.write_text(json.dumps(fleet(args.databases)))
        page = Path(tmp) / "report.html"
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "rdsca.cli", "report", str(audit), "--html", str(page)],
                              capture_output=True, text=True, check=False)
        written = time.monotonic() - started
        if done.returncode != 1:
            raise SystemExit(f"rdsca report: exit {done.returncode}: {done.stderr}")
        print(f"load average before: {os.getloadavg()[0]:.2f}; {args.databases} databases, {args.repeat} runs")
        print(f"page: {page.stat().st_size / 2**20:.2f} MiB; rdsca report wrote it in {written:.2f} s")
        results: list[dict[str, float]] = []
        with browser.chromium() as driver:
            for _ in range(args.repeat):
                started = time.monotonic()
                driver.get(page.as_uri())
                opened = time.monotonic() - started
                measured = driver.execute_script(MEASURE)
                assert measured["drawnAll"] == args.databases, measured
                results.append({**measured, "get": opened})
        print("| measure | median ms | min ms | max ms |")
        print("|---|---|---|---|")
        names = {"get": "WebDriver get (until the load event)", "load": "navigation start to load end",
                 "text": "text filter (2 words), with its layout", "byState": "state filter, with its layout",
                 "sort": "sort by identifier, with its layout", "all": "show all rows, with their layout"}
        for key, name in names.items():
            values = [r[key] * (1000 if key == "get" else 1) for r in results]
            print(f"| {name} | {statistics.median(values):.0f} | {min(values):.0f} | {max(values):.0f} |")
        first = results[0]
        print(f"rows drawn: on opening {first['first']}, text filter {first['textRows']}, state filter "
              f"{first['stateRows']}, show all {first['drawnAll']}")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
