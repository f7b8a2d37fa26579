"""``rdsca check``: a Pulumi program (and a policy pack) run offline, or a Terraform configuration or plan read
statically; a thin shell over ``rdsca.runner`` and ``rdsca.terraform``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import click

from rdsca import catalog, terminal
from rdsca.cli import ci
from rdsca.cli.common import EXIT_FINDINGS, EXIT_OK, Failure, SecondsType, common_options
from rdsca.output import printable

KINDS = ("pulumi", "terraform", "plan")
OUTPUT_FORMATS = ("table", "json", "sarif", "junit", "pulumi", "html")
#: Where ``CheckCommand`` leaves ``--var``/``--var-file`` in command-line order: ``[("var" | "file", text), ...]``.
ASSIGNMENTS = "rdsca.terraform.assignments"
_ASSIGNMENT_KIND = {"tf_vars": "var", "var_files": "file"}


class CheckCommand(click.Command):
    """Records ``--var`` and ``--var-file`` in command-line order. Terraform applies them in that order (a later one
    wins), but click hands each repeated option its values separately, losing how the two interleave."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        opts, _rest, order = self.make_parser(ctx).parse_args(args=list(args))
        values = {name: iter(opts.get(name) or ()) for name in _ASSIGNMENT_KIND}
        ctx.meta[ASSIGNMENTS] = [
            (_ASSIGNMENT_KIND[param.name], next(values[param.name]))
            for param in order
            if param.name in _ASSIGNMENT_KIND
        ]
        return super().parse_args(ctx, args)


def _take(cls: Any, options: dict[str, Any], given: dict[str, Any]) -> Any:
    """An options dataclass from the command's parameters of the same names (removed from ``options``)."""
    names = [f.name for f in fields(cls) if f.name not in given]
    return cls(**given, **{name: options.pop(name) for name in names})


@dataclass(frozen=True)
class PulumiOptions:
    stack: str | None
    timeout: float
    policy_packs: tuple[Path, ...]
    policy_pack_configs: tuple[Path, ...]
    remediate: bool
    state_file: Path | None
    invoke_answers: Path | None = None
    show_policy_remediations: bool = False

    @classmethod
    def take(cls, options: dict[str, Any], **given: Any) -> PulumiOptions:
        return _take(cls, options, given)  # type: ignore[no-any-return]

    def given(self) -> list[str]:
        """The Pulumi-only options given (``--policy-pack-config`` serves both)."""
        flags = (("--stack", self.stack), ("--policy-pack", self.policy_packs), ("--remediate", self.remediate))
        more = (
            ("--state", self.state_file),
            ("--invoke-answers", self.invoke_answers),
            ("--show-policy-remediations", self.show_policy_remediations),
        )
        return [name for name, value in (*flags, *more) if value]

    def check(self, fmt: str) -> None:
        """Options that only mean something with ``--policy-pack``, or with ``--format pulumi``."""
        if not self.policy_packs:
            given = [
                name
                for name, value in (
                    ("--policy-pack-config", self.policy_pack_configs),
                    ("--remediate", self.remediate),
                    ("--state", self.state_file),
                    # The Pulumi CLI's policy section exists only when a pack ran.
                    ("--format pulumi", fmt == "pulumi"),
                )
                if value
            ]
            if given:
                raise click.UsageError(f"{', '.join(given)} needs --policy-pack")
        if self.show_policy_remediations and fmt != "pulumi":
            raise click.UsageError("--show-policy-remediations needs --format pulumi")


@dataclass(frozen=True)
class TerraformOptions:
    assignments: list[tuple[str, str]]
    fix: bool = False
    diff: bool = False
    target_ca: str | None = None
    fallback_ca: str | None = None
    no_apply_immediately: bool = False
    restart: str | None = None

    @classmethod
    def take(cls, options: dict[str, Any], **given: Any) -> TerraformOptions:
        return _take(cls, options, given)  # type: ignore[no-any-return]

    def given(self) -> list[str]:
        flags = [
            ("--var/--var-file", bool(self.assignments)),
            ("--fix", self.fix),
            ("--diff", self.diff),
            ("--ca", self.target_ca is not None),
            ("--fallback-ca", self.fallback_ca is not None),
            ("--no-apply-immediately", self.no_apply_immediately),
            ("--restart", self.restart is not None),
        ]
        return [name for name, value in flags if value]

    def check(self, kind: str) -> None:
        """Options that do not fit together, and target CAs that are not current (judged against ``--as-of``)."""
        fixing = self.fix or self.diff
        if kind == "plan" and (fixing or self.assignments):
            raise click.UsageError("--fix, --diff, --var and --var-file apply to a Terraform directory, not to a plan")
        if not fixing and (self.target_ca or self.fallback_ca or self.no_apply_immediately or self.restart):
            raise click.UsageError("--ca, --fallback-ca, --restart and --no-apply-immediately need --fix or --diff")
        if self.no_apply_immediately and self.restart == "allow":
            raise click.UsageError("--no-apply-immediately contradicts --restart allow")
        for option, ca_id in (("--ca", self.target_ca), ("--fallback-ca", self.fallback_ca)):
            if ca_id is not None:
                try:
                    catalog.require_target(ca_id)
                except catalog.CatalogError as exc:
                    raise click.BadParameter(str(exc), param_hint=option) from None


def _options(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Several click options as one decorator, in the order given (as --help lists them)."""

    def apply(function: Any) -> Any:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


#: The options of a Pulumi check; their names are ``PulumiOptions``' fields.
pulumi_options = _options(
    click.option("--stack", "-s", metavar="NAME", help="Pulumi: the stack whose Pulumi.<NAME>.yaml config to use."),
    click.option(
        "--timeout",
        type=SecondsType(),
        default=600.0,
        show_default=True,
        help="Pulumi: seconds before the whole run (the program and the policy packs) is stopped.",
    ),
    click.option(
        "--policy-pack",
        "policy_packs",
        metavar="DIR",
        multiple=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Pulumi: run this CrossGuard policy pack (e.g. policies) over the program, as pulumi preview "
        "--policy-pack does; repeatable.",
    ),
    click.option(
        "--remediate",
        is_flag=True,
        help='Pulumi: run the policies at level remediate (the policy config {"all": "remediate"} under any '
        "--policy-pack-config), and show what the remediations change.",
    ),
    click.option(
        "--state",
        "state_file",
        metavar="FILE",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Pulumi: a `pulumi stack export` file: the stack policy sees the deployed outputs of existing resources.",
    ),
    click.option(
        "--invoke-answers",
        metavar="FILE",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Pulumi: YAML or JSON answers to the program's data-source calls (token: result, or a list of cases "
        "matched on arguments); other calls get placeholder values.",
    ),
    click.option(
        "--show-policy-remediations",
        is_flag=True,
        help="Pulumi, with --format pulumi: list each remediation, as pulumi preview --show-policy-remediations does.",
    ),
)
#: The options of a Terraform check and fix; ``--var``/``--var-file`` reach ``TerraformOptions`` through
#: ``CheckCommand`` (in command-line order), the rest by field name.
terraform_options = _options(
    click.option(
        "--var", "tf_vars", metavar="NAME=VALUE", multiple=True, help="Terraform: set a root module variable, as -var."
    ),
    click.option(
        "--var-file",
        "var_files",
        metavar="FILE",
        multiple=True,
        help="Terraform: read variable values from a .tfvars or .tfvars.json file, as -var-file (applied with --var in "
        "command-line order).",
    ),
    click.option(
        "--fix", is_flag=True, help="Terraform: rewrite the .tf files so that every flagged database gets a current CA."
    ),
    click.option(
        "--diff", is_flag=True, help="Terraform: print the unified diff --fix would make, and write nothing."
    ),
    click.option(
        "--ca",
        "target_ca",
        metavar="CA",
        help="Terraform --fix: the CA to write (default: the policy config's targetCa).",
    ),
    click.option("--fallback-ca", metavar="CA", help="Terraform --fix: the CA for engines that refuse --ca."),
    click.option(
        "--no-apply-immediately",
        is_flag=True,
        help="Terraform --fix: do not add apply_immediately = true; the change waits for the maintenance window.",
    ),
    click.option(
        "--restart",
        type=click.Choice(catalog.RESTART_POLICIES),
        help="Terraform --fix: when changes apply (default auto, AWS's guide: a database on a retired or expired CA "
        "now, one that rotates without a restart now, others in the maintenance window; allow: all now; avoid: "
        "only those that do not restart now).",
    ),
)


@click.command(cls=CheckCommand)
@click.argument("path", metavar="PATH", type=click.Path(path_type=Path), default=".")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    help="What PATH holds: a Pulumi project, a Terraform configuration directory or a Terraform plan in JSON "
    "(terraform show -json). Detected when not given.",
)
@click.option(
    "--policy-pack-config",
    "policy_pack_configs",
    metavar="FILE",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy config JSON, as pulumi preview --policy-pack-config (levels and settings per policy): one per "
    "--policy-pack, in the same order; Terraform reads one the same way.",
)
@ci.outputs_option(OUTPUT_FORMATS)
@ci.findings_options
@pulumi_options
@terraform_options
@common_options(("table", "json", "sarif", "pulumi"))
def check(path: Path, kind: str | None, policy_pack_configs: tuple[Path, ...], fmt: str, **options: Any) -> None:
    """Check a Pulumi program, a Terraform configuration or a Terraform plan offline.

    A Pulumi Python program runs against an offline engine that applies transforms in the engine's order and
    leaves computed outputs unknown, as a preview does; with --policy-pack, the pack runs as the CLI runs it and a
    mandatory violation exits 1. A Terraform directory (*.tf, *.tf.json) is read statically, with its modules and
    variables, and a plan from terraform show -json is read as planned; rdsca's policies judge both in process and a
    mandatory violation exits 1. No Pulumi or Terraform CLI and no cloud credentials are used.
    """
    pulumi = PulumiOptions.take(options, policy_pack_configs=policy_pack_configs)
    # --var and --var-file as click groups them are dropped: CheckCommand kept them in command-line order.
    for name in ("tf_vars", "var_files"):
        options.pop(name)
    terraform = TerraformOptions.take(options, assignments=click.get_current_context().meta.get(ASSIGNMENTS, []))
    assert not options, f"options that no option group takes: {sorted(options)}"
    kind = kind or _detect_kind(path)
    if kind == "pulumi":
        if terraform.given():
            raise click.UsageError(f"{', '.join(terraform.given())}: only for Terraform (--kind terraform|plan)")
        _check_pulumi(path, pulumi, fmt)
        return
    if pulumi.given() or fmt == "pulumi":
        given = pulumi.given() + (["--format pulumi"] if fmt == "pulumi" else [])
        raise click.UsageError(f"{', '.join(given)}: only for Pulumi programs, not with --kind {kind}")
    terraform.check(kind)
    if len(policy_pack_configs) > 1:
        raise click.UsageError("--policy-pack-config: a Terraform check takes one policy config")
    _check_terraform(path, kind, policy_pack_configs[0] if policy_pack_configs else None, terraform, fmt)


def _detect_kind(path: Path) -> str:
    from rdsca.terraform.check import detect_kind
    from rdsca.terraform.model import ConfigError

    try:
        return detect_kind(path)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


def _check_pulumi(program_dir: Path, options: PulumiOptions, fmt: str) -> None:
    from rdsca.interrupts import Terminated
    from rdsca.runner.check import PolicyError, PolicyOptions, ProgramError, Watch, check_program
    from rdsca.runner.report import print_check

    if program_dir.is_file():
        raise click.UsageError(f"{program_dir} is a file: a Pulumi program is a directory (for a plan, --kind plan)")
    options.check(fmt)
    policies = None
    if options.policy_packs:
        policies = PolicyOptions(
            options.policy_packs, options.policy_pack_configs, options.remediate, options.state_file
        )
    try:
        with terminal.progress() as steps:
            # A terminal's progress line: registrations and policy calls as the host reports them, and the program's
            # own stderr lines printed above it (escaped) instead of breaking into it.
            watch = Watch(terminal.counted(steps.update), lambda line: steps.note(printable(line)))
            report = check_program(program_dir, options.stack, options.timeout, policies, options.invoke_answers,
                                   watch if steps.live else None)
    except (ProgramError, PolicyError) as exc:
        if exc.report is not None:
            # What the resources registered before the failure gave (stderr keeps only the error); exit 2.
            paths = [str(p) for p in options.policy_packs]
            print_check(exc.report, fmt, paths, options.show_policy_remediations, echo_warnings=False)
        # A program's error is its own text: a Pulumi error or a traceback keeps its lines and indentation.
        raise Failure(str(exc), hint=exc.hint, lines=isinstance(exc, ProgramError)) from None
    except KeyboardInterrupt:
        raise Failure("interrupted; the program and the policy packs were stopped") from None
    except Terminated as exc:
        raise Failure(f"stopped by {exc}; the program and the policy packs were stopped") from None
    _process_pulumi(report)
    print_check(report, fmt, [str(p) for p in options.policy_packs], options.show_policy_remediations)

    def render_pulumi(out_fmt: str) -> Any:
        if out_fmt == "junit":
            from rdsca import junit

            diagnostics = report.policy.diagnostics if report.policy is not None else report.finding_dicts()
            return junit.document(f"rdsca check {program_dir}", diagnostics, [d.name for d in report.databases],
                                  report.suppressed)
        print_check(report, out_fmt, [str(p) for p in options.policy_packs], options.show_policy_remediations,
                    echo_warnings=False)
        return None

    ci.write_outputs(render_pulumi)
    sys.exit(EXIT_FINDINGS if report.blocked_after_processing else EXIT_OK)


def _process_pulumi(report: Any) -> None:
    """Inline suppressions at each resource's source position, the configuration file, the baseline and the rule
    selection, over the pack's diagnostics (or, without a pack, over the databases' findings)."""
    from rdsca import rules
    from rdsca.runner import suppress

    if report.policy is not None:
        ci.check_names({*rules.BY_NAME, *(p["name"] for p in report.policy.policies)})
        found = report.policy.diagnostics
    else:
        ci.check_names(rules.BY_NAME)
        found = report.finding_dicts()
    inline, warnings = suppress.by_urn(report.sources)
    processed = ci.process(found, inline=lambda d: inline.get(d["urn"], []))
    warnings += ci.core.unused(s for found in inline.values() for s in found)
    report.set_aside(processed)
    report.warnings += warnings + processed.warnings
    # Without a pack, a database's finding fails the run; with one, a mandatory violation.
    report.blocked_after_processing = ci.fails(processed, report.blocked if report.policy else bool(report.findings))


def _check_terraform(path: Path, kind: str, config_file: Path | None, options: TerraformOptions, fmt: str) -> None:
    from rdsca import gc_policy

    # Every block and attribute lives until the report is written: CPython's own rule spent 0.27 s of a 10,000
    # resource check in full collections that freed nothing (rdsca.gc_policy).
    with gc_policy.amortised_collections():
        _run_terraform_check(path, kind, config_file, options, fmt)


def _run_terraform_check(
    path: Path, kind: str, config_file: Path | None, options: TerraformOptions, fmt: str
) -> None:
    from rdsca import rules
    from rdsca.terraform.check import check as check_terraform
    from rdsca.terraform.report import print_report

    ci.check_names(rules.BY_NAME)
    with terminal.progress() as steps:
        parsed = [0]

        def on_file(file: Path) -> None:
            parsed[0] += 1
            steps.update(f"parsed {parsed[0]} file(s): {file}")

        report = check_terraform(path, kind, options.assignments, config_file,
                                 allow_suppress_refused=ci.allow_refused(), on_file=on_file if steps.live else None)
    fixing = options.fix or options.diff
    processed = _process_terraform(report, options, final=not (options.fix and not options.diff))
    # --diff wins over --fix, always: it shows what would change and writes nothing (as ruff --fix --diff).
    writes = options.fix and not options.diff
    if fixing:
        from rdsca.terraform.fix import FixOptions, fix_report  # only when fixing: 7 ms of every check's start-up

        fix_options = FixOptions(
            options.target_ca, options.fallback_ca, not options.no_apply_immediately, options.restart or "auto"
        )
        report, diff = fix_report(
            report, fix_options, write=writes, assignments=options.assignments, config_file=config_file
        )
        if writes:  # the re-check after the fix: what remains
            processed = _process_terraform(report, options, final=True)
    if options.diff:
        # As ruff --diff: the diff on stdout, nothing written; exit 1 when something would change or stays to do.
        click.echo(diff, nl=False)
        for entry in report.fixes:
            if entry["action"] == "by-hand":
                click.echo(f"{entry['address']}: {entry['message']}", err=True)
        sys.exit(EXIT_FINDINGS if report.fixes or report.blocked else EXIT_OK)
    print_report(report, fmt, processed.hidden)

    def render_terraform(out_fmt: str) -> Any:
        if out_fmt == "junit":
            from rdsca import junit

            checked = [r.address for r in report.resources if r.address not in
                       {d["address"] for d in report.outcome.diagnostics}]
            return junit.document(f"rdsca check {path}", report.outcome.diagnostics, checked,
                                  report.outcome.suppressed)
        if out_fmt == "pulumi":
            raise click.UsageError("--output pulumi=...: only for Pulumi programs")
        print_report(report, out_fmt, processed.hidden)
        return None

    ci.write_outputs(render_terraform)
    sys.exit(EXIT_FINDINGS if ci.fails(processed, report.blocked) else EXIT_OK)


def _process_terraform(report: Any, options: TerraformOptions, final: bool) -> Any:
    """The configuration file's suppressions, the baseline and the rule selection over the findings the inline
    suppressions left; the report then holds what remains."""
    outcome = report.outcome
    processed = ci.process(outcome.diagnostics, outcome.suppressed, final=final)
    outcome.diagnostics, outcome.suppressed = processed.findings, processed.suppressed
    report.warnings += processed.warnings
    return processed
