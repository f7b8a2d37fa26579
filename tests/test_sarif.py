"""SARIF output shared by every command: artifact URIs that name the file whatever its name."""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path

import pytest

from .conftest import invoke


def test_sarif_uri_names_a_file_whose_name_is_not_a_plain_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SARIF's artifactLocation.uri is a URI reference: a space or '#' written as is cuts the path (a scanner reads
    'my stack#1/...' as 'my stack' plus a fragment), and a file name that is not UTF-8 was written as a lone
    surrogate. Its bytes are percent-encoded now, and decoding the URI gives the file back."""
    stack = tmp_path / "my stack#1"
    stack.mkdir()
    name = os.fsdecode(b"db-\xff%.tf")
    (stack / name).write_text('resource "aws_db_instance" "a" {\n  engine = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n')
    monkeypatch.chdir(tmp_path)
    code, out, _err = invoke("check", "my stack#1", "--format", "sarif")
    assert code == 1
    (found,) = json.loads(out)["runs"][0]["results"]
    uri = found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20stack%231/db-%FF%25.tf"
    assert urllib.parse.unquote_to_bytes(uri) == os.fsencode(Path("my stack#1") / name)
