"""Reads a Terraform configuration directory into the resource instances rdsca judges: the root module, local
modules followed, installed registry modules read from ``.terraform/modules`` (never edited), others reported as
not checked."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdsca.terraform import expr
from rdsca.terraform.config import (
    MANIFEST,
    Deferred,
    ModuleSource,
    VariableValue,
    is_local_source,
    raw_text,
    read_module,
    root_variables,
)
from rdsca.terraform.instance import Instance, evaluate_attribute
from rdsca.terraform.model import ConfigError, Resource, Span


@dataclass(frozen=True)
class Argument:
    """One argument of a module call, evaluated in the caller (the module itself could not be read)."""

    name: str
    value: Any
    span: Span


@dataclass(frozen=True)
class UncheckedModule:
    """A module call whose module rdsca could not read (a registry or git source that is not installed: the normal
    state of a repository before ``terraform init``, as in CI and pre-commit). Its databases are not seen; what the
    caller passes to it still is."""

    address: str
    source: str
    span: Span
    arguments: tuple[Argument, ...]

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "source": self.source, "location": self.span.where()}


@dataclass
class Configuration:
    """What ``load_directory`` found."""

    root: Path
    resources: list[Resource]
    warnings: list[str]
    #: Every file read (for ``--fix`` and for locating findings).
    files: list[Any] = field(default_factory=list)
    #: Module calls whose module was not read.
    unchecked: list[UncheckedModule] = field(default_factory=list)
    #: The block of the module call behind each module instance (``module.a``, ``module.a.module.b["k"]``): a
    #: suppression written in it applies to everything the instance declares.
    module_blocks: dict[str, Any] = field(default_factory=dict)
    #: (module instance address, arguments its call passes that the module does not declare).
    undeclared: list[tuple[str, tuple[Argument, ...]]] = field(default_factory=list)


class Loader:
    def __init__(
        self, root: Path, assignments: list[tuple[str, str]], environ: Mapping[str, str],
        on_file: Callable[[Path], None] | None = None,
    ) -> None:
        self.root = root
        #: Told of each file parsed (a terminal's progress line).
        self.on_file = on_file
        self.assignments = assignments
        # A plain dict, read once: ``os.environ`` encodes the key and raises KeyError for each variable it lacks
        # (AWS_REGION is asked for every resource whose provider sets no region).
        self.environ = dict(environ)
        self.warnings: list[str] = []
        self.sources: dict[Path, ModuleSource] = {}
        self.unchecked: list[UncheckedModule] = []
        self.module_blocks: dict[str, Any] = {}
        self.undeclared: list[tuple[str, tuple[Argument, ...]]] = []
        self.manifest = self._manifest()

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def _manifest(self) -> dict[str, Path]:
        path = self.root / MANIFEST
        if not path.is_file():
            return {}
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except RecursionError:
            raise ConfigError(f"{path}: not a Terraform module manifest (nested too deeply)") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: not a Terraform module manifest ({exc})") from None
        # terraform init writes {"Modules": [{"Key": "a.b", "Source": "...", "Dir": ".terraform/modules/a.b"}, ...]}
        modules = document.get("Modules") if isinstance(document, dict) else None
        if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
            raise ConfigError(f"{path}: not a Terraform module manifest (expected an object with a Modules list)")
        found = {}
        for entry in modules:
            key, directory = entry.get("Key"), entry.get("Dir")
            if not key:
                continue
            if not isinstance(key, str) or not isinstance(directory, str):
                raise ConfigError(f"{path}: not a Terraform module manifest (an entry's Key or Dir is not text)")
            found[key] = self.root / directory
        return found

    def module(self, directory: Path, editable: bool) -> ModuleSource:
        key = _resolved(directory)
        if key not in self.sources:
            self.sources[key] = read_module(directory, editable, self.warnings, self.on_file)
        return self.sources[key]

    def load(self) -> Configuration:
        root = self.module(self.root, True)
        if not root.files:
            raise ConfigError(f"{self.root}: no Terraform configuration files (*.tf, *.tf.json)")
        inputs = root_variables(root, self.assignments, self.environ)
        instance = Instance(self, root, "", "", inputs, {})
        resources = list(self._walk(instance))
        files = [f for source in self.sources.values() for f in source.files]
        return Configuration(self.root, resources, self.warnings, files, self.unchecked, self.module_blocks,
                             self.undeclared)

    def _walk(self, instance: Instance) -> Any:
        yield from instance.resources()
        for name in instance.source.module_calls:
            for _key, child in instance.children(name) or []:
                yield from self._walk(child)

    def _module_directory(self, parent: Instance, name: str, call_source: str, where: str) -> tuple[Path, bool] | None:
        key = f"{parent.manifest_key}.{name}" if parent.manifest_key else name
        local = is_local_source(call_source)
        if key in self.manifest and not local:
            directory = self.manifest[key]
            if directory.is_dir():
                return directory, _editable(self.root, directory)
        if local:
            wanted = _resolved(parent.source.directory / call_source)
            if key in self.manifest and _resolved(self.manifest[key]) != wanted:
                # Terraform refuses a stale manifest ("Module not installed"); the configuration's source wins.
                self.warn(
                    f"{where}: .terraform/modules/modules.json maps module.{name} to {self.manifest[key]}, not to its "
                    f"source {call_source!r}: the source is read (run terraform init to refresh the manifest)"
                )
            directory = _resolved(parent.source.directory / call_source)
            if not directory.is_dir():
                raise ConfigError(f"{where}: module {name}: no directory {call_source!r}")
            return directory, parent.source.editable and _editable(self.root, directory)
        return None

    def child_instances(self, parent: Instance, name: str) -> list[tuple[Any, Instance]] | None:
        call = parent.source.module_calls[name]
        source_attribute = call.attributes.get("source")
        where = call.span.where()
        if source_attribute is None:
            raise ConfigError(f"{where}: module {name} has no source")
        call_source = raw_text(source_attribute).strip('"')
        found = self._module_directory(parent, name, call_source, where)
        if found is None:
            self._unchecked(parent, name, call, call_source)
            return None
        directory, editable = found
        # Children are made lazily, when something reads them, so a cycle is seen along the instance's own
        # ancestry (Terraform refuses a module that calls itself, directly or through others).
        lineage = (*parent.lineage, _resolved(parent.source.directory))
        if _resolved(directory) in lineage:
            raise ConfigError(f"{where}: module {name} calls itself ({call_source_text(call)}): a module cycle")
        child_source = self.module(directory, editable)
        children = [
            self._child(parent, name, call, child_source, key, count_index, each)
            for key, count_index, each in parent.expand(call)
        ]
        for _key_value, child in children:
            child.lineage = lineage
        return children

    def _unchecked(self, parent: Instance, name: str, call: Any, call_source: str) -> None:
        """Record a module that is not installed, with its arguments as the caller computes them (every instance of
        a ``count``/``for_each`` call: their arguments may differ)."""
        address = f"{parent.address}module.{name}"
        self.module_blocks[address] = call
        self.warn(
            f"{call.span.where()}: {address} (source {call_source!r}) not checked: it is not installed; run "
            "terraform init so that .terraform/modules holds it"
        )
        arguments = []
        for key, count_index, each in parent.expand(call):
            scope = parent._scope_for(count_index, each)
            for arg, attribute in call.attributes.items():
                if arg in _META_ARGUMENTS:
                    continue
                value = evaluate_attribute(attribute, scope)
                label = arg if key is None else f"{arg} of {address}{_key(key)}"
                arguments.append(Argument(label, value, attribute.span))
        self.unchecked.append(UncheckedModule(address, call_source, call.span, tuple(arguments)))

    def _child(
        self, parent: Instance, name: str, call: Any, source: ModuleSource, key: Any, count_index: Any, each: Any
    ) -> tuple[Any, Instance]:

        scope = parent._scope_for(count_index, each)
        inputs = {}
        undeclared = []
        for arg, attribute in call.attributes.items():
            if arg in source.variables:
                # Evaluated when read: the module may take another module's output that reads this one's.
                value = Deferred(functools.partial(expr.evaluate, attribute.expr, scope))
                inputs[arg] = VariableValue(value, parent.origin(attribute))
            elif arg not in _META_ARGUMENTS:
                undeclared.append(Argument(arg, evaluate_attribute(attribute, scope), attribute.span))
        if undeclared:
            where = f"{parent.address}module.{name}"
            names = ", ".join(a.name for a in undeclared)
            self.warn(f"{call.span.where()}: {where} passes {names}, which its module ({source.directory}) does not "
                      "declare: Terraform refuses the configuration (Unsupported argument)")
            self.undeclared.append((f"{where}{_key(key)}", tuple(undeclared)))
        providers = {k: v for k, v in parent.providers.items() if "." not in k}  # default configurations
        mapping = call.attributes.get("providers")
        if mapping is not None:
            text = raw_text(mapping).strip("{}")
            for line in text.replace(",", "\n").splitlines():
                inner, _sep, outer = (part.strip() for part in line.partition("="))
                if inner and outer:
                    providers[inner] = parent.providers.get(outer)
        manifest_key = f"{parent.manifest_key}.{name}" if parent.manifest_key else name
        address = f"{parent.address}module.{name}{_key(key)}."
        self.module_blocks[address.removesuffix(".")] = call
        child = Instance(self, source, address, manifest_key, inputs, providers)
        return key, child


#: Arguments of a module block that Terraform itself reads (not inputs of the module).
_META_ARGUMENTS = frozenset({"source", "version", "providers", "count", "for_each", "depends_on"})


def call_source_text(call: Any) -> str:
    attribute = call.attributes.get("source")
    return f"source {raw_text(attribute)}" if attribute is not None else "no source"


def _key(key: Any) -> str:
    from rdsca.terraform.config import instance_key

    return instance_key(key)


def _resolved(path: Path) -> Path:
    """``path`` with its links followed; a link loop (a module source that points at itself) is one error line."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # RuntimeError before Python 3.13, OSError (ELOOP) after
        raise ConfigError(f"{path}: a symbolic link loop; not a module directory") from None


def _editable(root: Path, directory: Path) -> bool:
    """``--fix`` edits files of the configuration directory only: nothing outside it (a module a manifest or a
    ``../`` source points elsewhere is another tree's), and nothing inside ``.terraform`` (registry and git modules
    that terraform init installed)."""
    resolved = _resolved(directory)
    if not resolved.is_relative_to(_resolved(root)):
        return False
    return not resolved.is_relative_to(_resolved(root / ".terraform"))


def load_directory(
    directory: Path, assignments: list[tuple[str, str]] | None = None, environ: Mapping[str, str] | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> Configuration:
    """Every resource instance of a judged type in the configuration at ``directory``. Raises ``ConfigError``.
    ``on_file(path)``: after each file is parsed."""
    return Loader(directory, assignments or [], os.environ if environ is None else environ, on_file).load()
