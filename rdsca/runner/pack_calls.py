"""Every policy pack of one ``rdsca check``, driven from the host as the engine drives analyzers during a preview.

Packs start as soon as the host does and are configured while the program imports; a registration waits for
them only if it comes first. For each resource: ``Remediate`` pack after pack (each sees the previous one's
result, and the program gets the remediated inputs back, as from the engine), then ``Analyze`` on the final
inputs, queued on each pack's worker so that the pack analyses while the program runs on. ``AnalyzeStack`` goes
to every pack at once when the program is done (the engine runs the analyzers in parallel there).
"""

from __future__ import annotations

import concurrent.futures
import functools
import subprocess
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2

from rdsca.runner.monitor import wire_to_json
from rdsca.runner.pack_client import PackClient, PackProcess, Subject, diagnostic, stack_request, struct
from rdsca.runner.pack_launch import pack_environment
from rdsca.runner.policy_packs import PackRun, PolicyConfig, PolicyError
from rdsca.runner.processes import stop_process
from rdsca.runner.secrets import SecretFilter


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"property": key, "before": wire_to_json(before.get(key)), "after": wire_to_json(after.get(key))}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


class PolicyRun:
    """``packs``: the host spec's entries (``directory``, ``python``, ``version``, ``config``, ``warnings``)."""

    def __init__(
        self, packs: list[dict[str, Any]], project: dict[str, Any], deadline: float, secrets: SecretFilter,
        events: Callable[[str, str], None] | None = None, started: list[subprocess.Popen[bytes]] | None = None,
    ) -> None:
        self.secrets = secrets
        #: Told of each answered Remediate, Analyze and AnalyzeStack (``rdsca check``'s progress line).
        self.events = events
        self.warnings: list[str] = [w for p in packs for w in p.get("warnings", [])]
        self.remediations: list[dict[str, Any]] = []
        self._diagnostics: dict[tuple[int, int], list[dict[str, Any]]] = {}
        #: The ``Analyze`` calls not answered yet: an answered one (a future with its condition, and the answer) is
        #: let go at once, not kept to the end (~3 KB a resource).
        self._pending: dict[concurrent.futures.Future[Any], None] = {}  # in call order
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        env = pack_environment(project)
        self.clients: list[PackClient] = []
        try:
            for position, pack in enumerate(packs):
                directory = Path(pack["directory"])
                process = PackProcess(directory, pack["python"], env, started[position] if started else None)
                self.clients.append(PackClient(process, directory, pack.get("version"), deadline))
        except BaseException:
            self.stop()
            for orphan in (started or [])[len(self.clients):]:  # started early, never adopted
                stop_process(orphan)
            raise
        self._setup = [
            client.submit(functools.partial(self._configure, client, project, pack))
            for client, pack in zip(self.clients, packs, strict=True)
        ]

    def _configure(self, client: PackClient, project: dict[str, Any], pack: dict[str, Any]) -> None:
        given = {name: PolicyConfig(**cfg) for name, cfg in pack.get("config", {}).items()}
        client.connect()
        client.configure_stack(project)
        warnings = client.configure(given)
        with self._lock:
            self.warnings += warnings

    def ready(self) -> None:
        """Wait until every pack is configured; the first failure is raised."""
        for future in self._setup:
            future.result()

    # -- per resource ---------------------------------------------------------------------------------------------
    def remediate(self, index: int, subject: Subject, fields: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
        """The inputs after each pack's remediations (pack after pack); advisory notes for remediations that could
        not run (an unknown value in preview), as the engine shows them."""
        for position, client in enumerate(self.clients):
            if not client.remediates:
                continue  # no policy at level remediate: the pack would answer nothing
            request = analyzer_pb2.AnalyzeRequest(properties=struct(props), **fields)
            try:
                response = client.call_later("Remediate", request, subject).result()
            except PolicyError as exc:
                with self._lock:
                    self._error = self._error or exc
                raise
            self._told("Remediate", client, subject.name)
            for remediation in response.remediations:
                if remediation.diagnostic:
                    note = analyzer_pb2.AnalyzeDiagnostic(
                        policyName=remediation.policyName,
                        policyPackName=remediation.policyPackName,
                        enforcementLevel=analyzer_pb2.ADVISORY,
                    )
                    message = self.secrets.text(remediation.diagnostic)
                    self._add(index, position, [diagnostic(note, subject.urn, client, message)])
                elif remediation.HasField("properties"):
                    after = json_format.MessageToDict(remediation.properties)
                    self.secrets.add_value(after)
                    record = {
                        "policy": remediation.policyName,
                        "pack": remediation.policyPackName or client.name,
                        "urn": subject.urn,
                        "name": subject.name,
                        "type": subject.type,
                        "changes": self.secrets.value(_changes(props, after)),
                    }
                    with self._lock:
                        self.remediations.append(record)
                    props = after
        return props

    def analyze(self, index: int, subject: Subject, fields: dict[str, Any], props: dict[str, Any]) -> None:
        """Queue ``Analyze`` on every pack; the diagnostics are kept by registration order."""
        for position, client in enumerate(self.clients):
            request = analyzer_pb2.AnalyzeRequest(properties=struct(props), **fields)
            future = client.analyze_later(request, subject)
            with self._lock:
                self._pending[future] = None
            future.add_done_callback(functools.partial(self._analysed, index, position, client, subject))

    def _analysed(
        self, index: int, position: int, client: PackClient, subject: Subject, future: concurrent.futures.Future[Any]
    ) -> None:
        try:
            error = future.exception()
            if error is not None:
                with self._lock:
                    self._error = self._error or error  # the host stops the program on it; ``drain`` raises it too
                return
            answer = future.result()
            self._told("Analyze", client, subject.name)
            if answer.diagnostics:
                # The engine reports every diagnostic against the resource it analysed (step_generator.go).
                found = [diagnostic(d, subject.urn, client, self.secrets.text(d.message)) for d in answer.diagnostics]
                self._add(index, position, found)
        finally:
            # Let go only once its diagnostics are kept: ``drain`` returns when none is left (a future's waiters
            # are woken before its callbacks run, so waiting on the futures alone could miss the last answers).
            with self._lock:
                self._pending.pop(future, None)
                if not self._pending:
                    self._idle.notify_all()

    def _told(self, method: str, client: PackClient, name: str) -> None:
        if self.events is not None:
            self.events("policy call(s)", f"{client.name} {method} {name}")

    def _add(self, index: int, position: int, found: list[dict[str, Any]]) -> None:
        if found:
            with self._lock:
                self._diagnostics.setdefault((index, position), []).extend(found)

    def failure(self) -> BaseException | None:
        """The first failed call so far, if any (the host stops the program on it)."""
        return self._error

    def first_error(self) -> BaseException | None:
        """``failure``, or a pack that could not start or be configured."""
        failure = self.failure()
        if failure is not None:
            return failure
        return next((f.exception() for f in self._setup if f.done() and f.exception() is not None), None)

    def stuck_call(self) -> str | None:
        """At the deadline: the message for a pack call still running, if one is."""
        for client in self.clients:
            current = client.current
            if current is not None:
                return client.stuck(*current)
        return None

    def drain(self) -> None:
        """Wait until every queued ``Analyze`` is answered and its diagnostics kept; raise the first failure."""
        with self._lock:
            while not self._idle.wait_for(lambda: not self._pending, timeout=0.5):
                pass  # in slices: the main thread stays responsive to signals
            error = self._error
        if error is not None:
            raise error

    # -- the stack ------------------------------------------------------------------------------------------------
    def analyze_stack(self, resources: Iterable[dict[str, Any]], index: int) -> None:
        """``resources``: ``AnalyzerResource`` fields with ``properties`` as wire values."""
        request = stack_request(resources)
        # After every pack's outstanding analyses (each pack answers in order, as the engine calls it).
        self.drain()
        for client in self.clients:
            client.close_relay()
        futures = [client.call_later("AnalyzeStack", request) for client in self.clients]
        for position, (client, future) in enumerate(zip(self.clients, futures, strict=True)):
            answer = future.result()
            found = [diagnostic(d, d.urn, client, self.secrets.text(d.message)) for d in answer.diagnostics]
            self._add(index, position, found)

    def result(self) -> dict[str, Any]:
        packs = [PackRun(c.name, c.version, c.policies()).__dict__ for c in self.clients if c.info is not None]
        with self._lock:
            diagnostics = [d for key in sorted(self._diagnostics) for d in self._diagnostics[key]]
            remediations = list(self.remediations)
        return {"packs": packs, "diagnostics": diagnostics, "remediations": remediations, "warnings": self.warnings}

    def stop(self) -> None:
        for client in self.clients:
            client.stop()

