"""Every use of the Pulumi SDK's private internals, fenced in one module.

The Pulumi Python SDK has no public API for what these do: the wire encoding of secrets and output values, the
program's outstanding registrations, the transform callback server, the root-resource slot. They were checked
against the versions in ``CHECKED_WITH``; ``tests/test_sdk_internals.py`` fails loudly, naming the missing piece,
when an SDK upgrade removes or renames one. Nothing outside this module reaches into ``pulumi`` privately.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import itertools
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pulumi
from pulumi import _types
from pulumi.runtime import rpc
from pulumi.runtime import settings as _settings
from pulumi.runtime import stack as _stack
from pulumi.runtime._callbacks import _CallbackServicer

#: The SDK versions these internals were read from and tested against.
CHECKED_WITH = {"pulumi": "3.272.0", "pulumi-policy": "1.21.0"}

# -- the wire encoding (pulumi/sdk/python/lib/pulumi/runtime/rpc.py) ----------------------------------------------

#: The key and signatures that mark special values in a wire property map (the engine's ``resource.SigKey``).
SIG_KEY: str = rpc._special_sig_key
SECRET_SIG: str = rpc._special_secret_sig
RESOURCE_SIG: str = rpc._special_resource_sig
OUTPUT_VALUE_SIG: str = rpc._special_output_value_sig
ASSET_SIG: str = rpc._special_asset_sig
ARCHIVE_SIG: str = rpc._special_archive_sig
#: The unknown sentinel string of the wire format.
UNKNOWN: str = rpc.UNKNOWN


# -- the program's event loop and registrations (pulumi/runtime/settings.py, rpc_manager.py) -----------------------


def keep_program_waiting(task: asyncio.Task[Any]) -> None:
    """Make the SDK wait for ``task`` before the program ends, as it waits for every output it created: the engine
    gives a program no "all resources registered" event."""
    with _settings.SETTINGS.lock:
        _settings.SETTINGS.outputs.add(task)


def outstanding_registrations() -> list[Awaitable[Any]]:
    """The RPCs (registrations, invokes) the program has started; a snapshot."""
    return list(_settings.SETTINGS.rpc_manager.rpcs)


async def output_resources(output: pulumi.Output[Any]) -> set[pulumi.Resource]:
    """The resources an output depends on (``Output.resources`` is documented as private)."""
    return await output.resources()


async def _wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
    """``stack.wait_for_rpcs`` with the same outcome in linear time. The SDK's version waits for the program's
    outputs with ``asyncio.wait(..., FIRST_COMPLETED)`` in a loop, which adds a callback to every pending output on
    every pass: quadratic in the number of outputs (tens of thousands for a thousand resources). This one waits for
    each in turn and, like the SDK, raises a failure (``_wait_all``)."""
    rpc_manager = _settings.SETTINGS.rpc_manager
    while True:
        while len(rpc_manager.rpcs) > 0:
            await asyncio.sleep(0)
            try:
                await rpc_manager.rpcs.pop()
            except Exception as exn:
                if rpc_manager.unhandled_exception is not None:
                    cause = rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
                    raise exn from cause
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        if await_all_outstanding_tasks:
            await _wait_for_outputs()
        if len(rpc_manager.rpcs) == 0:
            break


def _failed(task: asyncio.Task[Any]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


async def _wait_all(pending: list[asyncio.Task[Any]]) -> None:
    """Wait for every task; raise a failure. A failure already there is raised at once; then each pending task is
    awaited in turn, with no callback left on the others: a callback on every pending task (as ``asyncio.wait``
    adds) held a tuple per task until the last one ended, 134 MiB of the host's peak at 10,000 databases (a few
    million outputs). So that a failure further on is not kept waiting behind an output that never ends, a timer
    looks for one whenever the wait has not moved for a second (as the SDK, which raises the first failure to
    complete, would not wait there either)."""
    failed = next((task for task in pending if _failed(task)), None)
    if failed is not None:
        await failed  # raises
    loop = asyncio.get_running_loop()
    failure: asyncio.Future[asyncio.Task[Any]] = loop.create_future()
    position = 0

    def watch(last: int) -> None:
        if position == last:  # no progress for a second: is a later output already failed?
            found = next((task for task in itertools.islice(pending, last, None) if _failed(task)), None)
            if found is not None:
                failure.set_result(found)
                return
        timer[0] = loop.call_later(1.0, watch, position)

    timer = [loop.call_later(1.0, watch, 0)]
    try:
        for position, task in enumerate(pending):  # noqa: B007 (read by ``watch``)
            if not task.done():
                await asyncio.wait((task, failure), return_when=asyncio.FIRST_COMPLETED)
                if failure.done():
                    await failure.result()  # raises
            await task
    finally:
        timer[0].cancel()


async def _wait_for_outputs() -> None:
    while True:
        with _settings.SETTINGS.lock:
            if not _settings.SETTINGS.outputs:
                return
            pending = list(_settings.SETTINGS.outputs)
            _settings.SETTINGS.outputs.clear()
        await _wait_all(pending)


@contextlib.contextmanager
def linear_final_wait() -> Iterator[None]:
    """While the block runs, the end of a program (``run_pulumi_func``) waits for its outputs in linear time."""
    original = _stack.wait_for_rpcs
    _stack.wait_for_rpcs = _wait_for_rpcs
    try:
        yield
    finally:
        _stack.wait_for_rpcs = original


@functools.cache
def output_only_properties(token: str) -> frozenset[str]:
    """The wire names of the outputs a resource type declares beyond its inputs: what only its provider computes
    (``arn``, ``endpoint``...), unknown in a preview of a new resource. Read from the provider SDK's classes, found
    through the resource modules it registers (``rpc._RESOURCE_MODULES``, generated ``Module.mod_info``); empty
    when the type is not found."""
    package, _, rest = token.partition(":")
    module_name = rest.rpartition(":")[0]
    for module in rpc._RESOURCE_MODULES.get(f"{package}:{module_name}", []):
        info = getattr(module, "mod_info", None)
        try:
            cls = getattr(importlib.import_module(info["fqn"]), info["classes"][token])  # type: ignore[index]
            args = getattr(sys.modules[cls.__module__], f"{cls.__name__}Args", None)
            outputs = set(_types.resource_py_to_pulumi_names(cls).values())
            inputs = set(_types.input_type_py_to_pulumi_names(args).values()) if args is not None else set()
        except (KeyError, TypeError, AttributeError, ImportError):
            continue
        return frozenset(outputs - inputs - {"id", "urn"})
    return frozenset()


def reset_root_resource() -> None:
    """Forget the root stack resource, so that a process can run a new program (one root stack per run)."""
    _settings.ROOT.set(None)


# -- data-source result types (pulumi/_types.py) --------------------------------------------------------------------


def is_output_type(cls: Any) -> bool:
    """An ``@pulumi.output_type`` class: a data source's ``Get...Result`` or one of its nested types."""
    return isinstance(cls, type) and _types.is_output_type(cls)


def output_type_fields(cls: type) -> dict[str, tuple[str, Any]]:
    """The fields of an ``@pulumi.output_type`` class: wire name -> (Python name, type with ``Optional`` removed).

    The SDK keeps each field's wire name on its getter (``@pulumi.getter(name="zoneIds")``) and resolves the
    getters' annotations (``Sequence['outputs.GetAmiBlockDeviceMappingResult']``) against the class's module.
    """
    names = {wire: python for python, wire, _ in _types._py_properties(cls)}
    try:
        types = _types.output_type_types(cls)
    except Exception:  # an annotation that does not resolve: the field's type is unknown, its name still holds
        types = {}
    return {wire: (python, types.get(wire)) for wire, python in names.items()}


# -- the transform callback server (pulumi/runtime/_callbacks.py) ---------------------------------------------------


def transform_handler(target: str, token: str) -> tuple[Callable[[bytes], Awaitable[Any]], asyncio.AbstractEventLoop]:
    """The program's handler for a registered transform callback, and the event loop it runs on. Raises
    ``LookupError`` when no callback server of this process serves ``target`` with ``token``."""
    servicer = next((s for s in _CallbackServicer._servicers if s._target == target), None)
    if servicer is None or token not in servicer._callbacks:
        raise LookupError(f"transform callback {token} is not registered")
    return servicer._callbacks[token], servicer._loop


async def shutdown_callback_servers() -> None:
    """Stop the callback servers started on the running loop (the SDK does this at the end of a program)."""
    await _CallbackServicer.shutdown()


__all__ = [
    "ARCHIVE_SIG",
    "ASSET_SIG",
    "CHECKED_WITH",
    "OUTPUT_VALUE_SIG",
    "RESOURCE_SIG",
    "SECRET_SIG",
    "SIG_KEY",
    "UNKNOWN",
    "is_output_type",
    "keep_program_waiting",
    "linear_final_wait",
    "output_only_properties",
    "output_resources",
    "output_type_fields",
    "outstanding_registrations",
    "reset_root_resource",
    "shutdown_callback_servers",
    "transform_handler",
]
