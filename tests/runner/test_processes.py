"""``rdsca check`` leaves nothing behind: SIGTERM, SIGHUP, SIGKILL of rdsca itself, and ``--timeout`` (over the
program and over a policy that hangs) stop the host, the packs and their children, and leave no temporary files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from ..conftest import rdsca, rdsca_started, write_program

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups and these signals are POSIX")

#: A program that starts a grandchild, registers a database, then never ends.
HANGING_PROGRAM = """
import subprocess, time
import pulumi_aws as aws
subprocess.Popen(["sleep", "300"])
aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier="rds-ca-rsa2048-g1")
time.sleep(300)
"""

#: A pack whose policy never returns, and which starts a grandchild of its own.
HANGING_PACK = """
import subprocess, time
from pulumi_policy import PolicyPack, ResourceValidationPolicy

subprocess.Popen(["sleep", "300"])

def validate_hang(args, report_violation):
    if args.resource_type == "aws:rds/instance:Instance":
        time.sleep(300)

PolicyPack(name="hangs", policies=[
    ResourceValidationPolicy(name="hang", description="Never answers.", validate=validate_hang),
])
"""


def _pack(directory: Path, code: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (directory / "__main__.py").write_text(textwrap.dedent(code))
    return directory


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    proc = rdsca_started("check", *args, env=env)
    return proc, scratch


def _descendants_once_running(proc: subprocess.Popen[str], want: list[str], timeout: float = 60) -> list[psutil.Process]:
    """Every process under ``proc``, once one process runs each command line fragment in ``want``."""
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = parent.children(recursive=True)
        lines = [" ".join(p.cmdline()) for p in found if p.is_running()]
        if all(sum(fragment in line for line in lines) >= want.count(fragment) for fragment in want):
            return found
        time.sleep(0.1)
    raise AssertionError(f"not all of {want} started: {lines}")


def _all_gone(processes: list[psutil.Process], timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    alive: list[str] = []
    while time.monotonic() < deadline:
        alive = []
        for p in processes:
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(" ".join(p.cmdline()))
            except psutil.NoSuchProcess:
                pass
        if not alive:
            return []
        time.sleep(0.1)
    return alive


@pytest.fixture
def hanging(tmp_path: Path) -> tuple[Path, Path]:
    program = write_program(tmp_path / "prog", HANGING_PROGRAM)
    # A pack that stays up: pulumi_policy refuses an empty policy list (TypeError: Missing policies argument), and
    # such a pack exited before the program started; these tests then passed only when they looked in between.
    pack = _pack(tmp_path / "pack", """
        from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

        PolicyPack(name="idle", policies=[ResourceValidationPolicy(
            name="idle", description="does nothing", validate=lambda args, report: None,
            enforcement_level=EnforcementLevel.ADVISORY)])
    """)
    return program, pack


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_the_whole_run(tmp_path: Path, hanging: tuple[Path, Path], signum: int) -> None:
    program, pack = hanging
    proc, scratch = _start(tmp_path, str(program), "--policy-pack", str(pack))
    started = _descendants_once_running(proc, ["rdsca.runner.host_main", "pulumi.policy", "sleep 300"])
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    name = signal.Signals(signum).name
    assert err.strip().splitlines()[-1] == (
        f"rdsca: error: stopped by {name}; the program and the policy packs were stopped"
    )
    assert "Traceback" not in err
    assert _all_gone(started) == []
    assert list(scratch.iterdir()) == []


def test_rdsca_killed_outright_takes_the_run_with_it(tmp_path: Path, hanging: tuple[Path, Path]) -> None:
    """SIGKILL cannot be handled: the host sees its stdin close and stops its process group itself."""
    program, pack = hanging
    proc, scratch = _start(tmp_path, str(program), "--policy-pack", str(pack))
    started = _descendants_once_running(proc, ["rdsca.runner.host_main", "pulumi.policy", "sleep 300"])
    proc.kill()
    proc.communicate(timeout=30)
    assert _all_gone(started) == []
    assert list(scratch.iterdir()) == []


def test_the_timeout_stops_a_program_that_never_ends(tmp_path: Path) -> None:
    program = write_program(tmp_path / "prog", HANGING_PROGRAM)
    proc, scratch = _start(tmp_path, str(program), "--timeout", "4", "--format", "json")
    started = _descendants_once_running(proc, ["rdsca.runner.host_main", "sleep 300"])
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip() == (
        "rdsca: error: the program did not finish within the --timeout of 4 s (at __main__.py:6)"
    )
    # The program blocked its event loop before any registration could run (even the root stack's): the partial
    # report is empty, but it is a report.
    assert json.loads(out)["resources"] == []
    assert _all_gone(started) == []
    assert list(scratch.iterdir()) == []


def test_a_hanging_policy_is_named_with_its_resource(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "prog",
        """
        import pulumi_aws as aws
        aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier="rds-ca-rsa2048-g1")
        """,
    )
    pack = _pack(tmp_path / "pack", HANGING_PACK)
    proc, scratch = _start(tmp_path, str(program), "--policy-pack", str(pack), "--timeout", "6")
    started = _descendants_once_running(proc, ["rdsca.runner.host_main", "pulumi.policy", "sleep 300"])
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip() == (
        "rdsca: error: the policy pack hangs did not answer Analyze for aws:rds/instance:Instance db before the "
        "--timeout: a policy is stuck in validate_hang (__main__.py:9)"
    )
    assert _all_gone(started) == []
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "soon"])
def test_timeout_must_be_a_positive_number(value: str) -> None:
    proc = rdsca("check", ".", "--timeout", value)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("rdsca: error: Invalid value for '--timeout': ")
    assert "Traceback" not in proc.stderr


def test_check_huge_timeout_prints_no_traceback(tmp_path: Path) -> None:
    """`rdsca check DIR --timeout 1e308`: the host's deadline thread dies in time.sleep with OverflowError and
    prints a thread traceback to stderr (and the run then has no deadline at all)."""
    program = write_program(tmp_path / "prog", "import pulumi\n")
    proc = rdsca("check", program, "--timeout", "1e308", timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 2), (proc.returncode, proc.stderr)


def test_the_host_starts_its_packs_before_it_imports_the_sdk() -> None:
    """The packs start first so that they import pulumi_policy and listen while the host imports the SDK (issue 30:
    a third of a small stack's check): the host's entry point and the launcher import neither pulumi nor gRPC."""
    probe = ("import sys, rdsca.runner.host_main, rdsca.runner.pack_launch; "
             "print(sorted(m for m in ('pulumi', 'grpc', 'google.protobuf', 'rdsca.runner.python_host') "
             "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
