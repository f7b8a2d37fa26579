"""``rdsca rotate``: a plan from the audit (pure), and its application through the write-ahead journal.

Only what the plan lists is changed. Every request is journaled twice (``rdsca.aws.journal``): an intent before it
is sent, an outcome after AWS answers. A run with an existing journal first reconciles the intents that have no
outcome with the fresh scan (done if AWS shows the change made or pending, else planned again where still needed), so
nothing is sent twice and nothing is trusted blindly. Requests run one at a time per account and region, accounts and
regions side by side, at most ``rate`` changes per second per account.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rdsca import catalog
from rdsca.aws import readiness
from rdsca.aws.audit import Audit, FindingKind, Row, Serving, accepts
from rdsca.aws.journal import Journal, JournalWriteError
from rdsca.aws.pool import Pool
from rdsca.aws.readiness import Readiness
from rdsca.aws.scan import CA_ACTIONS, CHANGING, RegionScan
from rdsca.aws.session import RateLimiter, error_message
from rdsca.resources import Kind

MODIFY_INSTANCE = "modify-db-instance"
MODIFY_CLUSTER = "modify-db-cluster"
MAINTENANCE = "apply-pending-maintenance"
REBOOT_INSTANCE = "reboot-db-instance"
REBOOT_CLUSTER = "reboot-db-cluster"
#: The boto3 method behind each action.
METHODS = {
    MODIFY_INSTANCE: "modify_db_instance",
    MODIFY_CLUSTER: "modify_db_cluster",
    MAINTENANCE: "apply_pending_maintenance_action",
    REBOOT_INSTANCE: "reboot_db_instance",
    REBOOT_CLUSTER: "reboot_db_cluster",
}


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
    action: str
    apply_immediately: bool
    restart: str
    no_restart: bool = False
    maintenance_action: str | None = None
    account: str = ""
    #: An Aurora instance of a Babelfish cluster: the change takes effect at its next reboot.
    babelfish: bool = False
    #: Why a reboot is planned ("certificate-details", "journal", "babelfish").
    reason: str | None = None
    #: Why the change is applied now or waits (``catalog.apply_decision``).
    apply_why: str = ""

    @property
    def timing(self) -> str:
        if self.action in (REBOOT_INSTANCE, REBOOT_CLUSTER):
            return "now"
        return "now" if self.apply_immediately else "maintenance window"

    def request(self) -> dict[str, Any]:
        """The API parameters (no secrets: identifiers, CA ids, flags). ``CertificateRotationRestart`` is never sent
        to ModifyDBCluster, which has no such parameter (botocore's RDS model)."""
        if self.action == MAINTENANCE:
            return {
                "ResourceIdentifier": self.arn,
                "ApplyAction": self.maintenance_action,
                "OptInType": "immediate" if self.apply_immediately else "next-maintenance",
            }
        if self.action == REBOOT_INSTANCE:
            return {"DBInstanceIdentifier": self.identifier}
        if self.action == REBOOT_CLUSTER:
            return {"DBClusterIdentifier": self.identifier}
        key = "DBClusterIdentifier" if self.action == MODIFY_CLUSTER else "DBInstanceIdentifier"
        params: dict[str, Any] = {
            key: self.identifier,
            "CACertificateIdentifier": self.to_ca,
            "ApplyImmediately": self.apply_immediately,
        }
        if self.no_restart and self.action == MODIFY_INSTANCE:
            params["CertificateRotationRestart"] = False
        return params

    def journal_fields(self) -> dict[str, Any]:
        return {
            "account": self.account, "region": self.region, "resource": self.identifier, "arn": self.arn,
            "kind": self.kind.value, "action": self.action, "previous_ca": self.from_ca, "new_ca": self.to_ca,
            "request": self.request(), "babelfish": self.babelfish, "reason": self.reason, "restart": self.restart,
        }


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    #: Databases that need a new CA but are left out, with the reason.
    left_out: list[tuple[Row, str]] = field(default_factory=list)
    #: Of those, the ones refused because their clients are not known to be ready (``--ready-from``).
    not_ready: int = 0
    #: What the plan leaves to do afterwards (a reboot a change needs).
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlanOptions:
    target: str = catalog.DEFAULT_TARGET
    fallback: str | None = None
    #: ``catalog.apply_decision``'s policy: "auto" (AWS's guide), "allow" (--apply-immediately) or "avoid".
    restart: str = "auto"
    no_restart: bool = False
    filters: Filters = Filters()
    pending_maintenance: bool = False
    reboot: bool = False
    #: ``--ready-from``: client readiness by (endpoint address, port); None: not asked for.
    readiness: Mapping[tuple[str, int], Readiness] | None = None


def _decision(row: Row, options: PlanOptions) -> catalog.ApplyDecision:
    """The one apply-mode rule for this database: its current CA's verdict and whether rotating restarts it
    (``--no-restart`` means it does not)."""
    restart = catalog.Restart.NO if options.no_restart else catalog.Restart(row.restart)
    return catalog.apply_decision(row.status, restart, options.restart)


def _change(row: Row, to_ca: str | None, action: str, apply_immediately: bool, **extra: Any) -> Change:
    db = row.db
    return Change(
        db.region, db.kind, db.identifier, db.arn, db.engine, db.ca, to_ca, action, apply_immediately, row.restart,
        account=db.account, babelfish=db.babelfish, **extra,
    )


def _maintenance_changes(row: Row, options: PlanOptions) -> list[Change]:
    decision = _decision(row, options)
    return [
        _change(row, row.db.ca, MAINTENANCE, decision.immediately, maintenance_action=m["action"],
                apply_why=decision.why)
        for m in row.db.maintenance
        if m["action"] in CA_ACTIONS
    ]


def _reboot(row: Row, reason: str) -> Change:
    action = REBOOT_CLUSTER if row.db.kind is Kind.MULTI_AZ_CLUSTER else REBOOT_INSTANCE
    return _change(row, row.db.ca, action, True, reason=reason)


def _needs_new_ca(row: Row) -> bool:
    return row.status.needs_action or any(f.kind is FindingKind.CA_EXPIRING for f in row.findings)


def _ca_change(row: Row, scan: RegionScan, options: PlanOptions, plan: Plan, today: Any) -> Change | None:
    """The CA change this row needs, or None (left out with the reason)."""
    db = row.db
    choice = next(
        (ca for ca in (options.target, options.fallback) if ca and ca != db.ca and accepts(db, scan, ca, today)), None
    )
    if choice is None:
        why = f"{db.engine} {db.engine_version or ''}".strip() + f" does not accept {options.target}"
        plan.left_out.append((row, why + ("" if options.fallback else "; give --fallback-ca")))
        return None
    decision = _decision(row, options)
    if db.pending_ca == choice and (not decision.immediately or (db.status or "") in CHANGING):
        state = f"being applied (status {db.status})" if (db.status or "") in CHANGING else "in the maintenance window"
        plan.left_out.append((row, f"already pending: {choice} {state}"))
        return None
    if db.kind is Kind.MULTI_AZ_CLUSTER and options.no_restart:
        plan.left_out.append((row, "ModifyDBCluster has no CertificateRotationRestart parameter, so --no-restart "
                                   "cannot apply to a Multi-AZ DB cluster: rotate it without --no-restart (its "
                                   "instances restart)"))
        return None
    action = MODIFY_CLUSTER if db.kind is Kind.MULTI_AZ_CLUSTER else MODIFY_INSTANCE
    return _change(row, choice, action, decision.immediately, no_restart=options.no_restart, apply_why=decision.why)


def _restart_reason(row: Row) -> str:
    served = row.db.served_ca
    return "certificate-details" if served and row.db.ca and served != row.db.ca else "journal"


def make_plan(result: Audit, options: PlanOptions) -> Plan:
    scans = {(s.account, s.region): s for s in result.scans}
    plan = Plan()
    for row in result.rows:
        db = row.db
        if db.not_applicable or not options.filters.match(row):
            continue
        scan = scans[(db.account, db.region)]
        change = _ca_change(row, scan, options, plan, result.today) if _needs_new_ca(row) else None
        # One change per database. A pending ca-certificate-rotation action would move the database to the region's
        # default CA (and server-certificate-rotation only reissues a certificate the new CA replaces anyway): the
        # CA change wins, as it sets the CA chosen here with the apply mode chosen here, and the action is not sent.
        maintenance = _maintenance_changes(row, options) if options.pending_maintenance else []
        if options.readiness is not None and (change is not None or maintenance):
            # Clients first (AWS's rotation guide): no CA change for a database whose probe says a store will
            # break, or that was not probed.
            clients = readiness.of(options.readiness, db.endpoint_address, db.endpoint_port)
            if not clients.ready:
                plan.left_out.append((row, f"clients not ready: {clients.detail}"))
                plan.not_ready += 1
                change = None
                maintenance = [m for m in maintenance if m.maintenance_action != "ca-certificate-rotation"]
        if change is not None and maintenance:
            actions = ", ".join(sorted({m.maintenance_action or "" for m in maintenance}))
            plan.notes.append(f"{db.account} {db.region} {db.identifier}: pending {actions} not applied: the CA "
                              f"change to {change.to_ca} replaces it")
            maintenance = []
        plan.changes += maintenance
        if options.reboot and row.serving is Serving.RESTART_PENDING:
            plan.changes.append(_reboot(row, _restart_reason(row)))
        if change is None:
            continue
        plan.changes.append(change)
        if change.apply_immediately and db.pending_changes:
            plan.notes.append(f"{db.account} {db.region} {db.identifier}: applied now, its change also applies the "
                              f"pending {', '.join(db.pending_changes)} (PendingModifiedValues)")
        if db.babelfish and options.reboot and change.apply_immediately and not options.no_restart:
            plan.changes.append(_reboot(row, "babelfish"))
        elif db.babelfish:
            plan.notes.append(f"{db.account} {db.region} {db.identifier}: Babelfish needs a reboot once the new CA "
                              "is set (rdsca rotate --reboot --apply)")
    return plan


# -- reconciling a journal with a fresh scan -----------------------------------------------------------------------


def observed(intent: dict[str, Any], result: Audit) -> bool:
    """Whether AWS shows the journaled request done: the CA set or pending, the reboot under way or its CA served,
    the maintenance action applied or opted into, the account default set."""
    rows = {r.db.arn: r for r in result.rows}
    row = rows.get(intent.get("arn") or "")
    action = intent["action"]
    if action == "modify-certificates":
        scan = next((s for s in result.scans if (s.account, s.region) == (intent["account"], intent["region"])), None)
        return scan is not None and scan.override == intent.get("new_ca")
    if row is None:
        return False
    db = row.db
    if action in (MODIFY_INSTANCE, MODIFY_CLUSTER):
        return intent.get("new_ca") in (db.ca, db.pending_ca)
    if action in (REBOOT_INSTANCE, REBOOT_CLUSTER):
        served = intent.get("reason") == "certificate-details" and db.served_ca == db.ca
        return db.status == "rebooting" or served
    request = intent.get("request") or {}
    listed = [m for m in db.maintenance if m["action"] == request.get("ApplyAction")]
    return not listed or any(m.get("opt_in_status") == request.get("OptInType") for m in listed)


def reconcile(journal: Journal, result: Audit) -> list[str]:
    """Write an outcome for every intent the journal left without one, from what the fresh scan shows."""
    lines = []
    for intent in journal.contents.unresolved:
        done = observed(intent, result)
        outcome = "reconciled-done" if done else "reconciled-not-done"
        shown = "AWS shows it done" if done else "AWS does not show it: planned again if still needed"
        journal.outcome(intent["seq"], outcome, f"no outcome was recorded; checked against a fresh scan: {shown}")
        lines.append(f"{intent['account']} {intent['region']} {intent['resource']} {intent['action']}: {shown}")
    return lines


# -- applying ------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    change: Change
    result: str
    message: str = ""


@dataclass
class Applier:
    """Sends a plan's requests, each between its intent and its outcome line."""

    journal: Journal
    client: Callable[[str, str], Any]
    rate: float = 5.0
    on_outcome: Callable[[Outcome], None] | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    _limiters: dict[str, RateLimiter] = field(default_factory=dict)
    _stop: bool = False

    def _limiter(self, account: str) -> RateLimiter:
        return self._limiters.setdefault(account, RateLimiter(self.rate))

    def one(self, change: Change) -> Outcome | None:
        if self._stop:
            return None
        self._limiter(change.account).wait()
        seq = self.journal.intent(change.journal_fields())
        request = change.request()
        try:
            getattr(self.client(change.account, change.region), METHODS[change.action])(**request)
            outcome = Outcome(change, "accepted")
        except Exception as exc:  # each refusal is recorded and named; the run goes on
            outcome = Outcome(change, "refused", error_message(exc))
        self.journal.outcome(seq, outcome.result, outcome.message)
        self.outcomes.append(outcome)
        if self.on_outcome:
            self.on_outcome(outcome)
        return outcome

    def group(self, changes: list[Change]) -> None:
        for change in changes:
            try:
                if self.one(change) is None:
                    return
            except JournalWriteError:
                self._stop = True
                raise

    def run(self, changes: Iterable[Change], workers: int = 1) -> list[Outcome]:
        """One account and region at a time per worker; with one worker (or one group) in this thread, so that Ctrl-C
        interrupts the request in flight."""
        groups: dict[tuple[str, str], list[Change]] = {}
        for change in changes:
            groups.setdefault((change.account, change.region), []).append(change)
        if workers <= 1 or len(groups) <= 1:
            for group in groups.values():
                self.group(group)
            return self.outcomes
        pool: Pool[tuple[str, str]] = Pool(workers)
        for key, group in groups.items():
            pool.submit(key, functools.partial(self.group, group))
        try:
            for done in pool.completed():
                if done.error is not None:
                    raise done.error
        finally:
            self._stop = True
        return self.outcomes


def change_json(change: Change) -> dict[str, Any]:
    data = asdict(change)
    data["kind"] = change.kind.value
    data["timing"] = change.timing
    return data


def plan_json(plan: Plan, **extra: Any) -> dict[str, Any]:
    """The plan as JSON, with what was left out and why, plus ``extra`` fields (``applied``, ``errors``...)."""
    return {
        "plan": [change_json(c) for c in plan.changes],
        "left_out": [{"account": r.db.account, "arn": r.db.arn, "reason": why} for r, why in plan.left_out],
        "notes": plan.notes,
        **extra,
    }


def outcomes_json(plan: Plan, journal: Path, outcomes: list[Outcome]) -> dict[str, Any]:
    return plan_json(
        plan,
        applied=True,
        journal=str(journal),
        outcomes=[
            {"account": o.change.account, "arn": o.change.arn, "action": o.change.action, "result": o.result,
             "message": o.message}
            for o in outcomes
        ],
    )
