"""Run a Node.js program (TypeScript or JavaScript) as ``pulumi-language-nodejs`` runs it, against rdsca's engine.

The Python host (``rdsca.runner.python_host``) prepares the same session as for a Python program (the offline
engine, the monitor, data-source answers, the policy packs) and serves the monitor and the engine over gRPC on a
loopback port; this module then starts ``node`` with the program's own ``@pulumi/pulumi`` (its ``cmd/run`` entry
point) with the arguments and environment the language host gives it. Read from pulumi/pulumi at 1b5949891b3c
(2026-08-21), ``sdk/nodejs/cmd/pulumi-language-nodejs/main.go``: ``Run`` (``defaultRunPath``
``@pulumi/pulumi/cmd/run``, located with ``require.resolve`` from the program's directory), ``constructArguments``
(``--monitor``, ``--engine``, ``--organization``, ``--project``, ``--root-directory``, ``--stack``, ``--pwd``,
``--dry-run``, ``--parallel``, then the entry point), ``constructConfig`` (``PULUMI_CONFIG`` with keys as
``<namespace>:config:<name>``), ``PULUMI_CONFIG_SECRET_KEYS``, and ``parseOptions``/``execRuntime``
(``PULUMI_NODEJS_TYPESCRIPT=true`` unless ``typescript: false``, ``PULUMI_NODEJS_TSCONFIG_PATH``, ``nodeargs``
before the run path). The synchronous-invoke pipes (``--sync``) are left out: the language host passes the flag
only when it made them, and the SDK then does without.

One engine emulation, two hosts: registrations, transforms (called back on the program's callback server),
default providers, invokes, secrets and the packs are the Python host's.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shlex
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, resource_pb2, resource_pb2_grpc

#: ``rdsca.runner.python_host.Session`` (not imported: the Python host imports this module).
Session = Any

# -- the Node.js SDK's side of the contract, in one place --------------------------------------------------------
# Not a public API of @pulumi/pulumi: the language host and the SDK's cmd/run agree on it (the module docstring says
# where each piece was read). rdsca relies on nothing else of the Node SDK: no private module, no internal state.

#: The module the language host runs (``defaultRunPath``).
RUN_MODULE = "@pulumi/pulumi/cmd/run"
#: The @pulumi/pulumi versions rdsca runs programs with: from the oldest tested (``tests/runner/test_nodejs.py``
#: installs it and gives the legacy stack the newest one's findings) up to the next major version. An older SDK is
#: refused with one line; 3.100 is December 2023.
NODE_SDK_OLDEST = (3, 100, 0)
NODE_SDK_NEXT_MAJOR = (4, 0, 0)
#: The newest @pulumi/pulumi this contract was read and tested with.
NODE_SDK_CHECKED_WITH = "3.248.0"
#: The oldest ``@pulumi/pulumi`` the Bun runtime runs (``minBunPulumiSDKVersion`` of pulumi-language-nodejs).
MIN_BUN_SDK = (3, 226, 0)
#: What the Node SDK may use: as the Python mock monitor, output values are not offered (inputs stay plain values).
UNSUPPORTED_FEATURES = frozenset({"outputValues"})


def _guard(method: Any) -> Any:
    """A monitor call that fails is a gRPC error for the program (as the engine answers), never a dead server."""

    def call(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request)
        except Exception as exc:  # every failure goes back to the program as its error
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))

    return call


#: The monitor calls served as the in-process monitor answers them (``EngineMonitor``, the SDK's ``MockMonitor``).
DELEGATED = ("GetDeploymentInfo", "RegisterResource", "RegisterResourceOutputs", "ReadResource", "Invoke",
             "RegisterStackTransform", "RegisterStackInvokeTransform", "RegisterPackage")
#: Calls whose answer is empty: hooks run by the engine only around real operations, and the shutdown handshake.
EMPTY = ("RegisterResourceHook", "RegisterErrorHook", "SignalAndWaitForShutdown")


class MonitorServicer(resource_pb2_grpc.ResourceMonitorServicer):  # type: ignore[misc]
    """The resource monitor over gRPC: each call is the in-process monitor's (``EngineMonitor``)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.monitor = session.monitor

    @_guard
    def SupportsFeature(self, request: Any) -> Any:
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id not in UNSUPPORTED_FEATURES)


def _delegate(name: str) -> Any:
    return _guard(lambda self, request: getattr(self.monitor, name)(request))


for _name in DELEGATED:
    setattr(MonitorServicer, _name, _delegate(_name))
for _name in EMPTY:
    setattr(MonitorServicer, _name, _guard(lambda self, request: empty_pb2.Empty()))


class EngineServicer(engine_pb2_grpc.EngineServicer):  # type: ignore[misc]
    """The engine's logging service, and the root resource the SDK parents its resources to."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.root = ""

    @_guard
    def Log(self, request: Any) -> Any:
        self.session.log.Log(request)
        return empty_pb2.Empty()

    @_guard
    def GetRootResource(self, request: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn=self.root)

    @_guard
    def SetRootResource(self, request: Any) -> Any:
        self.root = request.urn
        return engine_pb2.SetRootResourceResponse()


def serve(session: Session) -> tuple[grpc.Server, int]:
    """The monitor and the engine on one loopback port."""
    parallel = int(session.spec.get("parallel") or 16)
    # The Node SDK's gRPC client pings its channels; C-core answers pings it finds too frequent with GOAWAY
    # ENHANCE_YOUR_CALM, which grpc-js reports as RESOURCE_EXHAUSTED and the SDK as a failed registration (seen at
    # 1,000 resources). Like the engine's Go server, accept them.
    options = [("grpc.http2.max_ping_strikes", 0), ("grpc.http2.min_ping_interval_without_data_ms", 1000),
               ("grpc.keepalive_permit_without_calls", 1), ("grpc.max_receive_message_length", 400 * 1024 * 1024),
               ("grpc.max_concurrent_streams", 1 << 20),
               # A call waits for a free worker as long as the run may last (C-core cancels one that waited 30 s
               # with RESOURCE_EXHAUSTED: 1,000 registrations at once wait longer than that for 20 workers).
               ("grpc.server_max_unrequested_time_in_server", 7 * 24 * 3600),
               # A Node.js program's constructors run synchronously: at 750 and more resources the event loop is
               # away for over a minute, then every registration is sent at once. C-core then closed the
               # connection: SETTINGS not acknowledged in time ("grpc.http2.settings_timeout", default the larger
               # of twice the keepalive timeout and one minute, chttp2_transport.cc: "RST_STREAM with code 4"), and
               # with its bandwidth-delay-product probe on (pings on incoming data, "grpc.http2.bdp_probe") every
               # registration failed with grpc-js's RESOURCE_EXHAUSTED "Bandwidth exhausted or memory limit
               # exceeded" (HTTP/2 ENHANCE_YOUR_CALM). With neither, 1,000 resources register (bench/node_check.py).
               # A loopback connection needs no window tuning, and the engine's Go server has no such timeout.
               ("grpc.http2.settings_timeout", 7 * 24 * 3600 * 1000),
               ("grpc.http2.bdp_probe", 0)]
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=max(parallel, 4) + 4), options=options)
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(MonitorServicer(session), server)
    engine_pb2_grpc.add_EngineServicer_to_server(EngineServicer(session), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def node_config(config: dict[str, str]) -> str:
    """``PULUMI_CONFIG`` as the Node.js language host writes it: ``<namespace>:config:<name>`` keys
    (``constructConfig``)."""
    return json.dumps({f"{k.split(':', 1)[0]}:config:{k.split(':', 1)[1]}": v for k, v in config.items()})


def locate_run(node: str, program_dir: Path) -> str | None:
    """Where the program's own ``@pulumi/pulumi`` has ``cmd/run`` (``locateModule`` of the language host)."""
    done = subprocess.run([node, "-e", f"process.stdout.write(require.resolve('{RUN_MODULE}'))"], cwd=program_dir,
                          capture_output=True, text=True, timeout=60, check=False)
    return done.stdout.strip() or None if done.returncode == 0 else None


def bun(session: Session) -> bool:
    return session.spec.get("runtime") == "bun"


def command(session: Session, node: str, run_path: str, port: int) -> list[str]:
    """The language host's command line (``execRuntime`` of pulumi-language-nodejs): ``node [nodeargs] RUN ARGS``,
    or ``bun run RUN ARGS`` (Bun takes no ``nodeargs``)."""
    spec, options = session.spec, session.spec.get("options") or {}
    address = f"127.0.0.1:{port}"
    directory = str(session.program_dir)
    runtime_args = ["run"] if bun(session) else shlex.split(str(options.get("nodeargs") or ""))
    return [node, *runtime_args, run_path, "--monitor", address, "--engine", address,
            "--organization", spec.get("organization", "organization"), "--project", spec["project"],
            "--root-directory", directory, "--stack", spec["stack"], "--pwd", directory, "--dry-run",
            "--parallel", str(spec.get("parallel") or 16), str(spec.get("entry") or ".")]


def environment(session: Session, config: dict[str, str], secret_keys: list[str]) -> dict[str, str]:
    """The environment the language host gives the program; under Bun, which runs TypeScript itself and reads
    ``tsconfig`` itself, neither ``PULUMI_NODEJS_TYPESCRIPT`` nor ``PULUMI_NODEJS_TSCONFIG_PATH`` (``parseOptions``)."""
    options = session.spec.get("options") or {}
    env = {**os.environ, "PULUMI_CONFIG": node_config(config), "PULUMI_CONFIG_SECRET_KEYS": json.dumps(secret_keys)}
    if options.get("typescript", True) is not False and not bun(session):
        env["PULUMI_NODEJS_TYPESCRIPT"] = "true"
    if options.get("tsconfig") and not bun(session):
        env["PULUMI_NODEJS_TSCONFIG_PATH"] = str(options["tsconfig"])
    return env


def sdk_version(run_path: str) -> tuple[int, ...] | None:
    """The version of the ``@pulumi/pulumi`` whose ``cmd/run`` this is (its ``package.json``), or None."""
    package = Path(run_path).resolve().parent.parent.parent / "package.json"
    try:
        text = json.loads(package.read_text(encoding="utf-8")).get("version", "")
        return tuple(int(part) for part in str(text).split("-")[0].split(".")[:3])
    except (OSError, ValueError, AttributeError):
        return None


def run_program(session: Session, config: dict[str, str], secret_keys: list[str]) -> None:
    """Run the program with ``node``; a failure is kept in ``session.error`` (its own error text: what it logged as
    an error, else the end of its stderr)."""
    runtime = "bun" if bun(session) else str(session.spec.get("node") or "node")
    node = shutil.which(runtime)
    if node is None:
        session.fail("program", "bun is not on PATH: a program with runtime bun needs Bun (https://bun.sh)" if
                     bun(session) else "node is not on PATH: a Node.js program needs Node.js (https://nodejs.org)")
        return
    run_path = locate_run(node, session.program_dir)
    if run_path is None:
        manager = (session.spec.get("options") or {}).get("packagemanager") or "npm"
        manager = "bun" if bun(session) else manager
        session.fail("program", f"{session.program_dir} has no node_modules with @pulumi/pulumi: run `{manager} "
                                f"install` there first (rdsca never installs into a project)")
        return
    version = sdk_version(run_path)
    if version is not None and not NODE_SDK_OLDEST <= version < NODE_SDK_NEXT_MAJOR:
        session.fail("program", f"the program's @pulumi/pulumi is {'.'.join(map(str, version))}: rdsca check runs "
                                f"programs with @pulumi/pulumi {'.'.join(map(str, NODE_SDK_OLDEST))} to 3.x (tested "
                                f"up to {NODE_SDK_CHECKED_WITH})")
        return
    if bun(session) and version is not None and version < MIN_BUN_SDK:
        wanted = ".".join(map(str, MIN_BUN_SDK))
        session.fail("program", f"the bun runtime requires @pulumi/pulumi >= {wanted}, but "
                                f"{'.'.join(map(str, version))} is installed: update it (bun add @pulumi/pulumi)")
        return
    server, port = serve(session)
    try:
        process = subprocess.Popen(command(session, node, run_path, port), cwd=session.program_dir,
                                   env=environment(session, config, secret_keys), stdin=subprocess.DEVNULL,
                                   stdout=2, stderr=subprocess.PIPE)
        errors: list[bytes] = []
        reader = threading.Thread(target=lambda: errors.append(process.stderr.read() if process.stderr else b""),
                                  daemon=True)
        reader.start()
        timeout = None if session.deadline is None else max(session.deadline - time.monotonic(), 0.1)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            session.fail("timeout", f"the program did not finish within the --timeout of "
                                    f"{float(session.spec['timeout']):g} s")
            return
        reader.join(timeout=5)
        if code != 0:
            logged = [e.message for e in session.log.entries if e.severity == "error"]
            text = b"".join(errors).decode("utf-8", "replace").strip()
            session.fail("program", "\n".join(logged) if logged else (text[-4000:] or f"node exited with {code}"))
    finally:
        server.stop(grace=None)
