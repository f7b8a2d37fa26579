"""rds-ca-apply-immediately: disabled by default; advisory when enabled."""

from __future__ import annotations

from .harness import HAPPY, INSTANCE, UNKNOWN, Pack, failing

NAME = "rds-ca-apply-immediately"

DEFERRED = {
    name: (type_, {k: v for k, v in props.items() if k != "applyImmediately"})
    for name, (type_, props) in HAPPY.items()
}


def test_disabled_by_default(pack: Pack) -> None:
    assert failing(pack, NAME, DEFERRED) == set()


def test_exact_sets_when_enabled() -> None:
    pack = Pack(levels={NAME: "advisory"})
    assert failing(pack, NAME, HAPPY) == set()
    # The account default has no applyImmediately; every database type does.
    assert failing(pack, NAME, DEFERRED) == set(HAPPY) - {"account-default"}
    explicit_false = {"engine": "mysql", "caCertIdentifier": "rds-ca-rsa2048-g1", "applyImmediately": False}
    (diag,) = [d for d in pack.analyze(INSTANCE, explicit_false, name="app") if d.policy == NAME]
    assert diag.level == "advisory"
    assert diag.message.endswith(
        "aws.rds.Instance app: the CA is set with apply_immediately=False, so the change waits for the next "
        "maintenance window. Set apply_immediately=True to apply it now (engines that restart to rotate will restart)."
    )
    unset_apply = {"engine": "mysql", "caCertIdentifier": "rds-ca-rsa2048-g1"}
    (diag,) = [d for d in pack.analyze(INSTANCE, unset_apply, name="app") if d.policy == NAME]
    assert "aws.rds.Instance app: the CA is set without apply_immediately, so" in diag.message
    unset_ca = {"engine": "mysql"}
    assert [d for d in pack.analyze(INSTANCE, unset_ca) if d.policy == NAME] == []
    unknown = {"engine": "mysql", "caCertIdentifier": "rds-ca-rsa2048-g1", "applyImmediately": UNKNOWN}
    assert [d.level for d in pack.analyze(INSTANCE, unknown) if d.policy == NAME] == ["advisory"]


def test_remediation_applies_now_and_keeps_the_ca() -> None:
    pack = Pack(levels={NAME: "remediate"})
    fixed, changed = pack.remediate(*DEFERRED["instance"])
    assert changed == [NAME]
    assert (fixed["caCertIdentifier"], fixed["applyImmediately"]) == ("rds-ca-rsa2048-g1", True)
