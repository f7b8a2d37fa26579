"""The engine's side of the CrossGuard protocol: start Python policy packs and drive them over gRPC, as the CLI does.

The Pulumi CLI starts a Python pack as ``python -u -m pulumi.policy <engine-address> .`` in the pack directory,
with the virtualenv named in ``PulumiPolicy.yaml``, reads the port from the pack's first line of stdout and talks
``pulumirpc.Analyzer`` to it (pulumi/pulumi ``sdk/go/common/resource/plugin/analyzer_plugin.go``). ``PackClient``
does the same, in the engine's order (``pkg/resource/deploy/step_generator.go``): ``ConfigureStack`` when the
plugin loads, ``GetAnalyzerInfo``, ``Configure`` with every policy's enforcement level and schema defaults merged
with the user's config file (``pkg/resource/analyzer/config.go``), then, as each resource registers, ``Remediate``
(whose returned properties replace the inputs, pack after pack) and ``Analyze``, and finally ``AnalyzeStack``.

Values cross as the engine marshals them for analyzers (``KeepUnknowns``, ``KeepSecrets``: a secret's plaintext
goes to the pack, over the loopback socket only). Every channel allows messages of 400 MiB, the limit the engine
sets (``sdk/go/common/util/rpcutil/serve.go``, ``maxRPCMessageSize``); gRPC's default of 4 MiB would refuse the
``AnalyzeStack`` answer of a large stack. Calls to one pack are made one at a time in registration order, as the
engine's step generator makes them, on a worker thread, so that the pack works while the program goes on.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import math
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from rdsca import rules, sdk_internals
from rdsca.rules import config as policy_config
from rdsca.rules.config import PolicyConfig
from rdsca.runner import pack_launch, pack_relay
from rdsca.runner.pack_launch import ANALYZER_METHOD, channel_options, launch
from rdsca.runner.policy_packs import PolicyConfigInvalid, PolicyError
from rdsca.runner.processes import OutputTail, stop_process

STARTUP_TIMEOUT_S = 60.0

LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
LEVEL_NAMES = {value: name for name, value in LEVELS.items()}
SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}

_SIG = sdk_internals.SIG_KEY
_SECRET = sdk_internals.SECRET_SIG

# -- policy config, as the CLI reconciles it -----------------------------------------------------------------------


def _schema(policy: Any) -> dict[str, Any] | None:
    if not policy.HasField("configSchema"):
        return None
    properties = json_format.MessageToDict(policy.configSchema.properties)
    schema: dict[str, Any] = {"type": "object"}
    if properties:
        schema["properties"] = properties
    if policy.configSchema.required:
        schema["required"] = list(policy.configSchema.required)
    return schema


def reconcile(info: Any, given: dict[str, PolicyConfig]) -> dict[str, PolicyConfig]:
    """Defaults from each policy's schema and level, then the pack's initial config, then ``given``; validated."""
    defaults: dict[str, PolicyConfig] = {}
    for policy in info.policies:
        declared = _schema(policy) or {}
        values = {k: v["default"] for k, v in declared.get("properties", {}).items() if "default" in v}
        defaults[policy.name] = PolicyConfig(LEVEL_NAMES[policy.enforcementLevel], values or None)
    initial = {
        name: PolicyConfig(LEVEL_NAMES.get(cfg.enforcementLevel, ""), json_format.MessageToDict(cfg.properties) or None)
        for name, cfg in info.initialConfig.items()
    }
    result = policy_config.merge(defaults, [initial, given])
    try:
        policy_config.validate(result, {policy.name: _schema(policy) for policy in info.policies})
    except policy_config.PolicyConfigError as exc:
        raise PolicyConfigInvalid(str(exc)) from None  # reported as an error before anything ran
    return result


def configure_request(config: dict[str, PolicyConfig]) -> Any:
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, cfg in config.items():
        entry = request.policyConfig[name]
        if cfg.level:
            entry.enforcementLevel = LEVELS[cfg.level]
        if cfg.properties:
            json_format.ParseDict(cfg.properties, entry.properties)
    return request


# -- wire values ---------------------------------------------------------------------------------------------------


def analyzer_value(value: Any) -> Any:
    """A registered input as the engine holds it for analyzers: secrets kept (with their plaintext), unknowns kept,
    output values unwrapped (a secret one stays secret), resource references as their ID (or URN)."""
    if isinstance(value, list):
        return [analyzer_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    sig = value.get(_SIG)
    if sig == sdk_internals.OUTPUT_VALUE_SIG:
        inner = analyzer_value(value["value"]) if "value" in value else sdk_internals.UNKNOWN
        return {_SIG: _SECRET, "value": inner} if value.get("secret") else inner
    if sig == sdk_internals.RESOURCE_SIG:
        ident = value.get("id")
        return analyzer_value(ident) if ident is not None else value.get("urn", sdk_internals.UNKNOWN)
    if sig == _SECRET:
        return {_SIG: _SECRET, "value": analyzer_value(value.get("value"))}
    if sig is not None:
        return value  # assets and archives pass through
    return {k: analyzer_value(v) for k, v in value.items()}


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    """Analyze skips the engine's internal ``__`` keys (``SkipInternalKeys``)."""
    message = struct_pb2.Struct()
    message.update({k: v for k, v in props.items() if not k.startswith("__")})
    return message


def stack_request(resources: Iterable[dict[str, Any]]) -> bytes:
    """The bytes of the ``AnalyzeStackRequest`` of ``resources`` (``AnalyzerResource`` fields, ``properties`` as
    wire values), built one resource at a time: the whole request as one message held every resource's properties
    as protobuf values at once (about 50 MiB in the host at 10,000 databases, while the pack converts them too).
    A repeated field's elements are encoded one after another, each as its own record (protobuf encoding), so a
    request of one resource at a time, concatenated, is the whole request's bytes."""
    out = bytearray()
    for fields in resources:
        fields = dict(fields)
        properties = struct(fields.pop("properties"))
        one = analyzer_pb2.AnalyzeStackRequest()
        one.resources.add(**fields).properties.CopyFrom(properties)
        out += one.SerializeToString()
    return bytes(out)


@dataclass(frozen=True)
class Subject:
    """What a policy call is about, for error messages: ``aws:rds/instance:Instance db``."""

    type: str
    name: str
    urn: str

    def __str__(self) -> str:
        return f"{self.type} {self.name}" if self.name else self.type


# -- the pack process ----------------------------------------------------------------------------------------------


class PackProcess:
    """A pack started the way the CLI starts it. Its stderr is kept in memory (a tail) for error messages.
    ``PYTHONFAULTHANDLER`` lets a stuck pack show, on SIGABRT, where each of its threads is."""

    def __init__(
        self, directory: Path, python: str, env: dict[str, str], started: subprocess.Popen[bytes] | None = None
    ) -> None:
        """``started``: the process ``rdsca.runner.pack_launch.launch`` already started for it (else start it)."""
        self.directory = directory
        self.python = python
        if started is None:
            try:
                started = launch(directory, python, env)
            except OSError as exc:
                raise PolicyError(
                    f"the policy pack {directory} did not start: {python}: {exc.strerror or exc}"
                ) from None
        self.process = started
        assert self.process.stderr is not None
        self.stderr = OutputTail(self.process.stderr)

    def port(self, timeout: float) -> int:
        """The first line of the pack's stdout is its port (``PolicyPack`` prints it once it listens)."""
        line: list[bytes] = []
        stdout = self.process.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        try:
            port = int(line[0].decode().strip())
        except (IndexError, ValueError, UnicodeDecodeError):
            port = 0
        if not 0 < port < 65536:
            if line and not line[0]:
                # End of output: the pack is exiting. Its pipe closes before it can be reaped, so poll() right now
                # may still say "running" (and the message would wrongly blame a timeout).
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=1.0)
            exited = self.process.poll()
            stop_process(self.process)
            self.stderr.wait(1.0)
            raise PolicyError(f"the policy pack {self.directory} did not start: {self._why(line, exited, timeout)}")
        # PolicyPack prints its port once it listens: a port that refuses a connection now will never answer, and
        # waiting for gRPC's channel would wait out the whole start-up timeout.
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except OSError as exc:
            stop_process(self.process)
            raise PolicyError(
                f"the policy pack {self.directory} printed port {port}, but nothing answers there "
                f"({exc.strerror or exc}): is something in the pack printing to stdout before PolicyPack does?"
            ) from None
        return port

    def _why(self, line: list[bytes], exited: int | None, timeout: float) -> str:
        """Why no port came: the interpreter's exit status and its last error lines, or what it printed instead."""
        errors = self.stderr.summary()
        if exited is not None:
            how = f"killed by signal {-exited}" if exited < 0 else f"exited with code {exited}"
            return f"its Python ({self.python}) {how}: {errors}"
        if line and line[0]:
            return f"its first line of output is not a port: {line[0][:80].decode(errors='replace').strip()!r}"
        return f"no port printed within {timeout:g} s: {errors}"

    def where_stuck(self) -> str:
        """Abort the pack (SIGABRT: the fault handler prints every thread's stack) and say which policy code was
        running: the frames the policy SDK's ``Analyze``/``Remediate``/``AnalyzeStack`` had called."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, getattr(signal, "SIGABRT", signal.SIGTERM))
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.stderr.wait(2.0)
        return stuck_policy_code(self.stderr.lines(), self.directory)

    def stop(self) -> None:
        stop_process(self.process)


_FRAME = re.compile(r'^\s*File "(?P<file>.+)", line (?P<line>\d+) in (?P<func>\S+)')
_ENTRY_POINTS = {"Analyze", "Remediate", "AnalyzeStack"}


def _place(file: str, line: str, directory: Path) -> str:
    try:
        shown = str(Path(file).relative_to(directory))
    except ValueError:
        shown = file
    return f"{shown}:{line}"


def stuck_policy_code(lines: list[str], directory: Path) -> str:
    """From a fault-handler dump: ``validate (checks.py:12), at checks.py:14`` for the thread inside a policy."""
    frames: list[list[tuple[str, str, str]]] = [[]]
    for text in lines:
        match = _FRAME.match(text)
        if match:
            frames[-1].append((match["file"], match["line"], match["func"]))
        elif text.startswith(("Thread ", "Current thread ")):
            frames.append([])
    sdk = os.sep + "pulumi_policy" + os.sep
    for stack in frames:
        for depth, (file, _line, func) in enumerate(stack):
            if func in _ENTRY_POINTS and file.endswith(os.path.join("pulumi_policy", "policy.py")):
                # The outermost frame below the SDK's entry point that is not the SDK's own: the policy's function.
                user = [frame for frame in stack[:depth] if sdk not in frame[0]]
                if not user:
                    break
                entry, innermost = user[-1], stack[0]
                where = f"{entry[2]} ({_place(entry[0], entry[1], directory)})"
                if innermost != entry:
                    where += f", at {_place(innermost[0], innermost[1], directory)} in {innermost[2]}"
                return where
    return "code that the fault handler could not place"


# -- one pack's client ---------------------------------------------------------------------------------------------


class PackClient:
    """One launched pack: its channel, its policies and levels, and a worker thread that makes every call in order.
    ``deadline`` (``time.monotonic()``) bounds each call: ``--timeout`` covers the policies too."""

    def __init__(self, process: PackProcess, directory: Path, version: str | None, deadline: float) -> None:
        self.process = process
        self.directory = directory
        self.version = version or ""
        self.deadline = deadline
        self.name = directory.name
        self.info: Any = None
        self.config: dict[str, PolicyConfig] = {}
        self.channel: grpc.Channel | None = None
        self._current: tuple[str, Subject | None] | None = None
        self._stub: Any = None
        self._raw: dict[str, Any] = {}
        self._stuck: str | None = None
        #: Set before the pack is aborted to find a stuck policy: calls failing after it report the hang.
        self._aborting = False
        self._stuck_lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._worker = threading.Thread(target=self._work, name=f"pack-{self.name}", daemon=True)
        self._worker.start()
        #: The ``Analyze`` calls' relay (``rdsca.runner.pack_relay``), started now so that it imports gRPC while the
        #: pack starts; told the port once the pack listens, and closed unless it is used (see ``configure``).
        self._relay: Relay | None = Relay.start(self)

    # -- calls ----------------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)

    def submit(self, fn: Callable[[], Any]) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._queue.put((fn, future))
        return future

    def call(self, method: str, request: Any, subject: Subject | None = None) -> Any:
        """One RPC, bounded by the run's deadline; every failure is a ``PolicyError`` naming the pack, the call
        and the resource."""
        self._current = (method, subject)
        try:
            remaining = self.deadline - time.monotonic() if math.isfinite(self.deadline) else None
            if remaining is not None and remaining <= 0:
                raise PolicyError(self.stuck(method, subject))
            if isinstance(request, bytes):  # already serialised (``stack_request``)
                return self._raw[method](request, timeout=remaining)
            return getattr(self._stub, method)(request, timeout=remaining)
        except grpc.RpcError as exc:
            raise self._error(method, subject, exc) from None
        finally:
            self._current = None

    def _error(self, method: str, subject: Subject | None, exc: Any) -> PolicyError:
        code, details = exc.code(), exc.details()
        about = f" for {subject}" if subject else ""
        if code == grpc.StatusCode.DEADLINE_EXCEEDED or self._aborting:
            # Past the deadline, or the pack was aborted (by another thread) to see where it is stuck: the call
            # that failed because of that is reported as the hang it is, not as a pack that died.
            return PolicyError(self.stuck(method, subject))
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            return PolicyError(
                f"the policy pack {self.name}: {method}{about}: a message is larger than the engine's gRPC limit of "
                f"{pack_launch.MAX_MESSAGE_BYTES // 2**20} MiB ({details})"
            )
        transport = code in _TRANSPORT_FAILURES or (
            code == grpc.StatusCode.UNKNOWN and any(w in (details or "") for w in ("Stream removed", "Socket closed"))
        )
        if transport and self._exited():
            self.process.stderr.wait(1.0)
            details = f"its process exited: {self.process.stderr.summary()}"
        return PolicyError(f"the policy pack {self.name} failed in {method}{about}: {details or code.name}")

    def _exited(self) -> bool:
        """Whether the pack's process has exited, or does so within a second: the connection can close (UNAVAILABLE,
        or "Stream removed", UNKNOWN) a moment before the exit is seen, more often through the relay."""
        try:
            self.process.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stuck(self, method: str, subject: Subject | None) -> str:
        """The message for a call the pack did not answer before the deadline, naming the policy code it was
        running (the pack is aborted to find out). Computed once."""
        self._aborting = True
        with self._stuck_lock:
            if self._stuck is None:
                about = f" for {subject}" if subject else ""
                self._stuck = (
                    f"the policy pack {self.name} did not answer {method}{about} before the --timeout: a policy "
                    f"is stuck in {self.process.where_stuck()}"
                )
            return self._stuck

    def call_later(self, method: str, request: Any, subject: Subject | None = None) -> concurrent.futures.Future[Any]:
        return self.submit(lambda: self.call(method, request, subject))

    @property
    def current(self) -> tuple[str, Subject | None] | None:
        """The call the pack is answering now, if any: the worker's, else the relay's oldest unanswered one."""
        current = self._current
        if current is None and self._relay is not None:
            current = self._relay.oldest()
        return current

    def analyze_later(self, request: Any, subject: Subject) -> concurrent.futures.Future[Any]:
        """``Analyze``, queued in order behind every earlier call (through the relay once the pack is configured
        without remediations)."""
        relay = self._relay
        if relay is not None and relay.ready:
            return relay.send(request, subject)
        return self.call_later("Analyze", request, subject)

    # -- start-up -------------------------------------------------------------------------------------------------
    def connect(self) -> None:
        port = self.process.port(min(STARTUP_TIMEOUT_S, max(self.deadline - time.monotonic(), 0.1)))
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=channel_options())
        try:
            grpc.channel_ready_future(self.channel).result(timeout=STARTUP_TIMEOUT_S)
        except grpc.FutureTimeoutError:
            raise PolicyError(f"the policy pack {self.directory} did not answer on port {port}") from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        # AnalyzeStack with the request's bytes as ``stack_request`` builds them (no serialiser: bytes go as given).
        self._raw = {
            "AnalyzeStack": self.channel.unary_unary(
                ANALYZER_METHOD.format("AnalyzeStack"), response_deserializer=analyzer_pb2.AnalyzeResponse.FromString
            )
        }
        self._port = port

    def configure_stack(self, project: dict[str, Any]) -> None:
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=project["stack"],
            project=project["project"],
            organization=project["organization"],
            dry_run=True,
            config=project["config"],
            config_secret_keys=project["config_secret_keys"],
        )
        try:
            self.call("ConfigureStack", request)
        except PolicyError:
            # Packs built with an older policy SDK answer UNIMPLEMENTED, which the engine accepts.
            if self.process.process.poll() is not None:
                raise

    def configure(self, given: dict[str, PolicyConfig]) -> list[str]:
        """``GetAnalyzerInfo``, then ``Configure`` with the reconciled config; warnings about the given config."""
        self.info = self.call("GetAnalyzerInfo", empty_pb2.Empty())
        self.name = self.info.name or self.name
        self.version = self.version or self.info.version
        known = {p.name for p in self.info.policies}
        self.config = reconcile(self.info, given)
        self.call("Configure", configure_request(self.config))
        if self._relay is not None:
            if self.remediates:
                # Remediate is answered before each Analyze, one after the other: both stay on this client's worker.
                self._relay.close()
                self._relay = None
            else:
                self._relay.connect(self._port)
        # rdsca check reads its front-end rules' levels from the same files (rds-ca-undecided): not unknown names.
        front_end = {module.RULE.name for module in rules.FRONT_END_MODULES}
        return policy_config.unknown_names(given, known | front_end, self.name)

    @property
    def remediates(self) -> bool:
        """Whether any policy is at level remediate (otherwise ``Remediate`` answers nothing and is skipped)."""
        return any(cfg.level == "remediate" for name, cfg in self.config.items() if name != "all")

    def policies(self) -> list[dict[str, Any]]:
        return [
            {
                "name": p.name,
                "description": p.description,
                "level": self.config[p.name].level if p.name in self.config else LEVEL_NAMES[p.enforcementLevel],
                "severity": SEVERITIES.get(p.severity),
                "remediation_steps": p.remediation_steps,
                "url": p.url,
                "pack": self.name,
            }
            for p in self.info.policies
        ]

    def close_relay(self) -> None:
        """After the last ``Analyze`` has been answered: the relay's process goes before ``AnalyzeStack``, whose
        answer is a pack's largest (its memory is not added to the pack's at the end of a large stack)."""
        relay, self._relay = self._relay, None
        if relay is not None:
            relay.close()

    def stop(self) -> None:
        self._queue.put(None)
        # The pack first: grpcio's Channel.close() against a live server takes about 0.1 s (a graceful HTTP/2
        # shutdown), an eighth of a small stack's whole check; against a stopped one it returns at once.
        self.process.stop()
        if self._relay is not None:
            self._relay.close()
        if self.channel is not None:
            self.channel.close()


#: Status codes of a call whose connection failed (the pack may have died). UNKNOWN is also what a policy that
#: raises gives, so it counts only with grpcio's words for a reset stream.
_TRANSPORT_FAILURES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED})


class _Failure:
    """A failed call as the relay reports it, read like ``grpc.RpcError`` (``code()``, ``details()``)."""

    def __init__(self, code: str, details: str) -> None:
        self._code = getattr(grpc.StatusCode, code, grpc.StatusCode.UNKNOWN)
        self._details = details

    def code(self) -> Any:
        return self._code

    def details(self) -> str:
        return self._details


#: Runs the relay with the host's own module path (the host's interpreter may be a program's virtualenv).
RELAY_COMMAND = (
    "import json, os, sys; sys.path[:] = json.loads(os.environ.pop('RDSCA_RELAY_PATH')); "
    "from rdsca.runner.pack_relay import main; main()"
)


class Relay:
    """One pack's ``Analyze`` calls made by ``rdsca.runner.pack_relay`` in its own process: requests written in
    order on its stdin, answers read back on a thread and handed to each call's future."""

    def __init__(self, client: PackClient, process: subprocess.Popen[bytes]) -> None:
        self.client = client
        self.process = process
        self.ready = False
        self._sequence = 0
        self._pending: dict[int, tuple[concurrent.futures.Future[Any], Subject]] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        assert process.stderr is not None
        self.stderr = OutputTail(process.stderr)
        self._reader = threading.Thread(target=self._read, name=f"relay-{client.name}", daemon=True)

    @classmethod
    def start(cls, client: PackClient) -> Relay | None:
        """None where the relay cannot start: the calls are then made from the host, as before."""
        env = {**os.environ, "RDSCA_RELAY_PATH": json.dumps(sys.path)}
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", RELAY_COMMAND], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError:
            return None
        assert process.stdin is not None
        with contextlib.suppress(ImportError, AttributeError, OSError):  # not Linux: the default pipe
            import fcntl

            # Linux: room for a few thousand requests in the pipe (64 KiB by default), so that a registration
            # never waits for the relay while the pack catches up (F_SETPIPE_SZ, fcntl(2); capped by the system).
            fcntl.fcntl(process.stdin.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)  # type: ignore[attr-defined]
        return cls(client, process)

    def connect(self, port: int) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(f"{port}\n".encode())
            self.process.stdin.flush()
        except OSError:
            return  # the relay is gone: calls stay on the client's worker
        self._reader.start()
        self.ready = True

    def send(self, request: Any, subject: Subject) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        payload = request.SerializeToString()
        # Two locks: the pipe may be full while the relay writes answers, and the reader needs ``_lock`` to take
        # them; holding it while writing would wait on each other for ever.
        with self._write_lock:
            with self._lock:
                sequence = self._sequence = self._sequence + 1
                self._pending[sequence] = (future, subject)
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(pack_relay.REQUEST.pack(sequence, len(payload), self.client.deadline))
                self.process.stdin.write(payload)
                self.process.stdin.flush()
            except (OSError, ValueError):  # the relay is gone (its pipe closed)
                with self._lock:
                    gone = self._pending.pop(sequence, None)
                if gone is not None:
                    future.set_exception(self._gone(subject))
        return future

    def oldest(self) -> tuple[str, Subject | None] | None:
        with self._lock:
            for _future, subject in self._pending.values():
                return ("Analyze", subject)
        return None

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        taken: tuple[concurrent.futures.Future[Any], Subject] | None = None
        try:
            while True:
                header = stdout.read(pack_relay.ANSWER.size)
                if len(header) < pack_relay.ANSWER.size:
                    break
                sequence, status, length = pack_relay.ANSWER.unpack(header)
                payload = stdout.read(length)
                with self._lock:
                    taken = future, subject = self._pending.pop(sequence)
                if status == pack_relay.OK:
                    future.set_result(analyzer_pb2.AnalyzeResponse.FromString(payload))
                else:
                    failure = json.loads(payload)
                    error = _Failure(failure["code"], failure["details"])
                    future.set_exception(self.client._error("Analyze", subject, error))
        except Exception:  # a frame that cannot be read: the relay is stopped and every call left fails below
            with contextlib.suppress(OSError):
                self.process.kill()
            if taken is not None and not taken[0].done():
                taken[0].set_exception(self._gone(taken[1]))
        with self._lock:
            left, self._pending = list(self._pending.values()), {}
        for future, subject in left:
            future.set_exception(self._gone(subject))

    def _gone(self, subject: Subject) -> PolicyError:
        if self.client._aborting:
            return PolicyError(self.client.stuck("Analyze", subject))
        self.stderr.wait(1.0)
        return PolicyError(f"the policy pack {self.client.name}: the process relaying its calls stopped during "
                           f"Analyze for {subject}: {self.stderr.summary() or 'no message'}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        stop_process(self.process)


def diagnostic(d: Any, urn: str, pack: PackClient, message: str) -> dict[str, Any]:
    level = LEVEL_NAMES.get(d.enforcementLevel, "advisory")
    # A diagnostic at level remediate means the remediation did not fix it: the engine reports it as mandatory.
    level = "mandatory" if level == "remediate" else level
    severity = SEVERITIES.get(d.severity)
    if severity is None:
        severity = next((p.severity for p in pack.info.policies if p.name == d.policyName), None)
        severity = SEVERITIES.get(severity) if severity is not None else None
    return {
        "policy": d.policyName,
        "level": level,
        "urn": urn,
        "message": message,
        "severity": severity,
        "pack": d.policyPackName or pack.name,
    }


