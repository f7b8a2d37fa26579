"""Judge a served chain against trust stores, as a verifying client would, and answer the rotation question (pure).

A client that verifies (libpq ``verify-full``, MySQL ``VERIFY_IDENTITY``, JDBC) builds a path from the server's
certificate through the intermediates it was sent to a self-signed root in its trust store, checks every
signature and validity period, that issuers are CAs, and that the name it dialled is in the certificate. The
rotation question is the trust store's: does it hold the target CA's root for the database's region (AWS:
"update your clients' trust stores, then rotate"). Nothing here touches the network; dates are ``today``'s.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from rdsca import catalog, chains
from rdsca import truststore as ts
from rdsca.text import shorten

# Trust reasons, as codes (JSON, SARIF) beside their sentences: the chain's own from rdsca.chains, and the name's.
UNKNOWN_ROOT, INTERMEDIATE_ONLY, EXPIRED = chains.UNKNOWN_ROOT, chains.INTERMEDIATE_ONLY, chains.EXPIRED
NOT_YET_VALID, INVALID_CA = chains.NOT_YET_VALID, chains.INVALID_CA
NAME_MISMATCH = "name-mismatch"

# Rotation answers.
READY, WILL_BREAK, NOT_APPLICABLE, UNKNOWN = "ready", "will-break", "not-applicable", "unknown"

# RDS, Aurora and DocumentDB host names end in <region>.rds.amazonaws.com (.com.cn in China) or
# <region>.docdb.amazonaws.com. RDS Proxy endpoints are <name>[.endpoint].proxy-<id>.<region>.rds.amazonaws.com:
# the label just before the region is "proxy-..." (RDS Proxy docs, "Working with Amazon RDS Proxy endpoints").
_REGION = catalog.REGION_PATTERN
_AWS_HOST = re.compile(rf"\.(?P<region>{_REGION})\.(?:rds|docdb|neptune)\.amazonaws\.com(?:\.cn)?\.?$")
_PROXY_HOST = re.compile(rf"\.proxy-[a-z0-9]+\.{_REGION}\.rds\.amazonaws\.com(?:\.cn)?\.?$")


def region_of_host(host: str) -> str | None:
    match = _AWS_HOST.search(host.lower())
    return match["region"] if match else None


def is_proxy_host(host: str) -> bool:
    return bool(_PROXY_HOST.search(host.lower()))


# -- the served chain ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertInfo:
    subject: str
    cn: str
    issuer_cn: str
    sans: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    key_type: str
    sha256: str

    def days_left(self, today: dt.date) -> int:
        return (self.not_after.date() - today).days


def _sans(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return ext.get_values_for_type(x509.DNSName), [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]


def describe(cert: x509.Certificate) -> CertInfo:
    dns, ips = _sans(cert)
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        cn=ts.common_name(cert.subject),
        issuer_cn=ts.common_name(cert.issuer),
        sans=tuple(dns + ips),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=ts.classify(cert).key_type,
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
    )


@dataclass(frozen=True)
class IssuingCa:
    """The RDS CA a chain comes from, read off the CA names in it (``rdsca.truststore.family_of``)."""

    family: str
    region: str | None
    stage: str | None
    #: The served certificate's issuer (common name) when no RDS CA is in the chain: who issued it instead.
    issuer: str | None = None

    @property
    def is_rds(self) -> bool:
        return self.family != ts.OTHER

    def __str__(self) -> str:
        if not self.is_rds:
            return f"{ts.OTHER}: {shorten(self.issuer, 80)}" if self.issuer else ts.OTHER
        stage = f" ({self.stage.lower()})" if self.stage else ""
        return f"{self.family} {self.region}{stage}" if self.region else self.family


def issuing_ca(chain: Sequence[x509.Certificate]) -> IssuingCa:
    """The family and region of the first RDS CA name met walking up the chain (G1 leaves are issued by a
    "Subordinate CA" intermediate, itself issued by "Amazon RDS <region> Root CA <family> G1")."""
    for cert in chain:
        family, region, stage = ts.family_of(ts.common_name(cert.issuer))
        if family != ts.OTHER:
            return IssuingCa(family, region, stage)
    issuer = ts.common_name(chain[0].issuer) if chain else ""
    return IssuingCa(ts.OTHER, None, None, issuer or None)


# -- host names ----------------------------------------------------------------------------------------------------


def _dns_match(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    # A wildcard stands for one whole left-most label only, and not above a registrable-looking suffix (RFC 6125
    # 6.4.3, as libpq and Python's ssl module apply it).
    if pattern.startswith("*.") and "*" not in pattern[2:] and pattern.count(".") >= 2:
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return False


def name_matches(cert: x509.Certificate, name: str) -> bool:
    """Whether a client dialling ``name`` accepts ``cert``: DNS names against dNSName SANs (the CN only when there
    is none, as libpq and OpenSSL's X509_check_host do), IP addresses against iPAddress SANs."""
    dns, ips = _sans(cert)
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        return any(ipaddress.ip_address(ip) == address for ip in ips)
    if dns:
        return any(_dns_match(pattern, name) for pattern in dns)
    return _dns_match(ts.common_name(cert.subject), name)


# -- trust -------------------------------------------------------------------------------------------------------


@dataclass
class Trust:
    """One store's verdict on one served chain."""

    trusted: bool
    #: (code, sentence) for every reason a verifying client would refuse the chain.
    problems: list[tuple[str, str]] = field(default_factory=list)
    #: The store's root the chain ends at, when it does.
    anchor: ts.Entry | None = None
    #: The path from the server's certificate up to (not including) the anchor.
    path: list[x509.Certificate] = field(default_factory=list)


def verify(served: Sequence[x509.Certificate], store: Sequence[ts.Entry], today: dt.date, name: str | None) -> Trust:
    """Judge the chain as a verifying client with this trust store would, on ``today``; ``name`` is the host
    name the client checks (None: the client does not check it)."""
    roots = [e.cert for e in store if e.root]
    verdict = chains.verify(served, roots, [e.cert for e in store if not e.root], today)
    anchor = next((e for e in store if e.root and e.cert == verdict.anchor), None)
    problems = list(verdict.problems)
    path = verdict.path
    if name is not None and not name_matches(served[0], name):
        dns, ips = _sans(served[0])
        names = ", ".join(dns + ips) or f"CN {ts.common_name(served[0].subject)}"
        problems.append((NAME_MISMATCH, f"the server certificate is for {names}, not {name}"))
    return Trust(not problems, problems, anchor, path)


# -- rotation --------------------------------------------------------------------------------------------------------


def rotation(store: Sequence[ts.Entry], target: str, region: str | None, today: dt.date) -> tuple[str, str]:
    """Whether a client with this store still trusts the database after it moves to ``target`` in ``region``."""
    if region is None:
        return UNKNOWN, "the database's region is unknown (give --region)"
    missing = ts.unmet(store, today, [region], [target])
    if missing:
        return WILL_BREAK, f"{missing[0]}: clients with this store break once the database serves {target}"
    return READY, f"the store holds the current {target} root for {region}"


@dataclass(frozen=True)
class Target:
    """The CA an endpoint's rotation is judged for, and where that choice came from."""

    ca: str | None
    source: str
    #: Why the rotation question does not apply (then ``ca`` is None).
    not_applicable: str | None = None


def choose_target(
    option: str | None,
    served: IssuingCa,
    *,
    proxy: bool = False,
    audit_not_applicable: str | None = None,
    audit_ca: str | None = None,
    audit_pending: str | None = None,
    audit_replacement: str | None = None,
) -> Target:
    """``--target-ca``, else the audit's pending change, its suggested replacement, the database's current CA, or
    the served chain's CA; not applicable to RDS Proxy, to what the audit calls not applicable, and to chains
    from no RDS CA when nothing names a target."""
    if proxy:
        return Target(
            None, "", "RDS Proxy serves an ACM certificate (Amazon Root CA); the database's CA does not change it"
        )
    if audit_not_applicable:
        return Target(None, "", audit_not_applicable)
    if option:
        return Target(option, "--target-ca")
    current = set(catalog.CURRENT_CAS)
    if audit_pending in current:
        return Target(audit_pending, "the audit's pending change")
    if audit_ca not in current and audit_replacement in current:
        return Target(audit_replacement, "the audit's replacement")
    if audit_ca in current:
        return Target(audit_ca, "the database's current CA")
    if served.family in current:
        return Target(served.family, "the served chain's CA")
    if served.is_rds:
        return Target(catalog.DEFAULT_TARGET, f"AWS's default (the served {served.family} is retired)")
    return Target(
        None,
        "",
        "the served chain is not from an RDS CA: judged on trust alone (give --target-ca to ask the rotation question)",
    )
