"""Shared output helpers for every command: aligned tables for people, JSON for machines.

A table is declared once, next to its headers, as ``Column``s: which columns are identifiers (shown whole), which
may be left out on a narrow terminal (``elide``) and how a cell is coloured (``tone``). ``render_table`` is the plain
renderer a pipe, a file or a CI log gets (the column declarations change nothing there);
``rdsca.terminal.echo_table`` uses them on a terminal.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _json_string
from typing import Any, Literal

import click

#: How a cell reads on a colour terminal: ``bad`` red (retired, refused, will break), ``warn`` yellow (scheduled,
#: undecided), ``good`` green (ok, trusted, ready).
Tone = Literal["bad", "warn", "good"]


@dataclass(frozen=True)
class Column:
    """One column of a table, as the terminal renderer treats it (the plain renderer only reads ``header``)."""

    header: str
    #: On a terminal too narrow for the table, columns are left out from the highest ``elide`` down (after wrapping
    #: the others did not suffice); 0: always shown.
    elide: int = 0
    #: An identifier, name, address or fingerprint: shown whole on one line, never wrapped, shortened or cut.
    whole: bool = False
    #: Prose or a list (a message, the maintenance actions): wraps on a narrow terminal before other columns are
    #: left out. Other columns are left out (by ``elide``) before they would wrap.
    wrap: bool = False
    #: The tone of a cell from its text (None: no colour).
    tone: Callable[[str], Tone | None] | None = None


def ident(header: str, elide: int = 0) -> Column:
    """An identifier column (account, region, database, address, endpoint...): always whole."""
    return Column(header, elide, whole=True)


def ca_status_tone(text: str) -> Tone | None:
    """A CA status (``catalog.Status``): one that needs action is bad, ok is good; a status that is not one of the
    catalog's (``cannot decide``, ``not known until apply``) is a warning."""
    from rdsca import catalog  # only when a table is coloured: not at start-up

    try:
        status = catalog.Status(text)
    except ValueError:
        return "warn"
    if status.needs_action:
        return "bad"
    return "good" if status is catalog.Status.OK else None


def tones(mapping: Mapping[str, Tone]) -> Callable[[str], Tone | None]:
    """A tone per exact cell text (other texts: no colour)."""
    return mapping.get


def render_table(headers: Sequence[str | Column], rows: Sequence[Sequence[Any]]) -> str:
    """A plain table. Every cell is ``printable``: a name, certificate CN or address with a newline or U+202E (from a
    file, a plan, a server) cannot forge a row."""
    titles = [h.header if isinstance(h, Column) else str(h) for h in headers]
    cells = [titles] + [["" if c is None else printable(str(c)) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def emit_json(document: Any) -> None:
    """``json.dumps(document, indent=2, default=str)`` on stdout, byte for byte, about twice as fast and written in
    batches: with an indent, the standard library runs its pure-Python encoder, a generator per container, which
    took 0.18 s and 60 MB for a 10,000-resource Terraform report (12 MB of JSON; issue 30)."""
    out: list[str] = []
    append = out.append

    def encode(o: Any, indent: str) -> None:
        if isinstance(o, str):
            append(_json_string(o))
        elif o is None:
            append("null")
        elif o is True:
            append("true")
        elif o is False:
            append("false")
        elif isinstance(o, int):
            append(int.__repr__(o))
        elif isinstance(o, float):
            append(_json_float(o))
        elif isinstance(o, (dict, list, tuple)):
            if not o:
                append("{}" if isinstance(o, dict) else "[]")
                return
            if len(out) > 16384:
                click.echo("".join(out), nl=False)
                out.clear()
            inner = indent + "  "
            if isinstance(o, dict):
                separator = "{" + inner
                for key, value in o.items():
                    append(separator + _json_key(key) + ": ")
                    separator = "," + inner
                    encode(value, inner)
                append(indent + "}")
            else:
                separator = "[" + inner
                for value in o:
                    append(separator)
                    separator = "," + inner
                    encode(value, inner)
                append(indent + "]")
        else:
            encode(str(o), indent)

    encode(document, "\n")
    append("\n")
    click.echo("".join(out), nl=False)


def _json_float(o: float) -> str:
    if o != o:
        return "NaN"
    if o in (math.inf, -math.inf):
        return "Infinity" if o > 0 else "-Infinity"
    return float.__repr__(o)


def _json_key(key: Any) -> str:
    """A key as json.dumps writes it: strings escaped, numbers, booleans and null as their text, in quotes."""
    if isinstance(key, str):
        return _json_string(key)
    if key is True or key is False or key is None:
        return '"' + {True: "true", False: "false", None: "null"}[key] + '"'
    if isinstance(key, int):
        return '"' + int.__repr__(key) + '"'
    if isinstance(key, float):
        return '"' + _json_float(key) + '"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def printable(text: str, lines: bool = False) -> str:
    """``text`` on one line with control and format characters escaped (newlines, ANSI escapes, bidirectional
    overrides such as U+202E): messages that come from a program, a pack or a file cannot restyle the terminal
    or hide what they say. ``lines``: newlines and tabs are kept (a program's own multi-line error), every
    continuation line indented so that it cannot pass for a line of rdsca's."""
    if text.isprintable():  # no control, format or line-separator character at all (C speed: the common case)
        return text
    kept = ("\n", "\t") if lines else ()
    text = "".join(_escape(c) if unicodedata.category(c) in ("Cc", "Cf") and c not in kept else c for c in text)
    return text.replace("\n", "\n    ") if lines else text


def _escape(char: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


#: Enforcement levels whose findings fail a run (a policy at ``remediate`` that cannot remediate blocks like a
#: mandatory one, as in the Pulumi CLI).
FAILING_LEVELS = frozenset({"mandatory", "remediate"})


def apply_mode(apply_immediately: bool | None) -> str:
    """How every report words a CA change's apply mode: ``ApplyImmediately`` true is applied now; false or unset
    waits for the maintenance window (ModifyDBInstance, RDS API Reference)."""
    return "immediately" if apply_immediately is True else "maintenance window"


#: A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_row(row: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """A CSV row every writer of rdsca uses: missing values empty; control characters in text escaped as
    ``printable`` does (a CR or LF in a certificate name would start a forged row); and a text cell a spreadsheet
    would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) prefixed with a single quote, as
    OWASP's CSV-injection guidance says. Numbers are left as they are."""
    cells = {}
    for key in columns:
        value = row.get(key)
        if value is None:
            value = ""
        elif isinstance(value, str):
            value = ("'" + printable(value)) if value.startswith(_FORMULA_START) else printable(value)
        cells[key] = value
    return cells


def check_columns(first: str) -> list[Column]:
    """The columns of ``rdsca check``'s table, the same for a Pulumi program (``first``: DATABASE) and a Terraform
    configuration or plan (ADDRESS). On a narrow terminal KIND goes first, REGION last; the CA and its status stay."""
    return [
        ident(first),
        Column("KIND", elide=5),
        Column("REGION", elide=1),
        Column("ENGINE", elide=2),
        Column("CA"),
        Column("APPLY", elide=4),
        Column("RESTART", elide=3),
        Column("CA STATUS", tone=ca_status_tone),
    ]
