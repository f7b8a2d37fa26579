"""rdsca's JKS reader and writer (``rdsca.truststore.jks``) against purejks, an independent implementation: each
reads what the other writes, private key entries and Java's modified UTF-8 included, and a damaged store is one
``JksError``, never another exception."""

from __future__ import annotations

import jks as purejks
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from rdsca.truststore import jks

from .conftest import FIXTURES

DERS = [c.public_bytes(serialization.Encoding.DER)
        for c in x509.load_pem_x509_certificates((FIXTURES / "rds-global-bundle-2024-06.pem").read_bytes())[:5]]
#: Aliases where Java's modified UTF-8 and UTF-8 agree (purejks reads plain UTF-8), and two where they differ.
ALIASES = ["rds-ca-rsa2048-g1 us-east-1", "ünïcode", "日本語", "x" * 300, "eu-west-3"]
JAVA_ONLY = ["astral \U0001f512 lock", "nul\x00inside"]


def test_purejks_reads_what_rdsca_writes() -> None:
    data = jks.dump(list(zip(ALIASES, DERS, strict=True)), "changeit", timestamp_ms=1_700_000_000_000)
    store = purejks.KeyStore.loads(data, "changeit")
    assert {alias: entry.cert for alias, entry in store.certs.items()} == dict(zip(ALIASES, DERS, strict=True))
    assert all(entry.timestamp == 1_700_000_000_000 for entry in store.certs.values())


def test_modified_utf8_as_java_writes_it_round_trips() -> None:
    """DataOutput.writeUTF: NUL is C0 80 and an astral character its two surrogates, each UTF-8-encoded alone
    (purejks reads plain UTF-8, so this is checked against the bytes Java writes)."""
    data = jks.dump([(JAVA_ONLY[0], DERS[0]), (JAVA_ONLY[1], DERS[1])], "pw")
    assert b"\xc0\x80" in data and b"nul\x00inside" not in data
    assert "\ud83d".encode("utf-8", "surrogatepass") + "\udd12".encode("utf-8", "surrogatepass") in data
    assert jks.load(data, "pw") == [(JAVA_ONLY[0], DERS[0]), (JAVA_ONLY[1], DERS[1])]


def test_rdsca_reads_what_purejks_writes_private_key_chains_included() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    entries = [purejks.TrustedCertEntry.new(alias, der) for alias, der in zip(ALIASES[:3], DERS[:3], strict=True)]
    entries.append(purejks.PrivateKeyEntry.new("server", [DERS[3], DERS[4]], key))
    data = purejks.KeyStore.new("jks", entries).saves("s3cret")
    assert sorted(jks.load(data, "s3cret")) == sorted(
        [*zip(ALIASES[:3], DERS[:3], strict=True), ("server", DERS[3]), ("server#1", DERS[4])])


def test_a_wrong_password_and_a_changed_byte_are_told_apart() -> None:
    data = jks.dump([("a", DERS[0])], "right")
    with pytest.raises(jks.JksError) as wrong:
        jks.load(data, "wrong")
    assert wrong.value.wrong_password
    changed = bytearray(data)
    changed[40] ^= 0xFF
    with pytest.raises(jks.JksError):
        jks.load(bytes(changed), "right")
    with pytest.raises(jks.JksError, match="JCEKS"):
        jks.load(b"\xce\xce\xce\xce" + data[4:], "right")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_damaged_store_is_one_jks_error(data: st.DataObject) -> None:
    good = jks.dump(list(zip(ALIASES[:2], DERS[:2], strict=True)), "pw")
    cut = data.draw(st.integers(0, len(good)))
    noise = data.draw(st.binary(max_size=64))
    position = data.draw(st.integers(0, len(good) - 1))
    damaged = good[:position] + noise + good[position + len(noise):] if noise else good[:cut]
    if damaged == good:
        return
    with pytest.raises(jks.JksError):
        jks.load(damaged, "pw")
