"""Probe endpoints concurrently and judge each against the trust stores: ``judge_endpoint`` is pure, ``probe``
and ``probe_all`` add the network."""

from __future__ import annotations

import datetime as dt
import queue
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm

from rdsca import truststore as ts
from rdsca.probe import judge
from rdsca.probe.endpoints import Endpoint
from rdsca.probe.wire import Handshake, ProbeError, handshake


@dataclass(frozen=True)
class Store:
    name: str
    entries: list[ts.Entry]


def system_store() -> Store:
    """The store OpenSSL-based clients use by default (``SSL_CERT_FILE``/``SSL_CERT_DIR`` override it)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.capath):
        if candidate and Path(candidate).exists():
            return Store(f"system ({candidate})", ts.read(Path(candidate)))
    raise ts.TruststoreError("no system trust store found (set SSL_CERT_FILE or SSL_CERT_DIR)")


@dataclass(frozen=True)
class Options:
    target_ca: str | None = None
    region: str | None = None
    #: The name a client dials (and sends as SNI); default: the endpoint's host.
    server_name: str | None = None
    check_hostname: bool = True
    connect_timeout: float = 5.0
    timeout: float = 10.0


@dataclass
class StoreResult:
    store: Store
    trust: judge.Trust
    #: ``judge.READY``/``WILL_BREAK``/``NOT_APPLICABLE``/``UNKNOWN``, with its reason.
    rotation: str
    rotation_reason: str

    @property
    def finding(self) -> bool:
        return not self.trust.trusted or self.rotation == judge.WILL_BREAK


@dataclass
class Result:
    endpoint: Endpoint
    server_name: str
    #: The name checked against the certificate (None with --no-hostname).
    checked_name: str | None
    error: str | None = None
    handshake: Handshake | None = None
    chain: list[judge.CertInfo] = field(default_factory=list)
    ca: judge.IssuingCa | None = None
    region: str | None = None
    region_source: str | None = None
    target: judge.Target | None = None
    stores: list[StoreResult] = field(default_factory=list)

    @property
    def findings(self) -> list[StoreResult]:
        return [s for s in self.stores if s.finding]

    @property
    def label(self) -> str:
        return (
            f"{self.endpoint.database} ({self.endpoint.address})" if self.endpoint.database else self.endpoint.address
        )


def _region(
    endpoint: Endpoint, options: Options, ca: judge.IssuingCa, server_name: str
) -> tuple[str | None, str | None]:
    """The audit's region, else --region, else the served chain's, else the RDS host name's."""
    for region, source in (
        (endpoint.region, "audit"),
        (options.region, "--region"),
        (ca.region if ca.stage is None else None, "served chain"),
        (judge.region_of_host(server_name) or judge.region_of_host(endpoint.host), "host name"),
    ):
        if region:
            return region, source
    return None, None


def judge_endpoint(
    endpoint: Endpoint, served: Handshake, stores: Sequence[Store], options: Options, today: dt.date
) -> Result:
    server_name = options.server_name or endpoint.host
    checked = server_name if options.check_hostname else None
    ca = judge.issuing_ca(served.chain)
    region, source = _region(endpoint, options, ca, server_name)
    target = judge.choose_target(
        options.target_ca,
        ca,
        proxy=judge.is_proxy_host(server_name) or judge.is_proxy_host(endpoint.host),
        audit_not_applicable=endpoint.not_applicable,
        audit_ca=endpoint.ca,
        audit_pending=endpoint.pending_ca,
        audit_replacement=endpoint.replacement,
    )
    results = []
    for store in stores:
        trust = judge.verify(served.chain, store.entries, today, checked)
        if target.ca is None:
            rotation, why = judge.NOT_APPLICABLE, target.not_applicable or ""
        else:
            rotation, why = judge.rotation(store.entries, target.ca, region, today)
        results.append(StoreResult(store, trust, rotation, why))
    return Result(
        endpoint,
        server_name,
        checked,
        handshake=served,
        chain=[judge.describe(c) for c in served.chain],
        ca=ca,
        region=region,
        region_source=source,
        target=target,
        stores=results,
    )


def probe(endpoint: Endpoint, stores: Sequence[Store], options: Options, today: dt.date) -> Result:
    server_name = options.server_name or endpoint.host
    checked = server_name if options.check_hostname else None
    if endpoint.error:
        return Result(endpoint, server_name, checked, error=endpoint.error)
    try:
        served = handshake(
            endpoint.host, endpoint.port, endpoint.framing, server_name, options.connect_timeout, options.timeout
        )
    except ProbeError as exc:
        return Result(endpoint, server_name, checked, error=str(exc))
    try:
        return judge_endpoint(endpoint, served, stores, options, today)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # cryptography parses extensions and keys lazily: a malformed one in a served certificate surfaces here.
        return Result(endpoint, server_name, checked, error=f"the server's certificate cannot be judged ({exc})")


def summary(result: Result) -> str:
    if result.error:
        return f"not probed: {result.error}"
    assert result.handshake is not None
    text = f"{result.handshake.tls_version}, chain from {result.ca}"
    if result.stores:
        trusted = sum(1 for s in result.stores if s.trust.trusted)
        text += f", trusted by {trusted}/{len(result.stores)} store(s)"
        breaking = sum(1 for s in result.stores if s.rotation == judge.WILL_BREAK)
        if breaking:
            text += f", {breaking} will break"
    return text


def probe_all(
    endpoints: Sequence[Endpoint],
    stores: Sequence[Store],
    options: Options,
    today: dt.date,
    workers: int = 16,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Result]:
    """Probe at most ``workers`` endpoints at once; results in the order of ``endpoints``. ``progress(line, done,
    total)`` after each endpoint.

    The probes run in daemon threads and the caller's thread only waits for their results: Ctrl-C (or SIGTERM)
    stops the command at once, instead of waiting out a silent server's handshake timeout as a thread pool's exit
    would (it joins its threads); the sockets still open close with the process."""
    if not endpoints:
        return []
    results: dict[int, Result] = {}
    done_queue: queue.Queue[tuple[int, Result | BaseException]] = queue.Queue()
    slots = threading.Semaphore(max(1, min(workers, len(endpoints))))

    def run(index: int, endpoint: Endpoint) -> None:
        try:
            outcome: Result | BaseException = probe(endpoint, stores, options, today)
        except BaseException as exc:
            outcome = exc
        finally:
            slots.release()
        done_queue.put((index, outcome))

    def start_all() -> None:
        for index, endpoint in enumerate(endpoints):
            slots.acquire()
            threading.Thread(target=run, args=(index, endpoint), daemon=True, name=f"probe-{index}").start()

    threading.Thread(target=start_all, daemon=True, name="probe-starter").start()
    for done in range(1, len(endpoints) + 1):
        index, outcome = done_queue.get()
        if isinstance(outcome, BaseException):
            raise outcome
        results[index] = outcome
        if progress:
            verb = "could not probe" if outcome.error else "probed"
            text = outcome.error if outcome.error else summary(outcome)
            progress(f"{verb} {outcome.label} ({done}/{len(endpoints)}): {text}", done, len(endpoints))
    return [results[i] for i in range(len(endpoints))]
