"""Reading configuration directories: modules, variables and their precedence, count/for_each, regions, JSON syntax,
installed and missing registry modules. Each test states the exact resources and values it expects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdsca.resources import Unknown
from rdsca.terraform.loader import load_directory
from rdsca.terraform.model import ConfigError
from tests.terraform.conftest import write_tf


def cas(directory: Path, **kwargs: object) -> dict[str, object]:
    config = load_directory(directory, **kwargs)  # type: ignore[arg-type]
    return {r.address: r.values.get("ca_cert_identifier") for r in config.resources}


def test_count_for_each_and_a_local_module(tmp_path: Path) -> None:
    write_tf(
        tmp_path,
        {
            "main.tf": """
            locals {
              fleet = { billing = "mysql", reports = "postgres" }
            }
            resource "aws_db_instance" "fleet" {
              for_each           = local.fleet
              engine             = each.value
              ca_cert_identifier = each.key == "billing" ? "rds-ca-2019" : "rds-ca-rsa4096-g1"
            }
            resource "aws_db_instance" "counted" {
              count              = 2
              identifier         = "db-${count.index}"
              ca_cert_identifier = "rds-ca-rsa2048-g1"
            }
            resource "aws_db_instance" "none" {
              count              = 0
              ca_cert_identifier = "rds-ca-2019"
            }
            module "aurora" {
              source   = "./modules/aurora"
              for_each = toset(["a", "b"])
              ca       = "rds-ca-2015"
            }
            """,
            "modules/aurora/main.tf": """
            variable "ca" { type = string }
            resource "aws_rds_cluster_instance" "member" {
              cluster_identifier = "x"
              engine             = "aurora-postgresql"
              ca_cert_identifier = var.ca
            }
            """,
        },
    )
    assert cas(tmp_path) == {
        'aws_db_instance.fleet["billing"]': "rds-ca-2019",
        'aws_db_instance.fleet["reports"]': "rds-ca-rsa4096-g1",
        "aws_db_instance.counted[0]": "rds-ca-rsa2048-g1",
        "aws_db_instance.counted[1]": "rds-ca-rsa2048-g1",
        'module.aurora["a"].aws_rds_cluster_instance.member': "rds-ca-2015",
        'module.aurora["b"].aws_rds_cluster_instance.member': "rds-ca-2015",
    }


def test_variable_precedence(tmp_path: Path) -> None:
    write_tf(
        tmp_path,
        {
            "main.tf": """
            variable "a" { default = "from-default" }
            variable "b" { default = "from-default" }
            variable "c" { default = "from-default" }
            variable "d" { default = "from-default" }
            variable "e" { default = "from-default" }
            variable "f" { default = "from-default" }
            resource "aws_db_instance" "x" {
              ca_cert_identifier = join(",", [var.a, var.b, var.c, var.d, var.e, var.f])
            }
            """,
            "terraform.tfvars": 'b = "tfvars"\nc = "tfvars"\nd = "tfvars"\ne = "tfvars"\nf = "tfvars"\n',
            "z.auto.tfvars.json": json.dumps({"c": "auto", "d": "auto", "e": "auto", "f": "auto"}),
            "extra.tfvars": 'd = "var-file"\ne = "var-file"\nf = "var-file"\n',
        },
    )
    environ = {"TF_VAR_a": "env", "TF_VAR_b": "env"}
    assignments = [("file", str(tmp_path / "extra.tfvars")), ("var", "e=cli"), ("var", "f=cli")]
    config = load_directory(tmp_path, assignments, environ)
    assert config.resources[0].values["ca_cert_identifier"] == "env,tfvars,auto,var-file,cli,cli"


def test_a_variable_without_a_value_is_unknown_and_says_so(tmp_path: Path) -> None:
    write_tf(
        tmp_path, {"main.tf": 'variable "ca" {}\nresource "aws_db_instance" "x" { ca_cert_identifier = var.ca }\n'}
    )
    value = load_directory(tmp_path, [], {}).resources[0].values["ca_cert_identifier"]
    assert value == Unknown(
        reason="var.ca has no default and is not set by -var, a tfvars file or TF_VAR_ca", undecided=True
    )


def test_unknown_count_is_checked_once_and_warned(tmp_path: Path) -> None:
    write_tf(
        tmp_path,
        {
            "main.tf": """
            resource "aws_db_instance" "x" {
              count              = length(data.aws_availability_zones.all.names)
              ca_cert_identifier = "rds-ca-2019"
            }
            """
        },
    )
    config = load_directory(tmp_path, [], {})
    assert [r.address for r in config.resources] == ["aws_db_instance.x[*]"]
    assert config.warnings == [
        f"{tmp_path / 'main.tf'}:2: count of aws_db_instance.x is not known statically (data.aws_availability_zones.all is a data source, read by "
        "Terraform during plan): checked once, with count.index unknown"
    ]


def test_regions_from_providers_aliases_and_the_resource(tmp_path: Path) -> None:
    write_tf(
        tmp_path,
        {
            "main.tf": """
            provider "aws" { region = "eu-west-1" }
            provider "aws" {
              alias  = "west"
              region = "us-west-2"
            }
            resource "aws_db_instance" "default" {}
            resource "aws_db_instance" "aliased" { provider = aws.west }
            resource "aws_db_instance" "own" { region = "ap-south-2" }
            module "child" {
              source    = "./child"
              providers = { aws = aws.west }
            }
            """,
            "child/main.tf": 'resource "aws_db_instance" "inner" {}\n',
        },
    )
    config = load_directory(tmp_path, [], {})
    assert {r.address: r.region for r in config.resources} == {
        "aws_db_instance.default": "eu-west-1",
        "aws_db_instance.aliased": "us-west-2",
        "aws_db_instance.own": "ap-south-2",
        "module.child.aws_db_instance.inner": "us-west-2",
    }


def test_docdb_instance_takes_its_cluster_engine_version_and_a_ca_from_another_resource(tmp_path: Path) -> None:
    write_tf(
        tmp_path,
        {
            "main.tf": """
            resource "aws_docdb_cluster" "docs" {
              cluster_identifier = "docs"
              engine_version     = "3.6.0"
            }
            resource "aws_docdb_cluster_instance" "by_reference" {
              cluster_identifier = aws_docdb_cluster.docs.id
              ca_cert_identifier = aws_db_instance.primary.ca_cert_identifier
            }
            resource "aws_docdb_cluster_instance" "by_name" {
              cluster_identifier = "docs"
            }
            resource "aws_db_instance" "primary" {
              ca_cert_identifier = "rds-ca-ecc384-g1"
            }
            """
        },
    )
    config = load_directory(tmp_path, [], {})
    by_address = {r.address: r for r in config.resources}
    assert by_address["aws_docdb_cluster_instance.by_reference"].cluster_engine_version == "3.6.0"
    assert by_address["aws_docdb_cluster_instance.by_name"].cluster_engine_version == "3.6.0"
    assert by_address["aws_docdb_cluster_instance.by_reference"].values["ca_cert_identifier"] == "rds-ca-ecc384-g1"


def test_json_syntax_with_positions(tmp_path: Path) -> None:
    document = {
        "variable": {"ca": {"default": "rds-ca-2019"}},
        "resource": {"aws_db_instance": {"legacy": {"engine": "mysql", "ca_cert_identifier": "${var.ca}"}}},
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(document, indent=2))
    config = load_directory(tmp_path, [], {})
    [resource] = config.resources
    assert resource.values == {"engine": "mysql", "ca_cert_identifier": "rds-ca-2019"}
    assert resource.where("ca_cert_identifier").line == 11  # type: ignore[union-attr]


def test_registry_modules_installed_are_read_but_never_editable_and_missing_ones_warned(tmp_path: Path) -> None:
    write_tf(
        tmp_path,
        {
            "main.tf": """
            module "db" {
              source  = "terraform-aws-modules/rds/aws"
              version = "6.1.0"
              ca      = "rds-ca-2019"
            }
            module "other" {
              source = "git::https://example.com/mods.git"
            }
            """,
            ".terraform/modules/db/main.tf": """
            variable "ca" {}
            resource "aws_db_instance" "this" { ca_cert_identifier = var.ca }
            """,
            ".terraform/modules/modules.json": json.dumps(
                {
                    "Modules": [
                        {"Key": "", "Source": "", "Dir": "."},
                        {
                            "Key": "db",
                            "Source": "registry.terraform.io/terraform-aws-modules/rds/aws",
                            "Version": "6.1.0",
                            "Dir": ".terraform/modules/db",
                        },
                    ]
                }
            ),
        },
    )
    config = load_directory(tmp_path, [], {})
    [resource] = config.resources
    assert (resource.address, resource.values["ca_cert_identifier"], resource.editable) == (
        "module.db.aws_db_instance.this",
        "rds-ca-2019",
        False,
    )
    assert config.warnings == [
        f"{tmp_path / 'main.tf'}:6: module.other (source 'git::https://example.com/mods.git') not checked: it is not "
        "installed; run terraform init so that .terraform/modules holds it"
    ]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"main.tf": 'resource "aws_db_instance" "x" {\n  ca = "unterminated\n}\n'},
            'main.tf:2: syntax error: missing the closing " for what starts on this line',
        ),
        (
            {"main.tf": 'resource "aws_db_instance" "x" {\n  a = 1\n  a = 2\n}\n'},
            "main.tf:3: attribute 'a' is set twice (first on line 2)",
        ),
        ({"main.tf.json": '{"resource": [1]}'}, "main.tf.json:1: resource must be a JSON object"),
        ({"main.tf.json": '{"resource": '}, "main.tf.json:1: invalid JSON: unexpected end of input"),
        ({"main.tf": 'module "m" { source = "./nowhere" }\n'}, "main.tf:1: module m: no directory './nowhere'"),
        (
            {"main.tf": "x = 1\n", "terraform.tfvars": "a = var.b\n"},
            "terraform.tfvars:1: the value of a must be a literal: var.b is not declared",
        ),
        (
            {"main.tf": "x = 1\n", "terraform.tfvars": 'resource "a" "b" {}\n'},
            "terraform.tfvars:1: a variable file holds only NAME = VALUE lines, not blocks",
        ),
        ({"README.md": "nothing\n"}, "no Terraform configuration files (*.tf, *.tf.json)"),
    ],
)
def test_malformed_configurations_fail_with_one_line(tmp_path: Path, files: dict[str, str], message: str) -> None:
    write_tf(tmp_path, files)
    with pytest.raises(ConfigError) as caught:
        load_directory(tmp_path, [], {})
    assert str(caught.value).endswith(message)
    assert "\n" not in str(caught.value)


def test_a_module_manifest_nested_too_deeply_is_refused_in_one_line(tmp_path: Path) -> None:
    """Found by the fuzz harness: json.loads raised RecursionError through the loader."""
    write_tf(tmp_path, {"main.tf": 'resource "aws_db_instance" "x" {}\n'})
    manifest = tmp_path / ".terraform" / "modules" / "modules.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(ConfigError, match=r"modules\.json: not a Terraform module manifest \(nested too deeply\)"):
        load_directory(tmp_path)
