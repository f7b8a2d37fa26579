"""The data the Terraform front end produces: source files, blocks and attributes with byte positions, and resources
ready to be judged (values not known statically are ``rdsca.resources.Unknown``, with their reason)."""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdsca.errors import RdscaError


class ConfigError(RdscaError):
    """A Terraform file that cannot be read (syntax, encoding, shape): one line naming the file and the place."""


@dataclass(eq=False)
class SourceFile:
    """One file as read: its bytes (positions are byte offsets into them) and whether rdsca may edit it."""

    path: Path
    data: bytes = field(repr=False)
    #: ``hcl`` (``.tf``, ``.tfvars``) or ``json`` (``.tf.json``, ``.tfvars.json``).
    syntax: str
    #: False inside a registry module's cache (``.terraform/modules``): never edited.
    editable: bool = True
    #: Byte offset of the start of each line, for offset -> line.
    _lines: list[int] | None = field(default=None, repr=False)

    def line_of(self, offset: int) -> int:
        """1-based line of a byte offset."""
        if self._lines is None:
            # Each line's start is the sum of the lengths (newline included) of the lines before it: summed in C.
            lengths = map((1).__add__, map(len, self.data.split(b"\n")))
            self._lines = list(itertools.accumulate(lengths, initial=0))[:-1]
        return bisect.bisect_right(self._lines, offset)


class Span:
    """A byte range in a source file. Immutable by convention; written by hand rather than as a frozen dataclass,
    whose ``object.__setattr__`` per field made it cost three times as much to create (two per attribute read:
    140,000 for a 10,000-resource configuration)."""

    __slots__ = ("end", "file", "start")

    def __init__(self, file: SourceFile, start: int, end: int) -> None:
        self.file = file
        self.start = start
        self.end = end

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Span):
            return NotImplemented
        return self.file is other.file and self.start == other.start and self.end == other.end

    def __hash__(self) -> int:
        return hash((id(self.file), self.start, self.end))

    def __repr__(self) -> str:
        return f"Span({self.file.path}, {self.start}, {self.end})"

    @property
    def line(self) -> int:
        return self.file.line_of(self.start)

    def where(self) -> str:
        return f"{self.file.path}:{self.line}"


@dataclass(eq=False, slots=True)
class Attribute:
    name: str
    #: An ``expression`` node (``rdsca.terraform.syntax``, HCL) or a ``jsonpos`` value (JSON syntax).
    expr: Any
    #: The whole ``name = value`` and the value alone.
    span: Span
    value: Span


@dataclass(eq=False, slots=True)
class Block:
    type: str
    labels: list[str]
    attributes: dict[str, Attribute]
    blocks: list[Block]
    span: Span
    #: Where new attributes go: just after the opening brace (HCL) or the opening ``{`` of the body (JSON).
    body_start: int
    #: Offset of the closing brace.
    body_end: int

    @property
    def file(self) -> SourceFile:
        return self.span.file


@dataclass(frozen=True)
class Origin:
    """Where a value's text lives, for ``--fix``: the literal's span, or why it cannot be edited there."""

    span: Span | None
    #: Set when the value cannot be fixed in place ("comes from for_each", "set in terraform.tfvars").
    by_hand: str | None = None


@dataclass
class Resource:
    """One resource instance as a judgement sees it."""

    address: str
    type: str
    name: str
    #: Attribute values: plain JSON-like values, or ``Unknown``. A missing key is unset.
    values: dict[str, Any]
    #: The resource block (None for a plan without configuration positions).
    block: Block | None = None
    #: Where the plan file names the resource (plan input only).
    location: Span | None = None
    #: Region from the resource's ``region`` argument or its provider configuration.
    region: Any = None
    #: Engine version taken from the cluster when the instance has none (DocumentDB and Aurora members).
    cluster_engine_version: Any = None
    #: ``values`` of the deployed state (plan ``before``), for the stack-state judgement.
    state: dict[str, Any] | None = None
    #: Per attribute: where its literal lives (configuration input only).
    origins: dict[str, Origin] = field(default_factory=dict)
    #: Attribute names whose value is sensitive (never printed).
    sensitive: frozenset[str] = frozenset()
    #: True when the block lives in a file rdsca may edit.
    editable: bool = True

    def where(self, name: str | None = None) -> Span | None:
        """The attribute's position, else the block's, else the plan's."""
        if self.block is not None:
            attribute = self.block.attributes.get(name) if name else None
            return attribute.span if attribute else self.block.span
        return self.location
