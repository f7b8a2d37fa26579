"""docs/cli.md is what every command's --help says today (tools/cli_reference.py writes it)."""

from __future__ import annotations

import importlib.util

from .conftest import REPO


def test_the_cli_reference_matches_the_commands() -> None:
    spec = importlib.util.spec_from_file_location("cli_reference", REPO / "tools" / "cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = (REPO / "docs" / "cli.md").read_text()
    assert written == module.render(), "docs/cli.md is out of date: run `python3 tasks.py docs`"
    # Every command is in it, under its own heading.
    for path in module.commands(module.cli):
        assert f"\n## rdsca {' '.join(path)}\n" in written
