"""The GitHub Action (issue 26.6): ``action.yml`` is valid against SchemaStore's schema for action metadata (GitHub
publishes none), pins the actions it uses by commit, and its steps' command lines, run here as the runner would run
them, gate: exit 1 on ``examples/terraform-legacy``, 0 on a clean configuration, SARIF written either way."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from .conftest import REPO

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def test_action_yml_is_valid_github_action_metadata() -> None:
    schema = json.loads((REPO / "tests" / "fixtures" / "github-action.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(ACTION)
    assert ACTION["runs"]["using"] == "composite"
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
        else:
            # Inputs reach the scripts through the environment, never spliced into the script (script injection).
            assert "${{" not in step["run"], step["name"]


def _substitute(text: str, inputs: dict[str, str], outputs: dict[str, str], workspace: Path) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        if expression == "steps.check.outputs.exit-code":
            return outputs.get("exit-code", "")
        if expression == "github.workspace":
            return str(workspace)
        raise AssertionError(f"an expression the test does not know: {expression}")

    return _EXPRESSION.sub(value, text)


def _run_action(workspace: Path, tmp_path: Path, **given: str) -> tuple[int, dict[str, str], str]:
    """Run the action's shell steps in order as the runner does (bash -e, the step's env and working directory,
    GITHUB_OUTPUT); ``uses`` steps are GitHub's own (setup-python: this interpreter is on PATH; upload-sarif)."""
    inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()} | given
    outputs: dict[str, str] = {}
    # setup-python's part: this environment's interpreter (and its rdsca) first on PATH.
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "python").exists(), "the tests run in a virtualenv (tasks.py makes one)"
    log = ""
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            continue
        output_file = tmp_path / "github_output"
        output_file.write_text("")
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_ACTION_PATH": str(REPO),
            "GITHUB_OUTPUT": str(output_file),
            # The install step, for real but without touching this environment: pip resolves and builds rdsca
            # from the action's checkout and stops before installing (dependencies are this environment's).
            "PIP_DRY_RUN": "1", "PIP_NO_DEPS": "1", "PIP_NO_INDEX": "1",
            "PIP_NO_BUILD_ISOLATION": "0",  # pip's inverted spelling: no build isolation
            **{k: _substitute(str(v), inputs, outputs, workspace) for k, v in (step.get("env") or {}).items()},
        }
        cwd = _substitute(step.get("working-directory", str(workspace)), inputs, outputs, workspace)
        proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        log += proc.stdout + proc.stderr
        for line in output_file.read_text().splitlines():
            key, _, val = line.partition("=")
            outputs[key] = val
        if proc.returncode != 0:
            return proc.returncode, outputs, log
    return 0, outputs, log


@pytest.mark.parametrize(
    ("files", "given", "job", "exit_code"),
    [
        ("terraform-legacy", {}, 1, "1"),
        ("terraform-legacy", {"soft-fail": "true"}, 0, "0"),
        ("clean", {}, 0, "0"),
    ],
)
def test_the_action_gates_on_findings(tmp_path: Path, files: str, given: dict[str, Any], job: int,
                                      exit_code: str) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    target = workspace / "infra"
    if files == "clean":
        target.mkdir()
        (target / "main.tf").write_text(
            'resource "aws_db_instance" "db" {\n  engine = "postgres"\n  ca_cert_identifier = "rds-ca-rsa2048-g1"\n}\n')
    else:
        import shutil

        shutil.copytree(REPO / "examples" / files, target)
    code, outputs, log = _run_action(workspace, tmp_path, path="infra", **given)
    assert code == job, log
    assert outputs.get("exit-code") == exit_code, log
    sarif = json.loads((workspace / "rdsca.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    if files == "terraform-legacy":
        assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"rds-ca-retired", "rds-ca-engine-support"}
    if job:
        assert "::error title=rdsca::findings remain" in log
