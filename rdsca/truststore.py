"""Client trust stores for RDS: read a bundle or store, classify its certificates, build stores, verify chains.

Parsing and PKCS#12 are ``cryptography``'s (``serialize_java_truststore`` writes the trusted-certificate
attribute Java's PKCS12 KeyStore needs to see an entry as trusted); JKS is ``purejks``, a maintained
pure-Python fork of pyjks (no C compiler, unlike pyjks's twofish dependency, and no stray top-level ``tests``
package). Everything here is pure except ``write_store``/``download``; dates are judged against ``today``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from rdsca import catalog, chains, files
from rdsca.chains import common_name
from rdsca.errors import RdscaError

#: AWS publishes the bundles here (RDS User Guide, "Using SSL/TLS to encrypt a connection to a DB instance or
#: cluster", certificate bundles); a mirror can stand in with --base-url.
BASE_URL = "https://truststore.pki.rds.amazonaws.com"
FORMATS = ("pkcs12", "jks", "pem", "pem-dir")
OTHER = "other"

_G1_FAMILIES = {"RSA2048": catalog.RSA2048_G1, "RSA4096": catalog.RSA4096_G1, "ECC384": catalog.ECC384_G1}
_REGION = r"[a-z]{2}(?:-gov)?(?:-[a-z]+)+-\d"
_G1 = re.compile(
    rf"^Amazon RDS (?:(?P<stage>Beta|Preview) )?(?P<region>{_REGION}) Root CA (?P<fam>RSA2048|RSA4096|ECC384) G1$"
)
_2019_REGIONAL = re.compile(rf"^Amazon RDS (?:(?P<stage>Beta|Preview) )?(?P<region>{_REGION}) (?:2019 CA|Root CA|CA)$")
_2019_ROOT = re.compile(r"^Amazon RDS (?:(?P<stage>Beta|Preview) )?Root 2019 CA$")


class TruststoreError(RdscaError):
    """Unreadable input, a wrong password, or a store that cannot be written: exit 2, nothing overwritten."""


@dataclass(frozen=True)
class Entry:
    cert: x509.Certificate
    cn: str
    family: str
    region: str | None
    #: "beta" / "preview" for AWS's pre-release endpoints' roots, else None.
    stage: str | None
    root: bool
    key_type: str
    not_after: dt.datetime
    sha1: str

    def days_left(self, today: dt.date) -> int:
        return (self.not_after.date() - today).days

    def expired(self, today: dt.date) -> bool:
        return self.not_after.date() <= today

    @property
    def alias(self) -> str:
        """The clean subject CN as an alias (lower case: JKS lower-cases aliases anyway)."""
        return re.sub(r"[^a-z0-9]+", "-", self.cn.lower()).strip("-") or self.sha1[:16]

    def to_json(self, today: dt.date) -> dict[str, Any]:
        return {
            "subject_cn": self.cn,
            "region": self.region,
            "stage": self.stage,
            "family": self.family,
            "kind": "root" if self.root else "intermediate",
            "key_type": self.key_type,
            "valid_until": self.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "days_left": self.days_left(today),
            "expired": self.expired(today),
            "sha1": self.sha1,
        }


def _key_type(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__


def family_of(cn: str) -> tuple[str, str | None, str | None]:
    """(CA family, region, pre-release stage) that an RDS CA's common name spells; (``OTHER``, None, None) else."""
    if match := _G1.match(cn):
        return _G1_FAMILIES[match["fam"]], match["region"], match["stage"]
    if match := _2019_REGIONAL.match(cn) or _2019_ROOT.match(cn):
        return catalog.CA_2019, match.groupdict().get("region"), match["stage"]
    return OTHER, None, None


def classify(cert: x509.Certificate) -> Entry:
    cn = common_name(cert.subject)
    family, region, stage = family_of(cn)
    root = cert.subject == cert.issuer
    return Entry(
        cert=cert,
        cn=cn,
        family=family,
        region=region,
        stage=stage.lower() if stage else None,
        root=root,
        key_type=_key_type(cert),
        not_after=cert.not_valid_after_utc,
        sha1=cert.fingerprint(hashes.SHA1()).hex(),  # a thumbprint, as AWS lists them
    )


def order(entries: Iterable[Entry]) -> list[Entry]:
    """A fixed order: family, region, root before intermediate, CN, thumbprint."""
    return sorted(entries, key=lambda e: (e.family, e.region or "", e.stage or "", not e.root, e.cn, e.sha1))


# -- reading -------------------------------------------------------------------------------------------------------


def load(data: bytes, name: str, password: str | None = None) -> list[x509.Certificate]:
    """Certificates from a PEM bundle, PKCS#7 (PEM or DER), PKCS#12, JKS or a single DER certificate."""
    stripped = data.lstrip()
    if stripped.startswith(b"-----BEGIN"):
        if data.count(b"-----BEGIN CERTIFICATE-----") != data.count(b"-----END CERTIFICATE-----"):
            raise TruststoreError(f"{name}: truncated PEM (a BEGIN CERTIFICATE without its END)")
        try:
            if stripped.startswith(b"-----BEGIN PKCS7-----"):
                return pkcs7.load_pem_pkcs7_certificates(data)
            return x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise TruststoreError(f"{name}: not a valid PEM certificate bundle ({exc})") from None
    if data[:4] == b"\xfe\xed\xfe\xed":
        return _load_jks(data, name, password)
    try:
        return pkcs7.load_der_pkcs7_certificates(data)
    except ValueError:
        pass
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        pass
    if password is None:
        raise TruststoreError(f"{name}: not a certificate bundle, or a PKCS#12 file that needs a password")
    try:
        bundle = pkcs12.load_pkcs12(data, password.encode())
    except ValueError:
        raise TruststoreError(f"{name}: not a certificate bundle, or a PKCS#12 file with another password") from None
    certs = [c.certificate for c in bundle.additional_certs]
    if bundle.cert is not None:
        certs.insert(0, bundle.cert.certificate)
    return certs


def _load_jks(data: bytes, name: str, password: str | None) -> list[x509.Certificate]:
    import jks  # purejks

    if password is None:
        raise TruststoreError(f"{name}: a JKS store needs its password (--password-env VAR)")
    try:
        store = jks.KeyStore.loads(data, password)
    except jks.util.KeystoreSignatureException:
        raise TruststoreError(f"{name}: wrong password for this JKS store") from None
    except Exception as exc:  # purejks raises several types for corrupt input
        raise TruststoreError(f"{name}: not a readable JKS store ({exc})") from None
    certs = []
    for alias, entry in sorted(store.certs.items()):
        try:
            certs.append(x509.load_der_x509_certificate(entry.cert))
        except ValueError:
            raise TruststoreError(f"{name}: entry {alias!r} is not a readable certificate") from None
    return certs


def read(path: Path, password: str | None = None) -> list[Entry]:
    """Every certificate in a bundle or store, or in the ``*.pem``/``*.crt`` files of a directory (pem-dir)."""
    if path.is_dir():
        return _read_dir(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TruststoreError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not data.strip():
        raise TruststoreError(f"{path}: empty file")
    return [classify(c) for c in load(data, str(path), password)]


def _read_dir(path: Path) -> list[Entry]:
    # What ``build --store-format pem-dir`` writes, and OpenSSL's hashed CApath layout (``<hash>.0`` links to PEM
    # files): every regular file that holds PEM certificates, each certificate once.
    found: dict[str, Entry] = {}
    try:
        files = sorted(p for p in path.iterdir() if p.is_file())
    except OSError as exc:
        raise TruststoreError(f"cannot read {path}: {exc.strerror or exc}") from None
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise TruststoreError(f"cannot read {file}: {exc.strerror or exc}") from None
        if b"-----BEGIN CERTIFICATE-----" not in data:
            continue
        for cert in load(data, str(file)):
            entry = classify(cert)
            found.setdefault(entry.sha1, entry)
    if not found:
        raise TruststoreError(f"{path}: a directory without PEM certificates")
    return list(found.values())


def needs_password(path: Path) -> bool:
    """Whether ``path`` is a store (JKS or PKCS#12) rather than a bundle."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if data[:4] == b"\xfe\xed\xfe\xed":
        return True
    if not data.strip() or data.lstrip().startswith(b"-----BEGIN"):
        return False
    for loader in (pkcs7.load_der_pkcs7_certificates, x509.load_der_x509_certificate):
        try:
            loader(data)
            return False
        except ValueError:
            continue
    # PKCS#12 is DER: a SEQUENCE (0x30). Anything else is not a store, and reading it says what it is instead.
    return data[:1] == b"\x30"


def download(region: str | None = None, base_url: str = BASE_URL, timeout: float = 30.0) -> bytes:
    name = f"{region}/{region}-bundle.pem" if region else "global/global-bundle.pem"
    url = f"{base_url.rstrip('/')}/{name}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bytes(response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise TruststoreError(f"cannot download {url}: {exc}") from None


# -- requirements --------------------------------------------------------------------------------------------------


def unmet(entries: Sequence[Entry], today: dt.date, regions: Sequence[str], families: Sequence[str]) -> list[str]:
    """What the store lacks: a current (unexpired, non-pre-release) root for each required region and family.

    With both lists, every (region, family) pair needs a root; with one, any root of the other dimension counts.
    """
    roots = [e for e in entries if e.root and not e.expired(today) and e.stage is None and e.family != OTHER]
    missing = []
    pairs = [(r, f) for r in regions for f in families] if regions and families else None
    if pairs is not None:
        for region, family in pairs:
            if not any(e.region == region and e.family == family for e in roots):
                missing.append(f"no current {family} root for {region}")
        return missing
    for region in regions:
        if not any(e.region == region for e in roots):
            missing.append(f"no current root for {region}")
    for family in families:
        if not any(e.family == family for e in roots):
            missing.append(f"no current {family} root")
    return missing


def summary(entries: Sequence[Entry], today: dt.date) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for e in entries:
        region = e.region if e.stage is None else f"{e.region or 'global'} ({e.stage})"
        key = (e.family, region or "-")
        group = groups.setdefault(
            key, {"family": e.family, "region": region, "roots": 0, "intermediates": 0, "expired": 0}
        )
        group["roots" if e.root else "intermediates"] += 1
        group["expired"] += int(e.expired(today))
    return [groups[k] for k in sorted(groups)]


# -- building ------------------------------------------------------------------------------------------------------


def select(
    entries: Iterable[Entry],
    today: dt.date,
    regions: Sequence[str] = (),
    families: Sequence[str] = (),
    include_intermediates: bool = False,
    keep_expired: bool = False,
) -> list[Entry]:
    """The certificates a store keeps. A certificate from no RDS CA (family ``other``) is kept only when
    ``families`` names ``other``: an RDS trust store must not gain a root because a bundle or mirror carried one."""
    chosen = [
        e
        for e in entries
        if (include_intermediates or e.root)
        and (keep_expired or not e.expired(today))
        and (not regions or e.region in regions)
        and (e.family in families if families else e.family != OTHER)
    ]
    unique = {e.sha1: e for e in chosen}
    return order(unique.values())


def foreign(entries: Iterable[Entry]) -> list[Entry]:
    """The certificates from no RDS CA (what ``select`` leaves out unless asked)."""
    return order({e.sha1: e for e in entries if e.family == OTHER}.values())


def aliases(entries: Sequence[Entry]) -> list[str]:
    """Clean CNs, made unique with -2, -3 ... in the store's order."""
    seen: dict[str, int] = {}
    result = []
    for e in entries:
        base = e.alias
        seen[base] = seen.get(base, 0) + 1
        result.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return result


SUFFIXES = {
    ".p12": "pkcs12",
    ".pfx": "pkcs12",
    ".pkcs12": "pkcs12",
    ".jks": "jks",
    ".keystore": "jks",
    ".pem": "pem",
    ".crt": "pem",
}


def format_for(out: Path) -> str | None:
    """The store format a file name implies (no suffix: a directory of PEM files)."""
    known = SUFFIXES.get(out.suffix.lower())
    if known is not None:
        return known
    return "pem-dir" if out.is_dir() or not out.suffix else None


def serialize(entries: Sequence[Entry], fmt: str, password: str | None) -> bytes | dict[str, bytes]:
    """The store's bytes (or, for pem-dir, file name -> bytes)."""
    names = aliases(entries)
    if fmt == "pem":
        return b"".join(e.cert.public_bytes(serialization.Encoding.PEM) for e in entries)
    if fmt == "pem-dir":
        return {
            f"{n}.pem": e.cert.public_bytes(serialization.Encoding.PEM) for n, e in zip(names, entries, strict=True)
        }
    assert password is not None
    if fmt == "pkcs12":
        certs = [pkcs12.PKCS12Certificate(e.cert, n.encode()) for n, e in zip(names, entries, strict=True)]
        return pkcs12.serialize_java_truststore(certs, serialization.BestAvailableEncryption(password.encode()))
    if fmt == "jks":
        import jks  # purejks

        store = jks.KeyStore.new(
            "jks",
            [
                jks.TrustedCertEntry.new(n, e.cert.public_bytes(serialization.Encoding.DER))
                for n, e in zip(names, entries, strict=True)
            ],
        )
        return bytes(store.saves(password))
    raise ValueError(fmt)


def read_back(path: Path, fmt: str, password: str | None) -> list[tuple[str, str]]:
    """(alias, SHA-1) of what a written store holds, in its order (JKS holds no order: sorted by alias)."""
    if fmt == "pem-dir":
        return [(p.stem, classify(x509.load_pem_x509_certificate(p.read_bytes())).sha1) for p in sorted(path.iterdir())]
    data = path.read_bytes()
    if fmt == "pem":
        return [(e.alias, e.sha1) for e in (classify(c) for c in x509.load_pem_x509_certificates(data))]
    if fmt == "pkcs12":
        assert password is not None
        bundle = pkcs12.load_pkcs12(data, password.encode())
        return [((c.friendly_name or b"").decode(), classify(c.certificate).sha1) for c in bundle.additional_certs]
    import jks  # purejks

    store = jks.KeyStore.loads(data, password)
    return [(alias, classify(x509.load_der_x509_certificate(e.cert)).sha1) for alias, e in sorted(store.certs.items())]


def target_of(out: Path, fmt: str, force: bool) -> Path:
    """Where a store for ``--out`` goes: ``out``, or the file or directory a symbolic link at ``out`` names (the
    link is kept, dangling or not). An existing ``out`` (a link counts, even dangling) needs ``force``."""
    if (out.exists() or out.is_symlink()) and not force:
        raise TruststoreError(f"{out} exists; add --force to replace it")
    target = Path(os.path.realpath(out)) if out.is_symlink() else out
    if fmt == "pem-dir" and target.exists() and not target.is_dir():
        raise TruststoreError(f"{out} is a file; a pem-dir store is a directory")
    if fmt != "pem-dir" and target.is_dir():
        raise TruststoreError(f"{out} is a directory; a {fmt} store is a file")
    if target.exists() and not (target.is_dir() or target.is_file()):
        # A device, FIFO or socket (``--out /dev/null --force`` as root would replace the device with a file).
        raise TruststoreError(f"{out} is not a regular file or directory; a store is not written over it")
    return target


def write_store(
    entries: Sequence[Entry],
    fmt: str,
    out: Path,
    password: str | None,
    force: bool = False,
    mode: int | None = None,
) -> list[tuple[str, str]]:
    """Write atomically (built beside ``out``, checked by reading it back, then renamed or swapped into place).

    An existing ``out`` is kept unless ``force``; on any failure it is left untouched and nothing is left behind.
    ``mode``: the store's permissions; by default an existing store's, else an ordinary file's (0666 or, for a
    pem-dir, 0777, less the umask), so that a client image built by one user can be read by another.
    """
    target = target_of(out, fmt, force)
    if fmt in ("pkcs12", "jks") and not password:
        raise TruststoreError(f"{out}: a {fmt} store needs a password that is not empty")
    payload = serialize(entries, fmt, password)
    expected = list(zip(aliases(entries), (e.sha1 for e in entries), strict=True))
    if fmt == "jks":
        expected.sort()
    chosen = mode if mode is not None else files.existing_mode(target) or files.ordinary_mode(fmt == "pem-dir")
    found: list[tuple[str, str]] = []

    def check(written: Path) -> None:
        found.extend(read_back(written, fmt, password))
        if sorted(found) != sorted(expected):
            raise TruststoreError(f"{out}: the written store does not read back as built")

    if not target.parent.is_dir():
        raise TruststoreError(f"cannot write {out}: no directory {target.parent} (rdsca does not create it)")
    try:
        if isinstance(payload, dict):
            files.write_directory(target, payload, chosen, check)
        else:
            files.write_file(target, payload, chosen, check)
    except OSError as exc:
        raise TruststoreError(f"cannot write {out}: {exc.strerror or exc}") from None
    return found


# -- verifying -----------------------------------------------------------------------------------------------------


@dataclass
class Verification:
    chain: list[Entry]
    #: The trusted root the chain ends at, or None.
    root: Entry | None
    #: (code, sentence), as ``rdsca.chains`` gives them.
    problems: list[tuple[str, str]]

    @property
    def ok(self) -> bool:
        return self.root is not None and not self.problems


def verify(chain: Sequence[x509.Certificate], trusted: Sequence[Entry], today: dt.date) -> Verification:
    """Whether a client trusting ``trusted`` accepts ``chain`` (the server's certificate first) on ``today``: the one
    verifier, ``rdsca.chains``, that ``rdsca probe`` uses too."""
    if not chain:
        return Verification([], None, [("empty", "no certificate in the chain file")])
    verdict = chains.verify(chain, [e.cert for e in trusted if e.root], [e.cert for e in trusted if not e.root], today)
    root = next((e for e in trusted if e.root and e.cert == verdict.anchor), None)
    return Verification([classify(c) for c in verdict.path], root, verdict.problems)

