"""``rdsca probe`` against real servers on loopback: PostgreSQL and MariaDB, an in-test SQL Server (TLS inside TDS)
and an in-test direct-TLS server (Oracle TCPS, DocumentDB). Where a real client exists here (psql, the mariadb
client, python-tds, Python's ssl module) it is asked too, so the probe's verdict is checked against a client's."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import pki
from .conftest import PASSWORD, RDS_HOST, Pki, endpoint, probe, store_verdicts
from .servers import Server, free_port, silent_port

RSA4096 = "rds-ca-rsa4096-g1"


def psql_verifies(port: int, host: str, root: Path) -> bool:
    """Whether libpq with sslmode=verify-full accepts the server (an independent client)."""
    if not shutil.which("psql"):
        pytest.skip("psql is not installed")
    done = subprocess.run(
        [
            "psql",
            f"host={host} port={port} sslmode=verify-full sslrootcert={root} user=postgres dbname=postgres",
            "-Atc",
            "select 1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.returncode == 0 and done.stdout.strip() == "1"


# -- PostgreSQL ----------------------------------------------------------------------------------------------------


def test_postgres_trusted_with_the_served_chain_reported(pg: Server, certs: Pki, pinned_today: dt.date) -> None:
    run = probe(f"localhost:{pg.port}", "--engine", "postgres", *certs.store_args("a.pem"), "--format", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    doc = endpoint(run)
    assert (doc["engine"], doc["probed"], doc["tls_version"]) == ("postgres", True, "TLSv1.3")
    leaf = doc["server_certificate"]
    assert (leaf["subject_cn"], leaf["sans"], leaf["key_type"]) == (
        "localhost",
        ["localhost", "db.rdsca.test"],
        "EC secp256r1",
    )
    assert leaf["days_left"] == (pki.VALID[1].date() - pinned_today).days
    # Issue 23.15: a chain from no RDS CA names who issued it.
    assert doc["issuing_ca"] == {"family": None, "region": None, "stage": None, "issuer": "rdsca test root A"}
    assert store_verdicts(doc) == {"a.pem": (True, [], "not-applicable")}
    assert doc["stores"][0]["anchor"] == "rdsca test root A"
    assert doc["rotation_not_applicable"].startswith("the served chain is not from an RDS CA")
    assert "probed localhost:" in run.stderr  # progress on stderr
    assert psql_verifies(pg.port, "localhost", certs.dir / "root-a.pem")


def test_postgres_root_missing_from_the_store(pg: Server, certs: Pki) -> None:
    run = probe(f"localhost:{pg.port}", "--engine", "postgres", *certs.store_args("b.pem"), "--format", "json")
    assert run.exit_code == 1
    doc = endpoint(run)
    assert store_verdicts(doc) == {"b.pem": (False, ["unknown-root"], "not-applicable")}
    assert doc["stores"][0]["problems"][0]["text"] == (
        "localhost is issued by rdsca test root A, which is not a root in the store"
    )
    assert not psql_verifies(pg.port, "localhost", certs.dir / "root-b.pem")


def test_postgres_expired_server_certificate(pg_expired: Server, certs: Pki) -> None:
    run = probe(f"localhost:{pg_expired.port}", "--engine", "postgres", *certs.store_args("a.pem"))
    assert run.exit_code == 1
    assert "NOT TRUSTED" in run.stdout
    assert any(
        line.startswith(f"not trusted: localhost:{pg_expired.port} with ")
        and "the server certificate localhost expired on" in line
        for line in run.stdout.splitlines()
    ), run.stdout
    assert not psql_verifies(pg_expired.port, "localhost", certs.dir / "root-a.pem")


def test_postgres_wrong_host_name(pg: Server, certs: Pki) -> None:
    store = str(certs.stores["a.pem"])
    # The certificate names localhost and db.rdsca.test, not the address dialled.
    run = probe(f"127.0.0.1:{pg.port}", "--engine", "postgres", "--store", store, "--format", "json")
    assert run.exit_code == 1
    doc = endpoint(run)
    assert store_verdicts(doc) == {"a.pem": (False, ["name-mismatch"], "not-applicable")}
    assert doc["stores"][0]["problems"][0]["text"] == (
        "the server certificate is for localhost, db.rdsca.test, not 127.0.0.1"
    )
    assert not psql_verifies(pg.port, "127.0.0.1", certs.dir / "root-a.pem")
    # A client that dials the certificate's other name, or checks only the CA, trusts it.
    assert (
        probe(
            f"127.0.0.1:{pg.port}", "--engine", "postgres", "--store", store, "--server-name", "db.rdsca.test"
        ).exit_code
        == 0
    )
    assert probe(f"127.0.0.1:{pg.port}", "--engine", "postgres", "--store", store, "--no-hostname").exit_code == 0


def test_postgres_without_tls_is_named_and_the_others_still_reported(pg_plain: Server, pg: Server, certs: Pki) -> None:
    run = probe(
        f"localhost:{pg_plain.port}",
        f"localhost:{pg.port}",
        "--engine",
        "postgres",
        *certs.store_args("a.pem"),
        "--format",
        "json",
    )
    assert run.exit_code == 2
    plain, good = run.json()["endpoints"]
    assert (plain["probed"], plain["error"]) == (
        False,
        "the server does not offer TLS (PostgreSQL answered N to SSLRequest: ssl is off)",
    )
    assert good["probed"] and good["stores"][0]["trusted"]
    assert f"error: localhost:{pg_plain.port}: the server does not offer TLS" in run.stderr


def test_will_break_and_ready_for_the_target_ca(pg: Server, certs: Pki) -> None:
    args = [
        f"localhost:{pg.port}",
        "--engine",
        "postgres",
        "--target-ca",
        RSA4096,
        "--region",
        "us-east-1",
        "--format",
        "json",
    ]
    run = probe(*args, *certs.store_args("a.pem", "a+bundle.pem"))
    assert run.exit_code == 1
    doc = endpoint(run)
    assert (doc["target_ca"], doc["target_source"], doc["region"], doc["region_source"]) == (
        RSA4096,
        "--target-ca",
        "us-east-1",
        "--region",
    )
    assert store_verdicts(doc) == {"a.pem": (True, [], "will-break"), "a+bundle.pem": (True, [], "ready")}
    assert doc["stores"][0]["rotation_reason"] == (
        f"no current {RSA4096} root for us-east-1: clients with this store break once the database serves {RSA4096}"
    )
    assert probe(*args, *certs.store_args("a+bundle.pem")).exit_code == 0


@pytest.mark.parametrize("store", ["a.jks", "a.p12", "a-dir"])
def test_jks_pkcs12_and_pem_dir_stores(pg: Server, certs: Pki, store: str) -> None:
    env = {"STORE_PW": PASSWORD}
    run = probe(
        f"localhost:{pg.port}",
        "--engine",
        "postgres",
        *certs.store_args(store),
        "--password-env",
        "STORE_PW",
        "--format",
        "json",
        env=env,
    )
    assert run.exit_code == 0, run.stdout + run.stderr
    assert store_verdicts(endpoint(run)) == {store: (True, [], "not-applicable")}


@pytest.mark.parametrize("store", ["a.jks", "a.p12"])
def test_wrong_store_password_is_one_line(pg: Server, certs: Pki, store: str) -> None:
    run = probe(
        f"localhost:{pg.port}",
        "--engine",
        "postgres",
        *certs.store_args(store),
        "--password-env",
        "PW",
        env={"PW": "not-the-pass-7"},
    )
    assert run.exit_code == 2
    assert run.stderr.count("\n") == 1 and "password" in run.stderr and "Traceback" not in run.stderr
    assert "not-the-pass-7" not in run.stderr


def test_system_store(pg: Server, certs: Pki) -> None:
    run = probe(
        f"localhost:{pg.port}",
        "--engine",
        "postgres",
        "--system",
        "--format",
        "json",
        env={"SSL_CERT_FILE": str(certs.stores["a.pem"]), "SSL_CERT_DIR": str(certs.dir / "none")},
    )
    assert run.exit_code == 0, run.stderr
    assert endpoint(run)["stores"][0]["store"] == f"system ({certs.stores['a.pem']})"


def test_as_of_judges_validity(pg: Server, certs: Pki) -> None:
    store = str(certs.stores["a.pem"])
    late = probe(
        f"localhost:{pg.port}", "--engine", "postgres", "--store", store, "--as-of", "2099-01-01", "--format", "json"
    )
    assert late.exit_code == 1
    assert [p["code"] for p in endpoint(late)["stores"][0]["problems"]] == ["expired", "expired"]  # leaf and root


# -- silence and refusal -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "awaited"),
    [
        ("postgres", "to the PostgreSQL SSLRequest"),
        ("mysql", "with the MySQL greeting"),
        ("sqlserver", "to the TDS PRELOGIN"),
        ("tls", "during the TLS handshake"),
    ],
)
def test_a_port_that_never_answers_times_out(engine: str, awaited: str) -> None:
    with silent_port() as port:
        started = time.monotonic()
        run = probe(f"127.0.0.1:{port}", "--engine", engine, "--handshake-timeout", "0.5", "--format", "json")
        elapsed = time.monotonic() - started
    assert run.exit_code == 2
    assert endpoint(run)["error"] == f"no answer within 0.5 s {awaited}"
    assert elapsed < 5


def test_a_name_with_several_silent_addresses_says_how_long_it_took(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 24.19: eight silent addresses with --connect-timeout 2 took 16 s and said "within 2 s". Python's
    create_connection gives each address the whole timeout; here two addresses, each waited out."""
    from rdsca.probe import wire

    def two_silent_addresses(address: tuple[str, int], timeout: float) -> None:
        time.sleep(2 * timeout)
        raise TimeoutError("timed out")

    monkeypatch.setattr(wire.socket, "create_connection", two_silent_addresses)
    with pytest.raises(wire.ProbeError) as caught:
        wire.handshake("db.example", 5432, "postgres", "db.example", 0.2, 1)
    message = str(caught.value)
    assert message.startswith("no connection after 0.4 s") or message.startswith("no connection after 0.5 s"), message
    assert message.endswith("(each of the addresses db.example resolves to was given 0.2 s)")


def test_refused_and_unresolvable() -> None:
    port = free_port()
    run = probe(f"127.0.0.1:{port}", "nothing.invalid:5432", "--engine", "postgres", "--format", "json")
    assert run.exit_code == 2
    refused, unresolved = run.json()["endpoints"]
    assert refused["error"] == "connection refused"
    assert unresolved["error"].startswith("cannot resolve nothing.invalid")


# -- MariaDB -------------------------------------------------------------------------------------------------------


def mariadb_verifies(server: Server, root: Path) -> bool:
    client = shutil.which("mariadb")
    if not client:
        pytest.skip("the mariadb client is not installed")
    done = subprocess.run(
        [
            client,
            "--protocol=tcp",
            "-h",
            "localhost",
            "-P",
            str(server.port),
            "-u",
            "root",
            f"--ssl-ca={root}",
            "--ssl-verify-server-cert",
            "-Nse",
            "select 1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.returncode == 0 and done.stdout.strip() == "1"


def test_mariadb_trusted_and_not(mariadb: Server, certs: Pki) -> None:
    run = probe(
        f"localhost:{mariadb.port}",
        "--engine",
        "mariadb",
        *certs.store_args("a.pem", "b.pem"),
        "--format",
        "json",
    )
    assert run.exit_code == 1
    doc = endpoint(run)
    assert doc["engine"] == "mariadb" and "MariaDB" in doc["server"]
    # MariaDB sends its --ssl-ca after its own certificate; a served root is not trusted for being sent.
    assert [c["subject_cn"] for c in doc["chain"]] == ["localhost", "rdsca test root A"]
    assert store_verdicts(doc) == {
        "a.pem": (True, [], "not-applicable"),
        "b.pem": (False, ["unknown-root"], "not-applicable"),
    }
    assert mariadb_verifies(mariadb, certs.dir / "root-a.pem")
    assert not mariadb_verifies(mariadb, certs.dir / "root-b.pem")


def test_mariadb_without_tls(mariadb_plain: Server) -> None:
    run = probe(f"127.0.0.1:{mariadb_plain.port}", "--engine", "mariadb", "--format", "json")
    assert run.exit_code == 2
    assert endpoint(run)["error"].startswith("the server does not offer TLS (no SSL capability in the greeting of ")


# -- SQL Server (TLS inside TDS) -----------------------------------------------------------------------------------


def test_sqlserver_framing_trusted(tds, certs: Pki) -> None:
    run = probe(f"localhost:{tds.port}", "--engine", "sqlserver", *certs.store_args("a.pem"), "--format", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    doc = endpoint(run)
    assert (doc["server"], doc["tls_version"]) == ("SQL Server 15.0.4236", "TLSv1.2")
    assert store_verdicts(doc) == {"a.pem": (True, [], "not-applicable")}


@pytest.mark.filterwarnings("ignore::DeprecationWarning:pytds.*")
def test_the_tds_server_satisfies_an_independent_client(tds, certs: Pki) -> None:
    """python-tds (pyOpenSSL underneath) completes the handshake in TDS framing and sends LOGIN7 through TLS;
    with another root it refuses the certificate: the in-test server is a real TDS peer, not the probe's echo."""
    pytds = pytest.importorskip("pytds")
    before = len(tds.events)
    with pytest.raises(Exception):  # noqa: B017 - the server hangs up after LOGIN7; what matters is below
        pytds.connect(
            "localhost",
            port=tds.port,
            user="probe-user",
            password="x",
            cafile=str(certs.dir / "root-a.pem"),
            validate_host=True,
            login_timeout=5,
            timeout=5,
        )
    events = tds.events[before:]
    assert "handshake TLSv1.2" in events
    assert any(e.startswith("login7 type 0x10") for e in events), events
    before = len(tds.events)
    with pytest.raises(Exception, match="certificate verify failed|verify"):
        pytds.connect(
            "localhost",
            port=tds.port,
            user="u",
            password="x",
            cafile=str(certs.dir / "root-b.pem"),
            validate_host=True,
            login_timeout=5,
            timeout=5,
        )
    assert not any(e.startswith("login7") for e in tds.events[before:])


def test_sqlserver_without_encryption(tds_plain) -> None:
    run = probe(f"127.0.0.1:{tds_plain.port}", "--engine", "sqlserver", "--format", "json")
    assert run.exit_code == 2
    assert endpoint(run)["error"] == "the server does not offer TLS (PRELOGIN answered ENCRYPT_NOT_SUP)"


def test_sqlserver_rds_chain_defaults_to_its_current_ca(tds, certs: Pki) -> None:
    args = [f"127.0.0.1:{tds.port}", "--engine", "sqlserver", "--server-name", RDS_HOST, "--format", "json"]
    run = probe(*args, *certs.store_args("rds-root.pem", "rds-intermediate.pem"))
    assert run.exit_code == 1
    doc = endpoint(run)
    assert doc["issuing_ca"] == {"family": "rds-ca-rsa2048-g1", "region": "us-east-1", "stage": None, "issuer": None}
    assert (doc["target_ca"], doc["target_source"], doc["region_source"]) == (
        "rds-ca-rsa2048-g1",
        "the served chain's CA",
        "served chain",
    )
    assert doc["server_certificate"]["key_type"] == "RSA2048"
    assert store_verdicts(doc) == {
        "rds-root.pem": (True, [], "ready"),
        "rds-intermediate.pem": (False, ["intermediate-only"], "will-break"),
    }


# -- direct TLS (Oracle TCPS, DocumentDB) -------------------------------------------------------------------------


def test_direct_tls_trusted_and_an_independent_client_agrees(tls, certs: Pki) -> None:
    for engine in ("oracle", "docdb", "tls"):
        run = probe(f"localhost:{tls.port}", "--engine", engine, *certs.store_args("a.pem"))
        assert run.exit_code == 0, run.stdout + run.stderr
    for root, ok in (("root-a.pem", True), ("root-b.pem", False)):
        context = ssl.create_default_context(cafile=str(certs.dir / root))
        try:
            with (
                socket.create_connection(("localhost", tls.port), timeout=5) as sock,
                context.wrap_socket(sock, server_hostname="localhost"),
            ):
                verified = True
        except ssl.SSLCertVerificationError:
            verified = False
        assert verified is ok


def test_direct_tls_rds_chain_with_a_target(tls, certs: Pki) -> None:
    args = [f"127.0.0.1:{tls.port}", "--engine", "docdb", "--server-name", RDS_HOST, "--target-ca", RSA4096]
    run = probe(
        *args,
        *certs.store_args("rds-root.pem", "rds-root+4096.pem"),
        "--format",
        "json",
    )
    assert run.exit_code == 1
    doc = endpoint(run)
    assert store_verdicts(doc) == {"rds-root.pem": (True, [], "will-break"), "rds-root+4096.pem": (True, [], "ready")}
    table = probe(*args, *certs.store_args("rds-root+4096.pem"))
    assert table.exit_code == 0
    assert "rds-ca-rsa2048-g1 us-east-1" in table.stdout and "ready" in table.stdout


def test_rds_proxy_names_make_the_rotation_question_not_applicable(tls, certs: Pki) -> None:
    proxy = "myproxy.proxy-abcdefghijkl.us-east-1.rds.amazonaws.com"
    run = probe(
        f"127.0.0.1:{tls.port}",
        "--engine",
        "tls",
        "--server-name",
        proxy,
        "--no-hostname",
        "--target-ca",
        RSA4096,
        *certs.store_args("a.pem"),
        "--format",
        "json",
    )
    assert run.exit_code == 0
    doc = endpoint(run)
    assert doc["rotation_not_applicable"].startswith("RDS Proxy serves an ACM certificate")
    assert store_verdicts(doc) == {"a.pem": (True, [], "not-applicable")}


# -- many at once ------------------------------------------------------------------------------------------------


def test_many_endpoints_concurrently_in_order(pg: Server, mariadb: Server, certs: Pki) -> None:
    # Each endpoint once (a repeated one is probed once): two names for each server.
    endpoints = [f"{host}:{port}" for host in ("localhost", "127.0.0.1") for port in (pg.port, mariadb.port)]
    run = probe(
        *endpoints,
        *certs.store_args("a.pem"),
        "--concurrency",
        "4",
        "--engine",
        "postgres",
        "--format",
        "json",
    )
    # --engine applies to every ENDPOINT: MariaDB greets first, and its greeting is no answer to an SSLRequest.
    assert run.exit_code == 2
    errors = [e["error"] for e in run.json()["endpoints"]]
    assert errors[0::2] == [None] * 2
    assert all(e and e.startswith("not a PostgreSQL server: it answered") for e in errors[1::2]), errors
    # Ports that are not an engine's default need --engine (or an audit file, which names each engine).
    auto = probe(*endpoints, *certs.store_args("a.pem"))
    assert auto.exit_code == 2
    assert auto.stderr.strip().endswith(
        f"endpoint 'localhost:{pg.port}': cannot tell the engine from port {pg.port}: give --engine"
    )


def _one_answer(answer: bytes) -> Iterator[int]:
    """A server that answers every connection with ``answer`` and hangs up."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)

        def serve() -> None:
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                with conn:
                    conn.sendall(answer)
                    conn.recv(1024)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        yield listener.getsockname()[1]


def _mysql_packet(payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + b"\x00" + payload


BLOCKED = b"Host '10.0.0.9' is blocked because of many connection errors; unblock with 'mariadb-admin flush-hosts'"


@pytest.mark.parametrize(
    ("engine", "answer", "error"),
    [
        # A blocked host gets an ERR packet instead of a greeting (MySQL's host cache, max_connect_errors).
        (
            "mysql",
            _mysql_packet(b"\xff" + (1129).to_bytes(2, "little") + BLOCKED),
            f"the server refused the connection: error 1129: {BLOCKED.decode()}",
        ),
        (
            "mysql",
            _mysql_packet(b"\x0a8.0.36\x00" + bytes(5)),
            "not a MySQL or MariaDB server: a greeting too short to hold capability flags",
        ),
        ("mysql", _mysql_packet(b"HTTP/1.1 400"), "not a MySQL or MariaDB server: no protocol-10 greeting"),
        (
            "sqlserver",
            bytes([0x04, 0x01, 0x00, 0x0A, 0, 0, 1, 0, 0x01, 0x00]),
            "not a SQL Server: a PRELOGIN answer cut short",
        ),
        (
            "sqlserver",
            bytes([0x04, 0x01, 0x00, 0x04, 0, 0, 1, 0]),
            "not a SQL Server: a TDS packet header with length 4 to the TDS PRELOGIN",
        ),
        ("postgres", b"E", "not a PostgreSQL server: it answered b'E' to SSLRequest"),
        ("tls", b"SSH-2.0-OpenSSH_9.2\r\n", "the TLS handshake failed: WRONG_VERSION_NUMBER"),
    ],
)
def test_what_a_server_says_instead_is_named(engine: str, answer: bytes, error: str) -> None:
    for port in _one_answer(answer):
        run = probe(f"127.0.0.1:{port}", "--engine", engine, "--format", "json")
        assert run.exit_code == 2
        assert endpoint(run)["error"] == error


def test_a_look_alike_rds_root_is_not_ready(tds, certs: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 24.6: the test PKI's RDS-named root is self-made. Not vouched for (``--known-roots``), it is not AWS's
    key: the store is not ready for AWS's CA, and the warning says why."""
    monkeypatch.delenv("RDSCA_KNOWN_ROOTS")
    args = [f"127.0.0.1:{tds.port}", "--engine", "sqlserver", "--server-name", RDS_HOST, "--format", "json"]
    run = probe(*args, *certs.store_args("rds-root.pem"))
    assert run.exit_code == 1
    (store,) = endpoint(run)["stores"]
    assert store["rotation"] == "will-break", store
    assert "is not AWS's key" in store["rotation_reason"]
    assert "is named like an RDS root but its key is not one of AWS's" in run.stderr


def test_an_endpoint_given_twice_is_probed_once(pg: Server, certs: Pki) -> None:
    """Issue 23.15: the same endpoint twice (or with another case) was probed, and reported, twice."""
    run = probe(f"localhost:{pg.port}", f"LOCALHOST:{pg.port}", f"localhost:{pg.port}", "--engine", "postgres",
                "--format", "json",
                *certs.store_args("a.pem"))
    assert [e["endpoint"] for e in run.json()["endpoints"]] == [f"localhost:{pg.port}"]
    assert f"warning: localhost:{pg.port} was given 3 times: probed once" in run.stderr
