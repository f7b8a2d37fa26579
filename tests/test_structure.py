"""The code's shape: one definition of what rdsca knows, no import cycle, short functions, SDK internals fenced."""

from __future__ import annotations

import ast
import dataclasses
import gc
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO

#: The installed module name of every source folder (pyproject's package-dir mapping).
FOLDERS = {"rdsca": "rdsca", "components": "rdsca.components", "policies": "rdsca.policies"}


def modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for folder, package in FOLDERS.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join([package, *parts]), path, _parse(path)


def _parse(path: Path) -> ast.Module:
    """``ast.parse`` with the garbage collector off. On CPython 3.11 a finaliser that runs during a parse and parses
    itself leaves the AST constructor's depth counter off ("SystemError: AST constructor recursion depth mismatch",
    python/cpython#106905); an asyncio future left with an exception by an earlier test does exactly that when it is
    collected (it logs the traceback, and 3.11's traceback module parses the line to place its carets)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(path.read_text(), str(path))
    finally:
        if enabled:
            gc.enable()


def _imports(name: str, path: Path, tree: ast.Module, known: set[str]) -> set[str]:
    """The rdsca modules a module imports, anywhere in it (functions included). ``from package import module``
    counts as importing the module, not the package's ``__init__``."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def test_no_import_cycle() -> None:
    known = {name: (path, tree) for name, path, tree in modules()}
    graph = {name: _imports(name, path, tree, set(known)) for name, (path, tree) in known.items()}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str], done: set[str]) -> None:
        if node in trail:
            cycles.append([*trail[trail.index(node) :], node])
            return
        if node in done:
            return
        for child in sorted(graph[node]):
            visit(child, [*trail, node], done)
        done.add(node)

    finished: set[str] = set()
    for start in sorted(graph):
        visit(start, [], finished)
    assert cycles == []


#: Functions still over 60 lines: each is split by the work that rewrites its module. The list may only shrink.
LONG_FUNCTIONS_LEFT: set[str] = set()


def _functions(tree: ast.Module, prefix: str) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}.{node.name}", node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{prefix}.{node.name}.{item.name}", item


def test_no_function_is_over_60_lines() -> None:
    lengths = {
        qualified: node.end_lineno - node.lineno + 1  # type: ignore[operator]
        for name, _, tree in modules()
        for qualified, node in _functions(tree, name)
    }
    too_long = {name for name, length in lengths.items() if length > 60}
    assert too_long - LONG_FUNCTIONS_LEFT == set(), {n: lengths[n] for n in too_long - LONG_FUNCTIONS_LEFT}
    assert LONG_FUNCTIONS_LEFT - too_long == set(), "shortened: take it off LONG_FUNCTIONS_LEFT"


def _string_literals(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def test_one_status_set_every_caller_uses() -> None:
    """Which statuses need action is said once (``catalog.Status.needs_action`` / ``invalid_ca``): no other module
    lists statuses, as enum members or as their strings."""
    from rdsca.catalog import Status

    values = {s.value for s in Status}
    offenders = []
    for name, _, tree in modules():
        if name == "rdsca.catalog":
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
                members = [e for e in node.elts if isinstance(e, ast.Attribute) and getattr(e.value, "id", "") == "Status"]
                texts = [e for e in node.elts if isinstance(e, ast.Constant) and e.value in values - {"unknown"}]
                if len(members) >= 2 or len(texts) >= 2:
                    offenders.append(f"{name}:{node.lineno}")
    assert offenders == []


def test_the_aurora_rule_is_spelled_only_in_the_catalog() -> None:
    offenders = [
        name
        for name, _, tree in modules()
        if name != "rdsca.catalog" and any("aurora" in text for text in _string_literals(tree))
    ]
    assert offenders == []


def test_one_sarif_writer() -> None:
    offenders = [
        name
        for name, _, tree in modules()
        if name != "rdsca.sarif" and any(text in ("2.1.0", "$schema", "ruleId") for text in _string_literals(tree))
    ]
    assert offenders == []


def test_no_private_pulumi_sdk_access_outside_the_fence() -> None:
    """Private SDK names (leading underscore, or the settings singleton) appear only in ``rdsca.sdk_internals``."""
    private = ("_special_", "_CallbackServicer", "_servicers", "SETTINGS", "rpc_manager", "_callbacks")
    offenders = []
    for name, _, tree in modules():
        if name == "rdsca.sdk_internals":
            continue
        for node in ast.walk(tree):
            module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
            names = node.names if isinstance(node, ast.ImportFrom) else []
            private_import = any(part.startswith("_") for part in module.split(".")) or any(
                alias.name.startswith("_") or alias.name == "Unknown" for alias in names
            )
            if module.startswith("pulumi") and private_import:
                offenders.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.Attribute) and any(node.attr.startswith(p) or node.attr == p for p in private):
                offenders.append(f"{name}:{node.lineno} .{node.attr}")
    assert offenders == []


@pytest.mark.parametrize("entry", ["CertificateRotation", "rotate_all"])
def test_component_signatures_match_the_one_argument_definition(entry: str) -> None:
    from rdsca.components import rotation

    definition = [(f.name, f.default, f.type) for f in dataclasses.fields(rotation.RotationArgs)]
    function = rotation.CertificateRotation.__init__ if entry == "CertificateRotation" else rotation.rotate_all
    parameters = inspect.signature(function).parameters.values()
    assert not any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in parameters)
    listed = [(p.name, p.default, p.annotation) for p in parameters if p.name not in ("self", "resource_name", "opts")]
    assert listed == definition


#: Exceptions that are control flow inside one layer, never shown to a user: they need no message contract.
INTERNAL_EXCEPTIONS = {
    "rdsca.interrupts.Terminated",  # a signal turned into an exception to unwind and stop the process group
    "rdsca.rules._common.UnknownValue",  # a value not known until apply: the rule says "cannot tell", not an error
    "rdsca.cli.common.Failure",  # the CLI's own rendering of RdscaError (click's exception type)
    "rdsca.terraform.parallel._NotPlain",  # a file the parse worker leaves to the parent (it holds an expression)
}


def test_every_expected_error_has_the_one_base() -> None:
    """The CLI maps ``RdscaError`` once (one line, its hint, exit 2); an error class outside that base would reach
    users as "internal error" or need its own ``except`` in a command, as 23 classes once did."""
    stray = []
    for name, _path, tree in modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {ast.unparse(b).rpartition(".")[2] for b in node.bases}
            is_exception = any(b.endswith(("Error", "Exception")) or b in {"LockBusy"} for b in bases)
            if is_exception and "RdscaError" not in bases and f"{name}.{node.name}" not in INTERNAL_EXCEPTIONS:
                # A subclass of another rdsca error is fine when that one has the base: checked at import below.
                stray.append(f"{name}.{node.name}")
    import importlib

    from rdsca.errors import RdscaError

    wrong = []
    for qualified in stray:
        module, _, cls = qualified.rpartition(".")
        if not issubclass(getattr(importlib.import_module(module), cls), RdscaError):
            wrong.append(qualified)
    assert not wrong, f"exception classes without rdsca.errors.RdscaError as a base: {wrong}"


def test_the_cli_lists_no_error_class_one_by_one() -> None:
    """No command catches an rdsca error class only to print it: ``Group.invoke`` does that for all of them."""
    offenders = []
    for path in sorted((REPO / "rdsca" / "cli").glob("*.py")):
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.ExceptHandler) and node.body and isinstance(node.body[0], ast.Raise):
                raised = ast.unparse(node.body[0].exc) if node.body[0].exc else ""
                if raised == "Failure(str(exc))":
                    offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, f"handlers that only re-raise an error as Failure: {offenders}"


#: The layers, bottom first: a module may import its own layer's package and the layers below, never above. The
#: longest matching prefix names a module's layer; a module no line matches fails the test (add it here).
LAYERS: dict[str, int] = {
    # facts, files, time and formats that everything uses
    "rdsca.errors": 0,
    "rdsca.text": 0,
    "rdsca.clock": 0,
    "rdsca.paths": 0,
    "rdsca.files": 0,
    "rdsca.output": 0,
    "rdsca.terminal": 0,
    "rdsca.catalog": 0,
    "rdsca.resources": 0,
    "rdsca.chains": 0,
    "rdsca.sarif": 0,
    "rdsca.junit": 0,
    "rdsca.sdk_internals": 0,
    "rdsca.gc_policy": 0,
    "rdsca.interrupts": 0,
    # the judgements, shared by every front end
    "rdsca.rules": 1,
    # what CI does with the rules' findings (suppressions, baselines, selection)
    "rdsca.findings": 1,
    # front ends: each reads one kind of input
    "rdsca.runner": 2,
    "rdsca.terraform": 2,
    "rdsca.aws": 2,
    "rdsca.probe": 2,
    "rdsca.truststore": 2,
    "rdsca.components": 2,
    "rdsca.policies": 2,
    # reports: print a front end's results
    "rdsca.runner.report": 3,
    "rdsca.terraform.report": 3,
    "rdsca.probe.report": 3,
    "rdsca.aws.audit_report": 3,
    # the campaign: the reports' JSON of every front end joined per database, and its HTML page
    "rdsca.campaign": 3,
    "rdsca.html_report": 3,
    "rdsca.report_assets": 3,
    # the command line, on top
    "rdsca.cli": 4,
}
#: Imports between two front ends: the probe judges served chains with the trust-store reader.
FRONT_END_EDGES = {("rdsca.probe", "rdsca.truststore")}
#: The package's face (``rdsca/__init__.py``) re-exports the component lazily; it holds no logic of its own.
FACE = "rdsca"


def _layer(module: str) -> tuple[str, int] | None:
    matches = [prefix for prefix in LAYERS if module == prefix or module.startswith(prefix + ".")]
    if not matches:
        return None
    prefix = max(matches, key=len)
    return prefix, LAYERS[prefix]


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def test_imports_go_down_the_layers() -> None:
    known = {name: (path, tree) for name, path, tree in modules()}
    unplaced = sorted(name for name in known if name != FACE and _layer(name) is None)
    assert not unplaced, f"modules in no layer (add them to LAYERS in tests/test_structure.py): {unplaced}"
    wrong = []
    for name, (path, tree) in known.items():
        if name == FACE:
            continue
        own = _layer(name)
        assert own is not None
        for imported in _imports(name, path, tree, set(known)):
            if imported == FACE:
                continue  # the version number
            other = _layer(imported)
            assert other is not None
            if other[1] > own[1]:
                wrong.append(f"{name} (layer {own[1]}) imports {imported} (layer {other[1]})")
            elif other[1] == own[1] == 2 and _package(name) != _package(imported) and (
                (_package(name), _package(imported)) not in FRONT_END_EDGES
            ):
                wrong.append(f"front end {name} imports another front end, {imported}")
    assert not wrong, "\n".join(wrong)
