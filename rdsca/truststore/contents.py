"""What a store holds against what its clients need: the roots of each region and CA family, by date."""


import datetime as dt
from collections.abc import Sequence
from typing import Any

from rdsca.truststore.entries import OTHER, Entry


def unmet(entries: Sequence[Entry], today: dt.date, regions: Sequence[str], families: Sequence[str]) -> list[str]:
    """What the store lacks: a current (unexpired, non-pre-release) root for each required region and family.

    With both lists, every (region, family) pair needs a root; with one, any root of the other dimension counts.
    """
    roots = [e for e in entries if e.root and not e.expired(today) and e.stage is None and e.family != OTHER]
    missing = []
    pairs = [(r, f) for r in regions for f in families] if regions and families else None
    if pairs is not None:
        for region, family in pairs:
            if not any(e.region == region and e.family == family for e in roots):
                missing.append(f"no current {family} root for {region}")
        return missing
    for region in regions:
        if not any(e.region == region for e in roots):
            missing.append(f"no current root for {region}")
    for family in families:
        if not any(e.family == family for e in roots):
            missing.append(f"no current {family} root")
    return missing


def summary(entries: Sequence[Entry], today: dt.date) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for e in entries:
        region = e.region if e.stage is None else f"{e.region or 'global'} ({e.stage})"
        key = (e.family, region or "-")
        group = groups.setdefault(
            key, {"family": e.family, "region": region, "roots": 0, "intermediates": 0, "expired": 0}
        )
        group["roots" if e.root else "intermediates"] += 1
        group["expired"] += int(e.expired(today))
    return [groups[k] for k in sorted(groups)]
