"""rdsca's rules over Terraform resources, in process: each resource becomes one database view
(``rdsca.resources.database_view``) and every rule in ``rdsca.rules`` judges it with the same config keys, defaults
and levels as the policy pack (``--policy-pack-config`` read as for the pack).

Only translation happens here: Terraform values in, the rules' messages (in Terraform's own words) out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdsca import catalog
from rdsca.output import FAILING_LEVELS
from rdsca.resources import (
    MISSING,
    NULL,
    TERRAFORM_TYPES,
    DatabaseView,
    Kind,
    Unknown,
    database_view,
    known_text,
    read_plain,
)
from rdsca.rules import (
    RESOURCE_RULES,
    RULES,
    STACK_RULES,
    Rule,
    UnknownValue,
    rds_ca_retired,
    rds_ca_unchecked,
    with_defaults,
)
from rdsca.rules import config as policy_config
from rdsca.rules.config import PolicyConfig
from rdsca.terraform.config import raw_text
from rdsca.terraform.model import Resource, Span
from rdsca.text import shorten

#: Per rule name: its enforcement level and its config (the schema's defaults overlaid with what was configured).
Settings = Mapping[str, tuple[str, dict[str, Any]]]


@dataclass
class Database:
    """One row of the report: a judged database (or account default) and its CA verdict."""

    resource: Resource
    view: DatabaseView
    #: None while the CA is not known (computed during plan or apply).
    verdict: catalog.Verdict | None
    restart: str
    #: Why an acceptable-looking CA cannot be called ok: some versions of the engine refuse it and the version is
    #: not known here (a DocumentDB instance whose cluster cannot be followed). As ``rdsca check`` of Pulumi says.
    cannot_decide: str | None = None

    @property
    def status(self) -> str:
        if self.verdict is None:
            return "not known until apply"
        if self.cannot_decide and self.verdict.acceptable:
            return "cannot decide"
        return self.verdict.status.value


@dataclass
class Outcome:
    databases: list[Database] = field(default_factory=list)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    #: Every rule with its level: the ``policies`` of the report and the rules of SARIF.
    rules: list[tuple[Rule, str]] = field(default_factory=list)
    #: Where a diagnostic about something other than a resource points, by (address, policy): a module call.
    spans: dict[tuple[str, str], Span] = field(default_factory=dict)
    #: Module calls whose module was not read (``unchecked_modules`` of the JSON).
    unchecked: list[Any] = field(default_factory=list)
    #: Findings suppressed in the source (``rdsca.terraform.suppress``), each with its reason and location.
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    #: What the suppressions gave to say (no reason, matching nothing, not applied).
    suppression_warnings: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(d["level"] in FAILING_LEVELS for d in self.diagnostics)


def read(props: Mapping[str, Any], name: str) -> Any:
    """One attribute's value: in Terraform an argument set to null is the same as an argument left out."""
    value = read_plain(props, name)
    return MISSING if value is NULL else value


def view(resource: Resource, values: Mapping[str, Any] | None = None, cluster: bool = True) -> DatabaseView | None:
    """The database view of a resource (of ``values`` instead of its own, e.g. its planned state). ``cluster``: with
    the engine version of the cluster a DocumentDB or Aurora instance belongs to."""
    return database_view(
        TERRAFORM_TYPES[resource.type],
        resource.values if values is None else values,
        resource.address,
        region=known_text(resource.region),
        engine_version=known_text(resource.cluster_engine_version) if cluster else None,
        read=read,
    )


def settings(config_file: Path | None) -> tuple[dict[str, tuple[str, dict[str, Any]]], list[str]]:
    """Per rule: its level and config, from the rules' defaults and ``--policy-pack-config`` merged and validated as
    the Pulumi CLI does (``rdsca.rules.config``, the runner's merger too); and the warnings the CLI would give (a
    policy name no rule has, which it ignores)."""
    defaults = {rule.name: PolicyConfig(rule.level, with_defaults(None, rule.config)) for rule in RULES}
    if config_file is None:
        return {name: (cfg.level, cfg.properties or {}) for name, cfg in defaults.items()}, []
    given = policy_config.parse_config_file(config_file)
    merged = policy_config.merge(defaults, [given])
    schemas = {rule.name: {"type": "object", "properties": dict(rule.config)} for rule in RULES}
    policy_config.validate(merged, schemas, source=str(config_file))
    warnings = policy_config.unknown_names(given, defaults, "rdsca")
    return {name: (cfg.level, cfg.properties or {}) for name, cfg in merged.items() if name in defaults}, warnings


def _diagnostic(rule: Rule, level: str, address: str, message: str) -> dict[str, Any]:
    return {
        "policy": rule.name,
        "level": level,
        "address": address,
        "message": message,
        "severity": rule.severity,
        "pack": "rdsca",
    }


def run_rule(rule: Rule, subject: DatabaseView, config: Mapping[str, Any]) -> str | None:
    """The rule's message, or None. A value Terraform knows only during plan or apply never blocks: as in a Pulumi
    preview, the judgement that needs it is skipped."""
    if not rule.covers(subject):
        return None
    try:
        return rule.judge(subject, config)
    except UnknownValue:
        return None


def _row(resource: Resource, subject: DatabaseView) -> Database:
    verdict = None if isinstance(subject.ca, Unknown) else subject.verdict()
    restart = catalog.restart_on_rotation(subject.engine, subject.engine_version).value if subject.type.database else ""
    cannot_decide = None
    if verdict is not None and isinstance(subject.ca, str) and not subject.engine_version:
        refusing = catalog.refusing_versions(subject.engine, subject.ca)
        if refusing:
            versions = " and ".join(dict.fromkeys(v.removesuffix(".*") for v in refusing))
            cannot_decide = (
                f"cannot decide: {subject.engine} {versions} refuses {subject.ca}, and the engine version is not "
                "known here (its cluster cannot be followed)"
            )
    return Database(resource, subject, verdict, restart, cannot_decide)


def _judge_all(
    outcome: Outcome, rules: tuple[Rule, ...], subject: DatabaseView, config: Settings, secret: tuple[str, ...] = ()
) -> None:
    for rule in rules:
        level, rule_config = config[rule.name]
        message = run_rule(rule, subject, rule_config) if level != "disabled" else None
        if message:
            for value in secret:  # a value the plan marks sensitive is judged, never printed
                message = message.replace(value, "(sensitive)")
            outcome.diagnostics.append(_diagnostic(rule, level, subject.name, message))


def _secret_values(resource: Resource) -> tuple[str, ...]:
    values = (resource.values.get(key) for key in resource.sensitive)
    state = (resource.state or {}).get
    found = {v for v in values if isinstance(v, str) and v} | {
        v for v in (state(key) for key in resource.sensitive) if isinstance(v, str) and v
    }
    return tuple(sorted(found, key=len, reverse=True))


#: An argument that names a CA, whatever the module calls it: its value starts so (every RDS CA identifier does,
#: including typos of one), or its name says so.
_CA_ARGUMENT = re.compile(r"ca_cert|ca_certificate|certificate_identifier|ca_identifier", re.IGNORECASE)


def _passes_a_ca(name: str, value: Any) -> bool:
    return isinstance(value, str) and (value.strip().lower().startswith("rds-ca") or bool(_CA_ARGUMENT.search(name)))


def judge_unchecked(outcome: Outcome, unchecked: list[Any], config: Settings) -> None:
    """Modules rdsca could not read: each is an ``rds-ca-unchecked`` finding, and a retired, unknown or expired CA
    its caller passes to it is an ``rds-ca-retired`` finding at the argument (the module's databases are not seen,
    but the CA given to them is: passing it is as good as naming it)."""
    outcome.unchecked.extend(unchecked)
    for module in unchecked:
        level, _config = config[rds_ca_unchecked.RULE.name]
        if level != "disabled":
            message = (
                f"{module.address} (source {module.source!r}) is not installed, so rdsca could not check the "
                "databases it declares; run terraform init first"
            )
            outcome.diagnostics.append(_diagnostic(rds_ca_unchecked.RULE, level, module.address, message))
            outcome.spans[(module.address, rds_ca_unchecked.RULE.name)] = module.span
        _passed_cas(outcome, module.address, module.arguments, config, "is passed to a module rdsca cannot read")


def judge_undeclared(outcome: Outcome, undeclared: list[Any], config: Settings) -> None:
    """Arguments a module call passes that the module does not declare (Terraform refuses them: "Unsupported
    argument"): a retired, unknown or expired CA among them is still a finding, never a silent pass."""
    for address, arguments in undeclared:
        _passed_cas(outcome, address, arguments, config,
                    "is passed to a module that does not declare it (Terraform refuses it: Unsupported argument)")


def _passed_cas(outcome: Outcome, address: str, arguments: Any, config: Settings, why: str) -> None:
    """An ``rds-ca-retired`` finding at each argument that passes a retired, unknown or expired CA."""
    level, _config = config[rds_ca_retired.RULE.name]
    for argument in arguments:
        if level == "disabled" or not _passes_a_ca(argument.name, argument.value):
            continue
        verdict = catalog.evaluate(argument.value)
        if not verdict.status.invalid_ca:
            continue
        message = (
            f"{address}: {argument.name} = {shorten(argument.value)!r} {why}: {verdict.reason}. Pass a current CA "
            f"({', '.join(catalog.CURRENT_CAS)})."
        )
        outcome.diagnostics.append(_diagnostic(rds_ca_retired.RULE, level, address, message))
        outcome.spans[(address, rds_ca_retired.RULE.name)] = argument.span


def judge(
    resources: list[Resource],
    config: Settings,
    unchecked: list[Any] | None = None,
    allow_suppress_refused: bool = False,
    module_blocks: Mapping[str, Any] | None = None,
    undeclared: list[Any] | None = None,
) -> Outcome:
    """Every resource rule over every resource's configured values, and the stack rules over its planned state;
    then what was passed to modules that could not be read."""
    outcome = Outcome(rules=[(rule, config[rule.name][0]) for rule in RULES])
    for resource in resources:
        subject = view(resource)
        if subject is None:
            continue
        if subject.kind is not Kind.AURORA_CLUSTER and not subject.undecided:
            # Aurora clusters carry no CA, and a cluster whose engine is unknown cannot be told: no row (the rules
            # still judge a CA set on one).
            outcome.databases.append(_row(resource, subject))
        secret = _secret_values(resource)
        _judge_all(outcome, RESOURCE_RULES, subject, config, secret)
        # The stack rules see the planned state without the cluster's engine version: the resource rules above
        # already judge the instance with it (the Pulumi pack cannot, so there the stack rule does).
        state = view(resource, resource.state, cluster=False) if resource.state is not None else None
        if state is not None:
            _judge_all(outcome, STACK_RULES, state, config, secret)
    _name_aurora_members(outcome, resources)
    judge_unchecked(outcome, unchecked or [], config)
    judge_undeclared(outcome, undeclared or [], config)
    _suppress(outcome, resources, allow_suppress_refused, module_blocks or {})
    return outcome


def _suppress(outcome: Outcome, resources: list[Resource], allow_refused: bool,
              module_blocks: Mapping[str, Any]) -> None:
    """Inline suppressions (``rdsca.terraform.suppress``): a suppressed finding no longer fails the run. A comment
    in a resource block applies to that resource; one in a module block to everything the module instance declares
    (and to the call itself: a module that is not installed, a CA passed to it)."""
    from rdsca.terraform import suppress

    found_in: dict[int, list[suppress.Suppression]] = {}

    def of(block: Any) -> list[suppress.Suppression]:
        if id(block) not in found_in:  # each block read once, and its suppressions shared by every instance
            found_in[id(block)], warnings = suppress.in_block(block)
            outcome.suppression_warnings += warnings
        return found_in[id(block)]

    by_address: dict[str, list[suppress.Suppression]] = {}
    # Only module blocks whose file can hold a suppression are looked at for every address (most hold none).
    module_blocks = {a: b for a, b in module_blocks.items() if b"skip=" in b.file.data}
    addresses = [r.address for r in resources] + [d["address"] for d in outcome.diagnostics]
    blocks = {r.address: r.block for r in resources if r.block is not None}
    for address in dict.fromkeys(addresses):
        found = of(blocks[address]) if address in blocks else []
        for prefix, block in module_blocks.items():
            if address == prefix or address.startswith(prefix + "."):
                found = found + of(block)
        if found:
            by_address[address] = found
    kept, suppressed, warnings = suppress.apply(outcome.diagnostics, by_address, allow_refused,
                                                [s for found in found_in.values() for s in found])
    outcome.diagnostics, outcome.suppressed = kept, suppressed
    outcome.suppression_warnings += warnings


def _name_aurora_members(outcome: Outcome, resources: list[Resource]) -> None:
    """A finding about a CA on an Aurora cluster names the cluster instances where the CA belongs."""
    by_address = {r.address: r for r in resources}
    for d in outcome.diagnostics:
        cluster = by_address.get(d["address"])
        if cluster is None or cluster.type != "aws_rds_cluster" or "Aurora cluster takes no CA" not in d["message"]:
            continue
        members = [r.address for r in resources if r.type == "aws_rds_cluster_instance" and _member(r, cluster)]
        if members:
            d["message"] += f" Its instances here: {', '.join(members)}."


def _member(instance: Resource, cluster: Resource) -> bool:
    named = instance.values.get("cluster_identifier")
    if isinstance(named, str) and named == cluster.values.get("cluster_identifier"):
        return True
    attribute = instance.block.attributes.get("cluster_identifier") if instance.block else None
    same_module = instance.address.rpartition(instance.type)[0] == cluster.address.rpartition(cluster.type)[0]
    return same_module and attribute is not None and f"{cluster.type}.{cluster.name}." in raw_text(attribute)


__all__ = ["Database", "Outcome", "Settings", "judge", "read", "run_rule", "settings", "view"]


@dataclass
class TerraformReport:
    """A check's result: what was read, what the rules said, and (after ``--fix``/``--diff``) what was fixed."""

    kind: str  # "terraform" or "plan"
    path: Path
    resources: list[Resource]
    outcome: Outcome
    warnings: list[str] = field(default_factory=list)
    #: Lines describing fixes (``--fix``/``--diff``), shown after the policies.
    fixes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return self.outcome.blocked

    @property
    def status(self) -> str:
        """``blocked``, ``undecided`` (a CA rdsca could not work out: never "passed" while one exists) or
        ``passed``."""
        if self.blocked:
            return "blocked"
        if any(d["policy"] == "rds-ca-undecided" for d in self.outcome.diagnostics):
            return "undecided"
        return "passed"
