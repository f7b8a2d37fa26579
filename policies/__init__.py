"""CrossGuard policies that keep RDS, Aurora and DocumentDB databases off retired CA certificates.

Installed as ``rdsca.policies``. ``ALL_POLICIES`` is the list the ``policies/`` pack serves; an organisation can
put some or all of them into its own pack::

    from pulumi_policy import PolicyPack
    from rdsca.policies import ALL_POLICIES

    PolicyPack(name="acme-guardrails", policies=[*ALL_POLICIES, *acme_policies])

Each policy is the ``policy`` value of the module with its name (``rds-ca-retired`` is ``rds_ca_retired``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pulumi_policy import Policy

from rdsca import rules

PACK_NAME = "rdsca"

#: One policy module per rule, with the rule's module name, in the rules' order.
MODULES: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"{__name__}.{rule_module.__name__.rsplit('.', 1)[1]}") for rule_module in rules.MODULES
)

ALL_POLICIES: list[Policy] = [module.policy for module in MODULES]

__all__ = ["ALL_POLICIES", "MODULES", "PACK_NAME"]
