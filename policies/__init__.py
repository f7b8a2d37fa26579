"""CrossGuard policies that keep RDS, Aurora and DocumentDB databases off retired CA certificates.

Installed as ``rdsca.policies``. ``ALL_POLICIES`` is the list the ``policies/`` pack serves; an organisation can
put some or all of them into its own pack::

    from pulumi_policy import PolicyPack
    from rdsca.policies import ALL_POLICIES

    PolicyPack(name="acme-guardrails", policies=[*ALL_POLICIES, *acme_policies])

Each policy is the ``policy`` value of the module with its name (``rds-ca-retired`` is ``rds_ca_retired``).
"""

from __future__ import annotations

from pulumi_policy import Policy

from rdsca.policies import (
    rds_ca_allowed_list,
    rds_ca_apply_immediately,
    rds_ca_availability_note,
    rds_ca_engine_support,
    rds_ca_expiring,
    rds_ca_retired,
    rds_ca_stack_state,
    rds_ca_unset,
)

PACK_NAME = "rdsca"

MODULES = (
    rds_ca_retired,
    rds_ca_engine_support,
    rds_ca_allowed_list,
    rds_ca_expiring,
    rds_ca_availability_note,
    rds_ca_unset,
    rds_ca_apply_immediately,
    rds_ca_stack_state,
)

ALL_POLICIES: list[Policy] = [module.policy for module in MODULES]

__all__ = ["ALL_POLICIES", "MODULES", "PACK_NAME"]
