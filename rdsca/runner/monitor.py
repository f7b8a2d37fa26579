"""A resource monitor that behaves like the Pulumi engine during a preview, offline.

The SDK's ``MockMonitor`` records new-style transforms but does not run them, invents outputs by echoing
inputs, and builds URNs the engine does not. This monitor fixes those three things for ``rdsca check``:

* transforms run in the engine's order: the resource's own, then each ancestor's walking up, then stack
  transforms (pulumi/pulumi ``pkg/resource/deploy/source_eval.go``, ``RegisterResource``). Each transform is
  invoked through the SDK's own callback servicer with a serialized ``TransformRequest``, exactly the bytes the
  engine would send; only the loopback gRPC hop is skipped;
* each registration, after its transforms, goes to the engine's step (``rdsca.runner.engine``: default provider,
  ``ignore_changes``, policy packs), which gives back the ID and planned state the program sees: as in a real
  preview, a new resource's ID and every output that is not an input are unknown;
* URNs follow the engine: children of the root stack carry no ``pulumi:pulumi:Stack$`` type prefix.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.proto import resource_pb2

from rdsca import sdk_internals
from rdsca.runner.project import SECRET_TEXT, UNKNOWN_TEXT

_SECRET_SIG = sdk_internals.SECRET_SIG
_SIG_KEY = sdk_internals.SIG_KEY


def wire_to_json(value: Any) -> Any:
    """Turn a wire property value (from ``MessageToDict``) into plain JSON: unknowns and secrets masked."""
    if isinstance(value, str):
        return UNKNOWN_TEXT if value == sdk_internals.UNKNOWN else value
    if isinstance(value, list):
        return [wire_to_json(v) for v in value]
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SECRET_SIG:
            return SECRET_TEXT
        if sig == sdk_internals.RESOURCE_SIG:
            return {"urn": value.get("urn"), "id": wire_to_json(value.get("id", ""))}
        if sig == sdk_internals.OUTPUT_VALUE_SIG:
            if value.get("secret"):
                return SECRET_TEXT
            return wire_to_json(value["value"]) if "value" in value else UNKNOWN_TEXT
        if sig is not None:
            return {"asset-or-archive": True}
        return {k: wire_to_json(v) for k, v in value.items()}
    return value


def wire_to_plain(value: Any) -> Any:
    """Like ``wire_to_json``, but a secret shows its value: what a judgement reads (never what is shown)."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SECRET_SIG:
            return wire_to_plain(value.get("value"))
        if sig is None:
            return {k: wire_to_plain(v) for k, v in value.items()}
        return wire_to_json(value)
    if isinstance(value, list):
        return [wire_to_plain(v) for v in value]
    return wire_to_json(value)


@dataclass(kw_only=True)
class Resource:
    """What a registration says of a resource, shared by the goal the monitor receives and the registration the
    engine records (their one definition)."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str = ""
    read: bool = False
    #: Resource options a policy can see (``AnalyzerResourceOptions``).
    options: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    #: The resources each input property's value came from (``propertyDependencies``), by wire property name.
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    #: A component its provider plugin constructs (``remote=True``: multi-language components such as
    #: ``awsx.ec2.Vpc``); offline nothing constructs it, so it has no children.
    remote: bool = False
    #: Where the program registered the resource (the SDK sends ``sourcePosition``): ``{"uri", "line"}``.
    source: dict[str, Any] | None = None

    def resource(self) -> dict[str, Any]:
        """The shared fields, to build the other kind from this one."""
        return {f.name: getattr(self, f.name) for f in fields(Resource)}


@dataclass(kw_only=True)
class Registration(Resource):
    inputs: dict[str, Any]
    #: The final inputs as the engine holds them for analyzers (wire form: unknown sentinels and secrets kept, with
    #: their plaintext, which only crosses a pipe); ``inputs`` is the same with unknowns and secrets masked.
    wire: dict[str, Any] = field(default_factory=dict)
    #: ``inputs`` with each secret's value in place of ``[secret]``; only when there is a secret (None otherwise).
    values: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """What the host reports: everything but ``wire``, which stays in the host."""
        return {k: v for k, v in self.__dict__.items() if k != "wire"}


@dataclass(kw_only=True)
class Goal(Resource):
    """A registration as the monitor receives it, after transforms: what the engine's step starts from."""

    #: The inputs in the SDK's wire form.
    wire: dict[str, Any]
    version: str = ""
    plugin_download_url: str = ""


class Steps(Protocol):
    """The engine's side of each registration (``rdsca.runner.engine.OfflineEngine``)."""

    root_urn: str

    def register(self, goal: Goal) -> tuple[str, dict[str, Any] | None]: ...

    def register_outputs(self, urn: str, outputs: dict[str, Any]) -> None: ...


@dataclass
class LogEntry:
    severity: str
    message: str
    urn: str = ""


@dataclass
class _Chain:
    transforms: list[Any] = field(default_factory=list)
    parent: str = ""


def _remote_callback(callback: Any, transform_request: Any) -> Any:
    """A transform the program serves on its Callbacks gRPC service (``callback.target``), as the engine calls it
    (pulumi/pulumi ``proto/pulumi/callback.proto``: ``Invoke(token, request bytes)``)."""
    import grpc
    from pulumi.runtime.proto import callback_pb2, callback_pb2_grpc

    with grpc.insecure_channel(callback.target) as channel:
        answer = callback_pb2_grpc.CallbacksStub(channel).Invoke(
            callback_pb2.CallbackInvokeRequest(token=callback.token, request=transform_request.SerializeToString()))
    return resource_pb2.TransformResponse.FromString(answer.response)


class EngineMonitor(pulumi_mocks.MockMonitor):
    """See the module docstring. ``engine`` runs the engine's step for each registration (``OfflineEngine``)."""

    def __init__(self, mocks: pulumi_mocks.Mocks, project: str, stack: str, engine: Steps) -> None:
        super().__init__(mocks)
        self.project = project
        self.stack = stack
        self.engine = engine
        self.stack_callbacks: list[Any] = []
        self._chains: dict[str, _Chain] = {}
        self._lock = threading.Lock()

    @property
    def root_urn(self) -> str:
        return self.engine.root_urn

    # -- URNs --------------------------------------------------------------------------------------------------
    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent and parent != self.root_urn:
            type_ = parent.split("::")[2] + "$" + type_
        return f"urn:pulumi:{self.stack}::{self.project}::{type_}::{name}"

    # -- transforms --------------------------------------------------------------------------------------------
    def RegisterStackTransform(self, request: Any) -> Any:
        with self._lock:
            self.stack_callbacks.append(request)
        return super().RegisterStackTransform(request)

    @staticmethod
    def _options(request: Any) -> Any:
        opts = resource_pb2.TransformResourceOptions(
            depends_on=list(request.dependencies),
            protect=request.protect,
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
            version=request.version,
            aliases=list(request.aliases),
            provider=request.provider,
            plugin_download_url=request.pluginDownloadURL,
            retain_on_delete=request.retainOnDelete,
            deleted_with=request.deletedWith,
            additional_secret_outputs=list(request.additionalSecretOutputs),
        )
        for key, ref in request.providers.items():
            opts.providers[key] = ref
        if request.deleteBeforeReplaceDefined:
            opts.delete_before_replace = request.deleteBeforeReplace
        if request.HasField("customTimeouts"):
            opts.custom_timeouts.CopyFrom(request.customTimeouts)
        return opts

    @staticmethod
    def _run_transform(callback: Any, request: Any, props: Any, opts: Any) -> tuple[Any, Any]:
        transform_request = resource_pb2.TransformRequest(
            type=request.type,
            name=request.name,
            custom=request.custom,
            parent=request.parent,
            properties=props,
            options=opts,
        )
        try:
            handler, loop = sdk_internals.transform_handler(callback.target, callback.token)
        except LookupError:
            # Not this process's SDK (a Node.js program): the engine's own way, the program's Callbacks service.
            response = _remote_callback(callback, transform_request)
        else:
            # The program's servicer in this process: its handler runs on the program's event loop.
            future: concurrent.futures.Future[Any] = asyncio.run_coroutine_threadsafe(
                handler(transform_request.SerializeToString()), loop  # type: ignore[arg-type]
            )
            response = future.result()
        if response.HasField("properties"):
            props = response.properties
        if response.HasField("options"):
            opts = response.options
        return props, opts

    def _chain_for(self, request: Any) -> list[Any]:
        with self._lock:
            chain = list(request.transforms)
            parent = request.parent
            while parent and parent in self._chains:
                chain.extend(self._chains[parent].transforms)
                parent = self._chains[parent].parent
            chain.extend(self.stack_callbacks)
        return chain

    # -- registrations -----------------------------------------------------------------------------------------
    @staticmethod
    def _goal(urn: str, request: Any, props: Any, opts: Any) -> Goal:
        return Goal(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=request.custom,
            wire=json_format.MessageToDict(props),
            provider=opts.provider,
            options={
                "protect": opts.protect,
                "ignoreChanges": list(opts.ignore_changes),
                "additionalSecretOutputs": list(opts.additional_secret_outputs),
                "deleteBeforeReplace": opts.delete_before_replace if opts.HasField("delete_before_replace") else None,
                "parent": request.parent,
            },
            dependencies=list(request.dependencies),
            property_dependencies={key: list(deps.urns) for key, deps in request.propertyDependencies.items()},
            remote=request.remote,
            source={"uri": request.sourcePosition.uri, "line": request.sourcePosition.line}
            if request.HasField("sourcePosition")
            else None,
            version=opts.version,
            plugin_download_url=opts.plugin_download_url,
        )

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack" and not request.parent:
            self.engine.root_urn = urn
        props = struct_pb2.Struct()
        props.CopyFrom(request.object)
        opts = self._options(request)
        for callback in self._chain_for(request):
            props, opts = self._run_transform(callback, request, props, opts)
        with self._lock:
            self._chains[urn] = _Chain(list(request.transforms), request.parent)
            self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, "", {})
        ident, state = self.engine.register(self._goal(urn, request, props, opts))
        if state is None:
            state_struct = props  # the program's own inputs, as it sent them
        else:
            state_struct = struct_pb2.Struct()
            state_struct.update(state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=ident, object=state_struct)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.engine.register_outputs(request.urn, json_format.MessageToDict(request.outputs))
        return empty_pb2.Empty()

    def ReadResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        goal = Goal(
            urn=urn, type=request.type, name=request.name, parent=request.parent, custom=True, wire={},
            provider=request.provider, read=True,
        )
        goal.version = request.version
        self.engine.register(goal)
        return resource_pb2.ReadResourceResponse(urn=urn, properties=struct_pb2.Struct())
