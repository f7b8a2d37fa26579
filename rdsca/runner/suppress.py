"""Inline suppressions in a Pulumi Python program: ``# rdsca:skip=<policy>[,<policy>...] <reason>`` on the
statement that constructs the resource (any of its lines, or a comment line right above it).

Where a resource was constructed is what the SDK sends with its registration (``RegisterResourceRequest
.sourcePosition``): the first stack frame outside the SDK (``_get_source_position`` in the Python SDK's
``pulumi/runtime/resource.py``). A resource built inside a helper function, a component or ``rotate_all`` points
at that frame, not at the caller's: there, suppress it by name or URN in the configuration file (``.rdsca.yaml``).
Only real comments count (Python's own tokenizer): the same text inside a string is not a suppression. The reason
is required, as for Terraform (``rdsca.terraform.suppress``).
"""

from __future__ import annotations

import functools
import io
import re
import tokenize
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from rdsca.findings import Suppression

_RDSCA = re.compile(r"^#\s*rdsca:skip=([A-Za-z0-9_,-]+)(?:\s+(.*))?$")


@functools.lru_cache(maxsize=64)
def _statements(path: Path) -> tuple[tuple[int, int, tuple[tuple[int, str], ...]], ...]:
    """Each logical statement of a file as (first line, last line, its comments and the comment lines just above
    it); empty when the file cannot be read or tokenized."""
    try:
        source = path.read_bytes()
    except OSError:
        return ()
    found: list[tuple[int, int, tuple[tuple[int, str], ...]]] = []
    pending: list[tuple[int, str]] = []  # comments since the last statement ended
    start: int | None = None
    try:
        for token in tokenize.tokenize(io.BytesIO(source).readline):
            if token.type == tokenize.COMMENT:
                pending.append((token.start[0], token.string))
            elif token.type == tokenize.NEWLINE:
                if start is not None:
                    found.append((start, token.end[0], tuple(pending)))
                start, pending = None, []
            elif token.type == tokenize.NL:
                if start is None and pending and pending[-1][0] < token.start[0] - 1:
                    pending = []  # a blank line: the comments above belong to nothing
            elif token.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER):
                start = token.start[0] if start is None else start
    except (tokenize.TokenError, SyntaxError):
        return tuple(found)
    return tuple(found)


def at(source: Mapping[str, Any]) -> tuple[list[Suppression], list[str]]:
    """The suppressions on the statement at a registration's ``sourcePosition`` (``{"uri", "line"}``), and
    warnings about malformed ones."""
    parsed = urlparse(str(source.get("uri", "")))
    if parsed.scheme != "file" or not source.get("line"):
        return [], []
    path, line = Path(unquote(parsed.path)), int(source["line"])
    found: list[Suppression] = []
    warnings: list[str] = []
    for first, last, comments in _statements(path):
        if not first <= line <= last:
            continue
        for number, text in comments:
            if not (match := _RDSCA.match(text.strip())):
                continue
            where = f"{path}:{number}"
            reason = (match.group(2) or "").strip()
            if not reason:
                warnings.append(f"{where}: rdsca:skip without a reason is not applied: say why after the policies")
                continue
            found += [Suppression(p, reason, where) for p in match.group(1).split(",") if p]
        break
    return found, warnings


def by_urn(sources: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, list[Suppression]], list[str]]:
    """Every registration's suppressions by URN (one statement may construct several resources in a loop: each
    gets its own copies, and a copy that matches nothing is not warned about while another matched)."""
    found: dict[str, list[Suppression]] = {}
    warnings: list[str] = []
    for urn, source in sources.items():
        suppressions, problems = at(source)
        warnings += problems
        if suppressions:
            found[urn] = suppressions
    return found, list(dict.fromkeys(warnings))
