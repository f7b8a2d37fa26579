"""JSON with byte positions (the standard library's parser gives none), for Terraform's JSON syntax (``.tf.json``,
``.tfvars.json``): every value keeps its span, so findings point at a line and ``--fix`` can edit in place."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from rdsca.errors import RdscaError

_WS = re.compile(rb"[ \t\n\r]*")
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LITERALS = {b"true": True, b"false": False, b"null": None}


class JsonError(RdscaError, ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(eq=False)
class JNode:
    """A JSON value: ``kind`` is object, array, string, number, bool or null; ``value`` is the Python value for
    scalars, a list of ``(key, key_start, JNode)`` for objects and a list of ``JNode`` for arrays."""

    kind: str
    value: Any
    start: int
    end: int


def parse(data: bytes) -> JNode:
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        raise JsonError("a byte order mark is not allowed", 0)
    node, end = _value(data, text, _skip(data, 0))
    end = _skip(data, end)
    if end != len(data):
        raise JsonError("extra data after the JSON value", end)
    return node


def _skip(data: bytes, pos: int) -> int:
    match = _WS.match(data, pos)
    assert match is not None
    return match.end()


def _string(data: bytes, pos: int) -> tuple[str, int]:
    # Find the closing quote on bytes (escapes are ASCII), then decode with the standard library's rules.
    end = pos + 1
    while True:
        end = data.find(b'"', end)
        if end < 0:
            raise JsonError("unterminated string", pos)
        backslashes = 0
        while data[end - 1 - backslashes] == 0x5C:
            backslashes += 1
        if backslashes % 2 == 0:
            break
        end += 1
    try:
        value = json.loads(data[pos : end + 1])
    except ValueError:
        raise JsonError("invalid string", pos) from None
    return value, end + 1


def _value(data: bytes, text: str, pos: int) -> tuple[JNode, int]:
    if pos >= len(data):
        raise JsonError("unexpected end of input", pos)
    ch = data[pos : pos + 1]
    if ch == b"{":
        return _object(data, text, pos)
    if ch == b"[":
        return _array(data, text, pos)
    if ch == b'"':
        value, end = _string(data, pos)
        return JNode("string", value, pos, end), end
    for word, literal in _LITERALS.items():
        if data.startswith(word, pos):
            return JNode("null" if literal is None else "bool", literal, pos, pos + len(word)), pos + len(word)
    match = _NUMBER.match(data, pos)
    if match is None or match.end() == pos:
        raise JsonError("expected a value", pos)
    raw = match.group()
    number = float(raw) if any(c in raw for c in b".eE") else int(raw)
    return JNode("number", number, pos, match.end()), match.end()


def _object(data: bytes, text: str, start: int) -> tuple[JNode, int]:
    members: list[tuple[str, int, JNode]] = []
    pos = _skip(data, start + 1)
    if data[pos : pos + 1] == b"}":
        return JNode("object", members, start, pos + 1), pos + 1
    while True:
        if data[pos : pos + 1] != b'"':
            raise JsonError("expected a quoted key", pos)
        key, key_end = _string(data, pos)
        colon = _skip(data, key_end)
        if data[colon : colon + 1] != b":":
            raise JsonError("expected ':'", colon)
        node, end = _value(data, text, _skip(data, colon + 1))
        members.append((key, pos, node))
        pos = _skip(data, end)
        sep = data[pos : pos + 1]
        if sep == b"}":
            return JNode("object", members, start, pos + 1), pos + 1
        if sep != b",":
            raise JsonError("expected ',' or '}'", pos)
        pos = _skip(data, pos + 1)


def _array(data: bytes, text: str, start: int) -> tuple[JNode, int]:
    items: list[JNode] = []
    pos = _skip(data, start + 1)
    if data[pos : pos + 1] == b"]":
        return JNode("array", items, start, pos + 1), pos + 1
    while True:
        node, end = _value(data, text, pos)
        items.append(node)
        pos = _skip(data, end)
        sep = data[pos : pos + 1]
        if sep == b"]":
            return JNode("array", items, start, pos + 1), pos + 1
        if sep != b",":
            raise JsonError("expected ',' or ']'", pos)
        pos = _skip(data, pos + 1)


def plain(node: JNode) -> Any:
    """The Python value of a node."""
    if node.kind == "object":
        return {key: plain(value) for key, _start, value in node.value}
    if node.kind == "array":
        return [plain(item) for item in node.value]
    return node.value
