"""The one chain verifier: would a client that verifies the server certificate accept this chain on a given day?

``rdsca truststore verify`` (a chain in a file) and ``rdsca probe`` (a chain a server served) both ask it; they once
verified separately and disagreed (an intermediate marked CA:FALSE passed one and failed the other). Pure: the
certificates in, a verdict out. The checks are the ones RFC 5280 section 6 path validation makes that matter for an
RDS chain, as OpenSSL applies them: each signature, each validity period, basicConstraints CA:TRUE on every issuer
with its path length limit, keyCertSign where keyUsage is present, and a path that ends at a root the store holds
(a root the server sends is not trusted for being sent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from rdsca import clock

UNKNOWN_ROOT = "unknown-root"
INTERMEDIATE_ONLY = "intermediate-only"
EXPIRED = "expired"
NOT_YET_VALID = "not-yet-valid"
INVALID_CA = "invalid-ca"
#: Every problem code a verdict can carry.
PROBLEMS = (UNKNOWN_ROOT, INTERMEDIATE_ONLY, EXPIRED, NOT_YET_VALID, INVALID_CA)
#: The most certificates a path may have above the server's: OpenSSL's default verify depth is 100, but no RDS chain
#: has more than two; ten bounds the work a hostile chain can cause.
MAX_DEPTH = 10


@dataclass(frozen=True)
class Verdict:
    #: From the server's certificate up to (not including) the anchor.
    path: list[x509.Certificate]
    #: The store's root the path ends at, when it does.
    anchor: x509.Certificate | None
    #: (code, sentence) for every reason a verifying client would refuse the chain.
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def trusted(self) -> bool:
        return self.anchor is not None and not self.problems


def common_name(name: x509.Name) -> str:
    """A name's CN, or the whole name when it has none."""
    names = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else name.rfc4514_string()


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` signed ``cert`` (names match and the signature verifies)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer and issued_by(cert, cert)


def verify(
    served: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
    today: dt.date,
) -> Verdict:
    """Judge ``served`` (the server's certificate first, then what came with it) against a store's ``roots`` and
    stored ``intermediates`` on ``today``. ``served`` must not be empty."""
    path, anchor = _build_path(served, roots, intermediates)
    problems: list[tuple[str, str]] = []
    if anchor is None:
        problems.append(_no_anchor(path, intermediates))
    moment = clock.instant(today)
    chain = [*path, anchor] if anchor is not None else path
    for index, cert in enumerate(chain):
        found = _validity(cert, moment, index == 0)
        if found:
            problems.append(found)
        if index:
            why = _ca_problem(cert, index - 1)
            if why:
                problems.append((INVALID_CA, why))
    return Verdict(path, anchor, problems)


def _build_path(
    served: Sequence[x509.Certificate], roots: Sequence[x509.Certificate], intermediates: Sequence[x509.Certificate]
) -> tuple[list[x509.Certificate], x509.Certificate | None]:
    pool = [c for c in served[1:] if not self_signed(c)] + list(intermediates)
    path = [served[0]]
    for _ in range(MAX_DEPTH):
        current = path[-1]
        root = next((r for r in roots if issued_by(current, r)), None)
        if root is not None:
            return path, root
        issuer = next((c for c in pool if c not in path and issued_by(current, c)), None)
        if issuer is None:
            break
        path.append(issuer)
    return path, None


def _no_anchor(path: list[x509.Certificate], intermediates: Sequence[x509.Certificate]) -> tuple[str, str]:
    top = path[-1]
    stored = [c for c in path[1:] if c in intermediates]
    if stored:
        return (
            INTERMEDIATE_ONLY,
            f"the store holds the intermediate {common_name(stored[-1].subject)} but not the root above it "
            f"({common_name(top.issuer)}); OpenSSL-based clients refuse this, Java clients accept it until the "
            "intermediate is rotated",
        )
    return (
        UNKNOWN_ROOT,
        f"{common_name(top.subject)} is issued by {common_name(top.issuer)}, which is not a root in the store",
    )


def _validity(cert: x509.Certificate, moment: dt.datetime, leaf: bool) -> tuple[str, str] | None:
    what = f"the server certificate {common_name(cert.subject)}" if leaf else common_name(cert.subject)
    if cert.not_valid_after_utc < moment:
        return EXPIRED, f"{what} expired on {cert.not_valid_after_utc.date().isoformat()}"
    if cert.not_valid_before_utc > moment:
        return NOT_YET_VALID, f"{what} is not valid before {cert.not_valid_before_utc.date().isoformat()}"
    return None


def _ca_problem(cert: x509.Certificate, below: int) -> str | None:
    """Why ``cert`` cannot issue (not a CA, no keyCertSign, or a path length limit under ``below`` intermediates)."""
    name = common_name(cert.subject)
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        # Version 1 roots carry no extensions and OpenSSL still accepts them as trust anchors.
        return None if self_signed(cert) else f"{name} is not marked as a CA"
    if not constraints.ca:
        return f"{name} is not a CA (basicConstraints CA:FALSE)"
    if constraints.path_length is not None and below > constraints.path_length:
        return f"{name} allows {constraints.path_length} intermediate(s) below it"
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if not usage.key_cert_sign:
        return f"{name} may not sign certificates (keyUsage without keyCertSign)"
    return None
