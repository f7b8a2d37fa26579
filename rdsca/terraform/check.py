"""``rdsca check`` for Terraform: detect what a path holds, read it, judge it, and build the report."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from rdsca.terraform import judge
from rdsca.terraform.judge import TerraformReport
from rdsca.terraform.loader import load_directory
from rdsca.terraform.model import ConfigError


def detect_kind(path: Path) -> str:
    """``plan`` for a file, ``pulumi`` for a directory with Pulumi.yaml, ``terraform`` for one with ``*.tf`` or
    ``*.tf.json``; a directory with both must be told which (``--kind``)."""
    if path.is_file():
        return "plan"
    if not path.is_dir():
        return "pulumi"  # the Pulumi loader names the missing path
    pulumi = any((path / name).is_file() for name in ("Pulumi.yaml", "Pulumi.yml"))
    terraform = any(p.name.endswith((".tf", ".tf.json")) for p in path.iterdir() if p.is_file())
    if pulumi and terraform:
        raise ConfigError(
            f"{path} holds both a Pulumi project and Terraform files: choose one with --kind pulumi|terraform"
        )
    return "terraform" if terraform else "pulumi"


def check(
    path: Path,
    kind: str,
    assignments: list[tuple[str, str]] | None = None,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    allow_suppress_refused: bool = False,
    on_file: Callable[[Path], None] | None = None,
) -> TerraformReport:
    """Read and judge a Terraform configuration (``kind="terraform"``) or plan (``kind="plan"``); ``on_file(path)``
    after each configuration file is parsed."""
    config, config_warnings = judge.settings(config_file)
    if kind == "plan":
        if not path.is_file():
            raise ConfigError(f"{path}: a plan must be a file (terraform show -json PLANFILE > plan.json)")
        from rdsca.terraform.plan import load_plan  # a configuration's check does not import the plan reader

        resources, warnings = load_plan(path)
        unchecked, module_blocks, undeclared = [], {}, []
    else:
        if not path.is_dir():
            raise ConfigError(f"{path}: not a directory")
        configuration = load_directory(path, assignments, os.environ if environ is None else environ, on_file)
        resources, warnings = configuration.resources, configuration.warnings
        unchecked, module_blocks = configuration.unchecked, configuration.module_blocks
        undeclared = configuration.undeclared
    outcome = judge.judge(resources, config, unchecked, allow_suppress_refused, module_blocks, undeclared)
    return TerraformReport(kind, path, resources, outcome, [*config_warnings, *warnings, *outcome.suppression_warnings])
