"""``rdsca check``: run a Pulumi Python program offline and describe the databases it would create.

The program runs in a fresh interpreter (``python -m rdsca.runner.host``), as the language host runs it: one
root stack per process, nothing shared with the caller, and the program's own prints kept off our stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
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

# Only light imports here: the parent process of ``rdsca check`` does not need the Pulumi SDK (the host does).
from rdsca.runner.project import UNKNOWN_TEXT, Project, ProjectError, load_project

if TYPE_CHECKING:
    from rdsca.runner.analyzer import PolicyResult

__all__ = [
    "CheckReport",
    "PolicyOptions",
    "ProgramError",
    "ProjectError",
    "analyse",
    "check_program",
    "host_spec",
    "load_project",
    "run_program",
]


class ProgramError(Exception):
    """The program raised, or its process died: the check could not run (exit 2)."""


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


def run_program(project: Project, timeout: float | None = None) -> dict[str, Any]:
    """Run the program in a fresh interpreter; return the host's raw result. Raises ``ProgramError``."""
    spec = host_spec(project)
    with tempfile.TemporaryDirectory(prefix="rdsca-check-") as tmp:
        spec_path, result_path = Path(tmp, "spec.json"), Path(tmp, "result.json")
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        env = dict(os.environ)
        # Offline: no engine, and no cloud credentials are needed or used.
        env.pop("PULUMI_CONFIG", None)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "rdsca.runner.host", str(spec_path), str(result_path)],
                cwd=project.directory,
                env=env,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ProgramError(f"the program did not finish within {timeout:.0f} s") from None
        if not result_path.exists():
            raise ProgramError(f"the program's process exited with code {proc.returncode} before reporting")
        result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    if result.get("error"):
        raise ProgramError(result["error"])
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


def _row(reg: dict[str, Any], db: DatabaseView) -> DatabaseRow:
    restart = catalog.restart_on_rotation(db.engine, db.engine_version).value
    ca = None if db.ca is MISSING else (UNKNOWN_TEXT if isinstance(db.ca, Unknown) else db.ca)
    apply = None if db.apply_immediately is MISSING else db.apply_immediately
    verdict = None if isinstance(db.ca, Unknown) else db.verdict()
    return DatabaseRow(
        reg["urn"], reg["name"], db.kind, db.engine, db.engine_version, db.region, ca, apply, restart, verdict
    )


def analyse(project: Project, result: dict[str, Any]) -> CheckReport:
    """Turn the host's registrations into the report: restart and CA verdict per database."""
    registrations = result["registrations"]
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
        db = database_view(reg["type"], reg["inputs"], reg["name"], region=region, read=_read)
        if db is None or db.kind is Kind.AURORA_CLUSTER or db.undecided:
            continue  # Aurora clusters carry no CA (and a cluster whose engine is unknown cannot be judged)
        row = _row(reg, db)
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
    """``rdsca check --policy-pack DIR [--policy-pack-config FILE] [--remediate] [--state FILE]``."""

    pack: Path
    config_file: Path | None = None
    remediate: bool = False
    state_file: Path | None = None


def check_program(
    program_dir: Path,
    stack: str | None = None,
    timeout: float | None = None,
    policies: PolicyOptions | None = None,
) -> CheckReport:
    """Load the project, run its program offline, run the policy pack (if any) and analyse what it registered.

    Raises ``ProjectError``, ``ProgramError`` or ``analyzer.PolicyError``; every input file is read before the
    program runs, so a mistake in one stops the check at once.
    """
    project = load_project(program_dir, stack)
    if policies is None:
        return analyse(project, run_program(project, timeout))
    from rdsca.runner import analyzer  # grpc and the analyzer protocol: only with a pack
    pack = analyzer.load_pack(policies.pack)
    given = analyzer.parse_config_file(policies.config_file) if policies.config_file else {}
    state = analyzer.load_state(policies.state_file) if policies.state_file else None
    # The engine starts analyzers before the program; so does this: the pack starts while the program runs.
    with analyzer.start_pack(pack, project) as launched:
        result = run_program(project, timeout)
        policy = analyzer.run_policies(pack, project, result, given, policies.remediate, state, launched)
    report = analyse(project, result)
    report.policy = policy
    report.warnings += policy.warnings
    return report
