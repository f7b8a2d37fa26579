"""Session-wide test PKI, trust stores and servers for ``rdsca probe`` (each server started once per session)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner

from rdsca import clock
from rdsca import truststore as ts
from rdsca.cli import cli

from ..conftest import FIXTURES
from . import pki, servers

T = TypeVar("T")

BUNDLE = FIXTURES / "rds-global-bundle-2024-06.pem"
PASSWORD = "store-pass-1"
RDS_HOST = "mydb.abcdefghijkl.us-east-1.rds.amazonaws.com"


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    """The probe tests' certificates are made relative to the real clock, which the servers and the independent
    clients judge by: the probe judges as of the same day (the suite's fixed day would drift away from them)."""
    today = pki.NOW.date()
    monkeypatch.setenv(clock.AS_OF_ENV, today.isoformat())
    return today


@pytest.fixture(autouse=True)
def test_rds_root_vouched(monkeypatch: pytest.MonkeyPatch, certs: Pki) -> Path:
    """The test PKI's "Amazon RDS us-east-1 Root CA RSA2048 G1" is self-made: rdsca counts it as AWS's only when
    vouched for (``--known-roots``, here by its environment variable), as a user would for a newer bundle."""
    path = certs.stores["rds-root.pem"]
    monkeypatch.setenv("RDSCA_KNOWN_ROOTS", str(path))
    return path


@dataclass
class Pki:
    dir: Path
    #: Server certificate files: name -> (chain file, key file).
    chains: dict[str, tuple[Path, Path]]
    #: Trust stores: name -> path.
    stores: dict[str, Path]
    root_a: pki.Issued
    rds_root: pki.Issued
    rds_intermediate: pki.Issued

    def store_args(self, *names: str) -> list[str]:
        """``--store PATH`` for each named trust store."""
        return [arg for name in names for arg in ("--store", str(self.stores[name]))]


def _stores(
    directory: Path, root_a: pki.Issued, root_b: pki.Issued, rds_root: pki.Issued, rds_intermediate: pki.Issued
) -> dict[str, Path]:
    bundle = [e for e in ts.read(BUNDLE) if e.root]
    a, b = ts.classify(root_a.cert), ts.classify(root_b.cert)
    us_east_4096 = [
        e for e in bundle if e.region == "us-east-1" and e.stage is None and e.family.endswith("rsa4096-g1")
    ]
    plan: dict[str, tuple[list[ts.Entry], str, str | None]] = {
        "a.pem": ([a], "pem", None),
        "b.pem": ([b], "pem", None),
        "a-dir": ([a], "pem-dir", None),
        "a.p12": ([a], "pkcs12", PASSWORD),
        "a.jks": ([a], "jks", PASSWORD),
        "a+bundle.pem": ([a, *bundle], "pem", None),
        "rds-root.pem": ([ts.classify(rds_root.cert)], "pem", None),
        "rds-root+4096.pem": ([ts.classify(rds_root.cert), *us_east_4096], "pem", None),
    }
    paths = {}
    directory.mkdir(parents=True, exist_ok=True)
    for name, (entries, fmt, password) in plan.items():
        ts.write_store(ts.order(entries), fmt, directory / name, password)
        paths[name] = directory / name
    # Only the intermediate, as people who import what `openssl s_client -showcerts` prints end up with.
    paths["rds-intermediate.pem"] = directory / "rds-intermediate.pem"
    paths["rds-intermediate.pem"].write_bytes(rds_intermediate.pem)
    return paths


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    root_a, root_b = pki.ca("rdsca test root A"), pki.ca("rdsca test root B")
    good = pki.server(["localhost", "db.rdsca.test"], root_a)
    expired = pki.server(["localhost"], root_a, validity=pki.EXPIRED)
    rds_root = pki.ca("Amazon RDS us-east-1 Root CA RSA2048 G1", kind="rsa")
    rds_intermediate = pki.ca("Amazon RDS us-east-1 Subordinate CA RSA2048 G1.A.1", rds_root, kind="rsa", path_length=0)
    rds_leaf = pki.server([RDS_HOST], rds_intermediate, kind="rsa")
    chains = {
        "good": pki.write(directory, "good", good),
        "expired": pki.write(directory, "expired", expired),
        "rds": pki.write(directory, "rds", rds_leaf, rds_intermediate),
    }
    (directory / "root-a.pem").write_bytes(root_a.pem)
    (directory / "root-b.pem").write_bytes(root_b.pem)
    stores = _stores(directory / "stores", root_a, root_b, rds_root, rds_intermediate)
    return Pki(directory, chains, stores, root_a, rds_root, rds_intermediate)


def _available(what: str, make: Callable[[], T]) -> T:
    """What ``make`` builds, or the test skipped (and the reason printed) when this machine cannot run ``what``."""
    try:
        return make()
    except servers.Unavailable as exc:
        print(f"probe tests: {what} skipped: {exc}")
        pytest.skip(f"{what}: {exc}")


def _start(what: str, start: Callable[[], servers.Server]) -> Iterator[servers.Server]:
    server = _available(what, start)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template() -> Path:
    return _available("PostgreSQL", servers.postgres_template)


@pytest.fixture(scope="session")
def pg(certs: Pki, pg_template: Path) -> Iterator[servers.Server]:
    yield from _start("PostgreSQL", lambda: servers.start_postgres(*certs.chains["good"], template=pg_template))


@pytest.fixture(scope="session")
def pg_expired(certs: Pki, pg_template: Path) -> Iterator[servers.Server]:
    yield from _start("PostgreSQL", lambda: servers.start_postgres(*certs.chains["expired"], template=pg_template))


@pytest.fixture(scope="session")
def pg_plain(certs: Pki, pg_template: Path) -> Iterator[servers.Server]:
    yield from _start(
        "PostgreSQL", lambda: servers.start_postgres(*certs.chains["good"], ssl_on=False, template=pg_template)
    )


@pytest.fixture(scope="session")
def mariadb_template() -> Path:
    return _available("MariaDB", servers.mariadb_template)


@pytest.fixture(scope="session")
def mariadb(certs: Pki, mariadb_template: Path) -> Iterator[servers.Server]:
    cert, key = certs.chains["good"]
    yield from _start("MariaDB", lambda: servers.start_mariadb(mariadb_template, cert, key, certs.dir / "root-a.pem"))


@pytest.fixture(scope="session")
def mariadb_plain(mariadb_template: Path) -> Iterator[servers.Server]:
    yield from _start("MariaDB", lambda: servers.start_mariadb(mariadb_template, None, None, None))


def _context(certs: Pki, max_tls12: bool = False) -> Any:
    return servers.server_context(*certs.chains["good"], sni={RDS_HOST: certs.chains["rds"]}, max_tls12=max_tls12)


@pytest.fixture(scope="session")
def tds(certs: Pki) -> Iterator[Any]:
    # SQL Server speaks TLS 1.2 inside TDS 7.x framing (TLS 1.3 needs TDS 8.0's strict mode).
    server = servers.tds_server(_context(certs, max_tls12=True))
    yield server
    server.close()


@pytest.fixture(scope="session")
def tds_plain(certs: Pki) -> Iterator[Any]:
    server = servers.tds_server(_context(certs), encryption=0x02)
    yield server
    server.close()


@pytest.fixture(scope="session")
def tls(certs: Pki) -> Iterator[Any]:
    server = servers.tls_server(_context(certs))
    yield server
    server.close()


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def probe(*args: str, env: dict[str, str] | None = None) -> Run:
    result = CliRunner().invoke(cli, ["probe", *args], env=env, catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def endpoint(run: Run, index: int = 0) -> dict[str, Any]:
    return run.json()["endpoints"][index]


def store_verdicts(doc: dict[str, Any]) -> dict[str, tuple[bool, list[str], str]]:
    """store name (file name) -> (trusted, problem codes, rotation)."""
    return {
        Path(s["store"]).name: (s["trusted"], [p["code"] for p in s["problems"]], s["rotation"]) for s in doc["stores"]
    }
