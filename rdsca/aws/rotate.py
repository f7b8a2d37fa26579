"""``rdsca rotate``: a plan from the audit (pure), and its application with a journal that ``--resume`` reads.

Only what the plan lists is changed. Every request is journaled as one JSON line (resource, previous and new CA,
the request's parameters, the result, the time) before the next one is made, so an interrupted run can be resumed
without repeating accepted changes. Requests never carry secrets, so the journal holds none.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rdsca.aws.audit import Audit, FindingKind, Row, accepts
from rdsca.aws.scan import CA_ACTIONS, RegionScan
from rdsca.aws.session import Aws, error_code, error_message
from rdsca.paths import state_dir
from rdsca.resources import Kind


@dataclass(frozen=True)
class Filters:
    engines: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    #: ``KEY=VALUE`` pairs, all of which must match.
    tags: tuple[tuple[str, str], ...] = ()

    def match(self, row: Row) -> bool:
        db = row.db
        if self.engines and not any(fnmatch.fnmatchcase(db.engine or "", p) for p in self.engines):
            return False
        if self.identifiers and not any(fnmatch.fnmatchcase(db.identifier, p) for p in self.identifiers):
            return False
        return all(db.tags.get(k) == v for k, v in self.tags)


@dataclass
class Change:
    region: str
    kind: Kind
    identifier: str
    arn: str
    engine: str | None
    from_ca: str | None
    to_ca: str | None
    #: "modify-db-instance", "modify-db-cluster" or "apply-pending-maintenance".
    action: str
    apply_immediately: bool
    restart: str
    no_restart: bool = False
    maintenance_action: str | None = None

    @property
    def timing(self) -> str:
        return "now" if self.apply_immediately else "maintenance window"

    def request(self) -> dict[str, Any]:
        """The API parameters (no secrets: identifiers, CA ids, flags)."""
        if self.action == "apply-pending-maintenance":
            return {
                "ResourceIdentifier": self.arn,
                "ApplyAction": self.maintenance_action,
                "OptInType": "immediate" if self.apply_immediately else "next-maintenance",
            }
        key = "DBClusterIdentifier" if self.action == "modify-db-cluster" else "DBInstanceIdentifier"
        params: dict[str, Any] = {
            key: self.identifier,
            "CACertificateIdentifier": self.to_ca,
            "ApplyImmediately": self.apply_immediately,
        }
        if self.no_restart:
            params["CertificateRotationRestart"] = False
        return params


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    #: Databases that need a new CA but are left out, with the reason.
    left_out: list[tuple[Row, str]] = field(default_factory=list)


def _change(row: Row, to_ca: str | None, action: str, apply_immediately: bool, **extra: Any) -> Change:
    db = row.db
    return Change(
        db.region,
        db.kind,
        db.identifier,
        db.arn,
        db.engine,
        db.ca,
        to_ca,
        action,
        apply_immediately,
        row.restart,
        **extra,
    )


def make_plan(
    result: Audit,
    target: str,
    fallback: str | None = None,
    apply_immediately: bool = False,
    no_restart: bool = False,
    filters: Filters = Filters(),  # frozen, never mutated
    pending_maintenance: bool = False,
) -> Plan:
    scans = {s.region: s for s in result.scans}
    plan = Plan()
    for row in result.rows:
        db = row.db
        if db.not_applicable or not filters.match(row):
            continue
        scan: RegionScan = scans[db.region]
        if pending_maintenance:
            for m in db.maintenance:
                if m["action"] in CA_ACTIONS:
                    change = _change(
                        row, db.ca, "apply-pending-maintenance", apply_immediately, maintenance_action=m["action"]
                    )
                    plan.changes.append(change)
        if not row.status.needs_action and not any(f.kind is FindingKind.CA_EXPIRING for f in row.findings):
            continue
        choice = next(
            (ca for ca in (target, fallback) if ca and ca != db.ca and accepts(db, scan, ca, result.today)), None
        )
        if choice is None:
            why = f"{db.engine} {db.engine_version or ''}".strip() + f" does not accept {target}"
            plan.left_out.append((row, why + ("" if fallback else "; give --fallback-ca")))
            continue
        if db.pending_ca == choice and not apply_immediately:
            plan.left_out.append((row, f"already pending: {choice} in the maintenance window"))
            continue
        action = "modify-db-cluster" if db.kind is Kind.MULTI_AZ_CLUSTER else "modify-db-instance"
        plan.changes.append(_change(row, choice, action, apply_immediately, no_restart=no_restart))
    return plan


# -- applying ------------------------------------------------------------------------------------------------------


class RateLimiter:
    """At most ``per_second`` calls per second across threads (on top of botocore's adaptive retries)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            delay = self.next - now
            self.next = max(now, self.next) + self.interval
        if delay > 0:
            time.sleep(delay)


def default_journal() -> Path:
    """A new journal file in the per-user state directory (never the working directory by surprise)."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = state_dir() / "journals"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"rdsca-rotate-{stamp}.jsonl"


def finished(journal: Path) -> set[tuple[str, str]]:
    """(arn, action) pairs the journal records as accepted."""
    done: set[tuple[str, str]] = set()
    for line in journal.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        if entry.get("result") == "accepted":
            done.add((entry["arn"], entry["action"]))
    return done


@dataclass
class Outcome:
    change: Change
    result: str
    message: str = ""


def apply(
    aws: Aws,
    changes: Iterable[Change],
    journal: Path,
    per_second: float = 5.0,
    skip: set[tuple[str, str]] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    limiter = RateLimiter(per_second)
    outcomes: list[Outcome] = []
    clients: dict[str, Any] = {}
    skip = skip or set()
    with journal.open("a", encoding="utf-8") as log:
        for change in changes:
            if (change.arn, change.action) in skip:
                outcome = Outcome(change, "skipped", "accepted in an earlier run (journal)")
                outcomes.append(outcome)
                if on_outcome:
                    on_outcome(outcome)
                continue
            client = clients.get(change.region) or clients.setdefault(change.region, aws.client("rds", change.region))
            limiter.wait()
            request = change.request()
            try:
                if change.action == "modify-db-cluster":
                    client.modify_db_cluster(**request)
                elif change.action == "apply-pending-maintenance":
                    client.apply_pending_maintenance_action(**request)
                else:
                    client.modify_db_instance(**request)
                outcome = Outcome(change, "accepted")
            except Exception as exc:  # each refusal is recorded and named; the run goes on
                outcome = Outcome(change, "refused", f"{error_code(exc)}: {error_message(exc)}")
            entry = {
                "time": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": change.region,
                "resource": change.identifier,
                "arn": change.arn,
                "action": change.action,
                "previous_ca": change.from_ca,
                "new_ca": change.to_ca,
                "request": request,
                "result": outcome.result,
                "message": outcome.message,
            }
            log.write(json.dumps(entry) + "\n")
            log.flush()
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)
    return outcomes


def change_json(change: Change) -> dict[str, Any]:
    data = asdict(change)
    data["timing"] = change.timing
    return data


def plan_json(plan: Plan, **extra: Any) -> dict[str, Any]:
    """The plan as JSON, with what was left out and why, plus ``extra`` fields (``applied``, ``errors``...)."""
    return {
        "plan": [change_json(c) for c in plan.changes],
        "left_out": [{"arn": r.db.arn, "reason": why} for r, why in plan.left_out],
        **extra,
    }


def outcomes_json(plan: Plan, journal: Path, outcomes: list[Outcome]) -> dict[str, Any]:
    return plan_json(
        plan,
        applied=True,
        journal=str(journal),
        outcomes=[{"arn": o.change.arn, "result": o.result, "message": o.message} for o in outcomes],
    )
