"""``rdsca check --policy-pack`` end to end: real programs, the real pack process, exit codes and every format."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ..conftest import REPO, rdsca, write_program

PACK = str(REPO / "policies")
LEGACY = str(REPO / "examples" / "legacy-stack")


def check_json(*args: str) -> tuple[int, dict]:
    proc = rdsca("check", *args, "--policy-pack", PACK, "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[1]


def test_legacy_stack_is_blocked_naming_every_bad_resource() -> None:
    code, report = check_json(LEGACY)
    assert code == 1 and report["blocked"] is True
    mandatory = {(d["policy"], _name(d["urn"])) for d in report["diagnostics"] if d["level"] == "mandatory"}
    assert mandatory == {
        ("rds-ca-retired", "billing-mysql"),
        ("rds-ca-retired", "reports-1"),
        ("rds-ca-retired", "catalog-0"),
        ("rds-ca-engine-support", "erp-sqlserver"),
        ("rds-ca-stack-state", "billing-mysql"),
        ("rds-ca-stack-state", "reports-1"),
        ("rds-ca-stack-state", "catalog-0"),
    }
    assert report["policy_pack"] == {"name": "rdsca", "version": "0.1.0"}
    assert report["remediations"] == []


def test_legacy_stack_remediated_passes_and_lists_every_change() -> None:
    proc = rdsca("check", LEGACY, "--policy-pack", PACK, "--remediate", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    changes = {
        (r["policy"], r["name"], c["property"], c["before"], c["after"])
        for r in report["remediations"]
        for c in r["changes"]
    }
    assert changes == {
        ("rds-ca-retired", "billing-mysql", "caCertIdentifier", "rds-ca-2019", "rds-ca-rsa2048-g1"),
        ("rds-ca-retired", "billing-mysql", "applyImmediately", None, True),
        ("rds-ca-retired", "reports-1", "caCertIdentifier", "rds-ca-rsa2048-gl", "rds-ca-rsa2048-g1"),
        ("rds-ca-retired", "reports-1", "applyImmediately", None, True),
        ("rds-ca-retired", "catalog-0", "caCertIdentifier", "rds-ca-2019", "rds-ca-rsa2048-g1"),
        ("rds-ca-retired", "catalog-0", "applyImmediately", None, True),
        ("rds-ca-engine-support", "erp-sqlserver", "caCertIdentifier", "rds-ca-ecc384-g1", "rds-ca-rsa2048-g1"),
        # erp-sqlserver's own apply_immediately=True is kept. --remediate is {"all": "remediate"}, as with the CLI:
        # the policy that is off by default (every change now) runs too.
        ("rds-ca-apply-immediately", "reports-0", "applyImmediately", None, True),
    }
    assert report["blocked"] is False
    assert [d for d in report["diagnostics"] if d["level"] == "mandatory"] == []
    # The remediated inputs are what the rest of the report shows.
    cas = {r["name"]: r["inputs"].get("caCertIdentifier") for r in report["resources"] if "Instance" in r["type"]}
    assert set(cas.values()) == {"rds-ca-rsa2048-g1"}


def test_table_output_shows_policy_results_like_preview() -> None:
    proc = rdsca("check", LEGACY, "--policy-pack", PACK)
    assert proc.returncode == 1
    assert "Policies:\n    rdsca@v0.1.0: blocked\n" in proc.stdout
    # One entry per resource and problem (issue 26.7): the stack-state finding on the same database is cited.
    assert ("        - [mandatory]  rds-ca-retired, rds-ca-stack-state  (aws:rds/instance:Instance: billing-mysql)\n"
            in proc.stdout)
    fixed = rdsca("check", LEGACY, "--policy-pack", PACK, "--remediate")
    assert fixed.returncode == 0
    assert '          caCertIdentifier: "rds-ca-2019" => "rds-ca-rsa2048-g1"\n' in fixed.stdout


def test_reference_stack_passes() -> None:
    code, report = check_json(str(REPO))
    assert code == 0 and report["blocked"] is False
    assert [d for d in report["diagnostics"] if d["level"] == "mandatory"] == []


def test_unknown_ca_never_blocks(tmp_path: Path) -> None:
    write_program(
        tmp_path,
        """
        import pulumi_aws as aws
        source = aws.rds.ParameterGroup("pg", family="mysql8.0")
        aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", allocated_storage=20,
                         ca_cert_identifier=source.id)
        """,
    )
    code, report = check_json(str(tmp_path))
    assert code == 0
    assert [(d["policy"], d["level"]) for d in report["diagnostics"]] == [("rds-ca-retired", "advisory")]
    assert "can't be known during preview" in report["diagnostics"][0]["message"]


def test_databases_nested_in_a_user_component(tmp_path: Path) -> None:
    write_program(
        tmp_path,
        """
        import pulumi, pulumi_aws as aws

        class Service(pulumi.ComponentResource):
            def __init__(self, name, opts=None):
                super().__init__("acme:index:Service", name, None, opts)
                inner = Inner(f"{name}-data", pulumi.ResourceOptions(parent=self))

        class Inner(pulumi.ComponentResource):
            def __init__(self, name, opts=None):
                super().__init__("acme:index:Inner", name, None, opts)
                aws.rds.Instance(f"{name}-db", engine="postgres", instance_class="db.t3.micro",
                                 allocated_storage=20, ca_cert_identifier="rds-ca-2019",
                                 opts=pulumi.ResourceOptions(parent=self))

        Service("shop")
        """,
    )
    code, report = check_json(str(tmp_path))
    assert code == 1
    urns = {d["urn"] for d in report["diagnostics"] if d["policy"] == "rds-ca-retired"}
    assert urns == {"urn:pulumi:dev::testprog::acme:index:Service$acme:index:Inner$aws:rds/instance:Instance::shop-data-db"}


def _state(tmp_path: Path, outputs: dict) -> Path:
    urn = "urn:pulumi:dev::testprog::aws:rds/instance:Instance::db"
    export = {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2024-01-01T00:00:00Z", "version": "v3.100.0"},
            "resources": [
                {"urn": "urn:pulumi:dev::testprog::pulumi:pulumi:Stack::testprog-dev", "custom": False,
                 "type": "pulumi:pulumi:Stack"},
                {"urn": urn, "custom": True, "id": "db-1234", "type": "aws:rds/instance:Instance",
                 "inputs": {}, "outputs": outputs},
            ],
        },
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(export))
    return path


UNSET_PROGRAM = """
import pulumi_aws as aws
aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", allocated_storage=20)
"""


def test_state_shows_a_retired_ca_the_program_leaves_unset(tmp_path: Path) -> None:
    program = write_program(tmp_path / "prog", UNSET_PROGRAM)
    code, report = check_json(str(program))
    assert code == 0
    assert {(d["policy"], d["level"]) for d in report["diagnostics"]} == {("rds-ca-unset", "advisory")}

    state = _state(tmp_path, {"engine": "mysql", "caCertIdentifier": "rds-ca-2019",
                              "password": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                                           "ciphertext": "AAAA"}})
    code, report = check_json(str(program), "--state", str(state))
    assert code == 1
    (blocking,) = [d for d in report["diagnostics"] if d["level"] == "mandatory"]
    assert (blocking["policy"], _name(blocking["urn"])) == ("rds-ca-stack-state", "db")
    assert "its state after this update is ca_cert_identifier=\"rds-ca-2019\"" in blocking["message"]

    # Setting the CA in the program fixes the planned state.
    program.joinpath("__main__.py").write_text(UNSET_PROGRAM.replace("allocated_storage=20", 'allocated_storage=20, ca_cert_identifier="rds-ca-rsa2048-g1"'))
    code, report = check_json(str(program), "--state", str(state))
    assert code == 0


def test_state_file_errors_and_a_state_from_another_stack(tmp_path: Path) -> None:
    program = write_program(tmp_path / "prog", UNSET_PROGRAM)
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 3}')
    proc = rdsca("check", str(program), "--policy-pack", PACK, "--state", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"rdsca: error: {bad}: not a stack export (expected deployment.resources, as `pulumi stack export`)"
    other = _state(tmp_path, {"caCertIdentifier": "rds-ca-2019"})
    other.write_text(other.read_text().replace("::testprog::", "::another::"))
    code, report = check_json(str(program), "--state", str(other))
    assert code == 0
    assert any("none of the state file's resources belong to this program" in w for w in report["warnings"])


def test_policy_pack_config(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"rds-ca-allowed-list": {"allowedCas": ["rds-ca-rsa4096-g1"]}}))
    code, report = check_json(str(REPO), "--policy-pack-config", str(config))
    assert code == 1
    assert {d["policy"] for d in report["diagnostics"] if d["level"] == "mandatory"} == {"rds-ca-allowed-list"}
    config.write_text(json.dumps({"all": "advisory"}))
    code, report = check_json(LEGACY, "--policy-pack-config", str(config))
    assert code == 0 and report["diagnostics"]
    config.write_text(json.dumps({"rds-ca-expiring": {"days": "soon"}}))
    proc = rdsca("check", LEGACY, "--policy-pack", PACK, "--policy-pack-config", str(config))
    assert proc.returncode == 2
    assert proc.stderr.strip() == "rdsca: error: invalid policy config: rds-ca-expiring: days: 'soon' is not of type 'integer'"


def test_sarif_for_code_scanning() -> None:
    proc = rdsca("check", LEGACY, "--policy-pack", PACK, "--format", "sarif", cwd=REPO)
    assert proc.returncode == 1
    sarif = json.loads(proc.stdout)
    schema = json.loads((REPO / "tests" / "fixtures" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["rds-ca-retired"]["properties"]["security-severity"] == "9.5"
    assert rules["rds-ca-retired"]["defaultConfiguration"]["level"] == "error"
    source = (REPO / "examples" / "legacy-stack" / "__main__.py").read_text().splitlines()
    results = [r for r in run["results"] if r["ruleId"] == "rds-ca-retired"]
    located = set()
    for result in results:
        assert result["level"] == "error"
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "examples/legacy-stack/__main__.py"
        located.add(source[physical["region"]["startLine"] - 1].strip())
    assert located == {'aws.rds.Instance(', "aws.rds.ClusterInstance(", "aws.docdb.ClusterInstance("}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--remediate",), "--remediate needs --policy-pack"),
        (("--format", "pulumi"), "--format pulumi needs --policy-pack"),
        (("--state", "x.json"), "--state needs --policy-pack"),
    ],
)
def test_policy_options_need_a_pack(args: tuple[str, ...], message: str) -> None:
    proc = rdsca("check", LEGACY, *args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_not_a_pack_and_a_broken_pack(tmp_path: Path) -> None:
    proc = rdsca("check", LEGACY, "--policy-pack", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"rdsca: error: {tmp_path.resolve()}: not a policy pack (no PulumiPolicy.yaml)"
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("import no_such_module\n")
    proc = rdsca("check", LEGACY, "--policy-pack", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"rdsca: error: the policy pack {tmp_path.resolve()} did not start: ")
    assert "No module named 'no_such_module'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_secret_values_never_reach_the_output(tmp_path: Path) -> None:
    write_program(
        tmp_path,
        """
        import pulumi, pulumi_aws as aws
        aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", allocated_storage=20,
                         password=pulumi.Output.secret("hunter2-secret"), ca_cert_identifier="rds-ca-2019")
        """,
    )
    for fmt in ("json", "table", "sarif"):
        proc = rdsca("check", str(tmp_path), "--policy-pack", PACK, "--remediate", "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        assert "hunter2" not in proc.stdout + proc.stderr


def test_the_pack_blocks_documentdb_3_6_on_ecc384_through_the_stack(tmp_path: Path) -> None:
    # The instance does not carry its engine version; the stack policy finds its cluster through the property
    # dependency behind cluster_identifier, as the engine sends it to AnalyzeStack.
    program = write_program(
        tmp_path / "p",
        """
import pulumi_aws as aws
old = aws.docdb.Cluster("old", engine_version="3.6.0", master_username="u", master_password="pw-123456")
new = aws.docdb.Cluster("new", engine_version="5.0.0", master_username="u", master_password="pw-123456")
aws.docdb.ClusterInstance("old-0", cluster_identifier=old.id, instance_class="db.r6g.large",
                          ca_cert_identifier="rds-ca-ecc384-g1")
aws.docdb.ClusterInstance("new-0", cluster_identifier=new.id, instance_class="db.r6g.large",
                          ca_cert_identifier="rds-ca-ecc384-g1")
""",
    )
    code, report = check_json(str(program))
    assert code == 1
    blocking = {(d["policy"], _name(d["urn"])) for d in report["diagnostics"] if d["level"] == "mandatory"}
    assert blocking == {("rds-ca-stack-state", "old-0")}


def test_an_aurora_instance_takes_its_cluster_s_engine_version_as_terraform_does(tmp_path: Path) -> None:
    """Issue 23.9: an Aurora instance that names no engine version runs its cluster's. Aurora MySQL 2.03 refuses
    ECC384: the Terraform reader blocked it, the Pulumi side only noted "the version is not known here" (exit 0)."""
    program = write_program(
        tmp_path / "p",
        """
import pulumi_aws as aws
old = aws.rds.Cluster("old", engine="aurora-mysql", engine_version="5.7.mysql_aurora.2.03.2", master_username="u",
                      master_password="pw-123456")
new = aws.rds.Cluster("new", engine="aurora-mysql", engine_version="8.0.mysql_aurora.3.05.2", master_username="u",
                      master_password="pw-123456")
for name, cluster in (("old-0", old), ("new-0", new)):
    aws.rds.ClusterInstance(name, cluster_identifier=cluster.id, engine="aurora-mysql", instance_class="db.r5.large",
                            ca_cert_identifier="rds-ca-ecc384-g1", apply_immediately=True)
""",
    )
    code, report = check_json(str(program))
    assert code == 1
    blocking = {(d["policy"], _name(d["urn"])) for d in report["diagnostics"] if d["level"] == "mandatory"}
    assert blocking == {("rds-ca-stack-state", "old-0")}
    status = {r["name"]: (r["engine_version"], r["status"]) for r in report["databases"]}
    assert status == {"old-0": ("5.7.mysql_aurora.2.03.2", "refused"), "new-0": ("8.0.mysql_aurora.3.05.2", "ok")}

    terraform = tmp_path / "tf"
    terraform.mkdir()
    (terraform / "main.tf").write_text("""
resource "aws_rds_cluster" "old" {
  engine         = "aurora-mysql"
  engine_version = "5.7.mysql_aurora.2.03.2"
}
resource "aws_rds_cluster" "new" {
  engine         = "aurora-mysql"
  engine_version = "8.0.mysql_aurora.3.05.2"
}
resource "aws_rds_cluster_instance" "old_0" {
  cluster_identifier = aws_rds_cluster.old.id
  engine             = "aurora-mysql"
  ca_cert_identifier = "rds-ca-ecc384-g1"
  apply_immediately  = true
}
resource "aws_rds_cluster_instance" "new_0" {
  cluster_identifier = aws_rds_cluster.new.id
  engine             = "aurora-mysql"
  ca_cert_identifier = "rds-ca-ecc384-g1"
  apply_immediately  = true
}
""")
    proc = rdsca("check", str(terraform), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    tf = json.loads(proc.stdout)
    assert {(d["address"], d["level"]) for d in tf["diagnostics"] if d["level"] == "mandatory"} == {
        ("aws_rds_cluster_instance.old_0", "mandatory")
    }
    assert {r["address"]: r["ca_status"] for r in tf["resources"] if r["type"] == "aws_rds_cluster_instance"} == {
        "aws_rds_cluster_instance.old_0": "refused", "aws_rds_cluster_instance.new_0": "ok"}


# -- the queued Analyze calls (issue 30: answered calls are let go at once) ---------------------------------------


class _SlowDiagnostics:
    """A client whose answers come from another thread; the test slows down keeping their diagnostics."""

    name = "fake"
    info = None  # no policies listed: a severity is read from the diagnostic
    version = ""

    def __init__(self) -> None:
        import concurrent.futures

        self.futures: list[concurrent.futures.Future] = []

    def analyze_later(self, request, subject):
        import concurrent.futures

        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        self.futures.append(future)
        return future


def test_drain_returns_once_every_answer_s_diagnostics_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from pulumi.runtime.proto import analyzer_pb2

    from rdsca.runner import pack_calls
    from rdsca.runner.pack_client import Subject
    from rdsca.runner.secrets import SecretFilter

    real = pack_calls.diagnostic

    def slow(*args, **kwargs):
        time.sleep(0.3)  # the answer's waiters are woken before this callback runs
        return real(*args, **kwargs)

    monkeypatch.setattr(pack_calls, "diagnostic", slow)
    run = pack_calls.PolicyRun.__new__(pack_calls.PolicyRun)
    run.secrets, run.events, run.warnings, run.remediations = SecretFilter(), None, [], []
    run._diagnostics, run._pending, run._error = {}, {}, None
    run._lock = threading.Lock()
    run._idle = threading.Condition(run._lock)
    client = _SlowDiagnostics()
    run.clients = [client]  # type: ignore[list-item]
    urns = [f"urn:pulumi:dev::p::aws:rds/instance:Instance::db{i}" for i in range(3)]
    for i, urn in enumerate(urns):
        run.analyze(i, Subject("aws:rds/instance:Instance", f"db{i}", urn), {"type": "aws:rds/instance:Instance",
                                                                             "urn": urn, "name": f"db{i}"}, {})
    answer = analyzer_pb2.AnalyzeResponse()
    answer.diagnostics.add(policyName="rds-ca-retired", message="retired", enforcementLevel=analyzer_pb2.MANDATORY,
                           severity=analyzer_pb2.POLICY_SEVERITY_HIGH)
    first = client.futures[0]
    first.set_result(answer)  # answered before the drain: let go, its diagnostic kept
    assert first not in run._pending
    threading.Thread(target=lambda: [f.set_result(answer) for f in client.futures[1:]]).start()
    run.drain()
    assert not run._pending
    assert [d["urn"] for d in run.result()["diagnostics"]] == urns
