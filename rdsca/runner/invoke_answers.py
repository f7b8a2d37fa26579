"""``rdsca check --invoke-answers FILE``: the user's own answers to a program's data-source calls (no Pulumi SDK).

The file maps a data-source token to its result, or to a list of cases matched on the call's arguments (the first
case whose ``args`` all equal the call's wins; a case without ``args`` matches every call)::

    aws:index/getCallerIdentity:getCallerIdentity:
      accountId: "111122223333"
    aws:ec2/getAmi:getAmi:
      - args: {owners: [amazon], mostRecent: true}
        result: {id: ami-0abcdef1234567890}
      - result: {id: ami-0fedcba0987654321}

Keys may be written as the Python SDK names them (``account_id``, ``most_recent``) or as the wire names the engine
uses (``accountId``, ``mostRecent``). JSON is YAML too, so either format works.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdsca.errors import RdscaError
from rdsca.runner.project import load_yaml

#: ``package:module:function``, as the SDK sends it (``aws:ec2/getAmi:getAmi``, ``random:index/x:x``).
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*:[A-Za-z0-9_./-]*:[A-Za-z_][A-Za-z0-9_]*")
_SNAKE = re.compile(r"_([a-z0-9])")


class InvokeAnswersError(RdscaError):
    """The ``--invoke-answers`` file cannot be used (one line naming the file)."""


@dataclass(frozen=True)
class Case:
    #: Arguments that must all equal the call's (wire names); None matches every call.
    args: dict[str, Any] | None
    result: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"args": self.args, "result": self.result}


def wire_name(name: str) -> str:
    """The engine's (camelCase) name for a Python SDK name: ``most_recent`` -> ``mostRecent``."""
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


def load_invoke_answers(path: Path) -> dict[str, list[Case]]:
    """Read and check an answers file; raise ``InvokeAnswersError`` naming the file and what is wrong."""
    doc = load_yaml(path, InvokeAnswersError)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InvokeAnswersError(
            f"{path}: must map data-source tokens (like aws:ec2/getAmi:getAmi) to results; got {_kind(doc)}"
        )
    answers: dict[str, list[Case]] = {}
    for token, value in doc.items():
        if not isinstance(token, str) or not TOKEN.fullmatch(token):
            raise InvokeAnswersError(
                f"{path}: {str(token)!r} is not a data-source token (package:module:function, like "
                "aws:ec2/getAmi:getAmi)"
            )
        if isinstance(value, list):
            answers[token] = [_case(f"{path}: {token}: case {i}", case) for i, case in enumerate(value, 1)]
        elif isinstance(value, dict):
            answers[token] = [_case(f"{path}: {token}", {"result": value})]
        else:
            raise InvokeAnswersError(
                f"{path}: {token}: expected a result (a mapping of field names to values) or a list of cases, "
                f"each {{args: ..., result: ...}}; got {_kind(value)}"
            )
    return answers


def _case(where: str, case: Any) -> Case:
    if not isinstance(case, dict) or not set(case) <= {"args", "result"} or "result" not in case:
        raise InvokeAnswersError(f"{where}: expected a mapping with a result and, optionally, args")
    result, args = case["result"], case.get("args")
    if not isinstance(result, dict):
        raise InvokeAnswersError(f"{where}: the result must be a mapping of field names to values, not {_kind(result)}")
    if args is not None and not isinstance(args, dict):
        raise InvokeAnswersError(f"{where}: args must be a mapping of argument names to values, not {_kind(args)}")
    try:
        # The answers cross to the program's process as JSON: YAML dates and the like become their text.
        plain = json.loads(json.dumps({"args": args, "result": result}, default=str))
    except (ValueError, RecursionError):
        raise InvokeAnswersError(f"{where}: a value that refers to itself or is nested too deeply") from None
    wire_args = {wire_name(str(k)): v for k, v in plain["args"].items()} if args is not None else None
    return Case(wire_args, {str(k): v for k, v in plain["result"].items()})


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", type(None): "nothing"}.get(type(value), type(value).__name__)


def match(cases: list[Case], args: Mapping[str, Any]) -> Case | None:
    """The first case whose arguments all equal the call's (``args``: wire names, secrets unwrapped)."""
    for case in cases:
        if case.args is None or all(k in args and args[k] == v for k, v in case.args.items()):
            return case
    return None


def to_spec(answers: Mapping[str, list[Case]]) -> dict[str, list[dict[str, Any]]]:
    """JSON for the host spec (the program's process reads it back with ``from_spec``)."""
    return {token: [case.to_json() for case in cases] for token, cases in answers.items()}


def from_spec(spec: Mapping[str, Any]) -> dict[str, list[Case]]:
    return {token: [Case(c["args"], c["result"]) for c in cases] for token, cases in spec.items()}
