"""rds-ca-expiring: a current CA whose validity ends within ``days`` days (per region where the region is known).

The judgement is ``rdsca.rules.rds_ca_expiring``; this module is its CrossGuard policy.
"""

from rdsca.policies._common import resource_policy
from rdsca.rules import rds_ca_expiring

policy = resource_policy(rds_ca_expiring.RULE)
