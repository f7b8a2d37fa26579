"""Variable type constraints, as far as they change a value: ``optional()`` object attributes and their defaults.

Terraform converts every variable's value to its declared type before anything reads it. For an object type, an
``optional(T)`` attribute the caller left out becomes ``null``, and ``optional(T, DEFAULT)`` becomes ``DEFAULT``
(also when the caller gave ``null``); attributes the type does not declare are dropped. Without this, a module such
as ``instances = map(object({ ca_cert_identifier = optional(string) }))`` read by
``try(coalesce(each.value.ca_cert_identifier, var.cluster_ca), null)`` gives ``null`` (the attribute is missing, so
``try`` falls back) where Terraform gives the cluster's CA: a retired CA read as "unset".

Sources: Terraform docs, "Type Constraints" (collection and structural types, "Optional Object Type Attributes").
Primitive conversions (``"5"`` to a number) are left alone: no CA depends on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rdsca.resources import Unknown
from rdsca.terraform import expr, hcl, jsonpos
from rdsca.terraform.model import ConfigError


@dataclass(frozen=True)
class Attr:
    type: TfType
    optional: bool = False
    #: The ``optional(T, DEFAULT)`` default, or None for none.
    default: Any = None


@dataclass(frozen=True)
class TfType:
    #: ``any``, ``string``, ``number``, ``bool``, ``list``, ``set``, ``map``, ``object`` or ``tuple``.
    kind: str
    element: TfType | None = None
    attributes: dict[str, Attr] = field(default_factory=dict)
    items: tuple[TfType, ...] = ()


ANY = TfType("any")
_PRIMITIVES = frozenset({"any", "string", "number", "bool"})
_COLLECTIONS = frozenset({"list", "set", "map"})


def parse(node: Any) -> TfType:
    """The type a ``type = ...`` expression (HCL syntax node, or a .tf.json string) declares; ``any`` for what is
    not understood, so that nothing is converted on a guess."""
    if isinstance(node, jsonpos.JNode):
        if not isinstance(node.value, str):
            return ANY
        try:
            node = hcl.parse_expression(node.value, "type")
        except ConfigError:
            return ANY
    return _parse(node)


def _parse(node: Any) -> TfType:
    parts = [c for c in node.children if c.is_named and c.type != "comment"] if node.type == "expression" else [node]
    if len(parts) != 1:
        return ANY
    node = parts[0]
    if node.type == "variable_expr":
        name = node.text.decode()
        return TfType(name) if name in _PRIMITIVES else ANY
    if node.type != "function_call":
        return ANY
    name = node.children[0].text.decode()
    args = _arguments(node)
    if name in _COLLECTIONS and len(args) == 1:
        return TfType(name, element=_parse(args[0]))
    if name == "tuple" and len(args) == 1:
        items = _collection(args[0], "tuple")
        return TfType("tuple", items=tuple(_parse(i) for i in items)) if items is not None else ANY
    if name == "object" and len(args) == 1:
        elements = _collection(args[0], "object")
        if elements is None:
            return ANY
        attributes = {}
        for key_node, value_node in elements:
            key = _key(key_node)
            if key is None:
                return ANY
            attributes[key] = _attribute(value_node)
        return TfType("object", attributes=attributes)
    return ANY


def _attribute(node: Any) -> Attr:
    inner = _only(node)
    if inner is not None and inner.type == "function_call" and inner.children[0].text.decode() == "optional":
        args = _arguments(inner)
        if len(args) == 1:
            return Attr(_parse(args[0]), optional=True)
        if len(args) == 2:
            return Attr(_parse(args[0]), optional=True, default=expr.evaluate(args[1], expr.Scope()))
    return Attr(_parse(node))


def _only(node: Any) -> Any:
    parts = [c for c in node.children if c.is_named and c.type != "comment"] if node.type == "expression" else [node]
    return parts[0] if len(parts) == 1 else None


def _arguments(call: Any) -> list[Any]:
    for child in call.children:
        if child.type == "function_arguments":
            return [c for c in child.children if c.type == "expression"]
    return []


def _collection(node: Any, kind: str) -> Any:
    inner = _only(node)
    if inner is None or inner.type != "collection_value":
        return None
    body = inner.children[0]
    if body.type != kind:
        return None
    if kind == "tuple":
        return [c for c in body.children if c.type == "expression"]
    pairs = []
    for elem in body.children:
        if elem.type == "object_elem":
            exprs = [c for c in elem.children if c.type == "expression"]
            if len(exprs) != 2:
                return None
            pairs.append((exprs[0], exprs[1]))
    return pairs


def _key(node: Any) -> str | None:
    inner = _only(node)
    if inner is None:
        return None
    if inner.type == "variable_expr":
        return str(inner.text.decode())
    value = expr.evaluate(node, expr.Scope())
    return value if isinstance(value, str) else None


def conform(value: Any, t: TfType) -> Any:
    """``value`` as Terraform's conversion to ``t`` shapes it: optional attributes filled, undeclared ones dropped."""
    if value is None or isinstance(value, Unknown) or t.kind in _PRIMITIVES:
        return value
    if t.kind == "object":
        if not isinstance(value, dict):
            return value
        result = {}
        for name, attr in t.attributes.items():
            given = value.get(name)
            if given is None and attr.optional:
                # A missing attribute, or null, takes the default (Terraform >= 1.3).
                result[name] = conform(attr.default, attr.type) if attr.default is not None else None
            elif name in value:
                result[name] = conform(given, attr.type)
            else:
                return value  # a required attribute is missing: Terraform refuses the value; leave it be
        return result
    if t.kind == "map" and isinstance(value, dict):
        assert t.element is not None
        return {k: conform(v, t.element) for k, v in value.items()}
    if t.kind in ("list", "set") and isinstance(value, list):
        assert t.element is not None
        return [conform(v, t.element) for v in value]
    if t.kind == "tuple" and isinstance(value, list) and len(value) == len(t.items):
        return [conform(v, item) for v, item in zip(value, t.items, strict=True)]
    return value
