"""Property-based: arbitrary property values through every policy (Analyze, Remediate, AnalyzeStack); nothing raises."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rdsca.policies import ALL_POLICIES

from .harness import CA_PROPERTY, SECRET_SIG, UNKNOWN, Pack, with_ca

TYPES = sorted(CA_PROPERTY)
KEYS = ["caCertIdentifier", "caCertificateIdentifier", "certificateIdentifier", "engine", "engineVersion",
        "applyImmediately", "region", "identifier", "clusterIdentifier", "certificateRotationRestart"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["rds-ca-2019", "rds-ca-rsa2048-g1", "rds-ca-ecc384-g1", "sqlserver-se", "docdb", "aurora-mysql",
                     "custom-oracle-ee", "3.6.0", "us-west-2", "cn-north-1", UNKNOWN, "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
        inner.map(lambda v: {**SECRET_SIG, "value": v}),
    ),
    max_leaves=6,
)
# The CA keys come first and most often: they are what the policies read.
props = st.one_of(
    st.fixed_dictionaries({st_key: values for st_key in KEYS[:3]}),
    st.dictionaries(st.sampled_from(KEYS), values, max_size=6),
)

#: The policies that implement a remediation (the others can only report, whatever their level).
REMEDIABLE = {p.name for p in ALL_POLICIES if getattr(p, "has_remediation", lambda: False)()}
ANALYZE = Pack()
REMEDIATE = Pack(levels={p.name: "remediate" for p in ALL_POLICIES})
ENABLED = Pack(levels={"rds-ca-apply-immediately": "advisory"}, config={"rds-ca-allowed-list": {"allowedCas": ["rds-ca-rsa4096-g1"]}})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(type_=st.sampled_from(TYPES), properties=props)
def test_analyze_and_remediate_never_raise(type_: str, properties: dict[str, Any]) -> None:
    for pack in (ANALYZE, ENABLED):
        for diag in pack.analyze(type_, properties):
            assert diag.message
    fixed, _ = REMEDIATE.remediate(type_, properties, strict=False)
    assert isinstance(fixed, dict)
    # After remediation nothing mandatory may remain unless no CA could be chosen (the remediation left the CA as
    # it was: an unknown engine, a secret value) or the policy has no remediation to run (a note).
    ca_left = fixed.get(CA_PROPERTY[type_]) == properties.get(CA_PROPERTY[type_])
    remaining = [d for d in REMEDIATE.analyze(type_, fixed) if d.level == "mandatory" and d.policy in REMEDIABLE]
    assert ca_left or remaining == [], remaining


@settings(max_examples=100, deadline=None)
@given(resources=st.lists(st.tuples(st.sampled_from(TYPES), st.text(min_size=1, max_size=8), props), max_size=5))
def test_analyze_stack_never_raises(resources: list[tuple[str, str, dict[str, Any]]]) -> None:
    for diag in ANALYZE.analyze_stack(resources):
        assert diag.level == "mandatory"


def test_remediation_leaves_nothing_mandatory_on_every_type() -> None:
    """The companion of the property above: where a CA can be chosen, it is, and nothing mandatory remains."""
    for name, (type_, props) in with_ca("rds-ca-2019").items():
        fixed, changed = REMEDIATE.remediate(type_, props)
        assert fixed[CA_PROPERTY[type_]] == "rds-ca-rsa2048-g1", name
        assert "rds-ca-retired" in changed, name
        assert [d for d in REMEDIATE.analyze(type_, fixed) if d.level == "mandatory"] == [], name
