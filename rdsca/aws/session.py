"""The one seam that makes AWS clients: the standard credential chain, profiles and ``AWS_ENDPOINT_URL``.

Nothing here holds a client at module level: commands build an ``Aws`` for their profile and pass it down, and
tests build one pointed at a local endpoint. Retries use botocore's adaptive mode, which backs off and
rate-limits the client on throttling (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import botocore.parsers

RETRY_MODE = "adaptive"
MAX_ATTEMPTS = 8


class AwsError(Exception):
    """Credentials or profile problems that stop a command before it starts (exit 2)."""


@dataclass
class Aws:
    """Makes clients per service and region, and counts the API calls they make (for progress and benchmarks)."""

    profile: str | None = None
    max_attempts: int = MAX_ATTEMPTS
    calls: Counter[str] = field(default_factory=Counter)
    _session: Any = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                try:
                    self._session = boto3.session.Session(profile_name=self.profile)
                except botocore.exceptions.ProfileNotFound as exc:
                    raise AwsError(str(exc)) from None
            return self._session

    def client(self, service: str, region: str) -> Any:
        config = botocore.config.Config(
            retries={"mode": RETRY_MODE, "max_attempts": self.max_attempts},
            user_agent_extra="rdsca",
        )
        # boto3 sessions are not thread-safe to create clients from concurrently (boto3 docs, "Multithreading").
        with self._lock:
            client = self.session().client(service, region_name=region, config=config)
        client.meta.events.register("before-call", self._count)
        return client

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def default_region(self) -> str | None:
        region: str | None = self.session().region_name
        return region


def error_code(exc: BaseException) -> str:
    """The AWS error code of a failed call, or a short name for transport and parsing failures."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    if isinstance(exc, botocore.parsers.ResponseParserError):
        # What an endpoint that lacks the API (stock moto) answers: an HTML error page.
        return "NotImplemented"
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "NoCredentials"
    return type(exc).__name__


def error_message(exc: BaseException) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'ClientError')}: {error.get('Message', '')}".rstrip(": ")
    if isinstance(exc, botocore.parsers.ResponseParserError):
        return "the endpoint does not implement this API"
    return f"{type(exc).__name__}: {exc}"


#: Errors that mean "this API is not available to us here", as opposed to a broken request.
UNAVAILABLE = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "InvalidAction",
        "UnknownOperation",
        "UnknownOperationException",
        "NotImplemented",
        "OptInRequired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "AuthFailure",
    }
)
