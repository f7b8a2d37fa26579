"""Every file an rdsca command reads, fuzzed: random bytes and random JSON/YAML shapes never crash a loader.

A loader may accept the input, or refuse it with its layer's one error type (which the CLI prints as one line and
exit 2) naming the file; any other exception (TypeError, RecursionError, UnicodeDecodeError...) is a bug, because
the CLI would report it as an internal error. Loaders run in process, before any subprocess starts.

Each file kind is one ``FileKind`` in ``FILE_KINDS``; a feature that adds a file kind registers it here.
Budget: about 60 s for the whole module in the suite (``MAX_EXAMPLES`` per kind). The stress profile (registered
in ``tests/conftest.py``) runs at least 1,000 cases per kind and prints the counts::

    .venv/bin/python -m pytest tests/test_fuzz_inputs.py --hypothesis-profile stress -s
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rdsca import truststore
from rdsca.aws import audit, journal, rotate
from rdsca.probe.endpoints import AuditFileError, load_audit
from rdsca.rules.config import PolicyConfigError, parse_config_file
from rdsca.runner.invoke_answers import InvokeAnswersError, load_invoke_answers
from rdsca.runner.policy_packs import PolicyError, load_pack
from rdsca.runner.project import ProjectError, load_project
from rdsca.runner.state import StateError, load_state
from rdsca.terraform.check import check as check_terraform
from rdsca.terraform.config import MANIFEST
from rdsca.terraform.model import ConfigError
from rdsca.terraform.report import to_json, to_sarif

#: Cases per kind in the suite; the stress profile's ``max_examples`` (1,000) overrides it.
MAX_EXAMPLES = 40 if settings().max_examples < 1000 else settings().max_examples


@dataclass(frozen=True)
class FileKind:
    """One kind of file: how a test puts content in place (``write(directory, data) -> path``), how rdsca loads
    it, and the one error type its layer raises for bad content."""

    name: str
    write: Callable[[Path, bytes], Path]
    load: Callable[[Path], Any]
    error: type[BaseException] | tuple[type[BaseException], ...]
    #: Valid files of this kind: every kind is also fed mutations of them (a cut, a few random bytes inserted),
    #: which reach deeper into a parser than random bytes do.
    samples: tuple[bytes, ...] = ()


def _file(name: str) -> Callable[[Path, bytes], Path]:
    def write(directory: Path, data: bytes) -> Path:
        path = directory / name
        path.write_bytes(data)
        return path

    return write


def _project_file(directory: Path, data: bytes) -> Path:
    (directory / "__main__.py").write_text("")
    return _file("Pulumi.yaml")(directory, data)


def _stack_file(directory: Path, data: bytes) -> Path:
    (directory / "__main__.py").write_text("")
    (directory / "Pulumi.yaml").write_text("name: fuzz\nruntime: python\n")
    return _file("Pulumi.dev.yaml")(directory, data)


def _pack_manifest(directory: Path, data: bytes) -> Path:
    return _file("PulumiPolicy.yaml")(directory, data)


#: A journal as rotate writes it: a start line, an intent and its outcome, and an intent left without one.
JOURNAL_SAMPLE = "".join(json.dumps(r) + "\n" for r in (
    {"type": "start", "time": "2026-11-27T00:00:00Z", "pid": 42, "command": "rotate", "rdsca": "0.1.0"},
    {"type": "intent", "seq": 1, "time": "2026-11-27T00:00:01Z", "account": "123456789012", "region": "us-east-1",
     "resource": "db", "arn": "arn:aws:rds:us-east-1:123456789012:db:db", "kind": "RDS instance",
     "action": "modify-db-instance", "previous_ca": "rds-ca-2019", "new_ca": "rds-ca-rsa2048-g1",
     "request": {"DBInstanceIdentifier": "db", "CACertificateIdentifier": "rds-ca-rsa2048-g1",
                 "ApplyImmediately": True, "CertificateRotationRestart": False},
     "babelfish": False, "reason": None, "restart": "unknown"},
    {"type": "outcome", "seq": 1, "time": "2026-11-27T00:00:02Z", "result": "accepted", "message": ""},
    {"type": "intent", "seq": 2, "time": "2026-11-27T00:00:03Z", "account": "123456789012", "region": "us-east-1",
     "resource": "db", "arn": "arn:aws:rds:us-east-1:123456789012:db:db", "action": "reboot-db-instance",
     "request": {"DBInstanceIdentifier": "db"}, "reason": "journal"},
)).encode()


def _load_journal(path: Path) -> Any:
    # What rotate --resume and audit do with a journal: read it, find changes that wait for a restart, and check
    # each request without an outcome against a (here empty) fresh scan.
    contents = journal.read(path)
    audit.restart_records([contents])
    empty = audit.audit([], audit.Options(dt.date(2026, 11, 27)))
    return [rotate.observed(intent, empty) for intent in contents.unresolved]


def _read_store(path: Path) -> Any:
    # What `truststore inspect` does: ask whether a password is needed, then read with one.
    return truststore.read(path, "password" if truststore.needs_password(path) else None)


#: A root module that declares the variable the tfvars samples set, beside a variable file under test.
_TF_ROOT = b'variable "ca" {\n  default = "rds-ca-2019"\n}\nresource "aws_db_instance" "x" {\n  ca_cert_identifier = var.ca\n}\n'
_TF_SAMPLES = {
    "main.tf": b'locals {\n  fleet = { a = "mysql" }\n}\nresource "aws_db_instance" "x" {\n  for_each = local.fleet\n'
    b'  engine = each.value\n  ca_cert_identifier = "rds-ca-${2000 + 19}"\n  apply_immediately = true\n}\n',
    "main.tf.json": b'{"resource": {"aws_db_instance": {"x": {"ca_cert_identifier": "${var.ca}"}}}, '
    b'"variable": {"ca": {"default": "rds-ca-2019"}}}',
    "terraform.tfvars": b'ca = "rds-ca-rsa2048-g1"\nother = [1, { a = true }]\n',
    "terraform.tfvars.json": b'{"ca": "rds-ca-rsa2048-g1", "other": [1, {"a": true}]}',
    "modules.json": b'{"Modules": [{"Key": "", "Source": "", "Dir": "."}, {"Key": "m", "Source": "x/y", "Dir": "m"}]}',
    "plan.json": (Path(__file__).parent / "fixtures" / "terraform" / "plans" / "update-unset-in-code.json").read_bytes(),
}


def _terraform_file(name: str, root: bool = False) -> Callable[[Path, bytes], Path]:
    """A file of a Terraform configuration directory, with a root module beside it when it is not one itself."""

    def write(directory: Path, data: bytes) -> Path:
        path = directory / (MANIFEST if name == "modules.json" else name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if root:
            (directory / "main.tf").write_bytes(_TF_ROOT)
        path.write_bytes(data)
        return path

    return write


def _terraform_check(path: Path) -> Any:
    """What ``rdsca check`` does with the file: read the directory (or plan), judge it, and build the JSON and SARIF
    output (a value that reads but is malformed must not break a judgement or the report either)."""
    if path.name == "plan.json":
        report = check_terraform(path, "plan")
    else:
        root = path.parent.parent.parent if path.name == MANIFEST.name else path.parent
        report = check_terraform(root, "terraform", environ={})
    return json.dumps([to_json(report), to_sarif(report)])


#: Blocks in the layouts --fix once broke (one-line blocks, a brace on the last attribute's line), to mutate.
_FIX_SAMPLE = (
    b'resource "aws_db_instance" "a" { ca_cert_identifier = "rds-ca-2019" }\n'
    b'resource "aws_db_instance" "b" {\n  engine = "sqlserver-se"\n  ca_cert_identifier = "rds-ca-ecc384-g1" }\n'
    b'resource "aws_db_instance" "c" {\r\n  engine = "mysql" # note\r\n}\r\n'
)


def _terraform_fix(path: Path) -> Any:
    """``rdsca check --fix``: whatever the file, a fix either leaves it as it was or writes a file that parses, and
    the re-check reads it (a ConfigError is the one allowed failure)."""
    from rdsca.terraform.config import parse_file
    from rdsca.terraform.fix import FixOptions, fix_report
    from rdsca.terraform.hcl import read_source

    before = path.read_bytes()
    report = check_terraform(path.parent, "terraform", environ={})
    fix_report(report, FixOptions(), write=True)
    after = path.read_bytes()
    if after != before:
        try:
            parse_file(read_source(path, "hcl"))
        except ConfigError as exc:  # not the allowed refusal: --fix wrote a file that does not parse
            raise AssertionError(f"--fix wrote a file that does not parse: {exc}\n{after!r}") from None
    return after


def _terraform_kind(name: str, description: str, root: bool = False) -> FileKind:
    return FileKind(description, _terraform_file(name, root), _terraform_check, ConfigError, (_TF_SAMPLES[name],))


FILE_KINDS: list[FileKind] = [
    FileKind("Pulumi.yaml", _project_file, lambda p: load_project(p.parent), ProjectError),
    FileKind("stack file", _stack_file, lambda p: load_project(p.parent, "dev"), ProjectError),
    FileKind("PulumiPolicy.yaml", _pack_manifest, lambda p: load_pack(p.parent), PolicyError),
    FileKind("policy config", _file("policy-config.json"), parse_config_file, PolicyConfigError),
    FileKind(
        "stack export (--state)",
        _file("state.json"),
        load_state,
        StateError,
        (
            json.dumps({"version": 3, "deployment": {"resources": [
                {"urn": "urn:pulumi:dev::p::aws:rds/instance:Instance::db", "id": "db-1", "custom": True,
                 "type": "aws:rds/instance:Instance", "inputs": {"engine": "mysql", "tags": {"a": ["b"]}},
                 "outputs": {"caCertIdentifier": "rds-ca-2019", "password": {
                     "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": '"x"'}}},
            ]}}).encode(),
        ),
    ),
    FileKind("trust store or bundle", _file("store.bin"), _read_store, truststore.TruststoreError),
    FileKind("audit JSON (probe --from-audit)", _file("audit.json"), load_audit, AuditFileError),
    FileKind("invoke answers (--invoke-answers)", _file("answers.yaml"), load_invoke_answers, InvokeAnswersError),
    _terraform_kind("main.tf", "Terraform .tf"),
    _terraform_kind("main.tf.json", "Terraform .tf.json"),
    _terraform_kind("terraform.tfvars", "Terraform .tfvars", root=True),
    _terraform_kind("terraform.tfvars.json", "Terraform .tfvars.json", root=True),
    _terraform_kind("modules.json", "Terraform module manifest (.terraform/modules)", root=True),
    _terraform_kind("plan.json", "Terraform plan JSON"),
    FileKind("Terraform .tf under --fix", _terraform_file("main.tf"), _terraform_fix, ConfigError, (_FIX_SAMPLE,)),
    FileKind("rotation journal (--resume, --journal)", _file("journal.jsonl"), _load_journal, journal.JournalError,
             samples=(JOURNAL_SAMPLE,)),
]
SAMPLES: list[bytes] = [sample for kind in FILE_KINDS for sample in kind.samples]


# -- strategies ----------------------------------------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
_json_values = st.recursive(
    _scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
#: Shapes the loaders look into: the keys they read, with random values at every level.
_KEYS = ["name", "runtime", "main", "config", "options", "virtualenv", "version", "deployment", "resources", "urn",
         "outputs", "type", "secure", "value", "default", "enforcementLevel", "all", "rds-ca-retired", "plaintext",
         "4dabf18193072939515e22adb298388d", "ciphertext", "checkpoint", "aws:region",
         "databases", "identifier", "region", "engine", "endpoint_address", "endpoint_port", "pending_ca",
         "aws:ec2/getAmi:getAmi", "args",
         "result", "seq", "time", "account", "resource", "arn", "action", "request", "pid", "command", "new_ca",
         "intent", "outcome", "start", "modify-db-instance", "reboot-db-instance", "CertificateRotationRestart"]
_shaped = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), children, max_size=5),
    max_leaves=25,
)


#: JSON lines shaped like a journal's records (random types and values in the fields rdsca reads), possibly cut off.
_record = st.fixed_dictionaries(
    {"type": st.sampled_from(["start", "intent", "outcome"]) | _scalars},
    optional={k: _scalars | st.integers(min_value=-2, max_value=3) | _shaped for k in _KEYS[-17:]},
)
_journal_lines = st.tuples(st.lists(_record, max_size=5), st.integers(min_value=0, max_value=400)).map(
    lambda r: "\n".join(json.dumps(v) for v in r[0]).encode()[: r[1] or None]
)


def _deep(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def _mutate(sample: bytes, at: int, insert: bytes, cut: int) -> bytes:
    at %= len(sample) + 1
    return sample[:at] + insert + sample[at + cut :]


_documents = st.one_of(
    st.binary(max_size=300),
    _json_values.map(lambda v: json.dumps(v).encode()),
    _shaped.map(lambda v: json.dumps(v).encode()),
    _shaped.map(lambda v: yaml.safe_dump(v).encode()),
    st.integers(min_value=500, max_value=200_000).map(_deep),
    _journal_lines,
    st.sampled_from([b"", b"\xff\xfe\x00", b"\xef\xbb\xbf", b"- - - -", b"a: &a [*a]", b"\x00" * 64]),
    st.builds(_mutate, st.sampled_from(SAMPLES), st.integers(0, 10_000), st.binary(max_size=12), st.integers(0, 40)),
)


def _check(kind: FileKind, directory: Path, data: bytes) -> None:
    for stale in directory.iterdir():
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    path = kind.write(directory, data)
    try:
        kind.load(path)
    except kind.error as exc:
        message = str(exc)
        assert message.strip(), f"{kind.name}: an empty error message"
        assert str(path.parent.resolve()) in message or str(path) in message or path.name in message, (
            f"{kind.name}: the error does not name the file: {message}"
        )


@pytest.mark.parametrize("kind", FILE_KINDS, ids=lambda k: k.name)
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_documents)
def test_loaders_accept_or_refuse_in_one_line(kind: FileKind, data: bytes, tmp_path: Path) -> None:
    directory = tmp_path / "fuzz"
    directory.mkdir(exist_ok=True)
    _check(kind, directory, data)


@pytest.mark.parametrize("kind", [k for k in FILE_KINDS if k.samples], ids=lambda k: k.name)
def test_samples_are_accepted(kind: FileKind, tmp_path: Path) -> None:
    """Mutations of a sample its loader refuses would test only the refusal."""
    for sample in kind.samples:
        kind.load(kind.write(tmp_path, sample))


# -- what a server sends to rdsca probe ------------------------------------------------------------------------------

#: Replies shaped like the engines' first answers (PostgreSQL's 'S', a MySQL greeting, a TDS PRELOGIN, a TLS record),
#: then mutated: a server's bytes are untrusted input like any file.
_SERVER_SAMPLES = [
    b"S\x16\x03\x03\x00\x05\x02\x00\x00\x01\x00",
    b"\x4a\x00\x00\x00\x0a8.0.39\x00\x01\x00\x00\x00abcdefgh\x00\xff\xff\x08\x02\x00\xff\xc1\x15" + bytes(10) + b"ijklmnopqrst\x00",
    b"\x04\x01\x00\x25\x00\x00\x01\x00\x00\x00\x15\x00\x06\x01\x00\x1b\x00\x01\xff\x0f\x00\x10\x9c\x00\x00\x01",
    b"\x16\x03\x03\x00\x2a\x02\x00\x00\x26\x03\x03" + bytes(32) + b"\x00\x13\x01\x00",
]
_server_replies = st.one_of(
    st.binary(max_size=200),
    st.builds(_mutate, st.sampled_from(_SERVER_SAMPLES), st.integers(0, 200), st.binary(max_size=8), st.integers(0, 20)),
)


@pytest.mark.parametrize("framing", ["postgres", "mysql", "sqlserver", "tls"])
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reply=_server_replies)
def test_probe_handshakes_refuse_any_server_reply_in_one_line(framing: str, reply: bytes) -> None:
    """Whatever a server answers (then closing), the handshake ends in a ProbeError (one line for the user) or a
    parsed handshake: never another exception, which the CLI would report as an internal error."""
    import socket
    import threading

    from rdsca.probe import wire

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def answer() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(2)
            try:
                if framing != "mysql":  # a MySQL server speaks first; the others answer the client's first message
                    conn.recv(4096)
                conn.sendall(reply)
            except OSError:
                pass

    server = threading.Thread(target=answer, daemon=True)
    server.start()
    try:
        wire.handshake("127.0.0.1", port, framing, "localhost", 2, 2)
    except wire.ProbeError as exc:
        assert str(exc).strip() and "\n" not in str(exc)
    finally:
        listener.close()
        server.join(timeout=5)
