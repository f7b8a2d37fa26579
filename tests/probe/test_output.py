"""``rdsca probe``'s formats (table, JSON, CSV, SARIF valid against the OASIS schema) and usage errors."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import jsonschema
import pytest

from ..conftest import FIXTURES
from .conftest import Pki, probe
from .servers import Server, free_port

SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())


def _args(pg: Server, certs: Pki) -> list[str]:
    # One trusted-and-ready store, one that does not trust, one that will break; and a refused port.
    return [
        f"localhost:{pg.port}",
        f"127.0.0.1:{free_port()}",
        "--engine",
        "postgres",
        "--target-ca",
        "rds-ca-rsa4096-g1",
        "--region",
        "us-east-1",
        *certs.store_args("a+bundle.pem", "b.pem", "a.pem"),
    ]


def test_table(pg: Server, certs: Pki) -> None:
    run = probe(*_args(pg, certs))
    assert run.exit_code == 2
    lines = run.stdout.splitlines()
    assert lines[0].split() == [
        "ENDPOINT",
        "ENGINE",
        "TLS",
        "CERTIFICATE",
        "KEY",
        "DAYS",
        "LEFT",
        "ISSUING",
        "CA",
        "STORE",
        "TRUST",
        "TARGET",
        "AFTER",
        "ROTATION",
    ]
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines[2:6]]
    head = [f"localhost:{pg.port}", "postgres", "TLSv1.3", "localhost", "EC secp256r1", "365", "other: rdsca test root A"]
    assert cells[:3] == [
        [*head, str(certs.stores["a+bundle.pem"]), "trusted", "rds-ca-rsa4096-g1", "ready"],
        [*head, str(certs.stores["b.pem"]), "NOT TRUSTED", "rds-ca-rsa4096-g1", "WILL BREAK"],
        [*head, str(certs.stores["a.pem"]), "trusted", "rds-ca-rsa4096-g1", "WILL BREAK"],
    ]
    assert cells[3][1:] == ["postgres", "-", "-", "-", "-", "-", "-", "not probed", "-", "-"]
    assert (
        f"not trusted: localhost:{pg.port} with {certs.stores['b.pem']}: localhost is issued by rdsca test root A, "
        "which is not a root in the store" in lines
    )
    assert any(
        line.startswith(f"will break: localhost:{pg.port} with {certs.stores['a.pem']}: no current") for line in lines
    )
    assert any(line.startswith("not probed: 127.0.0.1:") and line.endswith(": connection refused") for line in lines)


def test_csv(pg: Server, certs: Pki) -> None:
    run = probe(*_args(pg, certs), "--format", "csv")
    assert run.exit_code == 2
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert [(Path(r["store"]).name if r["store"] else "", r["trusted"], r["rotation"], r["error"]) for r in rows] == [
        ("a+bundle.pem", "yes", "ready", ""),
        ("b.pem", "no", "will-break", ""),
        ("a.pem", "yes", "will-break", ""),
        ("", "", "", "connection refused"),
    ]
    assert rows[0]["sans"] == "localhost db.rdsca.test" and rows[0]["key_type"] == "EC secp256r1"
    assert "error: 127.0.0.1:" in run.stderr


def test_sarif_is_valid_and_names_each_problem(pg: Server, certs: Pki) -> None:
    run = probe(*_args(pg, certs), "--format", "sarif")
    assert run.exit_code == 2
    document = run.json()
    jsonschema.validate(document, SCHEMA)
    results = document["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == [
        "rdsca-probe-not-probed",
        "rdsca-probe-not-trusted",
        "rdsca-probe-will-break",
        "rdsca-probe-will-break",
    ]
    assert all(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in results)


def test_no_store_shows_the_chain_without_judging(pg: Server) -> None:
    run = probe(f"localhost:{pg.port}", "--engine", "postgres")
    assert run.exit_code == 0
    assert "not judged" in run.stdout
    assert run.stdout.rstrip().endswith(
        "no trust store given (--store FILE or --system): the chains are shown, not judged"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give one or more ENDPOINTs, or --from-audit FILE"),
        (["db:99999"], "endpoint 'db:99999': the port must be a number from 1 to 65535"),
        (["db"], "endpoint 'db': give a port (HOST:PORT) or --engine"),
        (["db:1234"], "endpoint 'db:1234': cannot tell the engine from port 1234: give --engine"),
        (["db;ls:5432"], "endpoint 'db;ls:5432': not a host name or IP address"),
        (["[::1:5432"], "endpoint '[::1:5432': expected [IPv6]:PORT"),
        (["db", "--engine", "tls"], "endpoint 'db': give a port (HOST:PORT) for --engine tls"),
        (["a:5432", "b:5432", "--server-name", "x"], "--server-name names one endpoint"),
        (["a:5432", "--target-ca", "rds-ca-2019"], "--target-ca: cannot use 'rds-ca-2019' as the target CA"),
        (["a:5432", "--region", "Narnia"], "--region 'Narnia': not a region name such as us-east-1"),
        (["a:5432", "--as-of", "yesterday"], "invalid date 'yesterday'"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    run = probe(*args)
    assert run.exit_code == 2
    assert message in run.stderr and "Traceback" not in run.stderr


def test_a_store_that_needs_a_password_without_one(certs: Pki) -> None:
    run = probe("localhost:5432", *certs.store_args("a.jks"))
    assert run.exit_code == 2
    assert run.stderr == (
        f"rdsca: error: {certs.stores['a.jks']} needs a password: give --password-env VAR (there is no terminal to "
        "prompt on)\n"
    )


def test_an_unreadable_store(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")
    run = probe("localhost:5432", "--store", str(bad))
    assert (run.exit_code, run.stderr) == (
        2,
        f"rdsca: error: {bad}: truncated PEM (a BEGIN CERTIFICATE without its END)\n",
    )
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    run = probe("localhost:5432", "--store", str(empty))
    assert (run.exit_code, run.stderr) == (2, f"rdsca: error: {empty}: a directory without PEM certificates\n")


def test_audit_and_probe_csv_writers_neutralise_formulas() -> None:
    """Both CSV writers go through rdsca.output.csv_row (a SAN or identifier starting with = + - @ runs in a sheet)."""
    import inspect

    from rdsca.aws import audit_report
    from rdsca.probe import report

    for module in (audit_report, report):
        assert "csv_row(" in inspect.getsource(module.to_csv)


@pytest.mark.parametrize("host", ["a..b", "x" * 64 + ".example.com"])
def test_a_bad_host_name_is_one_endpoint_s_error_and_the_others_are_still_reported(host: str) -> None:
    """`probe a..b:5432` or a 64-character label was "internal error: UnicodeError" and lost every other endpoint."""
    from click.testing import CliRunner

    from rdsca.cli import cli

    result = CliRunner().invoke(
        cli, ["probe", f"{host}:5432", "127.0.0.1:1", "--engine", "postgres", "--connect-timeout", "1", "--format", "json"]
    )
    assert "internal error" not in result.stderr
    endpoints = json.loads(result.stdout)["endpoints"]
    assert len(endpoints) == 2
    assert "is not a valid host name" in endpoints[0]["error"]
    assert "could not probe" in result.stderr and "probed " not in result.stderr.replace("could not probe", "")


def test_ctrl_c_during_a_silent_handshake_stops_at_once(tmp_path: Path) -> None:
    """SIGINT while a server accepts and never answers waited out the handshake timeout (the thread pool joined its
    threads): the probe stops at once. Bounded, not timed: the timeout is 600 s, the test waits 60 s at most."""
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "rdsca.cli", "probe", f"127.0.0.1:{port}", "--engine", "postgres",
             "--handshake-timeout", "600"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        listener.settimeout(60)
        conn, _ = listener.accept()  # the probe is now waiting for the server's answer
        with conn:
            proc.send_signal(signal.SIGINT)
            _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip().splitlines()[-1] == "rdsca: error: interrupted; nothing more was done"


def test_a_server_that_never_ends_its_reply_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """A TDS server that never ends its reply packet grew rdsca to 4-5 GB within the handshake timeout: every wire
    reader is capped (rdsca.probe.wire.MAX_BYTES, made small here so the test sends little)."""
    import socket
    import struct
    import threading

    from rdsca.probe import wire

    monkeypatch.setattr(wire, "MAX_BYTES", 64 * 1024)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def endless() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)  # the PRELOGIN
            packet = struct.pack(">BBHHBB", 0x04, 0x00, 4096, 0, 1, 0) + bytes(4088)  # never end-of-message
            try:
                while True:
                    conn.sendall(packet)
            except OSError:
                pass

    threading.Thread(target=endless, daemon=True).start()
    try:
        with pytest.raises(wire.ProbeError, match="the server sent more than 64 KiB"):
            wire.handshake("127.0.0.1", port, wire.SQLSERVER, "localhost", 5, 30)
    finally:
        listener.close()


def test_several_reports_in_one_run(pg: Server, certs: Pki, tmp_path: Path) -> None:
    """Issue 26.4: --output FORMAT=PATH on probe, the same documents as --format gives, and JUnit."""
    sarif, table, junit = tmp_path / "p.sarif", tmp_path / "p.txt", tmp_path / "p.xml"
    run = probe(*_args(pg, certs), "--format", "json", "--output", f"sarif={sarif}", "--output", f"table={table}",
                "--output", f"junit={junit}")
    assert run.exit_code == 2
    assert run.json()["summary"]["endpoints"] == 2
    schema = json.loads((FIXTURES.parent.parent / "docs" / "schemas" / "results.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(run.json())
    assert len(run.json()["results"]) == len(json.loads(sarif.read_text())["runs"][0]["results"])
    jsonschema.validate(json.loads(sarif.read_text()), SCHEMA)
    assert table.read_text().splitlines()[0].split()[0] == "ENDPOINT"
    assert run.stderr.count("error: 127.0.0.1:") == 1  # said once, not once per report
    import xml.etree.ElementTree as ET

    suite = ET.parse(junit).getroot().find("testsuite")
    # One failing case per store that fails an endpoint (not trusting it, or breaking after rotation), one per
    # endpoint not probed.
    assert suite is not None and int(suite.get("failures") or 0) == 3


def test_a_baseline_and_configuration_suppressions_apply_to_probe(pg: Server, certs: Pki, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 26.1/26.2: probe takes suppressions from the configuration file and a baseline (by endpoint and rule);
    an endpoint that could not be probed stays an error."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    args = [f"localhost:{pg.port}", "--engine", "postgres", "--target-ca", "rds-ca-rsa4096-g1", "--region",
            "us-east-1", *certs.store_args("a+bundle.pem", "b.pem", "a.pem")]
    first = probe(*args, "--create-baseline", "base.json")
    assert first.exit_code == 1
    (tmp_path / ".rdsca.yaml").write_text(
        "skip:\n  - {policy: rdsca-probe-not-trusted, resource: 'localhost:*', reason: the old store is retired}\n")
    run = probe(*args, "--baseline", "base.json", "--format", "json")
    assert run.exit_code == 0, run.stderr
    kinds = {(r["policy"], r["suppressed"]["kind"], bool(r["suppressed"].get("baseline"))) for r in run.json()["results"]}
    assert kinds == {("rdsca-probe-not-trusted", "external", False), ("rdsca-probe-will-break", "external", True)}
    sarif = probe(*args, "--baseline", "base.json", "--format", "sarif").json()
    jsonschema.validate(sarif, SCHEMA)
    assert all(r.get("suppressions") for r in sarif["runs"][0]["results"])
    assert probe(*args, "--check", "rdsca-probe-nope").exit_code == 2
