"""rds-ca-unset: a database that names no CA, so the account's default for new launches decides (advisory).

The judgement is ``rdsca.rules.rds_ca_unset``; this module is its CrossGuard policy.
"""

from rdsca.policies._common import resource_policy
from rdsca.rules import rds_ca_unset

policy = resource_policy(rds_ca_unset.RULE)
