"""A program runs in its own environment, as the Pulumi CLI runs it (issue 23.8): the virtualenv ``Pulumi.yaml``
names (toolchain pip), uv's project environment, or poetry's. rdsca installs nothing into it."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from rdsca.runner import interpreter

from ..conftest import rdsca, write_program

PROGRAM = """
import pulumi_aws as aws
import only_in_its_venv
aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier=only_in_its_venv.CA)
"""


def _project(tmp_path: Path, options: str) -> Path:
    program = write_program(tmp_path / "prog", PROGRAM)
    text = (program / "Pulumi.yaml").read_text().replace("runtime: python\n", f"runtime:\n  name: python\n{options}")
    (program / "Pulumi.yaml").write_text(text)
    return program


def _venv(path: Path, *, pulumi: bool = True, module: bool = True, fake_sdk: str | None = None) -> Path:
    """A virtualenv of this Python with no pip (fast). ``pulumi``: rdsca's site-packages reachable through a .pth
    (the SDK and providers, as an installed environment would have them); ``module``: a package that exists only
    here; ``fake_sdk``: a pulumi distribution of that version and nothing else."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    site = Path(subprocess.run([str(path / "bin" / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    if pulumi:
        (site / "rdsca-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    if module:
        (site / "only_in_its_venv.py").write_text('CA = "rds-ca-2019"\n')
    if fake_sdk:
        meta = site / f"pulumi-{fake_sdk}.dist-info"
        meta.mkdir()
        (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: pulumi\nVersion: {fake_sdk}\n")
    return path


def test_the_program_runs_with_the_virtualenv_pulumi_yaml_names(tmp_path: Path) -> None:
    """Its dependency lives only in its virtualenv: rdsca's interpreter failed with ModuleNotFoundError."""
    program = _project(tmp_path, "  options:\n    virtualenv: venv\n")
    _venv(program / "venv")
    proc = rdsca("check", program, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    (db,) = json.loads(proc.stdout)["databases"]
    assert (db["ca"], db["status"]) == ("rds-ca-2019", "retired")


def test_uv_s_project_environment(tmp_path: Path) -> None:
    program = _project(tmp_path, "  options:\n    toolchain: uv\n")
    _venv(program / ".venv")
    assert rdsca("check", program).returncode == 1


def test_a_virtualenv_that_does_not_exist_yet_is_said_and_rdsca_s_interpreter_runs(tmp_path: Path) -> None:
    program = write_program(tmp_path / "prog", 'import pulumi_aws as aws\naws.rds.Instance("db", engine="mysql", '
                            'instance_class="db.t3.micro", ca_cert_identifier="rds-ca-2019")\n')
    text = (program / "Pulumi.yaml").read_text().replace(
        "runtime: python\n", "runtime:\n  name: python\n  options:\n    virtualenv: venv\n")
    (program / "Pulumi.yaml").write_text(text)
    proc = rdsca("check", program, "--format", "json")
    assert proc.returncode == 1
    warnings = json.loads(proc.stdout)["warnings"]
    assert any(w.startswith(f"the virtualenv venv of Pulumi.yaml ({program / 'venv'}) does not exist, so the "
                            "program ran with rdsca's interpreter") for w in warnings), warnings


@pytest.mark.parametrize(
    ("venv", "message"),
    [
        ({"pulumi": False}, "has no Pulumi SDK: install pulumi>=3.260,<4 there"),
        ({"pulumi": False, "fake_sdk": "2.9.0"}, "has pulumi 2.9.0; rdsca check supports pulumi>=3.260,<4"),
    ],
    ids=["no sdk", "old sdk"],
)
def test_an_environment_rdsca_cannot_use_is_one_error_line(tmp_path: Path, venv: dict, message: str) -> None:
    program = _project(tmp_path, "  options:\n    virtualenv: venv\n")
    _venv(program / "venv", **venv)
    proc = rdsca("check", program)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"rdsca: error: the virtualenv venv of Pulumi.yaml ({program / 'venv'}) {message}"


def test_unknown_toolchain_and_missing_poetry(tmp_path: Path) -> None:
    with pytest.raises(interpreter.InterpreterError, match="toolchain 'conda': choose pip, uv or poetry"):
        interpreter.resolve(tmp_path, {"toolchain": "conda"}, {})
    with pytest.raises(interpreter.InterpreterError, match="toolchain poetry, but poetry is not on PATH"):
        interpreter.resolve(tmp_path, {"toolchain": "poetry"}, {"PATH": str(tmp_path)})
    assert interpreter.resolve(tmp_path, {}, {}).python == sys.executable


def test_poetry_s_environment_is_the_one_poetry_names(tmp_path: Path) -> None:
    """toolchain poetry: the environment `poetry env info --path` prints (a stand-in poetry on PATH here)."""
    venv = _venv(tmp_path / "poetry-env")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "poetry").write_text(f"#!/bin/sh\necho {venv}\n")
    (tools / "poetry").chmod(0o755)
    found = interpreter.resolve(tmp_path, {"toolchain": "poetry"}, {"PATH": str(tools)})
    assert found.python == str(venv / "bin" / "python") and found.source == "poetry's environment"
    (tools / "poetry").write_text("#!/bin/sh\nexit 1\n")
    with pytest.raises(interpreter.InterpreterError, match="poetry has no environment"):
        interpreter.resolve(tmp_path, {"toolchain": "poetry"}, {"PATH": str(tools)})
