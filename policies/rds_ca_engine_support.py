"""rds-ca-engine-support: the database's engine (and version) refuses its CA.

The judgement is ``rdsca.rules.rds_ca_engine_support``; this module is its CrossGuard policy.
"""

from rdsca.policies._common import resource_policy
from rdsca.rules import rds_ca_engine_support

policy = resource_policy(rds_ca_engine_support.RULE)
