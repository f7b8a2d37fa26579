"""rds-ca-restart-pending: a CA change made without a restart leaves the old server certificate served.

The judgement is ``rdsca.rules.rds_ca_restart_pending``; this module is its CrossGuard policy.
"""

from rdsca.policies._common import resource_policy
from rdsca.rules import rds_ca_restart_pending

policy = resource_policy(rds_ca_restart_pending.RULE)
