"""Starting policy pack processes the way the Pulumi CLI starts them, with nothing heavier than ``subprocess``.

The host reads its spec and starts its packs first, then imports the Pulumi SDK and the program (0.2 s, about the
time a pack takes to import pulumi_policy and listen): the pack is up by the time the first resource registers.
``rdsca.runner.pack_client.PackProcess`` adopts each process started here.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

try:
    import resource as rlimit
except ImportError:  # Windows: no core files to prevent
    rlimit = None  # type: ignore[assignment]

#: The pack makes no calls back to the engine; this address is never dialled.
ENGINE_ADDRESS = "127.0.0.1:1"
#: The analyzer service's methods, as gRPC paths (pulumi/proto/pulumi/analyzer.proto, ``service Analyzer``): called
#: with bytes in and out where the request is already serialised (the relay, ``AnalyzeStack``).
ANALYZER_METHOD = "/pulumirpc.Analyzer/{}"
#: The engine's gRPC message limit (``maxRPCMessageSize``: 400 MiB), on every channel rdsca opens.
MAX_MESSAGE_BYTES = 400 * 1024 * 1024


def channel_options() -> list[tuple[str, int]]:
    return [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES), ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]


def project_info(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "project": spec["project"],
        "stack": spec["stack"],
        "organization": spec.get("organization", "organization"),
        "config": spec["config"],
        "secure_keys": sorted(spec.get("secure_keys", [])),
        # What a pack is told is secret: every key that holds a secure value, decrypted or not, as the engine's
        # ConfigSecretKeys (target.Config.SecureKeys() in pulumi/pulumi pkg/engine/update.go).
        "config_secret_keys": sorted({*spec.get("secure_keys", []), *spec.get("secret_keys", [])}),
    }


def pack_environment(project: dict[str, Any]) -> dict[str, str]:
    """The environment the CLI gives a pack (``PULUMI_*``), on top of ours."""
    env = dict(os.environ)
    env.update(
        {
            "PULUMI_PROJECT": project["project"],
            "PULUMI_STACK": project["stack"],
            "PULUMI_ORGANIZATION": project["organization"],
            "PULUMI_DRY_RUN": "true",
            "PULUMI_CONFIG": json.dumps(project["config"]),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(project["config_secret_keys"]),
        }
    )
    return env


def launch(directory: Path, python: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``python -u -m pulumi.policy ENGINE_ADDRESS .`` in the pack's directory, as the CLI runs a Python pack.
    ``PYTHONFAULTHANDLER`` lets a stuck pack show, on SIGABRT, where each of its threads is. Raises ``OSError``."""
    env = {**env, "PYTHONFAULTHANDLER": "1"}
    limits = rlimit.getrlimit(rlimit.RLIMIT_CORE) if rlimit is not None else None
    if limits is not None:
        # No core file from SIGABRT in the user's pack directory: the limit is inherited at fork.
        rlimit.setrlimit(rlimit.RLIMIT_CORE, (0, limits[1]))
    try:
        return subprocess.Popen(
            [python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, "."],
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    finally:
        if limits is not None:
            rlimit.setrlimit(rlimit.RLIMIT_CORE, limits)


def launch_all(spec: dict[str, Any]) -> list[subprocess.Popen[bytes]] | None:
    """Every pack of a host spec, started now; None when one cannot start (the host then starts them the usual way
    and reports that one: the error is the same)."""
    packs = spec.get("packs") or []
    if not packs:
        return None
    env = pack_environment(project_info(spec))
    started: list[subprocess.Popen[bytes]] = []
    try:
        for pack in packs:
            started.append(launch(Path(pack["directory"]), pack["python"], env))
    except (OSError, KeyError, TypeError):
        for process in started:
            process.kill()
            process.wait()
        return None
    return started
