"""``rdsca probe``'s output: a table for people, JSON, CSV and SARIF for machines, and its findings."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from rdsca import catalog, clock, findings, sarif
from rdsca.output import Column, csv_row, ident, tones
from rdsca.probe import judge
from rdsca.probe.run import Result, Store


def _iso(moment: dt.datetime) -> str:
    return clock.utc_iso(moment)


def _cert_json(cert: judge.CertInfo, today: dt.date) -> dict[str, Any]:
    return {
        "subject": cert.subject,
        "subject_cn": cert.cn,
        "issuer_cn": cert.issuer_cn,
        "sans": list(cert.sans),
        "valid_from": _iso(cert.not_before),
        "valid_until": _iso(cert.not_after),
        "days_left": cert.days_left(today),
        "key_type": cert.key_type,
        "sha256": cert.sha256,
    }


def result_json(result: Result, today: dt.date) -> dict[str, Any]:
    e = result.endpoint
    doc: dict[str, Any] = {
        "endpoint": e.address,
        "host": e.host,
        "port": e.port,
        "engine": e.engine,
        "database": e.database,
        "kind": e.kind,
        "server_name": result.server_name,
        "checked_name": result.checked_name,
        "probed": result.error is None,
        "error": result.error,
        "note": e.note,
    }
    if result.handshake is None or result.ca is None or result.target is None:
        return doc
    doc.update(
        {
            "server": result.handshake.server,
            "tls_version": result.handshake.tls_version,
            "cipher": result.handshake.cipher,
            "server_certificate": _cert_json(result.chain[0], today),
            "chain": [_cert_json(c, today) for c in result.chain],
            "issuing_ca": {
                "family": result.ca.family if result.ca.is_rds else None,
                "region": result.ca.region,
                "stage": result.ca.stage.lower() if result.ca.stage else None,
                "issuer": None if result.ca.is_rds else result.ca.issuer,
            },
            "region": result.region,
            "region_source": result.region_source,
            "target_ca": result.target.ca,
            "target_source": result.target.source or None,
            "rotation_not_applicable": result.target.not_applicable,
            "stores": [
                {
                    "store": s.store.name,
                    "trusted": s.trust.trusted,
                    "anchor": s.trust.anchor.cn if s.trust.anchor else None,
                    "problems": [{"code": code, "text": text} for code, text in s.trust.problems],
                    "rotation": s.rotation,
                    "rotation_reason": s.rotation_reason,
                }
                for s in result.stores
            ],
        }
    )
    return doc


def to_json(
    results: Sequence[Result], stores: Sequence[Store], today: dt.date, suppressed: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """``suppressed``: findings the configuration file or a baseline set aside (``rdsca.findings``)."""
    return {
        "as_of": today.isoformat(),
        "stores": [{"name": s.name, "certificates": len(s.entries)} for s in stores],
        "endpoints": [result_json(r, today) for r in results],
        "results": findings.results(remaining(results, suppressed), suppressed),
        "summary": {
            "endpoints": len(results),
            "not_probed": sum(1 for r in results if r.error),
            "not_trusted": sum(1 for r in results for s in r.stores if not s.trust.trusted),
            "will_break": sum(1 for r in results for s in r.stores if s.rotation == judge.WILL_BREAK),
        },
    }


def finding_dicts(results: Sequence[Result]) -> list[dict[str, Any]]:
    """The probe's findings in the one finding shape (``rdsca.findings``): the SARIF rule is the policy, the
    endpoint the resource; a store that does not trust an endpoint, one that will break, an endpoint not probed."""
    found = []
    for r in results:
        if r.error:
            found.append(_finding("not-probed", r, r.error))
        for s in r.stores:
            if not s.trust.trusted:
                why = "; ".join(text for _, text in s.trust.problems)
                found.append(_finding("not-trusted", r, f"not trusted with {s.store.name}: {why}"))
            if s.rotation == judge.WILL_BREAK:
                found.append(_finding("will-break", r, f"{s.store.name}: {s.rotation_reason}"))
    return found


def remaining(results: Sequence[Result], suppressed: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The findings not set aside."""
    aside = {(f["policy"], f["resource"], f["message"]) for f in suppressed}
    return [f for f in finding_dicts(results) if (f["policy"], f["resource"], f["message"]) not in aside]


def _finding(kind: str, result: Result, text: str) -> dict[str, Any]:
    rule = RULES[kind]
    return {"policy": rule.id, "level": "mandatory" if rule.level == "error" else "advisory",
            "severity": rule.severity, "resource": result.endpoint.database or result.endpoint.address,
            "name": result.label, "message": f"{result.label}: {text}"}


#: The table's columns. The endpoint and the store (a path) name a row: always whole, as is the certificate's name
#: (elided before it would be cut). On a narrow terminal the key type goes first, then TLS, engine, days left,
#: certificate, issuing CA and target; the verdicts (trust now, after rotation) stay.
TABLE_COLUMNS = [
    ident("ENDPOINT"),
    Column("ENGINE", elide=6),
    Column("TLS", elide=7),
    Column("CERTIFICATE", elide=4, whole=True),
    Column("KEY", elide=8),
    Column("DAYS LEFT", elide=5),
    Column("ISSUING CA", elide=3, wrap=True),
    ident("STORE"),
    Column("TRUST", tone=tones({"trusted": "good", "NOT TRUSTED": "bad", "not probed": "bad"})),
    Column("TARGET", elide=2),
    Column("AFTER ROTATION", tone=tones({judge.READY: "good", "WILL BREAK": "bad", judge.UNKNOWN: "warn"})),
]


def table_rows(results: Sequence[Result], today: dt.date) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for r in results:
        if r.error or r.handshake is None:
            rows.append([r.label, r.endpoint.engine, "-", "-", "-", "-", "-", "-", "not probed", "-", "-"])
            continue
        leaf = r.chain[0]
        head = [
            r.label,
            r.endpoint.engine,
            r.handshake.tls_version,
            leaf.cn,
            leaf.key_type,
            leaf.days_left(today),
            str(r.ca),
        ]
        target = (r.target.ca if r.target else None) or "-"
        if not r.stores:
            rows.append([*head, "-", "not judged", target, "-"])
        for s in r.stores:
            trust = "trusted" if s.trust.trusted else "NOT TRUSTED"
            rotation = "WILL BREAK" if s.rotation == judge.WILL_BREAK else s.rotation
            rows.append([*head, s.store.name, trust, target, rotation])
    return rows


def detail_lines(results: Sequence[Result]) -> list[str]:
    """Why: one line per problem, below the table."""
    lines = []
    for r in results:
        if r.error:
            lines.append(f"not probed: {r.label}: {r.error}")
            continue
        if r.endpoint.note:
            lines.append(f"note: {r.label}: {r.endpoint.note}")
        for s in r.stores:
            for _, text in s.trust.problems:
                lines.append(f"not trusted: {r.label} with {s.store.name}: {text}")
            if s.rotation == judge.WILL_BREAK:
                lines.append(f"will break: {r.label} with {s.store.name}: {s.rotation_reason}")
        if r.stores and r.target is not None and r.target.not_applicable:
            lines.append(f"rotation not applicable: {r.label}: {r.target.not_applicable}")
        elif r.stores and r.stores[0].rotation == judge.UNKNOWN:
            lines.append(f"rotation unknown: {r.label}: {r.stores[0].rotation_reason}")
    return lines


CSV_COLUMNS = [
    "endpoint",
    "database",
    "engine",
    "error",
    "tls_version",
    "cipher",
    "subject",
    "sans",
    "valid_until",
    "days_left",
    "key_type",
    "issuing_ca",
    "region",
    "store",
    "trusted",
    "problems",
    "target_ca",
    "rotation",
    "rotation_reason",
]


def to_csv(results: Sequence[Result], today: dt.date) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        base: dict[str, Any] = {
            "endpoint": r.endpoint.address,
            "database": r.endpoint.database,
            "engine": r.endpoint.engine,
            "error": r.error,
        }
        if r.handshake is not None and r.chain:
            leaf = r.chain[0]
            base.update(
                tls_version=r.handshake.tls_version,
                cipher=r.handshake.cipher,
                subject=leaf.subject,
                sans=" ".join(leaf.sans),
                valid_until=_iso(leaf.not_after),
                days_left=leaf.days_left(today),
                key_type=leaf.key_type,
                issuing_ca=str(r.ca),
                region=r.region,
                target_ca=r.target.ca if r.target else None,
            )
        rows = [
            {
                **base,
                "store": s.store.name,
                "trusted": "yes" if s.trust.trusted else "no",
                "problems": "; ".join(text for _, text in s.trust.problems),
                "rotation": s.rotation,
                "rotation_reason": s.rotation_reason,
            }
            for s in r.stores
        ] or [base]
        for row in rows:
            writer.writerow(csv_row(row, CSV_COLUMNS))
    return out.getvalue()


# -- SARIF ---------------------------------------------------------------------------------------------------------

RULES = {
    "not-trusted": sarif.Rule(
        "rdsca-probe-not-trusted",
        "A client with this trust store refuses the certificate the database serves",
        "error",
        "high",
        help_uri=catalog.ROTATION_GUIDE,
    ),
    "will-break": sarif.Rule(
        "rdsca-probe-will-break",
        "This trust store lacks the root of the CA the database is moving to",
        "error",
        "high",
        help_uri=catalog.ROTATION_GUIDE,
    ),
    "not-probed": sarif.Rule(
        "rdsca-probe-not-probed",
        "The endpoint could not be probed",
        "warning",
        "medium",
        help_uri=catalog.ROTATION_GUIDE,
    ),
}


def to_sarif(results: Sequence[Result], suppressed: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """SARIF 2.1.0 (``rdsca.sarif``), one result per endpoint that could not be probed, per store that does not
    trust a chain, and per store that will break: the findings of ``finding_dicts``; those set aside carry their
    suppression."""
    levels = {rule.id: rule.level for rule in RULES.values()}

    def result(f: dict[str, Any]) -> dict[str, Any]:
        # An endpoint has no source file: each result is located by the database or its address.
        found = sarif.result(f["policy"], levels[f["policy"]], f["message"],
                             [sarif.location(logical_name=f["resource"])])
        if f.get("suppressed"):
            found["suppressions"] = [sarif.suppression(f["suppressed"])]
        return found

    found = [result(f) for f in [*remaining(results, suppressed), *suppressed]]
    return sarif.document("rdsca-probe/", list(RULES.values()), found)
