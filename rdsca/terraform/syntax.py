"""Plain literals read from their text, without the syntax tree.

tree-sitter 0.26 allocates a syntax tree through Python's allocator at about 260 bytes per node (1.8 MB for a 25 KB
file of resources), and any node kept alive keeps its whole tree: attributes are evaluated later, once every file of
the module is read. A plain literal (a quoted string with no escape, interpolation or directive; a number; ``true``,
``false``, ``null``), which is most of what a configuration sets, is recognised from its text alone and kept as one
``Literal`` node holding its value, so that a file of literals keeps no tree. It answers what the evaluator asks of
a tree-sitter node (``type``, ``children``, ``is_named``, byte span, ``text``) with the grammar's names; its
children are built only if someone asks for them.
"""

from __future__ import annotations

import re
from typing import Any

from rdsca.terraform.model import ConfigError, SourceFile


class Node:
    """One grammar node: its kind, children and byte span in ``file``."""

    __slots__ = ("children", "end_byte", "file", "is_named", "start_byte", "type")

    def __init__(
        self, kind: str, children: tuple[Node, ...], start: int, end: int, named: bool, file: SourceFile
    ) -> None:
        self.type = kind
        self.children = children
        self.start_byte = start
        self.end_byte = end
        self.is_named = named
        self.file = file

    @property
    def text(self) -> bytes:
        return self.file.data[self.start_byte : self.end_byte]

    def __repr__(self) -> str:
        return f"<{self.type} {self.start_byte}-{self.end_byte}>"


class Literal(Node):
    """An ``expression`` that is one literal; ``value`` is what it evaluates to."""

    __slots__ = ("_children", "value")

    def __init__(self, value: Any, start: int, end: int, file: SourceFile) -> None:
        # Node.__init__ is skipped: ``children`` is built on demand below.
        self.type = "expression"
        self.start_byte = start
        self.end_byte = end
        self.is_named = True
        self.file = file
        self.value = value
        self._children: tuple[Node, ...] | None = None

    @property
    def children(self) -> tuple[Node, ...]:  # type: ignore[override]
        if self._children is None:
            self._children = (_grammar_literal(self),)
        return self._children


def _grammar_literal(node: Literal) -> Node:
    """The ``literal_value`` subtree tree-sitter-hcl gives the literal's text."""
    file, start, end, value = node.file, node.start_byte, node.end_byte, node.value

    def leaf(kind: str, a: int, b: int, named: bool = True) -> Node:
        return Node(kind, (), a, b, named, file)

    if isinstance(value, str):
        parts = [leaf("quoted_template_start", start, start + 1)]
        if end - start > 2:
            parts.append(leaf("template_literal", start + 1, end - 1))
        parts.append(leaf("quoted_template_end", end - 1, end))
        inner = Node("string_lit", tuple(parts), start, end, True, file)
    elif isinstance(value, bool):
        word = "true" if value else "false"
        inner = Node("bool_lit", (leaf(word, start, end, False),), start, end, True, file)
    elif value is None:
        inner = leaf("null_lit", start, end)
    else:
        inner = leaf("numeric_lit", start, end)
    return Node("literal_value", (inner,), start, end, True, file)


#: A quoted string with nothing to unescape or interpolate (``$`` and ``%`` send it the long way, as do escapes).
_PLAIN_STRING = re.compile(rb'"[^"\\$%\r\n]*"')
#: tree-sitter-hcl's ``numeric_lit``.
_NUMBER = re.compile(rb"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WORDS: dict[bytes, Any] = {b"true": True, b"false": False, b"null": None}


#: The longest number read: Python converts at most 4,300 digits to an exact integer (``sys.int_info``), and no
#: setting of an RDS database is a number that long.
MAX_DIGITS = 4000


def number(text: str) -> int | float:
    """A ``numeric_lit``'s value, as Terraform reads it (a whole number stays exact)."""
    if len(text) > MAX_DIGITS:
        raise ConfigError(f"a number of {len(text):,} characters: rdsca reads numbers of at most {MAX_DIGITS:,}")
    return float(text) if any(c in text for c in ".eE") else int(text)


def literal(data: bytes, start: int, end: int, file: SourceFile) -> Literal | None:
    """The expression ``data[start:end]`` as one ``Literal`` node, or None when it is more than a plain literal."""
    if end <= start:
        return None
    first = data[start]
    if first == 0x22:  # "
        if _PLAIN_STRING.fullmatch(data, start, end):
            return Literal(data[start + 1 : end - 1].decode("utf-8"), start, end, file)
        return None
    if 0x30 <= first <= 0x39:
        if _NUMBER.fullmatch(data, start, end):
            try:
                value = number(data[start:end].decode("ascii"))
            except ConfigError as exc:
                raise ConfigError(f"{file.path}:{file.line_of(start)}: {exc}") from None
            return Literal(value, start, end, file)
        return None
    word = data[start:end]
    if word in _WORDS:
        return Literal(_WORDS[word], start, end, file)
    return None
