"""Read a Pulumi project's ``Pulumi.yaml`` and stack file into the config a program sees, as the CLI does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: How an unknown value (computed during preview) and a secret appear in recorded inputs and in reports.
UNKNOWN_TEXT = "[unknown]"
SECRET_TEXT = "[secret]"


class ProjectError(Exception):
    """The program directory, project file or stack file cannot be used (a usage error)."""


@dataclass
class Project:
    directory: Path
    name: str
    runtime: str
    main: Path
    stack: str
    #: Fully qualified keys ("aws:region", "<project>:caIdentifier") to their string values, as in PULUMI_CONFIG.
    config: dict[str, str] = field(default_factory=dict)
    #: Keys whose stack value is ``secure:``: secrets whose value cannot be decrypted offline.
    secure_keys: set[str] = field(default_factory=set)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProjectError(f"{path}: not valid YAML ({exc.__class__.__name__}: {exc})") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read ({exc.strerror})") from None


def _qualify(key: str, project: str) -> str:
    # Keys without a namespace belong to the project (Pulumi docs, "Configuration": "project:key").
    return key if ":" in key else f"{project}:{key}"


def _as_config_string(value: Any) -> str:
    # The engine hands every config value to the program as a string; structured values as JSON
    # (this is what PULUMI_CONFIG carries and what Config.get_object parses).
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def load_project(directory: Path, stack: str | None = None) -> Project:
    """Load ``Pulumi.yaml`` and the selected ``Pulumi.<stack>.yaml``.

    With no ``stack``: the only stack file, or the stack "dev" with project defaults when there is none;
    several stack files and no choice is an error listing them.
    """
    directory = directory.resolve()
    if not directory.is_dir():
        raise ProjectError(f"{directory}: no such directory")
    project_file = next((directory / n for n in ("Pulumi.yaml", "Pulumi.yml") if (directory / n).is_file()), None)
    if project_file is None:
        raise ProjectError(f"{directory}: no Pulumi.yaml here; is this a Pulumi project?")
    doc = _load_yaml(project_file)
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise ProjectError(f"{project_file}: the project needs a 'name'")
    name = doc["name"]
    runtime = doc.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProjectError(f"{project_file}: runtime is {runtime_name!r}; rdsca check runs Python programs only")
    main = directory / str(doc.get("main") or ".")
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise ProjectError(f"{project_file}: the program entry point {main} does not exist")

    stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))
    if stack is None:
        if len(stacks) > 1:
            raise ProjectError(f"{directory}: several stacks ({', '.join(stacks)}); choose one with --stack NAME")
        stack = stacks[0] if stacks else "dev"
    elif stack not in stacks:
        known = ", ".join(stacks) if stacks else "none"
        raise ProjectError(f"{directory}: no stack file Pulumi.{stack}.yaml (stacks here: {known})")

    config: dict[str, str] = {}
    project_config = doc.get("config") or {}
    if not isinstance(project_config, dict):
        raise ProjectError(f"{project_file}: 'config' must be a mapping")
    for key, spec in project_config.items():
        full = _qualify(str(key), name)
        # Project-level config: either a plain value or a typed declaration with a default/value.
        if isinstance(spec, dict) and ({"type", "default", "value", "description", "secret"} & spec.keys()):
            if "value" in spec:
                config[full] = _as_config_string(spec["value"])
            elif "default" in spec:
                config[full] = _as_config_string(spec["default"])
        else:
            config[full] = _as_config_string(spec)

    secure: set[str] = set()
    stack_file = directory / f"Pulumi.{stack}.yaml"
    if stack_file.is_file():
        stack_doc = _load_yaml(stack_file)
        stack_config = stack_doc.get("config") or {} if isinstance(stack_doc, dict) else None
        if not isinstance(stack_config, dict):
            raise ProjectError(f"{stack_file}: 'config' must be a mapping")
        for key, value in stack_config.items():
            full = _qualify(str(key), name)
            if isinstance(value, dict) and set(value) == {"secure"}:
                secure.add(full)
                config.pop(full, None)
            else:
                config[full] = _as_config_string(value)
    return Project(directory, name, "python", main, stack, config, secure)
