"""Judge scanned databases (pure: no AWS calls); ``rdsca.aws.audit_report`` renders the result.

Each database gets the status of its CA (``catalog.Status``) and what it serves now: a certificate from a retired or
refused CA (a finding, also when a fix waits for the maintenance window: clients that verify the certificate fail
until then), a certificate from an older CA until a restart takes a change (a finding until it restarts), or ``ok``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rdsca import catalog, clock
from rdsca.aws.readiness import Readiness
from rdsca.aws.scan import CA_ACTIONS, AccountScan, Database, RegionScan

DEFAULT_EXPIRING_DAYS = clock.EXPIRING_DAYS
#: What AWS says of a CA that must change (rotation guide): updating is required for clients that verify the
#: certificate.
VERIFY = "updating is required for clients that verify the certificate"


class FindingKind(str, enum.Enum):
    """What a finding is about; each maps to one SARIF rule."""

    RETIRED = "retired"  # also unknown and expired
    REFUSED = "refused"
    CA_EXPIRING = "ca-expiring"
    SERVER_CERTIFICATE = "server-certificate"
    RESTART_PENDING = "restart-pending"


#: The rdsca rule each kind of finding is (one rule id across commands: ``rdsca list-rules``, ``--check``,
#: baselines and suppressions name it).
POLICY_OF = {
    FindingKind.RETIRED: "rds-ca-retired",
    FindingKind.REFUSED: "rds-ca-engine-support",
    FindingKind.CA_EXPIRING: "rds-ca-expiring",
    FindingKind.SERVER_CERTIFICATE: "rds-ca-expiring",
    FindingKind.RESTART_PENDING: "rds-ca-restart-pending",
}


class Serving(str, enum.Enum):
    """What the database presents to clients now."""

    OK = "ok"
    #: A certificate from a CA that needs action (retired, unknown or expired), fix scheduled or not.
    RETIRED_CA = "retired-ca"
    #: A certificate from a current CA that the engine (version) refuses, such as SQL Server on ECC384.
    REFUSED_CA = "refused-ca"
    #: A certificate from an older CA: the CA was changed, and the change takes effect at the next restart.
    RESTART_PENDING = "restart-pending"
    NOT_APPLICABLE = "not-applicable"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class RestartRecord:
    """A journal's record of a CA change that takes effect only at a restart (no-restart, or Babelfish)."""

    arn: str
    ca: str | None
    time: str
    journal: str
    why: str

    def text(self) -> str:
        cause = "without a restart" if self.why == "no-restart" else "on a Babelfish cluster, which needs a reboot"
        return f"its CA was changed to {self.ca} {cause} at {self.time} (journal {self.journal})"


@dataclass
class Row:
    db: Database
    status: catalog.Status
    reason: str
    restart: str
    #: A CA this database accepts to move to (None: not applicable or nothing known to work).
    replacement: str | None
    ca_valid_until: dt.datetime | None
    serving: Serving = Serving.OK
    #: When a fix waiting for the maintenance window lands ("scheduled for ..."), if one does.
    scheduled: str | None = None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: ``audit --probe``: whether its clients are ready for the target CA (``rdsca.aws.readiness``), and why.
    clients: Readiness | None = None

    def to_json(self) -> dict[str, Any]:
        db = self.db
        return {
            "account": db.account,
            "region": db.region,
            "kind": db.kind.value,
            "identifier": db.identifier,
            "arn": db.arn,
            "engine": db.engine,
            "engine_version": db.engine_version,
            "endpoint_address": db.endpoint_address,
            "endpoint_port": db.endpoint_port,
            "ca": db.ca,
            "ca_status": self.status.value,
            "serving": self.serving.value,
            "served_ca": db.served_ca,
            "ca_valid_until": _iso(self.ca_valid_until),
            "server_certificate_valid_till": _iso(db.server_cert_valid_till),
            "pending_ca": db.pending_ca,
            "pending_changes": list(db.pending_changes),
            "scheduled": self.scheduled,
            "maintenance_window": db.maintenance_window,
            "pending_maintenance": [
                {k: _iso(v) if isinstance(v, dt.datetime) else v for k, v in m.items()} for m in db.maintenance
            ],
            "restart": self.restart,
            "replacement": self.replacement,
            "not_applicable": db.not_applicable,
            "findings": [f.text for f in self.findings],
            "notes": self.notes,
            "clients": {"state": self.clients.state, "detail": self.clients.detail} if self.clients else None,
            "reason": self.reason,
        }


def _iso(value: Any) -> str | None:
    return clock.utc_iso(value) if isinstance(value, dt.datetime) else value


@dataclass(frozen=True)
class Options:
    today: dt.date
    expiring_days: int = DEFAULT_EXPIRING_DAYS
    #: A database still serving a retired CA with a fix scheduled is a note, not a finding.
    accept_scheduled: bool = False
    #: ARN -> the journal's record of a change that waits for a restart.
    restarts: Mapping[str, RestartRecord] = field(default_factory=dict)


# -- judgements ----------------------------------------------------------------------------------------------------


def rotation_flag(db: Database, scan: RegionScan) -> bool | None:
    """``SupportsCertificateRotationWithoutRestart`` from the live engine version, else the catalog's."""
    known = scan.engine_versions.get((db.engine or "", db.engine_version or ""))
    if known and known.rotates_without_restart is not None:
        return known.rotates_without_restart
    return catalog.rotation_flag(db.engine, db.engine_version)


def restart(db: Database, scan: RegionScan) -> catalog.Restart:
    known = scan.engine_versions.get((db.engine or "", db.engine_version or ""))
    flag = known.rotates_without_restart if known else None
    return catalog.restart_on_rotation(db.engine, db.engine_version, flag)


def accepts(db: Database, scan: RegionScan, ca_id: str, today: dt.date) -> bool:
    """Whether this database's engine version takes ``ca_id``: the live list when known, else the catalog."""
    known = scan.engine_versions.get((db.engine or "", db.engine_version or ""))
    if known and known.supported_cas is not None:
        return ca_id in known.supported_cas
    return catalog.evaluate(ca_id, db.engine, db.engine_version, db.region, today).status is catalog.Status.OK


def _ca_status(db: Database, scan: RegionScan, today: dt.date) -> tuple[catalog.Verdict, catalog.Status, str, Any]:
    """(catalog verdict, status, reason, CA valid until): the region's own certificate listing beats the catalog."""
    verdict = catalog.evaluate(db.ca, db.engine, db.engine_version, db.region, today)
    status, reason, until = verdict.status, verdict.reason, verdict.valid_until
    live = scan.certificates
    if db.ca and live is not None and status in (catalog.Status.OK, catalog.Status.EXPIRED):
        # An id the region does not list is answered CertificateNotFound.
        if db.ca not in live:
            status = catalog.Status.RETIRED
            reason = (
                f"{db.ca} is not offered in {db.region} (DescribeCertificates does not list it: CertificateNotFound)"
            )
        elif isinstance(live[db.ca], dt.datetime):
            until = live[db.ca]
            if until.date() <= today:
                status, reason = catalog.Status.EXPIRED, f"{db.ca} expired on {until.date().isoformat()}"
            else:
                status, reason = catalog.Status.OK, verdict.reason
    if db.ca and status is catalog.Status.OK and not accepts(db, scan, db.ca, today):
        status, reason = catalog.Status.REFUSED, f"{db.engine} {db.engine_version} does not support {db.ca}"
    return verdict, status, reason, until


def _scheduled(db: Database, scan: RegionScan, today: dt.date) -> str | None:
    """"scheduled for ..." when a CA change to a CA this database accepts waits for the maintenance window."""
    if not (
        db.pending_ca is not None
        and catalog.evaluate(db.pending_ca, db.engine, db.engine_version, db.region, today).acceptable
        and accepts(db, scan, db.pending_ca, today)
    ):
        return None
    window = "the maintenance window" + (f" {db.maintenance_window} UTC" if db.maintenance_window else "")
    return f"scheduled for {window}"


def _retired(row: Row, status: catalog.Status, reason: str, options: Options) -> None:
    """A database that presents a certificate from a CA that needs action: a finding even with a fix scheduled
    (clients that verify the certificate fail now; AWS's rotation guide says to apply at once then), a note only
    with ``accept_scheduled``."""
    db = row.db
    refused = status is catalog.Status.REFUSED
    row.serving = Serving.REFUSED_CA if refused else Serving.RETIRED_CA
    kind = FindingKind.REFUSED if refused else FindingKind.RETIRED
    text = f"CA {status}: {reason}; {VERIFY}"
    if row.scheduled:
        text += f"; the change to {db.pending_ca} is {row.scheduled} (apply it now: rdsca rotate --apply-immediately)"
        if options.accept_scheduled:
            row.notes.append(f"{status} CA until the change to {db.pending_ca} lands: {row.scheduled}")
            return
    row.findings.append(Finding(kind, text))


def _restart_pending(db: Database, record: RestartRecord | None) -> Finding | None:
    """The CA was changed but the certificate presented is still the old CA's until a restart: AWS reports another
    CA in ``CertificateDetails.CAIdentifier``, or a journal records a change made without a restart (or on a
    Babelfish cluster) and no reboot since. ModifyDBInstance: "The certificate is not updated until the DB instance
    is restarted"."""
    if db.served_ca and db.ca and db.served_ca != db.ca:
        why = f"presents a certificate from {db.served_ca}, not from its CA {db.ca} (CertificateDetails)"
    elif record is not None and record.ca == db.ca:
        why = record.text() + "; it presents its old certificate until it restarts"
    else:
        return None
    return Finding(FindingKind.RESTART_PENDING, f"restart pending: {why}; {VERIFY} (rdsca rotate --reboot)")


def _rotation_scheduled(db: Database, before: dt.datetime) -> str | None:
    for m in db.maintenance:
        when = m.get("current_apply_date") or m.get("auto_applied_after")
        if m["action"] in CA_ACTIONS and isinstance(when, dt.datetime) and when <= before:
            return f"{m['action']} scheduled for {when.date().isoformat()}"
    return None


def _server_certificate(db: Database, scan: RegionScan, options: Options) -> tuple[Finding | None, str | None]:
    """(finding, note) on the server certificate's expiry, by AWS's two rules: an engine version that rotates
    without a restart gets a new 12-month certificate from RDS at half life (late if it is close to expiry); the
    others get a rotation maintenance action at least 6 months before expiry, which must be applied (it restarts)."""
    valid_till = db.server_cert_valid_till
    if valid_till is None:
        return None, None
    days = (valid_till.date() - options.today).days
    on = valid_till.date().isoformat()
    if days < 0:
        return Finding(FindingKind.SERVER_CERTIFICATE, f"server certificate expired on {on}; {VERIFY}"), None
    if rotation_flag(db, scan):
        if days > catalog.SERVER_CERT_OVERDUE_DAYS:
            return None, None
        text = (f"server certificate expires on {on} ({days} days left) and was not rotated at half life as RDS "
                "does for this engine version")
        return Finding(FindingKind.SERVER_CERTIFICATE, text), None
    if days > options.expiring_days:
        return None, None
    scheduled = _rotation_scheduled(db, valid_till)
    if scheduled:
        return None, f"server certificate expires on {on}; {scheduled}"
    pending = any(m["action"] in CA_ACTIONS for m in db.maintenance)
    fix = ("apply its pending maintenance action (rdsca rotate --pending-maintenance; it restarts)" if pending
           else "no rotation is scheduled")
    text = f"server certificate expires on {on} ({days} days left); {fix}"
    return Finding(FindingKind.SERVER_CERTIFICATE, text), None


def judge(db: Database, scan: RegionScan, options: Options) -> Row:
    if db.not_applicable:
        return Row(db, catalog.Status.NOT_APPLICABLE, db.not_applicable, "no", None, None, Serving.NOT_APPLICABLE)
    today = options.today
    verdict, status, reason, until = _ca_status(db, scan, today)
    replacement = next((ca for ca in catalog.CURRENT_CAS if accepts(db, scan, ca, today)), None)
    row = Row(db, status, reason, restart(db, scan).value, replacement, until, scheduled=_scheduled(db, scan, today))
    if status.needs_action:
        _retired(row, status, reason, options)
    elif status is catalog.Status.OK and until is not None and (until.date() - today).days <= options.expiring_days:
        row.findings.append(Finding(
            FindingKind.CA_EXPIRING, f"CA expires on {until.date().isoformat()}, within {options.expiring_days} days"
        ))
    pending = _restart_pending(db, options.restarts.get(db.arn))
    if pending is not None:
        row.findings.append(pending)
        if row.serving is Serving.OK:
            row.serving = Serving.RESTART_PENDING
    if db.ca is None and status is catalog.Status.UNSET:
        row.notes.append("no CA reported")
    server, note = _server_certificate(db, scan, options) if not row.scheduled else (None, None)
    row.findings += [server] if server else []
    row.notes += [note] if note else []
    if db.pending_ca and not row.scheduled:
        row.notes.append(f"CA change to {db.pending_ca} pending for the maintenance window")
    row.notes += [f"pending maintenance: {m['action']} ({m.get('opt_in_status') or 'pending'})" for m in db.maintenance]
    row.notes += verdict.warnings
    return row


@dataclass
class Audit:
    accounts: list[AccountScan]
    rows: list[Row]
    today: dt.date
    #: Findings set aside by the configuration file or a baseline (``rdsca.findings``): listed, not failing.
    suppressed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def scans(self) -> list[RegionScan]:
        return [s for a in self.accounts for s in a.regions]

    @property
    def findings(self) -> list[Row]:
        return [r for r in self.rows if r.findings]

    @property
    def errors(self) -> list[str]:
        return [a.error for a in self.accounts if a.error] + [s.error for s in self.scans if s.error]

    @property
    def warnings(self) -> list[str]:
        found = [w for a in self.accounts for w in a.warnings] + [w for s in self.scans for w in s.warnings]
        return found + [w for s in self.scans for w in catalog_disagreements(s)]


def catalog_disagreements(scan: RegionScan) -> list[str]:
    """Where the region's DescribeCertificates and the built-in catalog disagree on a CA's validity (the region's
    answer is the one used): a wrong catalog entry shows up here."""
    found = []
    for ca_id, live in sorted((scan.certificates or {}).items()):
        known = catalog.CATALOG.get(ca_id)
        if known is None:
            continue
        # Only a date the catalog has for this region (or for the whole CA) is compared, not its fallback.
        until = known.valid_until_by_region.get(scan.region) if known.valid_until_by_region else known.valid_until
        if isinstance(live, dt.datetime) and until is not None and abs((live - until).days) > 1:
            found.append(
                f"{scan.where}: the built-in catalog says {ca_id} is valid until {until.date().isoformat()}, "
                f"DescribeCertificates says {live.date().isoformat()}; the region's answer is used"
            )
    return found


def row_order(row: Row) -> tuple[str, str, str, str]:
    """Stable order of every output: account, region, kind, identifier."""
    return (row.db.account, row.db.region, row.db.kind.value, row.db.identifier)


def judge_region(scan: RegionScan, options: Options, seen: set[str] | None = None) -> list[Row]:
    rows = []
    seen = set() if seen is None else seen
    for db in scan.databases:
        # The RDS API also lists DocumentDB and Neptune instances: one row per ARN.
        if db.arn in seen:
            continue
        seen.add(db.arn)
        rows.append(judge(db, scan, options))
    return rows


def audit(accounts: list[AccountScan], options: Options) -> Audit:
    seen: set[str] = set()
    rows = [row for a in accounts for scan in a.regions for row in judge_region(scan, options, seen)]
    return Audit(accounts, sorted(rows, key=row_order), options.today)


def audit_regions(scans: list[RegionScan], options: Options) -> Audit:
    """The audit of one account's region scans (``scans``' own account)."""
    account = scans[0].account if scans else ""
    return audit([AccountScan(account, regions=scans)], options)


def restart_records(journals: Iterable[Any]) -> dict[str, RestartRecord]:
    """From journals' accepted records, in time order: changes that wait for a restart, less those a later reboot or
    restarting change took (``journals``: ``rdsca.aws.journal.Contents``)."""
    events = sorted(
        ((intent["time"], str(contents.path), intent) for contents in journals for intent, _ in contents.accepted()),
        key=lambda e: e[0],
    )
    pending: dict[str, RestartRecord] = {}
    for time, path, intent in events:
        request = intent.get("request") or {}
        if intent["action"].startswith("reboot"):
            pending.pop(intent["arn"], None)
        elif intent["action"] in ("modify-db-instance", "modify-db-cluster"):
            # An engine version that rotates without a restart serves the new certificate at once.
            waits = request.get("CertificateRotationRestart") is False and intent.get("restart") != "no"
            if waits or intent.get("babelfish"):
                why = "no-restart" if request.get("CertificateRotationRestart") is False else "babelfish"
                pending[intent["arn"]] = RestartRecord(intent["arn"], intent.get("new_ca"), time, path, why)
            else:
                pending.pop(intent["arn"], None)
    return pending
