"""rds-ca-stack-state: after this update, the stack's databases or account default would still be on a bad CA.

``AnalyzeStack`` sees each resource's outputs: for a resource that already exists, the deployed state with this
update's inputs applied. It catches a database whose CA the program leaves unset while AWS still has it on
``rds-ca-2019``, which no resource policy can see. Outputs that preview cannot know are skipped.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, Severity, StackValidationArgs, StackValidationPolicy

from rdsca import catalog
from rdsca.policies._common import MISSING, Unknown, remediation_steps, subject
from rdsca.policies.rds_ca_retired import BAD


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for resource in args.resources:
        sub = subject(resource)
        if sub is None or sub.ca is MISSING or isinstance(sub.ca, Unknown):
            continue
        verdict = sub.verdict()
        if verdict.status in BAD:
            report_violation(
                f"{sub.python_class} {sub.name}: its state after this update is {sub.ca_property}={sub.ca!r}: "
                f"{verdict.reason}. {sub.fix(verdict.replacement)}",
                resource.urn,
            )


policy = StackValidationPolicy(
    name="rds-ca-stack-state",
    description="After the update, no database or account default in the stack may be on a retired CA.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps=remediation_steps(
        "Set the CA explicitly in the program: a database whose CA is unset keeps the one it has in AWS."
    ),
    url=catalog.ROTATION_GUIDE,
)
