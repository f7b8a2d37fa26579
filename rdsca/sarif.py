"""The one SARIF 2.1.0 writer: every command that reports findings for code scanning builds its document here.

SARIF 2.1.0: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html. GitHub code scanning ranks results
by a rule's ``security-severity`` property (0-10: critical >= 9, high >= 7, medium >= 4, low below):
https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdsca import __version__

INFORMATION_URI = "https://github.com/rdsca/rdsca"
SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: ``security-severity`` per rdsca severity.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
#: SARIF level per enforcement level (a violation at level remediate that remains blocks, like mandatory).
LEVEL = {"mandatory": "error", "remediate": "error", "advisory": "warning", "disabled": "none"}
TAGS = ("security", "rds", "tls")


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    #: The rule's default SARIF level: ``error``, ``warning``, ``note`` or ``none``.
    level: str
    severity: str | None = None
    help: str | None = None
    help_uri: str | None = None

    def to_json(self) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "id": self.id,
            "shortDescription": {"text": self.description},
            "defaultConfiguration": {"level": self.level},
            "properties": {"tags": list(TAGS)},
        }
        if self.help:
            rule["help"] = {"text": self.help}
        if self.help_uri:
            rule["helpUri"] = self.help_uri
        if self.severity in SECURITY_SEVERITY:
            rule["properties"]["security-severity"] = SECURITY_SEVERITY[self.severity]
        return rule


def location(
    path: Path | str | None = None,
    line: int | None = None,
    logical_name: str | None = None,
    column: int | None = None,
) -> dict[str, Any]:
    """A result's location: a file and line (relative to the working directory when it can be), and/or a logical
    name (a URN, an ARN, a Terraform address) for what has no file. ``column`` (1-based) where a line holds many
    results, as a plan from ``terraform show -json`` does (one line)."""
    result: dict[str, Any] = {}
    if path is not None:
        region: dict[str, Any] = {"startLine": max(int(line or 1), 1)}
        if column is not None:
            region["startColumn"] = max(int(column), 1)
        result["physicalLocation"] = {"artifactLocation": {"uri": _uri(Path(path))}, "region": region}
    if logical_name:
        result["logicalLocations"] = [{"fullyQualifiedName": logical_name, "kind": "resource"}]
    return result


def _uri(path: Path) -> str:
    """``artifactLocation.uri`` is a URI reference (SARIF 2.1.0 section 3.4.3, RFC 3986): a path relative to the
    working directory, its bytes percent-encoded, so a space, ``#``, ``%`` or a name that is not UTF-8 still names
    the file (``as_uri`` does the same for absolute paths)."""
    try:
        relative = Path(os.path.relpath(path, Path.cwd())).as_posix()
    except ValueError:  # another drive on Windows
        return path.resolve().as_uri()
    return urllib.parse.quote(os.fsencode(relative), safe="/")


def result(rule_id: str, level: str, message: str, locations: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"ruleId": rule_id, "level": level, "message": {"text": message}, "locations": list(locations)}


def document(automation_id: str, rules: Sequence[Rule], results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A SARIF log with one run of rdsca."""
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "rdsca",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule.to_json() for rule in rules],
                    }
                },
                "automationDetails": {"id": automation_id},
                "results": list(results),
            }
        ],
    }


def ca_rules(tool: str, help_uri: str) -> dict[str, Rule]:
    """The rules for the catalog's two verdicts that need action, named for the ``tool`` that reports them."""
    return {
        "retired": Rule(
            f"rdsca-{tool}-retired-ca", "A database uses a retired, unknown or expired CA", "error", "critical",
            help_uri=help_uri,
        ),
        "refused": Rule(
            f"rdsca-{tool}-refused-ca", "A database uses a CA its engine version does not support", "error", "high",
            help_uri=help_uri,
        ),
    }


def suppression(suppressed: dict[str, Any]) -> dict[str, Any]:
    """A SARIF 2.1.0 ``suppression`` (section 3.35) from a finding's ``suppressed`` (``rdsca.findings``): kind
    ``inSource`` (a comment in the file) or ``external`` (the configuration file, a baseline), with the reason as
    justification and where it was said as a property."""
    found: dict[str, Any] = {"kind": suppressed["kind"], "justification": suppressed["reason"]}
    if suppressed.get("location"):
        found["properties"] = {"location": str(suppressed["location"])}
    return found
