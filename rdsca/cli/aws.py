"""The live-account commands: ``audit``, ``rotate`` and ``default-ca`` (thin shells over ``rdsca.aws``)."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from rdsca import catalog, clock
from rdsca.cli.common import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, Failure, RegionListType, TagType, common_options
from rdsca.output import emit_json, render_table


def aws_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--profile", metavar="NAME", help="AWS profile (default: the standard credential chain).")
    @click.option(
        "--regions", type=RegionListType(), help="Comma-separated regions (default: every region enabled)."
    )
    @click.option(
        "--workers", type=click.IntRange(1, 32), default=8, show_default=True, help="Regions scanned at once."
    )
    @click.option("--demo", is_flag=True, help="Run against a built-in fake account (no AWS account needed).")
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def _account(demo: bool) -> Iterator[list[str] | None]:
    """With --demo: a fake account on loopback, seeded with a small fleet; yields its regions."""
    if not demo:
        yield None
        return
    if importlib.util.find_spec("moto") is None:
        raise Failure("the demo needs moto: pip install 'rdsca[demo]'")
    from rdsca.aws.fake import DEMO_REGIONS, FakeAccount, seed_demo

    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    account = FakeAccount(clock.today()).start()
    try:
        os.environ.update(AWS_ENDPOINT_URL=account.endpoint, AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo")
        seed_demo(account)
        click.echo(f"demo: a fake account on {account.endpoint} (nothing here reaches AWS)", err=True)
        yield list(DEMO_REGIONS)
    finally:
        account.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _scan(profile: str | None, regions: list[str] | None, workers: int, demo_regions: list[str] | None) -> Any:
    from rdsca.aws import audit, scan
    from rdsca.aws.session import Aws, AwsError

    aws = Aws(profile)
    try:
        chosen = regions or demo_regions or scan.enabled_regions(aws)
        scans = scan.scan(aws, chosen, workers, progress=lambda m: click.echo(m, err=True))
    except AwsError as exc:
        raise Failure(str(exc)) from None
    return aws, audit.audit(scans, clock.today())


def _report_problems(result: Any) -> None:
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for error in result.errors:
        click.echo(f"error: {error}", err=True)


@click.command()
@aws_options
@click.option(
    "--expiring-days",
    type=click.IntRange(0),
    default=180,
    show_default=True,
    help="Report a CA or server certificate that expires within this many days.",
)
@common_options(("table", "json", "csv", "sarif"))
def audit(
    profile: str | None, regions: list[str] | None, workers: int, demo: bool, expiring_days: int, fmt: str
) -> None:
    """Find databases on retired, unknown, refused or expiring CAs, across regions (read-only).

    Exit 0 when there is no finding, 1 when there is one, 2 when some region's databases could not be listed.
    """
    from rdsca.aws import audit as audit_mod

    with _account(demo) as demo_regions:
        _, result = _scan(profile, regions, workers, demo_regions)
    if expiring_days != audit_mod.DEFAULT_EXPIRING_DAYS:
        result = audit_mod.audit(result.scans, result.today, expiring_days)
    if fmt == "json":
        emit_json(audit_mod.to_json(result))
    elif fmt == "csv":
        click.echo(audit_mod.to_csv(result), nl=False)
    elif fmt == "sarif":
        emit_json(audit_mod.to_sarif(result))
    else:
        click.echo(render_table(audit_mod.TABLE_HEADERS, audit_mod.table_rows(result)))
        for scan in result.scans:
            if scan.error is None:
                override = f", account override {scan.override}" if scan.override else ""
                click.echo(f"{scan.region}: new databases get {scan.default_ca or 'unknown (not listed)'}{override}")
        for row in result.findings:
            for finding in row.findings:
                click.echo(f"finding: {row.db.region} {row.db.identifier}: {finding}")
    _report_problems(result)
    if result.errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if result.findings else EXIT_OK)


ACK = "--i-know-clients-do-not-verify-tls"


@dataclass(frozen=True)
class RotateOptions:
    """``rdsca rotate``'s options, checked together."""

    profile: str | None
    regions: list[str] | None
    workers: int
    demo: bool
    target: str
    fallback_ca: str | None
    apply_immediately: bool
    no_restart: bool
    ack_no_tls: bool
    pending_maintenance: bool
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
        if self.resume and self.journal and self.resume != self.journal:
            raise click.UsageError("--resume appends to the journal it reads; do not also give --journal")


@click.command()
@aws_options
@click.option("--ca", "target", default=catalog.DEFAULT_TARGET, show_default=True, help="The CA to move to.")
@click.option("--fallback-ca", help="The CA for engines that refuse --ca (without it they are left out).")
@click.option(
    "--apply-immediately", is_flag=True, help="Apply now (restarts where needed) instead of in the maintenance window."
)
@click.option("--no-restart", is_flag=True, help=f"Set CertificateRotationRestart=false; needs {ACK}.")
@click.option(
    ACK,
    "ack_no_tls",
    is_flag=True,
    help="Acknowledge that clients do not verify TLS (AWS's condition for --no-restart).",
)
@click.option("--pending-maintenance", is_flag=True, help="Also apply pending CA maintenance actions.")
@click.option("--engine", "engines", multiple=True, metavar="GLOB", help="Only these engines (repeatable).")
@click.option("--identifier", "identifiers", multiple=True, metavar="GLOB", help="Only these identifiers (repeatable).")
@click.option("--tag", "tags", multiple=True, type=TagType(), help="Only databases with this tag (repeatable).")
@click.option("--apply", "do_apply", is_flag=True, help="Make the changes (default: dry run).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--journal", type=click.Path(dir_okay=False, path_type=Path), help="Journal file (JSON lines).")
@click.option(
    "--resume",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Continue an interrupted run from its journal, skipping accepted changes.",
)
@click.option(
    "--rate", type=click.FloatRange(0.1, 100), default=5.0, show_default=True, help="Modify calls per second."
)
@common_options(("table", "json"))
def rotate(**options: Any) -> None:
    """Move databases off retired, unknown, refused or expiring CAs. A dry run unless --apply.

    After --apply: exit 0 when every planned change was accepted, 1 when some were not, 2 on errors.
    """
    from rdsca.aws import rotate as rot

    opts = RotateOptions(**options)
    opts.check()
    filters = rot.Filters(opts.engines, opts.identifiers, opts.tags)
    with _account(opts.demo) as demo_regions:
        aws, result = _scan(opts.profile, opts.regions, opts.workers, demo_regions)
        plan = rot.make_plan(
            result, opts.target, opts.fallback_ca, opts.apply_immediately, opts.no_restart, filters,
            opts.pending_maintenance,
        )
        _show_plan(plan, result, opts.fmt)
        if not opts.do_apply:
            if opts.fmt == "json":
                emit_json(rot.plan_json(plan, applied=False))
            else:
                click.echo(f"dry run: {len(plan.changes)} change(s) planned; nothing was changed (add --apply).")
            sys.exit(EXIT_OK)
        if not plan.changes:
            click.echo("nothing to change.", err=True)
            sys.exit(EXIT_OK)
        _confirm(len(plan.changes), opts.yes)
        journal, outcomes = _apply(aws, plan, opts)
    refused = [o for o in outcomes if o.result == "refused"]
    if opts.fmt == "json":
        emit_json(rot.outcomes_json(plan, journal, outcomes))
    for o in refused:
        click.echo(f"not accepted: {o.change.region} {o.change.identifier}: {o.message}", err=True)
    sys.exit(EXIT_FINDINGS if refused else EXIT_OK)


def _show_plan(plan: Any, result: Any, fmt: str) -> None:
    """The plan as a table (JSON is printed by the caller, once); a scan with errors stops here."""
    from rdsca.aws import rotate as rot

    if fmt == "table":
        rows = [
            [c.region, c.identifier, c.kind, c.from_ca or "-", c.to_ca or "-", c.action, c.timing, c.restart]
            for c in plan.changes
        ]
        click.echo(render_table(["REGION", "DATABASE", "KIND", "FROM", "TO", "ACTION", "WHEN", "RESTART"], rows))
        for row, why in plan.left_out:
            click.echo(f"left out: {row.db.region} {row.db.identifier}: {why}")
    _report_problems(result)
    if result.errors:
        if fmt == "json":
            emit_json(rot.plan_json(plan, applied=False, errors=result.errors))
        raise Failure("some regions could not be listed; nothing was changed: " + "; ".join(result.errors))


def _confirm(count: int, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise Failure("--apply asks for confirmation; with no terminal, add --yes")
    if not click.confirm(f"Apply {count} change(s)?", err=True):
        raise Failure("not confirmed; nothing was changed")


def _apply(aws: Any, plan: Any, opts: RotateOptions) -> tuple[Path, list[Any]]:
    from rdsca.aws import rotate as rot

    journal = opts.resume or opts.journal or rot.default_journal()
    skip = rot.finished(opts.resume) if opts.resume else set()
    click.echo(f"journal: {journal}", err=True)

    def show(outcome: rot.Outcome) -> None:
        c = outcome.change
        detail = f" ({outcome.message})" if outcome.message else ""
        click.echo(f"{outcome.result}: {c.region} {c.identifier} {c.action} -> {c.to_ca}{detail}", err=True)

    try:
        return journal, rot.apply(aws, plan.changes, journal, opts.rate, skip, show)
    except KeyboardInterrupt:
        raise Failure(
            f"interrupted; every request made so far is in {journal}: continue with --resume {journal}"
        ) from None


@click.group("default-ca")
def default_ca() -> None:
    """Show, set or remove the account's default CA for new launches, per region (ModifyCertificates)."""


@default_ca.command("show")
@aws_options
@common_options(("table", "json"))
def default_show(profile: str | None, regions: list[str] | None, workers: int, demo: bool, fmt: str) -> None:
    """The default CA for new launches and any account override, per region."""
    with _account(demo) as demo_regions:
        _, result = _scan(profile, regions, workers, demo_regions)
    data = [
        {"region": s.region, "default_ca": s.default_ca, "override": s.override, "error": s.error} for s in result.scans
    ]
    if fmt == "json":
        emit_json(data)
    else:
        click.echo(
            render_table(
                ["REGION", "DEFAULT FOR NEW LAUNCHES", "ACCOUNT OVERRIDE"],
                [[d["region"], d["default_ca"] or "unknown", d["override"] or "-"] for d in data],
            )
        )
    _report_problems(result)
    sys.exit(EXIT_ERROR if result.errors else EXIT_OK)


def _change_default(
    profile: str | None,
    regions: list[str] | None,
    workers: int,
    demo: bool,
    ca_id: str | None,
    do_apply: bool,
    fmt: str,
) -> None:
    from rdsca.aws.defaults import change

    with _account(demo) as demo_regions:
        aws, result = _scan(profile, regions, workers, demo_regions)
        outcomes = change(aws, result, ca_id, do_apply)
    if fmt == "json":
        emit_json(outcomes)
    else:
        click.echo(
            render_table(["REGION", "RESULT", "DETAIL"], [[o["region"], o["result"], o["message"]] for o in outcomes])
        )
        if not do_apply:
            click.echo("dry run: nothing was changed (add --apply).")
    _report_problems(result)
    if any(o["result"] == "error" for o in outcomes):
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if any(o["result"] == "refused" for o in outcomes) else EXIT_OK)


@default_ca.command("set")
@click.argument("ca_id")
@aws_options
@click.option("--apply", "do_apply", is_flag=True, help="Make the change (default: dry run).")
@common_options(("table", "json"))
def default_set(
    ca_id: str, profile: str | None, regions: list[str] | None, workers: int, demo: bool, do_apply: bool, fmt: str
) -> None:
    """Set the account's default CA for new launches; refused where an engine in use refuses it."""
    try:
        catalog.require_target(ca_id)
    except catalog.CatalogError as exc:
        raise click.UsageError(str(exc)) from None
    _change_default(profile, regions, workers, demo, ca_id, do_apply, fmt)


@default_ca.command("remove")
@aws_options
@click.option("--apply", "do_apply", is_flag=True, help="Make the change (default: dry run).")
@common_options(("table", "json"))
def default_remove(
    profile: str | None, regions: list[str] | None, workers: int, demo: bool, do_apply: bool, fmt: str
) -> None:
    """Remove the account's override: new launches get AWS's default again."""
    _change_default(profile, regions, workers, demo, None, do_apply, fmt)
