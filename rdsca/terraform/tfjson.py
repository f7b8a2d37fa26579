"""Terraform's JSON configuration syntax (``*.tf.json``, ``*.tfvars.json``) read into the same blocks and attributes
as HCL files, with byte positions. Strings in expression positions are templates, as Terraform reads them.

Source: Terraform docs, "JSON Configuration Syntax" (block labels nest as object keys; ``"//"`` keys are comments).
"""

from __future__ import annotations

from rdsca.terraform import jsonpos
from rdsca.terraform.model import Attribute, Block, ConfigError, SourceFile, Span

#: How many labels each top-level block type takes (JSON nests one object level per label).
LABELS = {
    "resource": 2,
    "data": 2,
    "ephemeral": 2,
    "variable": 1,
    "module": 1,
    "output": 1,
    "provider": 1,
    "locals": 0,
    "terraform": 0,
    "moved": 0,
    "import": 0,
    "check": 1,
}


def load(source: SourceFile) -> jsonpos.JNode:
    try:
        return jsonpos.parse(source.data)
    except jsonpos.JsonError as exc:
        raise ConfigError(f"{source.path}:{source.line_of(exc.offset)}: invalid JSON: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{source.path}: invalid JSON: nested too deeply") from None


def parse_source(source: SourceFile) -> Block:
    root = load(source)
    top = Block("", [], {}, [], Span(source, 0, len(source.data)), root.start + 1, root.end - 1)
    if root.kind != "object":
        raise ConfigError(f"{source.path}:{source.line_of(root.start)}: a Terraform JSON file must be an object")
    for block_type, key_start, node in root.value:
        if block_type == "//":
            continue
        depth = LABELS.get(block_type)
        if depth is None:
            continue  # a block type rdsca does not read
        _blocks(top, source, block_type, [], depth, node, key_start)
    return top


def _blocks(
    top: Block, source: SourceFile, block_type: str, labels: list[str], depth: int, node: jsonpos.JNode, at: int
) -> None:
    items = node.value if node.kind == "array" else [node]
    for item in items:
        if item.kind != "object":
            raise ConfigError(f"{source.path}:{source.line_of(item.start)}: {block_type} must be a JSON object")
        if depth == 0:
            top.blocks.append(body_block(source, block_type, labels, item, at))
            continue
        for label, key_start, child in item.value:
            if label != "//":
                _blocks(top, source, block_type, [*labels, label], depth - 1, child, key_start)


def body_block(source: SourceFile, block_type: str, labels: list[str], node: jsonpos.JNode, at: int) -> Block:
    block = Block(block_type, labels, {}, [], Span(source, at, node.end), node.start + 1, node.end - 1)
    for name, key_start, value in node.value:
        if name == "//":
            continue
        block.attributes[name] = Attribute(
            name, value, Span(source, key_start, value.end), Span(source, value.start, value.end)
        )
    return block
