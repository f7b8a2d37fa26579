"""The documentation (issue 27.3/27.4): the site builds with ``mkdocs build --strict`` (omitted pages, broken links
and anchors fail), the README stays short with its two-command Quick start, generated pages match their source,
the version is the same everywhere it is written, and every command line the docs show that can run offline runs."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import rdsca

from .conftest import REPO
from .conftest import rdsca as run_rdsca

DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "site" / "ci" / "index.html").exists()
    assert (tmp_path / "site" / "schemas" / "results.schema.json").exists()


def test_the_readme_is_short_and_opens_its_quick_start_with_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme) < 15_000, len(readme)
    quick = readme.split("\n## Quick start\n", 1)[1]
    assert quick.lstrip("\n").startswith("```\npython3 tasks.py demo\npython3 tasks.py test\n```\n")


def test_the_facts_page_is_generated_from_the_catalog() -> None:
    spec = importlib.util.spec_from_file_location("facts_table", REPO / "tools" / "facts_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = (DOCS / "facts.md").read_text()
    assert page == module.render(page), "docs/facts.md is out of date: run `python3 tasks.py docs`"


def test_the_version_is_the_same_everywhere_it_is_written() -> None:
    version = rdsca.__version__
    pack = yaml.safe_load((REPO / "policies" / "PulumiPolicy.yaml").read_text())
    assert str(pack["version"]) == version
    requirements = (REPO / "policies" / "requirements.txt").read_text()
    assert f"rdsca[pulumi]=={version}" in requirements
    for page in (REPO / "README.md", DOCS / "release.md"):
        pins = set(re.findall(r"(?:rev: |@)v(\d+\.\d+\.\d+)", page.read_text()))
        assert pins == {version}, (page.name, pins)
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert "\n## Unreleased\n" in changelog or f"\n## {version} - " in changelog


def _command_lines() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for block in re.findall(r"```[a-z]*\n(.*?)```", page.read_text(), re.S):
            for line in block.splitlines():
                text = re.sub(r"^\$\s*", "", line.strip()).split("  #")[0].strip()
                if re.match(r"rdsca\s+[a-z]", text) and not text.startswith("rdsca:"):
                    found.append((page.name, text))
    return found


def _offline(args: list[str]) -> str | None:
    """Why a command line shown in the docs cannot run here, or None when it can."""
    joined = " ".join(args)
    if re.search(r"[\[\]|]|\b[A-Z_]{3,}\b", joined.replace("STORE_PASSWORD", "")):
        return "a synopsis, not a command"
    if ">" in args:
        return "redirects its output"
    if "--apply" in args:
        return "changes an account"
    if args[1] in ("audit", "rotate", "default-ca") and "--demo" not in args:
        return "needs an AWS account"
    if args[1] == "probe" or "--download" in args:
        return "needs the network"
    paths = [a for a in args[2:] if not a.startswith("-") and ("/" in a or "." in a) and not re.match(r"rds-ca-", a)]
    missing = [p for p in paths if not (REPO / p).exists() and not re.match(r"[a-z0-9.-]+:\d+$", p)]
    return f"names files of the reader's ({', '.join(missing)})" if missing else None


def test_every_offline_command_line_in_the_docs_runs() -> None:
    ran = []
    for page, line in _command_lines():
        args = shlex.split(line)
        if _offline(args) is not None:
            continue
        proc = run_rdsca(*args[1:], cwd=REPO)
        assert proc.returncode in (0, 1), f"{page}: {line}: exit {proc.returncode}: {proc.stderr[-500:]}"
        assert "Traceback" not in proc.stderr
        ran.append(line)
    # The README's own examples are among them: the docs cannot rot unseen.
    assert {"rdsca check examples/terraform-legacy", "rdsca audit --demo"} <= set(ran), ran


@pytest.mark.parametrize("page", [p.name for p in PAGES])
def test_no_page_points_at_the_old_readme_sections(page: str) -> None:
    text = next(p for p in PAGES if p.name == page).read_text()
    assert not re.search(r"README[^.]*\"(Policy pack|Layout|Dates)\"", text)
