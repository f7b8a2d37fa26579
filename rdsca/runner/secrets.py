"""Keep secret plaintext out of everything ``rdsca check`` prints: every secret value seen is replaced by ``[secret]``.

The Pulumi engine does the same for the stack's secure config values: ``logging.AddGlobalSecretFilter`` and
``FilterString`` (pulumi/pulumi ``sdk/go/common/util/logging/log.go``) replace each secret, and its JSON-escaped
form, in every policy message and log line; values shorter than three characters and ``true``/``false`` are not
filtered, because replacing them would garble every message. Offline, secure config values cannot be decrypted, so
the secrets are the ones the program and the state file hold: this filter collects every string inside a secret
as the host sees it and applies to policy messages, remediations, log lines, warnings and errors.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from rdsca.runner.project import SECRET_TEXT


def _strings(value: Any, inside: bool, found: set[str]) -> None:
    from rdsca import sdk_internals  # the wire signatures; the parent of ``rdsca check`` filters plain strings only

    if isinstance(value, str):
        if inside and value != sdk_internals.UNKNOWN:
            found.add(value)
    elif isinstance(value, list):
        for item in value:
            _strings(item, inside, found)
    elif isinstance(value, dict):
        sig = value.get(sdk_internals.SIG_KEY)
        secret = inside or sig == sdk_internals.SECRET_SIG
        secret = secret or (sig == sdk_internals.OUTPUT_VALUE_SIG and bool(value.get("secret")))
        for key, item in value.items():
            if key != sdk_internals.SIG_KEY:
                _strings(item, secret, found)


def secret_strings(value: Any) -> set[str]:
    """Every string inside a secret in a wire value (the plaintext a secret carries)."""
    found: set[str] = set()
    _strings(value, False, found)
    return found


def holds_secret(value: Any) -> bool:
    """Whether a wire value (as the engine holds it: output values unwrapped) has a secret in it."""
    from rdsca import sdk_internals

    if isinstance(value, dict):
        if value.get(sdk_internals.SIG_KEY) == sdk_internals.SECRET_SIG:
            return True
        return any(holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_secret(v) for v in value)
    return False


class SecretFilter:
    """Replaces every registered secret (and its JSON-escaped form) with ``[secret]``; thread-safe."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, values: set[str]) -> None:
        fresh = {s for s in values if len(s) >= 3 and s.lower() not in ("true", "false")} - self._secrets
        if not fresh:
            return
        with self._lock:
            self._secrets |= fresh
            forms = set(self._secrets)
            forms |= {json.dumps(s)[1:-1] for s in self._secrets}
            # Longest first, so that a secret containing another is replaced whole.
            self._pattern = re.compile("|".join(re.escape(s) for s in sorted(forms, key=len, reverse=True)))

    def add_value(self, value: Any) -> None:
        self.add(secret_strings(value))

    def text(self, message: str) -> str:
        pattern = self._pattern
        return pattern.sub(SECRET_TEXT, message) if pattern is not None else message

    def value(self, value: Any) -> Any:
        """A JSON value with every string filtered (keys included)."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.value(v) for k, v in value.items()}
        return value
