"""What every rdsca policy shares: reading a database's CA from policy arguments, config defaults, fix messages.

Policies see the engine's wire names (``caCertIdentifier``, ``caCertificateIdentifier``, ``applyImmediately``), so
every name comes from ``rdsca.resources`` and every judgement from ``rdsca.catalog.evaluate``.

Unknown values: in ``Analyze`` the SDK's proxy raises ``UnknownValueError`` on access to a value computed during
preview; in ``Remediate`` the same value arrives as a raw sentinel string (pulumi_policy does not proxy unknowns
there). ``read`` turns both into an ``Unknown`` so that a policy can still judge what it knows, and re-raise the
error only when the value it needs is the unknown one (the SDK then reports an advisory "can't run policy ...
during preview" note: an unknown never blocks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)
from pulumi_policy.secret import Secret

from rdsca import catalog, clock
from rdsca.resources import (
    ACCOUNT_DEFAULT_ARGUMENT,
    ACCOUNT_DEFAULT_CLASS,
    ACCOUNT_DEFAULT_CLI,
    ACCOUNT_DEFAULT_PROPERTY,
    ACCOUNT_DEFAULT_TOKEN,
    DATABASE_TYPES,
    DatabaseType,
)

_UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)

#: Every resource type a resource policy looks at; others pass quietly.
COVERED_TYPES: frozenset[str] = frozenset({*DATABASE_TYPES, ACCOUNT_DEFAULT_TOKEN})


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


class _Null:
    """A CA property that is present with the value null (the SDK drops None inputs; other tools may not)."""

    def __repr__(self) -> str:
        return "null"


MISSING: Any = _Missing()
NULL: Any = _Null()


@dataclass(frozen=True)
class Unknown:
    """A value computed during preview; ``error`` is what the SDK raises for it."""

    error: UnknownValueError


def read(props: Mapping[str, Any], key: str) -> Any:
    """One property as a plain value, ``MISSING``, ``NULL`` or ``Unknown``; never raises."""
    try:
        value = props[key]
    except KeyError:
        return MISSING
    except UnknownValueError as exc:
        return Unknown(exc)
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, str) and value in _UNKNOWN_SENTINELS:
        return Unknown(UnknownValueError(value, [key]))
    if value is None:
        return NULL
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Subject:
    """A covered resource as a policy sees it: the CA value and what it is judged against."""

    resource_type: str
    name: str
    #: None for the account default (``aws.rds.Certificate``).
    db_type: DatabaseType | None
    ca: Any
    engine: str | None
    engine_version: str | None
    region: str | None
    apply_immediately: Any
    #: Unknown values among the engine, version and region: a judgement that needs them is provisional.
    unknowns: tuple[Unknown, ...] = ()
    #: The database's identifier in AWS when the program names it.
    identifier: str | None = None

    @property
    def ca_property(self) -> str:
        return self.db_type.ca_property if self.db_type else ACCOUNT_DEFAULT_PROPERTY

    @property
    def ca_argument(self) -> str:
        return self.db_type.ca_argument if self.db_type else ACCOUNT_DEFAULT_ARGUMENT

    @property
    def python_class(self) -> str:
        return self.db_type.python_class if self.db_type else ACCOUNT_DEFAULT_CLASS

    @property
    def ca_is_set(self) -> bool:
        return self.ca is not MISSING and not isinstance(self.ca, Unknown)

    def verdict(self, today: dt.date | None = None) -> catalog.Verdict:
        """``catalog.evaluate`` for this CA (null counts as malformed, not unset). Needs a known CA."""
        assert not isinstance(self.ca, Unknown)
        ca = None if self.ca is MISSING else self.ca
        return catalog.evaluate(ca, self.engine, self.engine_version, self.region, today or clock.today())

    def fix(self, ca_id: str | None) -> str:
        """How to fix: the Pulumi argument and, for a database outside Pulumi, the AWS CLI command."""
        if ca_id is None:
            return "No current CA is known to work for this engine: choose one that its engine version supports."
        cli = (
            ACCOUNT_DEFAULT_CLI.format(ca=ca_id)
            if self.db_type is None
            else self.db_type.cli_command(ca_id, self.identifier)
        )
        apply = ", apply_immediately=True" if self.db_type and self.db_type.apply_immediately else ""
        return f'Set {self.ca_argument}="{ca_id}"{apply} on {self.python_class} {self.name} (outside Pulumi: {cli}).'


def _region(props: Mapping[str, Any], db_type: DatabaseType | None, args: Any) -> tuple[str | None, list[Unknown]]:
    unknowns: list[Unknown] = []
    candidates: list[Any] = []
    region_property = db_type.region_property if db_type else "region"
    if region_property:
        candidates.append(read(props, region_property))
    provider = getattr(args, "provider", None)
    if provider is not None:
        candidates.append(read(provider.props, "region"))
    for value in candidates:
        if isinstance(value, Unknown):
            unknowns.append(value)
        elif _text(value):
            return value, unknowns
    # A default provider takes its region from the stack's aws:region (PULUMI_CONFIG, set by the engine).
    try:
        configured = pulumi.runtime.get_config("aws:region")
    except Exception:  # config may be unreadable outside the engine: the region is then unknown
        configured = None
    return _text(configured), unknowns


def subject(args: Any, props: Mapping[str, Any] | None = None) -> Subject | None:
    """The subject of a covered resource (``args``: resource or stack-resource arguments), or None."""
    props = args.props if props is None else props
    resource_type = args.resource_type
    if resource_type == ACCOUNT_DEFAULT_TOKEN:
        region, _ = _region(props, None, args)
        return Subject(
            resource_type, args.name, None, read(props, ACCOUNT_DEFAULT_PROPERTY), None, None, region, MISSING, ()
        )
    db_type = DATABASE_TYPES.get(resource_type)
    if db_type is None:
        return None
    unknowns: list[Unknown] = []
    engine: str | None = db_type.default_engine
    if db_type.engine_property:
        value = read(props, db_type.engine_property)
        if isinstance(value, Unknown):
            unknowns.append(value)
            engine = None
        elif _text(value):
            engine = value
    if db_type.skip_engine_prefix and (engine is None or engine.startswith(db_type.skip_engine_prefix)):
        ca = read(props, db_type.ca_property)
        if ca is MISSING:
            return None  # an Aurora cluster (or one whose engine is unknown) with no CA: nothing to judge
    version = None
    if db_type.version_property:
        value = read(props, db_type.version_property)
        if isinstance(value, Unknown):
            unknowns.append(value)
        else:
            version = _text(value)
    region, region_unknowns = _region(props, db_type, args)
    unknowns += region_unknowns
    apply = read(props, db_type.apply_immediately) if db_type.apply_immediately else MISSING
    return Subject(
        resource_type,
        args.name,
        db_type,
        read(props, db_type.ca_property),
        engine,
        version,
        region,
        apply,
        tuple(unknowns),
        _text(read(props, db_type.identifier_property)),
    )


# -- configuration -------------------------------------------------------------------------------------------------

TARGET_SCHEMA: dict[str, dict[str, Any]] = {
    "targetCa": {
        "type": "string",
        "enum": list(catalog.CURRENT_CAS),
        "default": catalog.DEFAULT_TARGET,
        "description": "The CA a remediation writes.",
    },
    "fallbackCa": {
        "type": ["string", "null"],
        "enum": [*catalog.CURRENT_CAS, None],
        "default": None,
        "description": "The CA a remediation writes where the engine refuses targetCa (null: leave it to the user).",
    },
    "applyImmediately": {
        "type": "boolean",
        "default": True,
        "description": "What a remediation sets applyImmediately to (false: the change waits for the "
        "maintenance window).",
    },
}


def schema(properties: Mapping[str, Mapping[str, Any]]) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in properties.items()})


def settings(args: Any, properties: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The policy's config: the schema defaults, overlaid with what the engine sent (it may send nothing)."""
    result = {key: spec.get("default") for key, spec in properties.items()}
    config = args.get_config() or {}
    result.update({k: v for k, v in config.items() if k in properties})
    for key, spec in properties.items():
        # Config arrives as a protobuf Struct, where every number is a float.
        value = result.get(key)
        if spec.get("type") == "integer" and isinstance(value, float) and value.is_integer():
            result[key] = int(value)
    return result


# -- remediation ---------------------------------------------------------------------------------------------------


def choose_ca(
    sub: Subject,
    config: Mapping[str, Any],
    allowed: Callable[[str], bool] = lambda _ca: True,
    also: tuple[str, ...] = (),
) -> str | None:
    """The configured target, or the fallback where the engine refuses the target (then ``also``, in order);
    None if none of them is current and accepted by the engine."""
    for ca_id in (config.get("targetCa"), config.get("fallbackCa"), *also):
        if not isinstance(ca_id, str) or not allowed(ca_id):
            continue
        verdict = catalog.evaluate(ca_id, sub.engine, sub.engine_version, sub.region, clock.today())
        if verdict.status is catalog.Status.OK:
            return ca_id
    return None


def rewrite(
    args: ResourceValidationArgs, sub: Subject, ca_id: str, apply_immediately: bool | None
) -> MutableMapping[str, Any]:
    """Set the CA (and ``applyImmediately`` unless None) on ``args.props`` and return it. Mutating ``args.props``
    keeps secret markers, as the SDK documents; a copy would drop them."""
    props: Any = args.props
    props[sub.ca_property] = ca_id
    if sub.db_type is not None and sub.db_type.apply_immediately and apply_immediately is not None:
        props[sub.db_type.apply_immediately] = apply_immediately
    return props


# -- building policies ---------------------------------------------------------------------------------------------

#: ``judge(subject, config) -> message or None``; a judge may raise ``UnknownValueError`` when it needs a value
#: that preview cannot know.
Judge = Callable[[Subject, Mapping[str, Any]], "str | None"]


def remediation_steps(what: str) -> str:
    lines = [
        what,
        "In Pulumi: set the CA argument and apply it now, or wrap the databases in rdsca.CertificateRotation / call "
        "rdsca.rotate_all(), which also knows which engines restart and which refuse a CA:",
    ]
    for db_type in DATABASE_TYPES.values():
        arguments = f'{db_type.ca_argument}="{catalog.DEFAULT_TARGET}", apply_immediately=True'
        lines.append(f"  {db_type.python_class}(..., {arguments})")
    lines.append("Outside Pulumi (AWS CLI):")
    for cli in dict.fromkeys(t.cli_command(catalog.DEFAULT_TARGET) for t in DATABASE_TYPES.values()):
        lines.append(f"  {cli}")
    lines.append(f"Account default for new launches: {ACCOUNT_DEFAULT_CLI.format(ca=catalog.DEFAULT_TARGET)}")
    return "\n".join(lines)


def resource_policy(
    *,
    name: str,
    description: str,
    judge: Judge,
    enforcement_level: EnforcementLevel,
    severity: Severity,
    config: Mapping[str, Mapping[str, Any]],
    steps: str,
    url: str = catalog.ROTATION_GUIDE,
    fix: Callable[[Subject, Mapping[str, Any]], str | None] | None = None,
    apply_immediately: bool | None = None,
    types: frozenset[str] = COVERED_TYPES,
) -> ResourceValidationPolicy:
    """One resource policy: ``validate`` reports ``judge``'s message; ``fix`` (if any) gives the CA a remediation
    writes for a resource that ``judge`` flags, with ``applyImmediately`` from the config (or
    ``apply_immediately`` when the policy has no such setting)."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        sub = subject(args)
        if sub is None:
            return
        message = judge(sub, settings(args, config))
        if message:
            report_violation(message, None)

    def remediate(args: ResourceValidationArgs) -> Any:
        if args.resource_type not in types:
            return None
        sub = subject(args)
        if sub is None:
            return None
        cfg = settings(args, config)
        assert fix is not None
        if not judge(sub, cfg):
            return None
        ca_id = fix(sub, cfg)
        if ca_id is None:
            return None  # nothing safe to write: the violation stays and blocks (remediate counts as mandatory)
        apply = cfg["applyImmediately"] if isinstance(cfg.get("applyImmediately"), bool) else apply_immediately
        return rewrite(args, sub, ca_id, apply)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        remediate=remediate if fix is not None else None,
        enforcement_level=enforcement_level,
        severity=severity,
        config_schema=schema(config),
        remediation_steps=steps,
        url=url,
    )


def need_ca(sub: Subject) -> Any:
    """The CA value, raising the SDK's ``UnknownValueError`` when preview cannot know it."""
    if isinstance(sub.ca, Unknown):
        raise sub.ca.error
    return sub.ca
