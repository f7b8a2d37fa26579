"""rds-ca-availability-note: a CA that may not be available here, or needs extra set-up (advisory).

The judgement is ``rdsca.rules.rds_ca_availability_note``; this module is its CrossGuard policy.
"""

from rdsca.policies._common import resource_policy
from rdsca.rules import rds_ca_availability_note

policy = resource_policy(rds_ca_availability_note.RULE)
