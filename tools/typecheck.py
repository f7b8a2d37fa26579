#!/usr/bin/env python3
"""Type-check rdsca with mypy, each file once, under the module name it is installed as.

``components/`` and ``policies/`` are installed as ``rdsca.components`` and ``rdsca.policies`` (pyproject's
``[tool.setuptools] package-dir``). Given the folders, mypy would name them ``components`` and ``policies`` and see
every ``rdsca.components`` import as missing; mypy's command line cannot rename a folder, so this script hands mypy
the sources with their installed module names (mypy's own ``BuildSource``), with the options from pyproject.toml.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: mypy itself depends on tomli there
    import tomli as tomllib  # type: ignore[no-redef]

from mypy import build
from mypy.main import process_options
from mypy.modulefinder import BuildSource

ROOT = Path(__file__).resolve().parent.parent


def sources() -> list[BuildSource]:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping: dict[str, str] = setuptools["package-dir"]
    found: dict[str, BuildSource] = {}
    for package in setuptools["packages"]:
        # The folder of a package: its own mapping, else its parent's mapping plus its last name.
        parent, _, leaf = package.rpartition(".")
        folder = ROOT / (mapping.get(package) or str(Path(mapping.get(parent, parent.replace(".", "/"))) / leaf))
        for path in sorted(folder.glob("*.py")):
            module = package if path.stem == "__init__" else f"{package}.{path.stem}"
            found[str(path)] = BuildSource(str(path.relative_to(ROOT)), module)
    return list(found.values())


def main() -> int:
    _, options = process_options(["--config-file", str(ROOT / "pyproject.toml"), str(ROOT / "rdsca")])
    result = build.build(sources(), options)
    for message in result.errors:
        print(message)
    checked = len(sources())
    if result.errors:
        print(f"Found {len(result.errors)} error(s) in {checked} source files (each checked once)")
        return 1
    print(f"Success: no issues found in {checked} source files (each checked once)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
