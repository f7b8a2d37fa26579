"""The pack as a whole: names, metadata, files the CLI reads, and config defaults that the code also applies."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from rdsca.policies import ALL_POLICIES, MODULES
from rdsca.runner.pack_client import reconcile

from .harness import HAPPY, INSTANCE, UNKNOWN, Pack, with_ca

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"


def test_policy_names_are_kebab_case_and_match_their_modules() -> None:
    for module in MODULES:
        policy = module.policy
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", policy.name)
        assert module.__name__.rsplit(".", 1)[1] == policy.name.replace("-", "_")
        assert (PACK_DIR / f"{policy.name.replace('-', '_')}.py").is_file()
    assert len({p.name for p in ALL_POLICIES}) == len(ALL_POLICIES) == 9


def test_every_policy_has_full_metadata() -> None:
    for policy in ALL_POLICIES:
        assert policy.description and policy.severity and policy.url and policy.remediation_steps
        assert "aws rds modify-db-instance" in policy.remediation_steps
        if isinstance(policy, ResourceValidationPolicy):
            assert policy.config_schema is not None


def test_default_levels() -> None:
    levels = {p.name: p.enforcement_level for p in ALL_POLICIES}
    assert levels == {
        "rds-ca-retired": EnforcementLevel.MANDATORY,
        "rds-ca-engine-support": EnforcementLevel.MANDATORY,
        "rds-ca-allowed-list": EnforcementLevel.MANDATORY,
        "rds-ca-expiring": EnforcementLevel.ADVISORY,
        "rds-ca-availability-note": EnforcementLevel.ADVISORY,
        "rds-ca-unset": EnforcementLevel.ADVISORY,
        "rds-ca-apply-immediately": EnforcementLevel.DISABLED,
        "rds-ca-restart-pending": EnforcementLevel.ADVISORY,
        "rds-ca-stack-state": EnforcementLevel.MANDATORY,
    }
    remediable = {p.name for p in ALL_POLICIES if isinstance(p, ResourceValidationPolicy) and p.has_remediation()}
    assert remediable == {
        "rds-ca-retired", "rds-ca-engine-support", "rds-ca-allowed-list", "rds-ca-expiring", "rds-ca-unset",
        "rds-ca-apply-immediately",
    }


def test_schema_defaults_and_code_defaults_agree() -> None:
    """The engine sends the schema defaults; with no Configure at all the code must behave the same."""
    bare = Pack()
    info = bare.info()
    reconciled = reconcile(info, {})
    configured = Pack(
        config={name: cfg.properties or {} for name, cfg in reconciled.items()},
        levels={name: cfg.level for name, cfg in reconciled.items()},
    )
    cases = {**HAPPY, **{f"old-{k}": v for k, v in with_ca("rds-ca-2019").items()},
             **{f"unset-{k}": v for k, v in with_ca(...).items()}, "ecc-mssql": (INSTANCE, {"engine": "sqlserver-se", "caCertIdentifier": "rds-ca-ecc384-g1"}),
             "unknown": (INSTANCE, {"caCertIdentifier": UNKNOWN})}
    for name, (type_, props) in cases.items():
        assert bare.analyze(type_, props, name=name) == configured.analyze(type_, props, name=name), name


def test_pulumi_policy_yaml_points_at_the_repository_virtualenv() -> None:
    manifest = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"] == {"name": "python", "options": {"virtualenv": "../.venv"}}
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])


def test_requirements_name_this_distribution() -> None:
    """The pack is publishable as is: it installs rdsca with its Pulumi extra (which brings pulumi-policy) at the
    pack's own version."""
    lines = [line for line in (PACK_DIR / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    manifest = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert lines == [f"rdsca[pulumi]=={manifest['version']}"]


def test_main_only_builds_the_pack() -> None:
    tree = ast.parse((PACK_DIR / "__main__.py").read_text())
    statements = [node for node in tree.body if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Constant)]
    assert all(isinstance(node, ast.ImportFrom) for node in statements[:-1])
    last = statements[-1]
    assert isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
    assert isinstance(last.value.func, ast.Name) and last.value.func.id == "PolicyPack"


def test_the_documented_config_example_is_valid(tmp_path: Path) -> None:
    """The policy config example in docs/policy-pack.md reconciles against the pack's schemas as the CLI would."""
    from rdsca.runner.policy_packs import parse_config_file

    readme = (PACK_DIR.parent / "docs" / "policy-pack.md").read_text()
    example = tmp_path / "policy-config.json"
    example.write_text(readme.split("```json\n", 1)[1].split("```", 1)[0])
    config = reconcile(Pack().info(), parse_config_file(example))
    assert config["rds-ca-retired"].level == "remediate"
    assert config["rds-ca-retired"].properties["targetCa"] == "rds-ca-rsa4096-g1"
    assert config["rds-ca-apply-immediately"].level == "advisory"


def test_a_config_the_pack_refuses_is_an_error_before_any_report(tmp_path: Path) -> None:
    """Issue 26.7: a --policy-pack-config the pack's schema refuses stops the run with one error and no partial
    report (the CLI configures every analyzer before the program runs), never "passed" or "incomplete"."""
    config = tmp_path / "config.json"
    config.write_text('{"rds-ca-allowed-list": {"level": "mandatory", "allowedCas": "not a list"}}')
    from ..conftest import REPO, one_error_line, rdsca

    proc = rdsca("check", REPO / "examples" / "mysql-web-tier", "--policy-pack", REPO / "policies",
                 "--policy-pack-config", config)
    assert proc.stdout == ""
    assert "allowedCas: 'not a list' is not of type 'array'" in one_error_line(proc.returncode, proc.stdout,
                                                                                proc.stderr)
