"""What ``rdsca check`` reports, in every format: the findings that decide the exit code, a stable order, what an
offline run cannot see (components built by a provider plugin), DocumentDB engine versions found through the
cluster, targets past their expiry, and the policy section as ``pulumi preview`` prints it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest

from rdsca.runner.report import abbreviate_path, display_name

from ..conftest import FIXTURES, REPO, rdsca, write_program

LEGACY = str(REPO / "examples" / "legacy-stack")
PACK = str(REPO / "policies")


def check_json(*args: str, code: int | None = None, cwd: Path = REPO) -> dict:
    proc = rdsca("check", *args, "--format", "json", cwd=cwd)
    assert "Traceback" not in proc.stderr
    if code is not None:
        assert proc.returncode == code, proc.stderr
    return json.loads(proc.stdout)


# -- every format carries the findings that decide the exit code -----------------------------------------------------


def test_json_without_a_pack_says_why_it_exits_1() -> None:
    report = check_json(LEGACY, code=1)
    statuses = {d["name"]: (d["status"], d["finding"]) for d in report["databases"]}
    assert statuses == {
        "billing-mysql": ("retired", True),
        "catalog-0": ("retired", True),
        "erp-sqlserver": ("refused", True),
        "reports-0": ("ok", False),
        "reports-1": ("unknown", True),
    }
    findings = {(f["name"], f["rule"]): f["message"] for f in report["findings"]}
    assert findings[("erp-sqlserver", "refused")] == (
        "sqlserver-se does not support rds-ca-ecc384-g1. Use rds-ca-rsa2048-g1."
    )
    assert findings[("billing-mysql", "retired")].startswith("rds-ca-2019 is retired (expired on 2024-08-22)")
    assert set(findings) == {
        ("billing-mysql", "retired"), ("catalog-0", "retired"), ("erp-sqlserver", "refused"), ("reports-1", "unknown")
    }
    billing = next(d for d in report["databases"] if d["name"] == "billing-mysql")
    assert (billing["region"], billing["replacement"], billing["ca"]) == ("eu-west-1", "rds-ca-rsa2048-g1", "rds-ca-2019")


def test_json_with_a_pack_lists_the_mandatory_violations_as_findings() -> None:
    report = check_json(LEGACY, "--policy-pack", PACK, code=1)
    assert {(f["name"], f["rule"]) for f in report["findings"]} == {
        ("billing-mysql", "rds-ca-retired"), ("reports-1", "rds-ca-retired"), ("catalog-0", "rds-ca-retired"),
        ("erp-sqlserver", "rds-ca-engine-support"), ("billing-mysql", "rds-ca-stack-state"),
        ("reports-1", "rds-ca-stack-state"), ("catalog-0", "rds-ca-stack-state"),
    }


def test_sarif_without_a_pack_from_the_same_findings() -> None:
    proc = rdsca("check", LEGACY, "--format", "sarif")
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout)
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(document)
    (run,) = document["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["rdsca-check-retired-ca", "rdsca-check-refused-ca"]
    got = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].rsplit("::", 1)[1])
           for r in run["results"]}
    assert got == {
        ("rdsca-check-retired-ca", "billing-mysql"), ("rdsca-check-retired-ca", "catalog-0"),
        ("rdsca-check-retired-ca", "reports-1"), ("rdsca-check-refused-ca", "erp-sqlserver"),
    }
    source = (REPO / "examples" / "legacy-stack" / "__main__.py").read_text().splitlines()
    for result in run["results"]:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "examples/legacy-stack/__main__.py"
        assert source[physical["region"]["startLine"] - 1].strip().startswith("aws.")
    clean = rdsca("check", str(REPO), "--format", "sarif")
    assert clean.returncode == 0 and json.loads(clean.stdout)["runs"][0]["results"] == []


# -- a stable order whatever the registration order --------------------------------------------------------------------

FLEET = [
    'aws.rds.Instance("zeta", engine="mysql", instance_class="db.t4g.micro", ca_cert_identifier="rds-ca-2019")',
    'aws.rds.Instance("alpha", engine="mysql", instance_class="db.t4g.micro", ca_cert_identifier="rds-ca-rsa2048-g1",'
    " opts=pulumi.ResourceOptions(provider=eu))",
    'aws.rds.Instance("mid", engine="postgres", instance_class="db.t4g.micro", ca_cert_identifier="rds-ca-2019")',
    'c = aws.rds.Cluster("multi", engine="postgres", db_cluster_instance_class="db.m6gd.large",'
    ' ca_certificate_identifier="rds-ca-2019")',
    'aws.rds.Instance("beta", engine="postgres", instance_class="db.t4g.micro", ca_cert_identifier="rds-ca-2019",'
    " opts=pulumi.ResourceOptions(provider=eu))",
]


def _fleet(order: list[int]) -> str:
    lines = ["import pulumi, pulumi_aws as aws", 'eu = aws.Provider("eu", region="eu-west-1")']
    return "\n".join(lines + [FLEET[i] for i in order]) + "\n"


def test_output_order_does_not_depend_on_registration_order(tmp_path: Path) -> None:
    directory = write_program(tmp_path / "p", _fleet([0, 1, 2, 3, 4]))
    first = check_json(str(directory), code=1)
    table = rdsca("check", str(directory)).stdout
    (directory / "__main__.py").write_text(_fleet([4, 3, 2, 1, 0]))
    second = check_json(str(directory), code=1)
    assert rdsca("check", str(directory)).stdout == table
    for key in ("resources", "databases", "findings", "warnings"):
        assert first[key] == second[key], key
    # Rows by region, then kind, then name.
    rows = [line.split()[:2] for line in table.splitlines()[3:] if not line.startswith("finding:")]
    assert [r[0] for r in rows] == ["alpha", "beta", "multi", "mid", "zeta"]
    assert [d["region"] for d in first["databases"]] == ["eu-west-1", "eu-west-1", "us-west-2", "us-west-2", "us-west-2"]
    assert [f["name"] for f in first["findings"]] == ["beta", "multi", "mid", "zeta"]


# -- what an offline run cannot see ------------------------------------------------------------------------------------


def test_a_component_built_by_its_provider_plugin_is_named(tmp_path: Path) -> None:
    """Multi-language components (``awsx.ec2.Vpc``, ``eks.Cluster``) register with ``remote=True``: the engine asks
    their plugin to construct the children. Offline nothing does, so the component is named, not silently empty."""
    directory = write_program(
        tmp_path / "p",
        """
        import pulumi, pulumi_aws as aws

        class Vpc(pulumi.ComponentResource):
            # What a generated multi-language component SDK does (pulumi_awsx/ec2/vpc.py).
            def __init__(self, name, opts=None):
                super().__init__("awsx:ec2:Vpc", name, {"vpcId": None, "subnets": None}, opts, remote=True)

        network = Vpc("network")
        aws.rds.Instance("db", engine="mysql", instance_class="db.t4g.micro", ca_cert_identifier="rds-ca-2019")
        """,
    )
    proc = rdsca("check", str(directory), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["foreign_components"] == [
        {"urn": "urn:pulumi:dev::testprog::awsx:ec2:Vpc::network", "type": "awsx:ec2:Vpc", "name": "network",
         "package": "awsx"}
    ]
    assert (
        "component network (awsx:ec2:Vpc) is built by the awsx provider plugin, which an offline run does not start: "
        "the resources inside it, databases included, are neither listed nor checked"
    ) in report["warnings"]
    assert [d["name"] for d in report["databases"]] == ["db"]  # the rest of the program is still checked
    table = rdsca("check", str(directory))
    assert "warning: component network (awsx:ec2:Vpc) is built by the awsx provider plugin" in table.stderr


# -- DocumentDB: the engine version lives on the cluster ---------------------------------------------------------------

DOCDB_36 = """
import pulumi_aws as aws
cluster = aws.docdb.Cluster("docs", engine="docdb", engine_version="3.6.0", master_username="u",
                            manage_master_user_password=True, skip_final_snapshot=True)
aws.docdb.ClusterInstance("docs-0", cluster_identifier=cluster.id, instance_class="db.r6g.large",
                          ca_cert_identifier="rds-ca-ecc384-g1")
"""


def test_docdb_36_with_ecc384_is_refused_through_the_cluster_dependency(tmp_path: Path) -> None:
    report = check_json(str(write_program(tmp_path / "p", DOCDB_36)), code=1)
    (db,) = report["databases"]
    assert (db["name"], db["engine_version"], db["status"]) == ("docs-0", "3.6.0", "refused")
    assert db["reason"] == "docdb 3.6.0 does not support rds-ca-ecc384-g1. Use rds-ca-rsa2048-g1."


def test_docdb_cluster_found_by_a_literal_identifier(tmp_path: Path) -> None:
    program = DOCDB_36.replace('"u",', '"u", cluster_identifier="catalog-docs",').replace(
        "cluster_identifier=cluster.id", 'cluster_identifier="catalog-docs"'
    )
    report = check_json(str(write_program(tmp_path / "p", program)), code=1)
    assert [(d["engine_version"], d["status"]) for d in report["databases"]] == [("3.6.0", "refused")]


DOCDB_OUTSIDE = """
import pulumi_aws as aws
aws.docdb.ClusterInstance("docs-0", cluster_identifier="legacy-docs", instance_class="db.r6g.large",
                          ca_cert_identifier="rds-ca-ecc384-g1")
"""


def test_docdb_cluster_outside_the_program_cannot_be_decided(tmp_path: Path) -> None:
    report = check_json(str(write_program(tmp_path / "p", DOCDB_OUTSIDE)), code=0)
    (db,) = report["databases"]
    assert (db["status"], db["finding"]) == ("cannot decide", False)
    assert db["reason"] == (
        "cannot decide: DocumentDB 3.6 refuses rds-ca-ecc384-g1, and cluster 'legacy-docs' is not in the "
        "program or the state, so its engine version is not known"
    )
    assert f"docs-0: {db['reason']}" in report["warnings"]


def test_docdb_cluster_found_in_the_state(tmp_path: Path) -> None:
    directory = write_program(tmp_path / "p", DOCDB_OUTSIDE)
    state = tmp_path / "state.json"
    cluster_urn = "urn:pulumi:dev::testprog::aws:docdb/cluster:Cluster::legacy"
    state.write_text(json.dumps({"version": 3, "deployment": {"resources": [
        {"urn": cluster_urn, "type": "aws:docdb/cluster:Cluster", "custom": True, "id": "legacy-docs",
         "outputs": {"clusterIdentifier": "legacy-docs", "engineVersion": "3.6.0", "engine": "docdb"}},
    ]}}))
    proc = rdsca("check", str(directory), "--policy-pack", PACK, "--state", str(state), "--format", "json")
    report = json.loads(proc.stdout)
    assert [(d["engine_version"], d["status"]) for d in report["databases"]] == [("3.6.0", "refused")]
    # The pack judges the instance's own inputs, where no engine version is: the check says what it let through.
    assert any("docs-0: docdb 3.6.0 does not support rds-ca-ecc384-g1" in w and "did not block" in w
               for w in report["warnings"]), report["warnings"]


# -- --as-of past a target's expiry ------------------------------------------------------------------------------------

ROTATED = """
import pulumi, pulumi_aws as aws
from rdsca import rotate_all
rotate_all()
aws.rds.Instance("billing", engine="mysql", engine_version="8.0.39", instance_class="db.t4g.micro")
aws.rds.Instance("ledger", engine="postgres", engine_version="16.4", instance_class="db.t4g.micro")
"""


def test_an_expired_target_is_a_finding_on_each_database_in_its_region(tmp_path: Path) -> None:
    directory = write_program(tmp_path / "p", ROTATED)
    # rds-ca-rsa2048-g1 ends on 2061-05-19 in the earliest region but on 2061-05-24 in us-west-2, the stack's.
    assert rdsca("check", str(directory), "--as-of", "2061-05-20").returncode == 0
    proc = rdsca("check", str(directory), "--as-of", "2061-06-01")
    assert proc.returncode == 1, proc.stderr
    assert [line for line in proc.stdout.splitlines() if line.startswith("finding:")] == [
        "finding: billing: rds-ca-rsa2048-g1 expired on 2061-05-24 in us-west-2. Use rds-ca-rsa4096-g1.",
        "finding: ledger: rds-ca-rsa2048-g1 expired on 2061-05-24 in us-west-2. Use rds-ca-rsa4096-g1.",
    ]


# -- --format pulumi ---------------------------------------------------------------------------------------------------

TEST_PACK = '''
from pulumi_policy import (EnforcementLevel, PolicyPack, ResourceValidationPolicy, Severity,
                           StackValidationPolicy)

INSTANCE = "aws:rds/instance:Instance"


def _tags(args):
    return args.props.get("tags") or {}


def owner(args, report):
    if args.resource_type == INSTANCE and "owner" not in _tags(args):
        report(f"{args.name} has no owner tag")


def cost_center(args, report):
    if args.resource_type == INSTANCE and "cost-center" not in _tags(args):
        report(f"{args.name} has no cost-center tag")


def managed_by(args):
    if args.resource_type == INSTANCE and "managed-by" not in _tags(args):
        args.props["tags"] = {**_tags(args), "managed-by": "platform"}
        return args.props
    return None


def everything(args, report):
    report("always")


def inventory(args, report):
    count = sum(1 for r in args.resources if r.resource_type == INSTANCE)
    if count > 1:
        report(f"the stack has {count} databases; at most 1 is allowed\\nsplit the stack")
    report("a resource of another stack", urn="urn:pulumi:other::elsewhere::aws:s3/bucket:Bucket::x")


PolicyPack(
    name="tagging",
    policies=[
        ResourceValidationPolicy(name="tags-owner", description="Databases name their owner.", validate=owner,
                                 enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH),
        ResourceValidationPolicy(name="tags-cost-center", description="Costs are attributed.", validate=cost_center,
                                 enforcement_level=EnforcementLevel.ADVISORY, severity=Severity.LOW),
        ResourceValidationPolicy(name="tags-cost-center-unranked", description="Same.", validate=cost_center,
                                 enforcement_level=EnforcementLevel.ADVISORY),
        ResourceValidationPolicy(name="tags-managed-by", description="d", remediate=managed_by,
                                 enforcement_level=EnforcementLevel.REMEDIATE, severity=Severity.MEDIUM),
        ResourceValidationPolicy(name="tags-off", description="d", validate=everything,
                                 enforcement_level=EnforcementLevel.DISABLED),
        StackValidationPolicy(name="stack-inventory", description="One database per stack.", validate=inventory,
                              enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL),
    ],
)
'''

TAGGED_PROGRAM = """
import pulumi_aws as aws
aws.rds.Instance("a", engine="mysql", instance_class="db.t4g.micro", ca_cert_identifier="rds-ca-rsa2048-g1")
aws.rds.Instance("b", engine="mysql", instance_class="db.t4g.micro", ca_cert_identifier="rds-ca-rsa2048-g1",
                 tags={"owner": "shop", "cost-center": "42"})
"""


@pytest.fixture
def tagging(tmp_path: Path) -> Path:
    pack = tmp_path / "packs" / "tagging"
    pack.mkdir(parents=True)
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 1.2.3\n")
    (pack / "__main__.py").write_text(textwrap.dedent(TEST_PACK))
    write_program(tmp_path / "prog", TAGGED_PROGRAM)
    return tmp_path


def test_format_pulumi_prints_the_policy_section_as_the_cli(tagging: Path) -> None:
    proc = rdsca("check", "prog", "--policy-pack", "packs/tagging", "--format", "pulumi", cwd=tagging)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == textwrap.dedent(
        """\
        Policies:
            ❌ tagging@v1.2.3 (local: packs/tagging)
                - [remediate]  tags-managed-by  (2 resources)
                - [mandatory] [severity: critical]  stack-inventory  (pulumi:pulumi:Stack: testprog-dev)
                  One database per stack.
                  the stack has 2 databases; at most 1 is allowed
                  split the stack
                - [mandatory] [severity: critical]  stack-inventory  (pulumi:pulumi:Stack: testprog-dev)
                  One database per stack.
                  a resource of another stack
                - [mandatory] [severity: high]  tags-owner  (aws:rds:Instance: a)
                  Databases name their owner.
                  a has no owner tag
                - [advisory] [severity: low]  tags-cost-center  (aws:rds:Instance: a)
                  Costs are attributed.
                  a has no cost-center tag
                - [advisory]  tags-cost-center-unranked  (aws:rds:Instance: a)
                  Same.
                  a has no cost-center tag

        """
    )


def test_format_pulumi_shows_each_remediation_on_request(tagging: Path) -> None:
    proc = rdsca(
        "check", "prog", "--policy-pack", "packs/tagging", "--format", "pulumi", "--show-policy-remediations",
        cwd=tagging,
    )
    lines = proc.stdout.splitlines()
    assert lines[2:4] == [
        "        - [remediate]  tags-managed-by  (aws:rds:Instance: a) [diff: +tags]",
        "        - [remediate]  tags-managed-by  (aws:rds:Instance: b) [diff: ~tags]",
    ]


def test_format_pulumi_of_a_clean_and_an_advisory_run(tagging: Path) -> None:
    config = tagging / "config.json"
    config.write_text(json.dumps({"all": "advisory", "tags-managed-by": "disabled"}))
    proc = rdsca("check", "prog", "--policy-pack", "packs/tagging", "--policy-pack-config", str(config),
                 "--format", "pulumi", cwd=tagging)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1] == "    ⚠️ tagging@v1.2.3 (local: packs/tagging)"
    config.write_text(json.dumps({"all": "disabled"}))
    proc = rdsca("check", "prog", "--policy-pack", "packs/tagging", "--policy-pack-config", str(config),
                 "--format", "pulumi", cwd=tagging)
    assert proc.stdout == "Policies:\n    ✅ tagging@v1.2.3 (local: packs/tagging)\n\n"


def test_the_rdsca_pack_in_pulumi_format() -> None:
    proc = rdsca("check", "examples/legacy-stack", "--policy-pack", "policies", "--format", "pulumi")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[1] == "    ❌ rdsca@v0.1.0 (local: policies)"
    # By level, severity, policy, then URN: the DocumentDB instance's URN sorts first.
    assert lines[2] == "        - [mandatory] [severity: critical]  rds-ca-retired  (aws:docdb:ClusterInstance: catalog-0)"


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("aws:rds/instance:Instance", "aws:rds:Instance"),
        ("aws:rds/clusterInstance:ClusterInstance", "aws:rds:ClusterInstance"),
        ("aws:ec2transitgateway/routeTable:RouteTable", "aws:ec2transitgateway:RouteTable"),
        ("aws:index/provider:Provider", "aws:index:Provider"),
        ("aws-native:rds:DbInstance", "aws-native:rds:DbInstance"),
        ("pulumi:pulumi:Stack", "pulumi:pulumi:Stack"),
        ("aws:rds/other:Instance", "aws:rds/other:Instance"),
        ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:Deployment"),
        ("weird", "weird"),
    ],
)
def test_display_names_as_the_cli(token: str, shown: str) -> None:
    assert display_name(token) == shown


def test_long_pack_paths_are_abbreviated_as_the_cli() -> None:
    assert abbreviate_path("./policies/") == "policies"
    long = "/home/someone/work/" + "x" * 40 + "/company/packs/rds-guardrails"
    assert abbreviate_path(long) == "/home/.../packs/rds-guardrails"


def test_show_policy_remediations_needs_the_pulumi_format() -> None:
    proc = rdsca("check", LEGACY, "--policy-pack", PACK, "--show-policy-remediations")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "rdsca: error: --show-policy-remediations needs --format pulumi"


def test_names_and_messages_from_the_program_are_escaped(tmp_path: Path) -> None:
    directory = write_program(
        tmp_path / "p",
        """
        import pulumi, pulumi_aws as aws
        aws.rds.Instance("db\\x1b[31mred\\u202e", engine="mysql", instance_class="db.t4g.micro",
                         ca_cert_identifier="rds-ca-2019")
        pulumi.log.warn("line one\\nline two \\x1b[2J")
        """,
    )
    proc = rdsca("check", str(directory))
    assert proc.returncode == 1
    assert "\x1b" not in proc.stdout + proc.stderr and "\u202e" not in proc.stdout + proc.stderr
    assert "db\\x1b[31mred\\u202e" in proc.stdout
    assert "warning: line one\\nline two \\x1b[2J" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "pulumi"), "--format pulumi: only for Pulumi programs, not with --kind terraform"),
        (("--invoke-answers", "answers.yaml"), "--invoke-answers: only for Pulumi programs, not with --kind terraform"),
    ],
)
def test_pulumi_only_options_are_refused_for_terraform(args: tuple[str, ...], message: str) -> None:
    proc = rdsca("check", "examples/terraform-legacy", *args)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"rdsca: error: {message}"


def test_a_pack_that_did_not_see_the_whole_program_is_incomplete_not_passed(tmp_path: Path) -> None:
    """After a program failure the table and JSON said the pack `passed` above the error: it saw only part of it."""
    program = write_program(
        tmp_path / "prog",
        'import pulumi_aws as aws\n'
        'aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier="rds-ca-rsa2048-g1")\n'
        'raise RuntimeError("boom")\n',
    )
    table = rdsca("check", program, "--policy-pack", REPO / "policies")
    assert table.returncode == 2
    assert "rdsca@v" in table.stdout and ": incomplete" in table.stdout and ": passed" not in table.stdout
    as_json = rdsca("check", program, "--policy-pack", REPO / "policies", "--format", "json")
    document = json.loads(as_json.stdout)
    assert document["complete"] is False
    assert [p["status"] for p in document["policy_packs"]] == ["incomplete"]
