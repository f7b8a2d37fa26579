"""Helpers for the Terraform tests: configurations written to a temp dir, and the CLI run in process."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from rdsca.cli import cli

PLANS = Path(__file__).resolve().parent.parent / "fixtures" / "terraform" / "plans"


def write_tf(directory: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text, dedented) under ``directory``."""
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return directory


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def run_json(*args: str | Path) -> tuple[int, dict[str, Any]]:
    result = run(*args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)
