"""A module's files parsed on two cores: a forked worker parses a share of the files while this process parses the
rest, and sends back what it read as plain data.

tree-sitter's parse holds the GIL (threads do not help) and runs at about 5 MB/s on tree-sitter-hcl's grammar: a
10,000-resource configuration (2.5 MB) spent 0.45 s of 1.5 s in it, and as long again building blocks from the
trees (issue 30). The worker can send only what holds no syntax tree: files whose every attribute is a plain literal
(``rdsca.terraform.syntax.Literal``), which is most configurations, travel as tuples (``marshal``); for any other
file, or anything that goes wrong in the worker, it sends None and this process parses the file itself. The worker
is a pure accelerator: every block comes out as a sequential parse builds it, and every error is this process's own,
raised in file order.

Used where forking is safe and pays: on Linux (``fork`` without ``exec`` is unsafe on macOS and absent on Windows),
in a process with no other thread (a terminal's progress line runs one), and for at least ``MIN_BYTES`` of HCL.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

from rdsca.terraform.model import Attribute, Block, ConfigError, SourceFile, Span
from rdsca.terraform.syntax import Literal

#: Below this much HCL a second process does not pay for itself (a fork and a pipe: a few milliseconds; parsing 1 MiB
#: takes about 0.2 s).
MIN_BYTES = 1 << 20
#: The worker's share of the bytes. This process also rebuilds the worker's blocks (a quarter of what parsing them
#: costs), but a forked worker is slower per file (copy-on-write faults): measured at 10,000 resources in 100 files,
#: 0.45-0.5 is fastest (0.45 s to parse them all, against 0.55 s at 0.6 and 0.70 s in one process).
WORKER_SHARE = 0.5

#: The worker stops when this many of its first files hold expressions (most hand-written configurations: references
#: and variables everywhere), so that it costs only a fork there.
GIVE_UP_AFTER = 2

Parse = Callable[[SourceFile], Block]
#: How many files' blocks the last ``parse_all`` took from the worker (the tests count it).
last_from_worker = 0


class _NotPlain(Exception):
    """An attribute whose value is not a plain literal: it keeps a syntax tree, which cannot travel."""


def _export(block: Block) -> tuple[Any, ...]:
    attributes = []
    for attribute in block.attributes.values():
        expr = attribute.expr
        if type(expr) is not Literal:
            raise _NotPlain
        span, value = attribute.span, attribute.value
        attributes.append((attribute.name, span.start, span.end, value.start, value.end, expr.value))
    return (block.type, block.labels, attributes, [_export(child) for child in block.blocks], block.span.start,
            block.span.end, block.body_start, block.body_end)


def _rebuild(data: tuple[Any, ...], source: SourceFile) -> Block:
    kind, labels, attributes, blocks, start, end, body_start, body_end = data
    return Block(
        kind,
        labels,
        {
            name: Attribute(name, Literal(value, value_start, value_end, source), Span(source, start_, end_),
                            Span(source, value_start, value_end))
            for name, start_, end_, value_start, value_end, value in attributes
        },
        [_rebuild(child, source) for child in blocks],
        Span(source, start, end),
        body_start,
        body_end,
    )


def _parse(source: SourceFile, parse: Parse) -> Block | ConfigError:
    try:
        return parse(source)
    except ConfigError as exc:
        return exc


def _worker_allowed(sources: list[SourceFile]) -> bool:
    hcl = [s for s in sources if s.syntax == "hcl"]
    return (
        sys.platform == "linux"
        and hasattr(os, "fork")
        and len(hcl) > 1
        and sum(len(s.data) for s in hcl) >= MIN_BYTES
        and threading.active_count() == 1
    )


def _shares(sources: list[SourceFile]) -> list[bool]:
    """Per source: whether the worker parses it (HCL only), about ``WORKER_SHARE`` of the bytes, interleaved."""
    given, total, theirs = [], 0, 0
    for source in sources:
        size = len(source.data)
        worker = source.syntax == "hcl" and theirs < WORKER_SHARE * (total + size)
        given.append(worker)
        total += size
        theirs += size if worker else 0
    return given


def _work(sources: list[SourceFile], parse: Parse, fd: int) -> NoReturn:
    """In the worker: each source's blocks as plain data, or None; written to ``fd``, then exit at once."""
    code = 1
    try:
        found: list[tuple[Any, ...] | None] = []
        for source in sources:
            try:
                found.append(_export(parse(source)))
            except Exception:  # any failure: the parent parses the file itself and says why
                found.append(None)
            if len(found) == GIVE_UP_AFTER and not any(found):
                break  # a configuration of expressions: the parent parses every file, the worker stops costing
        found += [None] * (len(sources) - len(found))
        data = marshal.dumps(found)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        code = 0
    except BaseException:  # Ctrl-C reaches the whole process group: the worker just stops
        pass
    finally:
        os._exit(code)  # no atexit handler, no flush of the parent's buffers


def parse_all(sources: list[SourceFile], parse: Parse) -> list[Block | ConfigError]:
    """Each source parsed (its top-level block) or its error, in order, on two cores when that is safe and pays."""
    global last_from_worker
    last_from_worker = 0
    if not _worker_allowed(sources):
        return [_parse(source, parse) for source in sources]
    given = _shares(sources)
    theirs = [source for source, worker in zip(sources, given, strict=True) if worker]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        os.close(read_end)
        _work(theirs, parse, write_end)
    os.close(write_end)
    reaped = False
    try:
        with os.fdopen(read_end, "rb") as stream:
            own = {id(s): _parse(s, parse) for s, worker in zip(sources, given, strict=True) if not worker}
            data = stream.read()
        os.waitpid(pid, 0)
        reaped = True
    finally:
        if not reaped:  # interrupted (Ctrl-C, SIGTERM, an error): the worker goes too
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    try:
        sent = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        sent = None
    if not isinstance(sent, list) or len(sent) != len(theirs):
        sent = [None] * len(theirs)  # the worker stopped early: every file parsed here
    for source, payload in zip(theirs, sent, strict=True):
        if payload is None:
            own[id(source)] = _parse(source, parse)
        else:
            own[id(source)] = _rebuild(payload, source)
            last_from_worker += 1
    return [own[id(source)] for source in sources]
