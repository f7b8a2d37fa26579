"""CertificateRotation and rotate_all on small real programs, run through the offline engine."""

from __future__ import annotations

import pytest

from rdsca.runner.monitor import UNKNOWN_TEXT

# One constructor per covered resource type: (python snippet with {name}/{ca}/{opts}, wire CA property).
# aws-native is not a dependency of rdsca, so its DbInstance is registered by type token, which is all that
# the engine (and so the transform) sees of it.
TYPES = {
    "rds-instance": (
        'aws.rds.Instance("{name}", instance_class="db.t3.micro", engine="mysql", engine_version="8.0.39", '
        "allocated_storage=20{ca}, opts={opts})",
        "caCertIdentifier",
    ),
    "aurora-instance": (
        'aws.rds.ClusterInstance("{name}", cluster_identifier="c1", instance_class="db.r6g.large", '
        'engine="aurora-postgresql", engine_version="16.4"{ca}, opts={opts})',
        "caCertIdentifier",
    ),
    "multi-az-cluster": (
        'aws.rds.Cluster("{name}", engine="postgres", engine_version="16.4", db_cluster_instance_class="db.m6gd.large", '
        'allocated_storage=100, iops=1000, storage_type="io1"{ca}, opts={opts})',
        "caCertificateIdentifier",
    ),
    "docdb-instance": (
        'aws.docdb.ClusterInstance("{name}", cluster_identifier="d1", instance_class="db.r6g.large"{ca}, opts={opts})',
        "caCertIdentifier",
    ),
    "aws-native-instance": (
        'pulumi.CustomResource("aws-native:rds:DbInstance", "{name}", '
        '{{"engine": "postgres", "engineVersion": "16.4", "dbInstanceClass": "db.t3.micro"{native_ca}}}, opts={opts})',
        "caCertificateIdentifier",
    ),
}
CA_ARG = {
    "caCertIdentifier": "ca_cert_identifier",
    "caCertificateIdentifier": "ca_certificate_identifier",
}

HEADER = """
import pulumi, pulumi_aws as aws
from rdsca import CertificateRotation, rotate_all

class Team(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("acme:index:Team", name, None, opts)
"""


def db(kind: str, name: str, opts: str = "None", ca: str | None = None) -> str:
    template, prop = TYPES[kind]
    if kind == "aws-native-instance":
        return template.format(name=name, opts=opts, native_ca=f', "{prop}": {ca!r}' if ca else "")
    return template.format(name=name, opts=opts, ca=f", {CA_ARG[prop]}={ca!r}" if ca else "")


@pytest.mark.parametrize("kind", sorted(TYPES))
@pytest.mark.parametrize("placement", ["direct", "nested", "rotate_all"])
def test_every_type_gets_the_ca_and_apply_flag(program, kind: str, placement: str) -> None:
    # Each names the retired CA: AWS's guide has its change applied now (issue 25.1).
    if placement == "rotate_all":
        body = 'rotate_all(ca_identifier="rds-ca-rsa4096-g1")\n' + db(kind, "db", ca="rds-ca-2019")
    elif placement == "direct":
        body = 'rot = CertificateRotation("rot", ca_identifier="rds-ca-rsa4096-g1")\n'
        body += db(kind, "db", "pulumi.ResourceOptions(parent=rot)", ca="rds-ca-2019")
    else:
        body = 'rot = CertificateRotation("rot", ca_identifier="rds-ca-rsa4096-g1")\n'
        body += 'outer = Team("outer", pulumi.ResourceOptions(parent=rot))\n'
        body += 'inner = Team("inner", pulumi.ResourceOptions(parent=outer))\n'
        body += db(kind, "db", "pulumi.ResourceOptions(parent=inner)", ca="rds-ca-2019")
    run = program(HEADER + body)
    assert run.error is None
    inputs = run.inputs("db")
    assert inputs[TYPES[kind][1]] == "rds-ca-rsa4096-g1"
    assert inputs["applyImmediately"] is True


def test_resources_outside_the_component_are_untouched(program) -> None:
    run = program(HEADER + 'rot = CertificateRotation("rot")\n' + db("rds-instance", "outside"))
    assert "caCertIdentifier" not in run.inputs("outside")
    assert "applyImmediately" not in run.inputs("outside")


def test_aurora_clusters_and_other_types_are_left_alone(program) -> None:
    run = program(
        HEADER
        + """
rotate_all()
aws.rds.Cluster("aurora", engine="aurora-mysql", engine_version="8.0.mysql_aurora.3.05.2", master_username="a",
                manage_master_user_password=True)
aws.docdb.Cluster("docs", engine="docdb", engine_version="5.0.0")
aws.sns.Topic("bucket")
"""
    )
    assert run.error is None
    for name in ("aurora", "docs", "bucket"):
        inputs = run.inputs(name)
        assert not {"caCertificateIdentifier", "caCertIdentifier", "applyImmediately"} & set(inputs), name


@pytest.mark.parametrize(
    ("explicit", "keep_current", "expected"),
    [
        ("rds-ca-ecc384-g1", True, "rds-ca-ecc384-g1"),
        ("rds-ca-ecc384-g1", False, "rds-ca-rsa4096-g1"),
        ("rds-ca-2019", True, "rds-ca-rsa4096-g1"),
        ("rds-ca-2019-me-south-1", True, "rds-ca-rsa4096-g1"),
        ("rds-ca-2015", True, "rds-ca-rsa4096-g1"),
        ("rds-ca-rsa2048-g2", True, "rds-ca-rsa4096-g1"),
    ],
)
def test_explicit_cas(program, explicit: str, keep_current: bool, expected: str) -> None:
    run = program(
        HEADER
        + f'rotate_all(ca_identifier="rds-ca-rsa4096-g1", keep_current={keep_current})\n'
        + db("rds-instance", "db", ca=explicit)
    )
    assert run.error is None
    assert run.inputs("db")["caCertIdentifier"] == expected


def test_restart_avoid_defers_exactly_the_databases_that_may_restart(program) -> None:
    run = program(
        HEADER
        + """
rotate_all(restart="avoid")
common = dict(instance_class="db.t3.micro", allocated_storage=20)
aws.rds.Instance("pg134", engine="postgres", engine_version="13.4", **common)        # rotates without restart
aws.rds.Instance("maria", engine="mariadb", engine_version="10.6.16", **common)     # rotates without restart
aws.rds.Instance("my5733", engine="mysql", engine_version="5.7.33", **common)       # restarts
aws.rds.Instance("mssql", engine="sqlserver-se", engine_version="15.00.4236.7.v1", **common)  # restarts
aws.rds.Instance("my8", engine="mysql", engine_version="8.0.39", **common)          # unknown: may restart
aws.rds.Instance("noversion", engine="mysql", **common)                              # unknown: may restart
"""
    )
    assert run.error is None
    applied = {r["name"]: r["inputs"]["applyImmediately"] for r in run.registrations}
    assert applied == {
        "pg134": True,
        "maria": True,
        "my5733": False,
        "mssql": False,
        "my8": False,
        "noversion": False,
    }
    info = run.messages("info")
    assert info == [
        "rdsca: 4 wait for their maintenance window, where they restart: mssql (sqlserver-se), my5733 (mysql), "
        "my8 (mysql), noversion (mysql)"
    ]
    assert not [w for w in run.messages("warning") if "restart" in w]


def test_the_guide_s_rule_by_default_and_restarts_are_warnings(program) -> None:
    """Issue 25.1-25.2. "If you are experiencing connectivity issues after certificate expiry, use the apply
    immediately option": a database on the retired CA is changed now, and its restart is a warning; "By default,
    this operation is scheduled to run during your next maintenance window": one whose current CA is not known
    here (none named) and that restarts waits; one that rotates without a restart is changed now."""
    run = program(
        HEADER
        + """
rotate_all()
common = dict(instance_class="db.t3.micro", allocated_storage=20)
aws.rds.Instance("old", engine="sqlserver-se", engine_version="15.00.4236.7.v1", ca_cert_identifier="rds-ca-2019",
                 **common)
aws.rds.Instance("unnamed", engine="sqlserver-se", engine_version="15.00.4236.7.v1", **common)
aws.rds.Instance("maria", engine="mariadb", engine_version="10.6.16", **common)
"""
    )
    assert run.error is None
    applied = {r["name"]: r["inputs"]["applyImmediately"] for r in run.registrations}
    assert applied == {"old": True, "unnamed": False, "maria": True}
    assert [w for w in run.messages("warning") if "restart" in w] == [
        "rdsca: 1 restart now, as their CA change is applied now: old (sqlserver-se); applying now also applies "
        "every other pending modification of those databases"
    ]
    assert run.messages("info") == ["rdsca: 1 wait for their maintenance window, where they restart: unnamed "
                                    "(sqlserver-se)"]


def test_restart_allow_keeps_apply_immediately_and_reports_restart(program) -> None:
    run = program(
        HEADER
        + """
rotate_all(apply_immediately=False)
aws.rds.Instance("mssql", engine="sqlserver-ee", engine_version="16.00.4105.2.v1", instance_class="db.m5.large")
"""
    )
    assert run.inputs("mssql")["applyImmediately"] is False
    assert run.report is not None
    assert [(d.name, d.restart) for d in run.report.databases] == [("mssql", "yes")]


def test_engine_refusal_uses_the_fallback(program) -> None:
    run = program(
        HEADER
        + """
rotate_all(ca_identifier="rds-ca-ecc384-g1", fallback_ca="rds-ca-rsa4096-g1")
aws.rds.Instance("mssql", engine="sqlserver-se", engine_version="15.00.4236.7.v1", instance_class="db.m5.large")
aws.rds.Instance("pg", engine="postgres", engine_version="16.4", instance_class="db.m5.large")
aws.docdb.ClusterInstance("docs", cluster_identifier="d1", instance_class="db.r6g.large")
"""
    )
    assert run.error is None
    assert run.inputs("mssql")["caCertIdentifier"] == "rds-ca-rsa4096-g1"
    assert run.inputs("pg")["caCertIdentifier"] == "rds-ca-ecc384-g1"
    assert run.inputs("docs")["caCertIdentifier"] == "rds-ca-ecc384-g1"
    # DocumentDB's version lives on its cluster: rdsca says it could not check ECC384 support.
    assert any("docs: DocumentDB versions 3.6" in w for w in run.messages("warning"))


def test_engine_refusal_without_fallback_is_a_clear_error(program) -> None:
    run = program(
        HEADER
        + """
rotate_all(ca_identifier="rds-ca-ecc384-g1")
aws.rds.Instance("mssql", engine="sqlserver-se", engine_version="15.00.4236.7.v1", instance_class="db.m5.large")
"""
    )
    assert run.error is not None
    assert "RotationConfigError: RDS instance 'mssql' (sqlserver-se 15.00.4236.7.v1) cannot use rds-ca-ecc384-g1" in (
        run.error
    )
    assert run.error.endswith("pass fallback_ca (for example rds-ca-rsa4096-g1)")


def test_region_restrictions_warn_only(program) -> None:
    run = program(
        HEADER
        + """
rotate_all(ca_identifier="rds-ca-ecc384-g1")
aws.rds.Instance("zurich", engine="postgres", engine_version="16.4", instance_class="db.m5.large", region="eu-central-2")
prov = aws.Provider("spain", region="eu-south-2")
aws.rds.Instance("madrid", engine="postgres", engine_version="16.4", instance_class="db.m5.large",
                 opts=pulumi.ResourceOptions(provider=prov))
aws.rds.Instance("oregon", engine="postgres", engine_version="16.4", instance_class="db.m5.large")
"""
    )
    assert run.error is None
    assert {r["name"]: r["inputs"].get("caCertIdentifier") for r in run.registrations if r["name"] != "spain"} == {
        "zurich": "rds-ca-ecc384-g1",
        "madrid": "rds-ca-ecc384-g1",
        "oregon": "rds-ca-ecc384-g1",
    }
    warned = sorted(w.split(":")[1].strip() for w in run.messages("warning"))
    assert warned == ["madrid", "zurich"]


def test_unknown_ca_value_is_left_for_deploy_time(program) -> None:
    run = program(
        HEADER
        + """
rotate_all()
src = aws.rds.Instance("src", engine="mysql", instance_class="db.t3.micro")
aws.rds.Instance("copy", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier=src.endpoint)
"""
    )
    assert run.error is None
    assert run.inputs("copy")["caCertIdentifier"] == UNKNOWN_TEXT
    assert any(
        w.startswith("rdsca: copy: its CA comes from another resource's output") for w in run.messages("warning")
    )


def test_set_account_default(program) -> None:
    run = program(
        HEADER + 'rot = CertificateRotation("rot", ca_identifier="rds-ca-rsa4096-g1", set_account_default=True)'
    )
    assert run.error is None
    cert = run.registration("rot-account-default")
    assert cert["type"] == "aws:rds/certificate:Certificate"
    assert cert["inputs"] == {"certificateIdentifier": "rds-ca-rsa4096-g1"}
    assert cert["parent"].endswith("rdsca:index:CertificateRotation::rot")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ('ca_identifier="rds-ca-2019"', "cannot use 'rds-ca-2019' as the target CA: rds-ca-2019 is retired"),
        ('ca_identifier="rds-ca-rsa2048-g2"', "cannot use 'rds-ca-rsa2048-g2' as the target CA: unknown CA"),
        ("ca_identifier=2048", "the target CA must be a string"),
        ('restart="never"', "restart must be 'auto', 'allow' or 'avoid', not 'never'"),
        ('apply_immediately="yes"', "apply_immediately must be None, True or False, not 'yes'"),
        ('fallback_ca="rds-ca-2015"', "cannot use 'rds-ca-2015' as the target CA"),
        ('ca_identifier="rds-ca-rsa4096-g1", fallback_ca="rds-ca-rsa4096-g1"', "fallback_ca must differ"),
    ],
)
@pytest.mark.parametrize("entry", ["CertificateRotation", "rotate_all"])
def test_bad_arguments_fail_clearly_and_register_nothing(program, args: str, message: str, entry: str) -> None:
    call = f'CertificateRotation("rot", {args})' if entry == "CertificateRotation" else f"rotate_all({args})"
    run = program(HEADER + call)
    assert run.error is not None
    assert run.error.startswith("__main__.py:")
    assert "RotationConfigError: " + message in run.error
    assert run.registrations == []


def test_small_parallel_does_not_hang(tmp_path, monkeypatch) -> None:
    # With --parallel 1 the SDK has 4 executor threads; 12 registrations can hold them all while their transforms
    # wait for an engine-version lookup that needs a thread too. The lookup times out instead of hanging.
    from rdsca.components import rotation
    from rdsca.runner.check import host_spec, load_project
    from rdsca.runner.python_host import execute

    from .conftest import write_program

    monkeypatch.setattr(rotation, "LOOKUP_TIMEOUT_S", 0.5)
    code = HEADER + 'rotate_all(restart="avoid")\n'
    code += "for i in range(12):\n"
    code += '    aws.rds.Instance(f"db{i}", engine="mysql", engine_version=f"8.0.{i}", instance_class="db.t3.micro")\n'
    spec = host_spec(load_project(write_program(tmp_path / "p", code)))
    spec["parallel"] = 1
    raw = execute(spec)
    assert raw["error"] is None
    dbs = [r["inputs"] for r in raw["registrations"] if r["type"] == "aws:rds/instance:Instance"]
    assert len(dbs) == 12
    assert all(d["caCertIdentifier"] == "rds-ca-rsa2048-g1" and d["applyImmediately"] is False for d in dbs)


def test_docdb_instance_takes_the_engine_version_of_its_cluster_through_the_output(program) -> None:
    # DocumentDB 3.6 refuses ECC384. The instance's version lives on its cluster; during a preview the cluster id
    # is unknown, so the component follows the dependency behind the output to the cluster.
    run = program(
        HEADER
        + """
rotate_all(ca_identifier="rds-ca-ecc384-g1", fallback_ca="rds-ca-rsa4096-g1")
old = aws.docdb.Cluster("old", engine_version="3.6.0", master_username="u", master_password="pw-123456")
new = aws.docdb.Cluster("new", engine_version="5.0.0", master_username="u", master_password="pw-123456")
aws.docdb.ClusterInstance("old-0", cluster_identifier=old.id, instance_class="db.r6g.large")
aws.docdb.ClusterInstance("new-0", cluster_identifier=new.cluster_identifier, instance_class="db.r6g.large")
"""
    )
    assert run.error is None, run.error
    assert run.inputs("old-0")["caCertIdentifier"] == "rds-ca-rsa4096-g1"
    assert run.inputs("new-0")["caCertIdentifier"] == "rds-ca-ecc384-g1"
    assert any("old-0: docdb 3.6.0 does not support rds-ca-ecc384-g1; using rds-ca-rsa4096-g1" in w
               for w in run.messages("warning"))
    assert not any("cannot check it here" in w for w in run.messages("warning"))


def test_docdb_instance_already_on_a_ca_its_cluster_refuses_is_moved(program) -> None:
    run = program(
        HEADER
        + """
rotate_all()
c = aws.docdb.Cluster("c", cluster_identifier="docs", engine_version="3.6.0", master_username="u",
                      master_password="pw-123456")
aws.docdb.ClusterInstance("by-name", cluster_identifier="docs", instance_class="db.r6g.large",
                          ca_cert_identifier="rds-ca-ecc384-g1")
"""
    )
    assert run.error is None, run.error
    assert run.inputs("by-name")["caCertIdentifier"] == "rds-ca-rsa2048-g1"
    assert run.report is not None
    assert [(d.name, d.verdict.status.value if d.verdict else None) for d in run.report.databases] == [
        ("by-name", "ok")
    ]


def test_docdb_instance_whose_cluster_is_not_in_the_program_cannot_be_decided(program) -> None:
    run = program(HEADER + 'rotate_all(ca_identifier="rds-ca-ecc384-g1")\n'
                  'aws.docdb.ClusterInstance("orphan", cluster_identifier="elsewhere", instance_class="db.r6g.large")\n')
    assert run.inputs("orphan")["caCertIdentifier"] == "rds-ca-ecc384-g1"
    assert any("orphan: DocumentDB versions 3.6" in w and "cannot check it here" in w for w in run.messages("warning"))


def test_an_explicit_apply_immediately_is_kept_where_the_ca_does_not_change(program) -> None:
    run = program(
        HEADER
        + """
rotate_all()
aws.rds.Instance("resize-only", engine="mysql", engine_version="8.0.39", instance_class="db.m5.large",
                 ca_cert_identifier="rds-ca-rsa2048-g1", apply_immediately=False)
aws.rds.Instance("moved", engine="mysql", engine_version="8.0.39", instance_class="db.m5.large",
                 ca_cert_identifier="rds-ca-2019", apply_immediately=False)
"""
    )
    assert run.inputs("resize-only")["applyImmediately"] is False
    assert run.inputs("moved")["applyImmediately"] is True
    assert "rdsca: moved: the CA changes to rds-ca-rsa2048-g1, so apply_immediately=False is set to True" in (
        run.messages("info")
    )


def test_an_expired_target_is_judged_in_each_databases_region(program, monkeypatch) -> None:
    # rds-ca-rsa2048-g1's eu-west-1 root ends 2061-05-20, its us-west-2 root 2061-05-24.
    monkeypatch.setenv("RDSCA_AS_OF", "2061-05-22")
    code = HEADER + "rotate_all({args})\n" + (
        'aws.rds.Instance("oregon", engine="postgres", engine_version="16.4", instance_class="db.m5.large")\n'
        'aws.rds.Instance("ireland", engine="postgres", engine_version="16.4", instance_class="db.m5.large", '
        'region="eu-west-1")\n'
    )
    run = program(code.format(args=""))
    assert run.error is None, run.error  # under rdsca check: reported, not refused
    assert run.inputs("oregon")["caCertIdentifier"] == run.inputs("ireland")["caCertIdentifier"] == "rds-ca-rsa2048-g1"
    assert run.report is not None
    statuses = {d.name: (d.verdict.status.value, d.verdict.reason) for d in run.report.databases if d.verdict}
    assert statuses == {
        "oregon": ("ok", "rds-ca-rsa2048-g1 is current"),
        "ireland": ("expired", "rds-ca-rsa2048-g1 expired on 2061-05-20 in eu-west-1"),
    }
    fallback = program(code.format(args='fallback_ca="rds-ca-rsa4096-g1"'))
    assert fallback.inputs("ireland")["caCertIdentifier"] == "rds-ca-rsa4096-g1"
    assert fallback.inputs("oregon")["caCertIdentifier"] == "rds-ca-rsa2048-g1"


def test_outside_rdsca_check_an_expired_target_is_refused(monkeypatch) -> None:
    from rdsca import clock
    from rdsca.components.rotation import RotationArgs, RotationConfigError, _Rotator
    from rdsca.resources import database_view

    monkeypatch.setenv("RDSCA_AS_OF", "2061-05-22")
    monkeypatch.delenv(clock.CHECK_ENV, raising=False)
    db = database_view("aws:rds/instance:Instance", {"engine": "postgres"}, "ireland", region="eu-west-1")
    assert db is not None
    with pytest.raises(RotationConfigError, match="rds-ca-rsa2048-g1 expired on 2061-05-20 in eu-west-1"):
        _Rotator(RotationArgs())._choose(db)
