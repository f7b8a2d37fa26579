"""What every rule shares: the rule record, config defaults, the replacement CA, and how-to-fix messages."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rdsca import catalog, clock
from rdsca.output import printable
from rdsca.resources import MISSING, DatabaseView, FrontEnd, Kind, Unknown


class UnknownValue(Exception):
    """A judgement needs a value that a preview or plan cannot know. The front end decides what that means (the
    policy SDK turns it into an advisory "can't run policy ... during preview" note: an unknown never blocks)."""

    def __init__(self, unknown: Unknown) -> None:
        super().__init__(unknown.reason or "value not known yet")
        self.unknown = unknown


#: ``judge(view, config) -> message or None``; may raise ``UnknownValue``.
Judge = Callable[[DatabaseView, Mapping[str, Any]], "str | None"]
#: ``fix(view, config) -> the CA a remediation writes, or None`` (nothing safe to write).
Fix = Callable[[DatabaseView, Mapping[str, Any]], "str | None"]

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
SEVERITIES = ("low", "medium", "high", "critical")
#: The Pulumi CLI's order of enforcement levels and severities in its policy section
#: (pulumi/pulumi ``pkg/backend/display/progress.go``, ``enforcementRank`` and ``severityRank``).
LEVEL_RANK = {"remediate": 0, "mandatory": 1, "advisory": 2, "disabled": 3}
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, None: 4}


def diagnostic_rank(level: str, severity: str | None) -> tuple[int, int]:
    """Where a violation goes in a policy section: by level, then severity, as the Pulumi CLI prints them."""
    return LEVEL_RANK.get(level, 99), SEVERITY_RANK.get(severity, 99)


@dataclass(frozen=True)
class Rule:
    """One judgement, with the metadata a policy pack (or any other front end) publishes for it."""

    name: str
    description: str
    #: Default enforcement level: ``advisory``, ``mandatory``, ``remediate`` or ``disabled``.
    level: str
    severity: str
    #: JSON-schema properties of the rule's config, each with its default.
    config: Mapping[str, Mapping[str, Any]]
    #: What to do about a violation, in one or two sentences.
    steps: str
    judge: Judge
    fix: Fix | None = None
    #: What a remediation sets ``applyImmediately`` to when the config has no such setting.
    apply_immediately: bool | None = None
    #: Only databases (not the account default).
    databases_only: bool = False
    #: A stack rule: judged over every resource's state after the update, not over one resource's inputs.
    stack: bool = False
    #: Judges a CA set on an Aurora cluster (which AWS refuses: only Multi-AZ DB clusters take one). The other rules
    #: leave such a cluster alone, so that it is one finding, not one per rule.
    aurora_clusters: bool = False
    url: str = catalog.ROTATION_GUIDE

    def covers(self, view: DatabaseView) -> bool:
        """Whether the rule looks at this resource at all."""
        if self.databases_only and not view.type.database:
            return False
        if view.kind is Kind.AURORA_CLUSTER:
            return self.aurora_clusters and view.ca is not MISSING
        return covered(view)

    def defaults(self) -> dict[str, Any]:
        return {key: spec.get("default") for key, spec in self.config.items()}


def covered(view: DatabaseView) -> bool:
    """Resources the rules judge: a cluster that carries no CA (Aurora), or whose engine is not known yet, is
    judged only when a CA is set on it anyway."""
    if view.kind is Kind.AURORA_CLUSTER or view.undecided:
        return view.ca is not MISSING
    return True


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
        "type": ["boolean", "null"],
        "default": None,
        "description": "What a remediation sets applyImmediately to (null: the apply-mode rule of AWS's rotation "
        "guide decides, see restart; false: the change waits for the maintenance window).",
    },
    "restart": {
        "type": "string",
        "enum": list(catalog.RESTART_POLICIES),
        "default": "auto",
        "description": "When a remediation's change applies: auto (a database on a retired or expired CA now, one "
        "that rotates without a restart now, others in the maintenance window), allow (all now), avoid (only those "
        "that do not restart now).",
    },
}


def apply_decision_for(view: DatabaseView, configured: bool | None, policy: str = "auto") -> catalog.ApplyDecision:
    """The one apply-mode rule (``catalog.apply_decision``) for a database a fix moves to a new CA, as the pack's
    remediation and Terraform ``--fix`` apply it: the CA its code names stands for its current CA (code that names
    rds-ca-2019 has deployed it), unset means not known here. ``configured``: an explicit applyImmediately (the
    policy config, --no-apply-immediately), which wins."""
    restart = catalog.restart_on_rotation(view.engine, view.engine_version)
    if configured is not None:
        why = "applyImmediately from the policy config" if configured else "the change waits for the maintenance " \
            "window (applyImmediately false)"
        return catalog.ApplyDecision(configured, why, configured and restart is not catalog.Restart.NO)
    ca = view.ca
    current = catalog.evaluate(ca, view.engine, view.engine_version, view.region).status if (
        isinstance(ca, str) and ca) else None
    return catalog.apply_decision(current, restart, policy)


def with_defaults(given: Mapping[str, Any] | None, properties: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The schema defaults, overlaid with what was configured (which may be nothing)."""
    result = {key: spec.get("default") for key, spec in properties.items()}
    result.update({k: v for k, v in (given or {}).items() if k in properties})
    for key, spec in properties.items():
        # Config that crossed a protobuf Struct carries every number as a float.
        value = result.get(key)
        if spec.get("type") == "integer" and isinstance(value, float) and value.is_integer():
            result[key] = int(value)
    return result


def need_ca(view: DatabaseView) -> Any:
    """The CA value; ``UnknownValue`` when it is not known yet."""
    if isinstance(view.ca, Unknown):
        raise UnknownValue(view.ca)
    return view.ca


def choose_ca(
    view: DatabaseView,
    config: Mapping[str, Any],
    allowed: Callable[[str], bool] = lambda _ca: True,
    also: tuple[str, ...] = (),
) -> str | None:
    """The configured target, or the fallback where the engine refuses the target (then ``also``, in order);
    None if none of them is current and accepted by the engine."""
    for ca_id in (config.get("targetCa"), config.get("fallbackCa"), *also):
        if not isinstance(ca_id, str) or not allowed(ca_id):
            continue
        verdict = catalog.evaluate(ca_id, view.engine, view.engine_version, view.region, clock.today())
        if verdict.status is catalog.Status.OK:
            return ca_id
    return None


_OUTSIDE = {FrontEnd.PULUMI: "outside Pulumi", FrontEnd.TERRAFORM: "outside Terraform", FrontEnd.AWS: "AWS CLI"}


def how_to_fix(view: DatabaseView, ca_id: str | None) -> str:
    """How to fix: the argument to set in the front end's own syntax and, for a database outside it, the AWS CLI."""
    if ca_id is None:
        return "No current CA is known to work for this engine: choose one that its engine version supports."
    rtype = view.type
    # The one apply-mode rule (``catalog.apply_decision``): apply_immediately only where it applies the change now.
    now = apply_decision_for(view, None).immediately if rtype.database else False
    cli = rtype.cli_command(ca_id, printable(view.identifier) if view.identifier else None, now)
    apply = rtype.database and rtype.fields.apply_immediately is not None and now
    if rtype.front_end is FrontEnd.TERRAFORM:
        extra = " and apply_immediately = true" if apply else ""
        return f'Set {rtype.ca_argument} = "{ca_id}"{extra} on {label(view)} ({_OUTSIDE[rtype.front_end]}: {cli}).'
    extra = ", apply_immediately=True" if apply else ""
    where = label(view)
    return f'Set {rtype.ca_argument}="{ca_id}"{extra} on {where} ({_OUTSIDE[rtype.front_end]}: {cli}).'


def label(view: DatabaseView) -> str:
    """How a message names the resource: ``aws.rds.Instance billing-db``; in Terraform its address, which starts
    with the type (``aws_db_instance.billing``, ``module.db.aws_db_instance.this[0]``). A name is the user's text:
    its control characters are escaped, so that a name cannot break a message's lines or restyle a terminal."""
    name = printable(view.name)
    if view.type.front_end is FrontEnd.TERRAFORM:
        return name
    return f"{view.type.display} {name}"


def setting(view: DatabaseView, argument: str, value: Any) -> str:
    """``argument`` set to ``value`` as the user writes it: ``ca_cert_identifier = "rds-ca-2019"`` and
    ``apply_immediately = false`` in Terraform, ``ca_cert_identifier="rds-ca-2019"`` and ``apply_immediately=False``
    in a Pulumi Python program."""
    if view.type.front_end is FrontEnd.TERRAFORM:
        return f"{argument} = {json.dumps(value, default=repr)}"
    if isinstance(value, bool) or value is None:
        return f"{argument}={value}"
    return f"{argument}={json.dumps(value, default=repr)}"
