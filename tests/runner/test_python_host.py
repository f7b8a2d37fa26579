"""The offline runner behaves like the engine in a preview: transform order, unknowns, config, invokes, errors."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from rdsca.runner.monitor import SECRET_TEXT, UNKNOWN_TEXT
from rdsca.runner.project import ProjectError, load_project

from ..conftest import write_program

ORDER_PROGRAM = """
import pulumi, pulumi_aws as aws

def mark(label):
    def transform(args):
        if args.type_ != "aws:rds/instance:Instance":
            return None
        props = dict(args.props)
        tags = dict(props.get("tags") or {})
        tags["order"] = tags.get("order", "") + label + ","
        props["tags"] = tags
        return pulumi.ResourceTransformResult(props, args.opts)
    return transform

class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Box", name, None, opts)

pulumi.runtime.register_resource_transform(mark("stack1"))
pulumi.runtime.register_resource_transform(mark("stack2"))
outer = Box("outer", pulumi.ResourceOptions(transforms=[mark("outer")]))
inner = Box("inner", pulumi.ResourceOptions(parent=outer, transforms=[mark("inner")]))
aws.rds.Instance("db", instance_class="db.t3.micro", engine="mysql",
                 opts=pulumi.ResourceOptions(parent=inner, transforms=[mark("own1"), mark("own2")]))
aws.rds.Instance("top", instance_class="db.t3.micro", engine="mysql")
"""


def test_transforms_run_in_engine_order(program) -> None:
    run = program(ORDER_PROGRAM)
    assert run.error is None
    # own (in declared order), then each ancestor walking up, then stack transforms (in registration order).
    assert run.inputs("db")["tags"] == {"order": "own1,own2,inner,outer,stack1,stack2,"}
    assert run.inputs("top")["tags"] == {"order": "stack1,stack2,"}


def test_urns_follow_the_engine(program) -> None:
    run = program(ORDER_PROGRAM)
    assert run.registration("top")["urn"] == "urn:pulumi:dev::testprog::aws:rds/instance:Instance::top"
    assert run.registration("db")["urn"] == (
        "urn:pulumi:dev::testprog::test:index:Box$test:index:Box$aws:rds/instance:Instance::db"
    )
    assert run.registration("outer")["parent"] == "urn:pulumi:dev::testprog::pulumi:pulumi:Stack::testprog-dev"
    names = [r["name"] for r in run.raw["registrations"]]
    # Registrations arrive as the SDK sends them (asynchronously); a parent always before its children, the root
    # stack first, and the default provider just before the first resource that needs it.
    provider = "default_" + importlib.metadata.version("pulumi-aws").replace(".", "_")
    assert sorted(names) == sorted(["testprog-dev", provider, "db", "inner", "outer", "top"])
    assert names[0] == "testprog-dev"
    assert names.index("outer") < names.index("inner") < names.index("db")
    assert names.index(provider) < min(names.index("db"), names.index("top"))


def test_computed_outputs_are_unknown_and_inputs_known(program) -> None:
    run = program(
        """
        import pulumi, pulumi_aws as aws
        a = aws.rds.Instance("a", instance_class="db.t3.micro", engine="mysql", ca_cert_identifier="rds-ca-rsa4096-g1")
        # endpoint and id are computed by the provider: unknown in a preview. engine is an input: known.
        aws.rds.Instance("b", instance_class="db.t3.micro", engine=a.engine, ca_cert_identifier=a.endpoint,
                         identifier=a.id)
        a.endpoint.apply(lambda v: pulumi.log.warn(f"endpoint callback ran with {v!r}"))
        """
    )
    assert run.error is None
    b = run.inputs("b")
    assert b["engine"] == "mysql"
    assert b["caCertIdentifier"] == UNKNOWN_TEXT
    assert b["identifier"] == UNKNOWN_TEXT
    # An apply on an unknown output does not run during a preview.
    assert run.messages("warning") == []
    db_b = next(d for d in run.report.databases if d.name == "b")
    assert db_b.verdict is None and db_b.ca == UNKNOWN_TEXT


def test_config_from_project_and_stack_with_secure_values(tmp_path: Path) -> None:
    directory = write_program(
        tmp_path / "p",
        """
        import pulumi
        cfg = pulumi.Config()
        pulumi.log.warn("plain=" + cfg.require("plain"))
        pulumi.log.warn("default=" + cfg.get("withDefault"))
        pulumi.log.warn("count=" + str(cfg.get_int("count")))
        pulumi.log.warn("region=" + pulumi.Config("aws").require("region"))
        secret = cfg.require_secret("password")
        secret.apply(lambda v: pulumi.log.warn("secret callback ran"))
        pulumi.Output.all(secret).apply(lambda v: pulumi.log.warn("all callback ran"))
        pulumi.log.warn("plain-read=" + cfg.require("password"))
        """,
        config={"withDefault": {"type": "string", "default": "fromdefault"}, "plain": "fromproject"},
        stacks={
            "prod": """
            config:
              aws:region: eu-west-1
              testprog:plain: fromstack
              testprog:count: 3
              testprog:password:
                secure: v1:AAAABBBBCCCC
            """
        },
    )
    from ..conftest import run_offline

    run = run_offline(directory)
    assert run.error is None
    assert run.messages("warning") == [
        "plain=fromstack",
        "default=fromdefault",
        "count=3",
        "region=eu-west-1",
        f"plain-read={SECRET_TEXT}",
    ]
    assert run.raw["warnings"] == [
        "config testprog:password is secure: its value cannot be decrypted offline; "
        f"Config.require returned the placeholder {SECRET_TEXT}"
    ]


def test_secrets_are_masked_in_recorded_inputs(program) -> None:
    run = program(
        """
        import pulumi, pulumi_aws as aws
        aws.rds.Instance("db", instance_class="db.t3.micro", engine="mysql",
                         password=pulumi.Output.secret("hunter2"))
        """
    )
    assert run.inputs("db")["password"] == SECRET_TEXT
    assert "hunter2" not in str(run.raw)


def test_engine_version_invoke_is_answered_from_the_catalog(program) -> None:
    run = program(
        """
        import pulumi, pulumi_aws as aws
        known = aws.rds.get_engine_version(engine="postgres", version="13.4")
        pulumi.log.warn(f"sync {known.supports_certificate_rotation_without_restart}")
        aws.rds.get_engine_version_output(engine="mysql", version="5.7.33").apply(
            lambda r: pulumi.log.warn(f"output {r.supports_certificate_rotation_without_restart}"))
        unknown = aws.rds.get_engine_version(engine="mysql", version="8.0.39")
        pulumi.log.warn(f"unknown {unknown.supports_certificate_rotation_without_restart}")
        acct = aws.get_caller_identity()
        pulumi.log.warn(f"account {acct.account_id}")
        """
    )
    assert run.error is None
    assert sorted(run.messages("warning")) == ["account 123456789012", "output False", "sync True", "unknown None"]
    # The catalog's answers are facts (their other fields placeholders, listed); the caller identity is a
    # placeholder, and said to be one.
    listed = run.raw["placeholder_answers"]
    assert sorted(p["token"] for p in listed) == [
        "aws:index/getCallerIdentity:getCallerIdentity", *["aws:rds/getEngineVersion:getEngineVersion"] * 3]
    facts = {"engine", "version", "versionActual", "supportsCertificateRotationWithoutRestart"}
    assert all(not facts & set(p["result"]) for p in listed)


def test_a_known_answer_has_every_field_filled(program) -> None:
    """Issue 23.10: the catalog's answer to get_engine_version left parameter_group_family (and the rest) None, and a
    program passing it to a required input (``aws.rds.ParameterGroup(family=...)``) failed. Facts where rdsca has
    them, typed placeholders elsewhere, and the invented fields said to be invented."""
    run = program(
        """
        import pulumi, pulumi_aws as aws
        db2 = aws.rds.get_engine_version(engine="db2-se", version="11.5.9.0.sb00000000.r1")
        aws.rds.ParameterGroup("db2", family=db2.parameter_group_family)
        pulumi.log.warn(f"{db2.engine} {db2.version} {type(db2.valid_upgrade_targets).__name__}")
        pulumi.log.warn(f"restart {db2.supports_certificate_rotation_without_restart}")
        """
    )
    assert run.error is None, run.error
    assert sorted(run.messages("warning")) == ["db2-se 11.5.9.0.sb00000000.r1 list", "restart None"]
    family = run.inputs("db2")["family"]
    assert isinstance(family, str) and family
    (listed,) = run.raw["placeholder_answers"]
    assert listed["token"] == "aws:rds/getEngineVersion:getEngineVersion"
    assert "parameterGroupFamily" in listed["result"]
    # The facts are not listed as invented.
    assert not {"engine", "version", "versionActual", "supportsCertificateRotationWithoutRestart"} & set(listed["result"])


def test_a_raising_program_reports_one_line(program) -> None:
    run = program(
        """
        import pulumi_aws as aws
        aws.rds.Instance("db", instance_class="db.t3.micro", engine="mysql")
        raise RuntimeError("boom in the program")
        """
    )
    assert run.error == "__main__.py:4: RuntimeError: boom in the program"


def test_a_failing_apply_is_reported(program) -> None:
    run = program(
        """
        import pulumi
        pulumi.Output.from_input(1).apply(lambda v: 1 / 0)
        """
    )
    assert run.error is not None and run.error.endswith("ZeroDivisionError: division by zero")


def test_a_failing_apply_is_reported_while_another_output_never_ends(tmp_path: Path) -> None:
    """The final wait awaits outputs in turn (issue 30); a failure further on is still raised within about a
    second, not after the --timeout (the SDK raises the first failure to complete)."""
    import time

    from ..conftest import rdsca

    directory = write_program(tmp_path / "prog", (
        "import asyncio, pulumi\n"
        "loop = asyncio.get_event_loop()\n"
        "never = [pulumi.Output.from_input(loop.create_future()) for _ in range(200)]\n"
        "async def later():\n"
        "    await asyncio.sleep(0.5)  # fails once the final wait has started\n"
        "    return 1\n"
        "pulumi.Output.from_input(asyncio.ensure_future(later())).apply(lambda v: 1 / 0)\n"
    ))
    started = time.monotonic()
    proc = rdsca("check", directory, "--timeout", "60", cwd=directory)
    assert proc.returncode == 2, proc.stderr
    assert "ZeroDivisionError: division by zero" in proc.stderr, proc.stderr
    assert time.monotonic() - started < 60


def test_runs_are_independent(program, tmp_path: Path) -> None:
    first = program(ORDER_PROGRAM)
    second = program(ORDER_PROGRAM)
    assert sorted(r["urn"] for r in first.registrations) == sorted(r["urn"] for r in second.registrations)
    assert second.inputs("top")["tags"] == {"order": "stack1,stack2,"}


def test_stack_selection_errors(tmp_path: Path) -> None:
    directory = write_program(tmp_path / "p", "", stacks={"a": "config: {}\n", "b": "config: {}\n"})
    with pytest.raises(ProjectError, match=r"several stacks \(a, b\); choose one with --stack NAME"):
        load_project(directory)
    with pytest.raises(ProjectError, match=r"no stack file Pulumi.c.yaml \(stacks here: a, b\)"):
        load_project(directory, "c")
    assert load_project(directory, "b").stack == "b"


def test_project_errors(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no such directory"):
        load_project(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectError, match="no Pulumi.yaml here"):
        load_project(tmp_path / "empty")
    go = tmp_path / "go"
    go.mkdir()
    (go / "Pulumi.yaml").write_text("name: n\nruntime: go\n")
    with pytest.raises(ProjectError, match="runtime is 'go'; rdsca check runs Python, Node.js and Bun programs"):
        load_project(go)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Pulumi.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ProjectError, match="not valid YAML"):
        load_project(bad)
