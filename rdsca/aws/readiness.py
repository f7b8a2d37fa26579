"""Clients first: what ``rdsca probe --format json`` found, joined to the databases ``audit`` and ``rotate`` see.

AWS's rotation guide says three times to update clients before the database ("Before you update your DB instances
... make sure that you update your clients or applications"). A probe result says, per trust store, whether clients
with that store will still connect once the database serves the target CA (``ready``) or not (``will-break``).
Results are matched to databases by endpoint address and port, as ``probe --from-audit`` writes them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdsca.errors import RdscaError
from rdsca.files import read_text


class ProbeFileError(RdscaError):
    """A --ready-from/--probe file that is not ``rdsca probe --format json`` output (exit 2, naming it)."""


@dataclass(frozen=True)
class Readiness:
    """One database's clients: ``ready``, ``will-break`` (naming the stores) or ``not-probed`` (and why)."""

    state: str
    detail: str

    @property
    def ready(self) -> bool:
        return self.state == "ready"


NOT_PROBED = Readiness("not-probed", "not probed: run rdsca probe --from-audit AUDIT.json --store ... first")


def load(path: Path) -> dict[tuple[str, int], Readiness]:
    """``(address lower-cased, port)`` -> readiness, from a probe JSON file."""
    text = read_text(path, ProbeFileError, "probe results")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise ProbeFileError(f"{path}: not rdsca probe --format json output (not JSON)") from None
    endpoints = doc.get("endpoints") if isinstance(doc, dict) else None
    if not isinstance(endpoints, list):
        raise ProbeFileError(f"{path}: not rdsca probe --format json output (no endpoints list)")
    found: dict[tuple[str, int], Readiness] = {}
    for index, entry in enumerate(endpoints):
        if not isinstance(entry, dict) or not isinstance(entry.get("host"), str) or not isinstance(
            entry.get("port"), int
        ):
            raise ProbeFileError(f"{path}: endpoint #{index} has no host and port")
        found[(entry["host"].lower().rstrip("."), entry["port"])] = _judge(entry)
    return found


def _judge(entry: dict[str, Any]) -> Readiness:
    if not entry.get("probed"):
        return Readiness("not-probed", f"not probed: {entry.get('error') or 'no result'}")
    stores = entry.get("stores") if isinstance(entry.get("stores"), list) else []
    if not stores:
        return Readiness("not-probed", "probed with no trust store (give --store): no client readiness known")
    breaking = [s for s in stores if isinstance(s, dict) and s.get("rotation") == "will-break"]
    if breaking:
        names = ", ".join(str(s.get("store")) for s in breaking)
        return Readiness("will-break", f"clients with {names} will break once it serves {entry.get('target_ca')}")
    unknown = [s for s in stores if isinstance(s, dict) and s.get("rotation") not in ("ready", "not-applicable")]
    if unknown:
        names = ", ".join(str(s.get("store")) for s in unknown)
        return Readiness("not-probed", f"no rotation answer for {names}")
    return Readiness("ready", f"every store ready for {entry.get('target_ca')}")


def of(results: Mapping[tuple[str, int], Readiness], address: str | None, port: int | None) -> Readiness:
    if not address or port is None:
        return Readiness("not-probed", "AWS lists no endpoint for it (yet)")
    return results.get((address.lower().rstrip("."), port), NOT_PROBED)
