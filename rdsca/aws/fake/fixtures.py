"""The response fixtures the fake account answers from: certificate listings and engine versions, in the API's shape.

Recorded public responses where they exist (the aws-cli example of ``describe-certificates`` in us-west-2, engine
versions quoted in AWS's documentation), synthetic ones elsewhere, each labelled with its provenance in the data
files (``data/``). Nothing here reads ``rdsca.catalog``: the fake can disagree with it, which is how the tests catch a
wrong catalog entry.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdsca import clock

DATA = Path(__file__).resolve().parent / "data"
#: Regions with a recorded DescribeCertificates response (``describe-certificates.<region>.json``).
RECORDED_CERTIFICATES = ("us-west-2",)
PROVENANCE = "x-rdsca-provenance"


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Certificate:
    identifier: str
    valid_from: dt.datetime
    valid_till: dt.datetime
    thumbprint: str
    #: "recorded" or "synthetic".
    provenance: str

    def member(self, region: str, override: bool) -> dict[str, Any]:
        """The ``Certificate`` member of a DescribeCertificates response for this account."""
        data: dict[str, Any] = {
            "CertificateIdentifier": self.identifier,
            "CertificateType": "CA",
            "Thumbprint": self.thumbprint,
            "ValidFrom": clock.utc_iso(self.valid_from),
            "ValidTill": clock.utc_iso(self.valid_till),
            "CertificateArn": f"arn:aws:rds:{region}::cert:{self.identifier}",
            "CustomerOverride": override,
        }
        if override:
            data["CustomerOverrideValidTill"] = data["ValidTill"]
        return data


def _certificate(raw: dict[str, Any], provenance: str) -> Certificate:
    return Certificate(
        raw["CertificateIdentifier"], _time(raw["ValidFrom"]), _time(raw["ValidTill"]), raw["Thumbprint"], provenance
    )


@functools.lru_cache(maxsize=1)
def _synthetic() -> dict[str, Any]:
    return json.loads((DATA / "describe-certificates.synthetic.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=64)
def certificates(region: str) -> tuple[Certificate, ...]:
    """Every CA the region lists, recorded where a recorded response exists (account-level override fields are the
    fake's own state, not the fixture's)."""
    if region in RECORDED_CERTIFICATES:
        raw = json.loads((DATA / f"describe-certificates.{region}.json").read_text(encoding="utf-8"))
        return tuple(_certificate(c, "recorded") for c in raw["Certificates"])
    listed = _synthetic()["regions"].get(region, {}).get("Certificates", [])
    return tuple(_certificate(c, "synthetic") for c in listed)


def default_certificate() -> str:
    """The default CA for new launches, as the fixtures say (AWS's documented default)."""
    return str(_synthetic()["DefaultCertificateForNewLaunches"])


@dataclass(frozen=True)
class EngineVersion:
    engine: str
    version: str
    #: ``SupportedCACertificateIdentifiers``.
    supported: tuple[str, ...]
    #: ``SupportsCertificateRotationWithoutRestart`` (None: the fixture leaves it out).
    without_restart: bool | None
    #: The member as the API returns it (provenance removed).
    raw: dict[str, Any]
    provenance: str


@functools.lru_cache(maxsize=1)
def engine_versions() -> dict[tuple[str, str], EngineVersion]:
    raw = json.loads((DATA / "describe-db-engine-versions.json").read_text(encoding="utf-8"))
    versions = {}
    for entry in raw["DBEngineVersions"]:
        member = {k: v for k, v in entry.items() if k != PROVENANCE}
        versions[(entry["Engine"], entry["EngineVersion"])] = EngineVersion(
            entry["Engine"],
            entry["EngineVersion"],
            tuple(entry.get("SupportedCACertificateIdentifiers", ())),
            entry.get("SupportsCertificateRotationWithoutRestart"),
            member,
            entry[PROVENANCE],
        )
    return versions
