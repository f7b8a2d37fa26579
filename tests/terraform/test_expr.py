"""The static evaluator: each HCL construct a configuration uses around names and settings, and unknowns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rdsca.resources import Unknown
from rdsca.terraform.expr import Scope, evaluate
from rdsca.terraform.hcl import parse_source
from rdsca.terraform.model import SourceFile

VARS = {"flag": True, "m": {"k": "v", "n": 2}, "l": ["a", "b", ""], "n": 3}


def value(text: str, variables: dict[str, Any] | None = None) -> Any:
    top = parse_source(SourceFile(Path("t.tf"), f"x = {text}\n".encode(), "hcl"))
    return evaluate(top.attributes["x"].expr, Scope(variables=VARS if variables is None else variables))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"rds-ca-2019"', "rds-ca-2019"),
        ('var.flag ? "a" : "b"', "a"),
        ('lookup(var.m, "k", null)', "v"),
        ('lookup(var.m, "zz", "dflt")', "dflt"),
        ('[for s in var.l : upper(s) if s != ""]', ["A", "B"]),
        ("{for k, v in var.m : k => v}", {"k": "v", "n": 2}),
        ("var.l[1]", "b"),
        ("var.l.0", "a"),
        ("[{id = 1}, {id = 2}][*].id", [1, 2]),
        ("-1 + 2 * 3", 5),
        ("var.n % 2 == 1 && !false", True),
        ('"x-${var.n}-${1 + 1}"', "x-3-2"),
        ('"${var.m}"', {"k": "v", "n": 2}),
        ('"a\\"b\\n\\u00e9 $${x}"', 'a"b\né ${x}'),
        ('format("db-%s-%d", "x", 3)', "db-x-3"),
        ('try(var.m.nope, "fallback")', "fallback"),
        ("can(var.m.nope)", False),
        ('merge(var.m, {k = "w"})["k"]', "w"),
        ('coalesce("", null, "z")', "z"),
        ('element(["a", "b"], 3)', "b"),
        ('join("-", concat(["a"], ["b"]))', "a-b"),
        ("length(var.l)", 3),
        ('{ "a" = 1, b: 2 }', {"a": 1, "b": 2}),
        ("(var.n)", 3),
    ],
)
def test_known_values(text: str, expected: Any) -> None:
    assert value(text) == expected


def test_heredoc_strips_indentation_with_a_dash() -> None:
    text = "<<-EOT\n    hello  ${var.l[1]}\n      two\n    EOT"
    assert value(text) == "hello  b\n  two\n"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("aws_db_instance.x.ca_cert_identifier", "aws_db_instance cannot be resolved statically"),
        ("data.aws_rds_certificate.c.id", "data sources are read by Terraform at plan time"),
        ("timestamp()", "function timestamp() is not evaluated statically"),
        ("var.missing", "var.missing is not declared"),
        ("var.l[7]", "index 7 is out of range for a list of 3"),
        ('"x%{ if true }y%{ endif }"', "template directives (%{...}) are not evaluated"),
    ],
)
def test_unknown_values_say_why(text: str, reason: str) -> None:
    result = value(text)
    assert isinstance(result, Unknown)
    assert result.reason == reason


def test_an_unknown_operand_makes_the_result_unknown() -> None:
    unknown = Unknown(reason="later")
    assert value('"${var.u}-x"', {"u": unknown}) == unknown
    assert value('var.u == "a" ? 1 : 2', {"u": unknown}) == unknown
    assert value("upper(var.u)", {"u": unknown}) == unknown
