"""The ``rdsca`` command line: one grammar for every command.

Every command takes ``--format`` (``table`` default, ``json``) and ``--as-of DATE``. Exit codes: 0 clean or done,
1 findings remain, 2 usage errors or failures that stopped the job.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from rdsca import __version__, clock

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class Failure(click.ClickException):
    """An error that stops the job: one message on stderr, exit code 2, no traceback."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(f"rdsca: error: {self.format_message()}", err=True)


def _set_as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            clock.parse_date(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        # The environment variable carries "today" to subprocesses (the program, a policy pack).
        os.environ[clock.AS_OF_ENV] = value
    else:
        try:
            clock.today()
        except ValueError as exc:
            raise click.BadParameter(f"{clock.AS_OF_ENV}: {exc}", param_hint=clock.AS_OF_ENV) from None
    return value


def common_options(formats: tuple[str, ...] = ("table", "json")) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @click.option(
            "--format", "fmt", type=click.Choice(formats), default="table", show_default=True, help="Output format."
        )
        @click.option(
            "--as-of",
            metavar="DATE",
            callback=_set_as_of,
            expose_value=False,
            is_eager=True,
            help=f"Judge dates as of DATE (YYYY-MM-DD) instead of today; sets {clock.AS_OF_ENV} for subprocesses.",
        )
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return wrapper

    return decorate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rdsca")
def cli() -> None:
    """Get Amazon RDS, Aurora and DocumentDB off retired CA certificates, and keep them off."""


def _record_variable(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    # Terraform applies -var and -var-file in command-line order; click processes options in that order too.
    kind = "file" if param.name == "var_files" else "var"
    ctx.meta.setdefault("rdsca.tf_assignments", []).extend((kind, v) for v in value)
    return value


@cli.command()
@click.argument("program_dir", metavar="PATH", type=click.Path(path_type=Path), default=".")
@click.option(
    "--kind",
    type=click.Choice(("pulumi", "terraform", "plan")),
    help="What PATH holds: a Pulumi project, a Terraform configuration directory or a Terraform plan in JSON "
    "(terraform show -json). Detected when not given.",
)
@click.option(
    "--var",
    "tf_vars",
    metavar="NAME=VALUE",
    multiple=True,
    callback=_record_variable,
    help="Terraform: set a root module variable, as terraform plan -var.",
)
@click.option(
    "--var-file",
    "var_files",
    metavar="FILE",
    multiple=True,
    callback=_record_variable,
    help="Terraform: read variable values from a .tfvars or .tfvars.json file, as terraform plan -var-file.",
)
@click.option(
    "--fix", is_flag=True, help="Terraform: rewrite the .tf files so that every flagged database gets a current CA."
)
@click.option(
    "--diff", "show_diff", is_flag=True, help="Terraform: print the unified diff --fix would make, and write nothing."
)
@click.option(
    "--ca", "target_ca", metavar="CA", help="Terraform --fix: the CA to write (default: the policy config's targetCa)."
)
@click.option("--fallback-ca", metavar="CA", help="Terraform --fix: the CA for engines that refuse --ca.")
@click.option(
    "--no-apply-immediately",
    is_flag=True,
    help="Terraform --fix: do not add apply_immediately = true; the change waits for the maintenance window.",
)
@click.option("--stack", "-s", metavar="NAME", help="Stack whose Pulumi.<NAME>.yaml config to use.")
@click.option("--timeout", type=float, default=600.0, show_default=True, help="Seconds before the program is stopped.")
@click.option(
    "--policy-pack",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run this CrossGuard policy pack (e.g. policies) over the program, as pulumi preview --policy-pack does.",
)
@click.option(
    "--policy-pack-config",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy config JSON, as pulumi preview --policy-pack-config (levels and settings per policy).",
)
@click.option(
    "--remediate",
    is_flag=True,
    help="Raise every enabled policy that has a remediation to level remediate, and show what it changes.",
)
@click.option(
    "--state",
    "state_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A `pulumi stack export` file: the stack policy sees the deployed outputs of existing resources.",
)
@common_options(("table", "json", "sarif"))
def check(
    program_dir: Path,
    stack: str | None,
    timeout: float,
    policy_pack: Path | None,
    policy_pack_config: Path | None,
    remediate: bool,
    state_file: Path | None,
    fmt: str,
    kind: str | None,
    tf_vars: tuple[str, ...],
    var_files: tuple[str, ...],
    fix: bool,
    show_diff: bool,
    target_ca: str | None,
    fallback_ca: str | None,
    no_apply_immediately: bool,
) -> None:
    """Check a Pulumi program, a Terraform configuration or a Terraform plan offline.

    A Pulumi Python program runs against an offline engine that applies transforms in the engine's order and
    leaves computed outputs unknown, as a preview does; with --policy-pack, the pack runs as the CLI runs it and a
    mandatory violation exits 1. A Terraform directory (*.tf, *.tf.json) is read statically, with its modules and
    variables, and a plan from terraform show -json is read as planned; both are judged by the pack's policies in
    process. No Pulumi or Terraform CLI and no cloud credentials are used.
    """
    tf_options = TerraformOptions(
        click.get_current_context().meta.get("rdsca.tf_assignments", []),
        fix,
        show_diff,
        target_ca,
        fallback_ca,
        no_apply_immediately,
    )
    pulumi_options = (
        ("--stack", stack),
        ("--policy-pack", policy_pack),
        ("--remediate", remediate),
        ("--state", state_file),
    )
    if _dispatch(program_dir, kind, pulumi_options, tf_options, policy_pack_config, fmt):
        return
    from rdsca.report import print_check
    from rdsca.runner import PolicyOptions, ProgramError, ProjectError, check_program
    from rdsca.runner.analyzer import PolicyError

    if policy_pack is None:
        given = [
            name
            for name, value in (
                ("--policy-pack-config", policy_pack_config),
                ("--remediate", remediate),
                ("--state", state_file),
            )
            if value
        ]
        if given or fmt == "sarif":
            what = ", ".join(given) or "--format sarif"
            raise click.UsageError(f"{what} needs --policy-pack")
    options = PolicyOptions(policy_pack, policy_pack_config, remediate, state_file) if policy_pack else None
    try:
        report = check_program(program_dir, stack, timeout, options)
    except ProjectError as exc:
        raise Failure(str(exc)) from None
    except ProgramError as exc:
        raise Failure(f"the program failed: {exc}") from None
    except PolicyError as exc:
        raise Failure(str(exc)) from None
    except KeyboardInterrupt:
        raise Failure("interrupted; the program and the policy pack were stopped") from None
    print_check(report, fmt)
    if report.policy is not None:
        sys.exit(EXIT_FINDINGS if report.blocked else EXIT_OK)
    sys.exit(EXIT_FINDINGS if report.findings else EXIT_OK)


@dataclass(frozen=True)
class TerraformOptions:
    assignments: list[tuple[str, str]]
    fix: bool = False
    diff: bool = False
    target_ca: str | None = None
    fallback_ca: str | None = None
    no_apply_immediately: bool = False

    def given(self) -> list[str]:
        flags = [
            ("--var/--var-file", bool(self.assignments)),
            ("--fix", self.fix),
            ("--diff", self.diff),
            ("--ca", self.target_ca is not None),
            ("--fallback-ca", self.fallback_ca is not None),
            ("--no-apply-immediately", self.no_apply_immediately),
        ]
        return [name for name, value in flags if value]


def _dispatch(
    path: Path,
    kind: str | None,
    pulumi_options: tuple[tuple[str, Any], ...],
    options: TerraformOptions,
    config_file: Path | None,
    fmt: str,
) -> bool:
    """Run the Terraform check when PATH holds Terraform (True); check the options fit the kind."""
    from rdsca.terraform.check import detect_kind
    from rdsca.terraform.model import ConfigError

    try:
        kind = kind or detect_kind(path)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if kind != "pulumi":
        pulumi_only = [name for name, value in pulumi_options if value]
        if pulumi_only:
            raise click.UsageError(f"{', '.join(pulumi_only)}: only for Pulumi programs, not with --kind {kind}")
        _check_terraform(path, kind, config_file, options, fmt)
        return True
    if options.given():
        raise click.UsageError(f"{', '.join(options.given())}: only for Terraform (--kind terraform|plan)")
    if path.is_file():
        raise click.UsageError(f"{path} is a file: a Pulumi program is a directory (for a plan, use --kind plan)")
    return False


def _check_terraform(path: Path, kind: str, config_file: Path | None, options: TerraformOptions, fmt: str) -> None:
    from rdsca.terraform.check import check as check_terraform
    from rdsca.terraform.model import ConfigError
    from rdsca.terraform.report import print_report

    fixing = options.fix or options.diff
    if kind == "plan" and (fixing or options.assignments):
        raise click.UsageError("--fix, --diff, --var and --var-file apply to a Terraform directory, not to a plan")
    if not fixing and (options.target_ca or options.fallback_ca or options.no_apply_immediately):
        raise click.UsageError("--ca, --fallback-ca and --no-apply-immediately need --fix or --diff")
    try:
        report = check_terraform(path, kind, options.assignments, config_file)
        if fixing:
            from rdsca.terraform.fix import FixOptions, fix_report

            fix_options = FixOptions(options.target_ca, options.fallback_ca, not options.no_apply_immediately)
            report = fix_report(
                report, fix_options, write=options.fix, assignments=options.assignments, config_file=config_file
            )
    except ConfigError as exc:
        raise Failure(str(exc)) from None
    if options.diff and not options.fix:
        # As ruff --diff: the diff on stdout, nothing written; exit 1 when something would change or stays to do.
        for entry in report.fixes:
            if entry["action"] == "by-hand":
                click.echo(f"{entry['address']}: {entry['message']}", err=True)
        sys.exit(EXIT_FINDINGS if report.fixes or report.blocked else EXIT_OK)
    print_report(report, fmt)
    sys.exit(EXIT_FINDINGS if report.blocked else EXIT_OK)


def main() -> None:
    cli(prog_name="rdsca")


# The live-account commands register themselves on ``cli``.
from rdsca import cli_aws, cli_truststore  # noqa: E402, F401

if __name__ == "__main__":
    # Run as ``python -m rdsca.cli``: this file is ``__main__``, and the other command modules register on
    # ``rdsca.cli.cli``, so run that module's ``main``.
    from rdsca import cli as _installed

    _installed.main()
