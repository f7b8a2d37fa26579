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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Only light imports here: the parent process of ``rdsca check`` does not need the Pulumi SDK (the host does).
from rdsca.runner.analysis import CheckReport, DatabaseRow, analyse, placeholder_hint, unused_answers
from rdsca.runner.answers import Case, InvokeAnswersError, load_invoke_answers, to_spec
from rdsca.runner.project import Project, ProjectError, load_project

__all__ = [
    "CheckReport",
    "DatabaseRow",
    "InvokeAnswersError",
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
    """The program raised, or its process died: the check could not run (exit 2). ``result``: what the host
    reported, when it did (registrations before the failure, placeholder answers)."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result or {}

    @property
    def hint(self) -> str | None:
        """One more line for the user: the data sources answered with placeholders, when there were any."""
        return placeholder_hint(self.result)


def host_spec(project: Project, answers: Mapping[str, list[Case]] | None = None) -> dict[str, Any]:
    """What the host needs to run the program (JSON-serialisable); ``answers``: ``--invoke-answers``."""
    return {
        "directory": str(project.directory),
        "main": str(project.main),
        "project": project.name,
        "stack": project.stack,
        "config": project.config,
        "secure_keys": sorted(project.secure_keys),
        "region": project.config.get("aws:region"),
        "invoke_answers": to_spec(answers or {}),
    }


def run_program(
    project: Project, timeout: float | None = None, answers: Mapping[str, list[Case]] | None = None
) -> dict[str, Any]:
    """Run the program in a fresh interpreter; return the host's raw result. Raises ``ProgramError``.
    ``answers``: the ``--invoke-answers`` file."""
    spec = host_spec(project, answers)
    with tempfile.TemporaryDirectory(prefix="rdsca-check-") as tmp:
        spec_path, result_path = Path(tmp, "spec.json"), Path(tmp, "result.json")
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        env = dict(os.environ)
        # Offline: no engine, and no cloud credentials are needed or used.
        env.pop("PULUMI_CONFIG", None)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "rdsca.runner.host", str(spec_path), str(result_path)],
                # Not the program's directory: ``python -m`` puts the working directory first on sys.path, where a
                # folder named like an installed package (``rdsca/``) would shadow it. The host changes into the
                # program's directory itself, after its own imports.
                cwd=tmp,
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
        raise ProgramError(result["error"], result)
    return result


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
    invoke_answers: Path | None = None,
) -> CheckReport:
    """Load the project, run its program offline, run the policy pack (if any) and analyse what it registered.

    Raises ``ProjectError``, ``InvokeAnswersError``, ``ProgramError`` or ``analyzer.PolicyError``; every input
    file is read before the program runs, so a mistake in one stops the check at once.
    """
    project = load_project(program_dir, stack)
    answers = load_invoke_answers(invoke_answers) if invoke_answers else {}
    if policies is None:
        result = run_program(project, timeout, answers)
        return analyse(project, result, unused_answers=unused_answers(invoke_answers, answers, result))
    from rdsca.runner import analyzer  # grpc and the analyzer protocol: only with a pack
    pack = analyzer.load_pack(policies.pack)
    given = analyzer.parse_config_file(policies.config_file) if policies.config_file else {}
    state = analyzer.load_state(policies.state_file) if policies.state_file else None
    # The engine starts analyzers before the program; so does this: the pack starts while the program runs.
    with analyzer.start_pack(pack, project) as launched:
        result = run_program(project, timeout, answers)
        policy = analyzer.run_policies(pack, project, result, given, policies.remediate, state, launched)
    report = analyse(project, result, state, unused_answers(invoke_answers, answers, result))
    report.attach_policy(policy)
    return report
