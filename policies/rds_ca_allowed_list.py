"""rds-ca-allowed-list: an organisation's own list of allowed CAs (off until ``allowedCas`` is configured).

The judgement is ``rdsca.rules.rds_ca_allowed_list``; this module is its CrossGuard policy.
"""

from rdsca.policies._common import resource_policy
from rdsca.rules import rds_ca_allowed_list

policy = resource_policy(rds_ca_allowed_list.RULE)
