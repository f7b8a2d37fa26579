"""Shared fixtures: small real Pulumi programs written to a temp dir and run through the offline engine."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from rdsca import clock
from rdsca.paths import STATE_DIR_ENV
from rdsca.runner.check import analyse, host_spec, load_project
from rdsca.runner.python_host import execute

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent
PINNED_TODAY = dt.date(2026, 11, 27)

#: The command line of ``rdsca`` as a user runs it, in a process of its own (``python -m``: no console script needed).
RDSCA = [sys.executable, "-m", "rdsca.cli"]


def rdsca(
    *args: str | Path, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``rdsca ARGS...`` to its end; ``env`` adds to (not replaces) this process's environment."""
    return subprocess.run(
        [*RDSCA, *map(str, args)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def rdsca_started(
    *args: str | Path, cwd: Path = REPO, env: dict[str, str] | None = None, **popen: Any
) -> subprocess.Popen[str]:
    """Start ``rdsca ARGS...`` and return at once (signals, concurrency, lifecycle); ``env`` replaces the environment
    when given in full by the caller (``env=`` of Popen), else this process's is used."""
    return subprocess.Popen(
        [*RDSCA, *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``rdsca ARGS...`` in this process (click's runner): (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from rdsca.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_error_line(code: int, out: str, err: str, internal_ok: bool = False) -> str:
    """The one line an error gives (exit 2, ``rdsca: error: ...``, no traceback, and not an internal error unless
    ``internal_ok``); returned for further checks."""
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("rdsca: error: "), lines[0]
    assert internal_ok or "internal error" not in lines[0], lines[0]
    return lines[0]


#: Test modules whose tests each start real processes (programs, packs, the CLI, rotations): ``slow``.
SLOW_MODULES = {
    "tests/runner/test_check",
    "tests/runner/test_nodejs",
    "tests/runner/test_suppress",
    "tests/runner/test_interpreter",
    "tests/runner/test_stack_secrets",
    "tests/runner/test_invokes",
    "tests/runner/test_pack_calls",
    "tests/runner/test_report",
    "tests/runner/test_processes",
    "tests/runner/test_pack_client",
    "tests/cli/test_cli",
    "tests/cli/test_golden",
    "tests/cli/test_progress",
    "tests/test_component",
    "tests/test_examples",
    "tests/test_fuzz_inputs",
    "tests/test_policy_scenarios",
    "tests/aws/test_concurrency",
    "tests/aws/test_isolation",
    "tests/aws/test_kill_points",
    "tests/aws/test_org",
    "tests/policies/test_pack",
}
#: Modules and fixtures that need something beyond Python: ``integration`` (real database servers, wheels built and
#: installed into fresh environments, pre-commit's own repository handling).
INTEGRATION_MODULES = {"tests/test_wheel_install", "tests/cli/test_precommit", "tests/test_sdk_range"}
INTEGRATION_FIXTURES = {"pg", "pg_expired", "pg_plain", "pg_template", "mariadb", "mariadb_plain", "mariadb_template"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by what they need, so that the inner loop can leave them out (``-m "not slow and not
    integration"``) without a marker written on each."""
    for item in items:
        module = item.path.relative_to(REPO).with_suffix("").as_posix()
        if module in INTEGRATION_MODULES or INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        elif module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


# ``--hypothesis-profile stress``: at least 1,000 cases per fuzzed file kind (tests/test_fuzz_inputs.py).
settings.register_profile("stress", max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    """Every test judges dates as of one fixed day."""
    monkeypatch.setenv(clock.AS_OF_ENV, PINNED_TODAY.isoformat())
    return PINNED_TODAY


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output as a pipe gets it, whatever the developer's shell or CI sets: FORCE_COLOR would colour every table
    the tests read, NO_COLOR would hide what the colour tests look for."""
    for name in ("FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--debug`` run in process sets ``RDSCA_DEBUG`` for this process: no later test inherits it."""
    monkeypatch.delenv("RDSCA_DEBUG", raising=False)


@pytest.fixture(autouse=True)
def no_vouched_roots(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``--known-roots`` run in process vouches for roots for the rest of the process: no later test inherits them."""
    from rdsca.truststore import aws_roots

    monkeypatch.delenv("RDSCA_KNOWN_ROOTS", raising=False)
    aws_roots.forget()
    yield
    aws_roots.forget()


@pytest.fixture(autouse=True)
def state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test keeps rdsca's per-user state (journals, locks) in a directory of its own."""
    path = tmp_path_factory.mktemp("state")
    monkeypatch.setenv(STATE_DIR_ENV, str(path))
    return path


def write_program(
    directory: Path, code: str, config: dict[str, Any] | None = None, stacks: dict[str, str] | None = None
) -> Path:
    """Write a Pulumi.yaml project with ``code`` as __main__.py; ``stacks`` maps stack name to file text."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["name: testprog", "runtime: python", "config:", "  aws:region: us-west-2"]
    for key, value in (config or {}).items():
        lines.append(f"  {key}: {value!r}" if not isinstance(value, str) else f"  {key}: {value}")
    (directory / "Pulumi.yaml").write_text("\n".join(lines) + "\n")
    (directory / "__main__.py").write_text(textwrap.dedent(code))
    for name, text in (stacks or {}).items():
        (directory / f"Pulumi.{name}.yaml").write_text(textwrap.dedent(text))
    return directory


def engine_made(registration: dict[str, Any]) -> bool:
    """The root stack and the default providers: registered for every program (by the SDK and the engine)."""
    if registration["type"] == "pulumi:pulumi:Stack":
        return True
    return registration["type"].startswith("pulumi:providers:") and registration["name"].startswith("default")


class Run:
    """The result of one offline run, with lookups by resource name. ``registrations``: the program's own
    (``raw["registrations"]`` has the root stack and default providers too)."""

    def __init__(self, raw: dict[str, Any], project: Any) -> None:
        self.raw = raw
        self.error = raw["error"]
        self.registrations = [r for r in raw["registrations"] if not engine_made(r)]
        self.log = raw["log"]
        self.report = analyse(project, raw) if not raw["error"] else None

    def inputs(self, name: str) -> dict[str, Any]:
        matches = [r for r in self.registrations if r["name"] == name]
        assert len(matches) == 1, f"{name}: {len(matches)} registrations"
        return matches[0]["inputs"]

    def registration(self, name: str) -> dict[str, Any]:
        return next(r for r in self.registrations if r["name"] == name)

    def messages(self, severity: str) -> list[str]:
        return [e["message"] for e in self.log if e["severity"] == severity]


def run_offline(directory: Path, stack: str | None = None) -> Run:
    """Run a program in this process, exactly as the ``rdsca check`` host does in its subprocess."""
    project = load_project(directory, stack)
    raw = execute(host_spec(project))
    return Run(raw, project)


@pytest.fixture
def program(tmp_path: Path):
    """``program(code, **kw)`` writes a program and runs it offline."""

    def make(code: str, **kwargs: Any) -> Run:
        stack = kwargs.pop("stack", None)
        return run_offline(write_program(tmp_path / "prog", code, **kwargs), stack)

    return make
