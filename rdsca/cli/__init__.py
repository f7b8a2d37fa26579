"""The ``rdsca`` command line: one grammar for every command.

Commands live one module per area (``check``, ``aws``, ``truststore``, ``probe``) and are added here explicitly;
they share options, parameter types, exit codes and the error contract through ``rdsca.cli.common``, and never
import this module (no import cycle). Every command takes ``--format`` (``table`` default, ``json``) and
``--as-of DATE``. Exit codes: 0 clean or done, 1 findings remain, 2 usage errors or failures that stopped the job.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from typing import Any

import click

from rdsca import __version__
from rdsca.cli.common import (
    DEBUG_ENV,
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    Failure,
    Group,
    color_option,
    debug_option,
    quiet_option,
)
from rdsca.interrupts import signals_stop_the_run

#: Every command: where it is defined and its one-line help (the first sentence of its own), so that ``rdsca
#: --help`` lists the commands without importing them, and a command imports only its own area (start-up: the
#: whole command line imports in 240 ms, its root in a fraction). tests/cli/test_lazy.py checks each line against
#: the command itself.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("rdsca.cli.check:check", "Check a Pulumi program, a Terraform configuration or a Terraform plan "
              "offline."),
    "audit": ("rdsca.cli.aws:audit", "Find databases on retired, unknown, refused or expiring CAs, and changes "
              "waiting for a restart (read-only)."),
    "rotate": ("rdsca.cli.aws:rotate", "Move databases off retired, unknown, refused or expiring CAs."),
    "default-ca": ("rdsca.cli.aws:default_ca", "Show, set or remove the account's default CA for new launches, per "
                   "region (ModifyCertificates)."),
    "truststore": ("rdsca.cli.truststore:truststore", "Inspect, build and verify client trust stores from the RDS CA "
                   "bundle."),
    "probe": ("rdsca.cli.probe:probe", "Connect to databases the way their clients do, stop after the TLS handshake, "
              "and say whether each trust store trusts what they serve now and after rotation to the target CA."),
    "report": ("rdsca.cli.report:report", "Join audit, probe and check results (their --format json) per database "
               "into one HTML page."),
    "config": ("rdsca.cli.config:config_group", "The configuration file (.rdsca.yaml)."),
    "list-rules": ("rdsca.cli.rules:list_rules", "List rdsca's rules: the ids --check, --skip-check, suppressions "
                   "and baselines name."),
}


class _Commands(dict):  # type: ignore[type-arg]
    """A group's commands, each imported when first looked up; iterating them imports them all (the configuration
    file's defaults, the reference, the tests see every command, as in a plain dict)."""

    def __init__(self, specs: dict[str, tuple[str, str]]) -> None:
        super().__init__()
        self.pending = {name: spec for name, (spec, _help) in specs.items()}

    def _load(self, name: str | None = None) -> None:
        for key in [name] if name is not None else list(self.pending):
            spec = self.pending.pop(key, None)
            if spec is not None:
                module, attribute = spec.split(":")
                dict.__setitem__(self, key, getattr(importlib.import_module(module), attribute))

    def __getitem__(self, key: Any) -> Any:
        self._load(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._load(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.pending or super().__contains__(key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._load(key)
        return super().pop(key, *default)

    def __iter__(self) -> Any:
        self._load()
        return super().__iter__()

    def __len__(self) -> int:
        return super().__len__() + len(self.pending)

    def keys(self) -> Any:
        self._load()
        return super().keys()

    def values(self) -> Any:
        self._load()
        return super().values()

    def items(self) -> Any:
        self._load()
        return super().items()

    def names(self) -> list[str]:
        """Every command's name, importing none."""
        return sorted({*super().keys(), *self.pending})


class LazyGroup(Group):
    """The root group: commands from ``COMMANDS``, imported when run; ``--help`` lists them from their one-line
    help, importing none."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands(COMMANDS)

    def list_commands(self, ctx: click.Context) -> list[str]:
        commands = self.commands
        return commands.names() if isinstance(commands, _Commands) else sorted(commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = self.commands
        pending = commands.pending if isinstance(commands, _Commands) else {}
        if not pending:
            return super().format_commands(ctx, formatter)
        listed = [(name, COMMANDS[name][1] if name in pending else commands[name].get_short_help_str(10**6))
                  for name in self.list_commands(ctx)]
        limit = formatter.width - 6 - max(len(name) for name, _help in listed)
        # click's own shortening (Command.get_short_help_str) of each line, as it would shorten the command's help.
        rows = [(name, click.Command(name, help=text).get_short_help_str(limit)) for name, text in listed]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
        return None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rdsca")
@debug_option
@color_option
@quiet_option
def cli() -> None:
    """Get Amazon RDS, Aurora and DocumentDB off retired CA certificates, and keep them off."""



def main() -> None:
    _honest_streams()
    # SIGTERM and SIGHUP unwind like Ctrl-C: every ``finally`` runs, so a file being written (check --fix,
    # truststore build) leaves no temporary file behind and nothing half-written.
    with signals_stop_the_run():
        cli(prog_name="rdsca")


def _honest_streams() -> None:
    """Output that works on any terminal and in any log: a character the stream's encoding cannot write (a ✔ under
    PYTHONIOENCODING=cp1252, a Windows console) is replaced, never fatal; and no library's warning (a
    CryptographyDeprecationWarning about a certificate a server sent) reaches users, unless --debug asks."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="replace")
    if not os.environ.get(DEBUG_ENV) and not sys.warnoptions:
        warnings.simplefilter("ignore")


__all__ = ["EXIT_ERROR", "EXIT_FINDINGS", "EXIT_OK", "Failure", "cli", "main"]
