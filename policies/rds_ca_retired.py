"""rds-ca-retired: a database or account default names a retired, unknown, malformed or expired CA.

The judgement is ``rdsca.rules.rds_ca_retired``; this module is its CrossGuard policy.
"""

from rdsca.policies._common import resource_policy
from rdsca.rules import rds_ca_retired

policy = resource_policy(rds_ca_retired.RULE)
