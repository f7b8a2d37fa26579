"""``rdsca check`` on Terraform directories and plans: kinds, exact findings, exit codes, JSON, schema-valid SARIF
with file and line, policy config, sensitive values, and malformed input (exit 2, one line)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from rdsca.terraform.check import check
from tests.conftest import FIXTURES
from tests.terraform.conftest import PLANS, run, run_json, write_tf

from ..conftest import invoke, one_error_line

LEGACY = {
    "main.tf": """
    variable "ca" {
      default = "rds-ca-2019"
    }
    resource "aws_db_instance" "billing" {
      identifier         = "billing"
      engine             = "mysql"
      engine_version     = "8.0.39"
      ca_cert_identifier = var.ca
      password           = "hunter2-never-printed"
    }
    resource "aws_db_instance" "reports" {
      engine             = "sqlserver-se"
      engine_version     = "15.00.4236.7.v1"
      ca_cert_identifier = "rds-ca-ecc384-g1"
      apply_immediately  = true
    }
    resource "aws_rds_cluster" "multi_az" {
      engine                    = "postgres"
      ca_certificate_identifier = "rds-ca-rsa4096-g1"
    }
    resource "aws_rds_cluster" "aurora" {
      engine = "aurora-postgresql"
    }
    resource "awscc_rds_db_instance" "native" {
      engine                    = "postgres"
      ca_certificate_identifier = "rds-ca-typo"
    }
    resource "aws_rds_certificate" "default" {
      certificate_identifier = "rds-ca-2019"
    }
    """
}


def diagnostics(document: dict[str, object]) -> set[tuple[str, str, str]]:
    return {(d["policy"], d["level"], d["address"]) for d in document["diagnostics"]}  # type: ignore[index,union-attr]


def test_a_legacy_configuration_is_blocked_with_exact_findings(tmp_path: Path) -> None:
    write_tf(tmp_path, LEGACY)
    code, document = run_json("check", tmp_path)
    assert code == 1
    assert document["kind"] == "terraform" and document["blocked"] is True
    assert diagnostics(document) == {
        ("rds-ca-retired", "mandatory", "aws_db_instance.billing"),
        ("rds-ca-engine-support", "mandatory", "aws_db_instance.reports"),
        ("rds-ca-retired", "mandatory", "awscc_rds_db_instance.native"),
        ("rds-ca-retired", "mandatory", "aws_rds_certificate.default"),
    }
    resources = {r["address"]: r for r in document["resources"]}
    source = resources["aws_db_instance.billing"]["source"]
    assert (Path(source["file"]).name, source["line"]) == ("main.tf", 8)
    assert resources["aws_db_instance.billing"]["values"] == {
        "ca_cert_identifier": "rds-ca-2019",
        "engine": "mysql",
        "engine_version": "8.0.39",
        "identifier": "billing",
    }
    assert resources["aws_rds_cluster.aurora"]["ca_status"] is None  # Aurora clusters carry no CA
    assert "hunter2" not in json.dumps(document)


def test_a_clean_configuration_passes(tmp_path: Path) -> None:
    write_tf(
        tmp_path,
        {
            "main.tf": 'resource "aws_db_instance" "x" {\n  engine = "postgres"\n  ca_cert_identifier = "rds-ca-rsa2048-g1"\n}\n'
        },
    )
    result = run("check", tmp_path)
    assert result.exit_code == 0, result.output
    assert "rdsca@v0.1.0: passed" in result.stdout


def test_sarif_is_schema_valid_with_the_line_of_the_attribute_or_the_block(tmp_path: Path) -> None:
    write_tf(
        tmp_path,
        {
            "main.tf": 'resource "aws_db_instance" "unset" {\n  engine = "mysql"\n}\n\nresource "aws_db_instance" "old" {\n  engine = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n'
        },
    )
    result = run("check", tmp_path, "--format", "sarif")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    jsonschema.validate(document, json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text()))
    located = {
        (
            r["ruleId"],
            r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in document["runs"][0]["results"]
    }
    assert located == {("rds-ca-unset", "aws_db_instance.unset", 1), ("rds-ca-retired", "aws_db_instance.old", 7)}
    assert all(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("main.tf")
        for r in document["runs"][0]["results"]
    )


def test_policy_config_levels_and_settings_apply_as_for_the_pack(tmp_path: Path) -> None:
    write_tf(tmp_path, LEGACY)
    config = tmp_path / "policy.json"
    config.write_text(
        json.dumps(
            {
                "all": "advisory",
                "rds-ca-allowed-list": {"enforcementLevel": "mandatory", "allowedCas": ["rds-ca-rsa2048-g1"]},
            }
        )
    )
    code, document = run_json("check", tmp_path, "--policy-pack-config", config)
    assert code == 1
    mandatory = {(p, a) for p, level, a in diagnostics(document) if level == "mandatory"}
    # Every CA outside the list, retired ones included; the rest is advisory now.
    assert mandatory == {
        ("rds-ca-allowed-list", address)
        for address in (
            "aws_rds_cluster.multi_az",
            "aws_db_instance.billing",
            "aws_db_instance.reports",
            "awscc_rds_db_instance.native",
            "aws_rds_certificate.default",
        )
    }
    config.write_text(json.dumps({"rds-ca-expiring": {"days": "soon"}}))
    result = run("check", tmp_path, "--policy-pack-config", config)
    assert result.exit_code == 2
    assert result.stderr.strip().endswith(
        "invalid policy config: rds-ca-expiring: days: 'soon' is not of type 'integer'"
    )


def test_real_plan_from_checkov_fixtures_ca_known_only_after_apply() -> None:
    code, document = run_json("check", PLANS / "checkov-tfplan.json")
    assert code == 0
    assert [(r["address"], r["ca_status"], r["unknown"]) for r in document["resources"]] == [
        ("aws_db_instance.default", "unset", {})
    ]
    assert diagnostics(document) == {("rds-ca-unset", "advisory", "aws_db_instance.default")}
    assert "foobarbaz" not in run("check", PLANS / "terraform-compliance-issue-401.json", "--format", "json").stdout


def test_plan_unset_in_code_but_retired_in_state_is_caught_and_sensitive_values_never_printed() -> None:
    plan = PLANS / "update-unset-in-code.json"
    code, document = run_json("check", plan)
    assert code == 1
    assert diagnostics(document) == {
        ("rds-ca-stack-state", "mandatory", "aws_db_instance.orders"),
        ("rds-ca-unset", "advisory", "aws_db_instance.orders"),
        ("rds-ca-engine-support", "mandatory", "module.reports.aws_db_instance.this[0]"),
        ("rds-ca-engine-support", "mandatory", "aws_docdb_cluster_instance.docs"),
        # A CA the plan marks sensitive is judged all the same (it was "not known until apply": a pass), and masked.
        ("rds-ca-retired", "mandatory", "aws_db_instance.secret_ca"),
        ("rds-ca-stack-state", "mandatory", "aws_db_instance.secret_ca"),
    }
    addresses = [r["address"] for r in document["resources"]]
    assert "aws_db_instance.old" not in addresses  # deleted by the plan
    secret = next(r for r in document["resources"] if r["address"] == "aws_db_instance.secret_ca")
    assert secret["values"]["ca_cert_identifier"] == "[sensitive]"
    for fmt in ("table", "json", "sarif"):
        output = run("check", plan, "--format", fmt).output
        assert "rds-ca-2015" not in output and "hunter2" not in output


def test_plan_in_utf16_as_powershell_writes_it(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_bytes((PLANS / "update-unset-in-code.json").read_text().encode("utf-16"))
    assert run("check", plan).exit_code == 1


def test_kind_detection_and_options_that_do_not_apply(tmp_path: Path) -> None:
    write_tf(tmp_path, {"main.tf": "x = 1\n", "Pulumi.yaml": "name: x\nruntime: python\n"})
    result = run("check", tmp_path)
    assert result.exit_code == 2
    assert "holds both a Pulumi project and Terraform files: choose one with --kind pulumi|terraform" in result.stderr
    assert run("check", tmp_path, "--kind", "terraform").exit_code == 0
    result = run("check", tmp_path, "--kind", "terraform", "--policy-pack", "policies")
    assert result.exit_code == 2 and "--policy-pack: only for Pulumi programs" in result.stderr
    result = run("check", tmp_path, "--kind", "pulumi", "--fix")
    assert result.exit_code == 2 and "--fix: only for Terraform" in result.stderr
    result = run("check", PLANS / "checkov-tfplan.json", "--fix")
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("plan.json", "{", "plan.json:1: invalid JSON: Expecting property name enclosed in double quotes"),
        ("plan.json", '{"resources": []}', "plan.json: not a Terraform plan in JSON"),
        ("plan.json", b"\xff\x00\xfe", "plan.json: not UTF-8 or UTF-16 text"),
    ],
)
def test_malformed_plans_exit_2_with_one_line(tmp_path: Path, name: str, content: str | bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = run("check", path)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output


def test_var_and_var_file_on_the_command_line(tmp_path: Path) -> None:
    write_tf(
        tmp_path,
        {
            "main.tf": 'variable "ca" {}\nresource "aws_db_instance" "x" { ca_cert_identifier = var.ca }\n',
            "prod.tfvars": 'ca = "rds-ca-2019"\n',
        },
    )
    assert run("check", tmp_path, "--var", "ca=rds-ca-rsa2048-g1").exit_code == 0
    assert run("check", tmp_path, "--var-file", tmp_path / "prod.tfvars").exit_code == 1
    assert (
        run("check", tmp_path, "--var-file", tmp_path / "prod.tfvars", "--var", "ca=rds-ca-rsa2048-g1").exit_code == 0
    )
    assert (
        run("check", tmp_path, "--var", "ca=rds-ca-rsa2048-g1", "--var-file", tmp_path / "prod.tfvars").exit_code == 1
    )
    result = run("check", tmp_path, "--var", "nonsense")
    assert result.exit_code == 2 and "-var 'nonsense': expected NAME=VALUE" in result.stderr
    result = run("check", tmp_path, "--var-file", tmp_path / "missing.tfvars")
    assert result.exit_code == 2 and "missing.tfvars: no such variable file" in result.stderr


def test_var_and_var_file_interleaved_apply_in_command_line_order(tmp_path: Path) -> None:
    """Terraform applies -var and -var-file in the order given, a later one winning; click groups each repeated
    option's values, so the order across the two options is kept by the command itself."""
    write_tf(
        tmp_path,
        {
            "main.tf": 'variable "ca" {}\nresource "aws_db_instance" "x" { ca_cert_identifier = var.ca }\n',
            "old.tfvars": 'ca = "rds-ca-2019"\n',
            "new.tfvars": 'ca = "rds-ca-rsa4096-g1"\n',
        },
    )
    old, new = tmp_path / "old.tfvars", tmp_path / "new.tfvars"
    cases = {
        ("--var-file", old, "--var", "ca=rds-ca-rsa2048-g1", "--var-file", new): "rds-ca-rsa4096-g1",
        ("--var-file", new, "--var", "ca=rds-ca-rsa2048-g1", "--var-file", old): "rds-ca-2019",
        ("--var", "ca=rds-ca-2015", "--var-file", new, "--var", "ca=rds-ca-rsa2048-g1"): "rds-ca-rsa2048-g1",
    }
    for args, expected in cases.items():
        _code, document = run_json("check", tmp_path, *args)
        assert document["resources"][0]["values"]["ca_cert_identifier"] == expected, args


def test_terraform_output_never_speaks_pulumi(tmp_path: Path) -> None:
    write_tf(tmp_path, LEGACY)
    outputs = [run("check", tmp_path, "--format", fmt).output for fmt in ("table", "json", "sarif")]
    outputs += [run("check", PLANS / "update-unset-in-code.json", "--format", fmt).output for fmt in ("table", "sarif")]
    for output in outputs:
        for word in ("aws.rds.", "aws_native.", "outside Pulumi", "caCert", "applyImmediately", "=True", "Pulumi"):
            assert word not in output
    sarif = json.loads(outputs[2])
    help_text = {r["id"]: r["help"]["text"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert '  aws_db_instance: ca_cert_identifier = "rds-ca-rsa2048-g1", apply_immediately = true' in help_text["rds-ca-retired"]
    assert '  awscc_rds_db_instance: ca_certificate_identifier = "rds-ca-rsa2048-g1"\n' in help_text["rds-ca-retired"]


def test_sarif_for_a_plan_points_at_each_resource_by_column() -> None:
    """terraform show -json writes the whole plan on one line: the column tells the results apart."""
    plan = PLANS / "update-unset-in-code.json"
    document = json.loads(run("check", plan, "--format", "sarif").stdout)
    jsonschema.validate(document, json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text()))
    regions = {
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r["locations"][0]["physicalLocation"]["region"]
        for r in document["runs"][0]["results"]
    }
    text = plan.read_text()
    for address, region in regions.items():
        assert region["startLine"] == 1
        assert text[region["startColumn"] - 1 :].startswith(json.dumps({"address": address})[1:-1])


def test_real_plan_with_an_aurora_cluster_is_listed_but_not_judged() -> None:
    """terraform-compliance's issue-438 plan (Terraform 0.13): an Aurora cluster carries no CA of its own."""
    plan = PLANS / "terraform-compliance-issue-438.json"
    code, document = run_json("check", plan)
    assert code == 0
    assert [(r["address"], r["ca_status"], r["unknown"]) for r in document["resources"]] == [
        ("aws_rds_cluster.db_cluster", None, {"engine_version": "engine_version is known after apply"})
    ]
    assert document["diagnostics"] == []
    assert all("nothing" not in run("check", plan, "--format", fmt).output for fmt in ("table", "json", "sarif"))


@pytest.mark.parametrize("source", ["./", "./loop/up"])
def test_terraform_module_that_calls_itself_is_one_error_line(tmp_path: Path, source: str) -> None:
    """A module whose source is its own directory (or a symlink back to it) recurses until Python's limit:
    'internal error: RecursionError'. Terraform refuses a module cycle; rdsca should say so, in one line."""
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "up").symlink_to("..")
    (tmp_path / "main.tf").write_text(
        f'module "m" {{\n  source = "{source}"\n}}\n'
        'resource "aws_db_instance" "a" {\n  engine = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n'
    )
    one_error_line(*invoke("check", str(tmp_path)))


def test_terraform_retired_ca_hidden_in_deep_parentheses_does_not_pass(tmp_path: Path) -> None:
    """`ca_cert_identifier = ((((...("rds-ca-2019")...))))` with 1000 parentheses is 'expression nested too deeply
    to evaluate', treated like a provider-computed value ('known after apply'), which never blocks: the check
    exits 0 and a retired CA gets past CI. A limit of rdsca's own evaluator must not read as a pass."""
    depth = 1000
    (tmp_path / "main.tf").write_text(
        'resource "aws_db_instance" "a" {\n  engine = "mysql"\n'
        f'  ca_cert_identifier = {"(" * depth}"rds-ca-2019"{")" * depth}\n}}\n'
    )
    code, out, _err = invoke("check", str(tmp_path))
    assert code != 0, out


# -- modules rdsca cannot read ------------------------------------------------------------------------------------

UNINSTALLED = {
    "main.tf": """
        variable "old_ca" {
          default = "rds-ca-2019"
        }

        module "db" {
          source  = "terraform-aws-modules/rds/aws"
          version = "~> 6.0"

          identifier         = "orders"
          ca_cert_identifier = var.old_ca
        }

        module "docs" {
          source                    = "git::https://example.com/docdb.git"
          ca_certificate_identifier = "rds-ca-rsa2048-g1"
          engine                    = "docdb"
        }

        module "typo" {
          source = "cloudposse/rds/aws"
          ca     = "rds-ca-rsa2048-g2"
        }
    """,
}


def test_a_retired_ca_passed_to_a_module_that_is_not_installed_is_a_finding(tmp_path: Path) -> None:
    """Before `terraform init` (CI, pre-commit) a registry or git module is not on disk: rdsca warned and passed,
    exit 0, even with rds-ca-2019 passed to it. The CA passed is a finding at the argument, whatever its name."""
    write_tf(tmp_path, UNINSTALLED)
    code, document = run_json("check", tmp_path)
    assert code == 1
    found = {(d["policy"], d["address"], d["level"]) for d in document["diagnostics"]}
    assert ("rds-ca-retired", "module.db", "mandatory") in found
    assert ("rds-ca-retired", "module.typo", "mandatory") in found  # an unknown CA (a typo) is refused by AWS too
    assert not any(p == "rds-ca-retired" and a == "module.docs" for p, a, _ in found)  # a current CA passes
    # Every module not read is listed, and is a finding of its own (advisory unless configured).
    assert [m["address"] for m in document["unchecked_modules"]] == ["module.db", "module.docs", "module.typo"]
    assert {a for p, a, level in found if p == "rds-ca-unchecked" and level == "advisory"} == {
        "module.db",
        "module.docs",
        "module.typo",
    }
    # SARIF points at the argument's line.
    result = run("check", tmp_path, "--format", "sarif")
    located = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in json.loads(result.stdout)["runs"][0]["results"]
    }
    assert ("rds-ca-retired", 10) in located and ("rds-ca-unchecked", 5) in located


def test_unchecked_modules_can_be_made_mandatory(tmp_path: Path) -> None:
    files = {"main.tf": 'module "db" {\n  source = "terraform-aws-modules/rds/aws"\n  engine = "mysql"\n}\n'}
    write_tf(tmp_path, files)
    assert run("check", tmp_path).exit_code == 0  # advisory by default: nothing it passes is wrong
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"rds-ca-unchecked": "mandatory"}))
    result = run("check", tmp_path, "--policy-pack-config", config)
    assert result.exit_code == 1
    assert "[mandatory]  rds-ca-unchecked  (module.db)" in result.stdout


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_s_own_module_manifest_is_followed(tmp_path: Path) -> None:
    """`terraform get` (the module half of `terraform init`; the provider half would need a download) writes the real
    .terraform/modules/modules.json for a local module: rdsca reads the module through it and judges its database."""
    write_tf(
        tmp_path,
        {
            "main.tf": 'module "local" {\n  source = "./db"\n  ca = "rds-ca-2019"\n}\n',
            "db/main.tf": (
                'variable "ca" {}\n'
                'resource "aws_db_instance" "a" {\n  engine = "mysql"\n  ca_cert_identifier = var.ca\n}\n'
            ),
        },
    )
    init = subprocess.run(
        ["terraform", "get", "-no-color"], cwd=tmp_path, capture_output=True,
        text=True, check=False, env={**os.environ, "TF_IN_AUTOMATION": "1"},
    )
    assert init.returncode == 0, init.stderr
    assert (tmp_path / ".terraform" / "modules" / "modules.json").is_file()
    code, document = run_json("check", tmp_path)
    assert code == 1
    assert ("rds-ca-retired", "module.local.aws_db_instance.a") in {
        (d["policy"], d["address"]) for d in document["diagnostics"]
    }
    assert document["unchecked_modules"] == []


DOCDB_BY_COUNT = """
variable "enabled" {
  default = true
}

resource "aws_docdb_cluster" "default" {
  count              = var.enabled ? 1 : 0
  cluster_identifier = "docs"
  engine             = "docdb"
  %s
}

resource "aws_docdb_cluster_instance" "default" {
  count              = var.enabled ? 2 : 0
  identifier         = "docs-${count.index}"
  cluster_identifier = %s
  instance_class     = "db.r5.large"
  ca_cert_identifier = "rds-ca-ecc384-g1"
}
"""


@pytest.mark.parametrize(
    "reference",
    [
        'join("", aws_docdb_cluster.default[*].id)',
        "one(aws_docdb_cluster.default[*].id)",
        "element(aws_docdb_cluster.default.*.id, 0)",
        "aws_docdb_cluster.default[0].id",
    ],
)
def test_a_docdb_instance_follows_its_cluster_through_functions_and_splats(tmp_path: Path, reference: str) -> None:
    """A DocumentDB instance whose cluster_identifier is `join("", aws_docdb_cluster.default[*].id)` (the public
    cloudposse module's pattern) was `ok` on ECC384 while its cluster runs 3.6, which refuses it."""
    write_tf(tmp_path, {"main.tf": DOCDB_BY_COUNT % ('engine_version = "3.6.0"', reference)})
    code, document = run_json("check", tmp_path)
    statuses = {r["address"]: r["ca_status"] for r in document["resources"] if r["type"] == "aws_docdb_cluster_instance"}
    assert statuses == {"aws_docdb_cluster_instance.default[0]": "refused", "aws_docdb_cluster_instance.default[1]": "refused"}
    assert code == 1


def test_a_docdb_instance_whose_cluster_version_is_not_known_is_never_ok(tmp_path: Path) -> None:
    write_tf(tmp_path, {"main.tf": DOCDB_BY_COUNT % ("", 'join("", aws_docdb_cluster.default[*].id)')})
    code, document = run_json("check", tmp_path)
    statuses = {r["ca_status"] for r in document["resources"] if r["type"] == "aws_docdb_cluster_instance"}
    assert statuses == {"cannot decide"}
    assert code == 0  # advisory, as on the Pulumi side: rdsca cannot say it is wrong either


AURORA_WITH_A_CA = {
    "main.tf": """
        resource "aws_rds_cluster" "aurora" {
          cluster_identifier        = "orders"
          engine                    = "aurora-postgresql"
          engine_version            = "16.4"
          ca_certificate_identifier = "%s"
        }

        resource "aws_rds_cluster_instance" "one" {
          identifier         = "orders-1"
          cluster_identifier = aws_rds_cluster.aurora.id
          engine             = "aurora-postgresql"
          ca_cert_identifier = "rds-ca-rsa2048-g1"
        }
    """,
}


@pytest.mark.parametrize("ca", ["rds-ca-2019", "rds-ca-rsa2048-g1"])
def test_a_ca_on_an_aurora_cluster_is_one_finding_and_never_fixed_there(tmp_path: Path, ca: str) -> None:
    """AWS takes ca_certificate_identifier only on Multi-AZ DB clusters. On an Aurora cluster it was judged as a
    CA (and --fix wrote a CA and apply_immediately onto it): it is one finding naming the cluster's instances."""
    files = {"main.tf": AURORA_WITH_A_CA["main.tf"] % ca}
    write_tf(tmp_path, files)
    code, document = run_json("check", tmp_path)
    assert code == 1
    on_cluster = [d for d in document["diagnostics"] if d["address"] == "aws_rds_cluster.aurora"]
    assert [d["policy"] for d in on_cluster] == ["rds-ca-engine-support"]
    assert "Aurora cluster takes no CA" in on_cluster[0]["message"]
    assert on_cluster[0]["message"].endswith("Its instances here: aws_rds_cluster_instance.one.")
    before = (tmp_path / "main.tf").read_text()
    result = run("check", tmp_path, "--fix")
    assert (tmp_path / "main.tf").read_text() == before
    assert "remove ca_certificate_identifier from this Aurora cluster" in result.stdout + result.stderr


def test_lifecycle_ignore_changes_on_the_ca_is_reported(tmp_path: Path) -> None:
    """The CA in the file is not what a plan will change for a database that exists: say so."""
    write_tf(
        tmp_path,
        {
            "main.tf": """
                resource "aws_db_instance" "a" {
                  engine             = "mysql"
                  ca_cert_identifier = "rds-ca-rsa2048-g1"
                  lifecycle {
                    ignore_changes = [
                      engine_version,
                      ca_cert_identifier,
                    ]
                  }
                }
            """
        },
    )
    code, document = run_json("check", tmp_path)
    assert code == 0
    assert any("aws_db_instance.a ignores changes to ca_cert_identifier" in w for w in document["warnings"])


def test_the_region_comes_from_the_environment_when_no_provider_sets_one(tmp_path: Path) -> None:
    """As the AWS provider does: AWS_REGION, then AWS_DEFAULT_REGION."""
    write_tf(tmp_path, {"main.tf": 'resource "aws_db_instance" "a" {\n  engine = "mysql"\n}\n'})
    for env, expected in (({"AWS_DEFAULT_REGION": "eu-west-3"}, "eu-west-3"), ({"AWS_REGION": "ap-south-2", "AWS_DEFAULT_REGION": "eu-west-3"}, "ap-south-2")):
        report = check(tmp_path, "terraform", environ=env)
        assert [known for known in (r.region for r in report.resources)] == [expected]


@pytest.mark.parametrize(
    "expression",
    [
        'chomp("rds-ca-2019\\n")',
        'sensitive("rds-ca-2019")',
        'nonsensitive(sensitive("rds-ca-2019"))',
        'base64decode("cmRzLWNhLTIwMTk=")',
        'trimprefix("x-rds-ca-2019", "x-")',
        'one(["rds-ca-2019"])',
        'trimspace(format("%12s", "rds-ca-2019"))',
        'jsondecode("{\\"ca\\": \\"rds-ca-2019\\"}").ca',
        'replace("rds-ca-rsa2048-g1", "/rsa2048-g1$/", "2019")',
        'flatten([[["rds-ca-2019"]]])[0]',
    ],
)
def test_a_retired_ca_built_by_a_function_or_construct_is_not_a_pass(tmp_path: Path, expression: str) -> None:
    """Each of these turned a literal rds-ca-2019 into "(known after apply)" (or a current CA), and exit 0."""
    write_tf(
        tmp_path,
        {
            "main.tf": 'locals {\n  l = [{ ca = "rds-ca-2019" }]\n}\n'
            f'resource "aws_db_instance" "a" {{\n  engine = "mysql"\n  ca_cert_identifier = {expression}\n}}\n'
        },
    )
    code, document = run_json("check", tmp_path)
    assert code == 1, document["resources"]
    assert ("rds-ca-retired", "aws_db_instance.a") in {(d["policy"], d["address"]) for d in document["diagnostics"]}


@pytest.mark.parametrize(
    "expression",
    [
        '"%{ if true }rds-ca-2019%{ else }rds-ca-rsa2048-g1%{ endif }"',  # a template directive rdsca does not run
        "local.l[*].ca[0]",  # Terraform itself refuses it (an index on a string)
        'reverse_words("rds-ca-2019")',  # no such function
        "local.missing",
        "local.a",  # a cycle
    ],
)
def test_a_ca_rdsca_cannot_work_out_is_undecided_never_passed(tmp_path: Path, expression: str) -> None:
    """A value from literals, variables and locals that rdsca fails to evaluate was "(known after apply)": a pass.
    Terraform knows it before apply (or refuses it), so it is "cannot decide", naming the expression."""
    write_tf(
        tmp_path,
        {
            "main.tf": 'locals {\n  l = [{ ca = "rds-ca-2019" }]\n  a = local.b\n  b = local.a\n}\n'
            f'resource "aws_db_instance" "a" {{\n  engine = "mysql"\n  ca_cert_identifier = {expression}\n}}\n'
        },
    )
    code, document = run_json("check", tmp_path)
    undecided = [d for d in document["diagnostics"] if d["policy"] == "rds-ca-undecided"]
    assert [d["address"] for d in undecided] == ["aws_db_instance.a"]
    assert document["status"] == "undecided" and code == 0  # advisory unless configured
    assert "rdsca cannot tell which CA ca_cert_identifier names" in undecided[0]["message"]
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"rds-ca-undecided": "mandatory"}))
    assert run("check", tmp_path, "--policy-pack-config", config).exit_code == 1


def test_a_plan_that_marks_the_whole_object_sensitive_is_judged_and_never_printed(tmp_path: Path) -> None:
    """`after_sensitive: true` made the CA "not known until apply" (a pass): the value is in the plan."""
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": "aws_db_instance.hidden",
                "mode": "managed",
                "type": "aws_db_instance",
                "name": "hidden",
                "change": {
                    "actions": ["create"],
                    "after": {"engine": "mysql", "ca_cert_identifier": "rds-ca-2019", "identifier": "hidden"},
                    "after_unknown": {},
                    "after_sensitive": True,
                },
            }
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    for fmt in ("table", "json", "sarif"):
        result = run("check", path, "--format", fmt)
        assert result.exit_code == 1
        assert "rds-ca-2019" not in result.output


def test_a_plan_change_whose_after_is_not_an_object_is_a_malformed_plan(tmp_path: Path) -> None:
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {"address": "aws_db_instance.a", "mode": "managed", "type": "aws_db_instance", "name": "a",
             "change": {"actions": ["create"], "after": "rds-ca-2019"}}
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    line = one_error_line(*invoke("check", path))
    assert "its change's after is str, not an object" in line


def _manifest(root: Path, modules: object) -> None:
    (root / ".terraform" / "modules").mkdir(parents=True)
    (root / ".terraform" / "modules" / "modules.json").write_text(json.dumps(modules))


def test_a_manifest_that_maps_a_local_module_elsewhere_loses_to_the_source(tmp_path: Path) -> None:
    """modules.json mapping module.db to another directory than its `source` was followed (and --fix edited a file
    there): Terraform refuses a stale manifest; the configuration's source wins, with a warning."""
    root, elsewhere = tmp_path / "config", tmp_path / "elsewhere"
    write_tf(root, {"main.tf": 'module "db" {\n  source = "./db"\n}\n', "db/main.tf": 'resource "aws_db_instance" "a" {\n  engine = "mysql"\n  ca_cert_identifier = "rds-ca-rsa2048-g1"\n}\n'})
    write_tf(elsewhere, {"main.tf": 'resource "aws_db_instance" "a" {\n  engine = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n'})
    _manifest(root, {"Modules": [{"Key": "", "Source": "", "Dir": "."}, {"Key": "db", "Source": "./db", "Dir": "../elsewhere"}]})
    code, document = run_json("check", root)
    assert code == 0  # the module at ./db was read, not ../elsewhere
    assert any("maps module.db to" in w for w in document["warnings"])
    before = (elsewhere / "main.tf").read_text()
    run("check", root, "--fix")
    assert (elsewhere / "main.tf").read_text() == before


def test_fix_never_edits_a_file_outside_the_configuration_directory(tmp_path: Path) -> None:
    root, shared = tmp_path / "envs" / "prod", tmp_path / "shared"
    write_tf(root, {"main.tf": 'module "db" {\n  source = "../../shared"\n}\n'})
    write_tf(shared, {"main.tf": 'resource "aws_db_instance" "a" {\n  engine = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n'})
    before = (shared / "main.tf").read_text()
    result = run("check", root, "--fix")
    assert result.exit_code == 1  # still retired: fixed by hand, not here
    assert (shared / "main.tf").read_text() == before


@pytest.mark.parametrize("document", ["just text", ["a", "list"], {"Modules": "x"}, {"Modules": [{"Key": 1, "Dir": []}]}])
def test_a_manifest_of_the_wrong_shape_is_one_clear_line(tmp_path: Path, document: object) -> None:
    write_tf(tmp_path, {"main.tf": 'resource "aws_db_instance" "a" {\n  engine = "mysql"\n}\n'})
    _manifest(tmp_path, document)
    line = one_error_line(*invoke("check", tmp_path))
    assert "not a Terraform module manifest" in line and "attribute" not in line


def test_variables_as_terraform_plan_takes_them(tmp_path: Path) -> None:
    """A required variable with no value was "known after apply" (a pass); --var for an undeclared variable was
    accepted; --var-file naming a FIFO said "no such variable file"."""
    write_tf(tmp_path, {"main.tf": 'variable "ca" {}\nresource "aws_db_instance" "a" {\n  engine = "mysql"\n  ca_cert_identifier = var.ca\n}\n'})
    code, document = run_json("check", tmp_path)
    assert (code, document["status"]) == (0, "undecided")
    assert "var.ca has no default and is not set" in next(d["message"] for d in document["diagnostics"] if d["policy"] == "rds-ca-undecided")
    assert run("check", tmp_path, "--var", "ca=rds-ca-2019").exit_code == 1
    line = one_error_line(*invoke("check", tmp_path, "--var", "cert=rds-ca-2019"))
    assert "--var cert: the root module declares no variable 'cert'" in line
    fifo = tmp_path / "vars.tfvars"
    os.mkfifo(fifo)
    line = one_error_line(*invoke("check", tmp_path, "--var-file", fifo))
    assert "not a regular file" in line


def test_override_files_are_merged_as_terraform_merges_them(tmp_path: Path) -> None:
    """`*_override.tf` setting rds-ca-2019 was only warned about: its attributes replace the block's."""
    write_tf(
        tmp_path,
        {
            "main.tf": 'resource "aws_db_instance" "a" {\n  engine             = "mysql"\n  ca_cert_identifier = "rds-ca-rsa2048-g1"\n}\n',
            "db_override.tf": 'resource "aws_db_instance" "a" {\n  ca_cert_identifier = "rds-ca-2019"\n}\n',
        },
    )
    code, document = run_json("check", tmp_path)
    assert code == 1
    assert ("rds-ca-retired", "aws_db_instance.a") in {(d["policy"], d["address"]) for d in document["diagnostics"]}
    run("check", tmp_path, "--fix")
    assert '"rds-ca-rsa2048-g1"' in (tmp_path / "db_override.tf").read_text()  # fixed where the value lives
    assert run("check", tmp_path).exit_code == 0
    (tmp_path / "other_override.tf").write_text('resource "aws_db_instance" "ghost" {\n  engine = "mysql"\n}\n')
    assert "override of resource.aws_db_instance.ghost, which is not declared" in one_error_line(*invoke("check", tmp_path))


def test_plan_locations_follow_the_file_in_one_pass(tmp_path: Path) -> None:
    """Each change's location is found searching on from the last one (linear time), and still found out of order."""
    from rdsca.terraform.plan import load_plan

    changes = [
        {"address": f"aws_db_instance.d{i}", "mode": "managed", "type": "aws_db_instance", "name": f"d{i}",
         "change": {"actions": ["create"], "after": {"engine": "mysql"}}}
        for i in (1, 10, 2)
    ]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"format_version": "1.2", "resource_changes": changes}, indent=1))
    resources, _ = load_plan(path)
    text = path.read_bytes()
    for resource in resources:
        assert resource.location is not None
        found = text[resource.location.start : resource.location.end].decode()
        assert found.endswith(f'"{resource.address}"')


def test_huge_counts_and_ranges_are_one_line_errors(tmp_path: Path) -> None:
    write_tf(tmp_path, {"main.tf": 'resource "aws_db_instance" "a" {\n  count = 100000000\n  engine = "mysql"\n}\n'})
    assert "rdsca checks at most 100000 instances" in one_error_line(*invoke("check", tmp_path))
    write_tf(tmp_path, {"main.tf": 'resource "aws_db_instance" "a" {\n  count = length(range(5000))\n  engine = "mysql"\n}\n'})
    code, _out, _err = invoke("check", tmp_path)
    assert code == 0  # range() refuses more than 1024 values, as Terraform: count is then not known statically


def test_thousands_of_nested_blocks_are_one_line(tmp_path: Path) -> None:
    depth = 5000
    body = "".join(f"b{i} {{\n" for i in range(depth)) + "}\n" * depth
    write_tf(tmp_path, {"main.tf": f'resource "aws_db_instance" "a" {{\n  engine = "mysql"\n{body}}}\n'})
    assert "blocks nested more than 100 deep" in one_error_line(*invoke("check", tmp_path))


def test_a_module_source_that_is_a_symlink_loop_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "main.tf").write_text('module "m" {\n  source = "./loop"\n}\n')
    assert "a symbolic link loop" in one_error_line(*invoke("check", tmp_path))


_MUTUAL = {
    "main.tf": """
        module "a" {
          source = "./modules/a"
          peer   = module.b.name
        }
        module "b" {
          source = "./modules/b"
          ca     = module.a.ca
        }
    """,
    "modules/a/main.tf": """
        variable "peer" { type = string }
        output "ca" { value = "rds-ca-2019" }
        output "peer_seen" { value = var.peer }
    """,
    "modules/b/main.tf": """
        variable "ca" { type = string }
        resource "aws_db_instance" "db" {
          engine             = "postgres"
          ca_cert_identifier = var.ca
        }
        output "name" { value = "b" }
    """,
}


def test_modules_that_take_each_other_s_outputs_are_read(tmp_path: Path) -> None:
    """Issue 23.2: B takes ``module.a.ca`` while A takes ``module.b.name`` (legal: Terraform's graph is by value, not
    by module, as the Aurora DSQL peering examples use it) ended in "an expression nested too deeply" (exit 2)."""
    code, report = run_json("check", write_tf(tmp_path, _MUTUAL))
    assert code == 1
    (finding,) = report["diagnostics"]
    assert (finding["address"], finding["policy"]) == ("module.b.aws_db_instance.db", "rds-ca-retired")


def test_a_true_cycle_of_values_through_modules_is_undecided(tmp_path: Path) -> None:
    """A value that needs itself (A's output is B's input is A's output) is a cycle Terraform refuses: "cannot
    decide", never a pass and never a crash."""
    files = dict(_MUTUAL)
    files["modules/a/main.tf"] = """
        variable "peer" { type = string }
        output "ca" { value = var.peer }
    """
    files["modules/b/main.tf"] = _MUTUAL["modules/b/main.tf"].replace('value = "b"', "value = var.ca")
    code, report = run_json("check", write_tf(tmp_path, files))
    assert (code, report["status"]) == (0, "undecided"), report  # advisory by default
    (finding,) = report["diagnostics"]
    assert finding["policy"] == "rds-ca-undecided"
    assert "depends on itself (a cycle through module outputs" in finding["message"]


def test_a_reference_to_an_undeclared_module_is_undecided_not_a_crash(tmp_path: Path) -> None:
    """A public example that lost the file declaring ``module "this"`` still passed ``module.this.context`` on: rdsca
    stopped with "internal error: KeyError" (Terraform refuses the reference; rdsca cannot decide what it feeds)."""
    files = {
        "main.tf": """
            resource "aws_db_instance" "db" {
              engine             = "postgres"
              ca_cert_identifier = module.labels.ca
            }
        """,
    }
    code, report = run_json("check", write_tf(tmp_path, files))
    assert (code, report["status"]) == (0, "undecided"), report
    (finding,) = report["diagnostics"]
    assert finding["policy"] == "rds-ca-undecided" and "module.labels is not declared in this module" in finding["message"]


def test_a_docdb_instance_changed_without_a_restart_is_restart_pending(tmp_path: Path) -> None:
    """Issue 25.4: the Terraform DocumentDB mapping did not read certificate_rotation_restart, and `false` (the
    database keeps its old certificate until a restart) read as "ok"."""
    files = {"main.tf": """
        resource "aws_docdb_cluster" "docs" {
          engine_version = "5.0.0"
        }
        resource "aws_docdb_cluster_instance" "docs_0" {
          identifier                   = "docs-0"
          cluster_identifier           = aws_docdb_cluster.docs.id
          ca_cert_identifier           = "rds-ca-rsa2048-g1"
          certificate_rotation_restart = false
        }
    """}
    code, report = run_json("check", write_tf(tmp_path, files))
    (finding,) = [d for d in report["diagnostics"] if d["policy"] == "rds-ca-restart-pending"]
    assert finding["level"] == "advisory" and code == 0
    assert "restart-pending: with certificate_rotation_restart = false" in finding["message"]
    assert finding["message"].endswith("aws docdb reboot-db-instance --db-instance-identifier docs-0.")
