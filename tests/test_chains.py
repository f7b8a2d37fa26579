"""The one chain verifier (rdsca.chains) and the two commands that use it: ``truststore verify`` and ``probe``.

They once verified separately and disagreed: a chain whose intermediate is marked CA:FALSE passed ``rdsca truststore
verify`` (exit 0, "chains to ...") and was ``invalid-ca`` in ``rdsca probe``. Both now give the same verdict.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rdsca import chains, clock
from rdsca.cli import cli

from .probe import pki, servers


@pytest.fixture(scope="module")
def not_a_ca_chain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """root -> "intermediate" marked CA:FALSE -> server certificate for localhost."""
    directory = tmp_path_factory.mktemp("chains")
    root = pki.ca("rdsca chains test root")
    fake_intermediate = pki.server(["intermediate.example"], root)  # CA:FALSE, as a server certificate is
    leaf = pki.server(["localhost"], pki.Issued(fake_intermediate.cert, fake_intermediate.key))
    cert, key = pki.write(directory, "leaf", leaf, fake_intermediate)
    (directory / "root.pem").write_bytes(root.pem)
    return {"chain": cert, "key": key, "root": directory / "root.pem"}


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def test_truststore_verify_refuses_an_intermediate_that_is_not_a_ca(not_a_ca_chain: dict[str, Path]) -> None:
    code, out = _cli(
        "truststore", "verify", str(not_a_ca_chain["chain"]), "--bundle", str(not_a_ca_chain["root"]), "--format", "json"
    )
    report = json.loads(out)
    assert (code, report["chains"]) == (1, False)
    assert report["problems"] == [
        {"code": "invalid-ca", "text": "intermediate.example is not a CA (basicConstraints CA:FALSE)"}
    ]


def test_probe_refuses_the_same_chain_for_the_same_reason(not_a_ca_chain: dict[str, Path]) -> None:
    server = servers.tls_server(servers.server_context(not_a_ca_chain["chain"], not_a_ca_chain["key"]))
    try:
        code, out = _cli(
            "probe", f"localhost:{server.port}", "--engine", "tls", "--store", str(not_a_ca_chain["root"]),
            "--format", "json",
        )
    finally:
        server.close()
    store = json.loads(out)["endpoints"][0]["stores"][0]
    assert code == 1
    assert store["problems"] == [
        {"code": "invalid-ca", "text": "intermediate.example is not a CA (basicConstraints CA:FALSE)"}
    ]


def test_an_issuer_without_key_cert_sign_cannot_issue() -> None:
    root = pki.ca("root")
    inter = pki.ca("inter", root)
    # The same intermediate's key and name, re-issued with keyUsage digitalSignature only.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    no_sign = (
        x509.CertificateBuilder()
        .subject_name(inter.cert.subject)
        .issuer_name(root.cert.subject)
        .public_key(inter.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(inter.cert.not_valid_before_utc)
        .not_valid_after(inter.cert.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .sign(root.key, hashes.SHA256())
    )
    leaf = pki.server(["x.example"], inter)
    verdict = chains.verify([leaf.cert, no_sign], [root.cert], [], pki.NOW.date())
    assert verdict.problems == [("invalid-ca", "inter may not sign certificates (keyUsage without keyCertSign)")]
    assert chains.verify([leaf.cert, inter.cert], [root.cert], [], pki.NOW.date()).trusted


def test_a_chain_longer_than_the_depth_limit_is_not_followed_forever() -> None:
    issuer = pki.ca("root")
    root = issuer
    served = []
    for n in range(chains.MAX_DEPTH + 3):
        issuer = pki.ca(f"inter {n}", issuer)
        served.append(issuer.cert)
    leaf = pki.server(["x.example"], issuer)
    verdict = chains.verify([leaf.cert, *reversed(served)], [root.cert], [], pki.NOW.date())
    assert not verdict.trusted and verdict.anchor is None
    assert len(verdict.path) == chains.MAX_DEPTH + 1
    assert [code for code, _ in verdict.problems] == ["unknown-root"]


def test_without_as_of_a_certificate_is_judged_now_not_at_noon(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --as-of, every certificate was judged at 12:00 UTC of today: a server certificate issued this
    afternoon was "not valid before" today (NOT TRUSTED, exit 1). Seen with `openssl s_server` and a certificate
    made a minute before. The clock is fixed at 15:00 UTC so that the test means the same at any hour."""
    moment = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.timezone.utc)
    monkeypatch.delenv(clock.AS_OF_ENV, raising=False)
    monkeypatch.setattr(clock, "now", lambda: moment)
    root = pki.ca("review root", validity=(moment - dt.timedelta(days=1), moment + dt.timedelta(days=365)))
    leaf = pki.server(["db.example.test"], root, validity=(moment - dt.timedelta(minutes=2), moment + dt.timedelta(minutes=2)))
    verdict = chains.verify([leaf.cert], [root.cert], [], clock.today())
    assert verdict.trusted, verdict.problems
    # Pinned to that day, the same certificate is judged at noon, before it was issued: a different answer.
    monkeypatch.setenv(clock.AS_OF_ENV, "2026-11-27")
    assert [c for c, _ in chains.verify([leaf.cert], [root.cert], [], clock.today()).problems] == ["not-yet-valid"]
