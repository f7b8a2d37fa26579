"""Data sources offline: placeholder answers shaped by the provider SDK's result types, ``--invoke-answers``, and
the hint a program that fails after a placeholder gets."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from rdsca.runner.invoke_answers import InvokeAnswersError, load_invoke_answers
from rdsca.runner.invokes import Call, placeholder, result_type

from ..conftest import rdsca, run_offline, write_program

LOOKUPS = """
import pulumi, pulumi_aws as aws
zones = aws.get_availability_zones(state="available")
ami = aws.ec2.get_ami(most_recent=True, owners=["amazon"], filters=[{"name": "name", "values": ["al2023-ami-*"]}])
vpc = aws.ec2.get_vpc(default=True)
subnets = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]}])
me = aws.get_caller_identity()
part = aws.get_partition()
for label, value in [
    ("zones", zones.names), ("zone_ids", zones.zone_ids), ("ami", [ami.id, ami.image_id, ami.owners]),
    ("devices", [len(ami.block_device_mappings), ami.block_device_mappings[0].device_name]),
    ("vpc", [vpc.id, vpc.cidr_block, vpc.default, vpc.main_route_table_id]), ("subnets", subnets.ids),
    ("me", [me.account_id, me.arn]), ("partition", [part.partition, part.dns_suffix, part.reverse_dns_prefix]),
]:
    pulumi.log.info(label + " " + repr(value))
aws.rds.Instance("db", engine="mysql", instance_class="db.t4g.micro", availability_zone=zones.names[1],
                 ca_cert_identifier="rds-ca-rsa2048-g1")
"""


def _logged(run) -> dict[str, object]:
    return {m.split(" ", 1)[0]: eval(m.split(" ", 1)[1]) for m in run.messages("info")}  # our own reprs


def test_common_lookups_get_plausible_aws_answers(program) -> None:
    run = program(LOOKUPS, stacks={"prod": "config:\n  aws:region: eu-central-1\n"})
    assert run.error is None
    got = _logged(run)
    assert got["zones"] == ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
    assert got["zone_ids"] == ["euc1-az1", "euc1-az2", "euc1-az3"]
    ami_id, image_id, owners = got["ami"]
    assert re.fullmatch(r"ami-[0-9a-f]{17}", ami_id) and image_id == ami_id
    assert owners == ["amazon"]  # the data source echoes its arguments
    assert got["devices"][0] == 3 and got["devices"][1].startswith("rdsca-placeholder-")
    vpc_id, cidr, default, route_table = got["vpc"]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc_id) and re.fullmatch(r"rtb-[0-9a-f]{17}", route_table)
    assert (cidr, default) == ("172.31.0.0/16", True)  # every default VPC is 172.31.0.0/16
    assert len(set(got["subnets"])) == 3 and all(re.fullmatch(r"subnet-[0-9a-f]{17}", s) for s in got["subnets"])
    assert got["me"] == ["123456789012", "arn:aws:iam::123456789012:user/rdsca-placeholder"]
    assert got["partition"] == ["aws", "amazonaws.com", "com.amazonaws"]
    assert run.inputs("db")["availabilityZone"] == "eu-central-1b"
    # Every invented answer is listed, with the call's arguments; the same call always gets the same answer.
    assert sorted({p["token"] for p in run.raw["placeholder_answers"]}) == [
        "aws:ec2/getAmi:getAmi",
        "aws:ec2/getSubnets:getSubnets",
        "aws:ec2/getVpc:getVpc",
        "aws:index/getAvailabilityZones:getAvailabilityZones",
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:index/getPartition:getPartition",
    ]
    vpc_call = next(p for p in run.raw["placeholder_answers"] if p["token"] == "aws:ec2/getVpc:getVpc")
    assert (vpc_call["args"], vpc_call["echoed"], vpc_call["result"]["id"]) == (["default"], ["default"], vpc_id)
    again = program(LOOKUPS, stacks={"prod": "config:\n  aws:region: eu-central-1\n"})
    assert _logged(again) == got


def test_partition_follows_the_region() -> None:
    import pulumi_aws.get_partition  # noqa: F401 - the module a program would have loaded

    answer, shaped = placeholder(Call("aws:index/getPartition:getPartition", {}, "cn-north-1"))
    assert shaped and (answer["partition"], answer["dnsSuffix"]) == ("aws-cn", "amazonaws.com.cn")
    answer, _ = placeholder(Call("aws:index/getPartition:getPartition", {}, "us-gov-west-1"))
    assert answer["partition"] == "aws-us-gov"


def test_result_type_is_read_from_the_generated_function() -> None:
    from pulumi_aws.ec2.get_ami import GetAmiResult

    assert result_type("aws:ec2/getAmi:getAmi") is GetAmiResult
    assert result_type("aws:ec2/getNoSuchThing:getNoSuchThing") is None
    assert result_type("not a token") is None


ACME_FUNCTION = '''
import pulumi

@pulumi.output_type
class GetWidgetResult:
    def __init__(__self__, id=None, sizes=None, labels=None, spec=None, enabled=None):
        pulumi.set(__self__, "id", id)
        pulumi.set(__self__, "sizes", sizes)
        pulumi.set(__self__, "labels", labels)
        pulumi.set(__self__, "spec", spec)
        pulumi.set(__self__, "enabled", enabled)

    @property
    @pulumi.getter
    def id(self) -> str:
        return pulumi.get(self, "id")

    @property
    @pulumi.getter
    def sizes(self) -> list[int]:
        return pulumi.get(self, "sizes")

    @property
    @pulumi.getter
    def labels(self) -> dict[str, str]:
        return pulumi.get(self, "labels")

    @property
    @pulumi.getter(name="widgetSpec")
    def spec(self) -> "GetWidgetSpecResult":
        return pulumi.get(self, "spec")

    @property
    @pulumi.getter
    def enabled(self) -> bool:
        return pulumi.get(self, "enabled")


@pulumi.output_type
class GetWidgetSpecResult:
    def __init__(__self__, weight_kg=None):
        pulumi.set(__self__, "weight_kg", weight_kg)

    @property
    @pulumi.getter(name="weightKg")
    def weight_kg(self) -> float:
        return pulumi.get(self, "weight_kg")


def get_widget(name=None, opts=None):
    __args__ = {"name": name}
    return pulumi.runtime.invoke('acme:index/getWidget:getWidget', __args__, opts=opts, typ=GetWidgetResult).value
'''


def test_any_provider_package_is_shaped_by_its_result_type(tmp_path: Path) -> None:
    """Not only pulumi-aws: a provider SDK generated the same way (here a small one in the program's directory)."""
    directory = write_program(
        tmp_path / "p",
        """
        import pulumi
        from pulumi_acme.get_widget import get_widget
        w = get_widget(name="left")
        pulumi.log.info(repr([w.id.startswith("rdsca-placeholder-"), w.sizes, w.labels, w.spec.weight_kg, w.enabled]))
        raw = pulumi.runtime.invoke("acme:index/getRaw:getRaw", {}).value
        pulumi.log.info(repr(raw))
        """,
    )
    (directory / "pulumi_acme").mkdir()
    (directory / "pulumi_acme" / "__init__.py").write_text("")
    (directory / "pulumi_acme" / "get_widget.py").write_text(ACME_FUNCTION)
    run = run_offline(directory)
    assert run.error is None
    assert run.messages("info") == ["[True, [1, 1, 1], {}, 1.0, False]", "{}"]
    answered = {p["token"]: p["shaped"] for p in run.raw["placeholder_answers"]}
    assert answered == {"acme:index/getWidget:getWidget": True, "acme:index/getRaw:getRaw": False}
    assert run.report is not None
    assert any("acme:index/getRaw:getRaw cannot be answered offline" in w for w in run.report.warnings)


# -- --invoke-answers ------------------------------------------------------------------------------------------------

ANSWERED_PROGRAM = """
import pulumi, pulumi_aws as aws
me = aws.get_caller_identity()
arm = aws.ec2.get_ami(most_recent=True, owners=["amazon"], filters=[{"name": "architecture", "values": ["arm64"]}])
x86 = aws.ec2.get_ami(most_recent=True, owners=["amazon"], filters=[{"name": "architecture", "values": ["x86_64"]}])
zones = aws.get_availability_zones()
aws.ec2.Instance("arm", ami=arm.id, instance_type="t4g.micro", tags={"account": me.account_id})
aws.ec2.Instance("x86", ami=x86.id, instance_type="t3.micro", availability_zone=zones.names[0])
"""

ANSWERS = """
# Our account, and one AMI per architecture.
aws:index/getCallerIdentity:getCallerIdentity:
  account_id: "111122223333"
aws:ec2/getAmi:getAmi:
  - args:
      filters: [{name: architecture, values: [arm64]}]
    result: {id: ami-0aaaaaaaaaaaaaaaa}
  - result: {image_id: ami-0bbbbbbbbbbbbbbbb, id: ami-0bbbbbbbbbbbbbbbb}
aws:rds/getCluster:getCluster:
  engine: aurora-postgresql
"""


def test_invoke_answers_file_answers_matching_calls(tmp_path: Path) -> None:
    directory = write_program(tmp_path / "p", ANSWERED_PROGRAM)
    answers = tmp_path / "answers.yaml"
    answers.write_text(textwrap.dedent(ANSWERS))
    proc = rdsca("check", str(directory), "--format", "json", "--invoke-answers", str(answers))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    inputs = {r["name"]: r["inputs"] for r in report["resources"]}
    assert inputs["arm"]["ami"] == "ami-0aaaaaaaaaaaaaaaa"
    assert inputs["x86"]["ami"] == "ami-0bbbbbbbbbbbbbbbb"
    assert inputs["arm"]["tags"] == {"account": "111122223333"}
    # Only what the file did not answer is a placeholder.
    assert [p["token"] for p in report["placeholder_answers"]] == [
        "aws:index/getAvailabilityZones:getAvailabilityZones"
    ]
    assert f"{answers}: the program never called data source aws:rds/getCluster:getCluster; check the token" in (
        " ".join(report["warnings"])
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just a list\n", "must map data-source tokens (like aws:ec2/getAmi:getAmi) to results; got a list"),
        ("getAmi: {id: x}\n", "'getAmi' is not a data-source token (package:module:function"),
        ("aws:ec2/getAmi:getAmi: ami-123\n", "aws:ec2/getAmi:getAmi: expected a result (a mapping of field names"),
        ("aws:ec2/getAmi:getAmi:\n  - args: {owners: [amazon]}\n", "case 1: expected a mapping with a result"),
        ("aws:ec2/getAmi:getAmi:\n  - result: [1]\n", "case 1: the result must be a mapping of field names"),
        ("aws:ec2/getAmi:getAmi:\n  - {args: yes, result: {}}\n", "case 1: args must be a mapping of argument"),
        ("aws:ec2/getAmi:getAmi: {id: [unclosed\n", "not valid YAML at line 2"),
        ("aws:ec2/getAmi:getAmi: &a {result: *a}\n", "aws:ec2/getAmi:getAmi: a value that refers to itself"),
    ],
)
def test_a_bad_invoke_answers_file_is_one_line_naming_it(tmp_path: Path, text: str, message: str) -> None:
    directory = write_program(tmp_path / "p", "import pulumi\n")
    answers = tmp_path / "answers.yaml"
    answers.write_text(text)
    proc = rdsca("check", str(directory), "--invoke-answers", str(answers))
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"rdsca: error: {answers}: ") and message in line, line
    assert proc.stdout == ""


def test_a_missing_or_binary_answers_file(tmp_path: Path) -> None:
    directory = write_program(tmp_path / "p", "import pulumi\n")
    missing = tmp_path / "nope.yaml"
    proc = rdsca("check", str(directory), "--invoke-answers", str(missing))
    assert proc.returncode == 2 and proc.stderr.strip() == f"rdsca: error: {missing}: cannot read (No such file or directory)"
    binary = tmp_path / "answers.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvokeAnswersError, match="not UTF-8 text"):
        load_invoke_answers(binary)


def test_answers_accept_python_and_wire_names_and_json(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"aws:ec2/getAmi:getAmi": [{"args": {"most_recent": True}, "result": {"id": "ami-1"}}]}))
    ((case,),) = load_invoke_answers(path).values()
    assert case.args == {"mostRecent": True} and case.result == {"id": "ami-1"}


# -- the hint after a failure ----------------------------------------------------------------------------------------


def test_a_program_failing_after_a_placeholder_gets_a_hint(tmp_path: Path) -> None:
    directory = write_program(
        tmp_path / "p",
        """
        import datetime
        import pulumi_aws as aws
        ami = aws.ec2.get_ami(most_recent=True, owners=["amazon"])
        # A real AMI's creation date is ISO 8601; a placeholder is not.
        built = datetime.date.fromisoformat(ami.creation_date[:10])
        """,
    )
    proc = rdsca("check", str(directory))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "rdsca: error: the program failed: __main__.py:6: ValueError: Invalid isoformat string: 'rdsca-plac'",
        "rdsca: hint: data sources answered with placeholder values: aws:ec2/getAmi:getAmi; if the program failed "
        "on one of them, give real values with --invoke-answers FILE (YAML or JSON: token: result)",
    ]


def test_a_failure_without_placeholders_has_no_hint(tmp_path: Path) -> None:
    directory = write_program(tmp_path / "p", "raise RuntimeError('no data source here')\n")
    proc = rdsca("check", str(directory))
    assert proc.returncode == 2
    assert proc.stderr.strip() == "rdsca: error: the program failed: __main__.py:1: RuntimeError: no data source here"


def test_secret_arguments_are_never_echoed_or_listed(tmp_path: Path) -> None:
    directory = write_program(
        tmp_path / "p",
        """
        import pulumi, pulumi_aws as aws
        version = aws.secretsmanager.get_secret_version_output(secret_id=pulumi.Output.secret("prod/hunter2-db"))
        version.secret_id.apply(lambda v: pulumi.log.info(f"echoed {v == 'prod/hunter2-db'}"))
        """,
    )
    proc = rdsca("check", str(directory), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "hunter2" not in proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    (answer,) = report["placeholder_answers"]
    # The SDK unwraps secrets before a data source sees its arguments: the report shows none of their values.
    assert (answer["args"], answer["echoed"]) == (["secretId"], ["secretId"])
    assert [e["message"] for e in report["log"]] == ["echoed True"]
