"""Static evaluation of Terraform expressions: literals, templates, operators, conditionals, ``for``, splats, the
pure built-in functions, and references resolved through a ``Scope``. What cannot be known without running
Terraform (another resource's computed attribute, a data source, an impure function) evaluates to ``Unknown`` with
its reason, as a plan shows it as "known after apply"; never a guess.

Source: HCL native syntax specification (hashicorp/hcl ``hclsyntax/spec.md``) for operators, templates and escapes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rdsca.resources import Unknown
from rdsca.terraform import jsonpos
from rdsca.terraform.model import ConfigError
from rdsca.terraform.syntax import Literal, number
from rdsca.terraform.values import EvalError, to_string, type_name, unescape


@dataclass
class Scope:
    """What names resolve to while evaluating one module instance's expressions."""

    variables: Mapping[str, Any] = field(default_factory=dict)
    #: ``local.NAME`` -> value (evaluated lazily by the caller's resolver).
    local: Callable[[str], Any] = lambda name: Unknown(reason=f"local.{name} is not declared", undecided=True)
    #: ``TYPE.NAME`` (managed) or ``data.TYPE.NAME`` references -> value after the given postfix steps.
    resource: Callable[[str, str, list[Any]], Any] | None = None
    module_output: Callable[[str, list[Any]], Any] | None = None
    count_index: Any = None
    each: tuple[Any, Any] | None = None
    #: Names bound by ``for`` expressions and ``dynamic`` blocks.
    bound: dict[str, Any] = field(default_factory=dict)
    path: Mapping[str, str] = field(default_factory=dict)

    def child(self, bound: Mapping[str, Any]) -> Scope:
        return Scope(
            self.variables,
            self.local,
            self.resource,
            self.module_output,
            self.count_index,
            self.each,
            {**self.bound, **bound},
            self.path,
        )


def evaluate(node: Any, scope: Scope) -> Any:
    """The value of an expression node (HCL syntax or JSON); ``Unknown`` where it cannot be known statically."""
    try:
        if isinstance(node, jsonpos.JNode):
            return _json(node, scope)
        return _expression(node, scope)
    except EvalError as exc:
        return Unknown(reason=str(exc), undecided=True)
    except RecursionError:
        # A limit of rdsca's evaluator is not "known after apply": an unknown never blocks, so reading it as one
        # would let a retired CA hidden in enough parentheses through. Refuse the configuration instead.
        line = getattr(node, "start_point", (None,))[0]
        where = f"line {line + 1}: " if isinstance(line, int) else ""
        raise TooDeep(f"{where}an expression nested too deeply for rdsca to evaluate") from None


class TooDeep(ConfigError):
    """An expression deeper than the evaluator can follow; the caller adds the file when it knows it."""


def _json(node: jsonpos.JNode, scope: Scope) -> Any:
    if node.kind == "string":
        text = node.value
        if "${" not in text and "%{" not in text:
            return text
        return _json_template(text, scope)
    if node.kind == "object":
        return {key: _json(value, scope) for key, _start, value in node.value}
    if node.kind == "array":
        return [_json(item, scope) for item in node.value]
    return node.value


def _json_template(text: str, scope: Scope) -> Any:
    from rdsca.terraform.hcl import parse_expression
    from rdsca.terraform.model import ConfigError

    marker = "RDSCA_JSON_TEMPLATE"
    try:
        node = parse_expression(f"<<{marker}\n{text}\n{marker}\n", "JSON string")
    except ConfigError:
        raise EvalError(f"template {text[:40]!r} is not valid") from None
    value = _expression(node, scope)
    return value[:-1] if isinstance(value, str) else value


def _named(node: Any) -> list[Any]:
    return [c for c in node.children if c.is_named and c.type != "comment"]


_HANDLERS: dict[str, Callable[[Any, Scope], Any]] = {}


def _expression(node: Any, scope: Scope) -> Any:
    if node.__class__ is Literal:
        return node.value
    kind = node.type
    if kind == "expression":
        return _sequence(_named(node), scope)
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise EvalError(f"expression of kind {kind} is not evaluated")
    return handler(node, scope)


def _sequence(parts: list[Any], scope: Scope) -> Any:
    """A primary expression followed by postfix steps (``.attr``, ``[index]``, splats)."""
    head, steps = parts[0], parts[1:]
    if head.type == "variable_expr":
        value, steps = _reference(head.children[0].text.decode(), steps, scope)
    else:
        value = _expression(head, scope)
    return postfix(value, steps, scope)


def _attr_name(step: Any) -> str | None:
    return step.children[-1].text.decode() if step.type == "get_attr" else None


def _reference(root: str, steps: list[Any], scope: Scope) -> tuple[Any, list[Any]]:
    if root in scope.bound:
        return scope.bound[root], steps
    name = _attr_name(steps[0]) if steps else None
    if root == "var":
        if name is None:
            raise EvalError("var must be followed by a variable name")
        if name not in scope.variables:
            return Unknown(reason=f"var.{name} is not declared", undecided=True), steps[1:]
        return scope.variables[name], steps[1:]
    if root == "local":
        if name is None:
            raise EvalError("local must be followed by a name")
        return scope.local(name), steps[1:]
    if root == "count" and name == "index":
        if scope.count_index is None:
            raise EvalError("count.index is used outside a block with count")
        return scope.count_index, steps[1:]
    if root == "each" and name in ("key", "value"):
        if scope.each is None:
            raise EvalError(f"each.{name} is used outside a block with for_each")
        return scope.each[0 if name == "key" else 1], steps[1:]
    if root == "path" and name is not None and name in scope.path:
        return scope.path[name], steps[1:]
    if root == "terraform" and name == "workspace":
        return "default", steps[1:]
    if root == "module" and name is not None:
        if scope.module_output is None:
            return Unknown(reason=f"module.{name} outputs are not read here"), []
        return scope.module_output(name, steps[1:]), []
    if root == "data":
        if scope.resource is None or name is None or len(steps) < 2 or _attr_name(steps[1]) is None:
            return Unknown(reason="data sources are read by Terraform at plan time"), []
        return scope.resource(f"data.{name}", _attr_name(steps[1]) or "", steps[2:]), []
    if name is not None and scope.resource is not None:
        return scope.resource(root, name, steps[1:]), []
    return Unknown(reason=f"{root} cannot be resolved statically", undecided=True), []


def postfix(value: Any, steps: list[Any], scope: Scope) -> Any:
    for position, step in enumerate(steps):
        if isinstance(value, Unknown):
            return value
        kind = step.type
        if kind == "get_attr":
            value = get_attr(value, step.children[-1].text.decode())
        elif kind == "index":
            value = index(value, _index_key(step, scope))
        elif kind == "splat":
            return _splat(value, step, steps[position + 1 :], scope)
        else:
            raise EvalError(f"postfix {kind} is not evaluated")
    return value


def _index_key(step: Any, scope: Scope) -> Any:
    inner = step.children[0]
    if inner.type == "legacy_index":  # list.0
        return int(inner.text.decode().lstrip("."))
    return _expression(_named(inner)[0], scope)


def get_attr(value: Any, name: str) -> Any:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, dict):
        if name not in value:
            raise EvalError(f"no attribute {name!r}")
        return value[name]
    raise EvalError(f"cannot read attribute {name!r} of {type_name(value)}")


def index(value: Any, key: Any) -> Any:
    if isinstance(value, Unknown):
        return value
    if isinstance(key, Unknown):
        return key
    if isinstance(value, list):
        if isinstance(key, str):
            try:
                key = int(key)
            except ValueError:
                raise EvalError(f"a list index must be a number, not {key!r}") from None
        if not isinstance(key, (int, float)) or isinstance(key, bool) or key != int(key):
            raise EvalError(f"a list index must be a whole number, not {key!r}")
        if not 0 <= int(key) < len(value):
            raise EvalError(f"index {int(key)} is out of range for a list of {len(value)}")
        return value[int(key)]
    if isinstance(value, dict):
        text = to_string(key)
        if text not in value:
            raise EvalError(f"no key {text!r}")
        return value[text]
    raise EvalError(f"cannot index {type_name(value)}")


def _splat(value: Any, step: Any, rest: list[Any], scope: Scope) -> Any:
    inner = step.children[0]
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    own = [c for c in inner.children if c.type in ("get_attr", "index")]
    # A full splat ([*]) applies every later step to each element; an attribute splat (.*) only its own.
    per_item, after = (own + rest, []) if inner.type == "full_splat" else (own, rest)
    result = [postfix(item, per_item, scope) for item in items]
    return postfix(result, after, scope)


# -- literals, collections, templates ------------------------------------------------------------------------------


def _literal(node: Any, scope: Scope) -> Any:
    inner = node.children[0]
    kind = inner.type
    if kind == "numeric_lit":
        return number(inner.text.decode())
    if kind == "bool_lit":
        return inner.text == b"true"
    if kind == "null_lit":
        return None
    return _template(inner, scope)


def _collection(node: Any, scope: Scope) -> Any:
    inner = node.children[0]
    if inner.type == "tuple":
        return [_expression(item, scope) for item in _named(inner) if item.type == "expression"]
    result: dict[str, Any] = {}
    unknown = None
    for elem in (c for c in inner.children if c.type == "object_elem"):
        key_node, value_node = elem.child_by_field_name("key"), elem.child_by_field_name("val")
        key_parts = _named(key_node)
        if len(key_parts) == 1 and key_parts[0].type == "variable_expr":
            key: Any = key_parts[0].text.decode()  # a bare word is the key itself
        else:
            key = _expression(key_node, scope)
        if isinstance(key, Unknown):
            unknown = key
            continue
        result[to_string(key)] = _expression(value_node, scope)
    return unknown if unknown is not None else result


def _template(node: Any, scope: Scope) -> Any:
    """A quoted or heredoc template: literal text between interpolations (read from the source bytes, since the
    grammar's ``template_literal`` nodes drop some whitespace)."""
    if node.type == "template_expr":
        node = node.children[0]
    heredoc = node.type == "heredoc_template"
    parts = [p if isinstance(p, str) else _interpolation(p, scope) for p in _template_parts(node, heredoc)]
    if len(parts) == 1 and not isinstance(parts[0], str):
        return parts[0]  # "${x}" alone keeps x's type, as in Terraform
    pieces: list[str] = []
    for part in parts:
        if isinstance(part, Unknown):
            return part
        pieces.append(to_string(part))
    text = "".join(pieces)
    if heredoc and node.children[0].text == b"<<-":
        text = _dedent(text)
    return text


def _interpolation(node: Any, scope: Scope) -> Any:
    return _expression(next(c for c in node.children if c.type == "expression"), scope)


def _template_parts(node: Any, heredoc: bool) -> Iterator[Any]:
    """Literal strings and interpolation nodes, in order."""
    children = node.children
    data, base = node.text, node.start_byte
    if heredoc:
        opener = children[1]  # heredoc_identifier
        start = data.index(b"\n", opener.end_byte - base) + 1
        end = children[-1].start_byte - base  # the closing identifier's line start
        body_children = children[2:-1]
    else:
        start, end, body_children = 1, len(data) - 1, children[1:-1]
    cursor = start
    for child in body_children:
        if child.type not in ("template_interpolation", "template_directive"):
            continue
        if child.type == "template_directive":
            raise EvalError("template directives (%{...}) are not evaluated")
        if child.start_byte - base > cursor:
            yield _literal_text(data[cursor : child.start_byte - base], heredoc)
        yield child
        cursor = child.end_byte - base
    if end > cursor:
        yield _literal_text(data[cursor:end], heredoc)


def _literal_text(raw: bytes, heredoc: bool) -> str:
    text = raw.decode("utf-8")
    if heredoc:
        return text.replace("$${", "${").replace("%%{", "%{")
    return unescape(text)


def _dedent(text: str) -> str:
    lines = text.split("\n")
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in lines)


# -- operators, conditionals, for expressions, function calls ------------------------------------------------------


def _operation(node: Any, scope: Scope) -> Any:
    inner = node.children[0]
    if inner.type == "unary_operation":
        op = inner.children[0].text.decode()
        value = _sequence(_named(inner), scope)
        if isinstance(value, Unknown):
            return value
        if op == "!":
            return not _bool(value)
        return -_number(value)
    children = inner.children
    at = next(i for i, c in enumerate(children) if not c.is_named and i > 0)
    op = children[at].text.decode()
    left = _operand(children[:at], scope)
    # Terraform evaluates both sides, but a known deciding left side settles the answer.
    if not isinstance(left, Unknown) and ((op == "&&" and not _bool(left)) or (op == "||" and _bool(left))):
        return op == "||"
    right = _operand(children[at + 1 :], scope)
    for side in (left, right):
        if isinstance(side, Unknown):
            return side
    return _binary(op, left, right)


def _operand(nodes: list[Any], scope: Scope) -> Any:
    named = [n for n in nodes if n.is_named and n.type != "comment"]
    return _sequence(named, scope)


def _binary(op: str, left: Any, right: Any) -> Any:
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op in ("&&", "||"):
        return _bool(left) and _bool(right) if op == "&&" else _bool(left) or _bool(right)
    a, b = _number(left), _number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op in ("/", "%"):
        if b == 0:
            raise EvalError("division by zero")
        if op == "/":
            return a / b
        # Go's remainder (cty's Modulo): the sign of the dividend, -5 % 3 == -2 (Python's % gives 1).
        remainder = math.fmod(a, b)
        return int(remainder) if isinstance(a, int) and isinstance(b, int) else remainder
    comparisons = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
    if op in comparisons:
        return comparisons[op]
    raise EvalError(f"operator {op} is not evaluated")


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    return bool(left == right)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise EvalError(f"expected a bool, got {type_name(value)}")


def _number(value: Any) -> int | float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                pass
    raise EvalError(f"expected a number, got {type_name(value)}")


def _conditional(node: Any, scope: Scope) -> Any:
    cond, yes, no = (c for c in node.children if c.type == "expression")
    test = _expression(cond, scope)
    if isinstance(test, Unknown):
        return test
    return _expression(yes if _bool(test) else no, scope)


def _for(node: Any, scope: Scope) -> Any:
    inner = node.children[0]
    intro = next(c for c in inner.children if c.type == "for_intro")
    names = [c.text.decode() for c in intro.children if c.type == "identifier"]
    source = _expression(next(c for c in intro.children if c.type == "expression"), scope)
    if isinstance(source, Unknown):
        return source
    exprs = [c for c in inner.children if c.type == "expression"]
    cond = next((c for c in inner.children if c.type == "for_cond"), None)
    grouped = any(c.type == "ellipsis" or c.text == b"..." for c in inner.children)
    # A map is iterated in the order of its keys, as Terraform orders every map and object.
    pairs = sorted(source.items()) if isinstance(source, dict) else enumerate(source) if isinstance(
        source, list) else None
    if pairs is None:
        raise EvalError(f"cannot iterate over {type_name(source)}")
    is_object = inner.type == "for_object_expr"
    tuple_result: list[Any] = []
    object_result: dict[str, Any] = {}
    for key, value in pairs:
        bound = {names[0]: value} if len(names) == 1 else {names[0]: key, names[1]: value}
        inner_scope = scope.child(bound)
        if cond is not None:
            keep = _expression(_named(cond)[0], inner_scope)
            if isinstance(keep, Unknown):
                return keep
            if not _bool(keep):
                continue
        if not is_object:
            tuple_result.append(_expression(exprs[0], inner_scope))
            continue
        out_key = _expression(exprs[0], inner_scope)
        if isinstance(out_key, Unknown):
            return out_key
        out_value = _expression(exprs[1], inner_scope)
        if grouped:
            object_result.setdefault(to_string(out_key), []).append(out_value)
        else:
            object_result[to_string(out_key)] = out_value
    return object_result if is_object else tuple_result


def _call(node: Any, scope: Scope) -> Any:
    from rdsca.terraform import functions  # on use: a configuration of plain values calls none (start-up, issue 30)

    name = node.children[0].text.decode()
    arguments = next((c for c in node.children if c.type == "function_arguments"), None)
    arg_nodes = [c for c in arguments.children if c.type == "expression"] if arguments is not None else []
    expand = arguments is not None and any(c.type == "expand" or c.text == b"..." for c in arguments.children)
    if name in ("try", "can"):
        thunks: list[Callable[[], Any]] = [functools.partial(_expression, n, scope) for n in arg_nodes]
        return functions.try_or_can(name, thunks)
    args = [_expression(n, scope) for n in arg_nodes]
    if name in functions.FILE_FUNCTIONS:
        return functions.call_file(name, args, scope.path, functools.partial(_render_template, scope=scope))
    if expand and args:
        last = args.pop()
        if isinstance(last, Unknown):
            return last
        if not isinstance(last, list):
            raise EvalError(f"cannot expand {type_name(last)} as arguments")
        args.extend(last)
    return functions.call(name, args)


def _render_template(text: str, variables: dict[str, Any], scope: Scope) -> Any:
    """``templatefile``: the file's text as a template whose names are ``variables`` (and nothing else, as in
    Terraform), read through a heredoc so that interpolations and directives parse as in a ``.tf`` file."""
    from rdsca.terraform.hcl import parse_expression

    marker = "RDSCA_TEMPLATEFILE_END"
    body = text if text.endswith("\n") else text + "\n"
    node = parse_expression(f"<<{marker}\n{body}{marker}\n", "templatefile")
    value = evaluate(node, Scope(bound=dict(variables), path=scope.path))
    if isinstance(value, str) and not text.endswith("\n"):
        value = value[:-1]
    return value


_HANDLERS.update(
    {
        "literal_value": _literal,
        "collection_value": _collection,
        "template_expr": _template,
        "operation": _operation,
        "conditional": _conditional,
        "for_expr": _for,
        "function_call": _call,
        "expression": _expression,
    }
)
