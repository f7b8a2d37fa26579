"""A pip-installed (non-editable) rdsca is self-contained: ``rdsca check`` works from a directory that holds a
folder named ``rdsca`` (a clone of this repository, say), which must not shadow the installed package.

The wheel is built from this checkout and installed with ``--no-deps`` into a fresh virtualenv that reaches the
dependencies already in the test's own environment through a ``.pth`` file, so nothing is downloaded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from .conftest import REPO

#: What the wheel is built from (pyproject's package-dir mapping and the files it names).
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "rdsca", "components", "policies")
#: The reference stack, whose directory in a clone also holds the ``rdsca/`` source folder.
PROGRAM = ("Pulumi.yaml", "Pulumi.dev.yaml", "__main__.py")


def _run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout}{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` directory of a fresh virtualenv with rdsca installed from its wheel."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        path = REPO / name
        (shutil.copytree(path, source / name, ignore=ignore) if path.is_dir() else shutil.copy2(path, source / name))
    wheels = root / "wheels"
    # As a release is built (docs/release.md): an sdist and a wheel with `python -m build`, then `twine check`.
    built = _run(sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", wheels, source)
    assert "WARNING" not in built.stdout + built.stderr, built.stdout + built.stderr  # package data complete
    (wheel,) = wheels.glob("rdsca-*.whl")
    (sdist,) = wheels.glob("rdsca-*.tar.gz")
    _run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist)
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bin_dir = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    purelib = _run(bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout
    # The dependencies (pulumi, pulumi-aws, grpc...) come from this environment, appended after the venv's own.
    Path(purelib.strip(), "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", bin_dir / "python", "install", "--no-deps", "--no-index", wheel)
    return bin_dir


def test_installed_rdsca_checks_a_program_next_to_a_folder_named_rdsca(installed: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in PROGRAM:
        shutil.copy2(REPO / name, clone / name)
    # The repository's own source folder: it has no ``components`` (package-dir maps it from ./components).
    shutil.copytree(REPO / "rdsca", clone / "rdsca", ignore=shutil.ignore_patterns("__pycache__"))
    location = _run(installed / "python", "-c", "import rdsca, rdsca.components; print(rdsca.__file__)", cwd=tmp_path)
    assert Path(location.stdout.strip()).is_relative_to(installed.parent), "rdsca is not the installed wheel"

    proc = subprocess.run(
        [str(installed / "rdsca"), "check", ".", "--format", "json"],
        cwd=clone, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert len(report["databases"]) == 6
    assert {d["ca"] for d in report["databases"]} == {"rds-ca-rsa2048-g1"}


def test_the_installed_wheel_names_its_version(installed: Path) -> None:
    import rdsca

    version = _run(installed / "rdsca", "--version").stdout
    assert version == f"rdsca, version {rdsca.__version__}\n"
