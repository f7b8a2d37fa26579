"""``rdsca check --policy-pack`` gives the verdicts ``pulumi preview --policy-pack`` gives: ignore_changes, secrets,
planned outputs, default providers, remediation at registration, several packs; and fails cleanly."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from ..conftest import REPO, invoke, write_program
from ..conftest import rdsca as run_rdsca

PACK = str(REPO / "policies")
URN = "urn:pulumi:dev::testprog::aws:rds/instance:Instance::db"


def rdsca(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_rdsca("check", *args, env=env)


def report(proc: subprocess.CompletedProcess[str]) -> dict:
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def verdicts(doc: dict) -> set[tuple[str, str, str]]:
    return {(d["policy"], d["level"], d["urn"].rsplit("::", 1)[-1]) for d in doc["diagnostics"]}


def make_pack(directory: Path, code: str, name: str = "acme") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 1.0.0\n")
    (directory / "__main__.py").write_text(textwrap.dedent(code).replace("PACK_NAME", name))
    return directory


def state_file(tmp_path: Path, inputs: dict, outputs: dict | None = None) -> Path:
    export = {
        "version": 3,
        "deployment": {
            "resources": [
                {"urn": "urn:pulumi:dev::testprog::pulumi:pulumi:Stack::testprog-dev", "custom": False,
                 "type": "pulumi:pulumi:Stack"},
                {"urn": URN, "custom": True, "id": "db-1234", "type": "aws:rds/instance:Instance",
                 "inputs": inputs, "outputs": {**inputs, **(outputs or {})}},
            ]
        },
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(export))
    return path


# -- ignore_changes --------------------------------------------------------------------------------------------------

IGNORED_CA = """
import pulumi, pulumi_aws as aws
aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", allocated_storage=20,
                 ca_cert_identifier="rds-ca-rsa2048-g1", apply_immediately=True,
                 opts=pulumi.ResourceOptions(ignore_changes=["ca_cert_identifier"]))
"""


def test_an_autonamed_database_takes_its_identifier_from_the_state(tmp_path: Path) -> None:
    """The program names no identifier (AWS's name comes from Pulumi's autonaming); --state's outputs say it, and
    the check's JSON gives it (``rdsca report`` joins the resource to the live database by it)."""
    program = write_program(tmp_path / "prog", IGNORED_CA)
    proc = rdsca(str(program), "--format", "json")
    assert [d["identifier"] for d in report(proc)["databases"]] == [None]
    state = state_file(tmp_path, {"engine": "mysql"}, {"identifier": "db-6f1c2a9"})
    proc = rdsca(str(program), "--policy-pack", PACK, "--state", str(state), "--format", "json")
    assert [d["identifier"] for d in report(proc)["databases"]] == ["db-6f1c2a9"]


def test_ignore_changes_with_state_analyses_the_deployed_value(tmp_path: Path) -> None:
    """The engine puts an ignored property's old value back before any policy runs: the CA stays rds-ca-2019."""
    program = write_program(tmp_path / "prog", IGNORED_CA)
    state = state_file(tmp_path, {"engine": "mysql", "caCertIdentifier": "rds-ca-2019"})
    proc = rdsca(str(program), "--policy-pack", PACK, "--state", str(state), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = report(proc)
    assert ("rds-ca-retired", "mandatory", "db") in verdicts(doc)
    (db,) = [r for r in doc["resources"] if r["name"] == "db"]
    assert db["inputs"]["caCertIdentifier"] == "rds-ca-2019"


def test_ignore_changes_without_state_is_a_warning(tmp_path: Path) -> None:
    program = write_program(tmp_path / "prog", IGNORED_CA)
    proc = rdsca(str(program), "--policy-pack", PACK, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert report(proc)["warnings"] == [
        "db: ignore_changes covers caCertIdentifier, so a deployed database keeps its CA whatever the program says, "
        "and no --state file was given: the deployed value cannot be seen; the program's value was judged"
    ]


# -- secrets ---------------------------------------------------------------------------------------------------------

SECRET = "rds-ca-hunter2-g9"  # an id the catalog does not know: rds-ca-retired blocks it
SECRET_CA = f"""
import pulumi, pulumi_aws as aws
aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", allocated_storage=20,
                 ca_cert_identifier=pulumi.Output.secret("{SECRET}"), apply_immediately=True)
"""


def _files(root: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fmt", ["table", "json", "sarif"])
def test_a_secret_ca_is_blocked_and_never_printed_or_written(tmp_path: Path, fmt: str) -> None:
    program = write_program(tmp_path / "prog", SECRET_CA)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    before = _files(tmp_path)
    proc = rdsca(str(program), "--policy-pack", PACK, "--format", fmt, env={"TMPDIR": str(scratch)})
    assert proc.returncode == 1, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert "[secret]" in proc.stdout
    written = [p for p, mtime in _files(tmp_path).items() if before.get(p) != mtime]
    assert [p for p in written if SECRET in p.read_text(errors="replace")] == []
    assert list(scratch.iterdir()) == []
    if fmt == "json":
        assert ("rds-ca-retired", "mandatory", "db") in verdicts(json.loads(proc.stdout))


def test_a_secret_ca_without_a_pack_is_judged_on_its_value_and_shown_as_secret(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "prog",
        SECRET_CA.replace('Instance("db"', 'Instance("fine"').replace(SECRET, "rds-ca-rsa4096-g1")
        + f'aws.rds.Instance("bad", engine="mysql", instance_class="db.t3.micro", '
        f'ca_cert_identifier=pulumi.Output.secret("{SECRET}"))\n',
    )
    proc = rdsca(str(program))
    assert proc.returncode == 1, proc.stderr
    # The engine's rule: a secret's value is filtered out of every message (here, the list of valid CAs too).
    assert SECRET not in proc.stdout + proc.stderr and "rds-ca-rsa4096-g1" not in proc.stdout
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[3:5]}
    assert "[secret]" in rows["fine"] and rows["fine"].rstrip().endswith("ok")
    assert [line for line in proc.stdout.splitlines() if line.startswith("finding:")] == [
        "finding: bad: unknown CA '[secret]': valid CAs are rds-ca-rsa2048-g1, [secret], rds-ca-ecc384-g1. "
        "Use rds-ca-rsa2048-g1."
    ]


def test_a_secret_from_a_show_secrets_state_is_judged_and_never_printed(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "prog",
        'import pulumi_aws as aws\naws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro")\n',
    )
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": json.dumps(SECRET)}
    state = state_file(tmp_path, {"engine": "mysql"}, {"caCertIdentifier": secret})
    for fmt in ("table", "sarif", "json"):
        proc = rdsca(str(program), "--policy-pack", PACK, "--state", str(state), "--format", fmt)
        assert proc.returncode == 1, proc.stderr
        assert SECRET not in proc.stdout + proc.stderr
    assert ("rds-ca-stack-state", "mandatory", "db") in verdicts(report(proc))


# -- planned outputs, default providers, remediation -----------------------------------------------------------------

PROBE_PACK = """
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

def arn(args, report_violation):
    for resource in args.resources:
        if resource.resource_type == "aws:rds/instance:Instance":
            report_violation(f"arn is {resource.props['arn']}", resource.urn)

def provider(args, report_violation):
    if args.resource_type == "pulumi:providers:aws":
        report_violation(f"provider {args.name} in {args.props['region']}")
    elif args.resource_type == "aws:rds/instance:Instance":
        report_violation(f"{args.name} uses {args.provider.name} in {args.provider.props['region']}")

PolicyPack(name="PACK_NAME", policies=[
    StackValidationPolicy(name="reads-arn", description="Reads a computed output.", validate=arn,
                          enforcement_level=EnforcementLevel.MANDATORY),
    ResourceValidationPolicy(name="sees-provider", description="Reports providers.", validate=provider),
])
"""


def test_planned_outputs_and_default_providers(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "prog",
        'import pulumi_aws as aws\naws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro")\n',
    )
    pack = make_pack(tmp_path / "pack", PROBE_PACK)
    proc = rdsca(str(program), "--policy-pack", str(pack), "--format", "json")
    # A computed output is unknown in a preview: the stack policy gets the SDK's advisory, never blocks, and the
    # check does not fail.
    assert proc.returncode == 0, proc.stderr
    # The policy SDK puts the policy's description before the violation's own message.
    messages = {(d["policy"], d["level"], d["message"].splitlines()[-1]) for d in report(proc)["diagnostics"]}
    (arn,) = [m for m in messages if m[0] == "reads-arn"]
    assert arn[1] == "advisory" and "can't run policy 'reads-arn'" in arn[2] and "during preview" in arn[2]
    # The engine registers the default provider, analyses it, and gives it to each resource's analysis.
    provider = [m[2] for m in messages if m[0] == "sees-provider"]
    name = next(r["name"] for r in report(proc)["resources"] if r["type"] == "pulumi:providers:aws")
    assert sorted(provider) == sorted([f"provider {name} in us-west-2", f"db uses {name} in us-west-2"])


TYPED_REMEDIATION_PACK = """
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

PROGRAM_TYPES = {"pulumi:pulumi:Stack", "pulumi:providers:aws", "aws:s3/bucket:Bucket"}

def remediate(args):
    # A third-party remediation that assumes the types it can be given are the program's.
    if args.resource_type not in PROGRAM_TYPES:
        raise ValueError(f"called with {args.resource_type}")
    if args.resource_type == "aws:s3/bucket:Bucket":
        props = args.props
        props["forceDestroy"] = False
        return props

def validate(args, report_violation):
    pass

PolicyPack(name="PACK_NAME", policies=[
    ResourceValidationPolicy(name="no-force-destroy", description="Buckets keep their objects.",
                             validate=validate, remediate=remediate, enforcement_level=EnforcementLevel.ADVISORY),
])
"""


def test_remediate_calls_remediations_only_with_the_programs_resources(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "prog", 'import pulumi_aws as aws\naws.s3.Bucket("logs", force_destroy=True)\n'
    )
    pack = make_pack(tmp_path / "pack", TYPED_REMEDIATION_PACK)
    proc = rdsca(str(program), "--policy-pack", str(pack), "--remediate", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    changes = [(r["name"], c["property"], c["after"]) for r in report(proc)["remediations"] for c in r["changes"]]
    assert changes == [("logs", "forceDestroy", False)]


def test_remediation_at_registration_reaches_later_resources(tmp_path: Path) -> None:
    """The engine remediates as a resource registers: what the program reads back is the remediated value."""
    program = write_program(
        tmp_path / "prog",
        """
        import pulumi_aws as aws
        db = aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier="rds-ca-2019")
        aws.rds.Instance("copy", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier=db.ca_cert_identifier)
        """,
    )
    proc = rdsca(str(program), "--policy-pack", PACK, "--remediate", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    cas = {r["name"]: r["inputs"].get("caCertIdentifier") for r in report(proc)["resources"]}
    assert cas["db"] == cas["copy"] == "rds-ca-rsa2048-g1"


# -- several packs ---------------------------------------------------------------------------------------------------

LEVEL_PACK = """
from pulumi_policy import PolicyConfigSchema, PolicyPack, ResourceValidationPolicy

def validate(args, report_violation):
    if args.resource_type == "aws:rds/instance:Instance":
        report_violation(f"{args.get_config().get('word', 'plain')} violation")

PolicyPack(name="PACK_NAME", policies=[
    ResourceValidationPolicy(name="always", description="Always reports.", validate=validate,
                             config_schema=PolicyConfigSchema(properties={"word": {"type": "string"}})),
])
"""


def test_several_packs_each_with_its_config_by_position(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "prog",
        'import pulumi_aws as aws\naws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro")\n',
    )
    first = make_pack(tmp_path / "first", LEVEL_PACK, "first")
    second = make_pack(tmp_path / "second", LEVEL_PACK, "second")
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    one.write_text(json.dumps({"always": {"enforcementLevel": "mandatory", "word": "loud"}}))
    two.write_text(json.dumps({"always": "advisory"}))
    args = ["--policy-pack", str(first), "--policy-pack", str(second)]
    proc = rdsca(str(program), *args, "--policy-pack-config", str(one), "--policy-pack-config", str(two),
                 "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = report(proc)
    assert {(d["pack"], d["level"], d["message"].splitlines()[-1]) for d in doc["diagnostics"]} == {
        ("first", "mandatory", "loud violation"),
        ("second", "advisory", "plain violation"),
    }
    assert doc["policy_packs"] == [
        {"name": "first", "version": "1.0.0", "status": "blocked"},
        {"name": "second", "version": "1.0.0", "status": "passed"},
    ]
    table = rdsca(str(program), *args, "--policy-pack-config", str(one), "--policy-pack-config", str(two))
    assert "    first@v1.0.0: blocked\n" in table.stdout and "    second@v1.0.0: passed\n" in table.stdout
    mismatch = rdsca(str(program), *args, "--policy-pack-config", str(one))
    assert mismatch.returncode == 2
    assert mismatch.stderr.strip() == (
        'rdsca: error: the number of "--policy-pack-config" flags must match the number of "--policy-pack" flags'
    )


# -- failures: partial results, one clean line ---------------------------------------------------------------------


def test_a_failing_program_still_reports_what_registered_before(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "prog",
        """
        import pulumi_aws as aws
        aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier="rds-ca-2019")
        raise RuntimeError("boom")
        """,
    )
    proc = rdsca(str(program), "--policy-pack", PACK, "--format", "json")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "rdsca: error: the program failed: __main__.py:4: RuntimeError: boom"
    doc = json.loads(proc.stdout)
    assert ("rds-ca-retired", "mandatory", "db") in verdicts(doc)
    assert "db" in [r["name"] for r in doc["resources"]]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("import pulumi\nraise KeyboardInterrupt\n", "the program failed: __main__.py:2: KeyboardInterrupt"),
        ("import pulumi\nx = (\n", "the program failed: __main__.py:2: SyntaxError: '(' was never closed"),
        (
            # Its newline is shown as one (issue 23.15), the next line indented; the escapes stay escaped.
            "raise RuntimeError('one\\ntwo \\x1b[31mred\\x1b[0m \\u202e')\n",
            "the program failed: __main__.py:1: RuntimeError: one\n    two \\x1b[31mred\\x1b[0m \\u202e",
        ),
    ],
    ids=["keyboard-interrupt", "syntax-error", "control-characters"],
)
def test_a_failing_program_is_one_escaped_error(tmp_path: Path, code: str, message: str) -> None:
    program = write_program(tmp_path / "prog", code)
    proc = rdsca(str(program))
    assert proc.returncode == 2
    assert proc.stderr.rstrip().endswith(f"\nrdsca: error: {message}") or proc.stderr.rstrip() == f"rdsca: error: {message}"
    assert "Traceback" not in proc.stderr


def test_a_failing_pack_is_one_escaped_line(tmp_path: Path) -> None:
    program = write_program(tmp_path / "prog", "import pulumi\n")
    pack = make_pack(tmp_path / "pack", "raise RuntimeError('bad\\n\\x1b[2Jpack \\u202e')\n")
    proc = rdsca(str(program), "--policy-pack", str(pack))
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"rdsca: error: the policy pack {pack} did not start: ")
    assert "\x1b" not in line and "\u202e" not in line and "\\x1b[2Jpack \\u202e" in line


def test_a_pack_virtualenv_whose_python_is_not_executable(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", "")
    (pack / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: venv\n")
    python = pack / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o644)
    proc = rdsca(str(REPO), "--policy-pack", str(pack))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"rdsca: error: the pack's virtualenv python {python} is not an executable file"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "not a stack export (JSON nested too deeply)"),
        (json.dumps({"deployment": {"resources": [{"urn": URN, "outputs": ["a"]}]}}),
         f"resource {URN}: outputs must be an object, not list"),
        (json.dumps({"deployment": {"resources": [{"urn": URN, "outputs": "caCertIdentifier"}]}}),
         f"resource {URN}: outputs must be an object, not str"),
        (json.dumps({"deployment": {"resources": [{"urn": URN, "inputs": 3}]}}),
         f"resource {URN}: inputs must be an object, not int"),
    ],
    ids=["deeply-nested", "outputs-list", "outputs-string", "inputs-number"],
)
def test_a_bad_state_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(text)
    proc = rdsca(str(REPO), "--policy-pack", PACK, "--state", str(state))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"rdsca: error: {state}: {message}"


def test_a_program_error_keeps_its_lines_and_escapes_the_rest(tmp_path: Path) -> None:
    """Issue 23.15: a program's multi-line error was one line with literal \\n and \\t. Its newlines and tabs are shown
    as such (continuation lines indented); other control characters stay escaped."""
    program = write_program(tmp_path, 'raise ValueError("first line\\n\\tsecond, indented\\n\\x1b[31mred\\u202e")\n')
    code, _out, err = invoke("check", str(program))
    assert code == 2
    assert err.splitlines() == [
        "rdsca: error: the program failed: __main__.py:1: ValueError: first line",
        "    \tsecond, indented",
        "    \\x1b[31mred\\u202e",
    ]
