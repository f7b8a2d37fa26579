"""``ignore_changes`` as the engine applies it: the ignored properties of the new inputs take their old values.

A port of pulumi/pulumi ``sdk/go/common/resource/properties_path.go`` (``ParsePropertyPath``, ``PropertyPath.Reset``)
and ``pkg/resource/deploy/step_generator.go`` (``processIgnoreChanges``), which the engine runs on a resource that
already exists, before the provider's ``Check`` and before any policy sees the inputs. Values are in wire form:
a secret is ``{SIG: SECRET, "value": ...}``; passing through one marks what is reset below it secret, as the engine
does. Assets and archives (other signatures) are leaves.
"""

from __future__ import annotations

import copy
from typing import Any

from rdsca import sdk_internals
from rdsca.errors import RdscaError

_SIG = sdk_internals.SIG_KEY
_SECRET = sdk_internals.SECRET_SIG

Path = list[str | int]


class PathError(RdscaError, ValueError):
    pass


def _quoted(text: str) -> tuple[str, str]:
    """``text`` starts after ``["``: the key up to the closing quote, and the rest after ``]``."""
    key: list[str] = []
    i = 0
    while True:
        if i >= len(text):
            raise PathError("missing closing quote in property name")
        if text[i] == '"':
            i += 1
            break
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] == '"':
            key.append('"')
            i += 2
        else:
            key.append(text[i])
            i += 1
    if i >= len(text) or text[i] != "]":
        raise PathError("missing closing bracket in property access")
    return "".join(key), text[i + 1 :]


def _index(text: str) -> tuple[str | int, str]:
    """``text`` starts after ``[``: an index or ``*``, and the rest after ``]``."""
    end = text.find("]")
    if end == -1:
        raise PathError("missing closing bracket in array index")
    segment = text[:end]
    if segment == "*":
        return "*", text[end + 1 :]
    try:
        return int(segment), text[end + 1 :]
    except ValueError:
        raise PathError(f"invalid array index: {segment!r}") from None


def parse_path(text: str) -> Path:
    """``a.b[0]["c d"].*`` as keys and indexes (the engine's lenient grammar: a bare name runs to ``.`` or ``[``)."""
    if text.startswith("."):
        raise PathError("expected property path to start with a name or index")
    path: Path = []
    while text:
        if text[0] == ".":
            text = text[1:]
            if not text:
                raise PathError("expected property path to end with a name or index")
        elif text[0] == "[":
            element: str | int
            element, text = _quoted(text[2:]) if text[1:2] == '"' else _index(text[1:])
            path.append(element)
        else:
            end = min((i for i in (text.find("."), text.find("[")) if i != -1), default=len(text))
            path.append(text[:end])
            text = text[end:]
    return path


def _unwrap(value: Any) -> tuple[Any, bool]:
    secret = False
    while isinstance(value, dict) and value.get(_SIG) == _SECRET:
        value, secret = value.get("value"), True
    return value, secret


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and _SIG not in value


def _secret(value: Any) -> Any:
    return {_SIG: _SECRET, "value": value}


def _reset_index(path: Path, key: int, old: Any, new: Any, old_secret: bool, new_secret: bool) -> bool:
    if key < 0:
        return False
    old_array, new_array = isinstance(old, list), isinstance(new, list)
    if len(path) == 1:
        if not old_array and not new_array:
            return True
        if not old_array or not new_array:
            return False
        if key >= len(old) and key >= len(new):
            return True
        if key >= len(old) or key >= len(new):
            return False  # the engine cannot add or remove an array element
        new[key] = _secret(old[key]) if old_secret and not new_secret else old[key]
        return True
    if not old_array or not new_array:
        return not old_array and not new_array
    if key >= len(old) or key >= len(new):
        return False
    return _reset(path[1:], old[key], new[key], old_secret, new_secret)


def _reset_all(path: Path, old: Any, new: Any, old_secret: bool, new_secret: bool) -> bool:
    """The ``*`` wildcard: every key or element."""
    wrap = (lambda v: _secret(v)) if old_secret and not new_secret else (lambda v: v)
    if len(path) == 1:
        if _is_object(new):
            if _is_object(old):
                for k, v in old.items():
                    new[k] = wrap(v)
                for k in [k for k in new if k not in old]:
                    del new[k]
            return True
        if isinstance(new, list):
            if isinstance(old, list):
                for i, v in enumerate(old[: len(new)]):
                    new[i] = wrap(v)
                return len(old) == len(new)
            return True
        return False
    if _is_object(old) and _is_object(new):
        return all(k in new and _reset(path[1:], old[k], new[k], old_secret, new_secret) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        # Elements past the shorter array are not compared; arrays of different lengths are a path error.
        pairs = zip(old[: len(new)], new[: len(old)], strict=True)
        return all(_reset(path[1:], o, n, old_secret, new_secret) for o, n in pairs) and len(old) == len(new)
    return False


def _reset_key(path: Path, key: str, old: Any, new: Any, old_secret: bool, new_secret: bool) -> bool:
    if len(path) == 1:
        if _is_object(old) and key in old:
            if not _is_object(new):
                return False
            new[key] = _secret(old[key]) if old_secret and not new_secret else old[key]
        elif _is_object(new):
            new.pop(key, None)
        return True
    if not _is_object(old) or not _is_object(new):
        return not _is_object(old) and not _is_object(new)
    if key in old and key not in new:
        return False
    if key not in old and key not in new:
        return True
    # The engine reads a key missing from old as null (a zero PropertyValue).
    return _reset(path[1:], old.get(key), new[key], old_secret, new_secret)


def _reset(path: Path, old: Any, new: Any, old_secret: bool, new_secret: bool) -> bool:
    if not path:
        return False
    old, secret = _unwrap(old)
    old_secret = old_secret or secret
    new, secret = _unwrap(new)
    new_secret = new_secret or secret
    key = path[0]
    if isinstance(key, int):
        return _reset_index(path, key, old, new, old_secret, new_secret)
    if key == "*":
        return _reset_all(path, old, new, old_secret, new_secret)
    return _reset_key(path, key, old, new, old_secret, new_secret)


def process_ignore_changes(
    inputs: dict[str, Any], old_inputs: dict[str, Any], ignore_changes: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """The new inputs with every ignored path set back to its old value (removed where the old inputs lack it),
    and the paths that could not be reset (added or removed array elements), which the engine reports as info.
    A path that does not parse is skipped, as the engine skips it."""
    result = copy.deepcopy(inputs)
    invalid: list[str] = []
    for text in ignore_changes:
        try:
            path = parse_path(text)
        except PathError:
            continue
        if not _reset(path, old_inputs, result, False, False):
            invalid.append(text)
    return result, invalid
