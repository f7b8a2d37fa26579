"""The live-account commands: ``audit``, ``rotate`` and ``default-ca`` (thin shells over ``rdsca.aws``)."""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from rdsca import catalog, clock, terminal
from rdsca import findings as findings_core
from rdsca.cli import ci
from rdsca.cli.common import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    CommaListType,
    Failure,
    Number,
    RegionListType,
    TagType,
    common_options,
)
from rdsca.errors import require
from rdsca.output import Column, emit_json, ident, printable, tones
from rdsca.terminal import echo_table, inform, warn

# Organizations' patterns (botocore's model): an account id, an organizational unit or root id.
_ACCOUNT = re.compile(r"\d{12}")
_PARENT = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")


def AccountListType() -> CommaListType:
    """AWS account ids."""
    return CommaListType(
        "ACCOUNT[,ACCOUNT]",
        _ACCOUNT,
        "an empty account id (accounts are comma-separated 12-digit ids)",
        "is not an AWS account id (12 digits)",
    )


class ParentType(click.ParamType):
    name = "OU"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not _PARENT.fullmatch(str(value)):
            self.fail(f"{value!r} is not an organizational unit id (ou-...) or root id (r-...)", param, ctx)
        return str(value)


@dataclass(frozen=True)
class AwsArgs:
    """The options every live-account command takes, checked together."""

    profile: str | None
    regions: list[str] | None
    workers: int
    demo: bool
    org: bool
    ous: tuple[str, ...]
    accounts: list[str] | None
    include_management: bool
    role_name: str
    external_id: str | None
    account_rate: float
    connect_timeout: float
    read_timeout: float
    max_attempts: int
    endpoint_url: str | None

    def check(self) -> None:
        if self.demo and self.profile:
            raise click.UsageError("--profile cannot be used with --demo: the demo never uses real credentials")
        if self.demo and self.endpoint_url:
            raise click.UsageError("--endpoint-url cannot be used with --demo: the demo has its own endpoint")
        if self.endpoint_url is not None and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s]*)?", self.endpoint_url):
            raise click.BadParameter(f"{self.endpoint_url!r}: give a URL such as https://rds.example.com or "
                                     "http://127.0.0.1:5000", param_hint="--endpoint-url")
        chosen = [name for name, on in (("--org", self.org), ("--ou", self.ous), ("--accounts", self.accounts)) if on]
        if len(chosen) > 1:
            raise click.UsageError(f"{' and '.join(chosen)} cannot be combined: choose one way to select accounts")
        if not chosen:
            for flag, given in (("--include-management", self.include_management), ("--external-id",
                                                                                     self.external_id)):
                if given:
                    raise click.UsageError(f"{flag} needs --org, --ou or --accounts")
        if self.include_management and self.accounts:
            raise click.UsageError("--include-management applies to --org and --ou; list the account in --accounts")

    def scope(self, demo: Any, demo_regions: list[str] | None) -> Any:
        from rdsca.aws.accounts import Selection
        from rdsca.aws.live import Scope
        from rdsca.aws.session import Limits

        selection = Selection(
            self.org, self.ous, tuple(self.accounts or ()), self.include_management, self.role_name, self.external_id,
            self.account_rate,
        )
        limits = Limits(self.connect_timeout, self.read_timeout, self.max_attempts, self.endpoint_url)
        regions = self.regions or demo_regions
        return Scope(self.profile, tuple(regions) if regions else None, self.workers, demo, selection, limits)


_AWS_OPTIONS = (
    click.option("--profile", metavar="NAME", help="AWS profile (default: the standard credential chain)."),
    click.option("--regions", type=RegionListType(), help="Comma-separated regions (default: every region enabled)."),
    click.option("--region", "region_list", multiple=True, metavar="REGION",
                 help="A region, as the AWS CLI spells it (repeatable; joins --regions)."),
    click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True,
                 help="Account regions scanned at once."),
    click.option("--demo", is_flag=True, help="Run against a built-in fake account (no AWS account needed)."),
    click.option("--org", is_flag=True, help="Every active account of the organization (Organizations ListAccounts)."),
    click.option("--ou", "ous", multiple=True, type=ParentType(),
                 help="The accounts of this organizational unit and every unit below it (repeatable)."),
    click.option("--accounts", type=AccountListType(), help="Comma-separated account ids."),
    click.option("--include-management", is_flag=True, help="With --org or --ou, also the management account."),
    click.option("--role-name", default="OrganizationAccountAccessRole", show_default=True,
                 help="The role assumed in each other account."),
    click.option("--external-id", help="The external id the role's trust policy asks for."),
    click.option("--account-rate", type=Number(0.1, 1000), default=20.0, show_default=True,
                 help="API calls per second per account."),
    click.option("--connect-timeout", type=Number(0.1, 300), default=5.0, show_default=True,
                 help="Seconds to connect to an AWS endpoint."),
    click.option("--read-timeout", type=Number(0.1, 600), default=10.0, show_default=True,
                 help="Seconds to wait for an answer."),
    click.option("--max-attempts", type=click.IntRange(1, 10), default=3, show_default=True,
                 help="Attempts per call, retries of throttling and timeouts included."),
    click.option("--endpoint-url", metavar="URL",
                 help="Send every AWS call to this URL (a VPC endpoint, a test server), as the AWS CLI's option; "
                 "AWS_ENDPOINT_URL does the same from the environment."),
)
_AWS_NAMES = tuple(f.name for f in AwsArgs.__dataclass_fields__.values())  # type: ignore[attr-defined]


def aws_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The live-account options, passed to the command as one checked ``AwsArgs`` (``aws_args``)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        singles = list(kwargs.pop("region_list", ()))
        if singles:
            # --region, as the AWS CLI spells it, is one more region (checked like --regions').
            try:
                checked = RegionListType().convert(",".join(singles), None, click.get_current_context())
            except click.BadParameter as exc:
                raise click.BadParameter(exc.message, param_hint="--region") from None
            kwargs["regions"] = list(dict.fromkeys([*(kwargs.get("regions") or []), *checked]))
        aws_args = AwsArgs(**{name: kwargs.pop(name) for name in _AWS_NAMES})
        aws_args.check()
        return fn(*args, aws_args=aws_args, **kwargs)

    for option in reversed(_AWS_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


@contextlib.contextmanager
def _scope(args: AwsArgs) -> Iterator[Any]:
    """The scope of the command; with --demo, a fake account on loopback seeded with a small fleet."""
    if not args.demo:
        yield args.scope(None, None)
        return
    require("moto", "--demo (a fake AWS account)")
    from rdsca.aws.live import demo_account

    with demo_account(clock.today(), org=args.org or bool(args.ous) or bool(args.accounts)) as (demo, regions):
        inform(f"demo: a fake account on {demo.endpoint} (nothing here reaches AWS)")
        yield args.scope(demo, regions)


def _scan(scope: Any, options: Any, held: Any = None, certificates_only: bool = False) -> Any:
    from rdsca.aws import live, scan

    region_scan = scan.scan_certificates if certificates_only else scan.scan_region
    with terminal.progress() as steps:
        progress = live.progress_printer(steps.line, options, update=steps.update)
        return live.scan_scope(scope, options, progress, held, region_scan)


def _report_problems(result: Any) -> None:
    for warning in result.warnings:
        warn(warning)
    for error in result.errors:
        click.echo(f"error: {error}", err=True)


def _audit_table(result: Any) -> None:
    from rdsca.aws import audit_report

    echo_table(audit_report.headers(result), audit_report.table_rows(result))
    for scan in result.scans:
        if scan.error is None:
            override = f", account override {scan.override}" if scan.override else ""
            where = f"{scan.account} {scan.region}" if scan.account else scan.region
            click.echo(f"{where}: new databases get {scan.default_ca or 'unknown (not listed)'}{override}")
    for row in result.rows:
        where = f"{row.db.account} {row.db.region} {row.db.identifier}"
        for finding in row.findings:
            click.echo(f"finding: {where}: {finding}")
        for note in row.notes:
            click.echo(f"note: {where}: {note}")


@click.command()
@aws_options
@click.option("--expiring-days", type=click.IntRange(0), default=clock.EXPIRING_DAYS, show_default=True,
              help="Report a CA or server certificate that expires within this many days.")
@click.option("--accept-scheduled", is_flag=True,
              help="A database still serving a retired CA whose fix waits for the maintenance window is a note, "
                   "not a finding.")
@click.option("--journal", "journals", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Also read this rotation journal for changes that wait for a restart (repeatable).")
@click.option("--probe", "probe_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              metavar="PROBE.json",
              help="Join rdsca probe --format json results: a CLIENTS column (ready, will-break, not-probed).")
@ci.outputs_option(("table", "json", "csv", "sarif", "junit", "html"))
@ci.findings_options
@common_options(("table", "json", "csv", "sarif"))
def audit(
    aws_args: AwsArgs, expiring_days: int, accept_scheduled: bool, journals: tuple[Path, ...],
    probe_file: Path | None, fmt: str,
) -> None:
    """Find databases on retired, unknown, refused or expiring CAs, and changes waiting for a restart (read-only).

    Exit 0 when there is no finding, 1 when there is one, 2 when some account or region could not be listed.
    """
    from rdsca.aws import audit as audit_mod
    from rdsca.aws import audit_report
    from rdsca.aws.live import read_journals

    found, warnings = read_journals(list(journals))
    options = audit_mod.Options(clock.today(), expiring_days, accept_scheduled, audit_mod.restart_records(found))
    from rdsca.aws import readiness

    probed = readiness.load(probe_file) if probe_file is not None else None  # a bad file fails before any call
    with _scope(aws_args) as scope:
        result = _scan(scope, options).result
    if probed is not None:
        for row in result.rows:
            if not row.db.not_applicable:
                row.clients = readiness.of(probed, row.db.endpoint_address, row.db.endpoint_port)
    processed = _process_audit(result)

    def render(out_fmt: str) -> Any:
        if out_fmt == "json":
            emit_json(audit_report.to_json(result))
        elif out_fmt == "csv":
            click.echo(audit_report.to_csv(result), nl=False)
        elif out_fmt == "sarif":
            emit_json(audit_report.to_sarif(result))
        elif out_fmt == "junit":
            from rdsca import junit

            return junit.document("rdsca audit", audit_report.finding_dicts(result),
                                  [r.db.arn for r in result.rows if not r.findings], result.suppressed)
        else:
            _audit_table(result)
            for line in findings_core.set_aside_lines(result.suppressed, processed.hidden):
                click.echo(printable(line))
        return None

    render(fmt)
    for warning in [*warnings, *processed.warnings]:
        warn(warning)
    _report_problems(result)
    ci.write_outputs(render)
    if result.errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if ci.fails(processed, bool(result.findings)) else EXIT_OK)


def _process_audit(result: Any) -> Any:
    """The configuration file's suppressions (by ARN or identifier), the baseline and the rule selection over the
    audit's findings; the rows keep only what remains, the audit lists the rest as suppressed."""
    from rdsca import rules
    from rdsca.aws import audit_report

    ci.check_names(rules.BY_NAME)
    found = audit_report.finding_dicts(result)
    from rdsca.aws.audit import POLICY_OF

    processed = ci.process(found, deploys=False, judged=frozenset(POLICY_OF.values()))
    kept = {(d["arn"], d["index"]) for d in processed.findings}
    for row in result.rows:
        row.findings = [f for i, f in enumerate(row.findings) if (row.db.arn, i) in kept]
    result.suppressed = [{k: v for k, v in d.items() if k != "index"} for d in processed.suppressed]
    return processed


ACK = "--i-know-clients-do-not-verify-tls"


@dataclass(frozen=True)
class RotateOptions:
    """``rdsca rotate``'s own options, checked together."""

    target: str
    fallback_ca: str | None
    apply_immediately: bool
    restart: str | None
    no_restart: bool
    ack_no_tls: bool
    pending_maintenance: bool
    reboot: bool
    ready_from: Path | None
    engines: tuple[str, ...]
    identifiers: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]
    do_apply: bool
    yes: bool
    journal: Path | None
    resume: Path | None
    rate: float
    fmt: str

    def check(self) -> None:
        try:
            catalog.require_target(self.target)
            if self.fallback_ca:
                catalog.require_target(self.fallback_ca)
        except catalog.CatalogError as exc:
            raise click.UsageError(str(exc)) from None
        if self.no_restart and not self.ack_no_tls:
            raise click.UsageError(
                f"--no-restart needs {ACK}: without a restart the database keeps serving the old certificate, and "
                "AWS advises it only when clients do not use SSL/TLS"
            )
        if self.apply_immediately and self.restart not in (None, "allow"):
            raise click.UsageError(f"--apply-immediately is --restart allow: it contradicts --restart {self.restart}")
        if self.resume and self.journal and self.resume != self.journal:
            raise click.UsageError("--resume appends to the journal it reads; do not also give --journal")
        _check_journal_folder(self.journal, "--journal")

    def plan_options(self) -> Any:
        from rdsca.aws import readiness
        from rdsca.aws import rotate as rot

        filters = rot.Filters(self.engines, self.identifiers, self.tags)
        restart = "allow" if self.apply_immediately else (self.restart or "auto")
        ready = readiness.load(self.ready_from) if self.ready_from is not None else None
        return rot.PlanOptions(self.target, self.fallback_ca, restart, self.no_restart, filters,
                               self.pending_maintenance, self.reboot, ready)


def _check_journal_folder(path: Path | None, flag: str) -> None:
    if path is not None and not path.parent.is_dir():
        raise click.UsageError(f"{flag} {path}: the folder {path.parent} does not exist")


_ROTATE_OPTIONS = (
    click.option("--ca", "target", default=catalog.DEFAULT_TARGET, show_default=True, help="The CA to move to."),
    click.option("--fallback-ca", help="The CA for engines that refuse --ca (without it they are left out)."),
    click.option("--restart", type=click.Choice(catalog.RESTART_POLICIES),
                 help="When changes apply (default auto, AWS's guide): a database on a retired or expired CA now, "
                      "one that rotates without a restart now, others in the maintenance window; allow: all now; "
                      "avoid: only those that do not restart now."),
    click.option("--apply-immediately", is_flag=True, help="The same as --restart allow: every change now."),
    click.option("--no-restart", is_flag=True, help=f"Set CertificateRotationRestart=false; needs {ACK}."),
    click.option(ACK, "ack_no_tls", is_flag=True,
                 help="Acknowledge that clients do not verify TLS (AWS's condition for --no-restart)."),
    click.option("--pending-maintenance", is_flag=True, help="Also apply pending CA maintenance actions."),
    click.option("--ready-from", type=click.Path(dir_okay=False, exists=True, path_type=Path), metavar="PROBE.json",
                 help="Clients first: refuse the change of a database whose probe (rdsca probe --format json) says "
                      "a store will break, or that was not probed (exit 1, each named)."),
    click.option("--reboot", is_flag=True,
                 help="Also reboot databases whose new certificate waits for a restart (RebootDBInstance, "
                      "RebootDBCluster for Multi-AZ DB clusters)."),
    click.option("--engine", "engines", multiple=True, metavar="GLOB", help="Only these engines (repeatable)."),
    click.option("--identifier", "identifiers", multiple=True, metavar="GLOB",
                 help="Only these identifiers (repeatable)."),
    click.option("--tag", "tags", multiple=True, type=TagType(), help="Only databases with this tag (repeatable)."),
    click.option("--apply", "do_apply", is_flag=True, help="Make the changes (default: dry run)."),
    click.option("--yes", is_flag=True, help="Do not ask for confirmation."),
    click.option("--journal", type=click.Path(dir_okay=False, path_type=Path), help="Journal file (JSON lines)."),
    click.option("--resume", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                 help="Continue an interrupted run from its journal, checking unfinished requests against AWS."),
    click.option("--rate", type=Number(0.1, 100), default=5.0, show_default=True,
                 help="Changes per second per account."),
)


def rotate_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_ROTATE_OPTIONS):
        fn = option(fn)
    return fn


@click.command()
@aws_options
@rotate_options
@common_options(("table", "json"))
def rotate(aws_args: AwsArgs, **options: Any) -> None:
    """Move databases off retired, unknown, refused or expiring CAs. A dry run unless --apply.

    After --apply: exit 0 when every planned change was accepted, 1 when some were not, 2 on errors.
    """
    from rdsca.aws import audit as audit_mod

    opts = RotateOptions(**options)
    opts.check()
    journal_path = _journal_path(opts) if opts.do_apply else None
    if opts.resume and not opts.do_apply:
        _read_journal(opts.resume)  # a dry run of a resume reads the journal too: a bad one is an error now
    audit_options = audit_mod.Options(clock.today(), restarts=_restarts(journal_path or opts.resume))
    with _scope(aws_args) as scope, _locks(journal_path) as held:
        scanned = _scan(scope, audit_options, held)
        from rdsca.aws import rotate as rot

        plan = rot.make_plan(scanned.result, opts.plan_options())
        _show_plan(plan, scanned.result, opts.fmt)
        if not opts.do_apply:
            _dry_run(plan, opts.fmt)
        assert journal_path is not None
        outcomes = _apply(scanned, plan, opts, journal_path, aws_args.workers)
    refused = [o for o in outcomes if o.result == "refused"]
    if opts.fmt == "json":
        emit_json(rot.outcomes_json(plan, journal_path, outcomes))
    for o in refused:
        click.echo(f"not accepted: {o.change.account} {o.change.region} {o.change.identifier}: {o.message}", err=True)
    sys.exit(EXIT_FINDINGS if refused or plan.not_ready else EXIT_OK)


def _journal_path(opts: RotateOptions) -> Path:
    from rdsca.aws import journal

    if opts.resume or opts.journal:
        return opts.resume or opts.journal  # type: ignore[return-value]
    return journal.default_path("rotate")


def _restarts(journal_path: Path | None) -> Any:
    """Changes waiting for a restart, from the journals in the state directory and this run's."""
    from rdsca.aws import audit as audit_mod
    from rdsca.aws.live import read_journals

    explicit = [journal_path] if journal_path is not None and journal_path.is_file() else []
    found, warnings = read_journals(explicit)
    for warning in warnings:
        warn(warning)
    return audit_mod.restart_records(found)


@contextlib.contextmanager
def _locks(journal_path: Path | None, command: str = "rdsca rotate --apply") -> Iterator[Any]:
    """With --apply: the journal's lock now, each account and region's as the scan reaches it."""
    if journal_path is None:
        yield None
        return
    from rdsca.aws import locks

    with locks.holding(command) as held:
        held.acquire(locks.journal_key(journal_path), f"the journal {journal_path}")
        yield held


def _dry_run(plan: Any, fmt: str) -> None:
    from rdsca.aws import rotate as rot

    if fmt == "json":
        emit_json(rot.plan_json(plan, applied=False))
    else:
        click.echo(f"dry run: {len(plan.changes)} change(s) planned; nothing was changed (add --apply).")
    # Changes refused because clients are not ready are findings, on a dry run too.
    sys.exit(EXIT_FINDINGS if plan.not_ready else EXIT_OK)


def _show_plan(plan: Any, result: Any, fmt: str) -> None:
    """The plan as a table (JSON is printed by the caller, once); a scan with errors stops here."""
    from rdsca.aws import rotate as rot

    if fmt == "table":
        rows = [
            [c.account or "-", c.region, c.identifier, c.kind, c.from_ca or "-", c.to_ca or "-", c.action, c.timing,
             c.restart]
            for c in plan.changes
        ]
        echo_table(PLAN_COLUMNS, rows)
        for row, why in plan.left_out:
            click.echo(f"left out: {row.db.account} {row.db.region} {row.db.identifier}: {why}")
        for c in plan.changes:
            if c.apply_why:
                click.echo(f"when: {c.account + ' ' if c.account else ''}{c.region} {c.identifier}: {c.apply_why}")
        if any(c.apply_immediately and c.action != rot.MAINTENANCE for c in plan.changes):
            # AWS's rotation guide: applying immediately also applies the database's other pending modifications.
            click.echo("note: a change applied now also applies every other pending modification of that database")
        for note in plan.notes:
            click.echo(f"note: {note}")
    _report_problems(result)
    if result.errors:
        if fmt == "json":
            emit_json(rot.plan_json(plan, applied=False, errors=result.errors))
        count = len(result.errors)
        raise Failure(f"{count} account(s) or region(s) could not be listed (each named above); nothing was changed")


#: The plan's columns: account, region and database always whole; on a narrow terminal the kind goes first, then the
#: CA it comes from and the one it goes to (the same for most rows); what is done, when and whether it restarts stay.
PLAN_COLUMNS = [
    ident("ACCOUNT"), ident("REGION"), ident("DATABASE"), Column("KIND", elide=3), Column("FROM", elide=2),
    Column("TO", elide=1), Column("ACTION"), Column("WHEN"), Column("RESTART", tone=tones({"yes": "warn"})),
]


def _confirm(count: int, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise Failure("--apply asks for confirmation; with no terminal, add --yes")
    if not click.confirm(f"Apply {count} change(s)?", err=True):
        raise Failure("not confirmed; nothing was changed")


def _apply(scanned: Any, plan: Any, opts: RotateOptions, path: Path, workers: int) -> list[Any]:
    from rdsca.aws import rotate as rot
    from rdsca.aws.journal import Journal

    contents = _read_journal(path)
    if not plan.changes and not (contents and contents.unresolved):
        # Nothing to send; but a database left out that still needs a change (not one already pending) is not done.
        stuck = [(row, why) for row, why in plan.left_out if not why.startswith("already pending")]
        for row, why in stuck:
            click.echo(printable(f"left out: {row.db.account} {row.db.region} {row.db.identifier}: {why}"), err=True)
        click.echo("nothing to change." if not stuck else "nothing could be changed (each left out above).", err=True)
        sys.exit(EXIT_FINDINGS if stuck else EXIT_OK)
    if plan.changes:
        _confirm(len(plan.changes), opts.yes)
    click.echo(f"journal: {path}", err=True)
    total = len(plan.changes)

    def show(outcome: rot.Outcome) -> None:
        c = outcome.change
        detail = f" ({outcome.message})" if outcome.message else ""
        target = f" -> {c.to_ca}" if c.action.startswith("modify") else ""
        # Each request's outcome stays, --quiet too (on a terminal, above the progress line): what was sent.
        steps.note(f"{outcome.result}: {c.account} {c.region} {c.identifier} {c.action}{target}{detail}")
        steps.update(f"applying: {len(applier.outcomes)}/{total} change(s)", len(applier.outcomes), total)

    with Journal.open(path, "rotate") as journal, terminal.progress() as steps:
        for line in rot.reconcile(journal, scanned.result):
            click.echo(f"resume: {line}", err=True)
        applier = rot.Applier(journal, scanned.client(), opts.rate, show)
        try:
            return applier.run(plan.changes, workers)
        except KeyboardInterrupt:
            raise Failure(
                f"interrupted; {path} records every request sent (an intent before each, an outcome after): "
                f"continue with --resume {path}, which checks unfinished requests against AWS"
            ) from None


def _read_journal(path: Path) -> Any:
    from rdsca.aws import journal

    if not path.exists() and not path.is_symlink():
        return None  # a new journal
    if path.is_file() and not path.stat().st_size:
        return None
    # A device, a FIFO or a folder is refused by journal.read ("not a regular file"), on a dry run too.
    return journal.read(path)  # its warnings were shown when it was first read


@click.group("default-ca")
def default_ca() -> None:
    """Show, set or remove the account's default CA for new launches, per region (ModifyCertificates)."""


@default_ca.command("show")
@aws_options
@common_options(("table", "json"))
def default_show(aws_args: AwsArgs, fmt: str) -> None:
    """The default CA for new launches and any account override, per account and region."""
    from rdsca.aws import audit as audit_mod

    with _scope(aws_args) as scope:
        # The setting only: DescribeCertificates per region, no database listed.
        result = _scan(scope, audit_mod.Options(clock.today()), certificates_only=True).result
    data = [
        {"account": s.account, "region": s.region, "default_ca": s.default_ca, "override": s.override,
         "error": s.error}
        for s in result.scans
    ]
    if fmt == "json":
        emit_json(data)
    else:
        echo_table(
            [ident("ACCOUNT"), ident("REGION"), Column("DEFAULT FOR NEW LAUNCHES"), Column("ACCOUNT OVERRIDE")],
            [[d["account"], d["region"], d["default_ca"] or "unknown", d["override"] or "-"] for d in data],
        )
    _report_problems(result)
    sys.exit(EXIT_ERROR if result.errors else EXIT_OK)


def _change_default(aws_args: AwsArgs, ca_id: str | None, do_apply: bool, journal: Path | None, fmt: str) -> None:
    from rdsca.aws import audit as audit_mod
    from rdsca.aws import defaults
    from rdsca.aws import journal as journals
    from rdsca.aws.journal import Journal

    _check_journal_folder(journal, "--journal")
    path = (journal or journals.default_path("default-ca")) if do_apply else None
    with _scope(aws_args) as scope, _locks(path, "rdsca default-ca --apply") as held:
        scanned = _scan(scope, audit_mod.Options(clock.today()), held)
        outcomes = defaults.plan(scanned.result, ca_id)
        if do_apply and path is not None and any(o["result"] == "planned" for o in outcomes):
            click.echo(f"journal: {path}", err=True)
            with Journal.open(path, "default-ca") as log:
                outcomes = defaults.apply(outcomes, ca_id, scanned.client(), log)
    for o in outcomes:
        if o["result"] == "planned":
            o.update(result="dry-run", message=f"would {o['message']}")
    if fmt == "json":
        emit_json(outcomes)
    else:
        result_tone = tones({"done": "good", "refused": "bad", "error": "bad", "dry-run": "warn"})
        echo_table([ident("ACCOUNT"), ident("REGION"), Column("RESULT", tone=result_tone), Column("DETAIL", wrap=True)],
                   [[o["account"], o["region"], o["result"], o["message"]] for o in outcomes])
        if not do_apply:
            click.echo("dry run: nothing was changed (add --apply).")
    _report_problems(scanned.result)
    if any(o["result"] == "error" for o in outcomes):
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if any(o["result"] == "refused" for o in outcomes) else EXIT_OK)


_DEFAULT_CHANGE_OPTIONS = (
    click.option("--apply", "do_apply", is_flag=True, help="Make the change (default: dry run)."),
    click.option("--journal", type=click.Path(dir_okay=False, path_type=Path), help="Journal file (JSON lines)."),
)


@default_ca.command("set")
@click.argument("ca_id")
@aws_options
@_DEFAULT_CHANGE_OPTIONS[0]
@_DEFAULT_CHANGE_OPTIONS[1]
@common_options(("table", "json"))
def default_set(ca_id: str, aws_args: AwsArgs, do_apply: bool, journal: Path | None, fmt: str) -> None:
    """Set the account's default CA for new launches; refused where an engine in use refuses it."""
    try:
        catalog.require_target(ca_id)
    except catalog.CatalogError as exc:
        raise click.UsageError(str(exc)) from None
    _change_default(aws_args, ca_id, do_apply, journal, fmt)


@default_ca.command("remove")
@aws_options
@_DEFAULT_CHANGE_OPTIONS[0]
@_DEFAULT_CHANGE_OPTIONS[1]
@common_options(("table", "json"))
def default_remove(aws_args: AwsArgs, do_apply: bool, journal: Path | None, fmt: str) -> None:
    """Remove the account's override: new launches get AWS's default again."""
    _change_default(aws_args, None, do_apply, journal, fmt)
