"""What every ``rdsca`` command shares: exit codes, the one error contract, shared options and parameter types.

Exit codes: 0 clean or done, 1 findings remain, 2 usage errors or failures that stopped the job. An error is one
line on stderr (``rdsca: error: ...``) and exit 2, never a traceback and never exit 1; ``--debug`` shows the
traceback of an unexpected error.
"""

from __future__ import annotations

import functools
import math
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import click

from rdsca import clock, terminal
from rdsca.errors import RdscaError
from rdsca.interrupts import Terminated
from rdsca.output import printable

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
#: Where ``Group`` keeps ``--config FILE`` until the configuration file is read.
CONFIG_ARGUMENT = "rdsca.config_argument"
#: Set by ``--debug`` (or in the environment): unexpected errors show their traceback, subprocesses too.
DEBUG_ENV = "RDSCA_DEBUG"


class Failure(click.ClickException):
    """An error that stops the job: one message on stderr, exit code 2, no traceback. ``hint``: one more line
    saying what the user can do about it, when rdsca knows."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, hint: str | None = None, lines: bool = False) -> None:
        super().__init__(message)
        self.hint = hint
        #: The message is a program's own, on several lines: its newlines and tabs are shown as such.
        self.lines = lines
        # Decided now, while the run's --color is known (click shows the error after its context is gone).
        self.label = terminal.paint("error", "bad", err=True)

    def show(self, file: Any = None) -> None:
        terminal.echo_err(f"rdsca: {self.label}: {printable(self.format_message().rstrip(), self.lines)}")
        if self.hint:
            click.echo(f"rdsca: hint: {printable(self.hint)}", err=True)


class Group(click.Group):
    """The command group: every error a command raises ends as one line and exit 2 (``--debug``: traceback too)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            if ctx.parent is None:
                # --config FILE is read before any command parses its options (it gives their defaults).
                from rdsca.cli import config

                args, ctx.meta[CONFIG_ARGUMENT] = config.take_config_argument(list(args))
                args = hoist_global_options(args)
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise Failure(exc.format_message()) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            if ctx.parent is None and not ctx.resilient_parsing:
                from rdsca.cli import config

                config.install(ctx, ctx.meta.get(CONFIG_ARGUMENT) or config.environment_path())
                _quiet_from_file(ctx, config.current())
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except RdscaError as exc:
            # Every expected error of every layer, mapped here once: one line (and its hint), exit 2.
            raise Failure(str(exc), hint=exc.hint) from None
        except click.UsageError as exc:
            # One line naming the flag and what is wrong (click's default adds the usage and a --help hint).
            raise Failure(exc.format_message()) from None
        except click.ClickException as exc:
            # Every click error is a usage or input error here; click gives some (FileError) exit code 1.
            if exc.exit_code < EXIT_ERROR:
                raise Failure(exc.format_message()) from None
            raise
        except click.Abort:
            raise Failure("aborted; nothing more was done") from None
        except KeyboardInterrupt:
            raise Failure("interrupted; nothing more was done") from None
        except Terminated as exc:
            raise Failure(f"stopped by {exc}; nothing more was done") from None
        except BrokenPipeError:
            # The reader stopped early (``rdsca ... | head``): nothing is wrong with rdsca, and there is no one to
            # tell. Point stdout at /dev/null so that the interpreter's final flush does not complain either.
            _silence_stdout()
            raise SystemExit(EXIT_ERROR) from None
        except (SystemExit, GeneratorExit):
            raise
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                traceback.print_exception(exc)
            raise Failure(
                f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            ) from None


#: The root group's options that may also follow the command (``rdsca audit --demo -q``): moved before it.
GLOBAL_FLAGS = ("--quiet", "-q")
GLOBAL_VALUED = ("--color",)


def hoist_global_options(args: list[str]) -> list[str]:
    """``--quiet``/``-q`` and ``--color WHEN`` wherever they stand before ``--``, moved to the front, where click's
    root group reads them (as ``--config`` is taken from anywhere): a global option works after the command too."""
    front: list[str] = []
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--":
            rest += [arg, *items]
            break
        if arg in GLOBAL_FLAGS or arg.startswith(tuple(f"{name}=" for name in GLOBAL_VALUED)):
            front.append(arg)
        elif arg in GLOBAL_VALUED:
            value = next(items, None)
            if value is None:
                raise click.UsageError(f"{arg} needs a value ({', '.join(terminal.COLOR_MODES)})")
            front += [arg, value]
        else:
            rest.append(arg)
    return front + rest


def _quiet_from_file(ctx: click.Context, settings: Any) -> None:
    """``quiet: true`` in the configuration file, unless the command line gave ``--quiet`` (the root group's options
    are parsed before the file is read, so click's ``default_map`` cannot carry it)."""
    if settings is None or "quiet" not in settings.values:
        return
    if ctx.get_parameter_source("quiet") is not click.core.ParameterSource.COMMANDLINE:
        terminal.configure(ctx, quiet=bool(settings.values["quiet"]))


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # no real file descriptor (a test runner's buffer): nothing to silence


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        os.environ[DEBUG_ENV] = "1"
    return value


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help=f"Show the traceback of an unexpected error (also {DEBUG_ENV}=1).",
)

color_option = click.option(
    "--color",
    type=click.Choice(terminal.COLOR_MODES),
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: terminal.configure(ctx, color=value),
    help="Colour and fit tables to the terminal: auto (default: when stdout is a terminal; NO_COLOR=1 turns colour "
    "off, FORCE_COLOR=1 on), always, never. JSON, CSV, SARIF and JUnit are never coloured.",
)

quiet_option = click.option(
    "--quiet",
    "-q",
    "quiet",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: terminal.configure(ctx, quiet=value),
    help="No progress, warnings or notes on stderr (errors still print; exit codes are the same); also `quiet: true` "
    "in .rdsca.yaml.",
)


# -- parameter types -----------------------------------------------------------------------------------------------


class DateType(click.ParamType):
    """``YYYY-MM-DD``."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return clock.parse_date(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class Number(click.FloatRange):
    """A number in a range; ``nan`` and ``inf`` are refused (every comparison with nan is false, so click's own range
    lets it through: a rate of nan would mean no pacing at all)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


#: The longest duration a timeout may have (a week): more is a typo, and would overflow the clock's sleeps.
MAX_SECONDS = 7 * 24 * 3600.0


class SecondsType(Number):
    """A duration in seconds: a finite number greater than zero, at most a week."""

    name = "SECONDS"

    def __init__(self, maximum: float = MAX_SECONDS) -> None:
        super().__init__(min=0, max=maximum, min_open=True)


class TagType(click.ParamType):
    """``KEY=VALUE`` (the value may be empty, the key may not)."""

    name = "KEY=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        key, sep, rest = str(value).partition("=")
        if not sep or not key:
            self.fail(f"{value!r}: expected KEY=VALUE", param, ctx)
        return key, rest


class CommaListType(click.ParamType):
    """``A,B,...`` of names that match ``pattern``. An empty element is an error, never "all of them": a script
    whose ``$REGION`` is empty must not widen its scope."""

    def __init__(self, name: str, pattern: re.Pattern[str], empty: str, bad: str) -> None:
        self.name, self.pattern, self.empty, self.bad = name, pattern, empty, bad

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        items = [part.strip() for part in str(value).split(",")]
        if any(not item for item in items):
            self.fail(f"{value!r}: {self.empty}", param, ctx)
        wrong = [item for item in items if not self.pattern.fullmatch(item)]
        if wrong:
            self.fail(f"{', '.join(map(repr, wrong))} {self.bad}", param, ctx)
        return list(dict.fromkeys(items))


def RegionListType() -> CommaListType:
    """AWS region names."""
    from rdsca import catalog  # when a command that takes regions is defined, not at start-up

    return CommaListType(
        "REGION[,REGION]",
        re.compile(catalog.REGION_PATTERN),
        "an empty region name (regions are comma-separated names)",
        "is not an AWS region name (like us-east-1)",
    )


def split_list(values: Sequence[str]) -> list[str]:
    """Repeatable, comma-separated option values as one list (empty elements dropped)."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


# -- shared options ------------------------------------------------------------------------------------------------


def _set_as_of(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        # The environment variable carries "today" to subprocesses (the program, a policy pack).
        os.environ[clock.AS_OF_ENV] = value.isoformat()
    else:
        try:
            clock.today()
        except ValueError as exc:
            raise click.BadParameter(f"{clock.AS_OF_ENV}: {exc}", param_hint=clock.AS_OF_ENV) from None
    return value


def common_options(formats: tuple[str, ...] = ("table", "json")) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--format`` (``table`` first) and ``--as-of DATE``, on every command."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @click.option(
            "--format", "fmt", type=click.Choice(formats), default="table", show_default=True, help="Output format."
        )
        @click.option(
            "--as-of",
            type=DateType(),
            callback=_set_as_of,
            expose_value=False,
            is_eager=True,
            help=f"Judge dates as of DATE (YYYY-MM-DD) instead of today; sets {clock.AS_OF_ENV} for subprocesses.",
        )
        @click.option(
            "--soft-fail",
            is_flag=True,
            expose_value=False,
            callback=lambda ctx, _param, value: ctx.meta.__setitem__("rdsca.soft_fail", value),
            help="Exit 0 when findings remain (they are still reported); errors still exit 2, as Checkov's.",
        )
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            soft = click.get_current_context().meta.get("rdsca.soft_fail", False)
            try:
                return fn(*args, **kwargs)
            except SystemExit as exc:
                # Findings (1) become 0 with --soft-fail; an error (2) never does.
                if soft and exc.code == EXIT_FINDINGS:
                    raise SystemExit(EXIT_OK) from None
                raise

        return wrapper

    return decorate


def read_password(env: str | None, what: str = "this store", confirm: bool = False) -> str:
    """A password from ``--password-env VAR``, else a prompt; with neither and no terminal, one clear error.
    Passwords never come from the command line itself, where other users can read them (``ps``)."""
    if env:
        value = os.environ.get(env)
        if value is None:
            raise Failure(f"--password-env {env}: the environment variable is not set")
        return value
    if not sys.stdin.isatty():
        raise Failure(f"{what} needs a password: give --password-env VAR (there is no terminal to prompt on)")
    return str(click.prompt(f"Password of {what}", hide_input=True, confirmation_prompt=confirm, err=True))
