"""``.rdsca.yaml``: the options a team would otherwise repeat on every command line, and suppressions by policy and
resource pattern.

Found from the working directory up to the repository root (the first folder holding ``.git``), or given with
``--config FILE`` (anywhere on the command line). Each key is a long option's name (``fallback-ca``,
``policy-pack-config``, ``severity``, ``baseline``, ``output``...): it becomes that option's default for every
command that has it, as click's ``default_map`` does, so the command line always wins. Options that change an
account or files (``--apply``, ``--yes``, ``--fix``, ``--reboot``...) are never read from a file: a run that
changes something is asked for on its own command line. ``skip`` lists suppressions::

    skip:
      - policy: rds-ca-expiring          # or "*"
        resource: "module.legacy.*"      # a glob over the address, URN, ARN or name
        reason: "decommissioned in Q1"   # required

Unknown keys are an error naming the key and the file; ``rdsca config show`` prints what applies and from where.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rdsca.errors import RdscaError

if TYPE_CHECKING:
    from rdsca.findings import Suppression

FILE_NAME = ".rdsca.yaml"
#: Where the chosen file is kept for the commands (``current()``).
_META = "rdsca.config"
#: Long options a file may set (every command that has one takes it). Not: what changes an account or a file
#: (--apply, --yes, --reboot, --resume, --journal, --fix, --remediate, --create-baseline, --no-restart), what
#: reads secrets (--password-env) or what fakes the world (--demo, --as-of).
ALLOWED = frozenset({
    "format", "output", "check", "skip-check", "severity", "baseline", "soft-fail", "soft-fail-on",
    "hard-fail-on", "ca", "fallback-ca", "restart", "no-apply-immediately", "allow-suppress-refused",
    "policy-pack", "policy-pack-config", "stack", "timeout", "invoke-answers", "var-file", "kind",
    "profile", "regions", "region", "org", "ou", "accounts", "include-management", "role-name", "external-id",
    "workers", "account-rate", "connect-timeout", "read-timeout", "max-attempts", "endpoint-url", "expiring-days",
    "accept-scheduled", "engine", "identifier", "tag", "rate", "known-roots",
    # The root group's --quiet: read by rdsca.cli.common once the file is found (not through default_map).
    "quiet",
})


#: Keys whose values are paths (``output``: ``FORMAT=PATH``). In a file they are relative to the file's folder and
#: may not leave it: a repository's file must not make rdsca write (``output``) or read outside the repository
#: (a cloned repository is not trusted to choose where a report overwrites a file).
PATH_KEYS = frozenset({"output", "baseline", "policy-pack", "policy-pack-config", "invoke-answers", "var-file",
                       "known-roots"})


class ConfigFileError(RdscaError):
    pass


def _inside(path: Path, key: str, text: str) -> str:
    """``text`` (a path from the file) resolved against the file's folder; refused when it leaves it."""
    folder = path.parent.absolute()
    if not text:
        raise ConfigFileError(f"{path}: {key}: an empty path")
    target = Path(text)
    if target.is_absolute() or ".." in target.parts:
        raise ConfigFileError(f"{path}: {key}: {text!r} must be a path inside {folder} (relative, without '..'): "
                              "give other paths on the command line")
    return str(folder / target)


def _paths(path: Path, key: str, value: Any) -> Any:
    values = value if isinstance(value, list) else [value]
    resolved = []
    for item in values:
        text = str(item)
        if key == "output":
            fmt, sep, rest = text.partition("=")
            resolved.append(f"{fmt}={rest}" if rest == "-" or not sep else f"{fmt}={_inside(path, key, rest)}")
        else:
            resolved.append(_inside(path, key, text))
    return resolved if isinstance(value, list) else resolved[0]


@dataclass
class Settings:
    path: Path
    #: The file's keys and values (``skip`` apart), as written.
    values: dict[str, Any] = field(default_factory=dict)
    skips: list[dict[str, Any]] = field(default_factory=list)

    def suppressions(self) -> list[Suppression]:
        """Fresh each time (``used`` is per run)."""
        from rdsca.findings import Suppression  # not at start-up: `rdsca --help` reads no findings

        return [
            Suppression(s["policy"], s["reason"], f"{self.path}: skip[{i}]", "external", s.get("resource") or "*")
            for i, s in enumerate(self.skips)
        ]


def find(start: Path) -> Path | None:
    """``.rdsca.yaml`` in ``start`` or a folder above it, up to the repository root."""
    folder = start.absolute()
    while True:
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists() or folder.parent == folder:
            return None
        folder = folder.parent


def load(path: Path) -> Settings:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigFileError(f"--config {path}: no such file") from None
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigFileError(f"{path}: not YAML ({what}{where})") from None
    if doc is None:
        return Settings(path)
    if not isinstance(doc, dict):
        raise ConfigFileError(f"{path}: expected a mapping of option names to values")
    settings = Settings(path)
    for key, value in doc.items():
        if key == "skip":
            settings.skips = _skips(path, value)
        elif key not in ALLOWED:
            hint = " (it changes an account or files: give it on the command line)" if isinstance(key, str) and \
                key.lstrip("-") in {"apply", "yes", "fix", "reboot", "resume", "journal", "remediate",
                                    "create-baseline", "no-restart", "diff"} else ""
            raise ConfigFileError(f"{path}: unknown key {key!r}{hint}; keys are long option names "
                                  "(rdsca config show --help lists them) and 'skip'")
        elif value is None or isinstance(value, dict) or (isinstance(value, list) and any(
                isinstance(v, (dict, list)) or v is None for v in value)):
            raise ConfigFileError(f"{path}: {key}: a value or a list of values")
        elif key == "quiet" and not isinstance(value, bool):
            raise ConfigFileError(f"{path}: quiet: true or false")
        else:
            settings.values[key] = _paths(path, key, value) if key in PATH_KEYS else value
    return settings


def _skips(path: Path, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ConfigFileError(f"{path}: skip: a list of {{policy, resource, reason}}")
    skips = []
    for i, item in enumerate(value):
        where = f"{path}: skip[{i}]"
        if not isinstance(item, dict) or set(item) - {"policy", "resource", "reason"}:
            raise ConfigFileError(f"{where}: a mapping with policy, resource (optional) and reason")
        if not isinstance(item.get("policy"), str) or not item["policy"]:
            raise ConfigFileError(f"{where}: 'policy' is required (a policy name or '*')")
        if not isinstance(item.get("reason"), str) or not item["reason"].strip():
            raise ConfigFileError(f"{where}: 'reason' is required: say why the finding is accepted")
        if "resource" in item and (not isinstance(item["resource"], str) or not item["resource"]):
            raise ConfigFileError(f"{where}: 'resource' is a glob (e.g. 'module.legacy.*')")
        skips.append({"policy": item["policy"], "resource": item.get("resource"), "reason": item["reason"].strip()})
    return skips


# -- the command line ----------------------------------------------------------------------------------------------


def take_config_argument(args: list[str]) -> tuple[list[str], Path | None]:
    """``--config FILE`` (or ``--config=FILE``) wherever it stands before ``--``, removed from ``args``: it must be
    read before any command parses its options (it gives their defaults)."""
    rest: list[str] = []
    chosen: Path | None = None
    items = iter(args)
    for arg in items:
        if arg == "--":
            rest += [arg, *items]
            break
        if arg == "--config":
            value = next(items, None)
            if value is None:
                raise click.UsageError("--config needs a FILE")
            chosen = Path(value)
        elif arg.startswith("--config="):
            chosen = Path(arg.partition("=")[2])
        else:
            rest.append(arg)
    return rest, chosen


def _commands(command: click.Command, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*prefix, name))
    else:
        yield prefix, command


def default_map(group: click.Group, settings: Settings) -> dict[str, Any]:
    """click's ``default_map`` for every command from the file's values: each key to the parameter that has that
    long option, converted as the parameter expects (a list for a repeatable option)."""
    result: dict[str, Any] = {}
    for path, command in _commands(group):
        defaults: dict[str, Any] = {}
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            for key, value in settings.values.items():
                if f"--{key}" in param.opts:
                    values = value if isinstance(value, list) else [value]
                    text = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
                    defaults[param.name or key] = (
                        text if param.multiple else (value if param.is_flag else ",".join(text)))
        if defaults:
            node = result
            for name in path[:-1]:
                node = node.setdefault(name, {})
            node[path[-1]] = defaults
    return result


def install(ctx: click.Context, explicit: Path | None) -> None:
    """Read the configuration file (``--config`` or the one found) into ``ctx`` for every command."""
    path = explicit if explicit is not None else find(Path.cwd())
    if path is None:
        return
    settings = load(path)
    ctx.meta[_META] = settings
    group = ctx.command
    assert isinstance(group, click.Group)
    ctx.default_map = default_map(group, settings)


def current() -> Settings | None:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_META) if ctx is not None else None


def given_here(name: str) -> bool:
    """Whether the current command's parameter ``name`` was given on its command line (or the environment), not
    defaulted by the configuration file: an option the file sets for every command does not make another's
    combination wrong."""
    ctx = click.get_current_context()
    source = ctx.get_parameter_source(name)
    return source in (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)


@click.group("config")
def config_group() -> None:
    """The configuration file (.rdsca.yaml)."""


@config_group.command("show")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True,
              help="Output format.")
def show(fmt: str) -> None:
    """Print the settings that apply here, and where each came from (keys: long option names, and skip)."""
    from rdsca.output import Column, emit_json, ident, printable
    from rdsca.terminal import echo_table

    settings = current()
    rows = [] if settings is None else [
        {"key": k, "value": v, "source": str(settings.path)} for k, v in settings.values.items()]
    skips = [] if settings is None else [{**s, "source": str(settings.path)} for s in settings.skips]
    if fmt == "json":
        emit_json({"file": str(settings.path) if settings else None, "settings": rows, "skip": skips,
                   "keys": sorted(ALLOWED)})
        return
    if settings is None:
        click.echo(f"no {FILE_NAME} here or above (up to the repository root): every option has its default")
        return
    click.echo(printable(f"{settings.path}:"))
    table = [[r["key"], r["value"] if not isinstance(r["value"], list) else ", ".join(map(str, r["value"])),
              r["source"]] for r in rows]
    if table:
        echo_table([ident("KEY"), Column("VALUE", wrap=True), ident("FROM", elide=1)], table)
    for s in skips:
        click.echo(printable(f"skip {s['policy']} for {s['resource'] or '*'}: {s['reason']}"))
    click.echo("Command-line options win over these values.")


def environment_path() -> Path | None:
    value = os.environ.get("RDSCA_CONFIG")
    return Path(value) if value else None
