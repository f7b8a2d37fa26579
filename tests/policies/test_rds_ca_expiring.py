"""rds-ca-expiring: days threshold (default and configured), per-region dates, remediation."""

from __future__ import annotations

import pytest

from .harness import HAPPY, INSTANCE, Pack, failing

NAME = "rds-ca-expiring"
PG = {"engine": "postgres", "caCertIdentifier": "rds-ca-rsa2048-g1", "region": "us-west-2"}  # ends 2061-05-24


def test_nothing_expires_soon_today(pack: Pack) -> None:
    assert failing(pack, NAME, HAPPY) == set()


@pytest.mark.parametrize(
    ("as_of", "days", "fails"),
    [
        ("2060-11-25", None, True),  # 180 days left: the default threshold includes it
        ("2060-11-24", None, False),  # 181 days left
        ("2060-05-24", 365, True),  # 365 days left, configured threshold
        ("2060-05-23", 365, False),
        ("2061-05-23", 0, False),  # 1 day left, threshold 0
    ],
)
def test_threshold(monkeypatch: pytest.MonkeyPatch, as_of: str, days: int | None, fails: bool) -> None:
    monkeypatch.setenv("RDSCA_AS_OF", as_of)
    pack = Pack(config={NAME: {"days": days}}) if days is not None else Pack()
    assert bool(failing(pack, NAME, {"pg": (INSTANCE, PG)})) is fails


def test_message_and_advisory_level(monkeypatch: pytest.MonkeyPatch, pack: Pack) -> None:
    monkeypatch.setenv("RDSCA_AS_OF", "2061-01-01")
    (diag,) = [d for d in pack.analyze(INSTANCE, PG, name="orders") if d.policy == NAME]
    assert diag.level == "advisory"
    assert "aws.rds.Instance orders: rds-ca-rsa2048-g1 expires on 2061-05-24 in us-west-2 (143 days left, threshold 180)." in diag.message
    assert 'Set ca_cert_identifier="rds-ca-rsa4096-g1"' in diag.message  # not the expiring CA itself


def test_remediation_moves_off_the_expiring_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RDSCA_AS_OF", "2061-01-01")
    pack = Pack(levels={NAME: "remediate"})
    fixed, changed = pack.remediate(INSTANCE, PG)
    assert (changed, fixed["caCertIdentifier"]) == ([NAME], "rds-ca-rsa4096-g1")
