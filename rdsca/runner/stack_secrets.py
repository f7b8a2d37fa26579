"""Decrypt a stack's ``secure:`` config as the Pulumi CLI's passphrase secrets provider does.

The algorithm is the CLI's (pulumi/pulumi ``pkg/secrets/passphrase/manager.go`` and
``sdk/go/common/resource/config/crypt.go``): the stack file's ``encryptionsalt`` is ``v1:<base64 salt>:<check>``,
where ``<check>`` is the word ``pulumi`` encrypted with the key; the key is PBKDF2-HMAC-SHA256 of the passphrase
over the salt, 1,000,000 iterations, 32 bytes; each value is ``v1:<base64 nonce>:<base64 AES-256-GCM ciphertext and
tag>``. The passphrase comes from ``PULUMI_CONFIG_PASSPHRASE`` (set, even empty) or the file that
``PULUMI_CONFIG_PASSPHRASE_FILE`` names (its text trimmed), as the CLI reads them. A wrong passphrase is the CLI's
error ("incorrect passphrase"). Stacks encrypted by a cloud KMS, a vault or the Pulumi Cloud service need their
provider's credentials: those values are not decrypted, and the reason is said.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rdsca.errors import RdscaError

PBKDF2_ITERATIONS = 1_000_000
KEY_BYTES = 32
CHECK_WORD = "pulumi"
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
PASSPHRASE_FILE_ENV = "PULUMI_CONFIG_PASSPHRASE_FILE"


class StackSecretsError(RdscaError):
    """A passphrase that does not open the stack, or a ``secure:`` value that is not one (exit 2)."""


@dataclass
class Decrypted:
    """Plaintext per config key, and for each key that could not be decrypted, why."""

    values: dict[str, str] = field(default_factory=dict)
    undecryptable: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=8)
def _key(passphrase: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", passphrase.encode("utf-8"), salt, PBKDF2_ITERATIONS, KEY_BYTES)


def _open(key: bytes, value: str) -> str:
    """One ``v1:<nonce>:<ciphertext>`` value; ValueError when it is not one, InvalidTag for another key."""
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != "v1":
        raise ValueError("not a v1:<nonce>:<ciphertext> value")
    try:
        nonce, data = base64.b64decode(parts[1], validate=True), base64.b64decode(parts[2], validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    if len(nonce) != 12:
        raise ValueError("the nonce is not 12 bytes")
    return AESGCM(key).decrypt(nonce, data, None).decode("utf-8")


def encrypt(key: bytes, plaintext: str, nonce: bytes) -> str:
    """The CLI's ``EncryptValue`` (for tests that build a stack file; the CLI draws a random nonce)."""
    data = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), None)
    return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(data).decode()}"


def passphrase(environ: Mapping[str, str]) -> str | None:
    """The passphrase as the CLI reads it (``readPassphrase``), or None when neither variable is set."""
    if PASSPHRASE_ENV in environ:
        return environ[PASSPHRASE_ENV]
    path = environ.get(PASSPHRASE_FILE_ENV)
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise StackSecretsError(f"unable to read {PASSPHRASE_FILE_ENV} {path}: {exc}") from None
    return None


def _passphrase_key(salt_state: str, phrase: str, stack_file: Path) -> bytes:
    parts = salt_state.split(":", 2)
    if len(parts) != 3 or parts[0] != "v1":
        raise StackSecretsError(f"{stack_file}: encryptionsalt is not a v1 passphrase state")
    try:
        salt = base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        raise StackSecretsError(f"{stack_file}: encryptionsalt's salt is not base64") from None
    key = _key(phrase, salt)
    try:
        ok = _open(key, parts[2]) == CHECK_WORD
    except (ValueError, InvalidTag, UnicodeDecodeError):
        ok = False
    if not ok:
        # The CLI's words (ErrIncorrectPassphrase), and what to do about it.
        raise StackSecretsError(
            f"{stack_file}: incorrect passphrase: set {PASSPHRASE_ENV} to the stack's passphrase, or "
            f"{PASSPHRASE_FILE_ENV} to a file holding it"
        )
    return key


def decrypt(
    secure: Mapping[str, str],
    stack_file: Path,
    encryption_salt: str | None,
    secrets_provider: str | None,
    environ: Mapping[str, str],
) -> Decrypted:
    """Every ``secure:`` value of the stack decrypted, or each named with the reason it cannot be."""
    result = Decrypted()
    if not secure:
        return result
    why = None
    if secrets_provider and secrets_provider != "passphrase":
        scheme = secrets_provider.split("://", 1)[0]
        why = (f"the stack's secrets provider is {scheme} ({secrets_provider.split('?', 1)[0]}), which needs its "
               "credentials; rdsca decrypts passphrase stacks only")
    elif not encryption_salt:
        why = ("the stack's secrets are encrypted by the Pulumi Cloud service (no encryptionsalt), which needs a "
               "login; rdsca decrypts passphrase stacks only")
    else:
        phrase = passphrase(environ)
        if phrase is None:
            why = f"no passphrase: set {PASSPHRASE_ENV} or {PASSPHRASE_FILE_ENV}, as for pulumi preview"
    if why is not None:
        result.undecryptable = {key: why for key in secure}
        return result
    assert encryption_salt is not None and phrase is not None
    key = _passphrase_key(encryption_salt, phrase, stack_file)
    for name, value in secure.items():
        try:
            result.values[name] = _open(key, value)
        except (ValueError, InvalidTag, UnicodeDecodeError):
            raise StackSecretsError(f"{stack_file}: config {name}: its secure value cannot be decrypted with the "
                                    "stack's passphrase (not a value this stack encrypted)") from None
    return result
