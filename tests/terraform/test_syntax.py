"""Plain literals read without the tree: one read from its text means what tree-sitter's tree means, and a file of
literals keeps no syntax tree (tree-sitter trees cost ~70 times the file: issue 30)."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import tree_sitter

from rdsca.terraform import syntax
from rdsca.terraform.expr import Scope, evaluate
from rdsca.terraform.hcl import _parser, parse_source
from rdsca.terraform.model import SourceFile

from .conftest import run, run_json, write_tf

LITERALS = ['"rds-ca-2019"', '""', '"a b-c.d/é"', "true", "false", "null", "0", "42", "1.5", "1.5e3", "2.5E-2"]
NOT_PLAIN = ['"a\\"b"', '"${var.x}"', '"50%"', '"$x"', "-1", "1 + 2", '"a" == "a"', "true ? 1 : 2", "nulls", "[1]"]


def _top(text: str) -> Any:
    return parse_source(SourceFile(Path("t.tf"), f"x = {text}\n".encode(), "hcl"))


def _shape(node: Any) -> tuple[Any, ...]:
    return (node.type, node.start_byte, node.end_byte, node.is_named, tuple(_shape(c) for c in node.children))


@pytest.mark.parametrize("text", LITERALS)
def test_a_plain_literal_is_one_node_that_means_what_the_tree_means(text: str) -> None:
    data = f"x = {text}\n".encode()
    expr = _top(text).attributes["x"].expr
    assert isinstance(expr, syntax.Literal)
    tree = _parser().parse(data)
    tree_expr = tree.root_node.children[0].children[0].children[2]
    # the same value as evaluating the whole grammar subtree, and the same subtree when asked for it
    assert evaluate(expr, Scope()) == evaluate(tree_expr, Scope())
    assert type(evaluate(expr, Scope())) is type(evaluate(tree_expr, Scope()))
    assert _shape(expr) == _shape(tree_expr)
    assert expr.text == text.encode()


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_anything_more_than_a_plain_literal_stays_the_tree_s_node(text: str) -> None:
    expr = _top(text).attributes["x"].expr
    assert isinstance(expr, tree_sitter.Node)
    assert expr.type == "expression" and expr.text == text.encode()


def _tree_sitter_objects() -> int:
    gc.collect()
    # type(), not isinstance(): a dead weak proxy among gc's objects raises ReferenceError on __class__
    return sum(1 for o in gc.get_objects() if type(o) in (tree_sitter.Tree, tree_sitter.Node))


def test_a_file_of_literals_keeps_no_syntax_tree(tmp_path: Path) -> None:
    body = "".join(
        f'resource "aws_db_instance" "d{i}" {{\n  ca_cert_identifier = "rds-ca-2019"\n  allocated_storage = {i}\n'
        f'  apply_immediately = true\n  engine = "postgres"\n  engine_version = "16.4"\n}}\n'
        for i in range(50)
    )
    before = _tree_sitter_objects()
    top = parse_source(SourceFile(tmp_path / "m.tf", body.encode(), "hcl"))
    assert _tree_sitter_objects() == before  # (other tests in this worker may hold some: compare, don't assume 0)
    assert all(isinstance(a.expr, syntax.Literal) for b in top.blocks for a in b.attributes.values())


def test_an_expression_deeper_than_python_recursion_is_refused_with_its_place(tmp_path: Path) -> None:
    deep = "(" * 3000 + '"rds-ca-2019"' + ")" * 3000
    write_tf(tmp_path, {"main.tf": f'resource "aws_db_instance" "d" {{\n  ca_cert_identifier = {deep}\n}}\n'})
    result = run("check", tmp_path)
    assert result.exit_code == 2
    assert "main.tf:2: an expression nested too deeply for rdsca to evaluate" in result.output


def test_a_comment_between_name_and_value_is_not_the_value(tmp_path: Path) -> None:
    # tree-sitter puts the comment among the attribute's children; reading the third child as the value read the
    # comment or the "=" instead, and the retired CA below was undecided.
    write_tf(tmp_path, {"main.tf": """
        resource "aws_db_instance" "d" {
          engine             = "postgres"
          ca_cert_identifier /* pinned by the DBA */ = /* old */ "rds-ca-2019"
        }
    """})
    code, document = run_json("check", tmp_path)
    assert code == 1
    assert [d["policy"] for d in document["diagnostics"]] == ["rds-ca-retired"]


@pytest.mark.parametrize("data", [b"", b"\n", b"a", b"a\n", b"\n\n", b"ab\r\ncd\n\nef", b"x\rz\n" * 50])
def test_the_line_of_an_offset_counts_newlines_before_it(data: bytes) -> None:
    """Line numbers are computed from a table built in C (issue 30); a carriage return is not a line break."""
    source = SourceFile(Path("t.tf"), data, "hcl")
    assert [source.line_of(offset) for offset in range(len(data) + 1)] == [
        data.count(b"\n", 0, offset) + 1 for offset in range(len(data) + 1)
    ]
