"""Run the fake AWS in a process of its own: ``python -m rdsca.aws.fake [--port N] [--today DATE] [--latency S]``.

Prints one JSON line (``{"endpoint": ...}``) on stdout once it serves, then serves until it is stopped. Benchmarks and
the kill stress script use it so that the fake survives the rdsca processes they kill, and does not share their CPU
time; they drive it through its control API (``/_rdsca/calls``, ``/_rdsca/changes``, ``/_rdsca/configure``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import signal
import sys
import threading

from rdsca.aws.fake.server import FakeAccount


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m rdsca.aws.fake")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--latency", type=float, default=0.0, help="Seconds added to every call.")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    fake = FakeAccount(args.today, args.latency).start(args.port)
    print(json.dumps({"endpoint": fake.endpoint}), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
