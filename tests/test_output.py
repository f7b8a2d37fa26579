"""rdsca.output: what every writer shares (CSV cells that cannot run, quoted values that stay short)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path, PurePosixPath

import click
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from rdsca.output import csv_row, emit_json
from rdsca.text import QUOTE_LIMIT, shorten


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


def test_table_cells_cannot_forge_lines() -> None:
    """Certificate CNs, MySQL error and version text, .tf.json names and plan addresses with newlines or U+202E were
    printed raw (only ESC was stripped): every table cell is escaped as the Pulumi paths are."""
    from rdsca.output import render_table

    table = render_table(["A"], [["db\nforged row"], ["evil\u202etxt.exe"]])
    assert table.splitlines()[2:] == ["db\\nforged row", "evil\\u202etxt.exe"]


def test_terraform_addresses_with_newlines_print_on_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json as json_module

    from .conftest import invoke

    name = "a\nrdsca@v9: passed"
    (tmp_path / "main.tf.json").write_text(
        json_module.dumps({"resource": {"aws_db_instance": {name: {"engine": "mysql", "ca_cert_identifier": "rds-ca-2019"}}}})
    )
    code, out, _err = invoke("check", str(tmp_path))
    assert code == 1
    assert "\nrdsca@v9: passed" not in out and "a\\nrdsca@v9: passed" in out


def test_a_huge_ca_string_is_quoted_short_in_every_message(tmp_path: Path) -> None:
    """A 5 MB CA string was echoed four times (20 MB of output): messages and table cells quote it short."""
    from .conftest import invoke

    (tmp_path / "main.tf").write_text(
        'resource "aws_db_instance" "a" {\n  engine = "mysql"\n  ca_cert_identifier = "' + "x" * 5_000_000 + '"\n}\n'
    )
    code, out, err = invoke("check", str(tmp_path))
    assert code == 1
    assert len(out) + len(err) < 10_000
    assert "more characters)" in out


# -- JSON output: json.dumps(indent=2, default=str), byte for byte ---------------------------------------------------

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.sampled_from(
    [dt.date(2024, 8, 22), PurePosixPath("a/b"), 10**30, -0.0, float("inf")]
)
_KEYS = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
_DOCUMENTS = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(_KEYS, inner,
                                                                                                      max_size=4),
    max_leaves=30,
)


def _emitted(document: object) -> str:
    @click.command()
    def show() -> None:
        emit_json(document)

    return CliRunner().invoke(show, catch_exceptions=False).stdout


@settings(max_examples=300, deadline=None)
@given(_DOCUMENTS)
def test_json_output_is_exactly_what_json_dumps_writes(document: object) -> None:
    assert _emitted(document) == json.dumps(document, indent=2, default=str) + "\n"


def test_a_large_document_is_written_whole_in_batches() -> None:
    document = {"resources": [{"address": f"aws_db_instance.d{i}", "values": {"n": i, "ok": i % 2 == 0}}
                              for i in range(20000)]}
    assert _emitted(document) == json.dumps(document, indent=2) + "\n"
