"""The audit's four outputs: a table, JSON, CSV and SARIF, from ``rdsca.aws.audit``'s judgement (pure)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from rdsca import catalog, findings, sarif
from rdsca.aws.audit import POLICY_OF, Audit, Finding, FindingKind, Serving
from rdsca.aws.scan import Database
from rdsca.output import Column, ca_status_tone, csv_row, ident, tones


def to_json(result: Audit) -> dict[str, Any]:
    return {
        "as_of": result.today.isoformat(),
        "accounts": [
            {"account": a.account, "name": a.name, "error": a.error, "warnings": a.warnings} for a in result.accounts
        ],
        "regions": [
            {
                "account": s.account,
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
        "results": findings.results(
            [{k: v for k, v in d.items() if k != "index"} for d in finding_dicts(result)], result.suppressed),
        # Kept one release as an alias: the number of databases with a finding (``results`` lists them).
        "findings": sum(1 for r in result.rows if r.findings),
        "suppressed": result.suppressed,
        "errors": result.errors,
    }


def finding_dicts(result: Audit) -> list[dict[str, Any]]:
    """Every finding in the one finding shape (``rdsca.findings``): the rule it is, the database's ARN and name;
    ``index`` tells a row's findings apart. Every audit finding fails the run, so its level is mandatory."""
    from rdsca.aws.audit import POLICY_OF
    from rdsca.rules import BY_NAME

    found = []
    for row in result.rows:
        for index, finding in enumerate(row.findings):
            policy = POLICY_OF[finding.kind]
            found.append({"policy": policy, "level": "mandatory", "severity": BY_NAME[policy].severity,
                          "arn": row.db.arn, "name": row.db.identifier, "message": finding.text, "index": index})
    return found


CSV_COLUMNS = [
    "account",
    "region",
    "kind",
    "identifier",
    "engine",
    "engine_version",
    "ca",
    "ca_status",
    "serving",
    "served_ca",
    "ca_valid_until",
    "server_certificate_valid_till",
    "pending_ca",
    "scheduled",
    "pending_maintenance",
    "restart",
    "replacement",
    "policy",
    "finding",
    "notes",
    "not_applicable",
    "arn",
]


def maintenance_text(db: Database) -> str:
    parts = []
    for m in db.maintenance:
        when = m.get("current_apply_date") or m.get("auto_applied_after")
        date = f" {when.date().isoformat()}" if isinstance(when, dt.datetime) else ""
        parts.append(f"{m['action']} ({m.get('opt_in_status') or 'pending'}{date})")
    return "; ".join(parts)


def to_csv(result: Audit) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in result.rows:
        data = row.to_json()
        data["notes"] = "; ".join(row.notes)
        data["pending_maintenance"] = maintenance_text(row.db)
        # One row per finding (a database without one: one row, finding empty), so that the file round-trips: a
        # finding's text may itself contain "; ".
        items: list[Finding | None] = [*row.findings] or [None]
        for finding in items:
            data["finding"] = finding.text if finding else None
            data["policy"] = POLICY_OF[finding.kind] if finding else None
            writer.writerow(csv_row(data, CSV_COLUMNS))
    return out.getvalue()


#: The SARIF rule of each kind of finding.
SARIF_RULES = {
    **sarif.ca_rules("audit", catalog.ROTATION_GUIDE),
    "expiring": sarif.Rule(
        "rdsca-audit-expiring", "A CA or server certificate expires soon", "warning", "medium",
        help_uri=catalog.ROTATION_GUIDE,
    ),
    "restart-pending": sarif.Rule(
        "rdsca-audit-restart-pending", "A CA change waits for a restart to take effect", "error", "high",
        help_uri=catalog.ROTATION_GUIDE,
    ),
}
RULE_OF = {
    FindingKind.RETIRED: "retired",
    FindingKind.REFUSED: "refused",
    FindingKind.CA_EXPIRING: "expiring",
    FindingKind.SERVER_CERTIFICATE: "expiring",
    FindingKind.RESTART_PENDING: "restart-pending",
}


def to_sarif(result: Audit) -> dict[str, Any]:
    """SARIF 2.1.0; a database has no source file, so each result is located by its ARN (a logical location)."""
    results = []
    for row in result.rows:
        for finding in row.findings:
            rule = SARIF_RULES[RULE_OF[finding.kind]]
            db = row.db
            message = f"{db.kind} {db.identifier} (account {db.account}, {db.region}): {finding}"
            results.append(sarif.result(rule.id, rule.level, message, [sarif.location(logical_name=db.arn)]))
    kinds = {policy: kind for kind, policy in reversed(POLICY_OF.items())}
    for d in result.suppressed:
        rule = SARIF_RULES[RULE_OF[kinds[d["policy"]]]]
        message = f"{d['name']} ({d['arn']}): {d['message']}"
        found = sarif.result(rule.id, rule.level, message, [sarif.location(logical_name=d["arn"])])
        found["suppressions"] = [sarif.suppression(d["suppressed"])]
        results.append(found)
    return sarif.document("rdsca-audit/", list(SARIF_RULES.values()), results)


def table_rows(result: Audit) -> list[list[Any]]:
    rows = []
    for row in result.rows:
        db = row.db
        engine = " ".join(x for x in (db.engine, db.engine_version) if x) or "-"
        valid = row.ca_valid_until.date().isoformat() if row.ca_valid_until else "-"
        pending = f"{db.pending_ca} ({row.scheduled})" if db.pending_ca and row.scheduled else db.pending_ca or "-"
        rows.append(
            [
                db.account or "-", db.region, db.identifier, db.kind.value, engine, db.ca or "-", row.status.value,
                row.serving.value, valid, pending, maintenance_text(db) or "-", row.restart,
                "yes" if row.findings else "",
                *([row.clients.state if row.clients else "-"] if joined(result) else []),
            ]
        )
    return rows


def joined(result: Audit) -> bool:
    """Whether probe results were joined (``audit --probe``): then the table has a CLIENTS column."""
    return any(row.clients is not None for row in result.rows)


def headers(result: Audit) -> list[Column]:
    return TABLE_COLUMNS + ([CLIENTS_COLUMN] if joined(result) else [])


#: The table's columns. Account, region and database name a database: always whole. On a narrow terminal the
#: maintenance actions go first, then kind, validity, engine, restart, pending change and serving; the CA, its status
#: and the finding flag stay.
TABLE_COLUMNS = [
    ident("ACCOUNT"),
    ident("REGION"),
    ident("DATABASE"),
    Column("KIND", elide=8),
    Column("ENGINE", elide=6),
    Column("CA"),
    Column("STATUS", tone=ca_status_tone),
    Column("SERVING", elide=2, tone=tones({Serving.OK.value: "good", Serving.RETIRED_CA.value: "bad",
                                           Serving.REFUSED_CA.value: "bad", Serving.RESTART_PENDING.value: "warn"})),
    Column("CA VALID UNTIL", elide=7),
    # A CA change already scheduled: yellow (it is not done yet).
    Column("PENDING", elide=4, tone=lambda text: None if text == "-" else "warn"),
    Column("MAINTENANCE", elide=9, wrap=True),
    Column("RESTART", elide=5),
    # STATUS says it in red already, and a line per finding follows the table.
    Column("FINDING", elide=1, tone=tones({"yes": "bad"})),
]
CLIENTS_COLUMN = Column("CLIENTS", elide=3, tone=tones({"ready": "good", "will-break": "bad", "not-probed": "warn"}))
