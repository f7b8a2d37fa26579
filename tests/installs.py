"""The one rule for what the tests install (issue 27.5), for every test that needs more than the Python packages of
``pip install -e .[test]``: Debian packages (as root, on Debian: PostgreSQL's and MariaDB's servers, Chromium),
Python packages into scratch environments (the oldest and newest Pulumi SDK rdsca allows), and npm packages.

Each install says so on stdout as it happens and is cached (Debian's packages stay installed; scratch environments
live under ``RDSCA_TEST_CACHE``, default ``~/.cache/rdsca-tests``). ``RDSCA_TEST_NO_INSTALL=1`` installs nothing:
the tests that need something missing are skipped, each with the reason (``Unavailable``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import venv
from collections.abc import Iterator
from pathlib import Path

NO_INSTALL = "RDSCA_TEST_NO_INSTALL"


class Unavailable(Exception):
    """What a test needs is missing and cannot be installed here (the reason is printed as the skip reason)."""


def cache_dir() -> Path:
    path = Path(os.environ.get("RDSCA_TEST_CACHE") or Path.home() / ".cache" / "rdsca-tests")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _allowed(what: str) -> None:
    if os.environ.get(NO_INSTALL):
        raise Unavailable(f"{what} is not installed, and {NO_INSTALL} is set")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """One installer at a time across pytest-xdist workers (dpkg refuses a second one; pip would race)."""
    import fcntl  # POSIX; every install here is

    with open(Path(tempfile.gettempdir()) / f"rdsca-tests-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def apt_install(package: str) -> None:
    """``apt-get install -y PACKAGE`` as root on Debian (updating the lists once if the first try fails)."""
    _allowed(package)
    if not (_is_root() and Path("/etc/debian_version").exists() and shutil.which("apt-get")):
        raise Unavailable(f"{package} is not installed, and this is not Debian as root: cannot install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    with _locked("apt"):
        print(f"tests: installing {package} from Debian's packages", flush=True)
        if subprocess.run(command, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise Unavailable(f"apt-get install {package} failed: {done.stderr.strip()[-300:]}")


def python_env(name: str, requirements: list[str]) -> Path:
    """A cached virtualenv (its ``bin`` folder) holding ``requirements`` installed from PyPI without their
    dependencies, which it reaches in this test environment through a ``.pth`` file (appended after its own): so
    only the packages named are downloaded, once."""
    root = cache_dir() / f"py{sys.version_info[0]}{sys.version_info[1]}-{name}"
    bin_dir = root / ("Scripts" if sys.platform == "win32" else "bin")
    done = root / ".installed"
    wanted = "\n".join(requirements)
    if done.exists() and done.read_text() == wanted:
        return bin_dir
    _allowed(", ".join(requirements))
    with _locked(f"py-{name}"):
        if done.exists() and done.read_text() == wanted:
            return bin_dir
        print(f"tests: installing {', '.join(requirements)} from PyPI into {root}", flush=True)
        shutil.rmtree(root, ignore_errors=True)
        venv.EnvBuilder(with_pip=False).create(root)
        purelib = subprocess.run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                  "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
        Path(purelib, "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install",
                               "--no-deps", "--quiet", "--disable-pip-version-check", *requirements],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise Unavailable(f"pip install {' '.join(requirements)} failed (no network?): "
                              f"{proc.stderr.strip()[-300:]}")
        done.write_text(wanted)
    return bin_dir


def npm_env(name: str, packages: list[str]) -> Path:
    """A cached folder whose ``node_modules`` holds ``packages`` from the npm registry (``npm install``); a program
    uses it through a ``node_modules`` link. Unavailable without Node.js and npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise Unavailable("Node.js and npm are not installed: the Node.js program tests need them")
    root = cache_dir() / f"npm-{name}"
    done = root / ".installed"
    wanted = "\n".join(packages)
    if done.exists() and done.read_text() == wanted and (root / "node_modules").is_dir():
        return root / "node_modules"
    _allowed(", ".join(packages))
    with _locked(f"npm-{name}"):
        if done.exists() and done.read_text() == wanted and (root / "node_modules").is_dir():
            return root / "node_modules"
        print(f"tests: installing {', '.join(packages)} from the npm registry into {root}", flush=True)
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        (root / "package.json").write_text('{"name": "rdsca-tests", "private": true}\n')
        proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *packages], cwd=root,
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise Unavailable(f"npm install {' '.join(packages)} failed (no registry?): {proc.stderr.strip()[-300:]}")
        done.write_text(wanted)
    return root / "node_modules"
