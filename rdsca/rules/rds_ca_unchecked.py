"""rds-ca-unchecked: a part of the configuration the check could not read, so its databases were not judged.

A front end reports it where it could not see (today: a Terraform module call whose registry or git module is not
installed, the normal state of a repository before ``terraform init``). It is not a policy of the pack: a Pulumi
preview sees every resource. It is a rule so that its level is set as every policy's is (``--policy-pack-config``:
``{"rds-ca-unchecked": "mandatory"}`` makes CI fail on what it could not check).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdsca.resources import DatabaseView
from rdsca.rules._common import Rule


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    """Never about a database it can see: the front end reports what it could not read."""
    return None


RULE = Rule(
    name="rds-ca-unchecked",
    description="Every part of the configuration that can declare databases should be checked.",
    level="advisory",
    severity="medium",
    config={},
    steps="Run terraform init before rdsca check, so that .terraform/modules holds the module, or check the "
    "module's own repository.",
    judge=judge,
    databases_only=True,
)
