"""Inline suppressions in Terraform: a finding a team has accepted, with the reason, in the block it is about.

``# rdsca:skip=<policy>[,<policy>...] <reason>`` (or ``//``) inside a resource or module block suppresses those
policies' findings for it; the reason is required. Checkov's ``#checkov:skip=CKV_AWS_211[:comment]`` is honoured for
the retired-CA policy it stands in for (CKV_AWS_211: "Ensure RDS uses a modern CaCert"), so a repository that
silenced Checkov need not say it twice; without a comment its reason is "no reason given". Only real comments
count (tree-sitter's comment nodes): the same text inside a string is not a suppression.

A suppression never hides a CA that AWS refuses at deploy time (retired, or refused by the engine): the deploy
fails whatever the report says. ``--allow-suppress-refused`` applies it anyway.
"""

from __future__ import annotations

import bisect
import functools
import re
from typing import Any

from rdsca import findings
from rdsca.findings import Suppression
from rdsca.rules import OTHER_TOOLS
from rdsca.terraform.model import Block, SourceFile

#: Checkov check ids rdsca's policies stand in for.
CHECKOV = {tools["checkov"]: name for name, tools in OTHER_TOOLS.items() if "checkov" in tools}
_RDSCA = re.compile(r"^(?:#|//)\s*rdsca:skip=([A-Za-z0-9_,-]+)(?:\s+(.*))?$")
_CHECKOV = re.compile(r"^(?:#|//)\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?$")


@functools.lru_cache(maxsize=256)
def _comments(data: bytes) -> tuple[tuple[int, str], ...]:
    from rdsca.terraform.hcl import _parser

    found = []
    stack = [_parser().parse(data).root_node]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            found.append((node.start_byte, node.text.decode("utf-8", "replace").strip()))
        else:
            stack.extend(node.children)
    return tuple(sorted(found))


@functools.lru_cache(maxsize=4096)
def _file_comments(file: SourceFile) -> tuple[tuple[int, ...], tuple[tuple[int, str], ...]]:
    """A file's comments that may suppress (their offsets, and offset and text), once per file: a file without
    ``skip=`` has none and is not parsed a second time (10,000 blocks in 100 files: 100 scans, not 10,000)."""
    if file.syntax != "hcl" or b"skip=" not in file.data:
        return (), ()
    comments = tuple(c for c in _comments(file.data) if "skip=" in c[1])
    return tuple(offset for offset, _ in comments), comments


def in_block(block: Block) -> tuple[list[Suppression], list[str]]:
    """The suppressions inside ``block`` (HCL files; JSON has no comments), and warnings about malformed ones."""
    file: SourceFile = block.file
    offsets, comments = _file_comments(file)
    if not comments:
        return [], []
    found: list[Suppression] = []
    warnings: list[str] = []
    first = bisect.bisect_left(offsets, block.span.start)
    last = bisect.bisect_left(offsets, block.span.end)
    for offset, text in comments[first:last]:
        where = f"{file.path}:{file.line_of(offset)}"
        if match := _RDSCA.match(text):
            reason = (match.group(2) or "").strip()
            if not reason:
                warnings.append(f"{where}: rdsca:skip without a reason is not applied: say why after the policies")
                continue
            found += [Suppression(p, reason, where) for p in match.group(1).split(",") if p]
        elif (match := _CHECKOV.match(text)) and match.group(1) in CHECKOV:
            found.append(Suppression(CHECKOV[match.group(1)], (match.group(2) or "").strip() or "no reason given",
                                     where))
    return found, warnings


def apply(
    diagnostics: list[dict[str, Any]], by_address: dict[str, list[Suppression]], allow_refused: bool,
    every: list[Suppression],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(kept diagnostics, suppressed ones with reason and location, warnings); ``every``: all the suppressions
    read, for the warning about those that match nothing."""
    kept, suppressed, warnings = findings.suppress(diagnostics, lambda d: by_address.get(d["address"], []),
                                                   allow_refused)
    return kept, suppressed, warnings + findings.unused(every)
