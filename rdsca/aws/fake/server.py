"""A fake AWS on a loopback port: moto's server, plus what moto lacks for RDS CA work, for many accounts.

Test support and the ``--demo`` backend, kept apart from the tool's code. moto (server mode) stores instances,
clusters, tags, Organizations and the accounts behind assumed-role credentials, and serves EC2 ``DescribeRegions``
and STS. It lacks ``DescribeCertificates``, ``ModifyCertificates``, ``DescribeDBEngineVersions``, pending maintenance,
``CertificateDetails``, pending CA changes, the CA of Multi-AZ DB clusters, ``RebootDBCluster`` and the ``docdb``
engine. ``FakeAccount`` puts a WSGI layer in front of moto's app that keeps the CA state itself and answers those from
response fixtures (``rdsca.aws.fake.fixtures``), never from ``rdsca.catalog``: a Modify naming a CA the engine
version's fixture does not list is refused with ``InvalidParameterCombination``, as AWS refuses it. It can inject
faults (throttling, access denied, a missing role, a service control policy, a region not enabled) and per-call
latency, and it has a small control API under ``/_rdsca/`` so that it can run in a process of its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import logging
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from rdsca.aws.fake import fixtures
from rdsca.aws.fake import xml as X
from rdsca.aws.fake.state import DEFAULT_ACCOUNT, Call, Database, DocDbInstance, Fault, RegionState

#: Actions the fake answers itself (moto has no RDS CA model).
OWN = {
    "DescribeCertificates",
    "ModifyCertificates",
    "DescribeDBEngineVersions",
    "DescribePendingMaintenanceActions",
    "ApplyPendingMaintenanceAction",
    "RebootDBCluster",
}
#: Actions whose moto response the fake completes with its CA state.
AUGMENTED = {
    "DescribeDBInstances",
    "CreateDBInstance",
    "ModifyDBInstance",
    "RebootDBInstance",
    "DescribeDBClusters",
    "CreateDBCluster",
    "ModifyDBCluster",
}
#: ``<AccessKeyId>`` in an STS AssumeRole response: the credentials moto will attribute to the role's account.
ACCESS_KEY = re.compile(r"<AccessKeyId>([A-Z0-9]+)</AccessKeyId>")
ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)")


@dataclass
class Request:
    account: str
    region: str
    service: str
    action: str
    params: dict[str, str]


Reply = tuple[str, bytes]


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


#: How often the server thread looks for shutdown(): stop() waits up to this long.
POLL_INTERVAL = 0.02


class FakeAccount:
    """``FakeAccount(today).start()`` serves on ``endpoint``; point boto3 at it with ``endpoint_url``."""

    ACCOUNT = DEFAULT_ACCOUNT

    def __init__(self, today: dt.date | None = None, latency: float = 0.0) -> None:
        self.today = today or dt.date.today()
        #: Seconds added to every request, to stand in for the network and API latency of the real endpoint.
        self.latency = latency
        self.accounts: dict[str, dict[str, RegionState]] = {}
        #: ARN -> the CA state of a DB instance or Multi-AZ DB cluster.
        self.databases: dict[str, Database] = {}
        #: ARN -> pending maintenance actions (``{"Action", "OptInStatus", ...}``).
        self.maintenance: dict[str, list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        #: (account, role name) pairs whose role does not exist: AssumeRole is denied.
        self.missing_roles: set[tuple[str, str]] = set()
        #: Account -> services a service control policy denies there.
        self.scp_denied: dict[str, set[str]] = {}
        #: (account, region) pairs the account has not enabled.
        self.opted_out: set[tuple[str, str]] = set()
        #: Access key id -> account, learnt from AssumeRole responses (moto attributes them the same way).
        self.keys: dict[str, str] = {}
        #: The parameters of every AssumeRole call (RoleArn, RoleSessionName, ExternalId).
        self.assumed: list[dict[str, str]] = []
        self.calls: list[Call] = []
        #: Every accepted change (Modify*, Reboot*, ApplyPendingMaintenanceAction, ModifyCertificates).
        self.changes: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        #: Requests being served now (a benchmark waits for none before it reads the state).
        self.in_flight = 0
        self._server: Any = None
        self._moto: Any = None
        self.endpoint = ""

    # -- set-up ----------------------------------------------------------------------------------------------------
    def region(self, name: str, account: str | None = None) -> RegionState:
        regions = self.accounts.setdefault(account or self.ACCOUNT, {})
        return regions.setdefault(name, RegionState(fixtures.default_certificate()))

    def fail(
        self, region: str | None, action: str, code: str = "AccessDenied", times: int | None = None,
        account: str | None = None, service: str | None = None, message: str | None = None,
    ) -> None:
        self.faults.append(Fault(region, action, code, times, account, service, message))

    def arn(self, region: str, identifier: str, kind: str = "db", account: str | None = None) -> str:
        return f"arn:aws:rds:{region}:{account or self.ACCOUNT}:{kind}:{identifier}"

    def add_docdb(
        self, region: str, identifier: str, ca: str, engine_version: str = "5.0.0", account: str | None = None
    ) -> None:
        self.region(region, account).docdb.append(DocDbInstance(identifier, ca, engine_version=engine_version))
        arn = self.arn(region, identifier, account=account)
        self.databases[arn] = Database(arn, identifier, "docdb", engine_version, ca, ca, issued=self.today)

    def database(self, region: str, identifier: str, kind: str = "db", account: str | None = None) -> Database:
        return self.databases[self.arn(region, identifier, kind, account)]

    def seed(self, account: str, region: str, instances: list[dict[str, Any]]) -> None:
        """Create DB instances straight in moto's backend (``CreateDBInstance`` parameters each): what a benchmark
        needs by the ten thousand, without an HTTP round trip per database."""
        from moto.core.utils import camelcase_to_underscores
        from moto.rds.models import rds_backends

        backend = rds_backends[account][region]
        with self._lock:
            for spec in instances:
                backend.create_db_instance({camelcase_to_underscores(k): v for k, v in spec.items()})
                self._created(Request(account, region, "rds", "CreateDBInstance", spec), "db",
                              spec["DBInstanceIdentifier"])

    def run_maintenance(self) -> None:
        """The maintenance window comes: every pending CA change is applied (with its restart choice)."""
        with self._lock:
            for db in self.databases.values():
                if db.pending:
                    self._apply_ca(db, db.pending, restart=not db.pending_no_restart)

    def start(self, port: int = 0) -> FakeAccount:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        # Keep the request log (werkzeug's) off the user's terminal.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", port, self._app, threaded=True)
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"
        # socketserver's serve_forever notices shutdown() only between select() calls, every poll_interval (0.5 s by
        # default): each stop() waited that long, which was most of the time of the tests that start an account.
        serve = functools.partial(self._server.serve_forever, poll_interval=POLL_INTERVAL)
        threading.Thread(target=serve, daemon=True).start()
        self.reset_moto()
        return self

    def reset_moto(self) -> None:
        """moto keeps its backends per process: start from empty accounts (no proxy: loopback only)."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        opener.open(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")).read()

    def seed_moto(self, seed: int) -> None:
        """Seed moto's random generator (its ``/moto-api/seed``): the ids it makes up (account ids of
        CreateAccount) are then the same on every run, so that a demo can be followed from the README."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        opener.open(urllib.request.Request(f"{self.endpoint}/moto-api/seed?a={seed}", method="POST")).read()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeAccount:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the WSGI layer --------------------------------------------------------------------------------------------
    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/_rdsca/"):
            status, payload = self._control(environ)
            return self._send(start_response, status, payload, "application/json")
        request = self._request(environ)
        with self._lock:
            self.in_flight += 1
        try:
            return self._serve_recorded(request, environ, start_response)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _serve_recorded(
        self, request: Request, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        with self._lock:
            if request.action:  # moto's own API (/moto-api/reset) is not an AWS call
                self.calls.append(Call(request.account, request.region, request.service, request.action))
            refusal = self._refusal(request)
        if self.latency:
            time.sleep(self.latency)
        if refusal is not None:
            status, payload = refusal
        else:
            status, payload = self._serve(request, environ)
        return self._send(start_response, status, payload)

    @staticmethod
    def _send(start_response: Callable[..., Any], status: str, payload: bytes, kind: str = "text/xml") -> list[bytes]:
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(payload)))])
        return [payload]

    def _request(self, environ: dict[str, Any]) -> Request:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params = {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()}
        auth = environ.get("HTTP_AUTHORIZATION", "")
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/") if "Credential=" in auth else []
        region, service = (scope[2], scope[3]) if len(scope) >= 4 else ("us-east-1", "")
        action = params.get("Action") or environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        account = self.keys.get(scope[0], self.ACCOUNT) if scope else self.ACCOUNT
        return Request(account, region, service, action, params)

    def _refusal(self, request: Request) -> Reply | None:
        """An injected failure for this request, if any (caller holds the lock)."""
        for fault in self.faults:
            if fault.matches(request.account, request.region, request.service, request.action):
                if fault.times is not None:
                    if fault.times <= 0:
                        continue
                    fault.times -= 1
                message = fault.message or f"injected {fault.code} for {request.action} in {request.region}"
                return X.error(fault.code, message)
        if request.service == "sts" and request.action == "AssumeRole":
            return self._missing_role(request)
        if request.service in self.scp_denied.get(request.account, set()):
            return X.error(
                "AccessDenied",
                f"User: arn:aws:sts::{request.account}:assumed-role/rdsca is not authorized to perform: "
                f"{request.service}:{request.action} with an explicit deny in a service control policy",
            )
        if (request.account, request.region) in self.opted_out and request.service not in ("sts", "organizations"):
            # What a region the account has not enabled answers: the credentials are not valid there.
            return X.error("InvalidClientTokenId", "The security token included in the request is invalid.")
        return None

    def _missing_role(self, request: Request) -> Reply | None:
        wanted = ("RoleArn", "RoleSessionName", "ExternalId")
        self.assumed.append({k: v for k, v in request.params.items() if k in wanted})
        found = ROLE_ARN.fullmatch(request.params.get("RoleArn", ""))
        if found and (found[1], found[2]) in self.missing_roles:
            return X.error(
                "AccessDenied",
                f"User: arn:aws:iam::{request.account}:user/operator is not authorized to perform: sts:AssumeRole on "
                f"resource: {request.params['RoleArn']}",
            )
        return None

    def _serve(self, request: Request, environ: dict[str, Any]) -> Reply:
        if request.service == "rds" and request.action in OWN:
            return "200 OK", self._own(request)
        if request.service == "rds":
            with self._lock:
                refusal = self._check_change(request)
            if refusal is not None:
                return refusal
            if request.action == "ModifyDBInstance" and self._docdb(request) is not None:
                return "200 OK", self._modify_docdb(request)
            self._forward_params(request, environ)
        status, payload = self._call_moto(environ)
        if status.startswith("200"):
            payload = self._after_moto(request, payload)
        return status, payload

    def _call_moto(self, environ: dict[str, Any]) -> Reply:
        holder: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            holder.append(status)

        payload = b"".join(self._moto(environ, capture))
        return (holder[0] if holder else "500 Internal Server Error"), payload

    def _forward_params(self, request: Request, environ: dict[str, Any]) -> None:
        """moto is not told about CAs (the fake keeps them): drop the CA parameters from what it is sent."""
        dropped = {"CACertificateIdentifier", "CertificateRotationRestart"}
        if not dropped & set(request.params):
            return
        body = urlencode({k: v for k, v in request.params.items() if k not in dropped}).encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))

    def _after_moto(self, request: Request, payload: bytes) -> bytes:
        with self._lock:
            if request.service == "sts" and request.action == "AssumeRole":
                self._learn_key(request, payload)
            elif request.service == "ec2" and request.action == "DescribeRegions":
                return self._regions(request, payload)
            elif request.service == "rds" and request.action in AUGMENTED:
                self._record_change(request)
                return self._augment(request, payload)
        return payload

    def _learn_key(self, request: Request, payload: bytes) -> None:
        key = ACCESS_KEY.search(payload.decode())
        role = ROLE_ARN.fullmatch(request.params.get("RoleArn", ""))
        if key and role:
            self.keys[key[1]] = role[1]

    def _regions(self, request: Request, payload: bytes) -> bytes:
        """EC2 DescribeRegions lists only enabled regions: take out the ones this account has not enabled."""
        import xml.etree.ElementTree as ET

        root = ET.fromstring(payload)
        for info in root.findall(".//{*}regionInfo"):  # whatever namespace moto's EC2 writes
            for item in list(info):
                if (request.account, item.findtext("{*}regionName")) in self.opted_out:
                    info.remove(item)
        return ET.tostring(root, xml_declaration=True, encoding="utf-8")

    # -- the CA model ------------------------------------------------------------------------------------------------
    def _check_change(self, request: Request) -> Reply | None:
        """Refuse what AWS refuses: a CA the region does not list, or one the engine version does not support.
        Creation is not checked: tests and the demo seed databases on CAs AWS refuses today, the state a fleet
        reaches by having been created before its CA expired."""
        ca = request.params.get("CACertificateIdentifier")
        if not ca or request.action not in ("ModifyDBInstance", "ModifyDBCluster"):
            return None
        if ca not in self._listed(request.account, request.region):
            return X.error("CertificateNotFound", f"Certificate not found: {ca}")
        db = self._target(request)
        version = fixtures.engine_versions().get((db.engine or "", db.engine_version or "")) if db else None
        if version is not None and ca not in version.supported:
            return X.error(
                "InvalidParameterCombination",
                f"Version {version.version} for DB engine {version.engine} doesn't support certificate {ca}",
            )
        return None

    def _listed(self, account: str, region: str) -> set[str]:
        """The CA ids DescribeCertificates lists: the region's fixture, less withdrawn and expired ones (AWS answers
        CertificateNotFound for an expired CA such as rds-ca-2019)."""
        state = self.region(region, account)
        return {
            c.identifier
            for c in fixtures.certificates(region)
            if c.identifier not in state.withdrawn and c.valid_till.date() > self.today
        }

    def _target(self, request: Request) -> Database | None:
        kind = "cluster" if "Cluster" in request.action else "db"
        key = "DBClusterIdentifier" if kind == "cluster" else "DBInstanceIdentifier"
        return self.databases.get(self.arn(request.region, request.params.get(key, ""), kind, request.account))

    def _docdb(self, request: Request) -> DocDbInstance | None:
        identifier = request.params.get("DBInstanceIdentifier")
        return next((d for d in self.region(request.region, request.account).docdb if d.identifier == identifier), None)

    def _apply_ca(self, db: Database, ca: str, restart: bool) -> None:
        """A CA change takes effect: the database presents a certificate from the new CA once it restarts, or at
        once when its engine version rotates without a restart (SupportsCertificateRotationWithoutRestart)."""
        db.ca, db.pending, db.pending_no_restart = ca, None, False
        version = fixtures.engine_versions().get((db.engine or "", db.engine_version or ""))
        if restart or (version is not None and version.without_restart):
            db.served, db.issued, db.valid_till = ca, self.today, None

    def _record_change(self, request: Request) -> None:
        """Keep the CA state of what moto just accepted (caller holds the lock)."""
        params = request.params
        if request.action == "CreateDBInstance":
            self._created(request, "db", params["DBInstanceIdentifier"])
        elif request.action == "CreateDBCluster" and params.get("DBClusterInstanceClass"):
            self._created(request, "cluster", params["DBClusterIdentifier"])
        elif request.action in ("ModifyDBInstance", "ModifyDBCluster"):
            db = self._target(request)
            ca = params.get("CACertificateIdentifier")
            if db is not None and ca:
                restart = params.get("CertificateRotationRestart") != "false"
                if params.get("ApplyImmediately") == "true":
                    self._apply_ca(db, ca, restart)
                else:
                    db.pending, db.pending_no_restart = ca, not restart
                self._changed(request, db, ca)
        elif request.action == "RebootDBInstance":
            db = self._target(request)
            if db is not None:
                self._reboot(request, db)

    def _created(self, request: Request, kind: str, identifier: str) -> None:
        state = self.region(request.region, request.account)
        # A database created without a CA gets the account's default for new launches (its override, if any).
        ca = request.params.get("CACertificateIdentifier") or state.override or state.default_ca
        arn = self.arn(request.region, identifier, kind, request.account)
        engine, version = request.params.get("Engine"), request.params.get("EngineVersion")
        self.databases[arn] = Database(arn, identifier, engine, version, ca, ca, kind == "cluster", issued=self.today)

    def _changed(self, request: Request, db: Database, ca: str | None, **extra: Any) -> None:
        self.changes.append(
            {
                "account": request.account, "region": request.region, "action": request.action,
                "identifier": db.identifier, "ca": ca, **extra,
            }
        )

    def _reboot(self, request: Request, db: Database) -> None:
        db.reboots += 1
        if db.served != db.ca:
            db.served, db.issued, db.valid_till = db.ca, self.today, None
        self._changed(request, db, None)

    def server_certificate_valid_till(self, db: Database, region: str) -> dt.datetime | None:
        """The server certificate's expiry: 12 months from issue where the engine version rotates without a restart,
        36 months otherwise (RDS User Guide, "DB server certificate validities"), and never past its CA."""
        if db.valid_till is not None:
            return db.valid_till
        ca = next((c for c in fixtures.certificates(region) if c.identifier == db.served), None)
        if ca is None:
            return None
        version = fixtures.engine_versions().get((db.engine or "", db.engine_version or ""))
        years = 1 if version is not None and version.without_restart else 3
        issued = db.issued or self.today
        until = dt.datetime.combine(_add_years(issued, years), dt.time(), dt.timezone.utc)
        return min(until, ca.valid_till)

    # -- answers moto does not have --------------------------------------------------------------------------------
    def _own(self, request: Request) -> bytes:
        with self._lock:
            handler: Callable[[Request], bytes] = getattr(self, f"_answer_{request.action}")
            return handler(request)

    def _answer_DescribeCertificates(self, request: Request) -> bytes:
        state = self.region(request.region, request.account)
        listed = self._listed(request.account, request.region)
        wanted = request.params.get("CertificateIdentifier")
        certs = [c for c in fixtures.certificates(request.region) if c.identifier in listed]
        members = [c.member(request.region, state.override == c.identifier) for c in certs]

        def fill(result: Any) -> None:
            X.el(result, "DefaultCertificateForNewLaunches", state.override or state.default_ca)
            X.members(result, "Certificates", [m for m in members if wanted in (None, m["CertificateIdentifier"])],
                      "Certificate")

        return X.response(request.action, fill)

    def _answer_ModifyCertificates(self, request: Request) -> bytes:
        state = self.region(request.region, request.account)
        if request.params.get("RemoveCustomerOverride") == "true":
            state.override = None
        else:
            state.override = request.params.get("CertificateIdentifier")
        self.changes.append({"account": request.account, "region": request.region, "action": request.action,
                             "identifier": None, "ca": state.override})

        def fill(result: Any) -> None:
            if state.override:
                X.structure(X.el(result, "Certificate"), {"CertificateIdentifier": state.override,
                                                          "CustomerOverride": True})

        return X.response(request.action, fill)

    def _answer_DescribeDBEngineVersions(self, request: Request) -> bytes:
        engine, version = request.params.get("Engine", ""), request.params.get("EngineVersion", "")
        found = [
            v.raw
            for (e, ver), v in sorted(fixtures.engine_versions().items())
            if (not engine or e == engine) and (not version or ver == version)
        ]
        return X.response(request.action, lambda result: X.members(result, "DBEngineVersions", found,
                                                                    "DBEngineVersion"))

    def _answer_DescribePendingMaintenanceActions(self, request: Request) -> bytes:
        prefix = f"arn:aws:rds:{request.region}:{request.account}:"
        items = [
            {"ResourceIdentifier": arn, "PendingMaintenanceActionDetails": actions}
            for arn, actions in sorted(self.maintenance.items())
            if arn.startswith(prefix) and actions
        ]

        def fill(result: Any) -> None:
            container = X.el(result, "PendingMaintenanceActions")
            for item in items:
                resource = X.el(container, "ResourcePendingMaintenanceActions")
                X.el(resource, "ResourceIdentifier", item["ResourceIdentifier"])
                X.members(resource, "PendingMaintenanceActionDetails", item["PendingMaintenanceActionDetails"],
                          "PendingMaintenanceAction")

        return X.response(request.action, fill)

    def _answer_ApplyPendingMaintenanceAction(self, request: Request) -> bytes:
        """``immediate`` does the action now: a CA rotation moves the database to the region's default CA, a server
        certificate rotation issues a new server certificate; ``next-maintenance`` only opts in."""
        arn, action = request.params.get("ResourceIdentifier", ""), request.params.get("ApplyAction")
        actions = self.maintenance.get(arn, [])
        for a in actions:
            if a["Action"] == action:
                a["OptInStatus"] = request.params.get("OptInType")
        db = self.databases.get(arn)
        if request.params.get("OptInType") == "immediate":
            self.maintenance[arn] = [a for a in actions if a["Action"] != action]
            if db is not None and action == "ca-certificate-rotation":
                self._apply_ca(db, self.region(request.region, request.account).default_ca, restart=True)
            elif db is not None:
                db.issued, db.valid_till = self.today, None
        if db is not None:
            self._changed(request, db, None, maintenance_action=action, opt_in=request.params.get("OptInType"))

        def fill(result: Any) -> None:
            X.el(X.el(result, "ResourcePendingMaintenanceActions"), "ResourceIdentifier", arn)

        return X.response(request.action, fill)

    def _answer_RebootDBCluster(self, request: Request) -> bytes:
        db = self._target(request)
        if db is not None:
            self._reboot(request, db)
        return X.response(request.action, lambda r: X.structure(X.el(r, "DBCluster"), {
            "DBClusterIdentifier": request.params.get("DBClusterIdentifier"), "Status": "rebooting",
            "DBClusterArn": db.arn if db else None,
        }))

    def _modify_docdb(self, request: Request) -> bytes:
        with self._lock:
            docdb = self._docdb(request)
            assert docdb is not None
            db = self._docdb_record(request, docdb)
            self._record_change(request)

            def fill(result: Any) -> None:
                self._docdb_element(X.el(result, "DBInstance"), request, docdb, db)

            return X.response("ModifyDBInstance", fill)

    def _docdb_record(self, request: Request, docdb: DocDbInstance) -> Database:
        """The CA state of a DocumentDB instance (made on first sight when a test appends one directly)."""
        arn = self.arn(request.region, docdb.identifier, account=request.account)
        if arn not in self.databases:
            self.databases[arn] = Database(arn, docdb.identifier, "docdb", docdb.engine_version, docdb.ca, docdb.ca,
                                           issued=self.today)
        return self.databases[arn]

    def _docdb_element(self, item: Any, request: Request, docdb: DocDbInstance, db: Database) -> None:
        X.structure(item, {
            "DBInstanceIdentifier": docdb.identifier, "Engine": "docdb", "EngineVersion": docdb.engine_version,
            "DBInstanceArn": db.arn, "DBClusterIdentifier": docdb.cluster,
        })
        self._instance_ca(item, db, request.region)

    # -- completing moto's responses ---------------------------------------------------------------------------------
    def _augment(self, request: Request, payload: bytes) -> bytes:
        import xml.etree.ElementTree as ET

        root = ET.fromstring(payload)
        for item in root.iter(X.tag("DBInstance")):
            db = self.databases.get(X.text(item, "DBInstanceArn"))
            if db is not None:
                self._instance_ca(item, db, request.region)
        for item in root.iter(X.tag("DBCluster")):
            db = self.databases.get(X.text(item, "DBClusterArn"))
            if db is not None:
                self._cluster_ca(item, db, request.region)
        if request.action == "DescribeDBInstances":
            self._list_docdb(root, request)
        return ET.tostring(root, xml_declaration=True, encoding="utf-8")

    def _instance_ca(self, item: Any, db: Database, region: str) -> None:
        """``CACertificateIdentifier``, ``CertificateDetails`` (the certificate presented now) and a pending CA in
        ``PendingModifiedValues.CACertificateIdentifier`` (botocore's DBInstance shape)."""
        X.replace(item, "CACertificateIdentifier", db.ca)
        until = self.server_certificate_valid_till(db, region)
        if db.served and until is not None:
            X.structure(X.replace(item, "CertificateDetails"), {"CAIdentifier": db.served, "ValidTill": X.iso(until)})
        if db.pending:
            X.replace(X.child(item, "PendingModifiedValues"), "CACertificateIdentifier", db.pending)
        for name, value in db.pending_other.items():
            X.replace(X.child(item, "PendingModifiedValues"), name, value)

    def _cluster_ca(self, item: Any, db: Database, region: str) -> None:
        """A DBCluster has no ``CACertificateIdentifier`` member: its CA is ``CertificateDetails.CAIdentifier`` and a
        pending one ``PendingModifiedValues.CertificateDetails`` (botocore's DBCluster and
        ClusterPendingModifiedValues shapes)."""
        until = self.server_certificate_valid_till(db, region)
        details: dict[str, Any] = {"CAIdentifier": db.ca}
        if until is not None:
            details["ValidTill"] = X.iso(until)
        X.structure(X.replace(item, "CertificateDetails"), details)
        if db.pending:
            X.structure(X.replace(X.child(item, "PendingModifiedValues"), "CertificateDetails"),
                        {"CAIdentifier": db.pending})

    def _list_docdb(self, root: Any, request: Request) -> None:
        listing = root.find(f".//{X.tag('DBInstances')}")
        marker = root.findtext(f".//{X.tag('Marker')}")
        if listing is None or marker:
            return  # DocumentDB instances come on the last page
        for docdb in self.region(request.region, request.account).docdb:
            db = self._docdb_record(request, docdb)
            self._docdb_element(X.el(listing, "DBInstance"), request, docdb, db)

    # -- the control API (for a fake in a process of its own) --------------------------------------------------------
    def _control(self, environ: dict[str, Any]) -> tuple[str, bytes]:
        path = environ["PATH_INFO"].removeprefix("/_rdsca/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        with self._lock:
            if path == "calls":
                data: Any = [c.to_json() for c in self.calls]
            elif path == "changes":
                data = self.changes
            elif path == "databases":
                data = {arn: {**asdict(db), "valid_till": None, "issued": None} for arn, db in self.databases.items()}
            elif path == "configure":
                data = self._configure(body)
            elif path == "maintenance":
                self.run_maintenance()
                data = {"ok": True}
            elif path == "in-flight":
                data = {"in_flight": self.in_flight}
            elif path == "seed":
                self.seed(body["account"], body["region"], body["instances"])
                data = {"ok": True}
            else:
                return "404 Not Found", b'{"error": "unknown control path"}'
        return "200 OK", json.dumps(data).encode()

    def _configure(self, body: dict[str, Any]) -> dict[str, Any]:
        if "latency" in body:
            self.latency = float(body["latency"])
        for fault in body.get("faults", []):
            self.faults.append(Fault(**fault))
        for account, role in body.get("missing_roles", []):
            self.missing_roles.add((account, role))
        for account in body.get("scp_denied", []):
            self.scp_denied.setdefault(account, set()).add("rds")
        for account, region in body.get("opted_out", []):
            self.opted_out.add((account, region))
        if body.get("forget_calls"):
            self.calls.clear()
        return {"ok": True}
