"""rds-ca-retired: exact pass/fail sets over every covered type, malformed values, unknowns and remediation."""

from __future__ import annotations

import pytest

from rdsca.policies import rds_ca_retired

from .harness import CERTIFICATE, CLUSTER, HAPPY, INSTANCE, SECRET_SIG, UNKNOWN, Diag, Pack, failing, with_ca

NAME = "rds-ca-retired"
ALL = set(HAPPY)


def test_current_cas_pass(pack: Pack) -> None:
    assert failing(pack, NAME, HAPPY) == set()
    for ca in ("rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"):
        assert failing(pack, NAME, with_ca(ca)) == set()


@pytest.mark.parametrize(
    "ca",
    ["rds-ca-2019", "rds-ca-2015", "rds-ca-2019-me-south-1", "rds-ca-rsa2048-gl", "RDS-CA-RSA2048-G1", 5, 2048.5,
     ["rds-ca-rsa2048-g1"], {"id": "rds-ca-rsa2048-g1"}, None, "", " ", True],
)
def test_retired_unknown_and_malformed_fail_on_every_type(pack: Pack, ca: object) -> None:
    assert failing(pack, NAME, with_ca(ca)) == ALL


def test_unset_ca_and_other_types_pass_quietly(pack: Pack) -> None:
    assert failing(pack, NAME, with_ca(...)) == set()
    assert pack.analyze("aws:s3/bucket:Bucket", {"caCertIdentifier": "rds-ca-2019"}) == []
    assert pack.analyze("aws:neptune/clusterInstance:ClusterInstance", {"caCertIdentifier": "rds-ca-2019"}) == []


def test_aurora_cluster_carries_no_ca_but_multi_az_cluster_does(pack: Pack) -> None:
    aurora = {"engine": "aurora-mysql", "engineVersion": "8.0.mysql_aurora.3.05.2"}
    assert [d for d in pack.analyze(CLUSTER, aurora) if d.policy == NAME] == []
    multi_az = {"engine": "mysql", "caCertificateIdentifier": "rds-ca-2019"}
    assert [d.level for d in pack.analyze(CLUSTER, multi_az) if d.policy == NAME] == ["mandatory"]


def test_rds_custom_is_not_applicable(pack: Pack) -> None:
    props = {"engine": "custom-oracle-ee", "caCertIdentifier": "rds-ca-2019"}
    assert [d for d in pack.analyze(INSTANCE, props) if d.policy == NAME] == []


def test_exact_message_names_argument_and_cli(pack: Pack) -> None:
    props = {"engine": "mysql", "caCertIdentifier": "rds-ca-2019", "identifier": "billing"}
    (diag,) = [d for d in pack.analyze(INSTANCE, props, name="billing-db") if d.policy == NAME]
    assert diag == Diag(
        NAME,
        "mandatory",
        "RDS, Aurora and DocumentDB databases must not name a retired, unknown or expired CA.\n"
        "aws.rds.Instance billing-db: rds-ca-2019 is retired (expired on 2024-08-22); AWS answers "
        "CertificateNotFound and deployments naming it fail. "
        'Set ca_cert_identifier="rds-ca-rsa2048-g1", apply_immediately=True on aws.rds.Instance billing-db '
        "(outside Pulumi: aws rds modify-db-instance --db-instance-identifier billing --ca-certificate-identifier "
        "rds-ca-rsa2048-g1 --apply-immediately).",
    )


def test_account_default_message_uses_modify_certificates(pack: Pack) -> None:
    (diag,) = [d for d in pack.analyze(CERTIFICATE, {"certificateIdentifier": "rds-ca-2019"}) if d.policy == NAME]
    assert diag.message.endswith(
        'Set certificate_identifier="rds-ca-rsa2048-g1" on aws.rds.Certificate db (outside Pulumi: '
        "aws rds modify-certificates --certificate-identifier rds-ca-rsa2048-g1 --region REGION)."
    )


def test_a_current_ca_that_has_expired_by_today_fails(pack: Pack, monkeypatch: pytest.MonkeyPatch) -> None:
    # rds-ca-rsa2048-g1's us-west-2 root ends 2061-05-24; its eu-west-1 root 2061-05-20.
    props = {"engine": "postgres", "caCertIdentifier": "rds-ca-rsa2048-g1"}
    monkeypatch.setenv("RDSCA_AS_OF", "2061-05-22")
    assert [d for d in pack.analyze(INSTANCE, props, provider_region="us-west-2") if d.policy == NAME] == []
    (diag,) = [d for d in pack.analyze(INSTANCE, props, provider_region="eu-west-1") if d.policy == NAME]
    assert "rds-ca-rsa2048-g1 expired on 2061-05-20 in eu-west-1" in diag.message
    assert 'Set ca_cert_identifier="rds-ca-rsa4096-g1"' in diag.message  # the target has expired: the next current CA


def test_unknown_ca_never_blocks_and_leaves_a_note(pack: Pack) -> None:
    diags = pack.analyze(INSTANCE, {"engine": "mysql", "caCertIdentifier": UNKNOWN})
    assert [(d.policy, d.level) for d in diags] == [(NAME, "advisory")]
    assert diags[0].message.endswith("during preview: string value at .caCertIdentifier can't be known during preview")


def test_unknown_engine_still_judges_a_retired_ca(pack: Pack) -> None:
    diags = pack.analyze(INSTANCE, {"engine": UNKNOWN, "engineVersion": UNKNOWN, "caCertIdentifier": "rds-ca-2019"})
    assert [(d.policy, d.level) for d in diags if d.policy == NAME] == [(NAME, "mandatory")]


def test_secret_ca_is_judged_on_its_value(pack: Pack) -> None:
    props = {"engine": "mysql", "caCertIdentifier": {**SECRET_SIG, "value": "rds-ca-2019"}}
    assert [d.level for d in pack.analyze(INSTANCE, props) if d.policy == NAME] == ["mandatory"]


@pytest.mark.parametrize("case", sorted(HAPPY))
def test_remediation_rewrites_every_type(case: str) -> None:
    pack = Pack(levels={NAME: "remediate"})
    type_, props = with_ca("rds-ca-2019")[case]
    fixed, changed = pack.remediate(type_, props)
    assert changed == [NAME]
    ca_property = next(k for k in props if k.startswith(("ca", "certificate")))
    assert fixed[ca_property] == "rds-ca-rsa2048-g1"
    if type_ != CERTIFICATE:
        assert fixed["applyImmediately"] is True
    assert [d for d in pack.analyze(type_, fixed) if d.policy == NAME] == []


def test_remediation_follows_config_target_fallback_and_apply() -> None:
    config = {NAME: {"targetCa": "rds-ca-ecc384-g1", "fallbackCa": "rds-ca-rsa4096-g1", "applyImmediately": False}}
    pack = Pack(config=config, levels={NAME: "remediate"})
    pg, _ = pack.remediate(INSTANCE, {"engine": "postgres", "caCertIdentifier": "rds-ca-2019"})
    assert (pg["caCertIdentifier"], pg["applyImmediately"]) == ("rds-ca-ecc384-g1", False)
    # SQL Server refuses ECC384: the fallback.
    mssql, _ = pack.remediate(INSTANCE, {"engine": "sqlserver-ee", "caCertIdentifier": "rds-ca-2019"})
    assert mssql["caCertIdentifier"] == "rds-ca-rsa4096-g1"


def test_no_safe_target_leaves_the_violation_blocking() -> None:
    pack = Pack(config={NAME: {"targetCa": "rds-ca-ecc384-g1"}}, levels={NAME: "remediate"})
    props = {"engine": "sqlserver-se", "caCertIdentifier": "rds-ca-2019"}
    assert pack.remediate(INSTANCE, props) == (props, [])
    # At level remediate, a violation that remains is reported as mandatory.
    assert [d.level for d in pack.analyze(INSTANCE, props) if d.policy == NAME] == ["mandatory"]


def test_remediation_keeps_secrets_and_other_properties() -> None:
    pack = Pack(levels={NAME: "remediate"})
    props = {"engine": "mysql", "caCertIdentifier": "rds-ca-2019", "password": {**SECRET_SIG, "value": "pw"}}
    fixed, _ = pack.remediate(INSTANCE, props)
    assert fixed["password"] == {**SECRET_SIG, "value": "pw"}
    assert fixed["engine"] == "mysql"


def test_remediation_of_an_unknown_ca_is_a_preview_note() -> None:
    pack = Pack(levels={NAME: "remediate"})
    response = pack.servicer.Remediate(pack.request(INSTANCE, {"caCertIdentifier": UNKNOWN}), None)
    (remediation,) = response.remediations
    assert "can't run remediation 'rds-ca-retired'" in remediation.diagnostic
    assert not remediation.HasField("properties")


def test_policy_metadata() -> None:
    policy = rds_ca_retired.policy
    assert policy.severity.value == "critical"
    assert "aws rds modify-db-instance" in (policy.remediation_steps or "")
    assert "ca_certificate_identifier" in (policy.remediation_steps or "")


def test_a_name_cannot_break_the_message_into_lines(pack: Pack) -> None:
    name = "evil\nfinding: forged\r\x1b[31m"
    (diag,) = [d for d in pack.analyze(INSTANCE, {"engine": "mysql", "caCertIdentifier": "rds-ca-2019"}, name=name)
               if d.policy == NAME]
    _description, message = diag.message.split("\n")  # the SDK puts the description on its own line; nothing else
    assert message.startswith("aws.rds.Instance evil\\nfinding: forged\\r\\x1b[31m: rds-ca-2019 is retired")
