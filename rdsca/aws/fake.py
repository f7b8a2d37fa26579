"""A fake AWS account on a loopback port: moto's server, plus what moto lacks for RDS CA work.

Test support and the ``--demo`` backend, kept apart from the tool's code. moto (server mode) stores instances,
clusters, tags and CA ids, and serves EC2 ``DescribeRegions``; it lacks ``DescribeCertificates``,
``ModifyCertificates``, ``DescribeDBEngineVersions``, pending maintenance, ``CertificateDetails``, pending CA changes
for ``ApplyImmediately=false``, the CA of Multi-AZ DB clusters and the ``docdb`` engine. ``FakeAccount`` puts a WSGI
layer in front of moto's app that answers those from its own state, adds them to moto's responses, and can inject
per-region faults (access denied, throttling). Everything else goes to moto unchanged.

Certificates per region come from the catalog, whose dates are read from the real RDS bundle.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from rdsca import catalog

NS = "http://rds.amazonaws.com/doc/2014-10-31/"
ET.register_namespace("", NS)
HANDLED = {
    "DescribeCertificates",
    "ModifyCertificates",
    "DescribeDBEngineVersions",
    "DescribePendingMaintenanceActions",
    "ApplyPendingMaintenanceAction",
}


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _el(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    child = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        child.text = str(text).lower() if isinstance(text, bool) else str(text)
    return child


def _response(action: str, fill: Callable[[ET.Element], None]) -> bytes:
    root = ET.Element(f"{{{NS}}}{action}Response")
    fill(_el(root, f"{action}Result"))
    _el(_el(root, "ResponseMetadata"), "RequestId", uuid.uuid4())
    return ET.tostring(root, xml_declaration=True, encoding="utf-8")


def _error(code: str, message: str) -> tuple[str, bytes]:
    status = {"AccessDenied": "403 Forbidden", "Throttling": "400 Bad Request"}.get(code, "400 Bad Request")
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return status, body.encode()


@dataclass
class Fault:
    region: str
    action: str
    code: str
    #: How many calls fail (None: all of them).
    times: int | None = None


@dataclass
class DocDbInstance:
    identifier: str
    ca: str
    cluster: str = "docdb-cluster"
    engine_version: str = "5.0.0"


@dataclass
class RegionState:
    default_ca: str = catalog.DEFAULT_TARGET
    override: str | None = None
    docdb: list[DocDbInstance] = field(default_factory=list)
    #: Multi-AZ DB cluster id -> CA (moto does not keep it).
    cluster_cas: dict[str, str] = field(default_factory=dict)
    #: CA ids DescribeCertificates does not list here (AWS answers CertificateNotFound for them).
    withdrawn: set[str] = field(default_factory=set)


class FakeAccount:
    """``FakeAccount().start()`` serves on ``endpoint``; point boto3 at it with ``AWS_ENDPOINT_URL``."""

    ACCOUNT = "123456789012"

    def __init__(self, today: dt.date | None = None, latency: float = 0.0) -> None:
        self.today = today or dt.date.today()
        #: Seconds added to every request, to stand in for the network and API latency of the real endpoint.
        self.latency = latency
        self.regions: dict[str, RegionState] = {}
        #: (engine, version) -> (supported CAs, SupportsCertificateRotationWithoutRestart); others get the catalog's.
        self.engine_versions: dict[tuple[str, str], tuple[tuple[str, ...], bool | None]] = {}
        #: ARN -> pending CA maintenance actions (``{"Action", ...}``).
        self.maintenance: dict[str, list[dict[str, Any]]] = {}
        #: ARN -> CA waiting for the maintenance window.
        self.pending: dict[str, str] = {}
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server: Any = None
        self.endpoint = ""

    # -- set-up ----------------------------------------------------------------------------------------------------
    def region(self, name: str) -> RegionState:
        return self.regions.setdefault(name, RegionState())

    def fail(self, region: str, action: str, code: str = "AccessDenied", times: int | None = None) -> None:
        self.faults.append(Fault(region, action, code, times))

    def arn(self, region: str, identifier: str, kind: str = "db") -> str:
        return f"arn:aws:rds:{region}:{self.ACCOUNT}:{kind}:{identifier}"

    def start(self) -> FakeAccount:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        # Keep the request log (werkzeug's) off the user's terminal.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", 0, self._wsgi(moto_app), threaded=True)
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeAccount:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the WSGI layer --------------------------------------------------------------------------------------------
    def _wsgi(self, moto_app: Any) -> Callable[..., Iterable[bytes]]:
        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            params = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            action = params.get("Action", "")
            auth = environ.get("HTTP_AUTHORIZATION", "")
            scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/") if "Credential=" in auth else []
            region, service = (scope[2], scope[3]) if len(scope) >= 4 else ("us-east-1", "")
            with self._lock:
                self.calls.append((region, action))
                fault = self._fault(region, action)
            if self.latency:
                time.sleep(self.latency)
            if fault is not None:
                status, payload = _error(fault.code, f"injected {fault.code} for {action} in {region}")
                start_response(status, [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))])
                return [payload]
            if service == "rds" and action in HANDLED:
                payload = self._handle(region, action, params)
            elif (
                service == "rds"
                and action == "ModifyDBInstance"
                and self._docdb(region, params.get("DBInstanceIdentifier"))
            ):
                payload = self._modify_docdb(region, params)
            else:
                if service == "rds" and action == "ModifyDBInstance":
                    params = self._defer(region, params, environ)
                if service == "rds" and action == "ModifyDBCluster" and params.get("CACertificateIdentifier"):
                    self.region(region).cluster_cas[params["DBClusterIdentifier"]] = params["CACertificateIdentifier"]
                status_holder: list[Any] = []

                def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
                    status_holder.extend([status, headers])

                payload = b"".join(moto_app(environ, capture))
                if service == "rds" and status_holder and status_holder[0].startswith("200"):
                    payload = self._augment(region, action, payload)
                status = status_holder[0] if status_holder else "500 Internal Server Error"
                start_response(status, [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))])
                return [payload]
            start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))])
            return [payload]

        return app

    def _fault(self, region: str, action: str) -> Fault | None:
        for fault in self.faults:
            if fault.region == region and fault.action in (action, "*"):
                if fault.times is None:
                    return fault
                if fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    # -- what moto lacks -------------------------------------------------------------------------------------------
    def _valid_till(self, ca_id: str, region: str) -> dt.datetime | None:
        ca = catalog.CATALOG.get(ca_id)
        return ca.valid_until_in(region) if ca else None

    def _supported(self, engine: str, version: str) -> tuple[tuple[str, ...], bool | None]:
        if (engine, version) in self.engine_versions:
            return self.engine_versions[(engine, version)]
        refused = set().union(*(f.refuses for f in catalog.engine_facts(engine, version)))
        return tuple(c for c in catalog.CURRENT_CAS if c not in refused), catalog.rotation_flag(engine, version)

    def _handle(self, region: str, action: str, params: dict[str, str]) -> bytes:
        state = self.region(region)
        if action == "DescribeCertificates":

            def certificates(result: ET.Element) -> None:
                _el(result, "DefaultCertificateForNewLaunches", state.override or state.default_ca)
                certs = _el(result, "Certificates")
                for ca_id in catalog.CURRENT_CAS:
                    if ca_id in state.withdrawn:
                        continue
                    until = self._valid_till(ca_id, region)
                    cert = _el(certs, "Certificate")
                    _el(cert, "CertificateIdentifier", ca_id)
                    _el(cert, "CertificateType", "CA")
                    _el(cert, "ValidFrom", "2021-05-25T23:34:57Z")
                    if until:
                        _el(cert, "ValidTill", _iso(until))
                    _el(cert, "CertificateArn", f"arn:aws:rds:{region}::cert:{ca_id}")
                    _el(cert, "CustomerOverride", state.override == ca_id)

            return _response(action, certificates)
        if action == "ModifyCertificates":
            if params.get("RemoveCustomerOverride") == "true":
                state.override = None
            else:
                state.override = params.get("CertificateIdentifier")

            def modified(result: ET.Element) -> None:
                if state.override:
                    cert = _el(result, "Certificate")
                    _el(cert, "CertificateIdentifier", state.override)
                    _el(cert, "CustomerOverride", True)

            return _response(action, modified)
        if action == "DescribeDBEngineVersions":
            engine, version = params.get("Engine", ""), params.get("EngineVersion", "")

            def versions(result: ET.Element) -> None:
                items = _el(result, "DBEngineVersions")
                if engine and version:
                    supported, flag = self._supported(engine, version)
                    item = _el(items, "DBEngineVersion")
                    _el(item, "Engine", engine)
                    _el(item, "EngineVersion", version)
                    cas = _el(item, "SupportedCACertificateIdentifiers")
                    for ca_id in supported:
                        _el(cas, "member", ca_id)
                    if flag is not None:
                        _el(item, "SupportsCertificateRotationWithoutRestart", flag)

            return _response(action, versions)
        if action == "DescribePendingMaintenanceActions":

            def pending(result: ET.Element) -> None:
                items = _el(result, "PendingMaintenanceActions")
                for arn, actions in self.maintenance.items():
                    if f":{region}:" not in arn or not actions:
                        continue
                    item = _el(items, "ResourcePendingMaintenanceActions")
                    _el(item, "ResourceIdentifier", arn)
                    details = _el(item, "PendingMaintenanceActionDetails")
                    for a in actions:
                        detail = _el(details, "PendingMaintenanceAction")
                        for key, value in a.items():
                            _el(detail, key, value)

            return _response(action, pending)
        # ApplyPendingMaintenanceAction: the rotation is done (immediate) or scheduled (next-maintenance).
        arn = params.get("ResourceIdentifier", "")
        actions = self.maintenance.get(arn, [])
        for a in actions:
            if a["Action"] == params.get("ApplyAction"):
                a["OptInStatus"] = params.get("OptInType")
        if params.get("OptInType") == "immediate":
            self.maintenance[arn] = [a for a in actions if a["Action"] != params.get("ApplyAction")]

        def applied(result: ET.Element) -> None:
            item = _el(result, "ResourcePendingMaintenanceActions")
            _el(item, "ResourceIdentifier", arn)

        return _response(action, applied)

    def _docdb(self, region: str, identifier: str | None) -> DocDbInstance | None:
        return next((d for d in self.region(region).docdb if d.identifier == identifier), None)

    def _modify_docdb(self, region: str, params: dict[str, str]) -> bytes:
        db = self._docdb(region, params["DBInstanceIdentifier"])
        assert db is not None
        if params.get("CACertificateIdentifier"):
            if params.get("ApplyImmediately") == "true":
                db.ca = params["CACertificateIdentifier"]
            else:
                self.pending[self.arn(region, db.identifier)] = params["CACertificateIdentifier"]

        def modified(result: ET.Element) -> None:
            self._docdb_element(_el(result, "DBInstance"), region, db)

        return _response("ModifyDBInstance", modified)

    def _docdb_element(self, item: ET.Element, region: str, db: DocDbInstance) -> None:
        _el(item, "DBInstanceIdentifier", db.identifier)
        _el(item, "Engine", "docdb")
        _el(item, "EngineVersion", db.engine_version)
        _el(item, "DBInstanceArn", self.arn(region, db.identifier))
        _el(item, "DBClusterIdentifier", db.cluster)
        _el(item, "CACertificateIdentifier", db.ca)

    def _defer(self, region: str, params: dict[str, str], environ: dict[str, Any]) -> dict[str, str]:
        """A CA change without ApplyImmediately waits for the maintenance window: keep it pending, and send moto
        the request without it (moto would apply it at once)."""
        ca = params.get("CACertificateIdentifier")
        if not ca or params.get("ApplyImmediately") == "true":
            return params
        self.pending[self.arn(region, params["DBInstanceIdentifier"])] = ca
        rest = {k: v for k, v in params.items() if k != "CACertificateIdentifier"}
        body = urlencode(rest).encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return rest

    def _augment(self, region: str, action: str, payload: bytes) -> bytes:
        if action not in ("DescribeDBInstances", "ModifyDBInstance", "DescribeDBClusters", "ModifyDBCluster"):
            return payload
        root = ET.fromstring(payload)
        state = self.region(region)
        for item in root.iter(f"{{{NS}}}DBInstance"):
            arn = item.findtext(f"{{{NS}}}DBInstanceArn") or ""
            ca = item.findtext(f"{{{NS}}}CACertificateIdentifier")
            if action == "ModifyDBInstance" and arn in self.pending and ca == self.pending[arn]:
                self.pending.pop(arn)  # applied immediately after all
            self._details(item, ca, region, arn)
        for item in root.iter(f"{{{NS}}}DBCluster"):
            identifier = item.findtext(f"{{{NS}}}DBClusterIdentifier") or ""
            if identifier in state.cluster_cas:
                ca = state.cluster_cas[identifier]
                _el(item, "CACertificateIdentifier", ca)
                self._details(item, ca, region, item.findtext(f"{{{NS}}}DBClusterArn") or "")
        if action == "DescribeDBInstances":
            listing = root.find(f".//{{{NS}}}DBInstances")
            last_page = root.find(f".//{{{NS}}}Marker") is None or not (root.findtext(f".//{{{NS}}}Marker") or "")
            if listing is not None and last_page:
                for db in state.docdb:
                    item = _el(listing, "DBInstance")
                    self._docdb_element(item, region, db)
                    self._details(item, db.ca, region, self.arn(region, db.identifier))
        return ET.tostring(root, xml_declaration=True, encoding="utf-8")

    def _details(self, item: ET.Element, ca: str | None, region: str, arn: str) -> None:
        if ca:
            until = self._valid_till(ca, region)
            known = catalog.CATALOG.get(ca)
            # A G1 CA's server certificate lasts a year or three and is rotated by RDS; a 2019 one ends with its CA.
            if known is not None and known.server_cert_auto_rotation:
                until = dt.datetime.combine(self.today, dt.time(), dt.timezone.utc) + dt.timedelta(days=365)
            if until is not None:
                details = _el(item, "CertificateDetails")
                _el(details, "CAIdentifier", ca)
                _el(details, "ValidTill", _iso(until))
        if arn in self.pending:
            pending = item.find(f"{{{NS}}}PendingModifiedValues")
            if pending is None:
                pending = _el(item, "PendingModifiedValues")
            _el(pending, "CACertificateIdentifier", self.pending[arn])


# -- the demo fleet ------------------------------------------------------------------------------------------------

DEMO_REGIONS = ("us-east-1", "eu-west-1")


def seed_demo(account: FakeAccount) -> None:
    """A small mixed fleet: retired, typo-free current, refused, DocumentDB, Neptune, a Multi-AZ cluster."""
    import boto3

    def rds(region: str) -> Any:
        return boto3.client("rds", region_name=region, endpoint_url=account.endpoint)

    def instance(region: str, name: str, engine: str, version: str, ca: str, **extra: Any) -> None:
        rds(region).create_db_instance(
            DBInstanceIdentifier=name,
            Engine=engine,
            EngineVersion=version,
            DBInstanceClass="db.m6g.large",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="demo-password-1",
            CACertificateIdentifier=ca,
            **extra,
        )

    instance(
        "us-east-1", "billing-mysql", "mysql", "8.0.39", catalog.CA_2019, Tags=[{"Key": "team", "Value": "billing"}]
    )
    instance("us-east-1", "orders-postgres", "postgres", "16.4", catalog.RSA2048_G1)
    instance("us-east-1", "erp-sqlserver", "sqlserver-se", "15.00.4236.7.v1", catalog.ECC384_G1)
    instance("us-east-1", "graph-neptune", "neptune", "1.3.2.1", catalog.CA_2019)
    instance("eu-west-1", "reports-mariadb", "mariadb", "10.6.16", catalog.CA_2019)
    instance("eu-west-1", "search-postgres", "postgres", "13.4", catalog.RSA4096_G1)
    account.region("eu-west-1").docdb.append(DocDbInstance("catalog-docdb-0", catalog.CA_2019))
    arn = account.arn("us-east-1", "orders-postgres")
    account.maintenance[arn] = [
        {
            "Action": "server-certificate-rotation",
            "Description": "Server certificate rotation",
            "OptInStatus": "pending",
        }
    ]
