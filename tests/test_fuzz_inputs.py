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
import os
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
from rdsca.runner import ProjectError, load_project
from rdsca.runner.analyzer import PolicyError, load_pack, load_state, parse_config_file

#: Cases per kind in the suite; the stress profile's ``max_examples`` (1,000) overrides it.
MAX_EXAMPLES = 40 if settings().max_examples < 1000 else settings().max_examples
COUNTS: dict[str, int] = {}


@dataclass(frozen=True)
class FileKind:
    """One kind of file: how a test puts content in place (``write(directory, data) -> path``), how rdsca loads
    it, and the one error type its layer raises for bad content."""

    name: str
    write: Callable[[Path, bytes], Path]
    load: Callable[[Path], Any]
    error: type[BaseException] | tuple[type[BaseException], ...]


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


FILE_KINDS: list[FileKind] = [
    FileKind("Pulumi.yaml", _project_file, lambda p: load_project(p.parent), ProjectError),
    FileKind("stack file", _stack_file, lambda p: load_project(p.parent, "dev"), ProjectError),
    FileKind("PulumiPolicy.yaml", _pack_manifest, lambda p: load_pack(p.parent), PolicyError),
    FileKind("policy config", _file("policy-config.json"), parse_config_file, PolicyError),
    FileKind("stack export (--state)", _file("state.json"), load_state, PolicyError),
    FileKind("trust store or bundle", _file("store.bin"), _read_store, truststore.TruststoreError),
    FileKind("audit JSON (probe --from-audit)", _file("audit.json"), load_audit, AuditFileError),
    FileKind("rotation journal (--resume, --journal)", _file("journal.jsonl"), _load_journal, journal.JournalError),
]


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
         "seq", "time", "account", "resource", "arn", "action", "request", "result", "pid", "command", "new_ca",
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


_documents = st.one_of(
    st.binary(max_size=300),
    _json_values.map(lambda v: json.dumps(v).encode()),
    _shaped.map(lambda v: json.dumps(v).encode()),
    _shaped.map(lambda v: yaml.safe_dump(v).encode()),
    st.integers(min_value=500, max_value=200_000).map(_deep),
    _journal_lines,
    st.sampled_from([b"", b"\xff\xfe\x00", b"\xef\xbb\xbf", b"- - - -", b"a: &a [*a]", b"\x00" * 64]),
)


def _check(kind: FileKind, directory: Path, data: bytes) -> None:
    COUNTS[kind.name] = COUNTS.get(kind.name, 0) + 1
    for stale in directory.iterdir():
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


def test_print_counts_for_the_stress_profile() -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") is None and COUNTS:
        print("\nfuzz cases per file kind: " + ", ".join(f"{k}: {v}" for k, v in sorted(COUNTS.items())))
