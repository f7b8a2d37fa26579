"""``rdsca default-ca``: the account's default CA for new launches, per region (ModifyCertificates).

An override that an engine in use cannot take breaks CreateDBInstance for that engine (rds-ca-facts: the SQL
Server / ECC384 trap), so setting one is refused in a region where a database's engine refuses it.
"""

from __future__ import annotations

import datetime as dt

from rdsca.aws.audit import accepts
from rdsca.aws.scan import RegionScan


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
