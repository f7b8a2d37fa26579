"""The ``rdsca`` command line: one grammar for every command.

Commands live one module per area (``check``, ``aws``, ``truststore``, ``probe``) and are added here explicitly;
they share options, parameter types, exit codes and the error contract through ``rdsca.cli.common``, and never
import this module (no import cycle). Every command takes ``--format`` (``table`` default, ``json``) and
``--as-of DATE``. Exit codes: 0 clean or done, 1 findings remain, 2 usage errors or failures that stopped the job.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

import click

from rdsca import __version__
from rdsca.cli.aws import audit, default_ca, rotate
from rdsca.cli.check import check
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
from rdsca.cli.config import config_group
from rdsca.cli.probe import probe
from rdsca.cli.report import report
from rdsca.cli.rules import list_rules
from rdsca.cli.truststore import truststore
from rdsca.runner.processes import signals_stop_the_run


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rdsca")
@debug_option
@color_option
@quiet_option
def cli() -> None:
    """Get Amazon RDS, Aurora and DocumentDB off retired CA certificates, and keep them off."""


for command in (check, audit, rotate, default_ca, truststore, probe, report, config_group, list_rules):
    cli.add_command(command)


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
