"""Which roots are AWS's: judged by public key, never by name.

Anyone can make a self-signed certificate named "Amazon RDS us-east-1 Root CA RSA2048 G1"; a store holding one is not
ready for AWS's CA. A root counts as AWS's when the SHA-256 of its SubjectPublicKeyInfo is one of the keys in AWS's
RDS bundle (``aws_roots_data``, generated from the 2024-06 global bundle by tools/aws_roots.py), or one the user
vouches for with ``--known-roots`` (a newer bundle, GovCloud's or China's), or one just downloaded from AWS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from rdsca.truststore.aws_roots_data import ROOT_KEYS

#: Keys added for this run: ``--known-roots`` and bundles downloaded from AWS (process-wide, like the CLI's options).
_vouched: set[str] = set()


def key_id(cert: x509.Certificate) -> str:
    """SHA-256 (hex) of the certificate's DER SubjectPublicKeyInfo."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def is_aws(cert: x509.Certificate) -> bool:
    key = key_id(cert)
    return key in ROOT_KEYS or key in _vouched


def vouch(certs: Iterable[x509.Certificate]) -> int:
    """Accept these certificates' roots as AWS's for the rest of the run; returns how many roots were added."""
    keys = {key_id(c) for c in certs if c.subject == c.issuer}
    _vouched.update(keys)
    return len(keys)


def forget() -> None:
    """Drop every vouched key (tests, and a library caller starting over)."""
    _vouched.clear()
