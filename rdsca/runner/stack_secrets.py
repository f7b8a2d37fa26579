"""Decrypt a stack's ``secure:`` config as the Pulumi CLI's passphrase secrets provider does.

The algorithm is the CLI's (pulumi/pulumi ``pkg/secrets/passphrase/manager.go`` and
``sdk/go/common/resource/config/crypt.go``): the stack file's ``encryptionsalt`` is ``v1:<base64 salt>:<check>``,
where ``<check>`` is the word ``pulumi`` encrypted with the key; the key is PBKDF2-HMAC-SHA256 of the passphrase
over the salt, 1,000,000 iterations, 32 bytes; each value is ``v1:<base64 nonce>:<base64 AES-256-GCM ciphertext and
tag>``. The passphrase comes from ``PULUMI_CONFIG_PASSPHRASE`` (set, even empty) or the file that
``PULUMI_CONFIG_PASSPHRASE_FILE`` names (its text trimmed), as the CLI reads them (``readPassphrase``). A wrong
passphrase is the CLI's error ("incorrect passphrase"). Which provider a stack uses is the CLI's choice
(``GetSecretsManager`` in ``pkg/cmd/pulumi/stack/secrets.go``): a ``secretsprovider`` other than ``passphrase`` or
``default`` is a cloud one (KMS, a vault); else an ``encryptionsalt`` means the passphrase; else the backend's own
(the Pulumi Cloud service, or the manager a self-managed backend keeps in the stack's state). Those need credentials
or the state: their values are not decrypted, and the reason is said.

A ``secure:`` value is a mapping whose only key is ``secure`` with a string (``isSecureValue`` in
``sdk/go/common/resource/config/object.go``), at the top of a key or anywhere inside an object or array value; a
key holding one anywhere is a secret key (``object.Secure``, ``Map.SecureKeys``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rdsca.errors import RdscaError

PBKDF2_ITERATIONS = 1_000_000
KEY_BYTES = 32
CHECK_WORD = "pulumi"
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
PASSPHRASE_FILE_ENV = "PULUMI_CONFIG_PASSPHRASE_FILE"
#: What Go's ``strings.TrimSpace`` trims (``unicode.IsSpace``: the White_Space property); Python's ``str.strip``
#: also trims U+001C..U+001F, which Go keeps.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
#: ``secretsprovider`` values that are not a cloud provider (``GetSecretsManager``).
NOT_CLOUD = ("", "passphrase", "default")


class StackSecretsError(RdscaError):
    """A passphrase that does not open the stack, or a ``secure:`` value that is not one (exit 2)."""


@dataclass
class Decrypted:
    """Per config key, its value with every ``secure:`` in it decrypted (a string, or the object or array with
    plaintext strings in place); for each key that could not be decrypted, why; and every decrypted string."""

    values: dict[str, Any] = field(default_factory=dict)
    undecryptable: dict[str, str] = field(default_factory=dict)
    plaintexts: set[str] = field(default_factory=set)


def is_secure(value: Any) -> bool:
    """``isSecureValue``: a mapping of the single key ``secure`` to a string."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def contains_secure(value: Any) -> bool:
    """``object.Secure``: the value is secure or holds a secure value at any depth."""
    if is_secure(value):
        return True
    if isinstance(value, dict):
        return any(contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secure(v) for v in value)
    return False


def reveal(value: Any, open_value: Callable[[str], str]) -> Any:
    """``value`` with each secure value replaced by ``open_value(ciphertext)`` (``object.decrypt``)."""
    if is_secure(value):
        return open_value(value["secure"])
    if isinstance(value, dict):
        return {k: reveal(v, open_value) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v, open_value) for v in value]
    return value


@functools.lru_cache(maxsize=8)
def _key(passphrase: str, salt: bytes) -> bytes:
    # Go's []byte(phrase): the bytes as given (an environment variable Python could not decode keeps its bytes).
    phrase = passphrase.encode("utf-8", "surrogateescape")
    return hashlib.pbkdf2_hmac("sha256", phrase, salt, PBKDF2_ITERATIONS, KEY_BYTES)


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
    return _go_json_text(AESGCM(key).decrypt(nonce, data, None))


def _go_json_text(data: bytes) -> str:
    """Go's ``string(msg)`` keeps any bytes; the program gets the value as JSON text (PULUMI_CONFIG), where Go's
    ``encoding/json`` writes U+FFFD for each byte of invalid UTF-8 (``utf8.DecodeRuneInString`` gives RuneError
    of width 1). Python's "replace" would merge a truncated sequence into one U+FFFD; surrogateescape keeps one
    surrogate per byte, each then replaced."""
    text = data.decode("utf-8", "surrogateescape")
    return "".join("\ufffd" if "\udc80" <= c <= "\udcff" else c for c in text)


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
            data = Path(path).read_bytes()
        except OSError as exc:
            raise StackSecretsError(f"unable to read {PASSPHRASE_FILE_ENV} {path}: {exc.strerror or exc}") from None
        # strings.TrimSpace(string(bytes)): the file's bytes, Go's white space trimmed at both ends.
        return data.decode("utf-8", "surrogateescape").strip(GO_SPACE)
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
    except (ValueError, InvalidTag):
        ok = False
    if not ok:
        # The CLI's words (ErrIncorrectPassphrase), and what to do about it.
        raise StackSecretsError(
            f"{stack_file}: incorrect passphrase: set {PASSPHRASE_ENV} to the stack's passphrase, or "
            f"{PASSPHRASE_FILE_ENV} to a file holding it"
        )
    return key


def decrypt(
    secure: Mapping[str, Any],
    stack_file: Path,
    encryption_salt: str | None,
    secrets_provider: str | None,
    environ: Mapping[str, str],
) -> Decrypted:
    """Every key holding ``secure:`` values (``secure``: the key's value as the stack file has it) decrypted, or
    each named with the reason it cannot be."""
    result = Decrypted()
    if not secure:
        return result
    why = None
    provider = secrets_provider or ""
    if provider not in NOT_CLOUD:
        scheme = provider.split("://", 1)[0]
        why = (f"the stack's secrets provider is {scheme} ({provider.split('?', 1)[0]}), which needs its "
               "credentials; rdsca decrypts passphrase stacks only")
    elif not encryption_salt:
        why = ("the stack file has no encryptionsalt, so its secrets belong to the backend's secrets manager (the "
               "Pulumi Cloud service, or the one a self-managed backend keeps in the stack's state), which needs a "
               "login or the state; rdsca decrypts passphrase stacks only")
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

        def open_value(ciphertext: str, name: str = name) -> str:
            try:
                plaintext = _open(key, ciphertext)
            except (ValueError, InvalidTag):
                raise StackSecretsError(f"{stack_file}: config {name}: its secure value cannot be decrypted with "
                                        "the stack's passphrase (not a value this stack encrypted)") from None
            result.plaintexts.add(plaintext)
            return plaintext

        result.values[name] = reveal(value, open_value)
    return result
