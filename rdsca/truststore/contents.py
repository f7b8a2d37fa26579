"""What a store holds against what its clients need: the roots of each region and CA family, by date."""


import datetime as dt
from collections.abc import Sequence
from typing import Any

from rdsca.text import quoted
from rdsca.truststore.entries import OTHER, Entry


def unmet(entries: Sequence[Entry], today: dt.date, regions: Sequence[str], families: Sequence[str]) -> list[str]:
    """What the store lacks: a current (unexpired, non-pre-release) root for each required region and family.

    With both lists, every (region, family) pair needs a root; with one, any root of the other dimension counts.
    """
    # A root counts by its key, not its name (``Entry.impostor``: a self-made root named like AWS's).
    roots = [
        e for e in entries
        if e.root and not e.expired(today) and e.stage is None and e.family != OTHER and not e.impostor
    ]
    missing: list[str] = []
    fakes = [e for e in entries if e.impostor and not e.expired(today)]

    def lacking(text: str, region: str | None, family: str | None) -> None:
        named = [e.cn for e in fakes if region in (None, e.region) and family in (None, e.family)]
        missing.append(f"{text} (its {quoted(named[0])} is not AWS's key)" if named else text)

    pairs = [(r, f) for r in regions for f in families] if regions and families else None
    if pairs is not None:
        for region, family in pairs:
            if not any(e.region == region and e.family == family for e in roots):
                lacking(f"no current {family} root for {region}", region, family)
        return missing
    for region in regions:
        if not any(e.region == region for e in roots):
            lacking(f"no current root for {region}", region, None)
    for family in families:
        if not any(e.family == family for e in roots):
            lacking(f"no current {family} root", None, family)
    return missing


def summary(entries: Sequence[Entry], today: dt.date) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for e in entries:
        region = e.region if e.stage is None else f"{e.region or 'global'} ({e.stage})"
        if e.impostor:  # named like an RDS root, but not AWS's key: counted with the others
            region = None
        key = (OTHER if e.impostor else e.family, region or "-")
        group = groups.setdefault(
            key, {"family": key[0], "region": region, "roots": 0, "intermediates": 0, "expired": 0}
        )
        group["roots" if e.root else "intermediates"] += 1
        group["expired"] += int(e.expired(today))
    return [groups[k] for k in sorted(groups)]
