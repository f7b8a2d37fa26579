"""Judge scanned databases (pure: no AWS calls) and render the audit as a table, JSON, CSV or SARIF."""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from dataclasses import dataclass, field
from typing import Any

from rdsca import catalog, sarif
from rdsca.aws.scan import CA_ACTIONS, Database, RegionScan

DEFAULT_EXPIRING_DAYS = 180


class FindingKind(str, enum.Enum):
    """What a finding is about; each maps to one SARIF rule."""

    RETIRED = "retired"  # also unknown and expired
    REFUSED = "refused"
    CA_EXPIRING = "ca-expiring"
    SERVER_CERTIFICATE = "server-certificate"


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Row:
    db: Database
    status: catalog.Status
    reason: str
    restart: str
    #: A CA this database accepts to move to (None: not applicable or nothing known to work).
    replacement: str | None
    ca_valid_until: dt.datetime | None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        db = self.db
        return {
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
            "ca_valid_until": _iso(self.ca_valid_until),
            "server_certificate_valid_till": _iso(db.server_cert_valid_till),
            "pending_ca": db.pending_ca,
            "pending_maintenance": [
                {k: _iso(v) if isinstance(v, dt.datetime) else v for k, v in m.items()} for m in db.maintenance
            ],
            "restart": self.restart,
            "replacement": self.replacement,
            "not_applicable": db.not_applicable,
            "findings": [f.text for f in self.findings],
            "notes": self.notes,
            "reason": self.reason,
        }


def _iso(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


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


def _scheduled(db: Database, scan: RegionScan, today: dt.date) -> bool:
    """A CA change waiting for the maintenance window, to a CA this database accepts."""
    return (
        db.pending_ca is not None
        and catalog.evaluate(db.pending_ca, db.engine, db.engine_version, db.region, today).acceptable
        and accepts(db, scan, db.pending_ca, today)
    )


def _server_certificate(db: Database, today: dt.date, expiring_days: int, scheduled: bool) -> Finding | None:
    """G1 CAs rotate server certificates at half life, so expiry matters only without that, or when it is close
    and no rotation is pending (rds-ca-facts, "Server certificates")."""
    valid_till = db.server_cert_valid_till
    if valid_till is None:
        return None
    days = (valid_till.date() - today).days
    ca = catalog.CATALOG.get(db.ca or "")
    auto = bool(ca and ca.server_cert_auto_rotation)
    rotation_pending = any(m["action"] in CA_ACTIONS for m in db.maintenance)
    if days > expiring_days or (auto and rotation_pending) or scheduled:
        return None
    when = (
        f"expired on {valid_till.date().isoformat()}"
        if days < 0
        else f"expires on {valid_till.date().isoformat()} ({days} days left)"
    )
    return Finding(FindingKind.SERVER_CERTIFICATE, f"server certificate {when}")


def judge(db: Database, scan: RegionScan, today: dt.date, expiring_days: int = DEFAULT_EXPIRING_DAYS) -> Row:
    if db.not_applicable:
        return Row(db, catalog.Status.NOT_APPLICABLE, db.not_applicable, "no", None, None)
    verdict, status, reason, until = _ca_status(db, scan, today)
    replacement = next((ca for ca in catalog.CURRENT_CAS if accepts(db, scan, ca, today)), None)
    row = Row(db, status, reason, restart(db, scan).value, replacement, until)
    scheduled = _scheduled(db, scan, today)
    if status.needs_action:
        if scheduled:
            # The fix is made and waits for the maintenance window (ModifyDBInstance without ApplyImmediately):
            # nothing is left to do, so it is not a finding; the note and PENDING column say when it lands.
            row.notes.append(f"{status} CA; replaced by {db.pending_ca} in the next maintenance window")
        else:
            kind = FindingKind.REFUSED if status is catalog.Status.REFUSED else FindingKind.RETIRED
            row.findings.append(Finding(kind, f"CA {status}: {reason}"))
    elif status is catalog.Status.OK and until is not None and (until.date() - today).days <= expiring_days:
        row.findings.append(
            Finding(FindingKind.CA_EXPIRING, f"CA expires on {until.date().isoformat()}, within {expiring_days} days")
        )
    if db.ca is None and status is catalog.Status.UNSET:
        row.notes.append("no CA reported")
    server = _server_certificate(db, today, expiring_days, scheduled)
    if server:
        row.findings.append(server)
    if db.pending_ca:
        row.notes.append(f"CA change to {db.pending_ca} pending for the maintenance window")
    row.notes += [f"pending maintenance: {m['action']}" for m in db.maintenance]
    row.notes += verdict.warnings
    return row


@dataclass
class Audit:
    scans: list[RegionScan]
    rows: list[Row]
    today: dt.date

    @property
    def findings(self) -> list[Row]:
        return [r for r in self.rows if r.findings]

    @property
    def errors(self) -> list[str]:
        return [s.error for s in self.scans if s.error]

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.scans for w in s.warnings]


def audit(scans: list[RegionScan], today: dt.date, expiring_days: int = DEFAULT_EXPIRING_DAYS) -> Audit:
    rows: list[Row] = []
    seen: set[str] = set()
    for scan in scans:
        for db in scan.databases:
            # The RDS API also lists DocumentDB and Neptune instances: one row per ARN.
            if db.arn in seen:
                continue
            seen.add(db.arn)
            rows.append(judge(db, scan, today, expiring_days))
    return Audit(scans, rows, today)


# -- rendering -----------------------------------------------------------------------------------------------------


def to_json(result: Audit) -> dict[str, Any]:
    return {
        "as_of": result.today.isoformat(),
        "regions": [
            {
                "region": s.region,
                "default_ca_for_new_launches": s.default_ca,
                "account_override": s.override,
                "certificates": None if s.certificates is None else sorted(s.certificates),
                "error": s.error,
                "warnings": s.warnings,
            }
            for s in result.scans
        ],
        "databases": [r.to_json() for r in result.rows],
        "findings": sum(1 for r in result.rows if r.findings),
        "errors": result.errors,
    }


CSV_COLUMNS = [
    "region",
    "kind",
    "identifier",
    "engine",
    "engine_version",
    "ca",
    "ca_status",
    "ca_valid_until",
    "server_certificate_valid_till",
    "pending_ca",
    "restart",
    "replacement",
    "findings",
    "not_applicable",
    "arn",
]


def to_csv(result: Audit) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in result.rows:
        data = row.to_json()
        data["findings"] = "; ".join(f.text for f in row.findings)
        writer.writerow({k: "" if data.get(k) is None else data[k] for k in CSV_COLUMNS})
    return out.getvalue()


#: The SARIF rule of each kind of finding.
SARIF_RULES = {
    "retired": sarif.Rule(
        "rdsca-audit-retired-ca", "A database uses a retired, unknown or expired CA", "error", "critical",
        help_uri=catalog.ROTATION_GUIDE,
    ),
    "refused": sarif.Rule(
        "rdsca-audit-refused-ca", "A database uses a CA its engine version does not support", "error", "high",
        help_uri=catalog.ROTATION_GUIDE,
    ),
    "expiring": sarif.Rule(
        "rdsca-audit-expiring", "A CA or server certificate expires soon", "warning", "medium",
        help_uri=catalog.ROTATION_GUIDE,
    ),
}
RULE_OF = {
    FindingKind.RETIRED: "retired",
    FindingKind.REFUSED: "refused",
    FindingKind.CA_EXPIRING: "expiring",
    FindingKind.SERVER_CERTIFICATE: "expiring",
}


def to_sarif(result: Audit) -> dict[str, Any]:
    """SARIF 2.1.0; a database has no source file, so each result is located by its ARN (a logical location)."""
    results = []
    for row in result.rows:
        for finding in row.findings:
            rule = SARIF_RULES[RULE_OF[finding.kind]]
            message = f"{row.db.kind} {row.db.identifier} ({row.db.region}): {finding}"
            results.append(sarif.result(rule.id, rule.level, message, [sarif.location(logical_name=row.db.arn)]))
    return sarif.document("rdsca-audit/", list(SARIF_RULES.values()), results)


def table_rows(result: Audit) -> list[list[Any]]:
    rows = []
    for row in result.rows:
        db = row.db
        engine = " ".join(x for x in (db.engine, db.engine_version) if x) or "-"
        valid = row.ca_valid_until.date().isoformat() if row.ca_valid_until else "-"
        rows.append(
            [
                db.region,
                db.identifier,
                db.kind.value,
                engine,
                db.ca or "-",
                row.status.value,
                valid,
                db.pending_ca or "-",
                row.restart,
                "yes" if row.findings else "",
            ]
        )
    return rows


TABLE_HEADERS = [
    "REGION",
    "DATABASE",
    "KIND",
    "ENGINE",
    "CA",
    "STATUS",
    "CA VALID UNTIL",
    "PENDING",
    "RESTART",
    "FINDING",
]
