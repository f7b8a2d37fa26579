"""Which Python runs a program: the one the Pulumi CLI's Python language host would use.

The CLI reads ``runtime.options`` of ``Pulumi.yaml`` (pulumi/pulumi ``sdk/python/toolchain``): ``toolchain: pip``
(the default) runs the ``virtualenv`` the options name, relative to the project directory; ``toolchain: uv`` runs
uv's project environment (``UV_PROJECT_ENVIRONMENT``, else ``.venv``, or the ``virtualenv`` option); ``toolchain:
poetry`` the environment ``poetry env info --path`` names. With none of them the CLI runs ``python3`` from PATH;
rdsca runs its own interpreter then, the honest offline equivalent (its packages are the ones installed beside it).

A program run in its own environment gets that environment's packages first (its Pulumi SDK and providers, its own
dependencies); rdsca's host code and what it needs come after them on ``sys.path`` (``host_path``), so they fill in
what the environment lacks without shadowing it. rdsca never installs anything into a user's environment: a
virtualenv that does not exist, lacks the Pulumi SDK or has one rdsca does not support is one error line saying what
to run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdsca.errors import RdscaError, require


def _declared_range() -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """The Pulumi SDK range rdsca declares (pyproject.toml, read back from the installed package's metadata: one
    source): its text, and its lower (inclusive) and upper (exclusive) bounds."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        declared = next(r for r in requires("rdsca") or [] if re.match(r"pulumi\s*[<>=]", r))
    except (PackageNotFoundError, StopIteration):
        raise InterpreterError("rdsca's package metadata names no pulumi requirement: reinstall rdsca") from None
    spec = declared.split(";")[0]
    low = re.search(r">=\s*([0-9.]+)", spec)
    high = re.search(r"<\s*([0-9.]+)", spec)
    if low is None or high is None:
        raise InterpreterError(f"rdsca's pulumi requirement {spec!r} has no >= and < bounds")
    bounds = [tuple(int(p) for p in m.group(1).split(".")) for m in (low, high)]
    return f"pulumi>={low.group(1)},<{high.group(1)}", bounds[0], bounds[1]
_PROBE = (
    "import sys, json\n"
    "try:\n"
    "    from importlib.metadata import version\n"
    "    v = version('pulumi')\n"
    "except Exception:\n"
    "    v = None\n"
    "print(json.dumps([list(sys.version_info[:2]), v]))\n"
)


class InterpreterError(RdscaError):
    """The program's environment cannot run it under rdsca (exit 2, one line saying what to do)."""


@dataclass(frozen=True)
class Interpreter:
    python: str
    #: Directories appended to the program's ``sys.path``: rdsca's host code and its dependencies.
    host_path: tuple[str, ...] = ()
    #: Where it came from, for messages ("the virtualenv venv of Pulumi.yaml").
    source: str = "rdsca's own interpreter"
    #: Why the named environment was not used (it does not exist yet), for the report's warnings.
    warning: str | None = None


def _python_in(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _environment(directory: Path, options: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[Path, str] | None:
    toolchain = options.get("toolchain") or "pip"
    named = options.get("virtualenv")
    if toolchain == "poetry":
        poetry = shutil.which("poetry", path=environ.get("PATH"))
        if poetry is None:
            raise InterpreterError("Pulumi.yaml: toolchain poetry, but poetry is not on PATH: install it, or run "
                                   "rdsca from the program's environment")
        try:
            done = subprocess.run([poetry, "env", "info", "--path"], cwd=directory, capture_output=True, text=True,
                                  check=False, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InterpreterError(f"Pulumi.yaml: toolchain poetry: poetry env info did not answer ({exc})") from None
        path = done.stdout.strip()
        if done.returncode != 0 or not path:
            raise InterpreterError(f"Pulumi.yaml: toolchain poetry, but poetry has no environment for {directory}: "
                                   "run poetry install there")
        return Path(path), "poetry's environment"
    if toolchain == "uv":
        chosen = named or environ.get("UV_PROJECT_ENVIRONMENT") or ".venv"
        return (directory / str(chosen)).resolve(), f"uv's environment {chosen}"
    if toolchain != "pip":
        raise InterpreterError(f"Pulumi.yaml: toolchain {toolchain!r}: choose pip, uv or poetry")
    if isinstance(named, str) and named:
        return (directory / named).resolve(), f"the virtualenv {named} of Pulumi.yaml"
    return None


def _rdsca_path() -> tuple[str, ...]:
    """Where rdsca and its dependencies are importable from in this process."""
    import rdsca

    paths = [str(Path(rdsca.__file__).resolve().parent.parent)]
    for key in ("purelib", "platlib"):
        paths.append(sysconfig.get_paths()[key])
    return tuple(dict.fromkeys(paths))


def resolve(directory: Path, options: Mapping[str, Any], environ: Mapping[str, str]) -> Interpreter:
    """The interpreter for a program, checked: its environment exists, has a supported Pulumi SDK and the Python
    version rdsca's own packages were built for."""
    found = _environment(directory, options, environ)
    if found is None:
        require("pulumi", "running a Pulumi program with rdsca's own interpreter (its Pulumi.yaml names no virtualenv)")
        return Interpreter(sys.executable)
    venv, source = found
    if venv.is_dir() and venv.resolve() == Path(sys.prefix).resolve():
        require("pulumi", "running a Pulumi program with rdsca's own interpreter")
        return Interpreter(sys.executable, source=source)  # the environment rdsca itself runs in
    python = _python_in(venv)
    if not venv.is_dir() or not python.exists():
        # The CLI would create it and install requirements.txt (as `pulumi new` projects expect: their Pulumi.yaml
        # names `venv` before it exists). rdsca installs nothing: it runs the program with its own interpreter, as it
        # does a policy pack's missing virtualenv, and says so.
        pip = f"python3 -m venv {venv} && {python} -m pip install -r requirements.txt"
        install = "uv sync" if "uv" in source else pip
        require("pulumi", f"running the program with rdsca's own interpreter ({source} {venv} does not exist)")
        return Interpreter(sys.executable, warning=(
            f"{source} ({venv}) does not exist, so the program ran with rdsca's interpreter and its packages; to "
            f"run it in its own environment, as the Pulumi CLI would: {install}"))
    try:
        done = subprocess.run([str(python), "-c", _PROBE], capture_output=True, text=True, check=False, timeout=60)
        (major, minor), sdk = json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise InterpreterError(f"{source}: its Python {python} does not run ({reason})") from None
    supported, low, high = _declared_range()
    if sdk is None:
        raise InterpreterError(f"{source} ({venv}) has no Pulumi SDK: install {supported} there")
    if not _supported(sdk, low, high):
        raise InterpreterError(f"{source} ({venv}) has pulumi {sdk}; rdsca check supports {supported}")
    if (major, minor) != sys.version_info[:2]:
        mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
        raise InterpreterError(f"{source} runs Python {major}.{minor} and rdsca runs on {mine}: run rdsca with a "
                               f"Python {major}.{minor}, or give the program an environment of Python {mine}")
    return Interpreter(str(python), _rdsca_path(), source)


def _supported(version: str, low: tuple[int, ...], high: tuple[int, ...]) -> bool:
    try:
        parts = tuple(int(p) for p in version.split(".")[:3])
    except ValueError:
        return False
    return low <= parts < high
