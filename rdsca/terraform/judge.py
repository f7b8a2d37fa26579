"""The policy pack's judgements over Terraform resources, in process: each resource becomes the properties the pack's
policies read, and every policy module judges it with the same config keys, defaults and levels as the pack.

Thin on purpose: the judgements are the pack's own functions (``rdsca.policies.*.judge``); this module only maps
Terraform attribute names to the properties they read and collects the messages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdsca import catalog
from rdsca.resources import ACCOUNT_DEFAULT_PROPERTY, ACCOUNT_DEFAULT_TOKEN, DATABASE_TYPES, RDS_CLUSTER
from rdsca.terraform.model import ConfigError, Resource, Unknown
from rdsca.terraform.types import ACCOUNT_DEFAULT, TYPES, TerraformType

UNKNOWN_TEXT = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi_policy's UNKNOWN_STRING_VALUE


@dataclass
class Database:
    """One row of the report: a judged database (or account default) and its CA verdict."""

    resource: Resource
    kind: str
    engine: str | None
    engine_version: str | None
    region: str | None
    ca: Any
    apply_immediately: Any
    restart: str
    verdict: catalog.Verdict | None
    #: What the pack's policies judged (their ``Subject``), for ``--fix``.
    subject: Any = None


@dataclass
class Outcome:
    databases: list[Database] = field(default_factory=list)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(d["level"] in ("mandatory", "remediate") for d in self.diagnostics)


@dataclass(frozen=True)
class _Args:
    """What a policy's ``subject()`` reads from resource or stack-resource arguments."""

    resource_type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""
    provider: Any = None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _wire(value: Any) -> Any:
    return UNKNOWN_TEXT if isinstance(value, Unknown) else value


def properties(resource: Resource, kind: TerraformType, values: Mapping[str, Any]) -> dict[str, Any]:
    """The resource's values under the property names the pack's policies read (a Terraform null is unset)."""
    props: dict[str, Any] = {}
    if kind is ACCOUNT_DEFAULT:
        if values.get(kind.ca_attribute) is not None:
            props[ACCOUNT_DEFAULT_PROPERTY] = _wire(values[kind.ca_attribute])
        return props
    db_type = DATABASE_TYPES[kind.pulumi_token]
    pairs = [(kind.ca_attribute, db_type.ca_property), ("engine", db_type.engine_property)]
    pairs += [("engine_version", db_type.version_property), (kind.identifier_attribute, db_type.identifier_property)]
    if kind.apply_attribute:
        pairs.append((kind.apply_attribute, db_type.apply_immediately))
    for attribute, prop in pairs:
        if prop and values.get(attribute) is not None:
            props[prop] = _wire(values[attribute])
    version = values.get("engine_version")
    if version is None and resource.cluster_engine_version is not None:
        props["engineVersion"] = _wire(resource.cluster_engine_version)
    if resource.region is not None:
        props["region"] = _wire(resource.region)
    return props


def settings(config_file: Path | None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per policy: its level and config, from the schema defaults and ``--policy-pack-config`` as the CLI merges
    them (an ``all`` level first, then each policy's), validated against each policy's schema."""
    import jsonschema

    from rdsca.policies import MODULES

    given: dict[str, Any] = {}
    if config_file is not None:
        from rdsca.runner.analyzer import PolicyError, parse_config_file

        try:
            given = parse_config_file(config_file)
        except PolicyError as exc:
            raise ConfigError(str(exc)) from None
    result: dict[str, tuple[str, dict[str, Any]]] = {}
    errors: list[str] = []
    for module in MODULES:
        policy = module.policy
        schema = getattr(module, "CONFIG", {}) or {}
        level = str(policy.enforcement_level.value)
        config = {k: v["default"] for k, v in schema.items() if "default" in v}
        for layer in (given.get("all"), given.get(policy.name)):
            if layer is not None and layer.level:
                level = layer.level
        own = given.get(policy.name)
        if own is not None and own.properties:
            config.update(own.properties)
        validator = jsonschema.Draft7Validator({"type": "object", "properties": schema})
        for error in sorted(validator.iter_errors(config), key=str):
            where = ".".join(str(p) for p in error.absolute_path)
            errors.append(f"{policy.name}: {where + ': ' if where else ''}{error.message}")
        result[policy.name] = (level, config)
    if errors:
        raise ConfigError(f"{config_file}: invalid policy config: " + "; ".join(errors))
    return result


def _policy_info(module: Any, level: str) -> dict[str, Any]:
    policy = module.policy
    severity = getattr(policy, "severity", None)
    return {
        "name": policy.name,
        "description": policy.description,
        "level": level,
        "severity": severity.value if severity is not None else None,
        "remediation_steps": getattr(policy, "remediation_steps", None),
        "url": getattr(policy, "url", None),
    }


def judge(resources: list[Resource], config: Mapping[str, tuple[str, dict[str, Any]]]) -> Outcome:
    """Every policy over every resource (and the stack policy over the planned state), plus the report rows."""
    from pulumi_policy.proxy import UnknownValueError

    from rdsca.policies import MODULES, rds_ca_stack_state
    from rdsca.policies._common import subject

    outcome = Outcome(policies=[_policy_info(m, config[m.policy.name][0]) for m in MODULES])
    stack: list[_Args] = []
    for resource in resources:
        kind = TYPES[resource.type]
        args = _Args(kind.pulumi_token, resource.address, properties(resource, kind, resource.values))
        sub = subject(args)
        if sub is None:
            continue  # an Aurora cluster: its CA lives on its instances
        version = resource.cluster_engine_version
        if sub.engine_version is None and isinstance(version, str) and version:
            sub = dataclasses.replace(sub, engine_version=version)  # DocumentDB: the version lives on the cluster
        outcome.databases.append(_row(resource, kind, sub))
        for module in MODULES:
            level, cfg = config[module.policy.name]
            if module is rds_ca_stack_state or level == "disabled":
                continue
            try:
                message = module.judge(sub, cfg)
            except UnknownValueError:
                continue  # needs a value known only during plan or apply: an unknown never blocks
            if message:
                outcome.diagnostics.append(_diagnostic(module.policy.name, level, resource, message, config))
        if resource.state is not None:
            stack.append(
                _Args(kind.pulumi_token, resource.address, properties(resource, kind, resource.state), resource.address)
            )
    level, _cfg = config[rds_ca_stack_state.policy.name]
    if stack and level != "disabled":
        by_address = {r.address: r for r in resources}

        def report(message: str, urn: str | None = None) -> None:
            resource = by_address[urn or ""]
            outcome.diagnostics.append(_diagnostic(rds_ca_stack_state.policy.name, level, resource, message, config))

        rds_ca_stack_state.validate(_StackArgs(stack), report)  # type: ignore[arg-type]
    return outcome


@dataclass(frozen=True)
class _StackArgs:
    resources: list[_Args]


def _diagnostic(policy: str, level: str, resource: Resource, message: str, config: Any) -> dict[str, Any]:
    from rdsca.policies import MODULES

    module = next(m for m in MODULES if m.policy.name == policy)
    severity = getattr(module.policy, "severity", None)
    return {
        "policy": policy,
        "level": level,
        "address": resource.address,
        "message": message,
        "severity": severity.value if severity is not None else None,
        "pack": "rdsca",
    }


def _row(resource: Resource, kind: TerraformType, sub: Any) -> Database:
    from rdsca.policies._common import MISSING, NULL
    from rdsca.policies._common import Unknown as PolicyUnknown

    ca = sub.ca
    verdict = None
    if not isinstance(ca, PolicyUnknown):
        verdict = sub.verdict()
        ca = None if ca is MISSING or ca is NULL else ca
    else:
        ca = resource.values.get(kind.ca_attribute)
    apply = sub.apply_immediately
    apply = (
        None
        if apply is MISSING
        else (resource.values.get(kind.apply_attribute or "") if isinstance(apply, PolicyUnknown) else apply)
    )
    name = "account default" if kind is ACCOUNT_DEFAULT else sub.db_type.kind if sub.db_type else kind.name
    restart = catalog.restart_on_rotation(sub.engine, sub.engine_version).value if sub.db_type else None
    return Database(resource, name, sub.engine, sub.engine_version, sub.region, ca, apply, restart or "", verdict, sub)


__all__ = ["ACCOUNT_DEFAULT_TOKEN", "RDS_CLUSTER", "Database", "Outcome", "judge", "settings"]
