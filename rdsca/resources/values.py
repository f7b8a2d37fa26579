"""Markers for values that are not plain values (missing, null, unknown until apply) and how to read around them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# -- values --------------------------------------------------------------------------------------------------------


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


class _Null:
    """A property present with the value null (the Pulumi SDK drops None inputs; other tools may not)."""

    def __repr__(self) -> str:
        return "null"


#: A property that is absent. ``NULL``: present and null.
MISSING: Any = _Missing()
NULL: Any = _Null()


@dataclass(frozen=True)
class Unknown:
    """A value not known yet (computed during a preview or plan). ``payload`` is what the front end keeps with it:
    the policy SDK's ``UnknownValueError``, a Terraform expression, the property path."""

    payload: Any = None
    #: Why it is not known, for people ("computed by another resource", "var.ca has no default").
    reason: str = ""
    #: Known to the tool that runs the configuration before apply, but not to rdsca: a function or construct it
    #: does not evaluate, a reference Terraform would reject, a cycle. Never a pass: "cannot decide".
    undecided: bool = False


#: ``read(props, name) -> value | MISSING | NULL | Unknown``: how a front end reads one property.
Reader = Callable[[Mapping[str, Any], str], Any]


def read_plain(props: Mapping[str, Any], name: str) -> Any:
    """A property of already-normalised values (dotted names walk nested mappings)."""
    value: Any = props
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return NULL if value is None else value


def known_text(value: Any) -> str | None:
    """A value as a non-empty string, or None (missing, null, unknown, another type, empty)."""
    return value if isinstance(value, str) and value else None
