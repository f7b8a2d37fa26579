"""The Pulumi SDK range rdsca declares (issue 27.2) is the range it is tested with: the oldest and the newest
``pulumi`` that ``pyproject.toml`` allows are installed into scratch environments (``tests/installs.py``), the SDK
internals rdsca relies on are checked in each, and a program that runs in each is judged end to end."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from rdsca.runner.interpreter import _declared_range

from . import installs
from .conftest import REPO, rdsca, write_program

PROGRAM = """
import pulumi

class Instance(pulumi.CustomResource):
    # No provider SDK: the type token is what rdsca judges (pulumi-aws needs a newer pulumi than the oldest allowed).
    def __init__(self, name, props):
        super().__init__("aws:rds/instance:Instance", name, props)

Instance("legacy", {"engine": "mysql", "engineVersion": "8.0.39", "caCertIdentifier": "rds-ca-2019"})
Instance("current", {"engine": "mysql", "engineVersion": "8.0.39", "caCertIdentifier": "rds-ca-rsa2048-g1"})
"""


@pytest.fixture(scope="module", params=["oldest", "newest"])
def sdk(request: pytest.FixtureRequest) -> tuple[str, Path]:
    _text, low, high = _declared_range()
    wanted = f"pulumi=={'.'.join(map(str, low))}" if request.param == "oldest" else f"pulumi<{high[0]}"
    try:
        return request.param, installs.python_env(f"pulumi-{request.param}", [wanted])
    except installs.Unavailable as exc:
        pytest.skip(str(exc))


def test_the_sdk_internals_hold_at_both_ends_of_the_range(sdk: tuple[str, Path]) -> None:
    end, bin_dir = sdk
    version = subprocess.run([str(bin_dir / "python"), "-c", "import importlib.metadata as m; print(m.version("
                              "'pulumi'))"], capture_output=True, text=True, check=True).stdout.strip()
    _text, low, high = _declared_range()
    parts = tuple(int(p) for p in version.split(".")[:2])
    assert (parts[:2] == low[:2]) if end == "oldest" else (parts < high), version
    proc = subprocess.run([str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                           "no:xdist", "tests/test_sdk_internals.py"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300, check=False)
    assert proc.returncode == 0, f"pulumi {version}: {proc.stdout[-3000:]}{proc.stderr[-2000:]}"


def test_a_program_in_an_environment_at_each_end_is_judged(sdk: tuple[str, Path], tmp_path: Path) -> None:
    _end, bin_dir = sdk
    program = write_program(tmp_path / "prog", PROGRAM)
    with (program / "Pulumi.yaml").open("a") as project:
        project.write(f"runtime:\n  name: python\n  options:\n    virtualenv: {bin_dir.parent}\n")
    text = (program / "Pulumi.yaml").read_text().replace("runtime: python\n", "", 1)
    (program / "Pulumi.yaml").write_text(text)
    proc = rdsca("check", program, "--policy-pack", REPO / "policies", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert {(r["name"], r["policy"]) for r in report["results"]} == {("legacy", "rds-ca-retired")}
