"""rds-ca-undecided: a CA the tool that runs the configuration knows before apply, but rdsca cannot work out.

Terraform computes a value built from literals, variables and locals before apply; when rdsca cannot (a function
or construct it does not evaluate, a reference Terraform itself would reject, a cycle), the CA is not "known after
apply" and must not pass as if it were: it is "cannot decide", naming the expression. Advisory by default, like
``rds-ca-unchecked``; ``{"rds-ca-undecided": "mandatory"}`` makes CI fail on it. A front end reports it (the pack
never sees such a value: a Pulumi preview computes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdsca.resources import DatabaseView, Unknown
from rdsca.rules._common import Rule, label


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    ca = view.ca
    if not isinstance(ca, Unknown) or not ca.undecided:
        return None
    return (
        f"{label(view)}: rdsca cannot tell which CA {view.ca_property} names ({ca.reason}); Terraform works it out "
        "before apply, or refuses it. Check it in a plan (terraform show -json plan > plan.json; rdsca check "
        "plan.json) or write the CA as a literal."
    )


RULE = Rule(
    name="rds-ca-undecided",
    description="Every database's CA should be one rdsca can work out before apply.",
    level="advisory",
    severity="medium",
    config={},
    steps="Check the CA in a plan (rdsca check plan.json), or set it as a literal or a variable rdsca can read.",
    judge=judge,
    databases_only=True,
)
