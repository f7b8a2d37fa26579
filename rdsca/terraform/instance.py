"""One module instance (the root, or ``module.NAME[KEY]``) evaluated statically: its variables, locals, resource
instances, child modules and provider regions, with the origin of every literal that ``--fix`` may edit."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from rdsca.resources import TERRAFORM_CLUSTER_FIELDS, TERRAFORM_TYPES, ResourceType, Unknown
from rdsca.terraform import expr, jsonpos
from rdsca.terraform import types as tftypes
from rdsca.terraform.config import (
    META_ARGUMENTS,
    Deferred,
    ModuleSource,
    VariableValue,
    instance_key,
    is_local_source,
    raw_text,
)
from rdsca.terraform.model import Attribute, Block, ConfigError, Origin, Resource, Span
from rdsca.terraform.syntax import Literal


class ModuleLoader(Protocol):
    """What an instance asks of the loader that walks the configuration (``rdsca.terraform.loader.Loader``)."""

    root: Path

    def warn(self, message: str) -> None: ...

    def child_instances(self, parent: Instance, name: str) -> list[tuple[Any, Instance]] | None: ...

    @property
    def environ(self) -> Mapping[str, str]: ...

_CLUSTER_REFERENCE = re.compile(r"^([a-z0-9_]+)\.([A-Za-z0-9_-]+)(\[[^\]]+\])?\.(id|cluster_identifier)$")
_MAX_DEPTH = 40
#: The most instances one ``count`` or ``for_each`` may make (``count = 100000000`` must not exhaust memory).
MAX_INSTANCES = 100_000


class Instance:
    def __init__(
        self,
        loader: ModuleLoader,
        source: ModuleSource,
        address: str,
        manifest_key: str,
        inputs: dict[str, VariableValue],
        providers: dict[str, Any],
    ) -> None:
        self.loader, self.source, self.address, self.manifest_key = loader, source, address, manifest_key
        #: The module directories above this instance (a module cycle is one of them again).
        self.lineage: tuple[Path, ...] = ()
        values: dict[str, Any] = {}
        self.origins: dict[str, Origin] = {}
        for name, block in source.variables.items():
            given = inputs.get(name)
            if given is None:
                given = self._default(name, block)
            values[name], self.origins[name] = given.value, given.origin
        constraints = {
            name: tftypes.parse(block.attributes["type"].expr) if "type" in block.attributes else tftypes.ANY
            for name, block in source.variables.items()
        }
        self.variables = _Variables(values, constraints, address)
        self.providers = dict(providers)
        self._locals: dict[str, Any] = {}
        self._children: dict[str, list[tuple[Any, Instance]] | None] = {}
        self._depth = 0
        self.scope = expr.Scope(
            self.variables,
            self._local,
            self._resource,
            self._module_output,
            path={"module": str(source.directory), "root": str(loader.root), "cwd": str(Path.cwd())},
        )
        for block in source.providers:
            self._own_provider(block)

    # -- names ---------------------------------------------------------------------------------------------------

    def _default(self, name: str, block: Block) -> VariableValue:
        attribute = block.attributes.get("default")
        if attribute is None:
            where = "as an argument of the module block" if self.address else "by -var, a tfvars file or TF_VAR_" + name
            return VariableValue(
                # terraform plan stops on it ("No value for required variable"); rdsca reads the rest and calls a
                # CA that depends on it "cannot decide" (rds-ca-undecided), never known after apply.
                Unknown(reason=f"var.{name} has no default and is not set {where}", undecided=True),
                Origin(None, None),
            )
        return VariableValue(expr.evaluate(attribute.expr, expr.Scope()), self.origin(attribute))

    def _local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        attribute = self.source.locals.get(name)
        if attribute is None:
            return Unknown(reason=f"local.{name} is not declared", undecided=True)
        self._locals[name] = Unknown(reason=f"local.{name} refers to itself", undecided=True)
        value = expr.evaluate(attribute.expr, self.scope)
        self._locals[name] = value
        return value

    def _resource(self, type_name: str, name: str, steps: list[Any]) -> Any:
        if type_name.startswith("data."):
            return Unknown(reason=f"{type_name}.{name} is a data source, read by Terraform during plan")
        block = self.source.resources.get((type_name, name))
        if block is None:
            return Unknown(reason=f"{type_name}.{name} is not declared in this module", undecided=True)
        key = None
        if "count" in block.attributes or "for_each" in block.attributes:
            if not steps or steps[0].type != "index":
                return Unknown(reason=f"{type_name}.{name} has several instances, known during plan")
            key = expr.evaluate(_index_expression(steps[0]), self.scope)
            steps = steps[1:]
        attr = steps[0].children[-1].text.decode() if steps and steps[0].type == "get_attr" else None
        if attr is None:
            return Unknown(reason=f"{type_name}.{name} as a whole is known after apply")
        attribute = block.attributes.get(attr)
        if attribute is None or self._depth > _MAX_DEPTH:
            return Unknown(reason=f"{type_name}.{name}.{attr} is known after apply")
        scope = self._instance_scope(block, key)
        if isinstance(scope, Unknown):
            return scope
        self._depth += 1
        try:
            value = expr.evaluate(attribute.expr, scope)
        finally:
            self._depth -= 1
        return expr.postfix(value, steps[1:], scope)

    def _instance_scope(self, block: Block, key: Any) -> expr.Scope | Unknown:
        if isinstance(key, Unknown):
            return key
        for instance_key_value, count_index, each in self.expand(block):
            if key is None or instance_key_value == key or (count_index is not None and count_index == key):
                return self._scope_for(count_index, each)
        return Unknown(reason=f"no instance {key!r} of {block.labels[0]}.{block.labels[1]}", undecided=True)

    def _scope_for(self, count_index: Any, each: Any) -> expr.Scope:
        scope = expr.Scope(
            self.variables, self._local, self._resource, self._module_output, count_index, each, {}, self.scope.path
        )
        return scope

    def _module_output(self, name: str, steps: list[Any]) -> Any:
        if name not in self.source.module_calls:
            # Terraform refuses it ("Reference to undeclared module"), as a public example that lost its context.tf
            # does: whatever depends on it cannot be decided here.
            return Unknown(reason=f"module.{name} is not declared in this module", undecided=True)
        children = self.children(name)
        if children is None:
            return Unknown(reason=f"module.{name} is not read (not checked)")
        call = self.source.module_calls.get(name)
        if call is not None and ("count" in call.attributes or "for_each" in call.attributes):
            if not steps or steps[0].type != "index":
                return Unknown(reason=f"module.{name} has several instances")
            key = expr.evaluate(_index_expression(steps[0]), self.scope)
            steps = steps[1:]
            matches = [child for k, child in children if k == key]
        else:
            matches = [child for _k, child in children]
        if not matches or not steps or steps[0].type != "get_attr":
            return Unknown(reason=f"module.{name} output is not known statically")
        child = matches[0]
        output = steps[0].children[-1].text.decode()
        attribute = child.source.outputs.get(output)
        if attribute is None or self._depth > _MAX_DEPTH:
            return Unknown(reason=f"module.{name}.{output} is not declared", undecided=True)
        self._depth += 1
        try:
            value = expr.evaluate(attribute.expr, child.scope)
        finally:
            self._depth -= 1
        return expr.postfix(value, steps[1:], self.scope)

    # -- origins -------------------------------------------------------------------------------------------------

    def origin(self, attribute: Attribute) -> Origin:
        """Where the literal behind an attribute's value lives, or why it must be fixed by hand."""
        node = attribute.expr
        if isinstance(node, Literal) and isinstance(node.value, str):
            return Origin(attribute.value)
        by_hand = Origin(None, f"the value is computed by the expression at {attribute.span.where()}")
        if isinstance(node, jsonpos.JNode):
            if node.kind == "string" and "${" not in node.value:
                return Origin(attribute.value)
            return by_hand
        parts = [c for c in node.children if c.is_named and c.type != "comment"]
        if len(parts) == 1 and parts[0].type == "literal_value" and parts[0].children[0].type == "string_lit":
            return Origin(attribute.value)
        if len(parts) == 2 and parts[0].type == "variable_expr" and parts[1].type == "get_attr":
            root, name = parts[0].text.decode(), parts[1].children[-1].text.decode()
            if root == "var" and name in self.origins:
                origin = self.origins[name]
                return origin if origin.span or origin.by_hand else by_hand
            if root == "local" and name in self.source.locals:
                if self._depth > _MAX_DEPTH:  # a cycle of locals (local.a = local.b, local.b = local.a)
                    return by_hand
                self._depth += 1
                try:
                    return self.origin(self.source.locals[name])
                finally:
                    self._depth -= 1
        if len(parts) == 3 and parts[0].type == "variable_expr" and all(p.type == "get_attr" for p in parts[1:]):
            # another resource's attribute, as written in its block (one instance only)
            key = (parts[0].text.decode(), parts[1].children[-1].text.decode())
            block = self.source.resources.get(key)
            attr = parts[2].children[-1].text.decode()
            if block is not None and not {"count", "for_each"} & set(block.attributes) and attr in block.attributes:
                if self._depth > _MAX_DEPTH:
                    return by_hand
                self._depth += 1
                try:
                    return self.origin(block.attributes[attr])
                finally:
                    self._depth -= 1
        return by_hand

    # -- providers -----------------------------------------------------------------------------------------------

    def _own_provider(self, block: Block) -> None:
        alias = block.attributes.get("alias")
        key = block.labels[0] + (f".{expr.evaluate(alias.expr, self.scope)}" if alias else "")
        region = block.attributes.get("region")
        self.providers[key] = expr.evaluate(region.expr, self.scope) if region else None

    def region(self, block: Block, scope: expr.Scope, provider_name: str) -> Any:
        own = block.attributes.get("region")  # terraform-provider-aws 6 takes a region per resource
        if own is not None:
            return expr.evaluate(own.expr, scope)
        provider = block.attributes.get("provider")
        key = raw_text(provider) if provider else provider_name
        found = self.providers.get(key, self.providers.get(provider_name))
        if found is None:
            # No provider block sets one: the AWS (and awscc) provider takes AWS_REGION, then AWS_DEFAULT_REGION
            # (terraform-provider-aws docs, "Provider Configuration": environment variables).
            environ = self.loader.environ
            return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None
        return found

    # -- instances -----------------------------------------------------------------------------------------------

    def expand(self, block: Block) -> list[tuple[Any, Any, Any]]:
        """``(key, count.index, (each.key, each.value))`` per instance of a resource or module block."""
        count, for_each = block.attributes.get("count"), block.attributes.get("for_each")
        what = ".".join([block.type, *block.labels]) if block.type == "module" else ".".join(block.labels)
        if count is not None:
            value = expr.evaluate(count.expr, self.scope)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 and value == int(value):
                if value > MAX_INSTANCES:
                    raise ConfigError(
                        f"{count.span.where()}: count of {self.address}{what} is {int(value)}; rdsca checks at most "
                        f"{MAX_INSTANCES} instances of a block"
                    )
                return [(i, i, None) for i in range(int(value))]
            reason = value.reason if isinstance(value, Unknown) else f"count is {value!r}"
            self.loader.warn(
                f"{count.span.where()}: count of {self.address}{what} is not known statically ({reason}): "
                "checked once, with count.index unknown"
            )
            unknown = Unknown(reason=f"count.index of {what}: {reason}")
            return [(unknown, unknown, None)]
        if for_each is not None:
            value = expr.evaluate(for_each.expr, self.scope)
            if isinstance(value, dict):
                return [(k, None, (k, v)) for k, v in value.items()]
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return [(v, None, (v, v)) for v in dict.fromkeys(value)]
            reason = value.reason if isinstance(value, Unknown) else f"for_each is {expr.type_name(value)}"
            self.loader.warn(
                f"{for_each.span.where()}: for_each of {self.address}{what} is not known statically ({reason}): "
                "checked once, with each.key and each.value unknown"
            )
            unknown = Unknown(reason=f"each of {what}: {reason}")
            return [(unknown, None, (unknown, unknown))]
        return [(None, None, None)]

    def children(self, name: str) -> list[tuple[Any, Instance]] | None:
        if name not in self._children:
            self._children[name] = self.loader.child_instances(self, name)
        return self._children[name]

    def resources(self) -> Iterator[Resource]:
        for (type_name, name), block in self.source.resources.items():
            rtype = TERRAFORM_TYPES.get(type_name)
            if rtype is None:
                continue
            for key, count_index, each in self.expand(block):
                scope = self._scope_for(count_index, each)
                values = {
                    attr: evaluate_attribute(attribute, scope)
                    for attr, attribute in block.attributes.items()
                    if attr not in META_ARGUMENTS
                }
                origins = {}
                ca = block.attributes.get(rtype.fields.ca)
                if ca is not None:
                    origins[rtype.fields.ca] = self.origin(ca)
                provider_name = type_name.split("_", 1)[0]
                self._ignored_ca(block, rtype.fields.ca, f"{self.address}{type_name}.{name}")
                yield Resource(
                    address=f"{self.address}{type_name}.{name}{instance_key(key)}",
                    type=type_name,
                    name=name,
                    values=values,
                    block=block,
                    region=self.region(block, scope, provider_name),
                    cluster_engine_version=self._cluster_version(block, rtype, values, scope),
                    origins=origins,
                    editable=block.file.editable,
                )

    def _ignored_ca(self, block: Block, ca: str, address: str) -> None:
        """``lifecycle { ignore_changes = [ca_cert_identifier] }`` (or ``all``): for a database that exists, a plan
        keeps its deployed CA whatever the file says, so the CA judged here may not be the one it has (Terraform
        docs, "The lifecycle Meta-Argument"). Said, as ``rdsca check`` says it of Pulumi's ignoreChanges."""
        for lifecycle in (b for b in block.blocks if b.type == "lifecycle"):
            ignored = lifecycle.attributes.get("ignore_changes")
            text = raw_text(ignored) if ignored is not None else ""
            names = {part.strip().strip('"') for part in text.strip("[]").replace("\n", ",").split(",")}
            if ca in names or text.strip() == "all":
                self.loader.warn(
                    f"{ignored.span.where() if ignored else block.span.where()}: {address} ignores changes to {ca} "
                    "(lifecycle ignore_changes): for a database that exists, a plan keeps its deployed CA whatever "
                    "this file says; check the deployed CA with rdsca audit or a plan (rdsca check plan.json)"
                )

    def _referenced_cluster(self, text: str, cluster_type: str) -> Block | None:
        """The one cluster resource of this module an expression refers to, through any function or splat."""
        names = _cluster_names(text, cluster_type)
        if len(names) != 1:
            return None
        return self.source.resources.get((cluster_type, names.pop()))

    def _cluster_version(self, block: Block, rtype: ResourceType, values: dict[str, Any], scope: expr.Scope) -> Any:
        """The engine version of the cluster an instance belongs to (DocumentDB instances carry none): through a
        reference to the cluster resource, else the cluster in this module with that identifier."""
        attribute, cluster_type = rtype.fields.cluster, rtype.cluster_type
        if attribute is None or cluster_type is None or attribute not in block.attributes:
            return None
        identifier_name, version_name = TERRAFORM_CLUSTER_FIELDS.identifier, TERRAFORM_CLUSTER_FIELDS.engine_version
        match = _CLUSTER_REFERENCE.match(raw_text(block.attributes[attribute]))
        if match and match.group(1) == cluster_type:
            from rdsca.terraform.hcl import parse_expression

            text = f"{match.group(1)}.{match.group(2)}{match.group(3) or ''}.{version_name}"
            return expr.evaluate(parse_expression(text, "cluster reference"), scope)
        cluster = self._referenced_cluster(raw_text(block.attributes[attribute]), cluster_type)
        if cluster is not None and version_name is not None:
            # ``join("", aws_docdb_cluster.default[*].id)``, ``one(...)``, ``element(..., 0)``, ``...[0].id``: the
            # cloudposse pattern of a cluster made with ``count``. Its engine version rarely depends on the index.
            version = cluster.attributes.get(version_name)
            if version is None:
                return None
            scope = self._scope_for(0, None) if "count" in cluster.attributes else self.scope
            return evaluate_attribute(version, scope)
        identifier = values.get(attribute)
        if not isinstance(identifier, str) or identifier_name is None or version_name is None:
            return None
        for (type_name, _name), cluster in self.source.resources.items():
            named = cluster.attributes.get(identifier_name)
            if type_name != cluster_type or named is None or "count" in cluster.attributes:
                continue
            if expr.evaluate(named.expr, self.scope) == identifier:
                version = cluster.attributes.get(version_name)
                return expr.evaluate(version.expr, self.scope) if version else None
        return None


def _cluster_names(text: str, cluster_type: str) -> set[str]:
    return set(re.findall(rf"(?<![A-Za-z0-9_.]){re.escape(cluster_type)}\.([A-Za-z0-9_-]+)", text))


class _Variables(Mapping[str, Any]):
    """An instance's variables; a module input (``Deferred``) is evaluated when first read, once. Reading one while
    it is being computed is a cycle of values, which Terraform refuses ("Cycle: ..."): "cannot decide"."""

    def __init__(self, values: dict[str, Any], constraints: dict[str, tftypes.TfType], address: str) -> None:
        self._values, self._constraints, self._address = values, constraints, address
        self._busy: set[str] = set()
        self._read: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name in self._read:
            return self._read[name]
        value = self._values[name]
        if isinstance(value, Deferred):
            if name in self._busy:
                return Unknown(reason=f"{self._address}var.{name} depends on itself (a cycle through module outputs, "
                               "which Terraform refuses)", undecided=True)
            self._busy.add(name)
            try:
                value = value.compute()
            finally:
                self._busy.discard(name)
        # Terraform converts a variable to its declared type before anything reads it (optional attributes filled).
        value = tftypes.conform(value, self._constraints.get(name, tftypes.ANY))
        self._read[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _index_expression(step: Any) -> Any:
    inner = step.children[0]
    if inner.type == "legacy_index":
        from rdsca.terraform.hcl import parse_expression

        return parse_expression(inner.text.decode().lstrip("."), "index")
    return next(c for c in inner.children if c.type == "expression")


__all__ = ["Instance", "Span", "is_local_source"]


def evaluate_attribute(attribute: Any, scope: expr.Scope) -> Any:
    """An attribute's value; an expression too deep to evaluate is an error naming the file and line."""
    try:
        return expr.evaluate(attribute.expr, scope)
    except expr.TooDeep:
        raise ConfigError(f"{attribute.span.where()}: an expression nested too deeply for rdsca to evaluate") from None
