"""``rdsca check``: run a Pulumi Python program (and a policy pack) offline; a thin shell over ``rdsca.runner``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rdsca.cli.common import EXIT_FINDINGS, EXIT_OK, Failure, common_options


@click.command()
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
@click.option(
    "--invoke-answers",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML or JSON answers to the program's data-source calls (token: result, or a list of cases matched on "
    "arguments); other calls get placeholder values.",
)
@click.option(
    "--show-policy-remediations",
    is_flag=True,
    help="With --format pulumi: list each remediation, as pulumi preview --show-policy-remediations does.",
)
@common_options(("table", "json", "sarif", "pulumi"))
def check(
    program_dir: Path,
    stack: str | None,
    timeout: float,
    policy_pack: Path | None,
    policy_pack_config: Path | None,
    remediate: bool,
    state_file: Path | None,
    invoke_answers: Path | None,
    show_policy_remediations: bool,
    fmt: str,
) -> None:
    """Run a Pulumi Python program offline and show the databases it would create.

    No Pulumi CLI and no cloud credentials are used: the program runs against an offline engine that applies
    transforms in the engine's order and leaves computed outputs unknown, as a preview does. With --policy-pack,
    the pack runs as the CLI runs it (its own process, over gRPC, in the engine's order) and a mandatory
    violation exits 1. Without a pack, a database on a retired, unknown, expired or refused CA exits 1.
    """
    from rdsca.report import print_check
    from rdsca.runner import InvokeAnswersError, PolicyOptions, ProgramError, ProjectError, check_program
    from rdsca.runner.analyzer import PolicyError

    if policy_pack is None:
        _require_pack(policy_pack_config, remediate, state_file, fmt)
    if show_policy_remediations and fmt != "pulumi":
        raise click.UsageError("--show-policy-remediations needs --format pulumi")
    options = PolicyOptions(policy_pack, policy_pack_config, remediate, state_file) if policy_pack else None
    try:
        report = check_program(program_dir, stack, timeout, options, invoke_answers)
    except (ProjectError, PolicyError, InvokeAnswersError) as exc:
        raise Failure(str(exc)) from None
    except ProgramError as exc:
        raise Failure(f"the program failed: {exc}", hint=exc.hint) from None
    except KeyboardInterrupt:
        raise Failure("interrupted; the program and the policy pack were stopped") from None
    print_check(report, fmt, str(policy_pack or ""), show_policy_remediations)
    if report.policy is not None:
        sys.exit(EXIT_FINDINGS if report.blocked else EXIT_OK)
    sys.exit(EXIT_FINDINGS if report.findings else EXIT_OK)


def _require_pack(policy_pack_config: Path | None, remediate: bool, state_file: Path | None, fmt: str) -> None:
    """Options that only mean something with ``--policy-pack``: a usage error without one."""
    given = [
        name
        for name, value in (
            ("--policy-pack-config", policy_pack_config),
            ("--remediate", remediate),
            ("--state", state_file),
            # The Pulumi CLI's policy section exists only when a pack ran.
            ("--format pulumi", fmt == "pulumi"),
        )
        if value
    ]
    if given:
        raise click.UsageError(f"{', '.join(given)} needs --policy-pack")
