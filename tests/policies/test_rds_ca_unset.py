"""rds-ca-unset: databases that leave the CA to the account default (advisory)."""

from __future__ import annotations

from .harness import CERTIFICATE, CLUSTER, HAPPY, INSTANCE, Pack, failing, with_ca

NAME = "rds-ca-unset"


def test_exact_sets(pack: Pack) -> None:
    assert failing(pack, NAME, HAPPY) == set()
    databases = {name for name, (type_, _) in HAPPY.items() if type_ != CERTIFICATE}
    assert failing(pack, NAME, with_ca(...)) == databases
    aurora = {"engine": "aurora-postgresql"}
    assert [d for d in pack.analyze(CLUSTER, aurora) if d.policy == NAME] == []
    custom = {"engine": "custom-sqlserver-ee"}
    assert [d for d in pack.analyze(INSTANCE, custom) if d.policy == NAME] == []


def test_message_and_remediation(pack: Pack) -> None:
    (diag,) = [d for d in pack.analyze(INSTANCE, {"engine": "mysql"}, name="app") if d.policy == NAME]
    assert diag.level == "advisory"
    assert diag.message.startswith(
        "A database should name its CA rather than leave it to the account default.\n"
        "aws.rds.Instance app: no CA set: the account's default CA for new launches decides (rds-ca-rsa2048-g1 "
        "unless the account overrides it); an existing database keeps the CA it has."
    )
    fixed, changed = Pack(levels={NAME: "remediate"}).remediate(INSTANCE, {"engine": "mysql"})
    # Issue 25.1: its current CA is not known here and mysql may restart to rotate: the maintenance window.
    assert (changed, fixed["caCertIdentifier"], fixed["applyImmediately"]) == ([NAME], "rds-ca-rsa2048-g1", False)
    allowed = Pack(config={NAME: {"restart": "allow"}}, levels={NAME: "remediate"})
    fixed, _ = allowed.remediate(INSTANCE, {"engine": "mysql"})
    assert fixed["applyImmediately"] is True


def test_remediation_keeps_the_program_s_own_apply_immediately() -> None:
    """As Terraform --fix does: an apply_immediately the program sets is its own; only the CA is written."""
    fixed, changed = Pack(levels={NAME: "remediate"}).remediate(
        INSTANCE, {"engine": "mysql", "applyImmediately": True}
    )
    assert (changed, fixed["caCertIdentifier"], fixed["applyImmediately"]) == ([NAME], "rds-ca-rsa2048-g1", True)
