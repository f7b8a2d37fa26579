"""The pre-commit hooks: ``rdsca check`` once per directory that holds a changed file, with the options given
before the files. pre-commit passes file names; Terraform reads whole directories (the folder of each changed
``.tf``/``.tf.json``), and a Pulumi program is its project (the nearest folder above a changed file that holds a
``Pulumi.yaml``, so a project in a subdirectory is found). A directory given in the hook's ``args`` is checked too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rdsca.cli import cli

TERRAFORM_SUFFIXES = (".tf", ".tf.json")


def _value_options() -> set[str]:
    """The ``check`` options that take a value (their value is not a file name)."""
    command = cli.commands["check"]
    return {name for p in command.params if isinstance(p, click.Option) and not p.is_flag for name in p.opts}


def split(args: list[str]) -> tuple[list[str], list[str]]:
    """(options with their values, paths), as the ``check`` command would parse them."""
    takes_value = _value_options()
    options: list[str] = []
    paths: list[str] = []
    items = iter(args)
    for arg in items:
        if arg.startswith("-"):
            options.append(arg)
            if arg in takes_value:
                options.append(next(items, ""))
        else:
            paths.append(arg)
    return options, paths


def directories(paths: list[str]) -> list[Path]:
    """The Terraform directories to check, in order, skipping installed modules (``.terraform``)."""
    found: dict[Path, None] = {}
    for name in paths:
        path = Path(name)
        if ".terraform" in path.parts:
            continue
        if path.name.endswith(TERRAFORM_SUFFIXES):
            found.setdefault(path.parent, None)
        elif path.is_dir():
            found.setdefault(path, None)
    return list(found)


def projects(paths: list[str], root: Path | None = None) -> list[Path]:
    """The Pulumi projects to check: each changed file's nearest folder with a ``Pulumi.yaml`` (up to ``root``, the
    repository root pre-commit runs in), and each directory given that holds one."""
    top = (root or Path.cwd()).absolute()
    found: dict[Path, None] = {}
    for name in paths:
        path = Path(name)
        folder = path if path.is_dir() else path.parent
        while True:
            if (folder / "Pulumi.yaml").is_file() or (folder / "Pulumi.yml").is_file():
                found.setdefault(folder, None)
                break
            if folder.absolute() == top or folder.absolute().parent == folder.absolute() or folder == Path("."):
                break
            folder = folder.parent
    return list(found)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    options, paths = split(args)
    pulumi = "--kind" in options and options[options.index("--kind") + 1 : options.index("--kind") + 2] == ["pulumi"]
    if not pulumi and "--kind" not in options:
        options += ["--kind", "terraform"]
    targets = projects(paths) if pulumi else directories(paths)
    worst = 0
    for directory in targets:
        try:
            cli.main(["check", str(directory), *options], prog_name="rdsca", standalone_mode=False)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except click.ClickException as exc:  # usage errors in non-standalone mode
            exc.show()
            code = exc.exit_code
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
