"""The rules over Terraform resources: one database view per resource, the rules' messages in Terraform's own words
(addresses, ``name = "value"``, "outside Terraform"), Terraform's null as unset, the stack rule over the planned
state, and the policy config applied as for the pack."""

from __future__ import annotations

from typing import Any

import pytest

from rdsca.resources import Kind, Unknown
from rdsca.terraform.judge import judge, settings, view
from rdsca.terraform.model import Resource

PULUMI_WORDING = ("aws.rds.", "aws_native.", "outside Pulumi", "caCert", "applyImmediately", "=True", "Pulumi")


def resource(address: str, values: dict[str, Any], **extra: Any) -> Resource:
    type_name, name = address.rsplit(".", 2)[-2], address.rsplit(".", 1)[-1]
    return Resource(address, type_name, name.split("[")[0], values, **extra)


def messages(*resources: Resource, config: dict[str, tuple[str, dict[str, Any]]] | None = None) -> dict[str, str]:
    outcome = judge(list(resources), config or settings(None)[0])
    return {f"{d['policy']} {d['address']}": d["message"] for d in outcome.diagnostics}


def test_a_module_instance_is_named_by_its_address_and_fixed_in_terraform_syntax() -> None:
    db = resource(
        "module.db.aws_db_instance.this[0]",
        {"identifier": "orders", "engine": "postgres", "ca_cert_identifier": "rds-ca-2019"},
    )
    assert messages(db) == {
        "rds-ca-retired module.db.aws_db_instance.this[0]": (
            "module.db.aws_db_instance.this[0]: rds-ca-2019 is retired (expired on 2024-08-22); AWS answers "
            'CertificateNotFound and deployments naming it fail. Set ca_cert_identifier = "rds-ca-rsa2048-g1" and '
            "apply_immediately = true on module.db.aws_db_instance.this[0] (outside Terraform: aws rds "
            "modify-db-instance --db-instance-identifier orders --ca-certificate-identifier rds-ca-rsa2048-g1 "
            "--apply-immediately)."
        )
    }


def test_the_stack_rule_reads_the_planned_state_and_says_it_in_terraform_syntax() -> None:
    db = resource(
        "aws_db_instance.orders",
        {"engine": "postgres", "identifier": "orders-db"},
        state={"engine": "postgres", "identifier": "orders-db", "ca_cert_identifier": "rds-ca-2019"},
    )
    found = messages(db)
    assert found["rds-ca-stack-state aws_db_instance.orders"] == (
        'aws_db_instance.orders: its state after this update is ca_cert_identifier = "rds-ca-2019": rds-ca-2019 is '
        "retired (expired on 2024-08-22); AWS answers CertificateNotFound and deployments naming it fail. "
        'Set ca_cert_identifier = "rds-ca-rsa2048-g1" and apply_immediately = true on aws_db_instance.orders '
        "(outside Terraform: aws rds modify-db-instance --db-instance-identifier orders-db "
        "--ca-certificate-identifier rds-ca-rsa2048-g1 --apply-immediately)."
    )
    assert set(found) == {"rds-ca-stack-state aws_db_instance.orders", "rds-ca-unset aws_db_instance.orders"}


def test_every_message_is_in_terraform_words() -> None:
    config = settings(None)[0]
    config = {**config, "rds-ca-apply-immediately": ("advisory", config["rds-ca-apply-immediately"][1])}
    config["rds-ca-allowed-list"] = ("advisory", {**config["rds-ca-allowed-list"][1], "allowedCas": ["rds-ca-rsa4096-g1"]})
    found = messages(
        resource("aws_db_instance.old", {"engine": "mysql", "ca_cert_identifier": "rds-ca-2019"}),
        resource("aws_db_instance.mssql", {"engine": "sqlserver-se", "ca_cert_identifier": "rds-ca-ecc384-g1"}),
        resource("aws_db_instance.later", {"engine": "mysql", "ca_cert_identifier": "rds-ca-rsa2048-g1"}),
        resource("aws_db_instance.unset", {"engine": "mysql"}),
        resource("aws_rds_cluster.maz", {"engine": "postgres", "ca_certificate_identifier": "rds-ca-2019"}),
        resource("aws_docdb_cluster_instance.docs", {"ca_cert_identifier": "rds-ca-ecc384-g1"}),
        resource("awscc_rds_db_instance.native", {"engine": "postgres", "ca_certificate_identifier": "rds-ca-2019"}),
        resource("aws_rds_certificate.default", {"certificate_identifier": "rds-ca-2019"}),
        resource("aws_db_instance.state", {"engine": "mysql"}, state={"ca_cert_identifier": "rds-ca-2015"}),
        config=config,
    )
    rules = {key.split()[0] for key in found}
    assert rules == {
        "rds-ca-retired",
        "rds-ca-engine-support",
        "rds-ca-allowed-list",
        "rds-ca-availability-note",
        "rds-ca-unset",
        "rds-ca-apply-immediately",
        "rds-ca-stack-state",
    }
    for key, message in found.items():
        assert not [word for word in PULUMI_WORDING if word in message], (key, message)
        assert message.startswith(key.split()[1] + ": ")
    assert 'Set ca_certificate_identifier = "rds-ca-rsa2048-g1" on awscc_rds_db_instance.native' in " ".join(
        found.values()
    )  # awscc has no apply_immediately argument
    assert found["rds-ca-apply-immediately aws_db_instance.later"] == (
        "aws_db_instance.later: the CA is set without apply_immediately, so the change waits for the next "
        "maintenance window. Set apply_immediately = true to apply it now (engines that restart to rotate will "
        "restart)."
    )


def test_null_is_unset_as_in_terraform() -> None:
    db = resource("aws_db_instance.x", {"engine": "mysql", "ca_cert_identifier": None, "apply_immediately": None})
    subject = view(db)
    assert subject is not None and subject.ca_is_set is False
    assert set(messages(db)) == {"rds-ca-unset aws_db_instance.x"}


def test_an_unknown_never_blocks_and_keeps_its_reason() -> None:
    unknown = Unknown(reason="aws_db_instance.x.ca is known after apply")
    db = resource("aws_db_instance.x", {"engine": "sqlserver-se", "ca_cert_identifier": unknown})
    outcome = judge([db], settings(None)[0])
    assert outcome.diagnostics == [] and not outcome.blocked
    assert outcome.databases[0].verdict is None and outcome.databases[0].view.ca.reason == unknown.reason


@pytest.mark.parametrize(
    ("values", "rows", "found"),
    [
        ({"engine": "aurora-postgresql"}, [], set()),
        # One finding: AWS takes no CA on an Aurora cluster.
        ({"engine": "aurora-postgresql", "ca_certificate_identifier": "rds-ca-2019"}, [], {"rds-ca-engine-support"}),
        ({"engine": "postgres"}, [Kind.MULTI_AZ_CLUSTER], {"rds-ca-unset"}),
    ],
)
def test_aurora_clusters_have_no_row_but_a_ca_set_on_one_is_judged(
    values: dict[str, Any], rows: list[Kind], found: set[str]
) -> None:
    outcome = judge([resource("aws_rds_cluster.c", values)], settings(None)[0])
    assert [db.view.kind for db in outcome.databases] == rows
    assert {d["policy"] for d in outcome.diagnostics} == found


def test_a_cluster_version_and_provider_region_reach_the_view() -> None:
    db = resource(
        "aws_docdb_cluster_instance.docs",
        {"ca_cert_identifier": "rds-ca-ecc384-g1"},
        cluster_engine_version="3.6.0",
        region=Unknown(reason="var.region has no default"),
    )
    subject = view(db)
    assert subject is not None
    assert (subject.engine, subject.engine_version, subject.region) == ("docdb", "3.6.0", None)
    assert set(messages(db)) == {"rds-ca-engine-support aws_docdb_cluster_instance.docs"}
