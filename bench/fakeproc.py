"""The fake AWS in a process of its own, for benchmarks: start it, drive it through its control API, stop it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from typing import Any

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeProcess:
    """``python -m rdsca.aws.fake`` as a child process; ``control(path, body)`` calls its ``/_rdsca/`` API."""

    def __init__(self, today: str | None = None) -> None:
        args = [sys.executable, "-m", "rdsca.aws.fake"] + (["--today", today] if today else [])
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        self.endpoint = json.loads(line)["endpoint"]

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.endpoint}/_rdsca/{path}", data=data, method="POST" if data else "GET")
        return json.loads(NO_PROXY.open(request, timeout=600).read())

    def wait_idle(self, timeout: float = 60) -> None:
        """Until no request is being served (one a killed client left behind has landed)."""
        deadline = time.monotonic() + timeout
        while self.control("in-flight")["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def __enter__(self) -> FakeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def instance(name: str, engine: str, version: str, ca: str) -> dict[str, Any]:
    return {"DBInstanceIdentifier": name, "Engine": engine, "EngineVersion": version,
            "DBInstanceClass": "db.t4g.medium", "AllocatedStorage": 20, "MasterUsername": "admin",
            "MasterUserPassword": "bench-password-1", "CACertificateIdentifier": ca}
