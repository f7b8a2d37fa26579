"""rds-ca-allowed-list: off by default, exact sets with a list, remediation within the list."""

from __future__ import annotations

from .harness import HAPPY, INSTANCE, Pack, failing, with_ca

NAME = "rds-ca-allowed-list"
ONLY_4096 = {NAME: {"allowedCas": ["rds-ca-rsa4096-g1"]}}


def test_off_without_a_list(pack: Pack) -> None:
    for ca in ("rds-ca-rsa2048-g1", "rds-ca-ecc384-g1", "rds-ca-2019"):
        assert failing(pack, NAME, with_ca(ca)) == set()


def test_exact_sets_with_a_list() -> None:
    pack = Pack(config=ONLY_4096)
    assert failing(pack, NAME, HAPPY) == set(HAPPY)
    assert failing(pack, NAME, with_ca("rds-ca-rsa4096-g1")) == set()
    assert failing(pack, NAME, with_ca(...)) == set()  # unset: rds-ca-unset's business


def test_message_and_level() -> None:
    pack = Pack(config=ONLY_4096)
    (diag,) = [d for d in pack.analyze(*HAPPY["instance"], name="orders") if d.policy == NAME]
    assert diag.level == "mandatory"
    assert "aws.rds.Instance orders: rds-ca-rsa2048-g1 is not in the allowed list (rds-ca-rsa4096-g1)." in diag.message
    assert 'Set ca_cert_identifier="rds-ca-rsa4096-g1"' in diag.message


def test_remediation_picks_an_allowed_ca_the_engine_accepts() -> None:
    config = {NAME: {"allowedCas": ["rds-ca-ecc384-g1", "rds-ca-rsa4096-g1"]}}
    pack = Pack(config=config, levels={NAME: "remediate"})
    fixed, changed = pack.remediate(INSTANCE, {"engine": "sqlserver-se", "caCertIdentifier": "rds-ca-rsa2048-g1"})
    assert (changed, fixed["caCertIdentifier"]) == ([NAME], "rds-ca-rsa4096-g1")  # SQL Server refuses ECC384
