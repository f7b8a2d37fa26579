"""The rdsca policy pack. This file only builds the pack: PolicyPack(...) serves it and never returns."""

from pulumi_policy import EnforcementLevel, PolicyPack

from rdsca.policies import ALL_POLICIES, PACK_NAME

PolicyPack(name=PACK_NAME, policies=ALL_POLICIES, enforcement_level=EnforcementLevel.ADVISORY)
