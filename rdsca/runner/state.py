"""Read a ``pulumi stack export`` file into what an offline preview needs: each resource's old inputs and outputs.

The engine plans an update from the checkpoint: ``ignore_changes`` puts the *old inputs* back into the new ones
before anything is analysed (pulumi/pulumi ``pkg/resource/deploy/step_generator.go``, ``processIgnoreChanges``), a
resource that already exists keeps its ID, and the provider's preview of an update starts from its *old outputs*.
Secrets exported with ``--show-secrets`` carry ``plaintext``; they stay in memory, wrapped as secrets. Encrypted
ones (``ciphertext``) cannot be read offline and count as unknown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdsca import sdk_internals
from rdsca.errors import RdscaError
from rdsca.runner.project import read_text

_SIG = sdk_internals.SIG_KEY
_SECRET = sdk_internals.SECRET_SIG


class StateError(RdscaError):
    """The state file cannot be used (exit 2): unreadable, not JSON, or not a stack export."""


@dataclass(frozen=True)
class OldResource:
    """One resource of the checkpoint, its values in wire form (secrets wrapped, unreadable ones unknown)."""

    urn: str
    type: str
    id: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    provider: str = ""


@dataclass(frozen=True)
class StackState:
    path: Path
    resources: dict[str, OldResource] = field(default_factory=dict)

    def get(self, urn: str) -> OldResource | None:
        return self.resources.get(urn)


def state_value(value: Any) -> Any:
    """A checkpoint value in wire form: ``--show-secrets`` plaintext becomes a wrapped secret; ciphertext, which
    only the stack's secrets provider can decrypt, becomes an unknown secret."""
    if isinstance(value, list):
        return [state_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get(_SIG) == _SECRET:
        if "plaintext" in value:
            try:
                inner = json.loads(value["plaintext"])
            except (TypeError, ValueError, RecursionError):
                inner = sdk_internals.UNKNOWN
            return {_SIG: _SECRET, "value": state_value(inner)}
        if "value" in value:
            return {_SIG: _SECRET, "value": state_value(value["value"])}
        return {_SIG: _SECRET, "value": sdk_internals.UNKNOWN}
    return {k: state_value(v) for k, v in value.items()}


def _properties(path: Path, where: str, resource: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = resource.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StateError(f"{path}: {where}: {key} must be an object, not {type(value).__name__}")
    converted: dict[str, Any] = state_value(value)
    return converted


def _resource(path: Path, index: int, resource: Any) -> OldResource | None:
    if not isinstance(resource, dict):
        raise StateError(f"{path}: resource #{index} is not an object")
    urn = resource.get("urn")
    if not isinstance(urn, str) or not urn:
        raise StateError(f"{path}: resource #{index} has no URN")
    if resource.get("delete"):
        return None  # a pending delete from an interrupted update: not part of the stack's state
    where = f"resource {urn}"
    rid, provider = resource.get("id"), resource.get("provider")
    return OldResource(
        urn=urn,
        type=str(resource.get("type") or ""),
        id=rid if isinstance(rid, str) else "",
        custom=bool(resource.get("custom", True)),
        inputs=_properties(path, where, resource, "inputs"),
        outputs=_properties(path, where, resource, "outputs"),
        provider=provider if isinstance(provider, str) else "",
    )


def load_state(path: Path) -> StackState:
    """The resources of a ``pulumi stack export`` file (checkpoint version 3; a bare deployment is accepted)."""
    text = read_text(path, StateError, "state")

    def refuse(constant: str) -> Any:
        # Python's json reads NaN and Infinity, which JSON has not and `pulumi stack export` never writes; passed on,
        # they failed the pack in AnalyzeStack, far from this file.
        raise StateError(f"{path}: not a stack export ({constant} is not a JSON value)")

    try:
        doc = json.loads(text, parse_constant=refuse)
    except RecursionError:
        raise StateError(f"{path}: not a stack export (JSON nested too deeply)") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise StateError(f"{path}: not a stack export (invalid JSON at {where}: {exc.msg})") from None
    deployment = doc.get("deployment", doc) if isinstance(doc, dict) else None
    resources = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(resources, list):
        raise StateError(f"{path}: not a stack export (expected deployment.resources, as `pulumi stack export`)")
    state = StackState(path)
    try:
        for index, resource in enumerate(resources):
            old = _resource(path, index, resource)
            if old is not None:
                state.resources[old.urn] = old
    except RecursionError:
        raise StateError(f"{path}: not a stack export (a value is nested too deeply)") from None
    return state
