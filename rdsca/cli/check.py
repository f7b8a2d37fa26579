"""``rdsca check``: run a Pulumi Python program (and a policy pack) offline; a thin shell over ``rdsca.runner``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rdsca.cli.common import EXIT_FINDINGS, EXIT_OK, Failure, SecondsType, common_options


@click.command()
@click.argument("program_dir", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--stack", "-s", metavar="NAME", help="Stack whose Pulumi.<NAME>.yaml config to use.")
@click.option(
    "--timeout",
    type=SecondsType(),
    default=600.0,
    show_default=True,
    help="Seconds before the whole run (program and policy packs) is stopped.",
)
@click.option(
    "--policy-pack",
    "policy_packs",
    metavar="DIR",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Run this CrossGuard policy pack (e.g. policies) over the program, as pulumi preview --policy-pack does. "
    "Repeatable.",
)
@click.option(
    "--policy-pack-config",
    "policy_pack_configs",
    metavar="FILE",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy config JSON, as pulumi preview --policy-pack-config (levels and settings per policy); "
    "one per --policy-pack, in the same order.",
)
@click.option(
    "--remediate",
    is_flag=True,
    help='Run every policy at level remediate (the policy config {"all": "remediate"} under any '
    "--policy-pack-config), and show what the remediations change.",
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
    policy_packs: tuple[Path, ...],
    policy_pack_configs: tuple[Path, ...],
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
    from rdsca.runner import PolicyError, PolicyOptions, ProgramError, ProjectError, check_program
    from rdsca.runner.processes import Terminated
    from rdsca.runner.state import StateError

    if not policy_packs:
        given = [
            name
            for name, value in (
                ("--policy-pack-config", policy_pack_configs),
                ("--remediate", remediate),
                ("--state", state_file),
            )
            if value
        ]
        if given or fmt == "sarif":
            what = ", ".join(given) or "--format sarif"
            raise click.UsageError(f"{what} needs --policy-pack")
    options = PolicyOptions(policy_packs, policy_pack_configs, remediate, state_file) if policy_packs else None
    try:
        report = check_program(program_dir, stack, timeout, options)
    except (ProjectError, StateError) as exc:
        raise Failure(str(exc)) from None
    except (ProgramError, PolicyError) as exc:
        if exc.report is not None:
            print_check(exc.report, fmt)  # what the resources registered before the failure gave
        raise Failure(str(exc)) from None
    except KeyboardInterrupt:
        raise Failure("interrupted; the program and the policy packs were stopped") from None
    except Terminated as exc:
        raise Failure(f"stopped by {exc}; the program and the policy packs were stopped") from None
    print_check(report, fmt)
    if report.policy is not None:
        sys.exit(EXIT_FINDINGS if report.blocked else EXIT_OK)
    sys.exit(EXIT_FINDINGS if report.findings else EXIT_OK)
