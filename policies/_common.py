"""The CrossGuard wrapping of rdsca's rules: read policy arguments into a database view, report, remediate.

Policies see the engine's wire names (``caCertIdentifier``, ``caCertificateIdentifier``, ``applyImmediately``);
``rdsca.resources.database_view`` reads them and ``rdsca.rules`` judges, so this module only translates.

Unknown values: in ``Analyze`` the SDK's proxy raises ``UnknownValueError`` on access to a value computed during
preview; in ``Remediate`` the same value arrives as a raw sentinel string (pulumi_policy does not proxy unknowns
there). ``read`` turns both into a ``resources.Unknown`` carrying the SDK's error, and a rule that needs that value
re-raises it (the SDK then reports an advisory "can't run policy ... during preview" note: an unknown never blocks).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
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

from rdsca import catalog
from rdsca.resources import (
    ACCOUNT_DEFAULT,
    MISSING,
    NULL,
    PULUMI_DATABASES,
    PULUMI_TYPES,
    DatabaseView,
    Unknown,
    database_view,
    known_text,
)
from rdsca.rules import Rule, UnknownValue, apply_decision_for, with_defaults

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
COVERED_TYPES: frozenset[str] = frozenset(PULUMI_TYPES)
_LEVELS = {level.value: level for level in EnforcementLevel}
_SEVERITIES = {severity.value: severity for severity in Severity}


def read(props: Mapping[str, Any], key: str) -> Any:
    """One property as a plain value, ``MISSING``, ``NULL`` or ``Unknown`` (carrying the SDK's error); never raises."""
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


def _fallback_region(args: Any) -> str | None:
    """The region of a resource that names none: its provider's, else the stack's ``aws:region``."""
    provider = getattr(args, "provider", None)
    if provider is not None:
        region = known_text(read(provider.props, "region"))
        if region:
            return region
    # A default provider takes its region from the stack's aws:region (PULUMI_CONFIG, set by the engine).
    try:
        configured = pulumi.runtime.get_config("aws:region")
    except Exception:  # config may be unreadable outside the engine: the region is then unknown
        configured = None
    return known_text(configured)


def view(args: Any, props: Mapping[str, Any] | None = None, engine_version: str | None = None) -> DatabaseView | None:
    """The database view of a covered resource (``args``: resource or stack-resource arguments), or None."""
    if args.resource_type not in COVERED_TYPES:
        return None
    props = args.props if props is None else props
    region = _fallback_region(args)
    return database_view(args.resource_type, props, args.name, region=region, engine_version=engine_version, read=read)


def cluster_versions(resources: Sequence[Any]) -> dict[str, str]:
    """URN of each DocumentDB instance, and of each Aurora instance that names no engine version of its own -> its
    cluster's engine version, where the stack shows both: through the resource behind ``clusterIdentifier``
    (property dependencies), else a cluster of that type with that literal identifier. As the runner's judge and the
    Terraform reader follow an instance to its cluster."""
    versions: dict[str, str] = {}
    for resource in resources:
        rtype = PULUMI_DATABASES.get(resource.resource_type)
        if rtype is None or rtype.cluster_type is None:
            continue
        if rtype.fields.engine_version and known_text(read(resource.props, rtype.fields.engine_version)):
            continue  # an Aurora instance's own version: the resource rules judge it
        clusters = [r for r in resources if r.resource_type == rtype.cluster_type]
        behind = getattr(resource, "property_dependencies", {}).get("clusterIdentifier") or []
        cluster = next((d for d in behind if d.resource_type == rtype.cluster_type), None)
        if cluster is None and (identifier := known_text(read(resource.props, "clusterIdentifier"))):
            cluster = next((c for c in clusters if known_text(read(c.props, "clusterIdentifier")) == identifier), None)
        version = known_text(read(cluster.props, "engineVersion")) if cluster is not None else None
        if version:
            versions[resource.urn] = version
    return versions


def _raise_unknown(exc: UnknownValue) -> None:
    payload = exc.unknown.payload
    if isinstance(payload, UnknownValueError):
        raise payload from None
    raise UnknownValueError(UNKNOWN_STRING_VALUE, []) from None


def _judge(rule: Rule, subject: DatabaseView, config: Mapping[str, Any]) -> str | None:
    try:
        return rule.judge(subject, config)
    except UnknownValue as exc:
        _raise_unknown(exc)
        return None


def rewrite(args: ResourceValidationArgs, subject: DatabaseView, ca_id: str, apply: bool | None) -> Any:
    """Set the CA (and ``applyImmediately`` unless None) on ``args.props`` and return it. Mutating ``args.props``
    keeps secret markers, as the SDK documents; a copy would drop them."""
    props: MutableMapping[str, Any] = args.props  # type: ignore[assignment]
    props[subject.ca_property] = ca_id
    field = subject.type.fields.apply_immediately
    if subject.type.database and field and apply is not None:
        props[field] = apply
    return props


def remediation_steps(what: str) -> str:
    """A policy's remediation steps: ``what``, then the Pulumi arguments per type and the AWS CLI commands."""
    lines = [
        what,
        "In Pulumi: set the CA argument and apply it now, or wrap the databases in rdsca.CertificateRotation / call "
        "rdsca.rotate_all(), which also knows which engines restart and which refuse a CA:",
    ]
    for rtype in PULUMI_DATABASES.values():
        lines.append(f'  {rtype.display}(..., {rtype.ca_argument}="{catalog.DEFAULT_TARGET}", apply_immediately=True)')
    lines.append("Outside Pulumi (AWS CLI):")
    commands = dict.fromkeys(t.cli_command(catalog.DEFAULT_TARGET) for t in PULUMI_DATABASES.values())
    lines += [f"  {cli}" for cli in commands]
    lines.append(f"Account default for new launches: {ACCOUNT_DEFAULT.cli_command(catalog.DEFAULT_TARGET)}")
    return "\n".join(lines)


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    """The CrossGuard policy for a resource rule: ``validate`` reports the rule's message; ``remediate`` (when the
    rule has a fix) writes the CA it gives, with ``applyImmediately`` from the config (or the rule's own)."""

    def subject_and_config(args: ResourceValidationArgs) -> tuple[DatabaseView | None, dict[str, Any]]:
        subject = view(args)
        if subject is None or not rule.covers(subject):
            return None, {}
        return subject, with_defaults(args.get_config(), rule.config)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        subject, config = subject_and_config(args)
        message = _judge(rule, subject, config) if subject else None
        if message:
            report_violation(message, None)

    def remediate(args: ResourceValidationArgs) -> Any:
        subject, config = subject_and_config(args)
        if subject is None or rule.fix is None or not _judge(rule, subject, config):
            return None
        ca_id = rule.fix(subject, config)
        if ca_id is None:
            return None  # nothing safe to write: the violation stays and blocks (remediate counts as mandatory)
        configured = config.get("applyImmediately")
        if not isinstance(configured, bool):
            configured = rule.apply_immediately  # rds-ca-apply-immediately's whole point; None for the others
        if configured is None and subject.apply_immediately is not MISSING:
            return rewrite(args, subject, ca_id, None)  # the program's own apply_immediately is kept, as --fix does
        # The one apply-mode rule of AWS's rotation guide, as the component and Terraform --fix apply it.
        decision = apply_decision_for(subject, configured, config.get("restart") or "auto")
        return rewrite(args, subject, ca_id, decision.immediately)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        remediate=remediate if rule.fix is not None else None,
        enforcement_level=_LEVELS[rule.level],
        severity=_SEVERITIES[rule.severity],
        config_schema=PolicyConfigSchema(properties={k: dict(v) for k, v in rule.config.items()}),
        remediation_steps=remediation_steps(rule.steps),
        url=rule.url,
    )


def stack_policy(rule: Rule) -> StackValidationPolicy:
    """The CrossGuard policy for a stack rule: the rule judges each covered resource's outputs."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        versions = cluster_versions(args.resources)
        for resource in args.resources:
            subject = view(resource, engine_version=versions.get(resource.urn))
            if subject is None or not rule.covers(subject):
                continue
            message = rule.judge(subject, with_defaults(args.get_config(), rule.config))
            if message:
                report_violation(message, resource.urn)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=_LEVELS[rule.level],
        severity=_SEVERITIES[rule.severity],
        remediation_steps=remediation_steps(rule.steps),
        url=rule.url,
    )
