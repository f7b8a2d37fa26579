"""Terraform's pure built-in functions that configurations use around names and settings (string, collection,
conversion, ``try``/``can``); any other function evaluates to ``Unknown`` with its name, never to a guess.

Source: Terraform docs, "Built-in Functions" (each function's page gives the behaviour reproduced here).
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rdsca.resources import Unknown
from rdsca.terraform.values import EvalError, to_string


def go_json(value: Any) -> str:
    """JSON as Terraform writes it (Go's encoding/json through cty): object keys sorted, non-ASCII text as is, and
    ``<``, ``>`` and ``&`` escaped as ``\u003c``, ``\u003e`` and ``\u0026`` (checked with terraform console)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _case(text: str, change: Callable[[str], str]) -> str:
    """``upper``/``lower`` as Go's ``unicode.ToUpper``/``ToLower`` map each character to one character: ``ß`` stays
    ``ß`` (Python's ``upper`` makes it ``SS``), ``İ`` becomes ``i`` (Python adds a combining dot)."""
    out = []
    for char in text:
        changed = change(char)
        out.append(changed if len(changed) == 1 else (char if change is str.upper else changed[0]))
    return "".join(out)


def _formatlist(spec: Any, *args: Any) -> list[str]:
    """``formatlist``: ``format`` over lists of equal length (a non-list argument repeats), one result each."""
    lengths = {len(a) for a in args if isinstance(a, list)}
    if len(lengths) > 1:
        raise _error("formatlist: the lists have different lengths")
    count = lengths.pop() if lengths else 1
    return [_format(spec, *(a[i] if isinstance(a, list) else a for a in args)) for i in range(count)]


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


#: A verb of Go's fmt as Terraform's ``format`` takes it: flags, width, precision and the verb.
_VERB = re.compile(r"%([-+# 0]*)(\d*)(?:\.(\d+))?([a-zA-Z%])")


def _format(spec: Any, *args: Any) -> str:
    """``format``: Go's verbs as Terraform documents them (%s %d %v %f %e %g %x %X %o %b %q %t and %%, with flags,
    width and precision); an unsupported verb is an error, never a guess."""
    text, values = _str(spec), list(args)

    def one(match: re.Match[str]) -> str:
        flags, width, precision, verb = match.groups()
        if verb == "%":
            return "%"
        if not values:
            raise _error("format(): too few arguments")
        value = values.pop(0)
        if verb in "sv":
            body = _str(value) if not isinstance(value, (list, dict)) else json.dumps(value, separators=(",", ":"))
            return ("%" + flags + width + (f".{precision}" if precision else "") + "s") % body
        if verb == "q":
            return ("%" + flags + width + "s") % go_json(_str(value))
        if verb == "t":
            shown = "true" if value is True else "false" if value is False else _str(value)
            return ("%" + flags + width + "s") % shown
        if verb in "dxXob":
            number = int(_to_number(value))
            if verb == "b":
                return ("%" + flags + width + "s") % format(number, "b")
            return ("%" + flags + width + ("i" if verb == "d" else verb)) % number
        if verb in "feEgG":
            return ("%" + flags + width + (f".{precision}" if precision else "") + verb) % float(_to_number(value))
        raise _error(f"format(): verb %{verb} is not supported")

    return _VERB.sub(one, text)


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


def _regex(pattern: Any, text: Any, every: bool = False) -> Any:
    """``regex``/``regexall``: RE2 patterns; named groups give a map, unnamed ones a list, none the match."""
    compiled = re.compile(_str(pattern))

    def result(match: re.Match[str]) -> Any:
        if compiled.groupindex:
            return {name: match.group(name) for name in compiled.groupindex}
        if compiled.groups:
            return list(match.groups())
        return match.group(0)

    if every:
        return [result(m) for m in compiled.finditer(_str(text))]
    match = compiled.search(_str(text))
    if match is None:
        raise _error("regex(): the pattern did not match")
    return result(match)


def _range(*args: Any) -> list[Any]:
    """``range``, with Terraform's limit: "more than 1024 values were generated" is an error."""
    numbers = range(*(int(_to_number(x)) for x in args))
    if len(numbers) > 1024:
        raise _error("range(): more than 1024 values were generated")
    return list(numbers)


def _one(values: Any) -> Any:
    items = _list(values, "one")
    if len(items) > 1:
        raise _error("one(): more than one element")
    return items[0] if items else None


def _index(values: Any, wanted: Any) -> int:
    items = _list(values, "index")
    if wanted not in items:
        raise _error("index(): the value is not in the list")
    return items.index(wanted)


def _set_op(name: str, combine: Callable[[set[Any], set[Any]], set[Any]]) -> Callable[..., list[Any]]:
    def apply(first: Any, *rest: Any) -> list[Any]:
        result = set(map(_hashable, _list(first, name)))
        for other in rest:
            result = combine(result, set(map(_hashable, _list(other, name))))
        return _to_set([_unhashable(v) for v in result])

    return apply


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def _unhashable(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _base64decode(text: Any) -> str:
    try:
        return base64.b64decode(_str(text), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _error(f"base64decode(): {exc}") from None


def _jsondecode(text: Any) -> Any:
    try:
        return json.loads(_str(text))
    except (ValueError, RecursionError) as exc:
        raise _error(f"jsondecode(): {exc}") from None


def _yamldecode(text: Any) -> Any:
    import yaml

    try:
        return yaml.safe_load(_str(text))
    except yaml.YAMLError as exc:
        raise _error(f"yamldecode(): {exc}") from None


def _chunklist(values: Any, size: Any) -> list[Any]:
    items, n = _list(values, "chunklist"), int(size)
    if n == 0:
        return [items]
    return [items[i : i + n] for i in range(0, len(items), n)]


def _slice(values: Any, start: Any, end: Any) -> list[Any]:
    items = _list(values, "slice")
    lo, hi = int(start), int(end)
    if not 0 <= lo <= hi <= len(items):
        raise _error("slice(): index out of range")
    return items[lo:hi]


def _indent(spaces: Any, text: Any) -> str:
    pad = " " * int(spaces)
    return _str(text).replace("\n", "\n" + pad)


def _trim(text: Any, cutset: Any) -> str:
    return _str(text).strip(_str(cutset))


def _number(value: Any) -> Any:
    number = _to_number(value)
    return int(number) if isinstance(number, float) and number.is_integer() else number


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
    "upper": lambda s: _case(_str(s), str.upper),
    "lower": lambda s: _case(_str(s), str.lower),
    "trimspace": lambda s: _str(s).strip(),
    "join": lambda sep, items: _str(sep).join(_str(i) for i in _list(items, "join")),
    "split": lambda sep, s: _str(s).split(_str(sep)),
    "replace": lambda s, old, new: _replace(_str(s), _str(old), _str(new)),
    "concat": lambda *lists: [x for items in lists for x in _list(items, "concat")],
    "keys": lambda m: sorted(_map(m, "keys")),
    "values": lambda m: [_map(m, "values")[k] for k in sorted(m)],
    "contains": lambda items, v: v in _list(items, "contains"),
    "range": lambda *a: _range(*a),
    "flatten": lambda items: _flatten(_list(items, "flatten")),
    "distinct": lambda items: list(dict.fromkeys(_list(items, "distinct"))),
    "zipmap": lambda ks, vs: dict(zip((_str(k) for k in _list(ks, "zipmap")), _list(vs, "zipmap"), strict=False)),
    "startswith": lambda s, p: _str(s).startswith(_str(p)),
    "endswith": lambda s, p: _str(s).endswith(_str(p)),
    "substr": lambda s, o, n: _str(s)[int(o) : None if int(n) < 0 else int(o) + int(n)],
    # Strings.
    "chomp": lambda s: re.sub(r"(\r\n|\n|\r)+$", "", _str(s)),
    "trim": _trim,
    "trimprefix": lambda s, p: _str(s).removeprefix(_str(p)),
    "trimsuffix": lambda s, p: _str(s).removesuffix(_str(p)),
    "title": lambda s: re.sub(r"\b(\w)", lambda m: m.group(1).upper(), _str(s)),
    "strrev": lambda s: _str(s)[::-1],
    "indent": _indent,
    "regex": _regex,
    "regexall": lambda p, s: _regex(p, s, every=True),
    # Collections.
    "one": _one,
    "reverse": lambda items: list(reversed(_list(items, "reverse"))),
    "sort": lambda items: sorted(_str(i) for i in _list(items, "sort")),
    "compact": lambda items: [i for i in _list(items, "compact") if i not in (None, "")],
    "index": _index,
    "slice": _slice,
    "chunklist": _chunklist,
    "coalescelist": lambda *lists: next((items for items in lists if _list(items, "coalescelist")), []),
    "alltrue": lambda items: all(v is True or v == "true" for v in _list(items, "alltrue")),
    "anytrue": lambda items: any(v is True or v == "true" for v in _list(items, "anytrue")),
    "sum": lambda items: _number(sum(_to_number(v) for v in _list(items, "sum"))),
    "setunion": _set_op("setunion", lambda a, b: a | b),
    "setintersection": _set_op("setintersection", lambda a, b: a & b),
    "setsubtract": _set_op("setsubtract", lambda a, b: a - b),
    "transpose": lambda m: {
        v: sorted(k for k, vs in _map(m, "transpose").items() if v in vs)
        for vs in _map(m, "transpose").values()
        for v in vs
    },
    "matchkeys": lambda values, keys, search: [
        v
        for v, k in zip(_list(values, "matchkeys"), _list(keys, "matchkeys"), strict=False)
        if k in _list(search, "matchkeys")
    ],
    # Numbers.
    "abs": lambda n: abs(_number(n)),
    "ceil": lambda n: math.ceil(_to_number(n)),
    "floor": lambda n: math.floor(_to_number(n)),
    "max": lambda *ns: _number(max(_to_number(n) for n in ns)),
    "min": lambda *ns: _number(min(_to_number(n) for n in ns)),
    "pow": lambda a, b: _number(_to_number(a) ** _to_number(b)),
    "log": lambda n, base: _number(math.log(_to_number(n), _to_number(base))),
    "setproduct": lambda *sets: [list(t) for t in itertools.product(*(_list(s, "setproduct") for s in sets))],
    "formatlist": _formatlist,
    "signum": lambda n: (_to_number(n) > 0) - (_to_number(n) < 0),
    "parseint": lambda s, base: int(_str(s), int(base)),
    # Encodings and hashes.
    "base64decode": _base64decode,
    "base64encode": lambda s: base64.b64encode(_str(s).encode("utf-8")).decode("ascii"),
    "jsondecode": _jsondecode,
    "jsonencode": lambda v: go_json(v),
    "yamldecode": _yamldecode,
    "urlencode": lambda s: urllib.parse.quote_plus(_str(s), safe=""),  # Go url.QueryEscape
    "md5": lambda s: _digest("md5", s),
    "sha1": lambda s: _digest("sha1", s),
    "sha256": lambda s: _digest("sha256", s),
    "sha512": lambda s: _digest("sha512", s),
    # Sensitivity marks do not change a value (rdsca judges it and never prints it as a secret's).
    "sensitive": lambda v: v,
    "nonsensitive": lambda v: v,
}


#: ``$$``, ``${name}`` and ``$name`` (the longest run of letters, digits and underscores) in a Go replacement template.
_GO_TEMPLATE = re.compile(r"\$\$|\$\{(\w+)\}|\$(\w+)")


def _digest(name: str, value: Any) -> str:
    import hashlib  # on use: loading OpenSSL's hashes is ~10 ms of start-up, and few configurations hash

    return hashlib.new(name, _str(value).encode("utf-8")).hexdigest()


def _replace(text: str, substring: str, replacement: str) -> str:
    """Terraform's ``replace``: a substring wrapped in forward slashes is a regular expression (RE2), and the
    replacement may name its groups as ``$1``, ``${1}`` or ``${name}`` (``$$`` is a dollar), as Go's
    ``Regexp.ReplaceAllString`` expands them (terraform/internal/lang/funcs/string.go)."""
    if len(substring) >= 2 and substring.startswith("/") and substring.endswith("/"):
        try:
            pattern = re.compile(substring[1:-1])
        except re.error as exc:
            raise EvalError(f"replace: invalid regular expression {substring!r}: {exc}") from None

        def expand(match: re.Match[str]) -> str:
            def group(name: str) -> str:
                # Go expands a group that does not exist (or did not take part) to nothing.
                try:
                    return match.group(int(name) if name.isdigit() else name) or ""
                except (IndexError, re.error):
                    return ""

            return _GO_TEMPLATE.sub(
                lambda t: "$" if t.group(0) == "$$" else group(t.group(1) or t.group(2)), replacement
            )

        return pattern.sub(expand, text)
    return text.replace(substring, replacement)


def _flatten(items: list[Any]) -> list[Any]:
    """Terraform's ``flatten``: nested lists flattened all the way down."""
    flat: list[Any] = []
    for item in items:
        if isinstance(item, list):
            flat.extend(_flatten(item))
        else:
            flat.append(item)
    return flat


def _contains_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, list):
        return next((u for u in map(_contains_unknown, value) if u is not None), None)
    if isinstance(value, dict):
        return next((u for u in map(_contains_unknown, value.values()) if u is not None), None)
    return None


#: Terraform's file functions that rdsca evaluates, for files inside the configuration directory only.
FILE_FUNCTIONS = frozenset({"file", "fileexists", "filebase64", "templatefile"})
#: The largest file a file function reads.
MAX_FILE_BYTES = 1024 * 1024


def call_file(name: str, args: list[Any], path: Mapping[str, str], render: Callable[[str, dict[str, Any]], Any]) -> Any:
    """``file``, ``fileexists``, ``filebase64`` and ``templatefile``, as Terraform evaluates them before plan.
    A relative path is relative to the working directory Terraform runs in (the root module's); ``path.module``
    makes it the module's. A file outside the configuration directory is not read: the value is undecided (rdsca
    never copies other files into its output), and so is one over 1 MiB."""
    for arg in args:
        unknown = _contains_unknown(arg)
        if unknown is not None:
            return unknown
    if not args:
        raise _error(f"{name}(): a path is required")
    root = Path(path.get("root") or ".").resolve()
    target = Path(_str(args[0]))
    target = (target if target.is_absolute() else root / target).resolve()
    if not target.is_relative_to(root):
        return Unknown(reason=f"{name}() reads {target}, outside the configuration: not read by rdsca", undecided=True)
    if name == "fileexists":
        return target.is_file()
    if not target.is_file():
        raise _error(f"{name}(): no file {target}")
    if target.stat().st_size > MAX_FILE_BYTES:
        return Unknown(reason=f"{name}() reads {target}, over {MAX_FILE_BYTES // 1024} KiB: not read", undecided=True)
    data = target.read_bytes()
    if name == "filebase64":
        return base64.b64encode(data).decode("ascii")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _error(f"{name}(): {target} is not UTF-8 text (Terraform's file() refuses it too)") from None
    if name == "file":
        return text
    variables = args[1] if len(args) > 1 else {}
    return render(text, _map(variables, "templatefile"))


def call(name: str, args: list[Any]) -> Any:
    function = FUNCTIONS.get(name)
    if function is None:
        return Unknown(reason=f"function {name}() is not evaluated statically", undecided=True)
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
