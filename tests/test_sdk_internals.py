"""The Pulumi SDK internals rdsca relies on still exist: an SDK upgrade that removes one fails here, by name."""

from __future__ import annotations

import asyncio
import importlib.metadata

import pytest


def test_every_private_piece_is_still_there() -> None:
    from pulumi import _types
    from pulumi.output import Output
    from pulumi.runtime import rpc, settings, stack
    from pulumi.runtime._callbacks import _CallbackServicer

    missing = [
        what
        for what, present in [
            ("rpc._special_sig_key", hasattr(rpc, "_special_sig_key")),
            ("rpc._special_secret_sig", hasattr(rpc, "_special_secret_sig")),
            ("rpc._special_resource_sig", hasattr(rpc, "_special_resource_sig")),
            ("rpc._special_output_value_sig", hasattr(rpc, "_special_output_value_sig")),
            ("rpc._special_asset_sig", hasattr(rpc, "_special_asset_sig")),
            ("rpc._special_archive_sig", hasattr(rpc, "_special_archive_sig")),
            ("rpc.UNKNOWN", hasattr(rpc, "UNKNOWN")),
            ("settings.SETTINGS.outputs", hasattr(settings.SETTINGS, "outputs")),
            ("settings.SETTINGS.lock", hasattr(settings.SETTINGS, "lock")),
            ("settings.SETTINGS.rpc_manager.rpcs", hasattr(settings.SETTINGS.rpc_manager, "rpcs")),
            ("settings.ROOT.set", hasattr(getattr(settings, "ROOT", None), "set")),
            ("Output.resources", callable(getattr(Output, "resources", None))),
            ("_CallbackServicer._servicers", isinstance(getattr(_CallbackServicer, "_servicers", None), list)),
            ("_CallbackServicer.shutdown", callable(getattr(_CallbackServicer, "shutdown", None))),
            ("stack.wait_for_rpcs", callable(getattr(stack, "wait_for_rpcs", None))),
            ("rpc_manager.unhandled_exception", hasattr(settings.SETTINGS.rpc_manager, "unhandled_exception")),
            ("rpc_manager.exception_traceback", hasattr(settings.SETTINGS.rpc_manager, "exception_traceback")),
            ("rpc._RESOURCE_MODULES", isinstance(getattr(rpc, "_RESOURCE_MODULES", None), dict)),
            ("_types.resource_py_to_pulumi_names", callable(getattr(_types, "resource_py_to_pulumi_names", None))),
            ("_types.input_type_py_to_pulumi_names", callable(getattr(_types, "input_type_py_to_pulumi_names", None))),
            ("_types._py_properties", callable(getattr(_types, "_py_properties", None))),
            ("_types.output_type_types", callable(getattr(_types, "output_type_types", None))),
        ]
        if not present
    ]
    assert missing == [], f"the Pulumi SDK no longer has: {', '.join(missing)} (see rdsca/sdk_internals.py)"


def test_the_wire_signatures_are_the_engines() -> None:
    # The values are the engine's (sdk/go/common/resource/properties.go); they never change without a protocol change.
    from rdsca import sdk_internals

    assert sdk_internals.SIG_KEY == "4dabf18193072939515e22adb298388d"
    assert sdk_internals.SECRET_SIG == "1b47061264138c4ac30d75fd1eb44270"
    assert sdk_internals.UNKNOWN == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def test_a_callback_servicer_keeps_the_fields_rdsca_reads() -> None:
    """A servicer instance has ``_callbacks``, ``_target`` and ``_loop`` (set when it starts serving)."""
    from pulumi.runtime._callbacks import _CallbackServicer

    annotations = _CallbackServicer.__annotations__
    assert {"_callbacks", "_target", "_loop"} <= set(annotations), annotations


def test_unknown_transform_callback_is_a_lookup_error() -> None:
    from rdsca import sdk_internals

    with pytest.raises(LookupError, match="not registered"):
        sdk_internals.transform_handler("127.0.0.1:1", "no-such-token")
    asyncio.run(sdk_internals.shutdown_callback_servers())


def test_the_versions_checked_are_recorded() -> None:
    from rdsca import sdk_internals

    assert set(sdk_internals.CHECKED_WITH) == {"pulumi", "pulumi-policy"}
    installed = importlib.metadata.version("pulumi")
    major, minor = (int(x) for x in installed.split(".")[:2])
    assert (major, minor) >= (3, 200), installed


def test_the_final_wait_replaced_is_the_one_run_pulumi_func_calls() -> None:
    """``linear_final_wait`` swaps the module global that ``run_pulumi_func`` looks up, and puts it back."""
    import inspect

    from pulumi.runtime import stack

    from rdsca import sdk_internals

    assert "await wait_for_rpcs()" in inspect.getsource(stack.run_pulumi_func)
    original = stack.wait_for_rpcs
    with sdk_internals.linear_final_wait():
        assert stack.wait_for_rpcs is not original
    assert stack.wait_for_rpcs is original


def test_output_only_properties_come_from_the_provider_sdk_classes() -> None:
    import pulumi_aws  # noqa: F401  (registers its resource modules)

    from rdsca import sdk_internals

    computed = sdk_internals.output_only_properties("aws:rds/instance:Instance")
    assert {"arn", "endpoint", "address", "resourceId"} <= computed
    assert not {"caCertIdentifier", "engine", "applyImmediately", "id", "urn"} & computed
    assert sdk_internals.output_only_properties("acme:index:Nothing") == frozenset()
def test_a_data_source_result_type_gives_wire_names_and_types() -> None:
    """What ``rdsca check`` shapes placeholder answers from (pulumi-aws's generated ``Get...Result`` classes)."""
    import typing

    from pulumi_aws.ec2.get_ami import GetAmiResult
    from pulumi_aws.ec2.outputs import GetAmiBlockDeviceMappingResult

    from rdsca import sdk_internals

    assert sdk_internals.is_output_type(GetAmiResult) and not sdk_internals.is_output_type(dict)
    fields = sdk_internals.output_type_fields(GetAmiResult)
    assert fields["imageId"] == ("image_id", str)
    assert fields["mostRecent"] == ("most_recent", bool)  # Optional[bool] unwrapped
    python_name, nested = fields["blockDeviceMappings"]
    assert python_name == "block_device_mappings"
    assert typing.get_args(nested) == (GetAmiBlockDeviceMappingResult,)


def _run(coroutine_function) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coroutine_function())
    finally:
        loop.close()


def test_the_final_wait_waits_for_every_output_in_turn() -> None:
    from rdsca.sdk_internals import _wait_all

    async def main() -> None:
        finished: list[int] = []

        async def output(i: int) -> None:
            await asyncio.sleep(0.001 * (5 - i))  # the last ones end first
            finished.append(i)

        tasks = [asyncio.ensure_future(output(i)) for i in range(5)]
        await _wait_all(tasks)
        assert sorted(finished) == [0, 1, 2, 3, 4]

    _run(main)


def test_the_final_wait_raises_a_failure_already_there_at_once() -> None:
    from rdsca.sdk_internals import _wait_all

    async def main() -> None:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def fails() -> None:
            raise ValueError("an apply raised")

        failed = asyncio.ensure_future(fails())
        await asyncio.sleep(0)
        assert failed.done()
        waiting = asyncio.ensure_future(never)
        with pytest.raises(ValueError, match="an apply raised"):
            # Before the output that never ends: the failure is not kept waiting behind it.
            await asyncio.wait_for(_wait_all([waiting, failed]), timeout=5)
        waiting.cancel()

    _run(main)


def test_the_final_wait_raises_a_failure_that_comes_later() -> None:
    from rdsca.sdk_internals import _wait_all

    async def main() -> None:
        async def ok() -> None:
            await asyncio.sleep(0.002)

        async def fails() -> None:
            await asyncio.sleep(0.004)
            raise RuntimeError("late")

        with pytest.raises(RuntimeError, match="late"):
            await asyncio.wait_for(_wait_all([asyncio.ensure_future(ok()), asyncio.ensure_future(fails())]), 5)

    _run(main)
