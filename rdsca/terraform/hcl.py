"""HCL native syntax (``.tf``, ``.tfvars``) read with tree-sitter and the ``tree-sitter-hcl`` grammar into blocks and
attributes with byte positions. A plain literal is read from its text into one small node
(``rdsca.terraform.syntax.Literal``); any other expression stays a tree-sitter node until ``rdsca.terraform.expr``
evaluates it. A file of literals keeps no syntax tree (a tree costs 70 times the file's size)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from rdsca.terraform import syntax
from rdsca.terraform.model import Attribute, Block, ConfigError, SourceFile, Span
from rdsca.terraform.values import EvalError, unescape


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    import tree_sitter_hcl
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_hcl.language()))


def read_source(path: Path, syntax: str, editable: bool = True) -> SourceFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return SourceFile(path, data, syntax, editable)


#: Names of the grammar's closing tokens, as a user would say them.
_MISSING = {
    "quoted_template_end": 'the closing "',
    "block_end": "the closing }",
    "object_end": "the closing }",
    "tuple_end": "the closing ]",
    "template_interpolation_end": "the closing } of ${",
    "heredoc_identifier": "the heredoc's end marker",
}


def _first_error(node: Any) -> Any:
    """The first ERROR or missing node below ``node`` (which has_error)."""
    for child in node.children:
        if child.type == "ERROR" or child.is_missing:
            return child
        if child.has_error:
            return _first_error(child)
    return node


def _syntax_error(source: SourceFile, root: Any) -> ConfigError:
    bad = _first_error(root)
    line = bad.start_point[0] + 1
    if bad.is_missing:
        opened = bad.parent.start_point[0] + 1 if bad.parent is not None else line
        what = _MISSING.get(bad.type, repr(bad.type))
        return ConfigError(f"{source.path}:{opened}: syntax error: missing {what} for what starts on this line")
    text = source.data[bad.start_byte : bad.end_byte].decode("utf-8", "replace").strip().splitlines()
    near = f" near {text[0][:40]!r}" if text else ""
    return ConfigError(f"{source.path}:{line}: syntax error{near}")


def parse_source(source: SourceFile) -> Block:
    """The file as one top-level block (type ``""``) holding its attributes and blocks."""
    tree = _parser().parse(source.data)
    root = tree.root_node
    if root.has_error:
        raise _syntax_error(source, root)
    body = next((c for c in root.children if c.type == "body"), None)
    top = Block("", [], {}, [], Span(source, 0, len(source.data)), 0, len(source.data))
    if body is not None:
        _fill(top, body, source)
    return top


def _label(node: Any, source: SourceFile) -> str:
    if node.type == "identifier":
        return source.data[node.start_byte : node.end_byte].decode()
    try:
        return unescape(source.data[node.start_byte + 1 : node.end_byte - 1].decode())
    except EvalError as exc:
        raise ConfigError(f"{source.path}:{node.start_point[0] + 1}: block label: {exc}") from None


#: The deepest nesting of blocks read (Terraform's own schemas nest a few levels; 5,000 must not exhaust the stack).
MAX_NESTING = 100


def _fill(block: Block, body: Any, source: SourceFile, depth: int = 0) -> None:
    if depth > MAX_NESTING:
        raise ConfigError(f"{source.path}:{body.start_point[0] + 1}: blocks nested more than {MAX_NESTING} deep")
    data, attributes, literal = source.data, block.attributes, syntax.literal
    for child in body.children:
        kind = child.type
        if kind == "attribute":
            kids = child.children
            # identifier, "=", expression; comments may sit between them (``name /* why */ = value``).
            name_node, expr = kids[0], kids[-1] if len(kids) == 3 else next(k for k in kids if k.type == "expression")
            name = data[name_node.start_byte : name_node.end_byte].decode()
            if name in attributes:
                first = attributes[name].span.line
                raise ConfigError(
                    f"{source.path}:{child.start_point[0] + 1}: attribute {name!r} is set twice (first on line {first})"
                )
            start, end = expr.start_byte, expr.end_byte
            attributes[name] = Attribute(
                name,
                # A plain literal (most of what a configuration sets) is copied out: it keeps no tree alive. Anything
                # else stays the tree's node, evaluated later in its module's scope. Copying those too (a Python
                # object per grammar node) made a 10,000-resource configuration of references and templates 60%
                # slower for 30% less memory; a configuration of literals keeps no tree at all (issue 30).
                literal(data, start, end, source) or expr,
                Span(source, child.start_byte, child.end_byte),
                Span(source, start, end),
            )
        elif kind == "block":
            block.blocks.append(_block(child, source, depth + 1))


def _block(node: Any, source: SourceFile, depth: int = 0) -> Block:
    children = node.children
    labels: list[str] = []
    body = None
    start = end = node.end_byte
    for child in children[1:]:
        kind = child.type
        if kind in ("string_lit", "identifier"):
            labels.append(_label(child, source))
        elif kind == "block_start":
            start = child.end_byte
        elif kind == "body":
            body = child
        elif kind == "block_end":
            end = child.start_byte
    head = children[0]
    block = Block(
        source.data[head.start_byte : head.end_byte].decode(),
        labels,
        {},
        [],
        Span(source, node.start_byte, node.end_byte),
        start,
        end,
    )
    if body is not None:
        _fill(block, body, source, depth)
    return block


def parse_expression(text: str, where: str) -> Any:
    """One expression given as text (a ``-var`` value): its syntax node."""
    source = SourceFile(Path(where), f"x = {text}\n".encode(), "hcl")
    top = parse_source(source)
    attribute = top.attributes.get("x")
    if attribute is None or top.blocks or len(top.attributes) != 1:
        raise ConfigError(f"{where}: not a single expression: {text!r}")
    return attribute.expr
