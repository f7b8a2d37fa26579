"""Policy configuration, merged and validated one way for every front end, as the Pulumi CLI does it.

A ``--policy-pack-config`` file is ``{"all": LEVEL, "<policy>": LEVEL | {"enforcementLevel": LEVEL, ...}}``
(pulumi/pulumi ``pkg/resource/analyzer/config.go``: ``parsePolicyPackConfig``). Layers apply in order, each as the
CLI's ``applyConfig``: the layer's ``all`` level first, then each policy's level and properties over what is there.
The result is validated against each policy's JSON schema (``validatePolicyPackConfig``, gojsonschema, Draft 7),
errors listed by property. The runner layers a pack's schema defaults, its initial config and the user's files; the
Terraform front end layers rdsca's own rule defaults and the user's file. Neither needs the Pulumi SDK for this.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdsca.errors import RdscaError
from rdsca.files import read_text

#: Enforcement levels, as the CLI spells them in a policy config file.
LEVEL_NAMES = ("advisory", "mandatory", "remediate", "disabled")


class PolicyConfigError(RdscaError):
    """A policy config file that cannot be used, or a merged config its schemas refuse (exit 2)."""


@dataclass
class PolicyConfig:
    level: str
    properties: dict[str, Any] | None


def _entry(path: Path, key: str, value: Any) -> PolicyConfig | None:
    if isinstance(value, str):
        level, properties = value, None
    elif isinstance(value, dict):
        properties = dict(value)
        level = properties.pop("enforcementLevel", "")
        if not isinstance(level, str):
            raise PolicyConfigError(f"{path}: {key}: enforcementLevel must be a string")
        properties = properties or None
    else:
        raise PolicyConfigError(f"{path}: {key}: must be an enforcement level or an object")
    if level and level not in LEVEL_NAMES:
        raise PolicyConfigError(f"{path}: {key}: {level!r} is not an enforcement level ({', '.join(LEVEL_NAMES)})")
    return PolicyConfig(level, properties) if level or properties else None


def parse_config_file(path: Path) -> dict[str, PolicyConfig]:
    """Read one ``--policy-pack-config`` file."""
    text = read_text(path, PolicyConfigError, "policy config")
    if not text.strip():
        # Deliberately not an error: the CLI's parsePolicyPackConfig "gracefully allow[s] empty content" (config.go).
        return {}
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyConfigError(f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise PolicyConfigError(f"{path}: nested too deeply") from None
    if not isinstance(doc, dict):
        raise PolicyConfigError(f"{path}: must be a JSON object of policy names")
    result: dict[str, PolicyConfig] = {}
    for key, value in doc.items():
        entry = _entry(path, key, value)
        if entry is not None:
            result[key] = entry
    return result


def apply_layer(result: dict[str, PolicyConfig], layer: Mapping[str, PolicyConfig]) -> None:
    """The CLI's ``applyConfig``: a layer's ``all`` level first, then each entry's level and properties."""
    all_level = layer["all"].level if "all" in layer else ""
    if all_level:
        for cfg in result.values():
            cfg.level = all_level
    for name, cfg in layer.items():
        if name == "all":
            continue
        current = result.setdefault(name, PolicyConfig("", None))
        if cfg.level:
            current.level = cfg.level
        if cfg.properties:
            current.properties = {**(current.properties or {}), **cfg.properties}


def merge(
    defaults: Mapping[str, PolicyConfig], layers: Iterable[Mapping[str, PolicyConfig]]
) -> dict[str, PolicyConfig]:
    """``defaults`` (one entry per policy), then each layer in order."""
    result = {name: PolicyConfig(cfg.level, dict(cfg.properties or {}) or None) for name, cfg in defaults.items()}
    for layer in layers:
        apply_layer(result, layer)
    return result


def schema_errors(schema: Mapping[str, Any], properties: Mapping[str, Any] | None) -> list[str]:
    """What ``schema`` (JSON Schema, Draft 7) refuses in ``properties``, sorted by property as the CLI lists them."""
    import jsonschema  # only when a config is validated: rdsca's own defaults are valid by construction

    found = []
    for error in jsonschema.Draft7Validator(dict(schema)).iter_errors(dict(properties or {})):
        found.append((".".join(str(p) for p in error.absolute_path), error.message))
    return [f"{where + ': ' if where else ''}{message}" for where, message in sorted(found)]


def validate(
    config: Mapping[str, PolicyConfig], schemas: Mapping[str, Mapping[str, Any] | None], source: str = ""
) -> None:
    """Raise one ``PolicyConfigError`` listing every schema error, policy by policy (``source``: the file, if one)."""
    errors = [
        f"{name}: {error}"
        for name, schema in schemas.items()
        if schema is not None
        for error in schema_errors(schema, config[name].properties if name in config else None)
    ]
    if errors:
        prefix = f"{source}: " if source else ""
        raise PolicyConfigError(f"{prefix}invalid policy config: " + "; ".join(errors))


def unknown_names(given: Mapping[str, PolicyConfig], known: Iterable[str], pack: str) -> list[str]:
    """The warning the CLI gives for policy names a config sets that no policy of the pack has (it ignores them)."""
    unknown = sorted(set(given) - set(known) - {"all"})
    if not unknown:
        return []
    return [f"the policy config names {', '.join(unknown)}, which pack {pack} does not have"]
