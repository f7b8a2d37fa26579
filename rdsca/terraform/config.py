"""A Terraform configuration directory read statically, as ``terraform plan`` would see it before any provider
call: root and child modules, input variables (defaults, ``-var``, ``-var-file``, ``terraform.tfvars``,
``*.auto.tfvars``, ``TF_VAR_*``), locals, ``count``/``for_each`` instances and provider regions. Every resource
instance of a type rdsca judges comes out with its values (``Unknown`` where Terraform would only know them during
plan or apply, with the reason) and its source positions.

Sources: Terraform docs "Input Variables" (precedence of variable values), "Modules" (local paths start with
``./`` or ``../``; installed modules are recorded in ``.terraform/modules/modules.json``), "Providers" (child modules
inherit the default provider configurations; ``providers = {...}`` passes others).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdsca.resources import Unknown
from rdsca.terraform import expr, hcl, jsonpos, parallel, tfjson
from rdsca.terraform.model import Attribute, Block, ConfigError, Origin, SourceFile

#: Arguments every resource takes that are not attributes of the resource.
META_ARGUMENTS = frozenset({"count", "for_each", "provider", "depends_on", "lifecycle"})
MANIFEST = Path(".terraform") / "modules" / "modules.json"


@dataclass
class ModuleSource:
    """The blocks of one module directory."""

    directory: Path
    editable: bool
    files: list[SourceFile] = field(default_factory=list)
    variables: dict[str, Block] = field(default_factory=dict)
    locals: dict[str, Attribute] = field(default_factory=dict)
    resources: dict[tuple[str, str], Block] = field(default_factory=dict)
    module_calls: dict[str, Block] = field(default_factory=dict)
    providers: list[Block] = field(default_factory=list)
    outputs: dict[str, Attribute] = field(default_factory=dict)
    output_blocks: dict[str, Block] = field(default_factory=dict)


def is_config_file(path: Path) -> bool:
    return path.name.endswith((".tf", ".tf.json")) and path.is_file()


def parse_file(source: SourceFile) -> Block:
    return tfjson.parse_source(source) if source.syntax == "json" else hcl.parse_source(source)


def read_module(
    directory: Path, editable: bool, warnings: list[str], on_file: Callable[[Path], None] | None = None
) -> ModuleSource:
    """The module in ``directory``; ``on_file(path)`` after each file is parsed (a terminal's progress line)."""
    module = ModuleSource(directory, editable)
    try:
        paths = sorted(p for p in directory.iterdir() if is_config_file(p))
    except OSError as exc:
        raise ConfigError(f"{directory}: cannot list the module directory: {exc.strerror or exc}") from None
    overrides = [p for p in paths if _is_override(p)]
    read: list[SourceFile | ConfigError] = []
    for path in [p for p in paths if not _is_override(p)] + overrides:
        try:
            read.append(hcl.read_source(path, "json" if path.name.endswith(".json") else "hcl", editable))
        except ConfigError as exc:
            read.append(exc)
    # Parsed all at once (on two cores where that pays: rdsca.terraform.parallel), then taken in file order: the
    # first file that cannot be read or parsed is the error, as when each file was read and parsed in turn.
    parsed = iter(parallel.parse_all([s for s in read if isinstance(s, SourceFile)], parse_file))
    for source in read:
        if isinstance(source, ConfigError):
            raise source
        top = next(parsed)
        if isinstance(top, Exception):
            raise top
        module.files.append(source)
        if _is_override(source.path):
            _merge_override(module, top)
        else:
            _collect(module, top)
        if on_file is not None:
            on_file(source.path)
    return module


def _is_override(path: Path) -> bool:
    return path.name in ("override.tf", "override.tf.json") or path.name.endswith(("_override.tf", "_override.tf.json"))


def _merge_override(module: ModuleSource, top: Block) -> None:
    """Merge an override file as Terraform does (docs, "Override Files"), after every primary file, files in
    lexical order: each block changes the block of the same type and labels; its attributes replace those of the same
    name, and its nested blocks replace every nested block of the same type; each local replaces the local."""
    for block in top.blocks:
        kind, labels = block.type, block.labels
        if kind == "locals":
            for name, attribute in block.attributes.items():
                if name not in module.locals:
                    raise ConfigError(f"{attribute.span.where()}: override of local.{name}, which is not declared")
                module.locals[name] = attribute
            continue
        target = _override_target(module, kind, labels)
        if target is None:
            what = ".".join([kind, *labels])
            raise ConfigError(f"{block.span.where()}: override of {what}, which is not declared (as Terraform says)")
        target.attributes = {**target.attributes, **block.attributes}
        replaced = {nested.type for nested in block.blocks}
        target.blocks = [nested for nested in target.blocks if nested.type not in replaced] + list(block.blocks)
        if kind == "output" and "value" in target.attributes:
            module.outputs[labels[0]] = target.attributes["value"]


def _override_target(module: ModuleSource, kind: str, labels: list[str]) -> Block | None:
    if kind in ("resource", "data") and len(labels) == 2:
        return module.resources.get((labels[0] if kind == "resource" else f"data.{labels[0]}", labels[1]))
    if kind == "variable" and len(labels) == 1:
        return module.variables.get(labels[0])
    if kind == "module" and len(labels) == 1:
        return module.module_calls.get(labels[0])
    if kind == "provider" and len(labels) == 1:
        return next((p for p in module.providers if p.labels == labels), None)
    if kind == "output" and len(labels) == 1:
        return module.output_blocks.get(labels[0])
    return None


def _collect(module: ModuleSource, top: Block) -> None:
    for block in top.blocks:
        kind, labels = block.type, block.labels
        where = block.span.where()
        if kind in ("resource", "data") and len(labels) == 2:
            key = (labels[0] if kind == "resource" else f"data.{labels[0]}", labels[1])
            if key in module.resources:
                raise ConfigError(f"{where}: {kind} {labels[0]}.{labels[1]} is declared twice")
            module.resources[key] = block
        elif kind == "variable" and len(labels) == 1:
            module.variables[labels[0]] = block
        elif kind == "locals":
            for name, attribute in block.attributes.items():
                if name in module.locals:
                    raise ConfigError(f"{attribute.span.where()}: local.{name} is declared twice")
                module.locals[name] = attribute
        elif kind == "module" and len(labels) == 1:
            module.module_calls[labels[0]] = block
        elif kind == "provider" and len(labels) == 1:
            module.providers.append(block)
        elif kind == "output" and len(labels) == 1:
            module.output_blocks[labels[0]] = block
            if "value" in block.attributes:
                module.outputs[labels[0]] = block.attributes["value"]


def is_local_source(source: str) -> bool:
    return source.startswith(("./", "../"))


def raw_text(attribute: Attribute) -> str:
    """An attribute's source text (a reference such as ``aws.west`` as written)."""
    if isinstance(attribute.expr, jsonpos.JNode):
        value = attribute.expr.value
        return value.strip() if isinstance(value, str) else ""
    return attribute.expr.text.decode().strip()


def instance_key(key: Any) -> str:
    if key is None:
        return ""
    if isinstance(key, Unknown):
        return "[*]"
    if isinstance(key, int):
        return f"[{key}]"
    return f"[{json.dumps(key)}]"


# -- variables -----------------------------------------------------------------------------------------------------


@dataclass
class VariableValue:
    #: The value, or a ``Deferred`` computed when first read (a module input).
    value: Any
    origin: Origin


@dataclass
class Deferred:
    """A module input evaluated when something first reads it. Terraform's graph is by value, not by module: module
    B may take ``module.a.x`` while A takes an output of B, and only a cycle of values is an error."""

    compute: Callable[[], Any]


def _type_text(block: Block) -> str:
    attribute = block.attributes.get("type")
    return raw_text(attribute).replace(" ", "") if attribute else ""


def convert_text(text: str, type_text: str, where: str) -> Any:
    """A ``-var`` or ``TF_VAR_`` value: a string for string (or untyped) variables, else an HCL expression."""
    if type_text in ("", "string", "any"):
        return text
    value = expr.evaluate(hcl.parse_expression(text, where), expr.Scope())
    return value


def root_variables(
    root: ModuleSource, assignments: list[tuple[str, str]], environ: Mapping[str, str]
) -> dict[str, VariableValue]:
    """Values of the root module's variables from every source but defaults, lowest precedence first: TF_VAR_
    environment variables, terraform.tfvars(.json), *.auto.tfvars(.json) in name order, then -var-file and -var in
    command-line order."""
    values: dict[str, VariableValue] = {}
    for name, block in root.variables.items():
        text = environ.get(f"TF_VAR_{name}")
        if text is not None:
            value = convert_text(text, _type_text(block), f"TF_VAR_{name}")
            values[name] = VariableValue(value, Origin(None, f"set by the environment variable TF_VAR_{name}"))
    directory = root.directory
    files = [directory / "terraform.tfvars", directory / "terraform.tfvars.json"]
    files += sorted(
        p for p in directory.glob("*.auto.tfvars*") if p.name.endswith((".auto.tfvars", ".auto.tfvars.json"))
    )
    for path in files:
        if path.is_file():
            values.update(read_tfvars(path))
    for kind, text in assignments:
        if kind == "file":
            values.update(read_tfvars(Path(text), required=True))
            continue
        name, sep, raw = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"-var {text!r}: expected NAME=VALUE")
        declared = root.variables.get(name)
        if declared is None:
            # terraform plan: 'Value for undeclared variable: A variable named "x" was assigned on the command line,
            # but the root module does not declare a variable of that name.'
            raise ConfigError(f"--var {name}: the root module declares no variable {name!r} (as terraform plan says)")
        value = convert_text(raw, _type_text(declared), f"-var {name}")
        values[name] = VariableValue(value, Origin(None, f"set by -var {name}=... on the command line"))
    return values


def read_tfvars(path: Path, required: bool = False) -> dict[str, VariableValue]:
    """A variable definitions file (``.tfvars`` in HCL, ``.tfvars.json`` in JSON): literal values only."""
    if required and not path.exists():
        raise ConfigError(f"{path}: no such variable file")
    if required and not path.is_file():
        # A FIFO, a device or a directory: reading it could block for ever or never end.
        raise ConfigError(f"{path}: not a regular file; --var-file takes a .tfvars or .tfvars.json file")
    syntax = "json" if path.name.endswith(".json") else "hcl"
    source = hcl.read_source(path, syntax, editable=False)
    if syntax == "json":
        root = tfjson.load(source)
        if root.kind != "object":
            raise ConfigError(f"{path}:{source.line_of(root.start)}: a variable file must be a JSON object")
        top = tfjson.body_block(source, "", [], root, root.start)
    else:
        top = hcl.parse_source(source)
        if top.blocks:
            raise ConfigError(
                f"{top.blocks[0].span.where()}: a variable file holds only NAME = VALUE lines, not blocks"
            )
    result: dict[str, VariableValue] = {}
    for name, attribute in top.attributes.items():
        value = expr.evaluate(attribute.expr, expr.Scope())
        if isinstance(value, Unknown):
            raise ConfigError(f"{attribute.span.where()}: the value of {name} must be a literal: {value.reason}")
        result[name] = VariableValue(value, Origin(None, f"set in {attribute.span.where()}"))
    return result
