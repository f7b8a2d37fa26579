"""What the fake keeps beside moto: CAs, served certificates, pending changes, faults, per account and region."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

#: moto's account for credentials it does not know (its ``DEFAULT_ACCOUNT_ID``): the account tests start in.
DEFAULT_ACCOUNT = "123456789012"


@dataclass
class Fault:
    """An injected failure: calls matching it are answered with ``code`` instead of being served."""

    region: str | None
    action: str
    code: str
    #: How many calls fail (None: all of them).
    times: int | None = None
    account: str | None = None
    service: str | None = None
    message: str | None = None

    def matches(self, account: str, region: str, service: str, action: str) -> bool:
        return (
            self.action in (action, "*")
            and self.region in (None, region)
            and self.account in (None, account)
            and self.service in (None, service)
        )


@dataclass
class DocDbInstance:
    """A DocumentDB instance, which moto does not model: listed by the fake in DescribeDBInstances."""

    identifier: str
    ca: str
    cluster: str = "docdb-cluster"
    engine_version: str = "5.0.0"


@dataclass
class Database:
    """The CA state of one DB instance or Multi-AZ DB cluster (moto keeps everything else)."""

    arn: str
    identifier: str
    engine: str | None
    engine_version: str | None
    #: ``CACertificateIdentifier`` (for a cluster: ``CertificateDetails.CAIdentifier``).
    ca: str | None
    #: The CA of the server certificate the database presents now; differs from ``ca`` until a restart takes a
    #: no-restart change (ModifyDBInstance: "The certificate is not updated until the DB instance is restarted").
    served: str | None
    cluster: bool = False
    #: A CA change waiting for the maintenance window, and whether it was asked without a restart.
    pending: str | None = None
    pending_no_restart: bool = False
    #: Other modifications waiting for the maintenance window (member name -> value), as tests set them.
    pending_other: dict[str, str] = field(default_factory=dict)
    #: The server certificate's expiry when a test sets it (else worked out from the CA and the engine).
    valid_till: dt.datetime | None = None
    #: When the server certificate was last issued (creation, restart, rotation).
    issued: dt.date | None = None
    reboots: int = 0


@dataclass
class RegionState:
    default_ca: str
    override: str | None = None
    docdb: list[DocDbInstance] = field(default_factory=list)
    #: CA ids DescribeCertificates does not list here (AWS answers CertificateNotFound for them).
    withdrawn: set[str] = field(default_factory=set)


@dataclass
class Call:
    account: str
    region: str
    service: str
    action: str

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "region": self.region, "service": self.service, "action": self.action}
