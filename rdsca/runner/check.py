"""``rdsca check`` of a Pulumi program: run it offline and describe the databases it would create.

The program runs in a fresh interpreter (``rdsca.runner.python_host``), as the language host runs it: one root stack
per process, nothing shared with the caller, and the program's own prints kept off our stdout. The host runs the
policy packs too, analysing each resource as it registers, as the engine does. Spec and result cross pipes,
never files; the host and everything it starts form one process group, stopped as a whole at the end, on Ctrl-C,
SIGTERM, SIGHUP and at the ``--timeout``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only light imports here: the parent process of ``rdsca check`` needs neither the Pulumi SDK nor grpc (the host
# does, and drives the policy packs).
from rdsca import interrupts
from rdsca.errors import RdscaError, require
from rdsca.runner import processes
from rdsca.runner.interpreter import Interpreter, resolve
from rdsca.runner.invoke_answers import Case, InvokeAnswersError, load_invoke_answers, to_spec
from rdsca.runner.judge import CheckReport, DatabaseRow, analyse, placeholder_hint, undecided_level, unused_answers
from rdsca.runner.policy_packs import PolicyError, PolicyResult, load_pack, parse_config_file, with_remediation
from rdsca.runner.project import NODE_RUNTIMES, Project, ProjectError, load_project

if TYPE_CHECKING:
    from rdsca.runner.policy_packs import PackDirectory, PolicyConfig

__all__ = [
    "CheckReport",
    "DatabaseRow",
    "InvokeAnswersError",
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
#: How long the readers of a watched run get to pass on its last lines once its process group is stopped.
WATCH_DRAIN_S = 5.0
#: Runs the host without the working directory on ``sys.path``: a folder there named like an installed package
#: (a clone's ``rdsca/`` next to the program) must not shadow it. The host changes into the program's directory
#: itself, after its own imports.
#: ``RDSCA_HOST_PATH``: rdsca's own directories, appended after a program environment's packages (``interpreter``).
HOST_COMMAND = (
    "import os, sys; del sys.path[0]; sys.path.extend(p for p in os.environ.pop('RDSCA_HOST_PATH', '').split("
    "os.pathsep) if p); from rdsca.runner.host_main import main; main(sys.argv[1:])"
)


class ProgramError(RdscaError):
    """The program raised, or its process died: the check could not run (exit 2). ``result``: what the host
    reported, when it did (registrations before the failure, placeholder answers); ``report``: what those
    resources gave (their databases and policy verdicts)."""

    def __init__(self, message: str, result: dict[str, Any] | None = None, report: CheckReport | None = None) -> None:
        super().__init__(message)
        self.result = result or {}
        self.report = report

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
        # Decrypted secure values: in "config" (over the pipe, never a file), marked secret for the program as the
        # CLI marks them (PULUMI_CONFIG_SECRET_KEYS), and filtered out of every output.
        "secret_keys": sorted(project.secret_keys),
        # Every decrypted string (a nested secure value's too), for the filter.
        "secret_values": sorted(project.secret_values),
        # A key the stack file does not set may come from the ESC environments it imports: unknown, not missing.
        "esc": project.esc is not None,
        "region": project.config.get("aws:region"),
        "invoke_answers": to_spec(answers or {}),
        # A Node.js program: run by node with its own @pulumi/pulumi (rdsca.runner.node_host); the entry point as the
        # language host passes it (Pulumi.yaml's main, "." by default), and runtime.options (typescript, nodeargs).
        "runtime": project.runtime,
        "entry": os.path.relpath(project.main, project.directory) if project.runtime in NODE_RUNTIMES else None,
        "options": project.options,
    }


def interpreter_for(project: Project) -> Interpreter:
    """The interpreter of the host: the program's own environment for Python; for Node.js, rdsca's own (it serves
    the engine over gRPC while node runs the program), which needs the Pulumi SDK."""
    if project.runtime in NODE_RUNTIMES:
        require("pulumi", "running a Node.js program (rdsca serves the engine with the Pulumi SDK's gRPC services)")
        return Interpreter(sys.executable)
    return resolve(project.directory, project.options, os.environ)


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


@dataclass(frozen=True)
class Watch:
    """What ``rdsca check`` shows while a program runs (a terminal's progress line): ``event(kind, detail)`` for each
    registration and policy call, which the host reports on a pipe of its own (POSIX: ``pass_fds``); ``output(line)``
    for each line the program and the packs write to stderr, which would otherwise break into the progress line."""

    event: Callable[[str, str], None]
    output: Callable[[str], None]


def _read_lines(stream: Any, each: Callable[[str], None]) -> None:
    with contextlib.suppress(OSError, ValueError), stream:
        for raw in stream:
            each(raw.decode("utf-8", "replace").rstrip("\n"))


def _event(line: str, event: Callable[[str, str], None]) -> None:
    with contextlib.suppress(ValueError, TypeError):
        kind, detail = json.loads(line)
        event(str(kind), str(detail))


def _watch_options(watch: Watch | None, spec: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    """The ``Popen`` options of a watched run (stderr piped, the events pipe passed on), and the events pipe's
    reading end; ``spec`` gets the writing end's number."""
    if watch is None:
        return {}, None
    options: dict[str, Any] = {"stderr": subprocess.PIPE}
    if not processes.POSIX:
        return options, None
    reading, writing = os.pipe()
    spec["events_fd"] = writing
    return {**options, "pass_fds": (writing,)}, reading


def _watch(watch: Watch | None, proc: subprocess.Popen[bytes], spec: dict[str, Any], events: int | None) -> list[Any]:
    """Start the readers of a watched run; the writing end of the events pipe is the host's alone from now on."""
    if watch is None:
        return []
    readers = [threading.Thread(target=_read_lines, args=(proc.stderr, watch.output), daemon=True)]
    if events is not None:
        os.close(spec["events_fd"])
        reader = os.fdopen(events, "rb")
        readers.append(threading.Thread(target=_read_lines, args=(reader, lambda line: _event(line, watch.event)),
                                        daemon=True))
    for reader_thread in readers:
        reader_thread.start()
    return readers


def run_host(
    spec: dict[str, Any], cwd: Path, timeout: float | None = None, python: Interpreter | None = None,
    watch: Watch | None = None,
) -> dict[str, Any]:
    """Run the host (``rdsca.runner.python_host``) on ``spec`` and return its result; the host and every process it
    started are gone when this returns or raises. Raises ``ProgramError`` when the host cannot report. ``python``:
    the program's own environment (``rdsca.runner.interpreter``), else rdsca's interpreter. ``watch``: see
    ``Watch``."""
    env = dict(os.environ)
    python = python or Interpreter(sys.executable)
    if python.host_path:
        env["RDSCA_HOST_PATH"] = os.pathsep.join(python.host_path)
    # Offline: no engine, and no cloud credentials are needed or used.
    env.pop("PULUMI_CONFIG", None)
    spec = {**spec, "timeout": timeout}
    hard_deadline = time.monotonic() + timeout + REPORT_GRACE_S if timeout else None
    watched, events = _watch_options(watch, spec)
    with interrupts.signals_stop_the_run():
        proc = subprocess.Popen(
            [python.python, "-c", HOST_COMMAND],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            **watched,
            **processes.group_options(),
        )
        readers = _watch(watch, proc, spec, events)
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
            for reader in readers:  # the program's last lines before the report
                reader.join(WATCH_DRAIN_S)
    if not data.strip():
        raise ProgramError(f"the program's process exited with code {proc.returncode} before reporting")
    result: dict[str, Any] = json.loads(data)
    return result


def run_program(
    project: Project, timeout: float | None = None, answers: Mapping[str, list[Case]] | None = None
) -> dict[str, Any]:
    """Run the program (no policy pack) in a fresh interpreter; return the host's raw result. Raises
    ``ProgramError`` (with the host's result so far). ``answers``: the ``--invoke-answers`` file."""
    python = interpreter_for(project)
    result = run_host(host_spec(project, answers), project.directory, timeout, python)
    if result.get("error"):
        raise ProgramError(result["error"], result)
    return result


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
    invoke_answers: Path | None = None,
    watch: Watch | None = None,
) -> CheckReport:
    """Load the project, run its program offline with the policy packs (if any) and analyse what it registered.

    Raises ``ProjectError``, ``InvokeAnswersError``, ``StateError``, ``ProgramError`` or ``PolicyError``; every
    input file is read before the program runs, so a mistake in one stops the check at once. A ``ProgramError`` or
    ``PolicyError`` raised once the program ran carries the ``report`` of what was registered before it failed.
    """
    project = load_project(program_dir, stack)
    answers = load_invoke_answers(invoke_answers) if invoke_answers else {}
    spec = host_spec(project, answers)
    state: dict[str, dict[str, Any]] | None = None
    if policies is not None:
        spec["packs"] = _pack_specs(policies)
        if policies.state_file is not None:
            from rdsca.runner.state import load_state

            state = {urn: old.outputs for urn, old in load_state(policies.state_file).resources.items()}
            spec["state"] = str(policies.state_file.resolve())
    python = interpreter_for(project)
    if python.warning:
        project.warnings.append(python.warning)
    result = run_host(spec, project.directory, timeout, python, watch)
    report = analyse(project, result, state, unused_answers(invoke_answers, answers, result))
    if result.get("policy") is not None:
        assert policies is not None
        level = undecided_level([parse_config_file(f) for f in policies.config_files])
        report.attach_policy(PolicyResult.from_json(result["policy"]), level)
    kind, error = result.get("error_kind"), result.get("error")
    if error:
        report.complete = False
        if kind == "policy-config":
            raise PolicyError(error)  # before anything ran, as the CLI: no partial report
        if kind == "policy":
            raise PolicyError(error, report)
        raise ProgramError(f"the program failed: {error}" if kind == "program" else error, result, report)
    return report
