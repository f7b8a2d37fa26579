"""pulumi-policy's own enforcement-level and config scenarios, through ``rdsca check``, with their expected verdicts.

The scenarios and expected results are those of pulumi/pulumi-policy ``tests/integration/integration_test.go``
(``TestEnforcementLevel``, ``TestConfig``), which run ``pulumi up --policy-pack`` over a program with one
``random:index/randomString:RandomString`` named ``str``. Here the program registers that resource in Python and
each scenario's pack is generated with the scenario's levels, schema and initial config (the originals read the
scenario number from the stack config; here it is written into each pack, so that several run in one check).
Config errors are worded by Python's ``jsonschema`` rather than Go's ``gojsonschema``: the tests compare which
policies and properties are refused.
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .conftest import rdsca, write_program

PROGRAM = """
import pulumi
pulumi.CustomResource("random:index/randomString:RandomString", "str", {"length": 10})
"""

LEVELS = ["EnforcementLevel.ADVISORY", "EnforcementLevel.DISABLED", "EnforcementLevel.MANDATORY", "None"]
#: TestEnforcementLevel's 16 scenarios, in its order (pack level x policy level): the level both policies report at,
#: or None when neither reports.
EXPECTED_LEVELS = [
    "advisory", None, "mandatory", "advisory",
    "advisory", None, "mandatory", None,
    "advisory", None, "mandatory", "mandatory",
    "advisory", None, "mandatory", "advisory",
]  # fmt: skip

LEVEL_PACK = """
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

NEVER_CALLED = {never}

def validate_resource(args, report_violation):
    if NEVER_CALLED:
        raise AssertionError("validate-resource should never be called.")
    report_violation("validate-resource-violation-message")

def validate_stack(args, report_violation):
    if NEVER_CALLED:
        raise AssertionError("validate-stack should never be called.")
    report_violation("validate-stack-violation-message")

PolicyPack(name="{name}", enforcement_level={pack}, policies=[
    ResourceValidationPolicy(name="validate-resource", description="Always reports a resource violation.",
                             enforcement_level={policy}, validate=validate_resource),
    StackValidationPolicy(name="validate-stack", description="Always reports a stack violation.",
                          enforcement_level={policy}, validate=validate_stack),
])
"""


def _rdsca(*args: str) -> subprocess.CompletedProcess[str]:
    return rdsca("check", *args)


def _pack(directory: Path, code: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (directory / "__main__.py").write_text(code)
    return directory


def test_enforcement_levels(tmp_path: Path) -> None:
    """All 16 scenarios as 16 packs in one check (each pack's name says its scenario)."""
    program = write_program(tmp_path / "prog", PROGRAM)
    args: list[str] = []
    names = []
    for number, (pack, policy) in enumerate(((p, q) for p in LEVELS for q in LEVELS), start=1):
        disabled = "EnforcementLevel.DISABLED"
        never = (pack == disabled and policy in (disabled, "None")) or policy == disabled
        name = f"enforcementlevel-scenario-{number}"
        code = LEVEL_PACK.format(never=never, name=name, pack=pack, policy=policy)
        args += ["--policy-pack", str(_pack(tmp_path / name, code))]
        names.append(name)
    proc = _rdsca(str(program), *args, "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    for name, expected in zip(names, EXPECTED_LEVELS, strict=True):
        found = [d for d in report["diagnostics"] if d["pack"] == name]
        if expected is None:
            assert found == [], name
            continue
        # A stack violation that names no resource is the root stack's, as the CLI shows it.
        on_str = {(d["policy"], d["level"]) for d in found if d["urn"].endswith(("::str", "::testprog-dev"))}
        assert on_str == {("validate-resource", expected), ("validate-stack", expected)}, name
        messages = {d["policy"]: d["message"] for d in found if d["urn"].endswith(("::str", "::testprog-dev"))}
        assert messages["validate-resource"] == "Always reports a resource violation.\nvalidate-resource-violation-message"
        assert messages["validate-stack"] == "Always reports a stack violation.\nvalidate-stack-violation-message"
    assert proc.returncode == 1  # some scenarios are mandatory


CONFIG_PACK = """
from pulumi_policy import EnforcementLevel, PolicyConfigSchema, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

SCHEMA = PolicyConfigSchema(properties={properties}, required={required})
EXPECTED = {expected}

def verify(args, *rest):
    if EXPECTED is not None:
        config = args.get_config()
        assert config["foo"] == EXPECTED, config

PolicyPack(name="config-policy", initial_config={initial}, policies=[
    ResourceValidationPolicy(name="resource-validation", description="Verifies policy config during resource validation.",
                             enforcement_level=EnforcementLevel.REMEDIATE, validate=verify, remediate=verify,
                             config_schema=SCHEMA),
    StackValidationPolicy(name="stack-validation", description="Verifies policy config during stack validation.",
                          enforcement_level=EnforcementLevel.MANDATORY, validate=verify, config_schema=SCHEMA),
])
"""

_S = {"type": "string"}
_BOTH = {"resource-validation": {"foo": "hello world"}, "stack-validation": {"foo": "hello world"}}
#: TestConfig's valid scenarios: (foo's schema, required, initial config, given foo, expected foo). ``given`` is
#: the config file's value of foo for both policies; ``_ABSENT``: no config file.
_ABSENT: Any = object()
VALID = {
    1: ({"type": "string"}, None, None, "bar", "bar"),
    2: ({"type": "string", "default": "bar"}, None, None, _ABSENT, "bar"),
    3: ({"type": "number", "default": 42}, None, None, _ABSENT, 42),
    4: ({"type": "string", "default": "bar"}, None, None, "overridden", "overridden"),
    5: ({"type": "string", "default": "bar"}, ["foo"], None, _ABSENT, "bar"),
    16: ({"type": "number"}, None, None, 42, 42),
    17: ({"type": "number"}, None, None, 3.14, 3.14),
    18: ({"type": "integer"}, None, None, 42, 42),
    19: ({"type": "boolean"}, None, None, True, True),
    20: ({"type": "boolean"}, None, None, False, False),
    21: ({"type": "object"}, None, None, {"bar": "baz"}, {"bar": "baz"}),
    22: ({"type": "array"}, None, None, ["a", "b", "c"], ["a", "b", "c"]),
    23: ({"type": "null"}, None, None, None, None),
    24: (_S, None, _BOTH, _ABSENT, "hello world"),
    25: (_S, None, _BOTH, "overridden", "overridden"),
}
#: The invalid ones: (foo's schema, other properties, required, given config, the refusals for each policy).
INVALID = {
    6: ({"type": "string"}, None, ["foo"], _ABSENT, ["'foo' is a required property"]),
    7: ({"type": "string", "default": 1}, None, None, _ABSENT, ["foo: 1.0 is not of type 'string'"]),  # via a Struct
    8: ({"type": "string", "maxLength": 3, "default": "this value is too long"}, None, None, _ABSENT,
        ["foo: 'this value is too long' is too long"]),
    9: ({"type": "string", "minLength": 50, "default": "this value is too short"}, None, None, _ABSENT,
        ["foo: 'this value is too short' is too short"]),
    10: ({"type": "string", "enum": ["bar", "baz"], "default": "blah"}, None, None, _ABSENT,
         ["foo: 'blah' is not one of ['bar', 'baz']"]),
    11: ({"const": "bar", "default": "blah"}, None, None, _ABSENT, ["foo: 'bar' was expected"]),
    12: ({"type": "string"}, None, None, 1, ["foo: 1 is not of type 'string'"]),
    13: ({"enum": ["bar", "baz"]}, None, None, "blah", ["foo: 'blah' is not one of ['bar', 'baz']"]),
    14: ({"const": "bar"}, None, None, "blah", ["foo: 'bar' was expected"]),
    15: ({"type": "string", "maxLength": 3}, {"bar": {"type": "integer"}}, None, {"foo": "this is too long", "bar": 3.14},
         ["bar: 3.14 is not of type 'integer'", "foo: 'this is too long' is too long"]),
}  # fmt: skip


def _config_pack(directory: Path, foo: dict, extra: dict | None, required: list | None, initial: Any, expected: Any) -> Path:
    properties = {"foo": foo, **(extra or {})}
    code = CONFIG_PACK.format(properties=properties, required=required, initial=initial, expected=repr(expected))
    return _pack(directory, code)


def _config_file(path: Path, given: Any) -> Path:
    values = given if isinstance(given, dict) and "foo" in given else ({} if given is _ABSENT else {"foo": given})
    path.write_text(json.dumps({"resource-validation": values, "stack-validation": values} if values else {}))
    return path


def test_valid_config_reaches_the_policies(tmp_path: Path) -> None:
    """The 15 valid scenarios as 15 packs in one check, each with its config file by position; a policy that
    sees the wrong config raises, which would fail the check."""
    program = write_program(tmp_path / "prog", PROGRAM)
    packs: list[str] = []
    configs: list[str] = []
    for number, (foo, required, initial, given, expected) in VALID.items():
        packs += ["--policy-pack", str(_config_pack(tmp_path / f"s{number}", foo, None, required, initial, expected))]
        configs += ["--policy-pack-config", str(_config_file(tmp_path / f"s{number}.json", given))]
    proc = _rdsca(str(program), *packs, *configs, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["diagnostics"] == []


def test_invalid_config_is_refused_naming_each_policy_and_property(tmp_path: Path) -> None:
    program = write_program(tmp_path / "prog", PROGRAM)

    def run(number: int) -> tuple[int, subprocess.CompletedProcess[str]]:
        foo, extra, required, given, _ = INVALID[number]
        pack = _config_pack(tmp_path / f"s{number}", foo, extra, required, None, None)
        config = ["--policy-pack-config", str(_config_file(tmp_path / f"s{number}.json", given))]
        return number, _rdsca(str(program), "--policy-pack", str(pack), *(config if given is not _ABSENT else []))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(pool.map(run, INVALID))
    for number, proc in sorted(results.items()):
        assert proc.returncode == 2, (number, proc.stdout)
        refusals = [f"{policy}: {error}" for policy in ("resource-validation", "stack-validation")
                    for error in INVALID[number][4]]
        assert proc.stderr.strip() == f"rdsca: error: invalid policy config: {'; '.join(refusals)}", number


def test_the_program_port_registers_what_the_original_does(tmp_path: Path) -> None:
    program = write_program(tmp_path / "prog", PROGRAM)
    proc = _rdsca(str(program), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    resources = {(r["type"], r["name"]) for r in json.loads(proc.stdout)["resources"]}
    assert ("random:index/randomString:RandomString", "str") in resources
    assert ("pulumi:providers:random", "default") in resources
