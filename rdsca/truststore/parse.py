"""Read bundles and stores: PEM, DER, PKCS#7, PKCS#12, JKS (``rdsca.truststore.jks``) and a directory of PEM files."""


from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from rdsca.truststore.entries import Entry, TruststoreError, classify


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
    from rdsca.truststore import jks

    if password is None:
        raise TruststoreError(f"{name}: a JKS store needs its password (--password-env VAR)")
    try:
        found = jks.load(data, password)
    except jks.JksError as exc:
        if exc.wrong_password:
            raise TruststoreError(f"{name}: wrong password for this JKS store") from None
        raise TruststoreError(f"{name}: not a readable JKS store ({exc})") from None
    certs = []
    for alias, der in sorted(found):
        try:
            certs.append(x509.load_der_x509_certificate(der))
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
