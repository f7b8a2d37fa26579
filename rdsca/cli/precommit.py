"""The pre-commit hook for Terraform: ``rdsca check`` once per directory that holds a changed ``.tf``/``.tf.json``
file (pre-commit passes file names; Terraform reads whole directories), with the options given before the files."""

from __future__ import annotations

import sys
from pathlib import Path

from rdsca.cli import cli

TERRAFORM_SUFFIXES = (".tf", ".tf.json")


def directories(paths: list[str]) -> list[Path]:
    """The directories to check, in order, skipping installed modules (``.terraform``)."""
    found: dict[Path, None] = {}
    for name in paths:
        path = Path(name)
        if path.name.endswith(TERRAFORM_SUFFIXES) and ".terraform" not in path.parts:
            found.setdefault(path.parent, None)
    return list(found)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    options = [a for a in args if not a.endswith(TERRAFORM_SUFFIXES)]
    worst = 0
    for directory in directories(args):
        try:
            cli.main(
                ["check", str(directory), "--kind", "terraform", *options], prog_name="rdsca", standalone_mode=False
            )
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except Exception as exc:  # click usage errors in non-standalone mode
            from click import ClickException

            if isinstance(exc, ClickException):
                exc.show()
                code = exc.exit_code
            else:
                raise
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
