"""A resource monitor that behaves like the Pulumi engine during a preview, offline.

The SDK's ``MockMonitor`` records new-style transforms but does not run them, invents outputs by echoing
inputs, and builds URNs the engine does not. This monitor fixes those three things for ``rdsca check``:

* transforms run in the engine's order: the resource's own, then each ancestor's walking up, then stack
  transforms (pulumi/pulumi ``pkg/resource/deploy/source_eval.go``, ``RegisterResource``). Each transform is
  invoked through the SDK's own callback servicer with a serialized ``TransformRequest``, exactly the bytes the
  engine would send; only the loopback gRPC hop is skipped;
* as in a real preview, a new resource's ID and every output that is not an input are unknown (the engine
  returns the checked inputs as the planned state);
* URNs follow the engine: children of the root stack carry no ``pulumi:pulumi:Stack$`` type prefix.

Every registration is recorded with its final (post-transform) inputs in wire form.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format, struct_pb2
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


def hide_secret_values(value: Any) -> Any:
    """Wire form with every secret's plaintext replaced by the unknown sentinel (still marked secret).

    The registrations cross a process boundary through a file; a secret's plaintext is never written, so a
    policy sees a secret value as unknown, which the policy SDK reports as "can't be known during preview".
    """
    if isinstance(value, list):
        return [hide_secret_values(v) for v in value]
    if not isinstance(value, dict):
        return value
    sig = value.get(_SIG_KEY)
    if sig == _SECRET_SIG:
        return {_SIG_KEY: _SECRET_SIG, "value": sdk_internals.UNKNOWN}
    if sig == sdk_internals.OUTPUT_VALUE_SIG and value.get("secret"):
        return {k: v for k, v in value.items() if k != "value"}
    return {k: hide_secret_values(v) for k, v in value.items()}


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    provider: str = ""
    read: bool = False
    #: The final inputs as the engine holds them (wire form: unknown sentinels, secret and output-value signatures
    #: kept, secret values hidden), for the policy analyzer; ``inputs`` is the same with unknowns masked too.
    wire: dict[str, Any] = field(default_factory=dict)
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


@dataclass
class LogEntry:
    severity: str
    message: str
    urn: str = ""


@dataclass
class _Chain:
    transforms: list[Any] = field(default_factory=list)
    parent: str = ""


class EngineMonitor(pulumi_mocks.MockMonitor):
    """See the module docstring."""

    def __init__(self, mocks: pulumi_mocks.Mocks, project: str, stack: str) -> None:
        super().__init__(mocks)
        self.project = project
        self.stack = stack
        self.root_urn = ""
        self.registrations: list[Registration] = []
        self.stack_callbacks: list[Any] = []
        self._chains: dict[str, _Chain] = {}
        self._lock = threading.Lock()

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
        try:
            handler, loop = sdk_internals.transform_handler(callback.target, callback.token)
        except LookupError as exc:
            raise RuntimeError(str(exc)) from None
        transform_request = resource_pb2.TransformRequest(
            type=request.type,
            name=request.name,
            custom=request.custom,
            parent=request.parent,
            properties=props,
            options=opts,
        )
        # The engine calls the program back over gRPC; the servicer's handler runs on the program's event loop.
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
    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.root_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)

        props = struct_pb2.Struct()
        props.CopyFrom(request.object)
        opts = self._options(request)
        for callback in self._chain_for(request):
            props, opts = self._run_transform(callback, request, props, opts)

        wire = json_format.MessageToDict(props)
        registration = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=request.custom,
            inputs=wire_to_json(wire),
            provider=opts.provider,
            wire=hide_secret_values(wire),
            options={
                "protect": opts.protect,
                "ignoreChanges": list(opts.ignore_changes),
                "additionalSecretOutputs": list(opts.additional_secret_outputs),
                "deleteBeforeReplace": opts.delete_before_replace if opts.HasField("delete_before_replace") else None,
                "customTimeouts": json_format.MessageToDict(opts.custom_timeouts)
                if opts.HasField("custom_timeouts")
                else None,
                "parent": request.parent,
            },
            dependencies=list(request.dependencies),
            property_dependencies={key: list(deps.urns) for key, deps in request.propertyDependencies.items()},
            remote=request.remote,
            source={"uri": request.sourcePosition.uri, "line": request.sourcePosition.line}
            if request.HasField("sourcePosition")
            else None,
        )
        with self._lock:
            self._chains[urn] = _Chain(list(request.transforms), request.parent)
            self.registrations.append(registration)
            self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, "", {})
        # Preview: the planned state is the checked inputs; the ID and computed outputs are unknown.
        state = props if request.custom else struct_pb2.Struct()
        return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=state)

    def ReadResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._lock:
            self.registrations.append(
                Registration(urn, request.type, request.name, request.parent, True, {}, request.provider, read=True)
            )
        return resource_pb2.ReadResourceResponse(urn=urn, properties=struct_pb2.Struct())
