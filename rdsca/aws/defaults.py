"""``rdsca default-ca``: the account's default CA for new launches, per account and region (ModifyCertificates).

An override that an engine in use cannot take breaks CreateDBInstance for that engine (rds-ca-facts: the SQL
Server / ECC384 trap), so setting one is refused in a region where a database's engine refuses it. Changes are
journaled like rotations (an intent before each ModifyCertificates, an outcome after).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from rdsca.aws.audit import Audit, accepts
from rdsca.aws.journal import Journal
from rdsca.aws.scan import RegionScan
from rdsca.aws.session import error_message


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


def plan(result: Audit, ca_id: str | None) -> list[dict[str, Any]]:
    """One outcome per account and region: ``error`` (not scanned), ``refused``, ``unchanged`` or ``planned``."""
    outcomes = []
    for account in result.accounts:
        if account.error:
            outcomes.append({"account": account.account, "region": "-", "result": "error", "message": account.error})
    for scan in result.scans:
        outcomes.append({"account": scan.account, "region": scan.region, **_plan_region(scan, ca_id, result.today)})
    return outcomes


def _plan_region(scan: RegionScan, ca_id: str | None, today: dt.date) -> dict[str, str]:
    if scan.error:
        return {"result": "error", "message": scan.error}
    refused = refusals(scan, ca_id, today) if ca_id else []
    if refused:
        return {"result": "refused", "message": f"engines in use refuse {ca_id}: {', '.join(refused)}"}
    if scan.certificates is not None and scan.override == ca_id:
        return {"result": "unchanged", "message": f"the override is already {ca_id}" if ca_id else "no override"}
    return {"result": "planned", "message": f"set the default to {ca_id}" if ca_id else "remove the override"}


def apply(
    outcomes: list[dict[str, Any]], ca_id: str | None, client: Callable[[str, str], Any], journal: Journal
) -> list[dict[str, Any]]:
    """Make the planned changes; each becomes ``done`` or ``refused``."""
    for outcome in outcomes:
        if outcome["result"] != "planned":
            continue
        request = {"CertificateIdentifier": ca_id} if ca_id else {"RemoveCustomerOverride": True}
        seq = journal.intent({
            "account": outcome["account"], "region": outcome["region"], "resource": None, "arn": None,
            "action": "modify-certificates", "previous_ca": None, "new_ca": ca_id, "request": request,
        })
        try:
            client(outcome["account"], outcome["region"]).modify_certificates(**request)
            outcome["result"] = "done"
        except Exception as exc:  # reported per region
            outcome.update(result="refused", message=error_message(exc))
        journal.outcome(seq, "accepted" if outcome["result"] == "done" else "refused", outcome["message"])
    return outcomes
