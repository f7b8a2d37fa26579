"""rdsca.output: what every writer shares (CSV cells that cannot run, quoted values that stay short)."""

from __future__ import annotations

import csv
import io

import pytest

from rdsca.output import QUOTE_LIMIT, csv_row, shorten


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_is_neutralised(start: str) -> None:
    """OWASP CSV injection: `=HYPERLINK(...)` in a certificate SAN or an identifier must reach the sheet as text."""
    value = f"{start}cmd|' /C calc'!A0"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["a", "n"], lineterminator="\n")
    writer.writerow(csv_row({"a": value, "n": -5}, ["a", "n"]))
    (row,) = csv.reader(io.StringIO(out.getvalue(), newline=""))
    assert row[0].startswith("'") and row[0].endswith("cmd|' /C calc'!A0")  # text prefixed, on one row
    assert row[1] == "-5"  # a number is a number


def test_ordinary_cells_and_missing_ones() -> None:
    assert csv_row({"a": "rds-ca-2019", "b": None}, ["a", "b", "c"]) == {"a": "rds-ca-2019", "b": "", "c": ""}


def test_a_long_value_is_quoted_short() -> None:
    huge = "x" * 5_000_000
    text = shorten(huge)
    assert len(text) < QUOTE_LIMIT + 40 and text.endswith(f"({5_000_000 - QUOTE_LIMIT} more characters)")
    assert shorten("rds-ca-2019") == "rds-ca-2019"


def test_suggested_commands_shell_quote_every_value() -> None:
    """`--db-instance-identifier x; rm -rf ~ #` was printed unquoted in the command users paste."""
    import shlex

    from rdsca.resources import TERRAFORM_TYPES

    command = TERRAFORM_TYPES["aws_db_instance"].cli_command("rds-ca-rsa2048-g1", "x; rm -rf ~ #")
    words = shlex.split(command)
    assert words[words.index("--db-instance-identifier") + 1] == "x; rm -rf ~ #"
    assert "rm" not in words
