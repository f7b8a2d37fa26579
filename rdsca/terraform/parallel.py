"""A module's files parsed on two cores: a worker process parses a share of the files while this process parses the
rest, and sends back what it read as plain data.

tree-sitter's parse holds the GIL (threads do not help) and runs at about 5 MB/s on tree-sitter-hcl's grammar: a
10,000-resource configuration (2.5 MB) spent 0.45 s of 1.5 s in it, and 0.25 s more building blocks from the trees
(issue 30). The worker can send only what holds no syntax tree: files whose every attribute is a plain literal
(``rdsca.terraform.syntax.Literal``, most of a generated configuration) travel as tuples (``marshal``); for any
other file, or anything that goes wrong in the worker, it sends None and this process parses the file itself. The
worker is a pure accelerator: every block comes out as a sequential parse builds it (of the bytes this process read:
a file whose length or CRC-32 differs in the worker is parsed here), and every error is this process's own, raised
in file order.

The worker is a new interpreter running ``rdsca.terraform.parse_worker`` (``_command``), not a fork: forking a
process whose progress line runs a thread is unsafe, and a fork does not exist on Windows nor is safe on macOS. It
starts while this process parses its own share (its ~50 ms start-up is hidden), and is used from ``MIN_BYTES`` of
HCL on, where at least half of it may travel.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from rdsca.terraform.model import Attribute, Block, SourceFile, Span
from rdsca.terraform.syntax import Literal

#: Below this much HCL a second process does not pay for itself (its start-up: ~50 ms of the other core; this
#: process parses 1 MiB in about 0.2 s).
MIN_BYTES = 1 << 20
#: The worker's share of the bytes: under half, as the worker first starts and this process also rebuilds the
#: worker's blocks (a quarter of what parsing them costs); measured in docs/benchmarks.md.
WORKER_SHARE = 0.45
#: The worker stops when this many of its first files hold expressions (most hand-written configurations:
#: references and variables everywhere), so that it costs only its start-up there.
GIVE_UP_AFTER = 2
#: The worker's command line; None: ``_command()`` (the tests set one).
WORKER: list[str] | None = None
#: Which code answered: the worker sends this module's file name, and its answer counts only if it is this one's.
IDENTITY = __file__


def _command() -> list[str]:
    """This interpreter, isolated from the environment and the working directory (``-I``), importing from this
    process's ``sys.path``: ``python -m`` puts the working directory first, and run from another rdsca checkout the
    worker imported that one (a reviewer's finding: its parser reported rds-ca-2019 as another CA)."""
    flags = ["-I"] + (["-B"] if sys.flags.dont_write_bytecode else [])
    code = f"import sys; sys.path[:] = {sys.path!r}; from rdsca.terraform import parse_worker; parse_worker.main()"
    return [sys.executable, *flags, "-c", code]


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


def _parse(source: SourceFile, parse: Parse) -> Block | Exception:
    try:
        return parse(source)
    except Exception as exc:  # raised in file order by the caller: a later file's failure cannot hide this one's
        return exc


#: Text that only an expression holds (a reference, an interpolation): a file with any of it cannot travel.
_EXPRESSION_MARKS = (b"var.", b"local.", b"${", b"module.", b"data.", b"each.", b"count.", b"self.", b"path.")


def _maybe_plain(source: SourceFile) -> bool:
    """Whether the file may hold only plain literals (a search in C; parsing tells for sure)."""
    data = source.data
    return not any(mark in data for mark in _EXPRESSION_MARKS)


def _worker_allowed(sources: list[SourceFile]) -> bool:
    """At least ``MIN_BYTES`` of HCL in two files or more, and at least half of it in files that may travel: in
    hand-written configurations almost every file references something, and there a worker would only cost its
    start-up (+4% on 10,000 resources of expressions, measured)."""
    hcl = [s for s in sources if s.syntax == "hcl"]
    total = sum(len(s.data) for s in hcl)
    if not sys.executable or len(hcl) < 2 or total < MIN_BYTES:
        return False
    return 2 * sum(len(s.data) for s in hcl if _maybe_plain(s)) >= total


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


def _export_all(paths: list[bytes], parse: Parse) -> list[tuple[int, int, tuple[Any, ...]] | None]:
    """In the worker: per file, the length and CRC-32 of the bytes it read and their blocks as plain data; or None
    (the parent then parses the file itself and reports what is wrong with it)."""
    found: list[tuple[int, int, tuple[Any, ...]] | None] = []
    for path in paths:
        try:
            name = Path(os.fsdecode(path))
            data = name.read_bytes()
            found.append((len(data), zlib.crc32(data), _export(parse(SourceFile(name, data, "hcl")))))
        except Exception:  # any failure: the parent parses the file itself and reports it
            found.append(None)
        if len(found) == GIVE_UP_AFTER and not any(found):
            break  # a configuration of expressions: the parent parses every file
    return found + [None] * (len(paths) - len(found))


def _feed(stream: IO[bytes], data: bytes) -> None:
    with contextlib.suppress(OSError, ValueError), stream:  # the worker stopped early: its share is parsed here
        stream.write(data)


def parse_all(sources: list[SourceFile], parse: Parse) -> list[Block | Exception]:
    """Each source parsed (its top-level block) or the exception parsing it raised, in order, on two cores when that
    pays."""
    global last_from_worker
    last_from_worker = 0
    if not _worker_allowed(sources):
        return [_parse(source, parse) for source in sources]
    import subprocess  # only here: a check that needs no worker imports no subprocess (start-up)

    given = _shares(sources)
    theirs = [source for source, worker in zip(sources, given, strict=True) if worker]
    try:
        # stderr discarded: a Ctrl-C reaches the worker too (same process group), and it must print nothing.
        worker = subprocess.Popen(WORKER or _command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
    except OSError:
        return [_parse(source, parse) for source in sources]
    assert worker.stdin is not None and worker.stdout is not None
    # The worker reads the files itself (sending their bytes through a pipe from a thread of this process, which
    # holds the GIL while it parses, starved the worker: +0.1 s at 10,000 resources). Only its file names are
    # written, from a thread: a pipe holds 64 KiB, and this process parses its own share meanwhile.
    feeder = threading.Thread(
        target=_feed, args=(worker.stdin, marshal.dumps([os.fsencode(s.path) for s in theirs])), daemon=True
    )
    feeder.start()
    try:
        own = {id(s): _parse(s, parse) for s, worker_parses in zip(sources, given, strict=True) if not worker_parses}
        with worker.stdout:
            data = worker.stdout.read()
        worker.wait()
    finally:
        if worker.returncode is None:  # interrupted (Ctrl-C, SIGTERM, an error): the worker goes too
            worker.kill()
            worker.wait()
        feeder.join()
    try:
        identity, sent = marshal.loads(data) if worker.returncode == 0 else (None, None)
    except (EOFError, ValueError, TypeError):
        identity, sent = None, None
    if identity != IDENTITY or not isinstance(sent, list) or len(sent) != len(theirs):
        sent = [None] * len(theirs)  # the worker failed, or is other code: every file parsed here
    for source, payload in zip(theirs, sent, strict=True):
        # The bytes the worker parsed must be those read here: a file saved again since is parsed here, as read.
        block = None
        if isinstance(payload, tuple) and payload[:2] == (len(source.data), zlib.crc32(source.data)):
            with contextlib.suppress(ValueError, TypeError, IndexError):  # not the shape written: parsed here
                block = _rebuild(payload[2], source)
        if block is None:
            own[id(source)] = _parse(source, parse)
        else:
            own[id(source)] = block
            last_from_worker += 1
    return [own[id(source)] for source in sources]


def work(parse: Parse) -> None:
    """The worker (``rdsca.terraform.parse_worker``): the files' names (marshalled) on stdin; their blocks,
    marshalled, on stdout."""
    try:
        from rdsca import gc_policy

        paths = marshal.loads(sys.stdin.buffer.read())
        with gc_policy.amortised_collections():  # as in the parent: its exported blocks only grow
            found = _export_all(paths, parse)
        sys.stdout.buffer.write(marshal.dumps((IDENTITY, found)))
        sys.stdout.buffer.flush()
    except BaseException:  # Ctrl-C reaches the whole process group, a closed pipe: the worker just stops
        sys.exit(1)
