"""What CI does with findings, the same for every command: suppressions, baselines, rule selection, a severity
filter and the decision to fail (pure; the shells in ``rdsca.cli`` read the options and files).

A finding is a dict with at least ``policy``, ``level``, ``message`` and the resource it is about: ``address``
(Terraform), ``urn`` (Pulumi) or ``arn`` (a live database); ``severity`` when the rule has one. Its identity is
(resource, policy): no line number, so it survives reformatting and moving a resource within a file (Checkov's and
Trivy's baselines are keyed the same way).

A suppressed or baselined finding does not fail the run; it is kept, with ``suppressed``: ``{"kind", "reason",
"location"}`` (``kind`` as SARIF 2.1.0's suppression kinds: ``inSource`` for a comment, ``external`` for the
configuration file or a baseline), so every format can list it.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdsca.errors import RdscaError
from rdsca.output import FAILING_LEVELS
from rdsca.rules import CA_RULES, REFUSED_AT_DEPLOY, STACK_STATE

BASELINE_FORMAT = "rdsca-baseline/1"


class FindingsError(RdscaError):
    """A baseline or suppression that cannot be read: exit 2, naming the file."""


def resource_of(finding: Mapping[str, Any]) -> str:
    """The resource a finding is about: a Terraform address, a Pulumi URN or an ARN."""
    for key in ("address", "urn", "arn", "resource"):
        if finding.get(key):
            return str(finding[key])
    return ""


def name_of(finding: Mapping[str, Any]) -> str:
    """The short name people use: a Pulumi resource's name (the URN's last part), else the resource."""
    resource = resource_of(finding)
    if resource.startswith("urn:pulumi:"):
        return resource.rsplit("::", 1)[-1]
    return str(finding.get("name") or resource)


def identity(finding: Mapping[str, Any]) -> tuple[str, str]:
    return resource_of(finding), str(finding["policy"])


# -- suppressions --------------------------------------------------------------------------------------------------


@dataclass
class Suppression:
    """``policy`` (or ``*``) accepted for one resource, with the reason and where it was said. A comment applies to
    the resource it stands in (``resource`` None); the configuration file's apply to resources whose address, URN,
    ARN or name match the glob ``resource``."""

    policy: str
    reason: str
    where: str
    kind: str = "inSource"
    resource: str | None = None
    used: bool = False

    def matches(self, finding: Mapping[str, Any]) -> bool:
        if self.policy not in ("*", finding.get("policy")):
            return False
        if self.resource is None:
            return True
        return any(fnmatch.fnmatchcase(text, self.resource) for text in (resource_of(finding), name_of(finding)))

    def label(self) -> str:
        return f"{self.policy} for {self.resource}" if self.resource else self.policy


def suppress(
    findings: Iterable[dict[str, Any]],
    lookup: Callable[[dict[str, Any]], Iterable[Suppression]],
    allow_refused: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(kept findings, suppressed ones with ``suppressed``, warnings). ``lookup`` gives the suppressions that may
    apply to a finding; the first that matches it is used."""
    kept, suppressed, warnings = [], [], []
    for finding in findings:
        match = next((s for s in lookup(finding) if s.matches(finding)), None)
        if match is None:
            kept.append(finding)
            continue
        match.used = True
        if finding["policy"] in REFUSED_AT_DEPLOY and not allow_refused:
            warnings.append(f"{match.where}: the suppression of {finding['policy']} for {resource_of(finding)} is not "
                            "applied: AWS refuses this CA at deploy time, so the deploy fails anyway "
                            "(--allow-suppress-refused applies it)")
            kept.append(finding)
            continue
        suppressed.append({**finding, "suppressed": {"kind": match.kind, "reason": match.reason,
                                                     "location": match.where}})
    return kept, suppressed, warnings


def unused(suppressions: Iterable[Suppression], judged: frozenset[str] | None = None) -> list[str]:
    """A suppression that matched nothing is a warning: the finding was fixed, or the name is wrong. Copies of one
    comment (a statement that constructs several resources in a loop) count as one: any that matched is used.
    ``judged``: the policies this command judges (None: all); a suppression of another policy (the configuration
    file's rds-ca-unset, under ``audit``) is for another command, not unused."""
    used: dict[tuple[str, str], bool] = {}
    for s in suppressions:
        if judged is not None and s.policy != "*" and s.policy not in judged:
            continue
        key = (s.where, s.label())
        used[key] = used.get(key, False) or s.used
    return [f"{where}: the suppression {label} matches no finding" for (where, label), ok in used.items() if not ok]


# -- baselines -----------------------------------------------------------------------------------------------------


def baseline_document(findings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Today's findings as a baseline: identities only (resource and policy), sorted, so that the file diffs well
    and shrinks as findings are fixed."""
    entries = sorted({identity(f) for f in findings})
    return {"format": BASELINE_FORMAT, "findings": [{"resource": r, "policy": p} for r, p in entries]}


def read_baseline(path: Path) -> set[tuple[str, str]]:
    """The identities in a baseline file; anything else is one clear error naming the file."""
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise FindingsError(f"--baseline {path}: no such file (create it with --create-baseline {path})") from None
    except OSError as exc:
        raise FindingsError(f"--baseline {path}: cannot read it ({exc.strerror or exc})") from None
    except (ValueError, RecursionError):
        raise FindingsError(f"--baseline {path}: not JSON (a baseline is written by --create-baseline)") from None
    entries = doc.get("findings") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("format") != BASELINE_FORMAT or not isinstance(entries, list):
        raise FindingsError(f"--baseline {path}: not an rdsca baseline (expected {{\"format\": "
                            f"\"{BASELINE_FORMAT}\", \"findings\": [...]}}, as --create-baseline writes)")
    found = set()
    for entry in entries:
        if not (isinstance(entry, dict) and isinstance(entry.get("resource"), str)
                and isinstance(entry.get("policy"), str)):
            raise FindingsError(f"--baseline {path}: every finding needs a 'resource' and a 'policy' (strings)")
        found.add((entry["resource"], entry["policy"]))
    return found


def apply_baseline(
    findings: Iterable[dict[str, Any]],
    baseline: set[tuple[str, str]],
    where: str,
    seen: Iterable[Mapping[str, Any]],
    allow_refused: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[str, str]], list[str]]:
    """(new findings, baselined ones, baseline entries found nowhere: fixed, so the file can shrink, warnings).
    ``seen``: the findings suppressed otherwise, which still count as present. A CA AWS refuses at deploy time
    stays failing, as for a suppression, unless ``allow_refused``."""
    kept, baselined, warnings = [], [], []
    present = {identity(f) for f in seen}
    for finding in findings:
        present.add(identity(finding))
        if identity(finding) in baseline and finding["policy"] in REFUSED_AT_DEPLOY and not allow_refused:
            warnings.append(f"{where}: {finding['policy']} for {resource_of(finding)} is in the baseline but still "
                            "fails: AWS refuses this CA at deploy time (--allow-suppress-refused accepts it)")
            kept.append(finding)
        elif identity(finding) in baseline:
            baselined.append({**finding, "suppressed": {"kind": "external", "reason": "in the baseline",
                                                        "location": where, "baseline": True}})
        else:
            kept.append(finding)
    return kept, baselined, sorted(baseline - present), warnings


# -- selection and the decision to fail ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """``--check``/``--skip-check`` (policy names, as Checkov's) and ``--severity`` (as Trivy's: only these)."""

    check: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()

    def keeps(self, finding: Mapping[str, Any]) -> bool:
        policy = finding.get("policy")
        if self.check and policy not in self.check:
            return False
        if policy in self.skip:
            return False
        # A finding without a severity is kept: a filter must not hide what it cannot rank.
        return not self.severities or not finding.get("severity") or finding["severity"] in self.severities


@dataclass(frozen=True)
class FailOn:
    """``--hard-fail-on``: only findings of these policies or levels fail the run (an advisory one too);
    ``--soft-fail-on``: findings of these do not (Checkov's options)."""

    hard: frozenset[str] = frozenset()
    soft: frozenset[str] = frozenset()

    def fails(self, findings: Iterable[Mapping[str, Any]], default: bool) -> bool:
        """Whether ``findings`` (what remains after suppressions and baselines) fail the run; ``default``: the front
        end's own answer (a mandatory violation, or a retired CA without a pack) when no option is given."""
        if not self.hard and not self.soft:
            return default

        def named(f: Mapping[str, Any], names: frozenset[str]) -> bool:
            return f.get("policy") in names or f.get("level") in names

        failing = [f for f in findings if (named(f, self.hard) if self.hard else f.get("level") in FAILING_LEVELS)]
        return any(not named(f, self.soft) for f in failing)


@dataclass
class Processed:
    """What remains, what was set aside and why, and what to warn about."""

    findings: list[dict[str, Any]]
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    #: Findings that ``Selection`` left out (not printed, not failing).
    hidden: int = 0
    #: Baseline entries no finding has any more.
    gone: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def process(
    findings: Iterable[dict[str, Any]],
    selection: Selection = Selection(),
    suppressions: Iterable[Suppression] = (),
    baseline: tuple[set[tuple[str, str]], str] | None = None,
    allow_refused: bool = False,
    already_suppressed: Iterable[dict[str, Any]] = (),
    inline: Callable[[dict[str, Any]], Iterable[Suppression]] | None = None,
    judged: frozenset[str] | None = None,
) -> Processed:
    """Selection first (what is not asked for is not reported, suppressed or not), then the comments in the source
    (``inline``, or ``already_suppressed`` by the front end), then the configuration file's suppressions, then the
    baseline (a finding suppressed by a comment or the file is not "new")."""
    items = list(findings)
    chosen = [f for f in items if selection.keeps(f)]
    earlier = [f for f in already_suppressed if selection.keeps(f)]
    warnings: list[str] = []
    if inline is not None:
        chosen, by_comment, warnings = suppress(chosen, inline, allow_refused)
        earlier += by_comment
    rules = list(suppressions)
    kept, suppressed, more = suppress(chosen, lambda _f: rules, allow_refused)
    suppressed = [*earlier, *suppressed]
    warnings += more
    gone: list[tuple[str, str]] = []
    if baseline is not None:
        entries, where = baseline
        kept, baselined, gone, more = apply_baseline(kept, entries, where, suppressed, allow_refused)
        suppressed += baselined
        warnings += more
    return Processed(kept, suppressed, len(items) - len(chosen), gone, warnings + unused(rules, judged))


def set_aside_lines(suppressed: Iterable[Mapping[str, Any]], hidden: int = 0) -> list[str]:
    """The table's account of what does not fail the run: each suppressed or baselined finding with its reason and
    where it was said, and how many findings the selection left out."""
    items = list(suppressed)
    lines = [f"Suppressed ({len(items)}, not failing the run):"] if items else []
    for f in items:
        why = f["suppressed"]
        lines.append(f"    - {f['policy']}  ({resource_of(f)}): {why['reason']} [{why['location']}]")
    if hidden:
        lines.append(f"{hidden} finding(s) not shown (--check, --skip-check, --severity).")
    return lines


# -- one finding per resource and problem ------------------------------------------------------------------------

_RANK = {"mandatory": 0, "remediate": 0, "advisory": 1, "disabled": 2}


def merge(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One finding per resource and problem, citing every policy that found it (``policies``): a stack-state
    finding on a resource that a CA rule also flagged is the same problem. The first finding's message is kept
    and the strictest level; order is kept."""
    items = [dict(f) for f in findings]
    by_resource: dict[str, dict[str, Any]] = {}
    for f in items:
        f.setdefault("policies", [f["policy"]])
        if f["policy"] in CA_RULES:
            by_resource.setdefault(resource_of(f), f)
    merged: list[dict[str, Any]] = []
    for f in items:
        host = by_resource.get(resource_of(f)) if f["policy"] == STACK_STATE else None
        if host is None:
            merged.append(f)
            continue
        host["policies"] = [*host["policies"], f["policy"]]
        if _RANK.get(f["level"], 3) < _RANK.get(host["level"], 3):
            host["level"] = f["level"]
    return merged


def cited(finding: Mapping[str, Any]) -> str:
    """A merged finding's message, naming the other policies that found the same problem."""
    others = [p for p in finding.get("policies", []) if p != finding["policy"]]
    return finding["message"] + (f" (also found by {', '.join(others)})" if others else "")


def short_message(message: str, description: str | None = None) -> str:
    """A message for a table: its first line that is not the policy's description (a pack's message starts with
    it, as the engine shows it), without the command line outside the IaC tool (``--format json`` keeps the whole
    message)."""
    lines = [line for line in message.splitlines() if line.strip() and line.strip() != description]
    text = lines[0] if lines else ""
    start = text.find(" (outside ")
    if start != -1:
        end = text.find(").", start)
        text = text[:start] + (text[end + 1 :] if end != -1 else "")
    return text


def results(
    findings: Iterable[Mapping[str, Any]], suppressed: Iterable[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The one finding shape every command's JSON carries as ``results`` (``docs/schemas/results.schema.json``):
    merged per resource and problem, remaining findings first, then those set aside with why."""
    shaped = []
    for f in [*merge(findings), *merge(suppressed)]:
        shaped.append({
            "policy": f["policy"],
            "policies": f["policies"],
            "level": f["level"],
            "severity": f.get("severity"),
            "resource": resource_of(f),
            "name": name_of(f),
            "message": f["message"],
            "location": f.get("location"),
            "suppressed": f.get("suppressed"),
        })
    return shaped
