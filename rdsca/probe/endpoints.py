"""What ``rdsca probe`` connects to: ``host[:port]`` arguments, or the databases in ``rdsca audit --format json``.

The audit file is untrusted input: every field is checked, and anything malformed is one ``AuditFileError``
naming the file and the place, never a traceback.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdsca import catalog
from rdsca.errors import RdscaError
from rdsca.probe.wire import MYSQL, POSTGRES, SQLSERVER, TLS

#: ``--engine`` values and the framing each uses.
ENGINES = {
    "postgres": POSTGRES,
    "mysql": MYSQL,
    "mariadb": MYSQL,
    "sqlserver": SQLSERVER,
    "oracle": TLS,
    "docdb": TLS,
    "tls": TLS,
}
#: Default ports, both ways. Oracle's is the TCPS port of RDS's SSL option (default 2484; the Oracle SSL option
#: page), not the plain listener that the database's endpoint reports.
ENGINE_PORTS = {"postgres": 5432, "mysql": 3306, "mariadb": 3306, "sqlserver": 1433, "oracle": 2484, "docdb": 27017}
PORT_ENGINES = {5432: "postgres", 3306: "mysql", 1433: "sqlserver", 2484: "oracle", 27017: "docdb"}
ORACLE_TCPS_PORT = ENGINE_PORTS["oracle"]

_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$")


class EndpointError(RdscaError, ValueError):
    """A malformed endpoint argument (a usage error)."""


class AuditFileError(RdscaError, ValueError):
    """A malformed audit file: one line naming the file and what is wrong."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    #: A key of ``ENGINES``.
    engine: str
    #: From an audit: the database's identifier, region, kind, CAs, and why the CA does not apply.
    database: str | None = None
    region: str | None = None
    kind: str | None = None
    ca: str | None = None
    pending_ca: str | None = None
    replacement: str | None = None
    not_applicable: str | None = None
    #: Why this database cannot be probed at all (no endpoint in the audit), or None.
    error: str | None = None
    #: Anything worth saying about how the endpoint was chosen.
    note: str | None = None

    @property
    def framing(self) -> str:
        return ENGINES[self.engine]

    @property
    def address(self) -> str:
        if not self.port:
            return self.host
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOST.match(host))


def _port(text: str, where: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise EndpointError(f"{where}: the port must be a number from 1 to 65535")
    return int(text)


def parse(text: str, engine: str | None = None) -> Endpoint:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address; the engine from ``engine`` or the port."""
    where = f"endpoint {text!r}"
    raw = text.strip()
    port_text: str | None = None
    if raw.startswith("["):
        host, closed, rest = raw[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise EndpointError(f"{where}: expected [IPv6]:PORT")
        port_text = rest[1:] if rest else None
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
    else:
        host = raw
    if not host or not _valid_host(host):
        raise EndpointError(f"{where}: not a host name or IP address")
    port = _port(port_text, where) if port_text is not None else None
    if engine is None:
        if port is None:
            raise EndpointError(f"{where}: give a port (HOST:PORT) or --engine")
        engine = PORT_ENGINES.get(port)
        if engine is None:
            raise EndpointError(f"{where}: cannot tell the engine from port {port}: give --engine")
    if port is None:
        if engine not in ENGINE_PORTS:
            raise EndpointError(f"{where}: give a port (HOST:PORT) for --engine {engine}")
        port = ENGINE_PORTS[engine]
    return Endpoint(host, port, engine)


# -- the audit file ------------------------------------------------------------------------------------------------


def audit_engine(engine: str) -> str | None:
    """The ``--engine`` that reaches an RDS engine name (also RDS Proxy's engine families), or None."""
    name = engine.lower()
    if "postgres" in name:  # postgres, Aurora PostgreSQL, RDS Proxy's POSTGRESQL
        return "postgres"
    if "mysql" in name or catalog.is_aurora(name):  # mysql, Aurora MySQL (plain "aurora" is MySQL 5.6), MYSQL
        return "mysql"
    if name == "mariadb":
        return "mariadb"
    if name.startswith(("sqlserver", "custom-sqlserver")):
        return "sqlserver"
    if name.startswith(("oracle", "custom-oracle")):
        return "oracle"
    if name == "docdb":
        return "docdb"
    if name == "neptune":
        return "tls"
    return None


_TEXT_FIELDS = ("kind", "engine", "ca", "pending_ca", "replacement", "not_applicable")


def _text(row: dict[str, Any], key: str, where: str, required: bool = False) -> str | None:
    value = row.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise AuditFileError(f"{where}.{key}: expected text, got {json.dumps(value)[:40]}")
    return value


def _row(row: Any, where: str) -> Endpoint:
    if not isinstance(row, dict):
        raise AuditFileError(f"{where}: expected an object")
    identifier = _text(row, "identifier", where, required=True)
    region = _text(row, "region", where, required=True)
    fields = {key: _text(row, key, where) for key in _TEXT_FIELDS}
    address = _text(row, "endpoint_address", where)
    port = row.get("endpoint_port")
    if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535):
        raise AuditFileError(f"{where}.endpoint_port: expected a port from 1 to 65535, got {json.dumps(port)[:40]}")
    if address is not None and not _valid_host(address):
        raise AuditFileError(f"{where}.endpoint_address: not a host name or IP address")
    engine = audit_engine(fields["engine"] or "")
    common: dict[str, Any] = {
        "database": identifier,
        "region": region,
        "kind": fields["kind"],
        "ca": fields["ca"],
        "pending_ca": fields["pending_ca"],
        "replacement": fields["replacement"],
        "not_applicable": fields["not_applicable"],
    }
    if engine is None:
        return Endpoint(
            address or "-", port or 0, "tls", error=f"cannot probe engine {fields['engine'] or '-'}", **common
        )
    if address is None:
        return Endpoint("-", 0, engine, error="the audit has no endpoint address for it (not yet created?)", **common)
    if port is None and engine not in ENGINE_PORTS:
        return Endpoint(address, 0, engine, error="the audit has no endpoint port for it", **common)
    note = None
    if engine == "oracle":
        # The endpoint's port is the plain listener's; TLS is on the SSL option's port.
        note = f"Oracle TCPS on port {ORACLE_TCPS_PORT}, the SSL option's default (the listener is on {port})"
        port = ORACLE_TCPS_PORT
    return Endpoint(address, port or ENGINE_PORTS[engine], engine, note=note, **common)


def load_audit(path: Path) -> list[Endpoint]:
    """The databases of an ``rdsca audit --format json`` file, as endpoints to probe."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise AuditFileError(f"{path}: not JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None
    except (ValueError, RecursionError):
        raise AuditFileError(f"{path}: not JSON (not UTF-8 text, or nested too deeply)") from None
    if not isinstance(document, dict) or not isinstance(document.get("databases"), list):
        raise AuditFileError(f'{path}: not the JSON of rdsca audit (no "databases" list)')
    rows = document["databases"]
    if rows and not any(isinstance(r, dict) and "endpoint_address" in r for r in rows):
        raise AuditFileError(
            f"{path}: no database has an endpoint address; write the file again with this version's "
            "rdsca audit --format json"
        )
    return [_row(row, f"{path}: databases[{index}]") for index, row in enumerate(rows)]


def once(endpoints: list[Endpoint]) -> tuple[list[Endpoint], list[str]]:
    """Each endpoint once (host names compare case-insensitively), in the order first given, and a warning per
    endpoint given more than once. Audit records of different databases that share an endpoint stay apart: each
    is reported for its database."""
    kept: dict[tuple[str, int, str, str | None], Endpoint] = {}
    repeated: dict[tuple[str, int, str, str | None], int] = {}
    for endpoint in endpoints:
        key = (endpoint.host.lower().rstrip("."), endpoint.port, endpoint.engine, endpoint.database)
        if key in kept:
            repeated[key] = repeated.get(key, 1) + 1
        else:
            kept[key] = endpoint
    warnings = [
        f"{host}:{port} was given {count} times: probed once" for (host, port, _e, _d), count in repeated.items()
    ]
    return list(kept.values()), warnings

