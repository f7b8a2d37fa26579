"""The judgements behind every rdsca policy: pure functions of a database view and a config, one module per rule.

The CrossGuard pack (``rdsca.policies``) wraps them for Pulumi; other front ends (Terraform) call them directly.
A rule's name is its module's name in kebab case (``rds_ca_retired`` is ``rds-ca-retired``).
"""

from __future__ import annotations

from collections.abc import Mapping

from rdsca.rules import (
    rds_ca_allowed_list,
    rds_ca_apply_immediately,
    rds_ca_availability_note,
    rds_ca_engine_support,
    rds_ca_expiring,
    rds_ca_restart_pending,
    rds_ca_retired,
    rds_ca_stack_state,
    rds_ca_unchecked,
    rds_ca_undecided,
    rds_ca_unset,
)
from rdsca.rules._common import (
    LEVELS,
    SEVERITIES,
    TARGET_SCHEMA,
    Rule,
    UnknownValue,
    apply_decision_for,
    covered,
    with_defaults,
)

MODULES = (
    rds_ca_retired,
    rds_ca_engine_support,
    rds_ca_allowed_list,
    rds_ca_expiring,
    rds_ca_availability_note,
    rds_ca_unset,
    rds_ca_apply_immediately,
    rds_ca_restart_pending,
    rds_ca_stack_state,
)
#: Rules a front end reports about what it could not read: configured like every rule, but not policies of the pack.
FRONT_END_MODULES = (rds_ca_undecided, rds_ca_unchecked)
RULES: tuple[Rule, ...] = tuple(module.RULE for module in (*MODULES, *FRONT_END_MODULES))
BY_NAME: Mapping[str, Rule] = {rule.name: rule for rule in RULES}
#: The checks of other scanners that judge the same thing, by rule (``rdsca list-rules``; Checkov's id is honoured
#: in ``#checkov:skip=`` comments). Checkov CKV_AWS_211 "Ensure RDS uses a modern CaCert"; KICS
#: 9f40c07e-699e-4410-8856-3ba0f2e3a2dd "CA Certificate Identifier Is Outdated" (Terraform); Prowler
#: rds_instance_certificate_expiration (live instances: the CA's validity).
OTHER_TOOLS: Mapping[str, Mapping[str, str]] = {
    rds_ca_retired.RULE.name: {
        "checkov": "CKV_AWS_211",
        "kics": "9f40c07e-699e-4410-8856-3ba0f2e3a2dd",
        "prowler": "rds_instance_certificate_expiration",
    },
    rds_ca_expiring.RULE.name: {"prowler": "rds_instance_certificate_expiration"},
}
#: Findings whose CA AWS refuses at deploy time ("CertificateNotFound", or the engine's refusal): a suppression or a
#: baseline does not hide them in ``check`` unless asked (``--allow-suppress-refused``): the deploy fails anyway.
REFUSED_AT_DEPLOY = frozenset(m.RULE.name for m in (rds_ca_retired, rds_ca_engine_support, rds_ca_stack_state))
#: The resource rules that judge a database's CA; ``rds-ca-stack-state`` judging the same resource after the update
#: reports the same problem (``rdsca.findings.merge`` folds it into theirs).
CA_RULES = tuple(m.RULE.name for m in (rds_ca_retired, rds_ca_engine_support, rds_ca_allowed_list))
STACK_STATE = rds_ca_stack_state.RULE.name
#: The rules judged over each resource's inputs; ``STACK_RULES`` over the state after the update.
RESOURCE_RULES: tuple[Rule, ...] = tuple(rule for rule in RULES if not rule.stack)
STACK_RULES: tuple[Rule, ...] = tuple(rule for rule in RULES if rule.stack)

__all__ = [
    "BY_NAME",
    "CA_RULES",
    "FRONT_END_MODULES",
    "LEVELS",
    "MODULES",
    "OTHER_TOOLS",
    "REFUSED_AT_DEPLOY",
    "RESOURCE_RULES",
    "RULES",
    "SEVERITIES",
    "STACK_RULES",
    "STACK_STATE",
    "TARGET_SCHEMA",
    "Rule",
    "UnknownValue",
    "apply_decision_for",
    "covered",
    "with_defaults",
]
