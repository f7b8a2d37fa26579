"""``rdsca default-ca``: the account's default CA for new launches, per region (ModifyCertificates).

An override that an engine in use cannot take breaks CreateDBInstance for that engine (rds-ca-facts: the SQL
Server / ECC384 trap), so setting one is refused in a region where a database's engine refuses it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rdsca.aws.audit import Audit, accepts
from rdsca.aws.scan import RegionScan
from rdsca.aws.session import Aws, error_message


def refusals(scan: RegionScan, ca_id: str, today: dt.date) -> list[str]:
    """The databases in the region whose engine version does not take ``ca_id`` (``identifier (engine version)``)."""
    refused = []
    for db in scan.databases:
        if db.not_applicable or not db.engine:
            continue
        if not accepts(db, scan, ca_id, today):
            version = f" {db.engine_version}" if db.engine_version else ""
            refused.append(f"{db.identifier} ({db.engine}{version})")
    return refused


def change(aws: Aws, result: Audit, ca_id: str | None, do_apply: bool) -> list[dict[str, Any]]:
    """Set (``ca_id``) or remove (None) the override in every scanned region; a dry run unless ``do_apply``.
    One outcome per region: ``error`` (not scanned), ``refused``, ``dry-run`` or ``done``."""
    outcomes = []
    for scan in result.scans:
        outcome = {"region": scan.region, **_change_region(aws, scan, ca_id, do_apply, result.today)}
        outcomes.append(outcome)
    return outcomes


def _change_region(aws: Aws, scan: RegionScan, ca_id: str | None, do_apply: bool, today: dt.date) -> dict[str, str]:
    if scan.error:
        return {"result": "error", "message": scan.error}
    refused = refusals(scan, ca_id, today) if ca_id else []
    if refused:
        return {"result": "refused", "message": f"engines in use refuse {ca_id}: {', '.join(refused)}"}
    what = f"set the default to {ca_id}" if ca_id else "remove the override"
    if not do_apply:
        return {"result": "dry-run", "message": f"would {what}"}
    client = aws.client("rds", scan.region)
    try:
        if ca_id:
            client.modify_certificates(CertificateIdentifier=ca_id)
        else:
            client.modify_certificates(RemoveCustomerOverride=True)
    except Exception as exc:  # reported per region
        return {"result": "refused", "message": error_message(exc)}
    return {"result": "done", "message": what}
