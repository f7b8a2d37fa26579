"""rds-ca-stack-state: after this update, the stack's databases or account default would still be on a bad CA.

``AnalyzeStack`` sees each resource's outputs: for a resource that already exists, the deployed state with this
update's inputs applied. The judgement is ``rdsca.rules.rds_ca_stack_state``; this module is its CrossGuard
stack policy.
"""

from rdsca.policies._common import stack_policy
from rdsca.rules import rds_ca_stack_state

policy = stack_policy(rds_ca_stack_state.RULE)
