"""Write docs/cli.md, the command-line reference, from every command's own ``--help`` (so it cannot drift).

    python3 tasks.py docs        # or: .venv/bin/python tools/cli_reference.py

tests/test_cli_reference.py fails when docs/cli.md differs from what this writes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner

from rdsca.cli import cli

OUT = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
#: click wraps help text to the terminal: a fixed width makes the page the same on every machine.
WIDTH = "100"

HEADER = """# Command-line reference

Every `rdsca` command takes `--format` (`table` by default; `json`, and `csv`, `sarif` or `pulumi` where listed) and
`--as-of DATE`, and exits 0 when clean or done, 1 when findings remain, 2 on usage errors or failures that stopped
the job. This page is generated from each command's `--help` by `python3 tasks.py docs`; a test fails
when it is out of date.

## On a terminal: colour, width, progress, --quiet

A pipe, a file or a CI log gets plain text, the same byte for byte whatever the terminal (the tests pin it). When
stdout is a terminal, tables fit its width: identifiers, names and addresses are always shown whole (when they
alone are wider than the terminal, so is the table); lists and messages wrap; then the least important columns are
left out, and a line after the table names them (`--format json` has every field). Statuses are coloured:
retired, refused, will break in red; scheduled and undecided in yellow; ok, trusted, ready in green. JSON, CSV,
SARIF, JUnit and `--output` files are never coloured.

- `--color auto|always|never` (before or after the command): `auto` colours a terminal; `NO_COLOR` set and
  non-empty turns colour off ([no-color.org](https://no-color.org)); `FORCE_COLOR` set and non-empty turns it on,
  with the fitted tables, even in a pipe ([force-color.org](https://force-color.org)). The command line wins over
  both; `never` on a terminal keeps the fitted layout without colour. `COLUMNS` sets the width.
- Progress goes to stderr, only when stderr is a terminal: one line redrawn in place and erased when done
  (`check`: a Pulumi program's registrations and policy calls, a Terraform configuration's files; `audit` and
  `rotate`: regions scanned, then changes applied, each change's outcome kept above it; `probe`: endpoints;
  `truststore build --download`: the download). Elsewhere `audit`, `rotate` and `probe` print one line per step,
  as before, and `check` and `truststore build` none.
- `--quiet`/`-q` (or `quiet: true` in `.rdsca.yaml`) silences progress, warnings and notes; errors still print and
  exit codes are the same, as are the outcomes `rotate --apply` reports.
"""


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name in sorted(group.commands):
        command = group.commands[name]
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="rdsca", env={"COLUMNS": WIDTH})
    if result.exit_code != 0:
        raise SystemExit(f"rdsca {' '.join(path)} --help failed: {result.output}")
    return result.output.rstrip() + "\n"


def render() -> str:
    parts = [HEADER, "## rdsca\n", "```text\n" + help_text(()) + "```\n"]
    for path in commands(cli):
        parts.append(f"## rdsca {' '.join(path)}\n")
        parts.append("```text\n" + help_text(path) + "```\n")
    return "\n".join(parts)


def main() -> int:
    OUT.write_text(render())
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
