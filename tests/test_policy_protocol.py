"""The real pack process over gRPC, started exactly as the CLI starts it, and the engine-side config rules."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as pb

from rdsca.runner import analyzer
from rdsca.runner.analyzer import PolicyConfig, PolicyError
from rdsca.runner.project import Project

from .conftest import REPO

PACK = REPO / "policies"
PROJECT = Project(REPO, "proto-test", "python", REPO / "__main__.py", "dev", {"aws:region": "us-west-2"}, set())
URN = "urn:pulumi:dev::proto-test::aws:rds/instance:Instance::db"


def _props(values: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(values, message)
    return message


def test_the_pack_speaks_the_analyzer_protocol_and_is_stopped() -> None:
    pack = analyzer.load_pack(PACK)
    with analyzer.start_pack(pack, PROJECT) as started:
        stub = started.stub
        info = stub.GetAnalyzerInfo(empty_pb2.Empty())
        assert info.name == "rdsca" and info.supportsConfig
        assert {p.name: p.enforcementLevel for p in info.policies}["rds-ca-retired"] == pb.MANDATORY
        retired = next(p for p in info.policies if p.name == "rds-ca-retired")
        assert json_format.MessageToDict(retired.configSchema.properties)["targetCa"]["default"] == "rds-ca-rsa2048-g1"
        assert retired.severity == pb.POLICY_SEVERITY_CRITICAL and retired.remediation_steps and retired.url

        request = pb.ConfigureAnalyzerRequest()
        request.policyConfig["rds-ca-retired"].enforcementLevel = pb.REMEDIATE
        request.policyConfig["rds-ca-retired"].properties.update({"targetCa": "rds-ca-rsa4096-g1", "applyImmediately": False})
        stub.Configure(request)

        old = pb.AnalyzeRequest(
            type="aws:rds/instance:Instance", urn=URN, name="db",
            properties=_props({"engine": "mysql", "caCertIdentifier": "rds-ca-2019"}),
        )
        (remediation,) = stub.Remediate(old).remediations
        assert remediation.policyName == "rds-ca-retired"
        fixed = json_format.MessageToDict(remediation.properties)
        assert fixed == {"engine": "mysql", "caCertIdentifier": "rds-ca-rsa4096-g1", "applyImmediately": False}

        # Unremediated, the violation stands; at level remediate the SDK reports it as mandatory.
        assert [(d.policyName, d.enforcementLevel) for d in stub.Analyze(old).diagnostics] == [
            ("rds-ca-retired", pb.MANDATORY)
        ]
        fixed_request = pb.AnalyzeRequest(type=old.type, urn=URN, name="db", properties=_props(fixed))
        assert list(stub.Analyze(fixed_request).diagnostics) == []

        stack = pb.AnalyzeStackRequest()
        resource = stack.resources.add(type=old.type, urn=URN, name="db")
        resource.properties.CopyFrom(_props({"engine": "mysql", "caCertIdentifier": "rds-ca-2019"}))
        (diag,) = stub.AnalyzeStack(stack).diagnostics
        assert (diag.policyName, diag.urn, diag.enforcementLevel) == ("rds-ca-stack-state", URN, pb.MANDATORY)
        process = started.process
    assert process.poll() is not None  # stopped


def test_the_pack_is_stopped_on_ctrl_c() -> None:
    pack = analyzer.load_pack(PACK)
    with pytest.raises(KeyboardInterrupt), analyzer.start_pack(pack, PROJECT) as started:
        process = started.process
        raise KeyboardInterrupt
    assert process.poll() is not None


def test_a_pack_that_fails_to_start_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise RuntimeError('no policies here')\n")
    pack = analyzer.load_pack(tmp_path)
    with pytest.raises(PolicyError, match=r"did not start: .*RuntimeError: no policies here"), analyzer.start_pack(
        pack, PROJECT
    ) as launched:
        launched.connect()


def test_pack_directory_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"not a policy pack \(no PulumiPolicy.yaml\)"):
        analyzer.load_pack(tmp_path)
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: nodejs\n")
    with pytest.raises(PolicyError, match="runtime is 'nodejs'; rdsca check runs Python policy packs only"):
        analyzer.load_pack(tmp_path)
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: nowhere\n")
    pack = analyzer.load_pack(tmp_path)
    assert pack.warnings and "does not exist" in pack.warnings[0]


def test_the_repository_pack_runs_in_the_repository_virtualenv() -> None:
    """``PulumiPolicy.yaml`` names ``../.venv``: the pack runs there when it exists, as the CLI would; without it,
    in the interpreter running rdsca, with a warning naming the missing virtualenv. Both are checked, so the test
    holds whichever this checkout has (``python3 tasks.py`` creates ``.venv``)."""
    pack = analyzer.load_pack(PACK)
    venv = (REPO / ".venv").resolve()
    if (venv / "bin" / "python").exists():
        assert pack.python == str(venv / "bin" / "python") and pack.warnings == ()
    else:
        assert pack.python == sys.executable
        assert pack.warnings == (f"the pack's virtualenv {venv} does not exist; running the pack with {sys.executable}",)


def test_a_pack_virtualenv_that_is_missing_falls_back_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: venv\n")
    pack = analyzer.load_pack(tmp_path)
    assert pack.python == sys.executable
    assert pack.warnings == (
        f"the pack's virtualenv {tmp_path.resolve() / 'venv'} does not exist; running the pack with {sys.executable}",
    )
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to(sys.executable)
    pack = analyzer.load_pack(tmp_path)
    assert pack.python == str(tmp_path.resolve() / "venv" / "bin" / "python") and pack.warnings == ()


# -- config, as the CLI reconciles it ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def info() -> pb.AnalyzerInfo:
    from .policies.harness import Pack

    return Pack().info()


def _file(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps(doc))
    return path


def test_defaults_are_schema_defaults_and_levels(info: pb.AnalyzerInfo) -> None:
    config = analyzer.reconcile(info, {})
    assert config["rds-ca-retired"] == PolicyConfig(
        "mandatory", {"targetCa": "rds-ca-rsa2048-g1", "fallbackCa": None, "applyImmediately": True}
    )
    assert config["rds-ca-apply-immediately"].level == "disabled"
    assert config["rds-ca-expiring"].properties["days"] == 180


def test_config_file_layers_all_then_policy(info: pb.AnalyzerInfo, tmp_path: Path) -> None:
    given = analyzer.parse_config_file(
        _file(tmp_path, {"all": "advisory", "rds-ca-expiring": {"enforcementLevel": "mandatory", "days": 30},
                         "rds-ca-allowed-list": {"allowedCas": ["rds-ca-rsa4096-g1"]}})
    )
    config = analyzer.reconcile(info, given)
    assert config["rds-ca-retired"].level == "advisory"
    assert config["rds-ca-expiring"] == PolicyConfig(
        "mandatory",
        {"days": 30, "targetCa": "rds-ca-rsa2048-g1", "fallbackCa": None, "applyImmediately": True},
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
    with pytest.raises(PolicyError) as caught:
        analyzer.reconcile(info, analyzer.parse_config_file(_file(tmp_path, doc)))
    assert message in str(caught.value)


def test_config_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{nope")
    with pytest.raises(PolicyError, match="not valid JSON"):
        analyzer.parse_config_file(path)
    with pytest.raises(PolicyError, match="cannot read policy config"):
        analyzer.parse_config_file(tmp_path / "missing.json")
