"""Terraform's pure built-in functions that configurations use around names and settings (string, collection,
conversion, ``try``/``can``); any other function evaluates to ``Unknown`` with its name, never to a guess.

Source: Terraform docs, "Built-in Functions" (each function's page gives the behaviour reproduced here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rdsca.resources import Unknown
from rdsca.terraform.values import EvalError, to_string


def _error(message: str) -> Exception:
    return EvalError(message)


def _str(value: Any) -> str:
    return to_string(value)


def _list(value: Any, name: str) -> list[Any]:
    if isinstance(value, list):
        return value
    raise _error(f"{name}() expects a list")


def _map(value: Any, name: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise _error(f"{name}() expects a map")


def _lookup(m: Any, key: Any, *default: Any) -> Any:
    mapping = _map(m, "lookup")
    if _str(key) in mapping:
        return mapping[_str(key)]
    if default:
        return default[0]
    raise _error(f"lookup(): no key {_str(key)!r} and no default")


def _merge(*maps: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for m in maps:
        if m is not None:
            result.update(_map(m, "merge"))
    return result


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    raise _error("coalesce(): no non-null, non-empty argument")


def _element(values: Any, position: Any) -> Any:
    items = _list(values, "element")
    if not items:
        raise _error("element(): empty list")
    return items[int(position) % len(items)]


def _format(spec: Any, *args: Any) -> str:
    # Only the verbs configurations use for names: %s, %d, %v and %%.
    text, out, arg = _str(spec), [], 0
    i = 0
    while i < len(text):
        if text[i] == "%" and i + 1 < len(text):
            verb = text[i + 1]
            if verb == "%":
                out.append("%")
            elif verb in "sdv":
                if arg >= len(args):
                    raise _error("format(): too few arguments")
                out.append(_str(args[arg]))
                arg += 1
            else:
                raise _error(f"format(): verb %{verb} is not evaluated")
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _to_number(value: Any) -> Any:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    try:
        return int(_str(value))
    except ValueError:
        try:
            return float(_str(value))
        except ValueError:
            raise _error(f"tonumber(): {value!r} is not a number") from None


def _to_bool(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise _error(f"tobool(): {value!r} is not a bool")


def _to_set(value: Any) -> list[Any]:
    return sorted(set(_list(value, "toset")), key=lambda v: (type(v).__name__, str(v)))


def _length(value: Any) -> int:
    if isinstance(value, (list, dict, str)):
        return len(value)
    raise _error("length() expects a string or collection")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "lookup": _lookup,
    "merge": _merge,
    "coalesce": _coalesce,
    "element": _element,
    "format": _format,
    "tostring": lambda v: None if v is None else _str(v),
    "tonumber": _to_number,
    "tobool": _to_bool,
    "tolist": lambda v: _list(v, "tolist"),
    "toset": _to_set,
    "tomap": lambda v: _map(v, "tomap"),
    "length": _length,
    "upper": lambda s: _str(s).upper(),
    "lower": lambda s: _str(s).lower(),
    "trimspace": lambda s: _str(s).strip(),
    "join": lambda sep, items: _str(sep).join(_str(i) for i in _list(items, "join")),
    "split": lambda sep, s: _str(s).split(_str(sep)),
    "replace": lambda s, old, new: _str(s).replace(_str(old), _str(new)),
    "concat": lambda *lists: [x for items in lists for x in _list(items, "concat")],
    "keys": lambda m: sorted(_map(m, "keys")),
    "values": lambda m: [_map(m, "values")[k] for k in sorted(m)],
    "contains": lambda items, v: v in _list(items, "contains"),
    "range": lambda *a: list(range(*(int(x) for x in a))),
    "flatten": lambda items: [y for x in _list(items, "flatten") for y in (x if isinstance(x, list) else [x])],
    "distinct": lambda items: list(dict.fromkeys(_list(items, "distinct"))),
    "zipmap": lambda ks, vs: dict(zip((_str(k) for k in _list(ks, "zipmap")), _list(vs, "zipmap"), strict=False)),
    "startswith": lambda s, p: _str(s).startswith(_str(p)),
    "endswith": lambda s, p: _str(s).endswith(_str(p)),
    "substr": lambda s, o, n: _str(s)[int(o) : None if int(n) < 0 else int(o) + int(n)],
}


def _contains_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, list):
        return next((u for u in map(_contains_unknown, value) if u is not None), None)
    if isinstance(value, dict):
        return next((u for u in map(_contains_unknown, value.values()) if u is not None), None)
    return None


def call(name: str, args: list[Any]) -> Any:
    function = FUNCTIONS.get(name)
    if function is None:
        return Unknown(reason=f"function {name}() is not evaluated statically")
    for arg in args:
        unknown = _contains_unknown(arg)
        if unknown is not None:
            return unknown
    try:
        return function(*args)
    except TypeError:
        raise _error(f"{name}(): wrong number or type of arguments") from None
    except (ValueError, KeyError, IndexError, ZeroDivisionError) as exc:
        raise _error(f"{name}(): {exc}") from None


def try_or_can(name: str, thunks: list[Callable[[], Any]]) -> Any:
    """``try(a, b, ...)``: the first argument that evaluates without error; ``can(x)``: whether ``x`` does."""
    for thunk in thunks:
        try:
            value = thunk()
        except EvalError:
            continue
        if name == "can":
            return True if not isinstance(value, Unknown) else value
        return value
    if name == "can":
        return False
    raise _error("try(): no argument could be evaluated")
