"""Test certificate authorities made with ``cryptography``: roots, intermediates and server certificates."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Real time, not the pinned "today": the servers' TLS stacks and the independent clients judge with the clock.
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
VALID = (NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=365))
EXPIRED = (NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=30))

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def new_key(kind: str = "ec") -> Key:
    return rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())


@dataclass
class Issued:
    cert: x509.Certificate
    key: Key

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rdsca tests"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def ca(
    cn: str,
    issuer: Issued | None = None,
    kind: str = "ec",
    path_length: int | None = None,
    validity: tuple[dt.datetime, dt.datetime] = VALID,
) -> Issued:
    key = new_key(kind)
    signer = issuer or Issued(None, key)  # type: ignore[arg-type]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    return Issued(builder.sign(signer.key, hashes.SHA256()), key)


def server(
    names: list[str],
    issuer: Issued,
    kind: str = "ec",
    validity: tuple[dt.datetime, dt.datetime] = VALID,
    cn: str | None = None,
    ca_flag: bool = False,
) -> Issued:
    key = new_key(kind)
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn or (names[0] if names else "no-name")))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=ca_flag, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    )
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def write(directory: Path, name: str, leaf: Issued, *chain: Issued) -> tuple[Path, Path]:
    """``name.crt`` (the server's certificate, then ``chain``) and ``name.key``, as servers read them."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    cert.write_bytes(leaf.pem + b"".join(c.pem for c in chain))
    key.write_bytes(leaf.key_pem)
    key.chmod(0o600)
    return cert, key
