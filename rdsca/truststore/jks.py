"""Java KeyStore (JKS) trust stores: read the certificates of a store and write one of trusted certificates.

The format is OpenJDK's ``sun.security.provider.JavaKeyStore`` (``engineLoad``/``engineStore``): magic
``0xFEEDFEED``, version 2 (1 has no certificate type), an entry count, then per entry a tag (1 a private key, 2 a
trusted certificate), the alias in Java's modified UTF-8 (``DataOutput.writeUTF``), a timestamp in milliseconds, and
for a certificate its type and DER; a private key entry holds the encrypted key and its chain, whose certificates
are read too (a keystore used as a trust store lists them). The store ends with the SHA-1 of the password (UTF-16
big-endian), the words "Mighty Aphrodite" and every byte before: a wrong password or a changed byte fails it.

Written here instead of depending on purejks: a trust store needs only this (hashlib's SHA-1), while purejks
brings pycryptodomex, pyasn1 and pyasn1-modules (14 MB) into the core install for private-key decryption rdsca
never does. The tests check both directions against purejks.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import time
from collections.abc import Iterable

from rdsca.errors import RdscaError

MAGIC = 0xFEEDFEED
#: The JCEKS magic (Sun's JCE key store): the same layout with sealed secret keys, which rdsca does not read.
JCEKS_MAGIC = 0xCECECECE
_WHITENER = b"Mighty Aphrodite"
PRIVATE_KEY, TRUSTED_CERT = 1, 2


class JksError(RdscaError, ValueError):
    """A store that is not a readable JKS; ``wrong_password`` when only its integrity check fails."""

    def __init__(self, message: str, wrong_password: bool = False) -> None:
        super().__init__(message)
        self.wrong_password = wrong_password


def _digest(password: str, data: bytes) -> bytes:
    return hashlib.sha1(password.encode("utf-16-be") + _WHITENER + data, usedforsecurity=False).digest()


def _java_utf(text: str) -> bytes:
    """``DataOutput.writeUTF``: a two-byte length, then modified UTF-8 (NUL as C0 80, astral characters as their
    two UTF-16 surrogates, each encoded alone)."""
    units = text.encode("utf-16-be", "surrogatepass")
    chars = (int.from_bytes(units[i : i + 2], "big") for i in range(0, len(units), 2))
    encoded = b"".join(b"\xc0\x80" if c == 0 else chr(c).encode("utf-8", "surrogatepass") for c in chars)
    if len(encoded) > 0xFFFF:
        raise JksError(f"alias too long for a JKS store ({len(encoded)} bytes)")
    return struct.pack(">H", len(encoded)) + encoded


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def take(self, size: int) -> bytes:
        if size < 0 or self.offset + size > len(self.data):
            raise JksError("truncated store")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def int32(self) -> int:
        return int(struct.unpack(">i", self.take(4))[0])

    def utf(self) -> str:
        (size,) = struct.unpack(">H", self.take(2))
        raw = self.take(size).replace(b"\xc0\x80", b"\x00")
        try:
            # Surrogates encoded one by one (CESU-8) decode alone, then pair up through UTF-16.
            return raw.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeError:
            raise JksError("an alias or certificate type is not modified UTF-8") from None

    def blob(self) -> bytes:
        size = self.int32()
        if size > len(self.data):
            raise JksError("an entry longer than the store")
        return self.take(size)


def load(data: bytes, password: str) -> list[tuple[str, bytes]]:
    """(alias, DER) of every certificate in the store: trusted certificates, and the chains of private key
    entries. Raises ``JksError``."""
    if len(data) < 12 + 20:
        raise JksError("too short to be a JKS store")
    body, stored = data[:-20], data[-20:]
    reader = _Reader(body)
    magic = reader.int32() & 0xFFFFFFFF
    if magic == JCEKS_MAGIC:
        raise JksError("a JCEKS store: convert it to JKS or PKCS#12 (keytool -importkeystore)")
    if magic != MAGIC:
        raise JksError("not a JKS store (bad magic number)")
    version = reader.int32()
    if version not in (1, 2):
        raise JksError(f"unsupported JKS version {version}")
    count = reader.int32()
    if count < 0 or count > len(body):
        raise JksError(f"impossible entry count {count}")
    found: list[tuple[str, bytes]] = []
    for _ in range(count):
        tag = reader.int32()
        alias = reader.utf()
        reader.take(8)  # the entry's date
        if tag == PRIVATE_KEY:
            reader.blob()  # the encrypted private key: never decrypted
            chain = reader.int32()
            if chain < 0 or chain > len(body):
                raise JksError(f"entry {alias!r}: impossible chain length {chain}")
            for position in range(chain):
                if version == 2:
                    reader.utf()
                found.append((f"{alias}#{position}" if position else alias, reader.blob()))
        elif tag == TRUSTED_CERT:
            if version == 2:
                reader.utf()
            found.append((alias, reader.blob()))
        else:
            raise JksError(f"entry {alias!r}: unknown entry tag {tag}")
    if reader.offset != len(body):
        raise JksError("bytes after the last entry")
    if not hmac.compare_digest(_digest(password, body), stored):
        raise JksError("the store's integrity check fails: wrong password, or the file was changed",
                       wrong_password=True)
    return found


def dump(certificates: Iterable[tuple[str, bytes]], password: str, timestamp_ms: int | None = None) -> bytes:
    """A version 2 JKS store of trusted certificates ``(alias, DER)``, as ``keytool -importcert`` writes one."""
    when = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    items = list(certificates)
    parts = [struct.pack(">III", MAGIC, 2, len(items))]
    for alias, der in items:
        parts += [struct.pack(">i", TRUSTED_CERT), _java_utf(alias), struct.pack(">q", when), _java_utf("X.509"),
                  struct.pack(">i", len(der)), der]
    body = b"".join(parts)
    return body + _digest(password, body)
