"""Progress on long work (issue 29.4): a transient rich line when stderr is a terminal (a pseudo-terminal here),
today's one line per step in a pipe, nothing with --quiet; stdout keeps the plain table in every case."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ..conftest import FIXTURES, RDSCA, REPO, rdsca

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="no pseudo-terminals on this platform")

AS_OF = ("--as-of", "2026-11-27")
#: What rich's live display writes: hide the cursor while it redraws, show it at the end.
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


def on_a_terminal(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``rdsca ARGS`` with stderr on a pseudo-terminal and stdout on a pipe: (exit code, stdout, what the terminal
    received, escape codes included)."""
    primary, secondary = os.openpty()
    environ = {**os.environ, "COLUMNS": "100", "NO_COLOR": "", "FORCE_COLOR": "", **(env or {})}
    proc = subprocess.Popen([*RDSCA, *args], stdout=subprocess.PIPE, stderr=secondary, stdin=subprocess.DEVNULL,
                            cwd=REPO, env=environ)
    os.close(secondary)
    received: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: every writer of the terminal is gone
                return
            if not data:
                return
            received.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert proc.stdout is not None
    out = proc.stdout.read().decode("utf-8")
    code = proc.wait(timeout=300)
    reader.join(timeout=60)
    os.close(primary)
    return code, out, b"".join(received).decode("utf-8", "replace")


def golden(name: str) -> str:
    with (FIXTURES / "golden" / f"{name}.txt").open(encoding="utf-8", newline="") as f:
        return f.read()


def test_audit_draws_a_transient_line_on_a_terminal_and_lines_in_a_pipe() -> None:
    code, out, err = on_a_terminal("audit", "--demo", *AS_OF)
    assert code == 1 and out == golden("audit-demo")  # stdout is a pipe: the plain table, byte for byte
    assert HIDE_CURSOR in err and SHOW_CURSOR in err
    assert "scanned 1/1 account(s), 2/2 region(s): 7 database(s), 4 with findings so far" in err
    # Redrawn in place (padded to the width, never a line of its own as in a pipe) and erased at the end.
    assert "so far\r\n" not in err and err.rstrip().endswith("\x1b[2K")
    piped = rdsca("audit", "--demo", *AS_OF)
    assert "\x1b" not in piped.stderr
    assert piped.stderr.splitlines()[-1] == "scanned 1/1 account(s), 2/2 region(s): 7 database(s), 4 with findings so far"


def test_quiet_on_a_terminal_draws_nothing() -> None:
    code, out, err = on_a_terminal("audit", "--demo", "--quiet", *AS_OF)
    assert code == 1 and out == golden("audit-demo") and err == ""


def test_a_pulumi_check_shows_registrations_and_policy_calls() -> None:
    code, _out, err = on_a_terminal("check", "examples/legacy-stack", "--policy-pack", "policies", *AS_OF)
    assert code == 1 and HIDE_CURSOR in err
    assert "resource(s) registered" in err and "policy call(s)" in err and "Analyze" in err


def test_a_terraform_check_shows_the_files_parsed() -> None:
    code, out, err = on_a_terminal("check", "examples/terraform-legacy", *AS_OF)
    assert code == 1 and out == golden("check-terraform-legacy")
    assert "parsed 1 file(s): examples/terraform-legacy/main.tf" in err


def test_probe_counts_endpoints_instead_of_a_line_each() -> None:
    args = ("probe", "127.0.0.1:1", "--engine", "postgres", "--connect-timeout", "1", *AS_OF)
    code, _out, err = on_a_terminal(*args)
    assert code == 2 and "probing: 1/1 endpoint(s)" in err and "could not probe" not in err
    piped = rdsca(*args)
    assert piped.returncode == 2 and "could not probe 127.0.0.1:1 (1/1): connection refused" in piped.stderr


def test_rotate_keeps_each_change_above_the_progress_line(tmp_path: Path) -> None:
    code, _out, err = on_a_terminal("rotate", "--demo", "--apply", "--yes", *AS_OF,
                                    env={"RDSCA_STATE_DIR": str(tmp_path)})
    assert code == 0, err
    assert "applying: 4/4 change(s)" in err
    # Each request's outcome is a line of its own that stays (what was sent to the account).
    assert "accepted: 123456789012 eu-west-1 catalog-docdb-0 modify-db-instance -> rds-ca-rsa2048-g1\r\n" in err


def test_the_pseudo_terminal_is_a_terminal_to_the_child() -> None:
    """Else the tests above would pass for the wrong reason."""
    primary, secondary = os.openpty()
    try:
        proc = subprocess.run([sys.executable, "-c", "import sys; print(sys.stderr.isatty(), sys.stdout.isatty())"],
                              stderr=secondary, stdout=subprocess.PIPE, text=True, check=True)
    finally:
        os.close(secondary)
        os.close(primary)
    assert proc.stdout.split() == ["True", "False"]
