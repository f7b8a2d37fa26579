"""The offline engine's pure steps: ignore_changes as the engine resets paths, the secret filter, default provider
names, and the state file reader."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rdsca import sdk_internals
from rdsca.runner.engine import default_provider_name
from rdsca.runner.ignore_changes import PathError, parse_path, process_ignore_changes
from rdsca.runner.secrets import SecretFilter, secret_strings
from rdsca.runner.state import StateError, load_state

SIG, SECRET = sdk_internals.SIG_KEY, sdk_internals.SECRET_SIG


def secret(value: object) -> dict:
    return {SIG: SECRET, "value": value}


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("root", ["root"]),
        ("root.nested", ["root", "nested"]),
        ('root["key with \\"quotes\\""]', ["root", 'key with "quotes"']),
        ('root["a.b"][100]', ["root", "a.b", 100]),
        ("root.array[*].field", ["root", "array", "*", "field"]),
        ("foo-bar", ["foo-bar"]),
    ],
)
def test_property_paths_parse_as_the_engine_parses_them(text: str, path: list) -> None:
    assert parse_path(text) == path


@pytest.mark.parametrize("text", [".a", "a.", "a[", 'a["b', "a[x]"])
def test_bad_property_paths(text: str) -> None:
    with pytest.raises(PathError):
        parse_path(text)


@pytest.mark.parametrize(
    ("new", "old", "ignored", "expected", "invalid"),
    [
        # The old value comes back; a property the old inputs lack is removed.
        ({"ca": "new", "x": 1}, {"ca": "old"}, ["ca"], {"ca": "old", "x": 1}, []),
        ({"ca": "new"}, {}, ["ca"], {}, []),
        # Nested keys, and a path through keys that neither side has.
        ({"tags": {"a": "1", "b": "2"}}, {"tags": {"a": "0"}}, ["tags.a"], {"tags": {"a": "0", "b": "2"}}, []),
        ({"x": 1}, {"x": 2}, ["tags.a"], {"x": 1}, []),
        # Array elements can be reset but not added or removed.
        ({"l": [1, 2]}, {"l": [9, 8]}, ["l[1]"], {"l": [1, 8]}, []),
        ({"l": [1]}, {"l": [9, 8]}, ["l[1]"], {"l": [1]}, ["l[1]"]),
        # The wildcard resets every key.
        ({"m": {"a": 1, "b": 2}}, {"m": {"a": 0, "c": 3}}, ["m.*"], {"m": {"a": 0, "c": 3}}, []),
        # A value reset out of a secret stays secret.
        ({"s": {"k": "new"}}, {"s": secret({"k": "old"})}, ["s.k"], {"s": {"k": secret("old")}}, []),
        # A path that does not parse is skipped, as the engine skips it.
        ({"ca": "new"}, {"ca": "old"}, ["ca["], {"ca": "new"}, []),
    ],
)
def test_ignore_changes_resets_paths_as_the_engine(new: dict, old: dict, ignored: list, expected: dict, invalid: list) -> None:
    result, bad = process_ignore_changes(new, old, ignored)
    assert (result, bad) == (expected, invalid)
    assert new is not result  # the new inputs themselves are untouched


def test_the_secret_filter_follows_the_engine() -> None:
    secrets = SecretFilter()
    secrets.add(secret_strings({"a": secret("hunter2"), "b": secret(["ab", "true", 'q"uote']), "c": "plain"}))
    assert secrets.text("hunter2 and ab and true") == "[secret] and ab and true"  # short and boolean: kept
    assert secrets.text(json.dumps({"p": 'q"uote'})) == '{"p": "[secret]"}'  # its JSON-escaped form too
    assert secrets.text("plain") == "plain"
    assert secrets.value({"hunter2": ["x hunter2"]}) == {"[secret]": ["x [secret]"]}


@pytest.mark.parametrize(
    ("version", "url", "name"),
    [
        ("", "", "default"),
        ("7.51.1", "", "default_7_51_1"),
        ("1.2.3-alpha.1+build.5", "", "default_1_2_3_alpha_1_build_5"),
        ("4.0.0", "https://example.com/x", "default_4_0_0_https___example.com_x"),
    ],
)
def test_default_provider_names(version: str, url: str, name: str) -> None:
    assert default_provider_name(version, url) == name


def test_a_state_file_keeps_inputs_outputs_ids_and_wraps_secrets(tmp_path: Path) -> None:
    urn = "urn:pulumi:dev::p::aws:rds/instance:Instance::db"
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": [
        {"urn": urn, "id": "db-1", "type": "aws:rds/instance:Instance", "inputs": {"engine": "mysql"},
         "outputs": {"password": {SIG: SECRET, "plaintext": '"hunter2"'}, "key": {SIG: SECRET, "ciphertext": "x"}}},
        {"urn": urn + "-gone", "delete": True},
    ]}}))  # fmt: skip
    state = load_state(path)
    old = state.get(urn)
    assert old is not None and old.id == "db-1" and old.inputs == {"engine": "mysql"}
    assert old.outputs == {"password": secret("hunter2"), "key": secret(sdk_internals.UNKNOWN)}
    assert state.get(urn + "-gone") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{nope", "not a stack export (invalid JSON"),
        ('{"version": 3}', "not a stack export (expected deployment.resources"),
        ('{"deployment": {"resources": [3]}}', "resource #0 is not an object"),
        ('{"deployment": {"resources": [{"id": "x"}]}}', "resource #0 has no URN"),
        # Issue 24.20: NaN reached the pack and failed AnalyzeStack without naming the file.
        ('{"deployment": {"resources": [{"urn": "u", "outputs": {"port": NaN}}]}}', "(NaN is not a JSON value)"),
        ('{"deployment": {"resources": [{"urn": "u", "inputs": {"n": -Infinity}}]}}', "(-Infinity is not a JSON"),
    ],
)
def test_state_file_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(StateError, match=re.escape(message)):
        load_state(path)
    with pytest.raises(StateError, match="cannot read state"):
        load_state(tmp_path / "missing.json")
