"""``rdsca check DIR --fix`` and ``--diff``: edits to Terraform files by source position, so that comments and
formatting stay as they are. The CA literal is replaced where it lives (the attribute, a variable's default, a
local, a module argument), or the attribute is added where unset; ``apply_immediately = true`` is added only where
the CA changes and the block sets no ``apply_immediately`` of its own. Anything else is reported "fix by hand".
Files are checked unchanged since they were read and written atomically."""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdsca import catalog, files
from rdsca.resources import TERRAFORM_TYPES, DatabaseView, Kind
from rdsca.rules import (
    Rule,
    apply_decision_for,
    rds_ca_allowed_list,
    rds_ca_engine_support,
    rds_ca_expiring,
    rds_ca_retired,
    rds_ca_unset,
)
from rdsca.terraform import judge
from rdsca.terraform.hcl import parse_source
from rdsca.terraform.judge import TerraformReport
from rdsca.terraform.model import Block, ConfigError, Resource, SourceFile, Span
from rdsca.text import shorten

#: The rules whose findings ``--fix`` acts on, in the order their fixes are tried: those whose remediation moves the
#: CA (rds-ca-apply-immediately's only keeps the current one, and --fix adds apply_immediately only with a new CA).
FIXING: tuple[Rule, ...] = tuple(
    module.RULE
    for module in (rds_ca_retired, rds_ca_engine_support, rds_ca_allowed_list, rds_ca_expiring, rds_ca_unset)
)


@dataclass(frozen=True)
class FixOptions:
    target_ca: str | None = None
    fallback_ca: str | None = None
    #: False (--no-apply-immediately): never add apply_immediately; else ``catalog.apply_decision`` decides.
    apply_immediately: bool = True
    #: ``catalog.apply_decision``'s policy: auto (AWS's guide), allow, avoid.
    restart: str = "auto"


@dataclass
class Edit:
    file: SourceFile
    start: int
    end: int
    text: str
    address: str


@dataclass(frozen=True)
class Expected:
    """What an edited file must hold after the edit: the resource block (type, name) with ``name = text``."""

    file: SourceFile
    address: str
    block: tuple[str, str]
    attribute: str
    text: str


@dataclass
class Plan:
    edits: dict[tuple[int, int, int], Edit] = field(default_factory=dict)
    fixes: list[dict[str, Any]] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)

    def add(self, edit: Edit) -> str | None:
        """Add an edit; the address of a conflicting edit of the same text span, if any."""
        key = (id(edit.file), edit.start, edit.end)
        existing = self.edits.get(key)
        if existing is not None and existing.text != edit.text:
            return existing.address
        self.edits.setdefault(key, edit)
        return None


def _rule_config(config: dict[str, Any], options: FixOptions) -> dict[str, Any]:
    """A rule's config with ``--ca`` and ``--fallback-ca`` in place of its ``targetCa`` and ``fallbackCa``."""
    config = dict(config)
    if options.target_ca is not None:
        config["targetCa"] = options.target_ca
    if options.fallback_ca is not None:
        config["fallbackCa"] = options.fallback_ca
    return config


def _quoted(file: SourceFile, value: str) -> str:
    return json.dumps(value)  # an HCL quoted string needs the same escapes as JSON for CA identifiers


def _line_start(data: bytes, offset: int) -> int:
    return data.rfind(b"\n", 0, offset) + 1


def _own(block: Block) -> list[Any]:
    """The block's attributes written in its own file (an override file's merged ones live elsewhere)."""
    return [a for a in block.attributes.values() if a.span.file is block.file]


def _indent(block: Block) -> str:
    data = block.file.data
    for attribute in _own(block):
        start = _line_start(data, attribute.span.start)
        return data[start : attribute.span.start].decode("utf-8", "replace")
    start = _line_start(data, block.span.start)
    own = data[start : block.span.start].decode("utf-8", "replace")
    return (own if not own.strip() else "") + "  "


def _append(block: Block, pairs: list[tuple[str, str]]) -> Edit:
    """New attributes at the end of the block's attributes, as their own paragraph (terraform fmt aligns the ``=``
    of adjacent lines; a blank line keeps the existing group as it is)."""
    file, data = block.file, block.file.data
    if file.syntax == "json":
        text = ", ".join(f"{json.dumps(name)}: {value}" for name, value in pairs)
        return Edit(file, block.body_start, block.body_start, text + (", " if _own(block) else ""), "")
    width = max(len(name) for name, _value in pairs)
    if data.find(b"\n", block.body_start, block.body_end) < 0:
        # A one-line block (resource "x" "y" { engine = "mysql" }): open it up, one line per attribute.
        own_start = _line_start(data, block.span.start)
        own = data[own_start : block.span.start].decode("utf-8", "replace")
        base = own if not own.strip() else ""
        inner = data[block.body_start : block.body_end].decode("utf-8").strip()
        kept = f"{base}  {inner}\n\n" if inner else ""
        lines = "".join(f"{base}  {name.ljust(width)} = {value}\n" for name, value in pairs)
        return Edit(file, block.body_start, block.body_end, f"\n{kept}{lines}{base}", "")
    indent = _indent(block)
    lines = "".join(f"\n{indent}{name.ljust(width)} = {value}" for name, value in pairs)
    if _own(block):
        last = max(_own(block), key=lambda a: a.span.end)
        line_end = data.find(b"\n", last.span.end)
        at = len(data) if line_end < 0 else line_end
        return Edit(file, at, at, "\n" + lines, "")
    newline = data.find(b"\n", block.body_start, block.body_end)
    return Edit(file, newline, newline, lines, "")


_COMMENTED = re.compile(rb'^(\s*[A-Za-z0-9_-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^"#\n]*?))(\s+)(#|//)')


def _align_comment(data: bytes, at: int, line: str) -> str:
    """``line`` (``name = value # comment``) with its comment where ``terraform fmt`` puts it: in a run of
    attribute lines, trailing comments share one column, one space after the longest commented line. The run is
    the lines around ``at`` with no blank line between them."""
    body, _, comment = line.partition(" # ")
    columns = []
    for neighbour in _run_around(data, at):
        match = _COMMENTED.match(neighbour)
        if match:
            columns.append(len(match.group(1).decode("utf-8", "replace")) + len(match.group(2)))
    column = max([*columns, len(body) + 1])
    return f"{body.ljust(column - 1)} # {comment}" if column > len(body) + 1 or not columns else f"{body} # {comment}"


def _run_around(data: bytes, at: int) -> list[bytes]:
    lines = data.split(b"\n")
    index = data[:at].count(b"\n")  # the anchor's line; the new one goes after it
    run = []
    for step in (-1, 1):
        i = index if step == -1 else index + 1
        while 0 <= i < len(lines) and lines[i].strip() and b"=" in lines[i] and not lines[i].strip().endswith(b"{"):
            run.append(lines[i])
            i += step
    return run


def _after(block: Block, anchor_name: str, name: str, value: str) -> list[Edit]:
    """A new ``name = value`` line just after attribute ``anchor_name``, aligned with it; always inside the block,
    whatever its layout (a closing brace on the anchor's line, or a whole block on one line)."""
    file, data = block.file, block.file.data
    anchor = block.attributes[anchor_name]
    if anchor.span.file is not file:
        # The anchor came from an override file (merged into this block): the new line goes in the block itself.
        return [_append(block, [(name, value)])]
    if file.syntax == "json":
        return [Edit(file, anchor.span.end, anchor.span.end, f", {json.dumps(name)}: {value}", "")]
    line_end = data.find(b"\n", anchor.span.end)
    at = len(data) if line_end < 0 else line_end
    # Keep the alignment terraform fmt gives a run of attributes: pad the name to the anchor's "=" column.
    prefix = data[anchor.span.start : anchor.value.start].decode("utf-8")
    padded = name.ljust(prefix.index("=") - 1) if "=" in prefix else name
    if block.body_end > at:
        line = f"{_indent(block)}{padded} = {value}"
        if " # " in value:
            line = _align_comment(data, at, line)
        return [Edit(file, at, at, f"\n{line}", "")]
    # The closing brace is on the anchor's line (`  ca = "x" }`, or `resource "t" "n" { ca = "x" }`): the new line
    # goes before the brace, which moves to a line of its own at the block's indentation. A one-line block is
    # opened too (HCL allows one attribute at most in a one-line block, and wants a newline after "{").
    own_start = _line_start(data, block.span.start)
    own = data[own_start : block.span.start].decode("utf-8", "replace")
    base = own if not own.strip() else ""
    edits = []
    opened = data.find(b"\n", block.body_start, anchor.span.start) >= 0
    indent = _indent(block) if opened else base + "  "
    if not opened:
        edits.append(Edit(file, block.body_start, anchor.span.start, f"\n{indent}", ""))
    edits.append(Edit(file, anchor.span.end, block.body_end, f"\n{indent}{padded} = {value}\n{base}", ""))
    return edits


@dataclass(frozen=True)
class Target:
    """What a flagged resource is moved to: the CA from the first fixing rule that names one, and whether that
    rule's config wants ``apply_immediately = true`` with it."""

    ca_id: str | None
    #: The rule's config ``applyImmediately`` (None: not set, the apply-mode rule decides), False with
    #: --no-apply-immediately.
    apply_immediately: bool | None
    #: The CA the config or --ca asked for (what the engine refused, when ``ca_id`` is None).
    wanted: str | None = None
    restart: str = "auto"


def _target(subject: DatabaseView, rules: list[Rule], config: judge.Settings, options: FixOptions) -> Target:
    wanted = None
    for rule in rules:
        rule_config = _rule_config(config[rule.name][1], options)
        wanted = wanted or rule_config.get("targetCa")
        ca_id = rule.fix(subject, rule_config) if rule.fix else None
        if ca_id:
            configured = rule_config.get("applyImmediately")
            apply = False if not options.apply_immediately else configured if isinstance(configured, bool) else None
            # --restart wins over the policy config's restart, which wins over auto.
            policy = options.restart if options.restart != "auto" else rule_config.get("restart") or "auto"
            return Target(ca_id, apply, restart=policy)
    return Target(None, False, wanted)


def plan_fixes(report: TerraformReport, config: judge.Settings, options: FixOptions) -> Plan:
    """The edits that put every flagged resource on a current CA, and the fixes to make by hand."""
    plan = Plan()
    flagged: dict[str, list[Rule]] = {}
    for d in report.outcome.diagnostics:
        rule = next((r for r in FIXING if r.name == d["policy"]), None)
        if rule is not None and config[rule.name][0] != "disabled":
            flagged.setdefault(d["address"], []).append(rule)
    callers = _callers(report.resources)
    for resource in report.resources:
        rules = flagged.get(resource.address)
        subject = judge.view(resource) if rules and resource.block is not None else None
        if rules and subject is not None:
            shared = sorted(callers.get(id(resource.block), ())) if resource.block is not None else []
            target = _target(subject, rules, config, options)
            _plan_resource(plan, resource, subject, target, shared if len(shared) > 1 else [])
    return plan


_INSTANCE_KEY = re.compile(r"\[[^\]]*\]")


def _callers(resources: list[Resource]) -> dict[int, set[str]]:
    """Per resource block: the module calls that use it (``module.a``, ``module.b.module.c``; the instances of one
    ``count``/``for_each`` call are one caller). A block in a module that several calls use is shared: an edit
    inside it changes every caller."""
    found: dict[int, set[str]] = {}
    for resource in resources:
        if resource.block is None or not resource.address.startswith("module."):
            continue
        call = _INSTANCE_KEY.sub("", resource.address.rsplit(f".{resource.type}.", 1)[0])
        found.setdefault(id(resource.block), set()).add(call)
    return found


def _by_hand(plan: Plan, resource: Resource, message: str) -> None:
    plan.fixes.append({"address": resource.address, "action": "by-hand", "message": f"fix by hand: {message}"})


def _blocker(resource: Resource, subject: DatabaseView, ca_id: str | None, wanted: str | None = None) -> str | None:
    """Why the resource's CA cannot be written at all, if so."""
    block = resource.block
    assert block is not None
    if subject.kind is Kind.AURORA_CLUSTER:
        # rdsca never writes a CA onto an Aurora cluster (AWS refuses it there) and removes nothing by itself.
        return f"remove {subject.ca_property} from this Aurora cluster and set the CA on its instances"
    if ca_id is None and wanted:
        engine = " ".join(x for x in (subject.engine, subject.engine_version) if x) or "this engine"
        return f"{engine} refuses {wanted}: give --fallback-ca (for example {catalog.RSA2048_G1})"
    if ca_id is None:
        engine = subject.engine or "this engine"
        return f"no current CA is known to work for {engine}: choose one its engine version supports"
    name = subject.ca_property
    origin = resource.origins.get(name)
    if not resource.editable and not _from_caller(block, name, origin):
        return (
            f"it is declared in an installed module ({block.span.where()}), which rdsca never edits: "
            "set the CA through the module's inputs or upstream"
        )
    if name not in block.attributes:
        return None
    wanted = f"set it to {json.dumps(ca_id)}"
    if origin is None or origin.span is None:
        return f"{name}: {origin.by_hand if origin else 'not a literal'}; {wanted}"
    if not origin.span.file.editable:
        return f"{name} comes from {origin.span.where()}, a file rdsca does not edit; {wanted}"
    return None


def _from_caller(block: Block, name: str, origin: Any) -> bool:
    """The CA literal of a module's resource is the caller's own, in a file rdsca edits (a module argument): the
    edit lands there, whatever module the resource is declared in."""
    return name in block.attributes and origin is not None and origin.span is not None and origin.span.file.editable


def _ca_edit(
    resource: Resource, block: Block, name: str, ca_id: str, apply: str | None, apply_value: str = "true"
) -> Edit:
    """The CA literal replaced where it lives, or the attribute added (with ``apply`` when not None)."""
    if name in block.attributes:
        span = resource.origins[name].span
        assert span is not None
        return Edit(span.file, span.start, span.end, _quoted(span.file, ca_id), resource.address)
    pairs = [(name, _quoted(block.file, ca_id))] + ([(apply, apply_value)] if apply else [])
    return dataclasses.replace(_append(block, pairs), address=resource.address)


def _restart_words(subject: DatabaseView) -> str:
    """``restarts the database: sqlserver-se 15.00...`` (or ``may restart``, where only AWS knows)."""
    engine = " ".join(x for x in (subject.engine, subject.engine_version) if x) or "engine not known here"
    restart = catalog.restart_on_rotation(subject.engine, subject.engine_version)
    if restart is catalog.Restart.UNKNOWN and subject.engine and not subject.engine_version:
        engine += ", version not known here"
    return f"{'restarts' if restart is catalog.Restart.YES else 'may restart'} the database: {engine}"


def _shared_text(shared: list[str]) -> str:
    return f"the module is used by {', '.join(shared)}, and an edit inside it changes every one of them"


def _shared_blocker(resource: Resource, block: Block, name: str, shared: list[str]) -> str | None:
    """A CA whose literal lives inside a module several calls use: writing it would move every caller. A CA that
    comes from the caller's own module argument is that caller's to change (the edit lands in the caller)."""
    origin = resource.origins.get(name)
    caller_s = origin is not None and origin.span is not None and not _in_module(origin.span.file, block.file)
    if name in block.attributes and caller_s:
        return None  # the literal is the caller's (a module argument in the calling file)
    return f"{name}: {_shared_text(shared)}; set the CA through a module argument of each caller"


def _in_module(file: SourceFile, module_file: SourceFile) -> bool:
    return file.path.parent == module_file.path.parent


def _line_comment(edit: Edit) -> str | None:
    """The comment after an edited value on its line (``#``, ``//`` or ``/* */``), if any."""
    data = edit.file.data
    end = data.find(b"\n", edit.end)
    rest = data[edit.end : end if end != -1 else len(data)].decode("utf-8", "replace").strip()
    for marker in ("#", "//", "/*"):
        if rest.startswith(marker):
            return shorten(rest)
    return None


def _plan_resource(
    plan: Plan, resource: Resource, subject: DatabaseView, target: Target, shared: list[str] | None = None
) -> None:
    block, name = resource.block, subject.ca_property
    assert block is not None
    reason = _blocker(resource, subject, target.ca_id, target.wanted)
    if reason is None and shared:
        reason = _shared_blocker(resource, block, name, shared)
    if reason is not None or target.ca_id is None:
        _by_hand(plan, resource, reason or "no CA to write")
        return
    # The one apply-mode rule: apply_immediately is added only with a new CA that it applies now, and an explicit
    # value is kept. A database that restarts because of it gets a comment saying so (restarts are never silent).
    apply_name = TERRAFORM_TYPES[resource.type].fields.apply_immediately
    decision = apply_decision_for(subject, target.apply_immediately, target.restart)
    if not (subject.type.database and decision.immediately) or apply_name in block.attributes:
        apply_name = None
    if apply_name and (shared or not resource.editable):
        # The block is every caller's, or an installed module's: apply_immediately added there would change them
        # all, or a file rdsca never edits.
        why = _shared_text(shared) if shared else "the module is installed, and rdsca never edits it"
        plan.fixes.append({"address": resource.address, "action": "by-hand", "message": (
            f"fix by hand: {apply_name} = true is not added: {why}; set it per caller through a module argument")})
        apply_name = None
    restarts = _restart_words(subject)
    apply_value = "true"
    if decision.restarts_now and block.file.syntax != "json":
        apply_value = f"true # {restarts}"
    edit = _ca_edit(resource, block, name, target.ca_id, apply_name if name not in block.attributes else None,
                    apply_value)
    where = Span(edit.file, edit.start, edit.end).where()
    conflict = plan.add(edit)
    if conflict:
        _by_hand(plan, resource, f"{name} comes from {where}, which {conflict} needs set to another CA")
        return
    resource_block = (resource.type, resource.name)
    if edit.file is block.file and block.span.start <= edit.start <= block.span.end:
        # (A CA that comes from a variable or local is edited where its literal lives, outside the block.)
        quoted = _quoted(block.file, target.ca_id)
        plan.expected.append(Expected(block.file, resource.address, resource_block, name, quoted))
    message = f"{name} = {json.dumps(target.ca_id)} ({where})"
    comment = _line_comment(edit)
    if comment:
        # Comments are left as they are (they are the user's), but one on the fixed line may describe the old CA.
        message += f"; the line keeps its comment {comment!r}, which may describe the old CA"
    plan.fixes.append({"address": resource.address, "action": "ca", "message": message})
    if apply_name:
        if name in block.attributes:
            for edit in _after(block, name, apply_name, apply_value):
                plan.add(dataclasses.replace(edit, address=resource.address))
        plan.fixes.append({"address": resource.address, "action": "apply",
                           "message": f"{apply_name} = true: {decision.why} (applying now also applies every other "
                           "pending modification of it)"})
        plan.expected.append(Expected(block.file, resource.address, resource_block, apply_name, "true"))
        if decision.restarts_now:
            plan.fixes.append({"address": resource.address, "action": "restart",
                               "message": f"{restarts.replace(': ', ' when applied (', 1)}); applying now also "
                               "applies every other pending modification of it"})
    elif subject.type.database and apply_name is None and not decision.immediately:
        plan.fixes.append({"address": resource.address, "action": "window", "message": decision.why})


def apply_edits(plan: Plan) -> dict[SourceFile, bytes]:
    """The new content of every file the plan changes."""
    by_file: dict[SourceFile, list[Edit]] = {}
    for edit in plan.edits.values():
        by_file.setdefault(edit.file, []).append(edit)
    result: dict[SourceFile, bytes] = {}
    for file, edits in by_file.items():
        data = file.data
        # A file with Windows line endings gets them on the lines rdsca adds too (and nothing lands between a CR
        # and its LF).
        crlf = b"\r\n" in data
        for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
            start, end, text = edit.start, edit.end, edit.text
            if crlf:
                text = text.replace("\r\n", "\n").replace("\n", "\r\n")
                if start == end and data[start - 1 : start + 1] == b"\r\n":
                    start = end = start - 1
            data = data[:start] + text.encode("utf-8") + data[end:]
        result[file] = data
    return result


def checked(plan: Plan, changes: dict[SourceFile, bytes]) -> dict[SourceFile, bytes]:
    """Every edited file parsed again before anything is written or shown: a file whose new text does not parse, or
    in which an edit did not land inside the block it meant, keeps its original text (its fixes become by hand)."""
    kept: dict[SourceFile, bytes] = {}
    for file, data in changes.items():
        problem = _landing_problem(file, data, [e for e in plan.expected if e.file is file])
        if problem is None:
            kept[file] = data
            continue
        addresses = dict.fromkeys(e.address for e in plan.expected if e.file is file)
        plan.fixes = [f for f in plan.fixes if f["address"] not in addresses]
        for address in addresses:
            message = f"fix by hand: {problem}; {file.path} is unchanged"
            plan.fixes.append({"address": address, "action": "by-hand", "message": message})
    return kept


def _landing_problem(file: SourceFile, data: bytes, expected: list[Expected]) -> str | None:
    if file.syntax == "json":
        try:
            json.loads(data)
        except ValueError as exc:
            return f"rdsca's edit would not parse as JSON ({exc})"
        return None
    try:
        top = parse_source(SourceFile(file.path, data, file.syntax, file.editable))
    except ConfigError as exc:
        return f"rdsca's edit would not parse ({exc})"
    blocks = {(b.labels[0], b.labels[1]): b for b in top.blocks if b.type == "resource" and len(b.labels) == 2}
    for e in expected:
        block = blocks.get(e.block)
        attribute = block.attributes.get(e.attribute) if block else None
        if attribute is None or data[attribute.value.start : attribute.value.end].decode("utf-8") != e.text:
            return f"rdsca's edit of {e.attribute} would not land inside {e.address}'s block"
    return None


def unified_diff(changes: dict[SourceFile, bytes], base: Path) -> str:
    chunks: list[str] = []
    for file, data in sorted(changes.items(), key=lambda item: str(item[0].path)):
        name = os.path.relpath(file.path, base) if base.is_dir() else file.path.name
        before = file.data.decode("utf-8").splitlines(keepends=True)
        after = data.decode("utf-8").splitlines(keepends=True)
        chunks.extend(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"))
    return "".join(chunks)


def write_files(changes: dict[SourceFile, bytes]) -> None:
    """Write every changed file atomically (``rdsca.files``), after checking that none changed since it was read.
    A symbolic link keeps pointing at the file it named: the file it names is rewritten. Raises ``ConfigError``."""
    for file in changes:
        try:
            current = file.path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{file.path}: cannot read it again before writing: {exc.strerror or exc}") from None
        if current != file.data:
            raise ConfigError(f"{file.path} changed since rdsca read it; nothing was written: run the check again")
    written: list[str] = []
    for file, data in changes.items():
        target = file.path.resolve()
        try:
            files.write_file(target, data, files.existing_mode(target) or files.ordinary_mode())
        except OSError as exc:
            done = f" (already written: {', '.join(written)})" if written else "; nothing was written"
            raise ConfigError(f"{file.path}: cannot write it: {exc.strerror or exc}{done}") from None
        written.append(str(file.path))


def fix_report(
    report: TerraformReport,
    options: FixOptions,
    *,
    write: bool,
    assignments: list[tuple[str, str]] | None = None,
    config_file: Path | None = None,
) -> tuple[TerraformReport, str]:
    """Plan the fixes: the report with the planned fixes and the unified diff; with ``write``, the files are written
    and the report is the re-check after the fix. The target CAs are checked by the caller
    (``catalog.require_target``). Raises ``ConfigError``."""
    from rdsca.terraform.check import check

    plan = plan_fixes(report, judge.settings(config_file)[0], options)
    changes = checked(plan, apply_edits(plan))
    diff = unified_diff(changes, report.path)
    if write:
        write_files(changes)
        report = check(report.path, report.kind, assignments, config_file)
    report.fixes = plan.fixes
    return report, diff
