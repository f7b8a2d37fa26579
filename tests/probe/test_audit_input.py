"""``rdsca probe --from-audit``: the audit JSON as untrusted input (exact errors, fuzzing) and as a fleet to probe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rdsca.probe.endpoints import load_audit

from .conftest import Pki, probe, store_verdicts
from .servers import Server

RSA2048, RSA4096 = "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1"


def row(identifier: str, engine: str, address: str | None, port: int | None, **extra: Any) -> dict[str, Any]:
    """One database as ``rdsca audit --format json`` writes it (the fields the probe reads, and a few it does not)."""
    return {
        "region": "us-east-1",
        "kind": "RDS instance",
        "identifier": identifier,
        "arn": f"arn:aws:rds:us-east-1:1:db:{identifier}",
        "engine": engine,
        "engine_version": "16.4",
        "endpoint_address": address,
        "endpoint_port": port,
        "ca": RSA2048,
        "ca_status": "ok",
        "pending_ca": None,
        "replacement": None,
        "not_applicable": None,
        "findings": [],
        **extra,
    }


def write(tmp_path: Path, rows: list[Any], name: str = "audit.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"as_of": "2026-11-27", "databases": rows, "findings": 0, "errors": []}))
    return path


# -- malformed files: one line, exit 2 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not JSON (Expecting value, line 1 column 1)"),
        (b"\xff\xfe{", "not JSON (not UTF-8 text, or nested too deeply)"),
        (b"[" * 100000, "not JSON (not UTF-8 text, or nested too deeply)"),
        (b"[]", 'not the JSON of rdsca audit (no "databases" list)'),
        (b'{"databases": {}}', 'not the JSON of rdsca audit (no "databases" list)'),
        (
            b'{"databases": [{"identifier": "a", "region": "us-east-1"}]}',
            "no database has an endpoint address; write the file again with this version's rdsca audit --format json",
        ),
        (b'{"databases": [7, {"endpoint_address": null}]}', "databases[0]: expected an object"),
        (
            b'{"databases": [{"endpoint_address": "h", "identifier": 5, "region": "r"}]}',
            "databases[0].identifier: expected text, got 5",
        ),
        (
            b'{"databases": [{"endpoint_address": "h", "identifier": "a"}]}',
            "databases[0].region: expected text, got null",
        ),
        (
            b'{"databases": [{"endpoint_address": "h", "identifier": "a", "region": "r", "endpoint_port": "5432"}]}',
            'databases[0].endpoint_port: expected a port from 1 to 65535, got "5432"',
        ),
        (
            b'{"databases": [{"endpoint_address": "h", "identifier": "a", "region": "r", "endpoint_port": true}]}',
            "databases[0].endpoint_port: expected a port from 1 to 65535, got true",
        ),
        (
            b'{"databases": [{"endpoint_address": "h", "identifier": "a", "region": "r", "endpoint_port": 70000}]}',
            "databases[0].endpoint_port: expected a port from 1 to 65535, got 70000",
        ),
        (
            b'{"databases": [{"endpoint_address": "a b; rm -rf /", "identifier": "a", "region": "r"}]}',
            "databases[0].endpoint_address: not a host name or IP address",
        ),
        (
            b'{"databases": [{"endpoint_address": "h", "identifier": "a", "region": "r", "engine": ["pg"]}]}',
            'databases[0].engine: expected text, got ["pg"]',
        ),
    ],
)
def test_malformed_audit_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "audit.json"
    path.write_bytes(content)
    run = probe("--from-audit", str(path))
    assert run.exit_code == 2
    assert run.stderr == f"rdsca: error: {path}: {message}\n"
    assert run.stdout == ""


def test_a_missing_audit_file(tmp_path: Path) -> None:
    run = probe("--from-audit", str(tmp_path / "nope.json"))
    assert (run.exit_code, run.stderr) == (
        2,
        f"rdsca: error: cannot read {tmp_path / 'nope.json'}: No such file or directory\n",
    )


# The loader's own fuzzing (random JSON shapes with the audit's keys) is in tests/test_fuzz_inputs.py; this one
# goes through the command line: exit 2 and one line, never a traceback.
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_fuzz_random_bytes_exit_2_with_one_line(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.json"
    path.write_bytes(data)
    run = probe("--from-audit", str(path))
    if run.exit_code == 0:  # '{"databases": []}' and its kin: nothing to probe
        assert json.loads(data)["databases"] == []
        return
    assert run.exit_code == 2
    assert run.stderr.startswith("rdsca: error: ") and run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr


# -- a fleet from an audit file, against the real servers -------------------------------------------------------


def test_from_audit_probes_each_engine_its_own_way(
    tmp_path: Path, pg: Server, mariadb: Server, tds, tls, certs: Pki
) -> None:
    rows = [
        row("orders-pg", "postgres", "localhost", pg.port),
        row("billing-maria", "mariadb", "localhost", mariadb.port, pending_ca=RSA4096),
        row(
            "reports-mssql",
            "sqlserver-se",
            "localhost",
            tds.port,
            ca="rds-ca-2019",
            ca_status="retired",
            replacement=RSA4096,
        ),
        row("docs", "docdb", "localhost", tls.port),
        row(
            "app-proxy",
            "POSTGRESQL",
            "localhost",
            pg.port,
            kind="RDS Proxy",
            ca=None,
            ca_status="not-applicable",
            not_applicable="RDS Proxy uses ACM certificates (Amazon Root CA); nothing to rotate",
        ),
        row("creating", "postgres", None, None),
    ]
    path = write(tmp_path, rows)
    run = probe(
        "--from-audit",
        str(path),
        *certs.store_args("a+bundle.pem", "a.pem"),
        "--format",
        "json",
    )
    assert run.exit_code == 2  # "creating" has no endpoint
    docs = {d["database"]: d for d in run.json()["endpoints"]}
    assert list(docs) == [r["identifier"] for r in rows]  # the audit's order, whatever finished first
    targets = {k: (d.get("target_ca"), d.get("target_source"), d.get("region_source")) for k, d in docs.items()}
    assert targets == {
        "orders-pg": (RSA2048, "the database's current CA", "audit"),
        "billing-maria": (RSA4096, "the audit's pending change", "audit"),
        "reports-mssql": (RSA4096, "the audit's replacement", "audit"),
        "docs": (RSA2048, "the database's current CA", "audit"),
        "app-proxy": (None, None, "audit"),
        "creating": (None, None, None),
    }
    for name in ("orders-pg", "billing-maria", "reports-mssql", "docs"):
        assert store_verdicts(docs[name]) == {
            "a+bundle.pem": (True, [], "ready"),
            "a.pem": (True, [], "will-break"),
        }, name
    assert store_verdicts(docs["app-proxy"])["a.pem"] == (True, [], "not-applicable")
    assert docs["app-proxy"]["rotation_not_applicable"].startswith("RDS Proxy uses ACM certificates")
    assert docs["creating"]["error"] == "the audit has no endpoint address for it (not yet created?)"
    assert "error: creating (-): the audit has no endpoint address for it" in run.stderr
    # Without the endpoint that cannot be probed, findings decide: a.pem will break.
    path = write(tmp_path, rows[:-1], "audit2.json")
    assert probe("--from-audit", str(path), *certs.store_args("a+bundle.pem")).exit_code == 0
    assert probe("--from-audit", str(path), *certs.store_args("a.pem")).exit_code == 1


def test_oracle_from_an_audit_goes_to_the_tcps_port(tmp_path: Path) -> None:
    path = write(tmp_path, [row("erp", "oracle-ee", "erp.abc.us-east-1.rds.amazonaws.com", 1521)])
    (endpoint,) = load_audit(path)
    assert (endpoint.port, endpoint.engine, endpoint.note) == (
        2484,
        "oracle",
        "Oracle TCPS on port 2484, the SSL option's default (the listener is on 1521)",
    )


def test_an_empty_audit_probes_nothing(tmp_path: Path) -> None:
    run = probe("--from-audit", str(write(tmp_path, [])), "--format", "json")
    assert run.exit_code == 0
    assert run.json()["endpoints"] == []


def test_report_joins_a_probe_to_its_audit(tmp_path: Path, pg: Server, certs: Pki) -> None:
    """``rdsca report`` over an audit and the probe made from it: the store that lacks the new CA is named on the
    database's row (clients will break), and ``--output html=`` of the probe alone shows the endpoint."""
    from ..conftest import invoke

    rows = [row("orders-pg", "postgres", "localhost", pg.port, account="111122223333")]
    audit = write(tmp_path, rows)
    page = tmp_path / "probe.html"
    run = probe("--from-audit", str(audit), *certs.store_args("a+bundle.pem", "a.pem"), "--format", "json",
                "--output", f"html={page}")
    assert run.exit_code == 1
    (tmp_path / "probe.json").write_text(run.stdout)
    assert '<td class="id">orders-pg</td>' in page.read_text()
    audit.write_text(json.dumps({"accounts": [], "regions": [], "databases": rows}))
    code, out, err = invoke("report", audit, tmp_path / "probe.json", "--html", tmp_path / "r.html",
                            "--format", "json")
    assert code == 1, err  # a.pem will break
    (joined,) = json.loads(out)["databases"]
    assert (joined["identifier"], joined["live"], joined["stores_break"], joined["stores_ready"]) == (
        "orders-pg", True, [str(certs.stores["a.pem"])], [str(certs.stores["a+bundle.pem"])])
    assert joined["clients"] == "will break"
