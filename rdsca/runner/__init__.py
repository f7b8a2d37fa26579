"""``rdsca check``: run a Pulumi Python program offline and describe the databases it would create.

The program runs in a fresh interpreter (``python -m rdsca.runner.host``), as the language host runs it: one
root stack per process, nothing shared with the caller, and the program's own prints kept off our stdout. The
host runs the policy packs too, analysing each resource as it registers, as the engine does. Spec and result
cross pipes, never files; the host and everything it starts form one process group, stopped as a whole at the
end, on Ctrl-C, SIGTERM, SIGHUP and at the ``--timeout``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdsca import catalog
from rdsca.resources import (
    AWS_PROVIDER_TOKEN,
    MISSING,
    NULL,
    PULUMI_DATABASES,
    DatabaseView,
    Kind,
    Unknown,
    database_view,
    read_plain,
)

# Only light imports here: the parent process of ``rdsca check`` needs neither the Pulumi SDK nor grpc (the host
# does, and drives the policy packs).
from rdsca.runner import processes
from rdsca.runner.packs import PolicyError, PolicyResult, load_pack, parse_config_file, with_remediation
from rdsca.runner.project import SECRET_TEXT, UNKNOWN_TEXT, Project, ProjectError, load_project
from rdsca.runner.secrets import SecretFilter

if TYPE_CHECKING:
    from rdsca.runner.packs import PackDirectory, PolicyConfig

__all__ = [
    "CheckReport",
    "PolicyError",
    "PolicyOptions",
    "ProgramError",
    "ProjectError",
    "analyse",
    "check_program",
    "host_spec",
    "load_project",
    "run_program",
]


#: How long past the ``--timeout`` the host gets to report what it was doing before its group is killed.
REPORT_GRACE_S = 15.0


class ProgramError(Exception):
    """The program raised, or its process died: the check could not run (exit 2). ``report``: what the resources
    registered before the failure gave (their databases and policy verdicts), when the host could say."""

    def __init__(self, message: str, report: CheckReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class DatabaseRow:
    urn: str
    name: str
    kind: Kind
    engine: str | None
    engine_version: str | None
    region: str | None
    ca: Any
    apply_immediately: Any
    restart: str
    verdict: catalog.Verdict | None


@dataclass
class CheckReport:
    program: str
    stack: str
    resources: list[dict[str, Any]]
    databases: list[DatabaseRow]
    log: list[dict[str, Any]]
    warnings: list[str]
    #: Where each resource was registered in the program (``{"uri", "line"}``), by URN.
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    policy: PolicyResult | None = None

    @property
    def diagnostics(self) -> list[dict[str, Any]]:
        return self.policy.diagnostics if self.policy else []

    @property
    def remediations(self) -> list[dict[str, Any]]:
        return self.policy.remediations if self.policy else []

    @property
    def blocked(self) -> bool:
        """A mandatory policy violation remains (only with a policy pack)."""
        return bool(self.policy and self.policy.blocked)

    @property
    def findings(self) -> list[DatabaseRow]:
        """Databases whose CA is known and not acceptable (retired, unknown, expired, refused)."""
        return [d for d in self.databases if d.verdict is not None and not d.verdict.acceptable]

    def to_json(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "stack": self.stack,
            "resources": self.resources,
            "diagnostics": self.diagnostics,
            "remediations": self.remediations,
            "warnings": self.warnings,
            "blocked": self.blocked,
            "policy_pack": {"name": self.policy.pack, "version": self.policy.version} if self.policy else None,
            "policy_packs": [{"name": p.name, "version": p.version} for p in self.policy.packs] if self.policy else [],
            "log": self.log,
        }


def host_spec(project: Project) -> dict[str, Any]:
    """What the host needs to run the program (JSON-serialisable)."""
    return {
        "directory": str(project.directory),
        "main": str(project.main),
        "project": project.name,
        "stack": project.stack,
        "config": project.config,
        "secure_keys": sorted(project.secure_keys),
        "region": project.config.get("aws:region"),
    }


def _read_until_done(stream: Any, deadline: float | None) -> bytes | None:
    """Everything ``stream`` gives until it closes, or None at ``deadline``. The main thread waits in short slices
    so that a signal (Ctrl-C, SIGTERM) is handled at once."""
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(stream.read()), daemon=True)
    reader.start()
    while reader.is_alive():
        if deadline is not None and time.monotonic() >= deadline:
            return None
        reader.join(0.1)
    return b"".join(chunks)


def run_host(spec: dict[str, Any], cwd: Path, timeout: float | None = None) -> dict[str, Any]:
    """Run ``python -m rdsca.runner.host`` on ``spec`` and return its result; the host and every process it started
    are gone when this returns or raises. Raises ``ProgramError`` when the host cannot report."""
    env = dict(os.environ)
    # Offline: no engine, and no cloud credentials are needed or used.
    env.pop("PULUMI_CONFIG", None)
    spec = {**spec, "timeout": timeout}
    hard_deadline = time.monotonic() + timeout + REPORT_GRACE_S if timeout else None
    with processes.signals_stop_the_run():
        proc = subprocess.Popen(
            [sys.executable, "-m", "rdsca.runner.host"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            **processes.group_options(),
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(spec).encode("utf-8") + b"\n")
            proc.stdin.flush()
            data = _read_until_done(proc.stdout, hard_deadline)
            if data is None:
                raise ProgramError(f"the program did not finish within the --timeout of {timeout:g} s")
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=processes.GRACE_S * 5)  # the host stops its packs, then exits
        finally:
            processes.stop_group(proc)
            proc.stdin.close()
            proc.stdout.close()
    if not data.strip():
        raise ProgramError(f"the program's process exited with code {proc.returncode} before reporting")
    result: dict[str, Any] = json.loads(data)
    return result


def run_program(project: Project, timeout: float | None = None) -> dict[str, Any]:
    """Run the program (no policy pack) in a fresh interpreter; return the host's raw result. Raises
    ``ProgramError``, with the raw result so far as its ``result``."""
    result = run_host(host_spec(project), project.directory, timeout)
    if result.get("error"):
        error = ProgramError(result["error"])
        error.result = result  # type: ignore[attr-defined]
        raise error
    return result


def _provider_regions(registrations: list[dict[str, Any]]) -> dict[str, str]:
    return {
        r["urn"]: r["inputs"]["region"]
        for r in registrations
        if r["type"] == AWS_PROVIDER_TOKEN and isinstance(r["inputs"].get("region"), str)
    }


def _read(props: Mapping[str, Any], name: str) -> Any:
    """Recorded inputs: unknowns are the text ``[unknown]``; a null input is as good as unset (the SDK drops it)."""
    value = read_plain(props, name)
    if value == UNKNOWN_TEXT:
        return Unknown(name, reason="computed during preview")
    return MISSING if value is None or value is NULL else value


def _filtered(verdict: catalog.Verdict | None, secrets: SecretFilter) -> catalog.Verdict | None:
    """A verdict with every secret's value replaced by ``[secret]`` in its text (as the engine filters messages)."""
    if verdict is None:
        return None
    return dataclasses.replace(
        verdict,
        ca_id=secrets.text(verdict.ca_id) if verdict.ca_id else verdict.ca_id,
        reason=secrets.text(verdict.reason),
        warnings=tuple(secrets.text(w) for w in verdict.warnings),
    )


def _row(reg: dict[str, Any], db: DatabaseView, secrets: SecretFilter) -> DatabaseRow:
    restart = catalog.restart_on_rotation(db.engine, db.engine_version).value
    ca = None if db.ca is MISSING else (UNKNOWN_TEXT if isinstance(db.ca, Unknown) else db.ca)
    apply = None if db.apply_immediately is MISSING else db.apply_immediately
    verdict = _filtered(None if isinstance(db.ca, Unknown) else db.verdict(), secrets)
    if read_plain(reg["inputs"], db.type.fields.ca) == SECRET_TEXT:
        ca = SECRET_TEXT  # a secret CA is judged on its value (the host passes it over the pipe), never shown
    return DatabaseRow(
        reg["urn"], reg["name"], db.kind, db.engine, db.engine_version, db.region, ca, apply, restart, verdict
    )


def _secrets(registrations: list[dict[str, Any]]) -> SecretFilter:
    """The values the host marked secret (``[secret]`` in ``inputs``, the value in ``values``)."""
    secrets = SecretFilter()
    for reg in registrations:
        values = reg.get("values")
        if values:
            secrets.add({str(v) for k, v in values.items() if reg["inputs"].get(k) == SECRET_TEXT})
    return secrets


def analyse(project: Project, result: dict[str, Any]) -> CheckReport:
    """Turn the host's registrations into the report: restart and CA verdict per database."""
    registrations = result["registrations"]
    secrets = _secrets(registrations)
    providers = _provider_regions(registrations)
    default_region = project.config.get("aws:region")
    resources: list[dict[str, Any]] = []
    databases: list[DatabaseRow] = []
    for reg in registrations:
        entry = {k: reg[k] for k in ("urn", "type", "name", "parent", "inputs")}
        entry["restart"] = None
        resources.append(entry)
        if reg["type"] not in PULUMI_DATABASES:
            continue
        region = providers.get(reg.get("provider", "").rsplit("::", 1)[0]) or default_region
        # ``values``: the inputs with secrets' plaintext, present only when there are secrets.
        db = database_view(reg["type"], reg.get("values") or reg["inputs"], reg["name"], region=region, read=_read)
        if db is None or db.kind is Kind.AURORA_CLUSTER or db.undecided:
            continue  # Aurora clusters carry no CA (and a cluster whose engine is unknown cannot be judged)
        row = _row(reg, db, secrets)
        entry["restart"] = row.restart
        databases.append(row)
    warnings = list(result.get("warnings", []))
    warnings += [f"{e['message']}" for e in result.get("log", []) if e["severity"] in ("warning", "error")]
    for token in result.get("unanswered_invokes", []):
        warnings.append(f"data source {token} cannot be answered offline: its result fields were null")
    return CheckReport(
        program=str(project.directory),
        stack=project.stack,
        resources=resources,
        databases=databases,
        log=result.get("log", []),
        warnings=warnings,
        sources={r["urn"]: r["source"] for r in registrations if r.get("source")},
    )


@dataclass(frozen=True)
class PolicyOptions:
    """``rdsca check --policy-pack DIR... [--policy-pack-config FILE...] [--remediate] [--state FILE]``: each
    config file belongs to the pack at the same position, as with the CLI."""

    packs: tuple[Path, ...]
    config_files: tuple[Path, ...] = ()
    remediate: bool = False
    state_file: Path | None = None


def _pack_specs(policies: PolicyOptions) -> list[dict[str, Any]]:
    """Every pack and its config, read before the program runs (so that a mistake stops the check at once)."""
    if policies.config_files and len(policies.config_files) != len(policies.packs):
        raise PolicyError('the number of "--policy-pack-config" flags must match the number of "--policy-pack" flags')
    packs: list[PackDirectory] = [load_pack(p) for p in policies.packs]
    configs: list[dict[str, PolicyConfig]] = [parse_config_file(f) for f in policies.config_files]
    specs = []
    for pack, given in zip(packs, configs or [{} for _ in packs], strict=True):
        if policies.remediate:
            given = with_remediation(given)
        specs.append(
            {
                "directory": str(pack.directory),
                "python": pack.python,
                "version": pack.version,
                "warnings": list(pack.warnings),
                "config": {name: {"level": c.level, "properties": c.properties} for name, c in given.items()},
            }
        )
    return specs


def check_program(
    program_dir: Path,
    stack: str | None = None,
    timeout: float | None = None,
    policies: PolicyOptions | None = None,
) -> CheckReport:
    """Load the project, run its program offline with the policy packs (if any) and analyse what it registered.

    Raises ``ProjectError``, ``StateError``, ``ProgramError`` or ``PolicyError``; every input file is read before
    the program runs, so a mistake in one stops the check at once. A ``ProgramError`` or ``PolicyError`` raised
    once the program ran carries the ``report`` of what was registered before it failed.
    """
    project = load_project(program_dir, stack)
    spec = host_spec(project)
    if policies is not None:
        spec["packs"] = _pack_specs(policies)
        if policies.state_file is not None:
            from rdsca.runner.state import load_state

            load_state(policies.state_file)
            spec["state"] = str(policies.state_file.resolve())
    result = run_host(spec, project.directory, timeout)
    report = analyse(project, result)
    if result.get("policy") is not None:
        report.policy = PolicyResult.from_json(result["policy"])
        report.warnings += report.policy.warnings
    kind, error = result.get("error_kind"), result.get("error")
    if error:
        if kind == "policy":
            raise PolicyError(error, report)
        raise ProgramError(f"the program failed: {error}" if kind == "program" else error, report)
    return report
