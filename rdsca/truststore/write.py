"""Build a store: choose its certificates, serialise them (PEM, PEM directory, PKCS#12, JKS) and write it
atomically, read back before it replaces anything."""


import datetime as dt
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from rdsca import files
from rdsca.truststore.entries import OTHER, Entry, TruststoreError, classify, order

FORMATS = ("pkcs12", "jks", "pem", "pem-dir")




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
        from rdsca.truststore import jks

        der = serialization.Encoding.DER
        return jks.dump([(n, e.cert.public_bytes(der)) for n, e in zip(names, entries, strict=True)], password)
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
    from rdsca.truststore import jks

    assert password is not None
    found = sorted(jks.load(data, password))
    return [(alias, classify(x509.load_der_x509_certificate(der)).sha1) for alias, der in found]


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
    if fmt == "pem-dir" and target.is_dir():
        stray = _not_a_store(target)
        if stray is not None:
            # --force replaces a store, never a folder of other things (its files would all be deleted).
            raise TruststoreError(
                f"{out} is not a pem-dir store rdsca wrote ({stray}); nothing was replaced: choose another --out"
            )
    return target


def _not_a_store(directory: Path) -> str | None:
    """Why ``directory`` is not a pem-dir store (what rdsca writes: only ``*.pem`` files, each one certificate),
    or None when it is one (or is empty)."""
    for entry in sorted(directory.iterdir()):
        if entry.is_symlink() or not entry.is_file() or entry.suffix != ".pem":
            return f"it holds {entry.name!r}, which is not a certificate file"
        try:
            with entry.open("rb") as handle:
                head = handle.read(64)
        except OSError as exc:
            return f"{entry.name} cannot be read ({exc.strerror or exc})"
        if not head.startswith(b"-----BEGIN CERTIFICATE-----"):
            return f"{entry.name} is not a PEM certificate"
    return None


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
