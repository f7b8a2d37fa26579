"""A Terraform plan in JSON (``terraform show -json PLANFILE``) read into the resources rdsca judges: the planned
values (``after``), what is known only after apply (``after_unknown``), what the configuration leaves unset (the
``configuration`` section), and the planned state, which keeps a deployed value the code does not set.

Values marked sensitive (``after_sensitive``/``before_sensitive``) are never read: they become unknown, so no output
can print them. Source: Terraform docs, "JSON Output Format" (plan representation, change representation).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rdsca.resources import TERRAFORM_CLUSTER_FIELDS, TERRAFORM_TYPES, ResourceType, Unknown
from rdsca.terraform.model import ConfigError, Resource, SourceFile, Span

#: Actions after which the resource no longer exists: nothing to judge.
GONE = ({"delete"}, {"forget"})
_INDEX = re.compile(r"\[[^\]]*\]")


def read_plan_file(path: Path) -> tuple[SourceFile, dict[str, Any]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    # PowerShell's `>` writes UTF-16 with a byte order mark; Terraform itself writes UTF-8.
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = data.decode(encoding)
        document = json.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 or UTF-16 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid JSON: nested too deeply") from None
    if not is_plan(document):
        raise ConfigError(
            f"{path}: not a Terraform plan in JSON (expected the output of terraform show -json PLANFILE, "
            "with format_version and resource_changes)"
        )
    return SourceFile(path, text.encode("utf-8"), "json", editable=False), document


def is_plan(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("format_version"), str)
        and isinstance(document.get("resource_changes", []), list)
        and ("resource_changes" in document or "planned_values" in document)
    )


def _sensitive_keys(mask: Any) -> set[str] | None:
    """Top-level attribute names a sensitivity mask marks; None when the whole object is sensitive."""
    if mask is True:
        return None
    if isinstance(mask, dict):
        return {k for k, v in mask.items() if v is True or (v and isinstance(v, (dict, list)))}
    return set()


def _values(change: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    unknown = change.get("after_unknown") or {}
    values: dict[str, Any] = dict(after)
    if isinstance(unknown, dict):
        for key, flag in unknown.items():
            if flag is True:
                values[key] = Unknown(reason=f"{key} is known after apply")
    sensitive: set[str] = set()
    for mask in (change.get("after_sensitive"), change.get("before_sensitive")):
        keys = _sensitive_keys(mask)
        sensitive |= set(values) if keys is None else keys
    # A sensitive value is in the plan all the same: it is judged (a retired CA marked sensitive is still retired)
    # and never printed (the report shows "(sensitive)", messages mask it: ``Resource.sensitive``).
    return values, frozenset(sensitive)


def _config_module(configuration: dict[str, Any], module_address: str) -> dict[str, Any] | None:
    module = configuration.get("root_module")
    for part in _INDEX.sub("", module_address).split("."):
        if not part or part == "module" or not isinstance(module, dict):
            continue
        module = (module.get("module_calls") or {}).get(part, {}).get("module")
    return module if isinstance(module, dict) else None


def _configured(configuration: Any, rc: dict[str, Any]) -> set[str] | None:
    """Attribute names the configuration sets for this resource; None when the plan carries no configuration."""
    if not isinstance(configuration, dict):
        return None
    module = _config_module(configuration, rc.get("module_address", ""))
    if module is None:
        return None
    for resource in module.get("resources") or []:
        if resource.get("type") == rc.get("type") and resource.get("name") == rc.get("name"):
            expressions = resource.get("expressions")
            return set(expressions) if isinstance(expressions, dict) else set()
    return None


def _provider_region(configuration: Any) -> Any:
    if not isinstance(configuration, dict):
        return None
    provider = (configuration.get("provider_config") or {}).get("aws") or {}
    region = (provider.get("expressions") or {}).get("region") or {}
    return region.get("constant_value") if isinstance(region, dict) else None


def load_plan(path: Path) -> tuple[list[Resource], list[str]]:
    """The judged resources of a plan, and warnings. Raises ``ConfigError``."""
    source, document = read_plan_file(path)
    configuration = document.get("configuration")
    region = _provider_region(configuration)
    changes = [rc for rc in document.get("resource_changes") or [] if isinstance(rc, dict)]
    clusters = _cluster_versions(changes)
    locate = _Locator(source, source.data.find(b'"resource_changes"'))
    resources: list[Resource] = []
    for rc in changes:
        rtype = TERRAFORM_TYPES.get(rc.get("type", ""))
        change = rc.get("change")
        if rtype is None or rc.get("mode", "managed") != "managed":
            continue
        where = f"{path}: resource_changes entry {rc.get('address', '?')!s}"
        if not isinstance(change, dict):
            raise ConfigError(f"{where}: its change is not an object; not a plan from terraform show -json")
        after = change.get("after")
        if set(change.get("actions") or []) in GONE:
            continue
        if not isinstance(after, dict):
            # A malformed plan is an error, never a database silently left out of the check.
            raise ConfigError(f"{where}: its change's after is {type(after).__name__}, not an object")
        values, sensitive = _values(change, after)
        state = dict(values)
        configured = _configured(configuration, rc)
        for name in (rtype.fields.ca, rtype.fields.apply_immediately):
            if configured is not None and name and name not in configured:
                values.pop(name, None)  # unset in the code: the planned value is the deployed one (the state's)
        address = str(rc.get("address", ""))
        resources.append(
            Resource(
                address=address,
                type=rtype.token,
                name=str(rc.get("name", "")),
                values=values,
                location=locate(address),
                region=region,
                cluster_engine_version=_cluster_version(rtype, state, clusters),
                state=state,
                sensitive=sensitive,
                editable=False,
            )
        )
    return resources, []


def _cluster_versions(changes: list[dict[str, Any]]) -> dict[Any, Any]:
    """Engine version per cluster identifier, of every cluster type an instance may name."""
    types = {t.cluster_type for t in TERRAFORM_TYPES.values() if t.cluster_type}
    identifier, version = TERRAFORM_CLUSTER_FIELDS.identifier or "", TERRAFORM_CLUSTER_FIELDS.engine_version or ""
    versions: dict[Any, Any] = {}
    for rc in changes:
        after = (rc.get("change") or {}).get("after")
        if rc.get("type") in types and isinstance(after, dict) and isinstance(after.get(identifier), str):
            versions[after[identifier]] = after.get(version)
    return versions


def _cluster_version(rtype: ResourceType, state: dict[str, Any], clusters: dict[Any, Any]) -> Any:
    """The version of the cluster an instance names; for an instance whose type has no version argument
    (DocumentDB), the version the plan computes for it (its cluster's, read from the state)."""
    if rtype.fields.cluster is None:
        return None
    cluster = state.get(rtype.fields.cluster)
    version = clusters.get(cluster) if isinstance(cluster, str) else None
    if version is None and rtype.fields.engine_version is None:
        version = state.get(TERRAFORM_CLUSTER_FIELDS.engine_version or "")
    return version


class _Locator:
    """Where each resource change's ``"address"`` stands in the plan file. Changes come in file order, so each
    search starts where the last one ended (linear in the file; searching from the start each time was quadratic:
    20,000 changes took half a minute)."""

    def __init__(self, source: SourceFile, anchor: int) -> None:
        self.source, self.anchor, self.cursor = source, max(anchor, 0), max(anchor, 0)

    def __call__(self, address: str) -> Span:
        for start in (self.cursor, self.anchor):
            for needle in (
                json.dumps({"address": address})[1:-1],
                json.dumps({"address": address}, separators=(",", ":"))[1:-1],
            ):
                at = self.source.data.find(needle.encode("utf-8"), start)
                if at >= 0:
                    self.cursor = at + len(needle)
                    return Span(self.source, at, at + len(needle))
        return Span(self.source, 0, 0)
