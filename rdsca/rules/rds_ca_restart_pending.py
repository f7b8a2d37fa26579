"""rds-ca-restart-pending: a CA change made without a restart leaves the old server certificate served.

ModifyDBInstance's ``CertificateRotationRestart``: "The certificate is not updated until the DB instance is
restarted" when it is false (RDS API Reference, ModifyDBInstance). Terraform's ``certificate_rotation_restart =
false`` on ``aws_docdb_cluster_instance``, pulumi-aws's ``docdb.ClusterInstance`` and the aws-native/awscc RDS
instance's ``certificateRotationRestart`` send it. ``rdsca audit`` reports such a database live as
``restart-pending``; this rule says it where the code asks for it, with the command that completes the change.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from rdsca.output import printable
from rdsca.resources import MISSING, DatabaseView, Unknown
from rdsca.rules._common import Rule, label, setting

#: The AWS CLI reboot that makes a database serve a certificate from its new CA, per service.
_REBOOT = {
    "docdb": "aws docdb reboot-db-instance --db-instance-identifier {id}",
    "rds": "aws rds reboot-db-instance --db-instance-identifier {id}",
}


def no_restart(view: DatabaseView) -> bool:
    """Whether the resource asks for its CA to change without a restart (false, or "false" where typed a string)."""
    value = view.rotation_restart
    if value is MISSING or isinstance(value, Unknown):
        return False
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def judge(view: DatabaseView, config: Mapping[str, Any]) -> str | None:
    if not view.type.database or not view.ca_is_set or not no_restart(view):
        return None
    service = "docdb" if "docdb" in view.type.cli_modify else "rds"
    reboot = _REBOOT[service].format(id=shlex.quote(printable(view.identifier)) if view.identifier else "NAME")
    # Terraform and a Pulumi Python program both spell it so.
    value = setting(view, "certificate_rotation_restart", view.rotation_restart)
    return (
        f"{label(view)}: restart-pending: with {value} its CA changes to "
        f"{view.ca} but it keeps serving its old server certificate until it restarts, and clients that verify TLS "
        f"against the new CA fail. Once the change is applied, reboot it: {reboot}."
    )


RULE = Rule(
    name="rds-ca-restart-pending",
    description="A CA change made without a restart leaves the database serving its old certificate.",
    level="advisory",
    severity="medium",
    config={},
    steps="Reboot the database once its CA change is applied (or let the change restart it).",
    judge=judge,
    databases_only=True,
)
