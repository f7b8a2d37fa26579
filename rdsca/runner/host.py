"""Run one Pulumi Python program offline, the way the Python language host does, and describe what it registered.

The language host (``pulumi-language-python-exec``) sets the runtime's settings, puts the program directory on
``sys.path``, makes a fresh event loop whose default executor has ``4 x --parallel`` workers, and runs the
program with ``runpy`` inside ``pulumi.runtime.run_in_stack``. ``execute`` does the same against
``EngineMonitor`` instead of the engine. ``python -m rdsca.runner.host SPEC RESULT`` runs it in a fresh
process (one root stack per process, no state shared with the caller); ``execute`` can also run in process.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import runpy
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import engine_pb2

from rdsca import clock, sdk_internals
from rdsca.runner.answers import from_spec
from rdsca.runner.invokes import OfflineMocks
from rdsca.runner.monitor import SECRET_TEXT, EngineMonitor, LogEntry

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


@contextmanager
def _secure_config(secure_keys: set[str], warnings: list[str]) -> Iterator[None]:
    """Make ``secure:`` stack values what they are offline: secrets whose value is unknown.

    The CLI would decrypt them with the stack's secrets provider, which needs credentials. ``get_secret*`` and
    ``require_secret*`` return an unknown secret Output; a plain ``get``/``require`` (which the CLI would answer
    with the plaintext) gets the placeholder ``[secret]`` and a warning.
    """
    config_cls = pulumi.Config
    saved: dict[str, Callable[..., Any]] = {}

    def wrap(name: str) -> None:
        original = getattr(config_cls, name)
        saved[name] = original

        def patched(self: pulumi.Config, key: str, *args: Any, **kwargs: Any) -> Any:
            full_key = self.full_key(key)
            if full_key in secure_keys:
                if "secret" in name:
                    return _unknown_secret()
                warnings.append(
                    f"config {full_key} is secure: its value cannot be decrypted offline; "
                    f"Config.{name} returned the placeholder {SECRET_TEXT}"
                )
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


@contextmanager
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


def _user_frame(exc: BaseException, program_dir: Path) -> str:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith("<"):
            continue  # generated code (dataclass methods, <frozen runpy>): not a place in the program
        try:
            relative = Path(frame.filename).resolve().relative_to(program_dir)
        except ValueError:
            continue
        return f"{relative}:{frame.lineno}: "
    return ""


def describe_error(exc: BaseException, program_dir: Path) -> str:
    """One line for a failed program: where in the program, what type, what message; no traceback."""
    message = str(exc).strip() or exc.__class__.__name__
    if isinstance(exc, pulumi.RunError):
        return message
    return f"{_user_frame(exc, program_dir)}{exc.__class__.__name__}: {message}"


def execute(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the program described by ``spec`` and return what it registered, logged and raised.

    ``spec``: ``directory``, ``main``, ``project``, ``stack``, ``config`` (qualified key -> string),
    ``secure_keys``, ``region`` (may be None), ``parallel`` (optional), ``invoke_answers`` (optional: the
    ``--invoke-answers`` file, ``rdsca.runner.answers.to_spec``).
    """
    program_dir = Path(spec["directory"]).resolve()
    secure_keys = set(spec.get("secure_keys", []))
    config = dict(spec["config"])
    for key in secure_keys:
        config[key] = SECRET_TEXT
    warnings: list[str] = []
    mocks = OfflineMocks(spec.get("region"), from_spec(spec.get("invoke_answers") or {}))
    monitor = EngineMonitor(mocks, spec["project"], spec["stack"])
    engine = _RecordingEngine()
    error: str | None = None

    def run() -> None:
        nonlocal error
        sdk_internals.reset_root_resource()
        settings = pulumi_mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=engine,
            project=spec["project"],
            stack=spec["stack"],
            dry_run=True,
            organization=spec.get("organization", "organization"),
            root_directory=str(program_dir),
            parallel=spec.get("parallel", DEFAULT_PARALLEL),
            callbacks=None,
            outputs=set(),
            lock=threading.Lock(),
            package_refs={},
            base_providers_by_ref={},
        )
        pulumi_settings.configure(settings)
        set_all_config(config, sorted(secure_keys))

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_default_executor(ThreadPoolExecutor(max_workers=4 * max(int(settings.parallel), 1)))

        def program() -> None:
            runpy.run_path(str(spec["main"]), run_name="__main__")

        cwd = os.getcwd()
        sys.path.insert(0, str(program_dir))
        before = set(sys.modules)
        os.chdir(program_dir)
        try:
            with _secure_config(secure_keys, warnings), _check_mode():
                loop.run_until_complete(pulumi.runtime.stack.run_in_stack(program))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            error = describe_error(exc, program_dir)
            if os.environ.get("RDSCA_DEBUG"):
                traceback.print_exception(exc)
        finally:
            os.chdir(cwd)
            sys.path.remove(str(program_dir))
            # Forget the program's own modules so that another program with the same module names runs clean.
            for name in set(sys.modules) - before:
                module_file = getattr(sys.modules[name], "__file__", None) or ""
                if module_file.startswith(str(program_dir)):
                    del sys.modules[name]
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(sdk_internals.shutdown_callback_servers())
            loop.close()
            asyncio.set_event_loop(None)
            sdk_internals.reset_root_resource()

    contextvars.copy_context().run(run)
    return {
        "registrations": [r.__dict__ for r in monitor.registrations],
        "log": [e.__dict__ for e in engine.entries],
        "warnings": warnings,
        "root_urn": monitor.root_urn,
        **mocks.report(),
        "error": error,
    }


def main(argv: list[str]) -> int:
    spec_path, result_path = argv
    # The program's own prints must not mix with rdsca's machine-readable stdout: send them to stderr.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING)
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    result = execute(spec)
    Path(result_path).write_text(json.dumps(result), encoding="utf-8")
    sys.stderr.flush()
    # Exit without interpreter teardown: grpc's aio server can print "Exception ignored ... Invalid file
    # descriptor" during finalisation once the callback server has run (pulumi-without-cli notes).
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
