"""rds-ca-apply-immediately: a CA set with ``applyImmediately`` false or unset (disabled by default).

The judgement is ``rdsca.rules.rds_ca_apply_immediately``; this module is its CrossGuard policy.
"""

from rdsca.policies._common import resource_policy
from rdsca.rules import rds_ca_apply_immediately

policy = resource_policy(rds_ca_apply_immediately.RULE)
