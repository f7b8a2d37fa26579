"""The ``rdsca`` command line: one grammar for every command.

Every command takes ``--format`` (``table`` default, ``json``) and ``--as-of DATE``. Exit codes: 0 clean or done,
1 findings remain, 2 usage errors or failures that stopped the job.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
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


@cli.command()
@click.argument("program_dir", type=click.Path(file_okay=False, path_type=Path), default=".")
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
) -> None:
    """Run a Pulumi Python program offline and show the databases it would create.

    No Pulumi CLI and no cloud credentials are used: the program runs against an offline engine that applies
    transforms in the engine's order and leaves computed outputs unknown, as a preview does. With --policy-pack,
    the pack runs as the CLI runs it (its own process, over gRPC, in the engine's order) and a mandatory
    violation exits 1.
    """
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


def main() -> None:
    cli(prog_name="rdsca")


# The live-account commands register themselves on ``cli``.
from rdsca import cli_aws, cli_truststore  # noqa: E402, F401


def _add_commands() -> None:
    from rdsca.probe.command import probe

    cli.add_command(probe)


_add_commands()

if __name__ == "__main__":
    # Run as ``python -m rdsca.cli``: this file is ``__main__``, and the other command modules register on
    # ``rdsca.cli.cli``, so run that module's ``main``.
    from rdsca import cli as _installed

    _installed.main()
