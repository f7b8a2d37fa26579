"""The real pack process over gRPC, started exactly as the CLI starts it, and the engine-side config rules."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as pb

from rdsca.errors import RdscaError
from rdsca.rules.config import PolicyConfigError
from rdsca.runner import pack_client, pack_launch
from rdsca.runner.pack_launch import pack_environment, project_info
from rdsca.runner.policy_packs import PolicyConfig, PolicyError, load_pack, parse_config_file, with_remediation

from ..conftest import REPO

PACK = REPO / "policies"
PROJECT = project_info({"project": "proto-test", "stack": "dev", "config": {"aws:region": "us-west-2"}})
URN = "urn:pulumi:dev::proto-test::aws:rds/instance:Instance::db"


def _props(values: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(values, message)
    return message


def _client(directory: Path = PACK, deadline: float = 120.0) -> pack_client.PackClient:
    pack = load_pack(directory)
    process = pack_client.PackProcess(pack.directory, pack.python, pack_environment(PROJECT))
    client = pack_client.PackClient(process, pack.directory, pack.version, time.monotonic() + deadline)
    try:
        client.connect()
    except BaseException:
        client.stop()
        raise
    return client


def test_the_pack_speaks_the_analyzer_protocol_and_is_stopped() -> None:
    client = _client()
    try:
        client.configure_stack(PROJECT)
        warnings = client.configure({"rds-ca-retired": PolicyConfig("remediate", {"targetCa": "rds-ca-rsa4096-g1",
                                                                                  "applyImmediately": False})})
        assert warnings == [] and client.remediates
        info = client.info
        assert info.name == "rdsca" and info.supportsConfig
        retired = next(p for p in info.policies if p.name == "rds-ca-retired")
        assert json_format.MessageToDict(retired.configSchema.properties)["targetCa"]["default"] == "rds-ca-rsa2048-g1"
        assert retired.severity == pb.POLICY_SEVERITY_CRITICAL and retired.remediation_steps and retired.url

        old = pb.AnalyzeRequest(
            type="aws:rds/instance:Instance", urn=URN, name="db",
            properties=_props({"engine": "mysql", "caCertIdentifier": "rds-ca-2019"}),
        )
        (remediation,) = client.call("Remediate", old).remediations
        assert remediation.policyName == "rds-ca-retired"
        fixed = json_format.MessageToDict(remediation.properties)
        assert fixed == {"engine": "mysql", "caCertIdentifier": "rds-ca-rsa4096-g1", "applyImmediately": False}

        # Unremediated, the violation stands; at level remediate the SDK reports it as mandatory.
        assert [(d.policyName, d.enforcementLevel) for d in client.call("Analyze", old).diagnostics] == [
            ("rds-ca-retired", pb.MANDATORY)
        ]
        fixed_request = pb.AnalyzeRequest(type=old.type, urn=URN, name="db", properties=_props(fixed))
        assert list(client.call_later("Analyze", fixed_request).result().diagnostics) == []

        stack = pb.AnalyzeStackRequest()
        resource = stack.resources.add(type=old.type, urn=URN, name="db")
        resource.properties.CopyFrom(_props({"engine": "mysql", "caCertIdentifier": "rds-ca-2019"}))
        (diag,) = client.call("AnalyzeStack", stack).diagnostics
        assert (diag.policyName, diag.urn, diag.enforcementLevel) == ("rds-ca-stack-state", URN, pb.MANDATORY)
    finally:
        client.stop()
    assert client.process.process.poll() is not None  # stopped


BIG_ANSWER_PACK = """
from pulumi_policy import PolicyPack, StackValidationPolicy

def validate(args, report_violation):
    for resource in args.resources:
        for i in range(60):
            report_violation("x" * 100_000, resource.urn)

PolicyPack(name="big", policies=[StackValidationPolicy(name="big", description="Long answers.", validate=validate)])
"""


def _stack_request(count: int) -> pb.AnalyzeStackRequest:
    request = pb.AnalyzeStackRequest()
    for i in range(count):
        request.resources.add(type="aws:s3/bucket:Bucket", urn=f"{URN}{i}", name=f"b{i}")
    return request


def test_an_analyze_stack_answer_over_4_mib_passes(tmp_path: Path) -> None:
    """gRPC's default limit is 4 MiB; the engine allows 400 MiB, and so does every channel rdsca opens."""
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text(BIG_ANSWER_PACK)
    client = _client(tmp_path)
    try:
        client.configure({})
        answer = client.call("AnalyzeStack", _stack_request(1))
        assert answer.ByteSize() > 4 * 2**20
        assert len(answer.diagnostics) == 60
    finally:
        client.stop()


def test_an_answer_over_the_limit_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text(BIG_ANSWER_PACK)
    monkeypatch.setattr(pack_launch, "MAX_MESSAGE_BYTES", 2**20)
    client = _client(tmp_path)
    try:
        client.configure({})
        with pytest.raises(PolicyError, match=r"^the policy pack big: AnalyzeStack: a message is larger than the "
                           r"engine's gRPC limit of 1 MiB \(.*Received message larger than max \(6\d{6} vs. 1048576\)"):
            client.call("AnalyzeStack", _stack_request(1))
    finally:
        client.stop()


def test_a_pack_that_fails_to_start_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise RuntimeError('no policies here')\n")
    with pytest.raises(PolicyError, match=r"did not start: .*RuntimeError: no policies here"):
        _client(tmp_path)


def test_where_a_stuck_policy_is_read_from_the_fault_handler_dump() -> None:
    site = "/venv/lib/python3.11/site-packages"
    dump = [
        "Fatal Python error: Aborted",
        "",
        "Thread 0x00007f0000000001 (most recent call first):",
        '  File "/pack/rules/slow.py", line 14 in wait_for_it',
        '  File "/pack/rules/slow.py", line 9 in validate_slow',
        f'  File "{site}/pulumi_policy/policy.py", line 665 in validate',
        f'  File "{site}/pulumi_policy/policy.py", line 1005 in Analyze',
        f'  File "{site}/grpc/_server.py", line 500 in _call_behavior',
        "",
        "Current thread 0x00007f0000000002 (most recent call first):",
        f'  File "{site}/pulumi_policy/policy.py", line 140 in __init__',
        '  File "/pack/__main__.py", line 3 in <module>',
    ]
    where = pack_client.stuck_policy_code(dump, Path("/pack"))
    assert where == "validate_slow (rules/slow.py:9), at rules/slow.py:14 in wait_for_it"
    assert pack_client.stuck_policy_code(dump[-3:], Path("/pack")) == "code that the fault handler could not place"


def test_pack_directory_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"not a policy pack \(no PulumiPolicy.yaml\)"):
        load_pack(tmp_path)
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: nodejs\n")
    with pytest.raises(PolicyError, match="runtime is 'nodejs'; rdsca check runs Python policy packs only"):
        load_pack(tmp_path)
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: nowhere\n")
    pack = load_pack(tmp_path)
    assert pack.warnings and "does not exist" in pack.warnings[0]


def test_the_repository_pack_runs_in_the_repository_virtualenv() -> None:
    """``PulumiPolicy.yaml`` names ``../.venv``: the pack runs there when it exists, as the CLI would; without it,
    in the interpreter running rdsca, with a warning naming the missing virtualenv. Both are checked, so the test
    holds whichever this checkout has (``python3 tasks.py`` creates ``.venv``)."""
    pack = load_pack(PACK)
    venv = (REPO / ".venv").resolve()
    if (venv / "bin" / "python").exists():
        assert pack.python == str(venv / "bin" / "python") and pack.warnings == ()
    else:
        assert pack.python == sys.executable
        assert pack.warnings == (f"the pack's virtualenv {venv} does not exist; running the pack with {sys.executable}",)


def test_a_pack_virtualenv_that_is_missing_falls_back_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: venv\n")
    pack = load_pack(tmp_path)
    assert pack.python == sys.executable
    assert pack.warnings == (
        f"the pack's virtualenv {tmp_path.resolve() / 'venv'} does not exist; running the pack with {sys.executable}",
    )
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to(sys.executable)
    pack = load_pack(tmp_path)
    assert pack.python == str(tmp_path.resolve() / "venv" / "bin" / "python") and pack.warnings == ()


# -- config, as the CLI reconciles it ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def info() -> pb.AnalyzerInfo:
    from ..policies.harness import Pack

    return Pack().info()


def _file(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps(doc))
    return path


def test_defaults_are_schema_defaults_and_levels(info: pb.AnalyzerInfo) -> None:
    config = pack_client.reconcile(info, {})
    assert config["rds-ca-retired"] == PolicyConfig(
        "mandatory",
        {"targetCa": "rds-ca-rsa2048-g1", "fallbackCa": None, "applyImmediately": None, "restart": "auto"},
    )
    assert config["rds-ca-apply-immediately"].level == "disabled"
    assert config["rds-ca-expiring"].properties["days"] == 180


def test_config_file_layers_all_then_policy(info: pb.AnalyzerInfo, tmp_path: Path) -> None:
    given = parse_config_file(
        _file(tmp_path, {"all": "advisory", "rds-ca-expiring": {"enforcementLevel": "mandatory", "days": 30},
                         "rds-ca-allowed-list": {"allowedCas": ["rds-ca-rsa4096-g1"]}})
    )
    config = pack_client.reconcile(info, given)
    assert config["rds-ca-retired"].level == "advisory"
    assert config["rds-ca-expiring"] == PolicyConfig(
        "mandatory",
        {"days": 30, "targetCa": "rds-ca-rsa2048-g1", "fallbackCa": None, "applyImmediately": None,
         "restart": "auto"},
    )
    assert config["rds-ca-allowed-list"].level == "advisory"
    assert config["rds-ca-allowed-list"].properties["allowedCas"] == ["rds-ca-rsa4096-g1"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"rds-ca-expiring": {"days": -1}}, "invalid policy config: rds-ca-expiring: days: -1 is less than the minimum of 0"),
        ({"rds-ca-retired": {"targetCa": "rds-ca-2019"}}, "invalid policy config: rds-ca-retired: targetCa: 'rds-ca-2019' is not one of"),
        ({"rds-ca-retired": "strict"}, "rds-ca-retired: 'strict' is not an enforcement level"),
        ({"rds-ca-retired": 3}, "rds-ca-retired: must be an enforcement level or an object"),
        (["rds-ca-retired"], "must be a JSON object of policy names"),
    ],
)
def test_bad_config_is_one_clear_error(info: pb.AnalyzerInfo, tmp_path: Path, doc: object, message: str) -> None:
    # A file the CLI cannot parse (PolicyConfigError) and a config the pack's schemas refuse (PolicyError): both are
    # rdsca errors, one line and exit 2.
    with pytest.raises(RdscaError) as caught:
        pack_client.reconcile(info, parse_config_file(_file(tmp_path, doc)))
    assert message in str(caught.value)


def test_config_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{nope")
    with pytest.raises(PolicyConfigError, match="not valid JSON"):
        parse_config_file(path)
    with pytest.raises(PolicyConfigError, match="cannot read policy config"):
        parse_config_file(tmp_path / "missing.json")


@pytest.mark.parametrize("text", ["", "  \n\t\n"])
def test_an_empty_config_file_is_no_config_as_in_the_cli(tmp_path: Path, text: str) -> None:
    """The CLI's parsePolicyPackConfig accepts empty or blank content as no config; rdsca must not be stricter."""
    path = tmp_path / "c.json"
    path.write_text(text)
    assert parse_config_file(path) == {}


def test_remediate_is_all_remediate_under_the_given_config(info: pb.AnalyzerInfo) -> None:
    """``--remediate`` is ``{"all": "remediate"}`` with the config file on top, as the CLI would layer them."""
    config = pack_client.reconcile(info, with_remediation({"rds-ca-expiring": PolicyConfig("advisory", None)}))
    assert config["rds-ca-retired"].level == "remediate"
    assert config["rds-ca-apply-immediately"].level == "remediate"  # disabled by default; "all" enables it
    assert config["rds-ca-expiring"].level == "advisory"
    assert pack_client.reconcile(info, with_remediation({"all": PolicyConfig("advisory", None)}))["rds-ca-retired"].level == "advisory"


def test_a_pack_whose_python_cannot_run_names_the_interpreter(tmp_path: Path) -> None:
    """Issue 24.20: a virtualenv Python that exits at once said "did not start: no error output"."""
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("")
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\nexit 126\n")
    broken.chmod(0o755)
    process = pack_client.PackProcess(tmp_path, str(broken), {})
    with pytest.raises(PolicyError) as caught:
        process.port(10)
    assert str(caught.value) == (
        f"the policy pack {tmp_path} did not start: its Python ({broken}) exited with code 126: no error output"
    )


def test_a_pack_that_closes_its_output_just_before_exiting_is_not_called_a_timeout(tmp_path: Path) -> None:
    """The flake of test_a_pack_whose_python_cannot_run_names_the_interpreter: the pipe closes as a process exits,
    before it can be reaped, and the message said "no port printed within 10 s" at once. Here the gap is widened."""
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\nexec 1>&-\nsleep 0.3\nexit 126\n")
    broken.chmod(0o755)
    process = pack_client.PackProcess(tmp_path, str(broken), {})
    with pytest.raises(PolicyError, match=r"its Python \(.*\) exited with code 126"):
        process.port(10)


def test_a_pack_that_prints_a_dead_port_fails_at_once(tmp_path: Path) -> None:
    """Issue 24.20: a pack that printed a port nothing listens on was waited out, then reported as the program's
    timeout. It is named at once."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    # Printed before any PolicyPack is made: the first line the runner reads is a port where nothing listens.
    (tmp_path / "__main__.py").write_text(f"import time\nprint({dead}, flush=True)\ntime.sleep(60)\n")
    process = pack_client.PackProcess(tmp_path, sys.executable, {})
    started = time.monotonic()
    with pytest.raises(PolicyError, match=rf"printed port {dead}, but nothing answers there \(Connection refused\)"):
        process.port(10)
    assert time.monotonic() - started < 10
    assert process.process.poll() is not None  # stopped, not left running


# -- the Analyze relay (issue 30) -----------------------------------------------------------------------------------

def _analyze_request(ca: str, name: str = "db") -> pb.AnalyzeRequest:
    return pb.AnalyzeRequest(type="aws:rds/instance:Instance", urn=f"{URN[:-2]}{name}", name=name,
                             properties=_props({"engine": "mysql", "caCertIdentifier": ca}))


def test_analyze_goes_through_the_relay_in_order_unless_a_policy_remediates() -> None:
    client = _client()
    try:
        client.configure({})
        assert client._relay is not None and client._relay.ready and not client.remediates
        subject = pack_client.Subject("aws:rds/instance:Instance", "db", URN)
        futures = [client.analyze_later(_analyze_request("rds-ca-2019" if i % 2 else "rds-ca-rsa2048-g1", f"db{i}"),
                                        subject) for i in range(40)]
        answers = [[d.policyName for d in f.result(timeout=60).diagnostics] for f in futures]
        assert answers == [["rds-ca-retired"] if i % 2 else [] for i in range(40)]
        # the same answer as the host's own call
        direct = client.call("Analyze", _analyze_request("rds-ca-2019"))
        relayed = client.analyze_later(_analyze_request("rds-ca-2019"), subject).result(timeout=60)
        assert relayed == direct
        relay = client._relay.process
    finally:
        client.stop()
    assert relay.poll() is not None  # stopped with the pack

    client = _client()
    try:
        client.configure({"all": PolicyConfig("remediate", None)})
        assert client.remediates and client._relay is None  # Remediate then Analyze, both on the client's worker
    finally:
        client.stop()


def test_the_relay_goes_before_analyze_stack_which_the_client_makes_itself() -> None:
    client = _client()
    try:
        client.configure({})
        assert client._relay is not None and client._relay.ready
        relay = client._relay.process
        subject = pack_client.Subject("aws:rds/instance:Instance", "db", URN)
        client.analyze_later(_analyze_request("rds-ca-2019"), subject).result(timeout=60)
        client.close_relay()
        assert relay.poll() is not None and client._relay is None and client.current is None
        stack = pb.AnalyzeStackRequest()
        stack.resources.add(type="aws:rds/instance:Instance", urn=URN, name="db",
                            properties=_props({"engine": "mysql", "caCertIdentifier": "rds-ca-2019"}))
        answer = client.call_later("AnalyzeStack", stack).result(timeout=60)
        assert [d.policyName for d in answer.diagnostics] == ["rds-ca-stack-state"]  # the stack's rds-ca-2019
        # An Analyze after it (not made by the host, which drains first) still works, on the client's worker.
        late = client.analyze_later(_analyze_request("rds-ca-2019"), subject).result(timeout=60)
        assert [d.policyName for d in late.diagnostics] == ["rds-ca-retired"]
    finally:
        client.stop()


DYING_PACK = """
import os
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def validate(args, report_violation):
    if args.name == "fatal":
        os._exit(3)

PolicyPack(name="dies", policies=[ResourceValidationPolicy(
    name="dies", description="exits on one resource", validate=validate, enforcement_level=EnforcementLevel.MANDATORY)])
"""


def test_a_pack_that_dies_during_a_relayed_analyze_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text(DYING_PACK)
    client = _client(tmp_path)
    try:
        client.configure({})
        assert client._relay is not None and client._relay.ready
        subject = pack_client.Subject("aws:rds/instance:Instance", "fatal", URN)
        ok = client.analyze_later(_analyze_request("rds-ca-2019", "fine"), subject)
        fatal = client.analyze_later(_analyze_request("rds-ca-2019", "fatal"), subject)
        assert list(ok.result(timeout=60).diagnostics) == []
        with pytest.raises(PolicyError, match=r"^the policy pack dies failed in Analyze for .*fatal.*: its process "
                                              r"exited"):
            fatal.result(timeout=60)
    finally:
        client.stop()


def test_a_relay_that_dies_fails_its_calls_in_one_line() -> None:
    client = _client()
    try:
        client.configure({})
        assert client._relay is not None
        client._relay.process.kill()
        client._relay.process.wait()
        subject = pack_client.Subject("aws:rds/instance:Instance", "db", URN)
        with pytest.raises(PolicyError, match=r"^the policy pack rdsca: the process relaying its calls stopped "
                                              r"during Analyze for "):
            client.analyze_later(_analyze_request("rds-ca-2019"), subject).result(timeout=60)
    finally:
        client.stop()


def test_an_answer_the_host_cannot_read_fails_the_call_instead_of_hanging() -> None:
    """A frame that does not decode must not leave its call (and the drain after the program) waiting for ever."""
    import subprocess
    import sys

    garbage = ("import struct, sys; sys.stdin.readline(); "
               "sys.stdout.buffer.write(struct.pack('!IBI', 1, 0, 5) + b'\\xff\\xff\\xff\\xff\\xff'); "
               "sys.stdout.flush(); sys.stdin.read()")
    client = _client()
    try:
        client.configure({})
        assert client._relay is not None
        client._relay.close()
        fake = subprocess.Popen([sys.executable, "-c", garbage], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        client._relay = pack_client.Relay(client, fake)
        client._relay.connect(1)
        subject = pack_client.Subject("aws:rds/instance:Instance", "db", URN)
        with pytest.raises(PolicyError, match=r"the process relaying its calls stopped during Analyze"):
            client.analyze_later(_analyze_request("rds-ca-2019"), subject).result(timeout=30)
    finally:
        client.stop()


def test_the_stack_request_is_built_in_bytes_as_the_message_would_be() -> None:
    """``stack_request`` writes each resource's bytes after its tag and length; parsed back, it is the request the
    whole message gave (and a long resource needs a length of several varint bytes)."""
    resources = [
        {"type": "aws:rds/instance:Instance", "urn": f"{URN}{i}", "name": f"db{i}",
         "options": {"protect": False, "parent": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"},
         "properties": {"engine": "mysql", "caCertIdentifier": "rds-ca-2019", "tags": {"note": "x" * (300 * i)}},
         "dependencies": [f"{URN}dep"],
         "propertyDependencies": {"tags": pb.AnalyzerPropertyDependencies(urns=[f"{URN}dep"])}}
        for i in range(3)
    ]
    whole = pb.AnalyzeStackRequest()
    for fields in resources:
        fields = dict(fields)
        properties = pack_client.struct(fields.pop("properties"))
        whole.resources.add(**fields).properties.CopyFrom(properties)
    built = pack_client.stack_request(iter(resources))
    assert pb.AnalyzeStackRequest.FromString(built) == whole
    assert len(built) == whole.ByteSize()
    assert pack_client.stack_request([]) == b""


def test_analyze_stack_takes_the_request_s_bytes_and_answers_as_for_the_message(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text(BIG_ANSWER_PACK.replace("range(60)", "range(2)").replace("100_000", "10"))
    client = _client(tmp_path)
    try:
        client.configure({})
        message = _stack_request(3)
        as_bytes = pack_client.stack_request(
            [{"type": r.type, "urn": r.urn, "name": r.name, "properties": {}} for r in message.resources]
        )
        answer = client.call_later("AnalyzeStack", as_bytes).result(timeout=60)
        assert answer == client.call("AnalyzeStack", message)
        assert sorted({d.urn for d in answer.diagnostics}) == sorted(r.urn for r in message.resources)
    finally:
        client.stop()


def test_the_relay_needs_no_pulumi_sdk() -> None:
    """Bytes in, bytes out: the relay's process imports gRPC only (the SDK's protobuf modules import the whole SDK,
    ~13 MiB more in a process that lives as long as the program)."""
    import subprocess

    code = (
        "import sys\nfrom rdsca.runner import pack_relay\npack_relay.main()\n"
        "print(sorted(m for m in ('pulumi', 'google.protobuf', 'grpc') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], input="1\n", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['grpc']"
