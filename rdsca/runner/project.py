"""Read a Pulumi project's ``Pulumi.yaml`` and stack file into the config a program sees, as the CLI does."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rdsca.errors import RdscaError
from rdsca.files import read_text
from rdsca.runner import stack_secrets

#: How an unknown value (computed during preview) and a secret appear in recorded inputs and in reports.
UNKNOWN_TEXT = "[unknown]"
SECRET_TEXT = "[secret]"


class ProjectError(RdscaError):
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
    #: Keys whose stack value is ``secure:`` and could not be decrypted (``undecryptable`` says why).
    secure_keys: set[str] = field(default_factory=set)
    #: Keys whose ``secure:`` values were decrypted (their plaintext is in ``config``): secrets to the program.
    secret_keys: set[str] = field(default_factory=set)
    undecryptable: dict[str, str] = field(default_factory=dict)
    #: What rdsca could not read: ESC environments the stack imports.
    warnings: list[str] = field(default_factory=list)
    #: ``runtime.options`` of ``Pulumi.yaml`` (``virtualenv``, ``toolchain``).
    options: dict[str, Any] = field(default_factory=dict)
    #: Every decrypted string (a nested secure value's too): filtered out of everything shown.
    secret_values: set[str] = field(default_factory=set)
    #: Why a key missing from the stack's config may still have a value: the ESC environments it imports.
    esc: str | None = None


def load_yaml(path: Path, error: type[Exception]) -> Any:
    """A YAML file, parsed safely; ``error`` names the file for a file that is not YAML."""
    text = read_text(path, error)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise error(f"{path}: not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise error(f"{path}: nested too deeply") from None


def _load_yaml(path: Path) -> Any:
    return load_yaml(path, ProjectError) or {}


def _qualify(key: str, project: str) -> str:
    # Keys without a namespace belong to the project (Pulumi docs, "Configuration": "project:key").
    return key if ":" in key else f"{project}:{key}"


def _as_config_string(value: Any, path: Path, key: str) -> str:
    # The engine hands every config value to the program as a string; structured values as JSON
    # (this is what PULUMI_CONFIG carries and what Config.get_object parses).
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        # YAML dates and times become their ISO text, as a string is what the program gets.
        return json.dumps(value, default=str)
    except (ValueError, RecursionError):
        raise ProjectError(f"{path}: config {key}: a value that refers to itself or is nested too deeply") from None


def load_project(directory: Path, stack: str | None = None, environ: Mapping[str, str] | None = None) -> Project:
    """Load ``Pulumi.yaml`` and the selected ``Pulumi.<stack>.yaml``.

    With no ``stack``: the only stack file, or the stack "dev" with project defaults when there is none;
    several stack files and no choice is an error listing them.
    """
    directory = directory.resolve()
    project_file = _project_file(directory)
    doc = _load_yaml(project_file)
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise ProjectError(f"{project_file}: the project needs a 'name'")
    name = doc["name"]
    runtime_name = _runtime(doc, project_file)
    main = _entry_point(doc, directory, project_file) if runtime_name == "python" else _node_entry(doc, directory,
                                                                                                   project_file)
    stack = _select_stack(directory, stack)
    config = _project_config(doc, name, project_file)
    stack_file = directory / f"Pulumi.{stack}.yaml"
    secure, stack_doc = _apply_stack_config(stack_file, name, config)
    decrypted = stack_secrets.decrypt(
        secure, stack_file, _text(stack_doc.get("encryptionsalt")), _text(stack_doc.get("secretsprovider")),
        environ if environ is not None else os.environ,
    )
    for key, value in decrypted.values.items():
        config[key] = _as_config_string(value, stack_file, key)
    warnings = [f"config {key} is secure and was not decrypted: {why}" for key, why in decrypted.undecryptable.items()]
    environments = stack_doc.get("environment")
    names = ""
    if environments:
        names = ", ".join(str(e) for e in environments) if isinstance(environments, list) else str(environments)
        warnings.append(f"{stack_file.name} imports Pulumi ESC environment(s) {names}: values they give are not "
                        "read offline (a config key only they set is unknown)")
    runtime = doc.get("runtime")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    return Project(directory, name, runtime_name, main, stack, config, set(decrypted.undecryptable),
                   set(decrypted.values), dict(decrypted.undecryptable), warnings,
                   dict(options) if isinstance(options, dict) else {}, set(decrypted.plaintexts),
                   f"it may come from the Pulumi ESC environment(s) {names} the stack imports, which rdsca does not "
                   "read offline" if environments else None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _project_file(directory: Path) -> Path:
    if not directory.is_dir():
        raise ProjectError(f"{directory}: no such directory")
    project_file = next((directory / n for n in ("Pulumi.yaml", "Pulumi.yml") if (directory / n).is_file()), None)
    if project_file is None:
        raise ProjectError(f"{directory}: no Pulumi.yaml here; is this a Pulumi project?")
    return project_file


#: The runtimes ``rdsca check`` runs: Python in-process, Node.js (TypeScript and JavaScript) and Bun as
#: ``pulumi-language-nodejs`` runs them (``rdsca.runner.node_host``).
RUNTIMES = ("python", "nodejs", "bun")
#: The runtimes the Node.js language host serves (``runtime: bun`` since Pulumi 3.227).
NODE_RUNTIMES = ("nodejs", "bun")


def _runtime(doc: dict[str, Any], project_file: Path) -> str:
    runtime = doc.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name not in RUNTIMES:
        raise ProjectError(
            f"{project_file}: runtime is {runtime_name!r}; rdsca check runs Python, Node.js and Bun programs",
            hint="the pack applies to a program in any language under the Pulumi CLI: "
            "pulumi preview --policy-pack policies",
        )
    return str(runtime_name)


def _node_entry(doc: dict[str, Any], directory: Path, project_file: Path) -> Path:
    """``main`` of ``Pulumi.yaml`` as the Node.js language host passes it (``"."`` by default): Node then resolves
    it as ``require`` does (``package.json``'s ``main``, else ``index.js``/``index.ts``)."""
    main_value = doc.get("main") or "."
    if not isinstance(main_value, str) or "\0" in main_value:
        raise ProjectError(f"{project_file}: 'main' must be a path")
    main = directory / main_value
    if not main.exists():
        raise ProjectError(f"{project_file}: the program entry point {main} does not exist")
    return main


def _entry_point(doc: dict[str, Any], directory: Path, project_file: Path) -> Path:
    """``main`` as the language host reads it: a file, or a directory holding ``__main__.py``."""
    main_value = doc.get("main") or "."
    if not isinstance(main_value, str) or "\0" in main_value:
        raise ProjectError(f"{project_file}: 'main' must be a path")
    main = directory / main_value
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise ProjectError(f"{project_file}: the program entry point {main} does not exist")
    return main


def _select_stack(directory: Path, stack: str | None) -> str:
    stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))
    if stack is None:
        if len(stacks) > 1:
            raise ProjectError(f"{directory}: several stacks ({', '.join(stacks)}); choose one with --stack NAME")
        return stacks[0] if stacks else "dev"
    if stack not in stacks:
        known = ", ".join(stacks) if stacks else "none"
        raise ProjectError(f"{directory}: no stack file Pulumi.{stack}.yaml (stacks here: {known})")
    return stack


def _project_config(doc: dict[str, Any], name: str, project_file: Path) -> dict[str, str]:
    """``Pulumi.yaml``'s ``config:`` block: plain values, or typed declarations with a ``value`` or ``default``."""
    config: dict[str, str] = {}
    project_config = doc.get("config") or {}
    if not isinstance(project_config, dict):
        raise ProjectError(f"{project_file}: 'config' must be a mapping")
    for key, spec in project_config.items():
        full = _qualify(str(key), name)
        if isinstance(spec, dict) and ({"type", "default", "value", "description", "secret"} & spec.keys()):
            if "value" in spec:
                config[full] = _as_config_string(spec["value"], project_file, full)
            elif "default" in spec:
                config[full] = _as_config_string(spec["default"], project_file, full)
        else:
            config[full] = _as_config_string(spec, project_file, full)
    return config


def _apply_stack_config(stack_file: Path, name: str, config: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Lay the stack file's values over ``config``; return the values holding ``secure:`` ones (at any depth, as
    the CLI reads them: ``stack_secrets.contains_secure``) by key, and the stack file."""
    secure: dict[str, Any] = {}
    if not stack_file.is_file():
        return secure, {}
    stack_doc = _load_yaml(stack_file)
    stack_config = stack_doc.get("config") or {} if isinstance(stack_doc, dict) else None
    if not isinstance(stack_config, dict):
        raise ProjectError(f"{stack_file}: 'config' must be a mapping")
    for key, value in stack_config.items():
        full = _qualify(str(key), name)
        try:
            holds_secure = stack_secrets.contains_secure(value)
        except RecursionError:
            raise ProjectError(
                f"{stack_file}: config {full}: a value that refers to itself or is nested too deeply"
            ) from None
        if holds_secure:
            secure[full] = value
            config.pop(full, None)
        else:
            config[full] = _as_config_string(value, stack_file, full)
    return secure, stack_doc if isinstance(stack_doc, dict) else {}
