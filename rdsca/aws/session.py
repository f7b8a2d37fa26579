"""The one seam that makes AWS clients: one ``Aws`` per set of credentials (the caller's, a demo's, an assumed role's).

Nothing here holds a client at module level: commands build an ``Aws`` and pass it down, and tests build one pointed
at the fake account. Every client has bounded connect and read timeouts and a bounded number of attempts; retries use
botocore's adaptive mode, which backs off and rate-limits the client on throttling
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). A demo ``Aws`` is isolated from the
machine's AWS set-up: an explicit endpoint, static fake credentials, no proxy, and a configuration that reads no file
and no environment variable, so no profile, credential process or configured endpoint can send a call elsewhere.
Another account's ``Aws`` (``assume``) holds refreshable credentials from STS AssumeRole, renewed before they expire.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.configprovider
import botocore.credentials
import botocore.exceptions
import botocore.parsers
import botocore.session

from rdsca.errors import RdscaError

RETRY_MODE = "adaptive"
#: Session names AWS accepts for AssumeRole (RoleSessionName: ``[\w+=,.@-]*``, 2 to 64 characters).
_SESSION_NAME = re.compile(r"[^\w+=,.@-]")


class AwsError(RdscaError):
    """Credentials, profile or endpoint problems that stop a command before it starts (exit 2)."""


class IdentityError(AwsError):
    """STS could not say whose the credentials are (for an assumed role: the role could not be assumed)."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    """How one call is made: seconds to connect, seconds to wait for an answer, attempts in all, and the endpoint
    every client calls when one is given (``--endpoint-url``, as the AWS CLI's; otherwise botocore's, which
    honours ``AWS_ENDPOINT_URL``)."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_attempts: int = 3
    endpoint_url: str | None = None

    def config(self, **extra: Any) -> botocore.config.Config:
        return botocore.config.Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"mode": RETRY_MODE, "total_max_attempts": self.max_attempts},
            user_agent_extra="rdsca",
            **extra,
        )


@dataclass(frozen=True)
class Demo:
    """The demo's fake endpoint and the static credentials it accepts (they open nothing anywhere else)."""

    endpoint: str
    access_key: str = "AKIDRDSCADEMO0000000"
    secret_key: str = "rdsca-demo-not-a-secret"
    region: str = "us-east-1"


class RateLimiter:
    """At most ``per_second`` calls per second across threads, after a burst of ``burst`` calls (a token bucket, the
    way AWS meters its own API requests), on top of botocore's adaptive retries."""

    def __init__(self, per_second: float, burst: float = 1.0) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.capacity = max(1.0, burst)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) / self.interval)
            self.updated = now
            self.tokens -= 1
            delay = -self.tokens * self.interval if self.tokens < 0 else 0.0
        if delay > 0:
            time.sleep(delay)


def _isolated_session(region: str) -> botocore.session.Session:
    """A botocore session that reads no config or credentials file and no environment variable: every setting is
    its built-in default (the session's ``session_var_map``), so AWS_PROFILE,
    AWS_ENDPOINT_URL*, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, credential processes and profile endpoints are ignored."""
    session = botocore.session.Session()
    store = session.get_component("config_store")
    for name, spec in session.session_var_map.items():
        store.set_config_provider(name, botocore.configprovider.ConstantProvider(spec[2]))
    for name in ("config_file", "credentials_file"):
        store.set_config_provider(name, botocore.configprovider.ConstantProvider(os.devnull))
    store.set_config_provider("ignore_configured_endpoint_urls", botocore.configprovider.ConstantProvider(True))
    store.set_config_provider("region", botocore.configprovider.ConstantProvider(region))
    return session


class _Given(botocore.credentials.CredentialProvider):  # type: ignore[misc]
    """A credential chain of one link: the credentials rdsca obtained (an assumed role)."""

    METHOD = "assume-role"

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


@dataclass
class Aws:
    """Makes clients per service and region for one set of credentials, and counts the API calls they make."""

    profile: str | None = None
    limits: Limits = field(default_factory=Limits)
    demo: Demo | None = None
    #: Applied to every call made with these credentials (the per-account rate limit), if any.
    limiter: RateLimiter | None = None
    #: The account these credentials belong to, when known before asking STS.
    account: str | None = None
    calls: Counter[str] = field(default_factory=Counter)
    _session: Any = None
    _identity: dict[str, str] | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = self._new_session()
            return self._session

    def _new_session(self) -> Any:
        if self.demo is not None:
            if self.profile:
                raise AwsError("--profile cannot be used with --demo: the demo never uses real credentials")
            return boto3.session.Session(
                aws_access_key_id=self.demo.access_key,
                aws_secret_access_key=self.demo.secret_key,
                botocore_session=_isolated_session(self.demo.region),
            )
        try:
            return boto3.session.Session(profile_name=self.profile)
        except botocore.exceptions.ProfileNotFound as exc:
            raise AwsError(str(exc)) from None

    def _client_args(self) -> dict[str, Any]:
        """A demo client has the demo's endpoint and never uses a proxy: ``proxies={}`` stops botocore reading
        HTTP(S)_PROXY (EndpointCreator uses the environment's proxies only when none are configured)."""
        if self.demo is not None:
            return {"config": self.limits.config(proxies={}), "endpoint_url": self.demo.endpoint}
        if self.limits.endpoint_url:
            return {"config": self.limits.config(), "endpoint_url": self.limits.endpoint_url}
        return {"config": self.limits.config()}

    def client(self, service: str, region: str) -> Any:
        # boto3 sessions are not thread-safe to create clients from concurrently (boto3 docs, "Multithreading").
        with self._lock:
            try:
                client = self.session().client(service, region_name=region, **self._client_args())
            except ValueError as exc:  # botocore: "Invalid endpoint: ..." (AWS_ENDPOINT_URL, a profile's endpoint)
                raise AwsError(f"cannot make an AWS client for {service} in {region}: {exc}") from None
        client.meta.events.register("before-call", self._before_call)
        return client

    def _before_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1
        if self.limiter is not None:
            self.limiter.wait()

    def default_region(self) -> str | None:
        region: str | None = self.session().region_name
        return region

    def identity(self) -> dict[str, str]:
        """STS GetCallerIdentity (needs no permission): ``Account``, ``Arn``."""
        with self._lock:
            if self._identity is None:
                sts = self.client("sts", self.default_region() or "us-east-1")
                try:
                    found = sts.get_caller_identity()
                except botocore.exceptions.NoCredentialsError:
                    raise AwsError("no AWS credentials found (profile, environment or instance role)") from None
                except Exception as exc:
                    detail = error_message(exc)
                    raise IdentityError(
                        f"cannot tell which account the credentials belong to (STS GetCallerIdentity: {detail})", detail
                    ) from None
                self._identity = {"Account": found["Account"], "Arn": found["Arn"]}
            return self._identity

    def account_id(self) -> str:
        return self.account or self.identity()["Account"]

    def assume(
        self, account: str, role_name: str, session_name: str, external_id: str | None = None,
        limiter: RateLimiter | None = None, duration_seconds: int | None = None,
    ) -> Aws:
        """An ``Aws`` for ``account`` through its role ``role_name``, with credentials STS renews before they expire
        (botocore's DeferredRefreshableCredentials, as for a profile with ``role_arn``: renewed 15 minutes before
        their end, so a run longer than the role's session duration goes on). Nothing is called until the first
        client call."""
        # A refused AssumeRole is reported as that account's error; botocore's own warning would repeat it.
        logging.getLogger("botocore.credentials").setLevel(logging.ERROR)
        extra: dict[str, Any] = {"RoleSessionName": session_name}
        if external_id:
            extra["ExternalId"] = external_id
        if duration_seconds:
            extra["DurationSeconds"] = duration_seconds
        source = self.session().get_credentials()
        if source is None:
            raise AwsError("no AWS credentials found (profile, environment or instance role)")
        region = self.default_region() or "us-east-1"

        def sts(service: str, **keys: Any) -> Any:
            with self._lock:
                client = self.session().client(service, region_name=region, **self._client_args(), **keys)
            client.meta.events.register("before-call", self._before_call)
            return client

        fetcher = botocore.credentials.AssumeRoleCredentialFetcher(
            sts, source, f"arn:aws:iam::{account}:role/{role_name}", extra_args=extra
        )
        credentials = botocore.credentials.DeferredRefreshableCredentials(fetcher.fetch_credentials, "assume-role")
        botocore_session = _isolated_session(region) if self.demo else botocore.session.Session(profile=self.profile)
        botocore_session.register_component("credential_provider", botocore.credentials.CredentialResolver(
            [_Given(credentials)]))
        other = Aws(limits=self.limits, demo=self.demo, limiter=limiter, account=account)
        other._session = boto3.session.Session(botocore_session=botocore_session, region_name=region)
        return other


def session_name(caller_arn: str) -> str:
    """``rdsca-<operator>``: names rdsca and who runs it in CloudTrail (the caller's user or role session name)."""
    operator = caller_arn.rsplit("/", 1)[-1] if "/" in caller_arn else caller_arn.rsplit(":", 1)[-1]
    return _SESSION_NAME.sub("-", f"rdsca-{operator}")[:64]


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
    if isinstance(exc, (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError)):
        return f"no answer in time ({exc})"
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
