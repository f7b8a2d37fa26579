"""Run one Pulumi Python program offline, the way the Python language host does, with the engine's step for each
registration (``rdsca.runner.engine``), and describe what it registered.

The language host (``pulumi-language-python-exec``) sets the runtime's settings, puts the program directory on
``sys.path``, makes a fresh event loop whose default executor has ``4 x --parallel`` workers, and runs the
program with ``runpy`` inside ``pulumi.runtime.run_in_stack``. ``execute`` does the same against ``EngineMonitor``
instead of the engine, with one difference: the end of the program waits for its outputs in linear time
(``sdk_internals.linear_final_wait``), where the SDK's wait is quadratic in the number of outputs; registrations,
transforms and verdicts are the same.

``python -m rdsca.runner.python_host`` reads the spec from stdin and writes the result to stdout, once, at the end (the
program's own prints go to stderr): nothing is written to a file, so a secret's plaintext never is. It starts the
policy packs (its children, in the process group ``rdsca check`` made for the run), bounds the run by the
spec's ``timeout``, and exits when its stdin closes (``rdsca check`` is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import engine_pb2

from rdsca import clock, gc_policy, sdk_internals
from rdsca.runner.engine import OfflineEngine
from rdsca.runner.invoke_answers import from_spec
from rdsca.runner.invokes import OfflineMocks
from rdsca.runner.monitor import SECRET_TEXT, EngineMonitor, LogEntry
from rdsca.runner.pack_calls import PolicyRun
from rdsca.runner.pack_launch import project_info
from rdsca.runner.policy_packs import PolicyError, failure_kind
from rdsca.runner.project import NODE_RUNTIMES
from rdsca.runner.secrets import SecretFilter
from rdsca.runner.state import StateError, load_state

#: The CLI's default ``--parallel`` is unbounded (2147483647); the language host gives its executor 4x that.
DEFAULT_PARALLEL = 2147483647

_SEVERITY = {
    engine_pb2.DEBUG: "debug",
    engine_pb2.INFO: "info",
    engine_pb2.WARNING: "warning",
    engine_pb2.ERROR: "error",
}


class _RecordingEngine:
    """The engine's logging service: keeps what the program logs (``pulumi.log``) instead of printing it."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def Log(self, request: Any) -> None:  # gRPC method name
        severity = _SEVERITY.get(request.severity, "info")
        if severity != "debug":
            self.entries.append(LogEntry(severity, request.message, request.urn))

    def GetRootResource(self, request: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn="")

    def SetRootResource(self, request: Any) -> Any:
        return engine_pb2.SetRootResourceResponse()


def _unknown_secret() -> pulumi.Output[Any]:
    loop = asyncio.get_event_loop()

    def done(value: Any) -> asyncio.Future[Any]:
        fut = loop.create_future()
        fut.set_result(value)
        return fut

    return pulumi.Output(set(), done(None), done(False), done(True))


SECRET_GETTERS = tuple(n for n in dir(pulumi.Config) if n.startswith(("get_secret", "require_secret")))


@contextlib.contextmanager
def _secure_config(secure_keys: set[str], warnings: list[str], read: set[str], esc: bool = False) -> Iterator[None]:
    """Make ``secure:`` stack values what they are offline: secrets whose value is unknown.

    The CLI would decrypt them with the stack's secrets provider, which needs credentials. ``get_secret*`` and
    ``require_secret*`` return an unknown secret Output; a plain ``get``/``require`` (which the CLI would answer
    with the plaintext) gets the placeholder ``[secret]`` and a warning. ``read`` collects the keys the program
    read: a CA that is not known then may be one of them ("cannot decide", never a pass). ``esc``: the stack imports
    Pulumi ESC environments, whose values the CLI lays under the stack's config: a key the stack does not set may
    be one of theirs, so it is unknown in the same way, not missing.
    """
    config_cls = pulumi.Config
    saved: dict[str, Callable[..., Any]] = {}

    def wrap(name: str) -> None:
        original = getattr(config_cls, name)
        saved[name] = original

        def patched(self: pulumi.Config, key: str, *args: Any, **kwargs: Any) -> Any:
            full_key = self.full_key(key)
            # A key only ESC may set: a secret getter or a plain require (which would fail: missing) is unknown.
            from_esc = esc and name in ("require", *SECRET_GETTERS) and pulumi.runtime.get_config(full_key) is None
            if full_key in secure_keys or from_esc:
                read.add(full_key)
                if "secret" in name:
                    return _unknown_secret()
                what = "is secure: its value cannot be decrypted" if not from_esc else (
                    "is not in the stack file and may come from an ESC environment: its value cannot be read")
                warnings.append(f"config {full_key} {what} offline; Config.{name} returned the placeholder "
                                f"{SECRET_TEXT}")
                if from_esc:
                    return SECRET_TEXT
            return original(self, key, *args, **kwargs)

        setattr(config_cls, name, patched)

    for name in dir(config_cls):
        if name.startswith(("get", "require")) and callable(getattr(config_cls, name)):
            wrap(name)
    try:
        yield
    finally:
        for name, original in saved.items():
            setattr(config_cls, name, original)


@contextlib.contextmanager
def _check_mode() -> Iterator[None]:
    """Tell rdsca's component that it runs under ``rdsca check`` (``clock.CHECK_ENV``), for this run only."""
    saved = os.environ.get(clock.CHECK_ENV)
    os.environ[clock.CHECK_ENV] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(clock.CHECK_ENV, None)
        else:
            os.environ[clock.CHECK_ENV] = saved


# -- errors --------------------------------------------------------------------------------------------------------


def _in_program(filename: str, program_dir: Path) -> str | None:
    if filename.startswith("<"):
        return None  # generated code (dataclass methods, <frozen runpy>): not a place in the program
    try:
        return str(Path(filename).resolve().relative_to(program_dir))
    except ValueError:
        return None


def _user_frame(exc: BaseException, program_dir: Path) -> str:
    if isinstance(exc, SyntaxError) and exc.filename:
        # A syntax error happens before any frame of the file runs: its place is the error's own.
        relative = _in_program(exc.filename, program_dir)
        if relative is not None:
            return f"{relative}:{exc.lineno}: "
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        relative = _in_program(frame.filename, program_dir)
        if relative is not None:
            return f"{relative}:{frame.lineno}: "
    return ""


def describe_error(exc: BaseException, program_dir: Path) -> str:
    """One line for a failed program: where in the program, what type, what message; no traceback."""
    message = (exc.msg or "invalid syntax") if isinstance(exc, SyntaxError) else str(exc).strip()
    if isinstance(exc, pulumi.RunError):
        return message
    kind = exc.__class__.__name__
    return f"{_user_frame(exc, program_dir)}{kind}: {message}" if message else f"{_user_frame(exc, program_dir)}{kind}"


def where_running(thread: threading.Thread, program_dir: Path) -> str:
    """`` (at __main__.py:12)``: the innermost line of the program that ``thread`` is running, if any."""
    frame = sys._current_frames().get(thread.ident or 0)
    while frame is not None:
        relative = _in_program(frame.f_code.co_filename, program_dir)
        if relative is not None:
            return f" (at {relative}:{frame.f_lineno})"
        frame = frame.f_back
    return ""


# -- one run -------------------------------------------------------------------------------------------------------


@dataclass
class Session:
    """Everything one program run holds. ``deadline``: ``time.monotonic()`` value, or None."""

    spec: dict[str, Any]
    program_dir: Path
    engine: OfflineEngine
    monitor: EngineMonitor
    mocks: OfflineMocks
    log: _RecordingEngine
    secrets: SecretFilter
    policies: PolicyRun | None
    deadline: float | None
    warnings: list[str] = field(default_factory=list)
    #: The secure config keys that could not be decrypted and that the program read.
    secure_reads: set[str] = field(default_factory=set)
    error: tuple[str, str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, kind: str, message: str) -> None:
        """Keep the first failure: ``kind`` is ``program``, ``policy`` or ``timeout``."""
        with self._lock:
            if self.error is None:
                self.error = (kind, self.secrets.text(message))


class Events:
    """Registrations and policy calls as they happen, one JSON line each (``[kind, detail]``) on the pipe ``rdsca
    check`` passed as ``events_fd`` for its terminal's progress line; without one, nothing. Types and names only:
    never inputs, outputs or messages (no secret's plaintext)."""

    def __init__(self, fd: int | None) -> None:
        self._out = os.fdopen(fd, "w", encoding="utf-8", buffering=1) if fd is not None else None
        self._lock = threading.Lock()

    def __call__(self, kind: str, detail: str) -> None:
        if self._out is None:
            return
        with self._lock, contextlib.suppress(OSError, ValueError):  # rdsca check gone: its run is over too
            self._out.write(json.dumps([kind, detail]) + "\n")


def prepare(spec: dict[str, Any], started: list[subprocess.Popen[bytes]] | None = None) -> Session:
    """Start the packs (they configure while the program starts; ``started``: their processes, already started by
    ``rdsca.runner.host_main``) and build the engine, monitor and mocks."""
    timeout = spec.get("timeout")
    deadline = time.monotonic() + float(timeout) if timeout else None
    secrets = SecretFilter()
    # The engine filters the stack's secure config values out of every message (AddGlobalSecretFilter).
    secrets.add({spec["config"][k] for k in spec.get("secret_keys", []) if k in spec["config"]})
    secrets.add(set(spec.get("secret_values", [])))
    project = project_info(spec)
    state = load_state(Path(spec["state"])) if spec.get("state") else None
    if state is not None:
        for old in state.resources.values():
            secrets.add_value(old.inputs)
            secrets.add_value(old.outputs)
    packs = spec.get("packs") or []
    events = Events(spec.get("events_fd"))
    policies = PolicyRun(packs, project, deadline or float("inf"), secrets, events, started) if packs else None
    engine = OfflineEngine(project, state, policies, secrets, events)
    mocks = OfflineMocks(spec.get("region"), from_spec(spec.get("invoke_answers") or {}))
    monitor = EngineMonitor(mocks, spec["project"], spec["stack"], engine)
    return Session(spec, Path(spec["directory"]).resolve(), engine, monitor, mocks, _RecordingEngine(), secrets,
                   policies, deadline)


def _configure_sdk(session: Session) -> None:
    spec = session.spec
    sdk_internals.reset_root_resource()
    settings = pulumi_mocks.MockSettings(
        monitor=session.monitor,
        monitor_features=set(session.monitor.GetDeploymentInfo(None).supportedFeatures),
        engine=session.log,
        project=spec["project"],
        stack=spec["stack"],
        dry_run=True,
        organization=spec.get("organization", "organization"),
        root_directory=str(session.program_dir),
        parallel=spec.get("parallel", DEFAULT_PARALLEL),
        callbacks=None,
        outputs=set(),
        lock=threading.Lock(),
        package_refs={},
        base_providers_by_ref={},
    )
    pulumi_settings.configure(settings)
    config = dict(spec["config"])
    secure_keys = set(spec.get("secure_keys", []))
    for key in secure_keys:
        config[key] = SECRET_TEXT
    set_all_config(config, sorted(secure_keys | set(spec.get("secret_keys", []))))


@contextlib.contextmanager
def _program_environment(program_dir: Path) -> Iterator[None]:
    """The program's directory as working directory and first on ``sys.path``; its modules forgotten after, so that
    another program with the same module names runs clean in this process."""
    cwd = os.getcwd()
    sys.path.insert(0, str(program_dir))
    before = set(sys.modules)
    os.chdir(program_dir)
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.path.remove(str(program_dir))
        for name in set(sys.modules) - before:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if module_file.startswith(str(program_dir)):
                del sys.modules[name]


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(sdk_internals.shutdown_callback_servers())
    loop.close()
    asyncio.set_event_loop(None)
    sdk_internals.reset_root_resource()


def run_program(session: Session) -> None:
    """Run the program inside the SDK's stack and event loop (a Node.js program: with ``node``, against this
    process's engine over gRPC, ``rdsca.runner.node_host``); a failure is kept in ``session.error``."""
    _configure_sdk(session)
    if session.spec.get("runtime") in NODE_RUNTIMES:
        from rdsca.runner import node_host

        config = dict(session.spec["config"])
        secure_keys = set(session.spec.get("secure_keys", []))
        for key in secure_keys:
            config[key] = SECRET_TEXT  # not decrypted: the program sees the placeholder, and rdsca says so
        node_host.run_program(session, config, sorted(secure_keys | set(session.spec.get("secret_keys", []))))
        return
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    parallel = int(session.spec.get("parallel", DEFAULT_PARALLEL))
    loop.set_default_executor(ThreadPoolExecutor(max_workers=4 * max(parallel, 1)))

    def program() -> None:
        runpy.run_path(str(session.spec["main"]), run_name="__main__")

    try:
        with _program_environment(session.program_dir), _secure_config(
            set(session.spec.get("secure_keys", [])), session.warnings, session.secure_reads,
            bool(session.spec.get("esc")),
        ), _check_mode(), sdk_internals.linear_final_wait():
            loop.run_until_complete(pulumi.runtime.stack.run_in_stack(program))
    except BaseException as exc:  # the program's own KeyboardInterrupt and SystemExit too: it failed
        if os.environ.get("RDSCA_DEBUG"):
            traceback.print_exception(exc)
        session.fail("program", describe_error(exc, session.program_dir))
    finally:
        _close_loop(loop)


def _policy_failure(session: Session) -> None:
    """A pack that failed stops the run; its error, not the program's echo of it, is the one reported."""
    if session.policies is None:
        return
    failure = session.policies.first_error()
    if failure is not None:
        with session._lock:
            session.error = (failure_kind(failure), session.secrets.text(str(failure)))


def finish_policies(session: Session) -> None:
    """The queued analyses (also after a failure: what was registered is reported), then, after a successful
    program, ``AnalyzeStack``."""
    if session.policies is None:
        return
    try:
        session.policies.drain()
    except PolicyError as exc:
        session.fail(failure_kind(exc), str(exc))
    _policy_failure(session)
    if session.error is not None:
        return
    try:
        session.engine.analyze_stack()
    except PolicyError as exc:
        session.fail(failure_kind(exc), str(exc))


def result(session: Session) -> dict[str, Any]:
    """What the run registered, logged, analysed and raised: so far, when it stopped early."""
    engine, secrets = session.engine, session.secrets
    log = [LogEntry(e.severity, secrets.text(e.message), e.urn) for e in [*session.log.entries, *engine.log]]
    kind, message = session.error or (None, None)
    return {
        "registrations": [r.to_json() for r in engine.registrations],
        "log": [e.__dict__ for e in log],
        "warnings": [secrets.text(w) for w in [*session.warnings, *engine.warnings, *engine.state_warnings()]],
        "secure_reads": sorted(session.secure_reads),
        "root_urn": engine.root_urn,
        **session.mocks.report(),
        "policy": session.policies.result() if session.policies else None,
        "error": message,
        "error_kind": kind,
    }


def execute(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the program described by ``spec`` in this process and return what it registered, logged and raised.

    ``spec``: ``directory``, ``main``, ``project``, ``stack``, ``config`` (qualified key -> string),
    ``secure_keys``, ``region`` (may be None), and optionally ``parallel``, ``packs``, ``state``, ``timeout``,
    ``invoke_answers`` (the ``--invoke-answers`` file, ``rdsca.runner.invoke_answers.to_spec``).
    """
    session = prepare(spec)
    try:
        with gc_policy.amortised_collections():
            contextvars.copy_context().run(run_program, session)
            finish_policies(session)
            return result(session)
    finally:
        if session.policies is not None:
            session.policies.stop()


# -- the host process ----------------------------------------------------------------------------------------------


class _Output:
    """The result channel (the original stdout): written once, by whoever finishes first."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()
        self.done = False

    def write(self, document: dict[str, Any]) -> None:
        with self.lock:
            if self.done:
                return
            self.done = True
            data = json.dumps(document).encode("utf-8")
            with os.fdopen(self.fd, "wb") as out:
                out.write(data)


def _exit_when_orphaned(stdin: Any) -> None:
    """``rdsca check`` keeps our stdin open until it is done: end of file means it is gone, so is the run."""
    with contextlib.suppress(OSError, ValueError):
        while stdin.read(65536):
            pass
    if os.name == "posix":
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os._exit(1)


def _watch_deadline(session: Session, output: _Output, main: threading.Thread) -> None:
    """At the deadline: report what was running (a policy call, or the program's line) with what is known so far,
    and exit; ``rdsca check`` then stops the process group."""
    assert session.deadline is not None
    delay = session.deadline - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    if output.done:
        return
    timeout = float(session.spec["timeout"])
    stuck = session.policies.stuck_call() if session.policies else None
    if stuck is not None:
        session.fail("policy", stuck)
    else:
        where = where_running(main, session.program_dir)
        session.fail("timeout", f"the program did not finish within the --timeout of {timeout:g} s{where}")
    output.write(result(session))
    os._exit(0)


def serve(spec: dict[str, Any], output: _Output, started: list[subprocess.Popen[bytes]] | None = None) -> None:
    try:
        session = prepare(spec, started)
    except (PolicyError, StateError) as exc:
        output.write({"registrations": [], "log": [], "warnings": [], "error": str(exc), "error_kind": "policy"})
        return
    if session.deadline is not None:
        watch = (session, output, threading.current_thread())
        threading.Thread(target=_watch_deadline, args=watch, daemon=True).start()
    try:
        # Until the result is written: leaving the policy with the heap at its largest would start a full collection
        # at once (0.3 s at 1,000 databases, 5 s at 10,000).
        with gc_policy.amortised_collections():
            contextvars.copy_context().run(run_program, session)
            finish_policies(session)
            output.write(result(session))
    finally:
        if session.policies is not None:
            session.policies.stop()


def run(spec: dict[str, Any], stdin: Any, output_fd: int, started: list[subprocess.Popen[bytes]] | None) -> None:
    """The host's work once ``rdsca.runner.host_main`` has read the spec, moved the file descriptors and started
    the packs: serve the program, write the result on ``output_fd``, exit."""
    output = _Output(output_fd)
    threading.Thread(target=_exit_when_orphaned, args=(stdin,), daemon=True).start()
    logging.basicConfig(level=logging.WARNING)
    serve(spec, output, started)
    sys.stderr.flush()
    # Exit without interpreter teardown: grpc's aio server can print "Exception ignored ... Invalid file
    # descriptor" during finalisation once the callback server has run (pulumi-without-cli notes).
    os._exit(0)


