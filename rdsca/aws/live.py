"""What the live-account commands share: the demo account, the scope (accounts, regions), locks, scanning, journals.

The command line stays a thin shell over this module: it turns options into a ``Scope`` and calls ``scan_scope``,
which makes every AWS call through ``rdsca.aws.session.Aws``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdsca.aws import accounts, audit, journal, locks, scan
from rdsca.aws.session import Aws, Demo, Limits


@contextlib.contextmanager
def demo_account(today: Any, org: bool = False) -> Iterator[tuple[Demo, list[str]]]:
    """A fake account on loopback, seeded with a small fleet (and, with ``org``, an organization of two more
    accounts); yields its endpoint and regions. Its clients are made the way ``--demo`` makes them (``Demo``):
    explicit endpoint and static fake credentials, nothing configured on this machine read."""
    from rdsca.aws.fake import DEMO_REGIONS, FakeAccount, seed_demo
    from rdsca.aws.fake.demo import seed_demo_org

    account = FakeAccount(today).start()
    try:
        # One attempt, a long wait: a create retried after a slow answer (a loaded machine) found its own database
        # and failed with DBInstanceAlreadyExists; the fake account is on loopback, nothing to retry for.
        seeder = Aws(limits=Limits(read_timeout=120.0, max_attempts=1), demo=Demo(account.endpoint))
        seed_demo(account, seeder.client)
        if org:
            def member(account_id: str, service: str, region: str) -> Any:
                return seeder.assume(account_id, accounts.DEFAULT_ROLE, "rdsca-demo").client(service, region)

            seed_demo_org(account, seeder.client, member)
        yield Demo(account.endpoint), list(DEMO_REGIONS)
    finally:
        account.stop()


@dataclass(frozen=True)
class Scope:
    """Where a command works: whose credentials, which accounts and regions, how fast."""

    profile: str | None = None
    regions: tuple[str, ...] | None = None
    workers: int = 8
    demo: Demo | None = None
    selection: accounts.Selection = field(default_factory=accounts.Selection)
    limits: Limits = field(default_factory=Limits)

    def aws(self) -> Aws:
        return Aws(self.profile, self.limits, self.demo)


@dataclass
class Scanned:
    aws: Aws
    targets: dict[str, scan.Target]
    result: audit.Audit

    def client(self) -> Callable[[str, str], Any]:
        """``client(account, region)``: an RDS client with that account's credentials (cached)."""
        made: dict[tuple[str, str], Any] = {}

        def make(account: str, region: str) -> Any:
            if (account, region) not in made:
                made[(account, region)] = self.targets[account].aws.client("rds", region)
            return made[(account, region)]

        return make

    @property
    def calls(self) -> dict[str, int]:
        total: dict[str, int] = dict(self.aws.calls)
        for target in self.targets.values():
            if target.aws is not self.aws:
                for name, count in target.aws.calls.items():
                    total[name] = total.get(name, 0) + count
        return total


def progress_printer(
    echo: Callable[[str], None], options: audit.Options, every: float = 1.0,
    update: Callable[[str, int, int], None] | None = None,
) -> Callable[..., None]:
    """Prints a progress line at most every ``every`` seconds, and the last one; ``update(line, regions done,
    regions)`` at every step (a terminal's progress line, redrawn in place)."""
    findings = [0]
    last = [0.0]

    def show(state: scan.Progress, scanned: scan.RegionScan | None) -> None:
        if scanned is not None:
            findings[0] += sum(1 for row in audit.judge_region(scanned, options) if row.findings)
        if update is not None:
            update(state.line(findings[0]), state.regions_done, state.regions)
        finished = state.accounts_done == state.accounts and state.regions_done == state.regions
        now = time.monotonic()
        if finished or (scanned is not None and now - last[0] >= every):
            last[0] = now
            echo(state.line(findings[0]))

    return show


def lock_regions(held: locks.Locks) -> scan.BeforeRegions:
    def before(account: str, regions: list[str]) -> None:
        for region in regions:
            held.acquire(locks.account_key(account, region), f"account {account} region {region}")

    return before


def scan_scope(
    scope: Scope,
    options: audit.Options,
    progress: Callable[..., None] | None = None,
    held: locks.Locks | None = None,
    region_scan: scan.RegionScanner = scan.scan_region,
) -> Scanned:
    """Select the accounts, lock their regions when ``held`` is given (before reading them, so that the plan is made
    from what no other run is changing), scan and judge."""
    aws = scope.aws()
    targets = accounts.targets(aws, scope.selection)
    before = lock_regions(held) if held is not None else None
    regions = list(scope.regions) if scope.regions else None
    scanned = scan.scan(targets, regions, scope.workers, progress, before, region_scan)
    return Scanned(aws, {t.account: t for t in targets}, audit.audit(scanned, options))


def read_journals(explicit: list[Path]) -> tuple[list[journal.Contents], list[str]]:
    """The journals ``explicit``ly named (a bad one stops the command) and those in the state directory (a bad one
    is a warning): where the audit learns of changes that wait for a restart."""
    found, warnings = [journal.read(path) for path in explicit], []
    named = {p.resolve() for p in explicit}
    for path in sorted(journal.journals_dir().glob("*.jsonl")):
        if path.resolve() in named:
            continue
        try:
            found.append(journal.read(path))
        except journal.JournalError as exc:
            warnings.append(f"{exc}; skipped")
    for contents in found:
        warnings += contents.warnings
    return found, warnings
