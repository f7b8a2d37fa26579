"""Tables on a terminal (issue 29.3): fitted to its width, statuses coloured, identifiers whole, cells escaped; and
what --color, NO_COLOR and FORCE_COLOR decide. The test runner's stdout is not a terminal: a terminal is forced with
--color always or FORCE_COLOR, its width given with COLUMNS (read as rich and shutil read it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rdsca.output import Column, ident, render_table, tones
from rdsca.terminal import Look, fit, table_text

from ..conftest import FIXTURES, REPO, invoke

TERRAFORM = "examples/terraform-legacy"
GOLDEN = FIXTURES / "golden"
SGR = re.compile(r"\x1b\[[0-9;]*m")
RED, GREEN = "\x1b[31m", "\x1b[32m"


@pytest.fixture(autouse=True)
def in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example's path as the golden files have it (relative)."""
    monkeypatch.chdir(REPO)


def visible(text: str) -> list[str]:
    """The lines as the terminal shows them (colour codes take no room)."""
    return SGR.sub("", text).splitlines()


def check(*extra: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``rdsca check`` of the Terraform example; ``extra`` after the command (global options too)."""
    return invoke("check", TERRAFORM, "--as-of", "2026-11-27", *extra, env=env)


def left_out(out: str, width: int) -> str:
    """The note naming the columns left out (rich wraps it like any text)."""
    note = " ".join(SGR.sub("", out).split())
    match = re.search(r"\(([A-Z ,-]+) left out to fit (\d+) columns; --format json has every field\)", note)
    assert match is not None and int(match[2]) == width, note
    return match[1]


def golden(name: str) -> str:
    with (GOLDEN / f"{name}.txt").open(encoding="utf-8", newline="") as f:
        return f.read().replace("{REPO}", str(REPO))


def test_color_always_colours_statuses_and_fits_the_width() -> None:
    code, out, _err = check("--color", "always", env={"COLUMNS": "64"})
    assert code == 1
    assert f"{RED}retired\x1b[0m" in out and f"{RED}refused\x1b[0m" in out and f"{GREEN}ok\x1b[0m" in out
    lines = visible(out)
    table = lines[1 : lines.index("")]
    assert table and all(len(line) <= 64 for line in table), table
    # The addresses are whole, each on one line; the columns left out are named, least important first.
    for address in ("aws_docdb_cluster_instance.catalog", "aws_db_instance.billing", "aws_db_instance.reports"):
        assert any(line.startswith(address + " ") for line in table), address
    assert left_out(out, 64) == "KIND, REGION, ENGINE, APPLY, RESTART"


def test_identifiers_are_never_cut_even_when_they_alone_are_too_wide() -> None:
    # 40 columns: the address (34), the CA (17) and its status cannot fit; the table is wider than the terminal
    # (which wraps it) rather than cutting a name.
    code, out, _err = check("--color", "always", env={"COLUMNS": "40"})
    lines = visible(out)
    assert code == 1 and any(line.startswith("aws_docdb_cluster_instance.catalog  rds-ca-rsa4096-g1") for line in lines)
    assert max(len(line) for line in lines[1 : lines.index("")]) == 34 + 2 + 17 + 2 + 7


def test_a_wide_terminal_shows_every_column_on_one_line_each() -> None:
    code, out, _err = check("--color", "always", env={"COLUMNS": "200"})
    assert code == 1
    lines = visible(out)
    assert lines[1].split() == ["ADDRESS", "KIND", "REGION", "ENGINE", "CA", "APPLY", "RESTART", "CA", "STATUS"]
    assert len(lines[1 : lines.index("")]) == 2 + 3 and "left out" not in out


def test_a_pipe_gets_the_plain_table() -> None:
    assert check(env={"COLUMNS": "40"})[1] == golden("check-terraform-legacy")


def test_force_color_is_a_terminal_in_a_pipe() -> None:
    _code, out, _err = check(env={"FORCE_COLOR": "1", "COLUMNS": "64"})
    assert RED in out and left_out(out, 64)


def test_no_color_wins_over_auto_and_force_color() -> None:
    _code, out, err = check(env={"NO_COLOR": "1", "FORCE_COLOR": "1", "COLUMNS": "60"})
    assert out == golden("check-terraform-legacy") and "\x1b" not in err


def test_the_command_line_wins_over_the_environment() -> None:
    # --color never with FORCE_COLOR: plain (stdout is not a terminal); --color always with NO_COLOR: colour.
    assert check("--color", "never", env={"FORCE_COLOR": "1"})[1] == golden("check-terraform-legacy")
    assert RED in check("--color", "always", env={"NO_COLOR": "1"})[1]


def test_global_options_also_follow_the_command() -> None:
    before = invoke("--color", "always", "list-rules", env={"COLUMNS": "80"})
    after = invoke("list-rules", "--color", "always", env={"COLUMNS": "80"})
    equals = invoke("list-rules", "--color=always", env={"COLUMNS": "80"})
    assert before == after == equals and before[0] == 0 and "\x1b[1mID" in before[1]
    code, _out, err = invoke("list-rules", "--color")
    assert code == 2 and err.startswith("rdsca: error: --color needs a value")
    assert invoke("--color", "sometimes", "list-rules")[0] == 2


def test_list_rules_wraps_before_it_leaves_out_and_keeps_ids_whole() -> None:
    code, out, _err = invoke("--color", "always", "list-rules", env={"COLUMNS": "80"})
    assert code == 0
    lines = visible(out)
    table = lines[: lines.index("")]
    assert len(table) > 12 and all(len(line) <= 80 for line in table)
    for rule in ("rds-ca-retired", "rds-ca-availability-note", "rds-ca-apply-immediately"):
        assert any(line.startswith(rule + " ") for line in lines)
    # FRONT ENDS wraps (a list reads well on two lines); OVERLAPS, the least important, is left out and named.
    assert any(line.strip() == "terraform, audit" for line in lines)
    assert any(line.startswith("(OVERLAPS left out to fit 80 columns") for line in lines)


def test_an_output_file_is_never_coloured(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    code, out, _err = check("--color", "always", "--output", f"table={path}", env={"COLUMNS": "60"})
    assert code == 1 and RED in out
    assert path.read_text() == golden("check-terraform-legacy")


def test_warnings_are_yellow_on_a_colour_stderr_and_silent_with_quiet() -> None:
    args = ("probe", "127.0.0.1:1", "127.0.0.1:1", "--engine", "postgres", "--connect-timeout", "1", "--format", "json")
    code, out, err = invoke(*args, env={"FORCE_COLOR": "1"})
    assert code == 2 and "\x1b[33mwarning\x1b[0m: 127.0.0.1:1 was given 2 times" in err
    assert "\x1b" not in out  # JSON is never coloured
    code, out, err = invoke("-q", *args)
    # --quiet: no warning, no progress line; the error and exit 2 stay.
    assert code == 2 and "warning" not in err and "could not probe" not in err
    assert err.splitlines() == ["error: 127.0.0.1:1: connection refused"]
    code, _out, err = invoke(*args)
    assert code == 2 and "warning: 127.0.0.1:1 was given 2 times: probed once" in err and "could not probe" in err


def test_quiet_keeps_errors_and_their_exit_code(tmp_path: Path) -> None:
    code, _out, err = invoke("--quiet", "check", tmp_path / "missing")
    assert code == 2 and err.startswith("rdsca: error: ") and len(err.splitlines()) == 1


def test_quiet_from_the_configuration_file(tmp_path: Path) -> None:
    args = ("probe", "127.0.0.1:1", "127.0.0.1:1", "--engine", "postgres", "--connect-timeout", "1")
    config = tmp_path / ".rdsca.yaml"
    config.write_text("quiet: true\n")
    code, _out, err = invoke("--config", config, *args)
    assert code == 2 and err == ""
    config.write_text("quiet: yes please\n")
    code, _out, err = invoke("--config", config, "list-rules")
    assert code == 2 and err.strip() == f"rdsca: error: {config}: quiet: true or false"


def test_rich_is_not_imported_for_help_or_a_pipe() -> None:
    for args in (["--help"], ["list-rules"]):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "rdsca.cli", *args], capture_output=True,
                              text=True, check=False, cwd=REPO)
        assert proc.returncode == 0, proc.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
        assert "rdsca.cli" in imported and not any(name.split(".")[0] == "rich" for name in imported), args


# -- the renderer ---------------------------------------------------------------------------------------------------


def test_cells_are_escaped_and_never_markup() -> None:
    columns = [ident("NAME"), Column("STATUS", tone=tones({"bad": "bad"}))]
    rows = [["\x1b[31mevil\x1b[0m", "bad"], ["[bold red]loud[/]", "a\nforged row"], ["\u202etxt.exe", ""]]
    coloured = table_text(columns, rows, Look(True, 80))
    assert "\\x1b[31mevil\\x1b[0m" in coloured and "[bold red]loud[/]" in coloured
    assert "a\\nforged row" in coloured and "\\u202etxt.exe" in coloured and "\u202e" not in coloured
    # The only escape codes are the renderer's own: bold headers, one red cell.
    assert SGR.sub("", coloured).count("\x1b") == 0 and coloured.count(RED) == 1
    plain = table_text(columns, rows, Look(False, 80))
    assert "\x1b" not in plain and plain.splitlines()[0].split() == ["NAME", "STATUS"]


def test_the_plain_renderer_takes_columns_and_ignores_their_layout() -> None:
    columns = [ident("A"), Column("B", elide=3, wrap=True)]
    assert render_table(columns, [["x", "y z"]]) == render_table(["A", "B"], [["x", "y z"]])


@pytest.mark.parametrize("width", [10, 30, 44, 60, 120])
def test_fit_never_shrinks_a_whole_column(width: int) -> None:
    columns = [ident("ADDRESS"), Column("KIND", elide=2), Column("MESSAGE", wrap=True), Column("DATE", elide=1)]
    cells = [["ADDRESS", "KIND", "MESSAGE", "DATE"],
             ["module.a.aws_db_instance.long_name", "RDS instance", "one two three four five six", "2026-11-27"]]
    kept, widths = fit(columns, cells, width)
    assert kept[0] == 0 and widths[0] == len(cells[1][0])
    total = sum(widths) + 2 * (len(widths) - 1)
    # Wider than the terminal only when the identifier alone is (nothing is cut to make it fit).
    assert total <= max(width, len(cells[1][0]) + 2 + len("MESSAGE"))


def test_fit_wraps_prose_before_leaving_columns_out_and_leaves_out_by_elide() -> None:
    columns = [ident("ID"), Column("KIND", elide=2), Column("MESSAGE", wrap=True), Column("DATE", elide=1)]
    cells = [["ID", "KIND", "MESSAGE", "DATE"], ["db-1", "RDS", "one two three four five six", "2026-11-27"]]
    assert fit(columns, cells, 80) == ([0, 1, 2, 3], [4, 4, 27, 10])
    # 40 columns: the message wraps (to 16), nothing is left out.
    assert fit(columns, cells, 40) == ([0, 1, 2, 3], [4, 4, 16, 10])
    # Narrower: KIND (elide 2) goes first, then DATE; the message wraps down to its longest word, MESSAGE.
    assert fit(columns, cells, 25) == ([0, 2, 3], [4, 7, 10])
    assert fit(columns, cells, 24) == ([0, 2], [4, 18])
    assert fit(columns, cells, 14) == ([0, 2], [4, 8])


def test_the_error_label_follows_color(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert invoke("check", missing, "--color", "always")[2].startswith(f"rdsca: {RED}error\x1b[0m: ")
    assert invoke("check", missing, env={"FORCE_COLOR": "1"})[2].startswith(f"rdsca: {RED}error\x1b[0m: ")
    assert invoke("check", missing, "--color", "never", env={"FORCE_COLOR": "1"})[2].startswith("rdsca: error: ")
