"""Terraform values and their conversions, shared by the expression evaluator, the built-in functions and the HCL
reader: the error Terraform would raise, type names, conversion to string and HCL's string escapes.

Source: HCL native syntax specification (hashicorp/hcl ``hclsyntax/spec.md``) for escapes; Terraform docs, "Type
Constraints" (conversion of primitive types).
"""

from __future__ import annotations

import re
from typing import Any

from rdsca.errors import RdscaError

_ESCAPES = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))|\$\$\{|%%\{", re.S)
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def unescape(text: str) -> str:
    """A quoted string's text with HCL's escapes applied (``\\n``, ``\\uNNNN``, ``$${`` for a literal ``${``)."""
    if "\\" not in text and "$${" not in text and "%%{" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$${":
            return "${"
        if whole == "%%{":
            return "%{"
        code = match.group(1) or match.group(2)
        if code:
            if int(code, 16) > 0x10FFFF:
                raise EvalError(f"\\U{code} is beyond the last Unicode code point (U+10FFFF)")
            return chr(int(code, 16))
        return _SIMPLE.get(match.group(3), whole)

    return _ESCAPES.sub(one, text)


class EvalError(RdscaError):
    """An expression Terraform itself would reject (wrong type, missing key): the value is unknown, with this
    reason."""


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def to_string(value: Any) -> str:
    """Terraform's conversion of a primitive to string (numbers without a trailing .0, bools lower case)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    raise EvalError(f"cannot use {type_name(value)} as a string")
