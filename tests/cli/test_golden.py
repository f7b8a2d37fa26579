"""Byte-for-byte output of real commands when stdout is not a terminal (a pipe, a CI log, a file): the plain table
renderer (``rdsca.output.render_table``) must not change when the terminal renderer does. Regenerate after an
intended change with ``RDSCA_UPDATE_GOLDEN=1 pytest tests/cli/test_golden.py`` and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..conftest import FIXTURES, REPO, rdsca

GOLDEN = FIXTURES / "golden"
AS_OF = "2026-11-27"
#: Empty values count as unset (no-color.org, force-color.org): whatever the developer's shell sets, the output is
#: the plain one a pipe gets.
PLAIN_ENV = {"NO_COLOR": "", "FORCE_COLOR": "", "COLUMNS": "60"}

#: (golden file, command line, exit code).
CASES = [
    ("check-legacy-stack", ["check", "examples/legacy-stack"], 1),
    ("check-terraform-legacy", ["check", "examples/terraform-legacy"], 1),
    ("list-rules", ["list-rules"], 0),
    ("audit-demo", ["audit", "--demo"], 1),
    ("rotate-demo", ["rotate", "--demo"], 0),
    ("default-ca-show-demo", ["default-ca", "show", "--demo"], 0),
    ("truststore-inspect", ["truststore", "inspect", "tests/fixtures/rds-global-bundle-2024-06.pem"], 0),
]


@pytest.mark.parametrize(("name", "args", "code"), CASES, ids=[c[0] for c in CASES])
def test_plain_output_is_unchanged(name: str, args: list[str], code: int) -> None:
    # COLUMNS is set narrow on purpose: a pipe gets the whole table whatever the terminal's width.
    proc = rdsca(*args, "--as-of", AS_OF, env=PLAIN_ENV)
    assert proc.returncode == code, proc.stderr
    out = proc.stdout.replace(str(REPO), "{REPO}")
    assert "\x1b" not in out + proc.stderr
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("RDSCA_UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8", newline="")
    assert out == _read(path)


def _read(path: Path) -> str:
    # newline="": the file's bytes as they are (no newline translation on Windows).
    with path.open(encoding="utf-8", newline="") as f:
        return f.read()
