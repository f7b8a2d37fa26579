"""Full garbage collections once the heap has doubled, instead of each time it grew by a quarter: for the two
heaps that only grow, a program run in the host and a Terraform check.

A Pulumi program keeps every resource and output alive until it ends, so the heap only grows while it runs. CPython
(3.8 to 3.13) starts a full collection when the objects promoted to the oldest generation since the last one reach
25% of those it holds (``gcmodule.c``, ``long_lived_pending < long_lived_total / 4``): each full collection walks
the whole heap, so a program's collections cost about five times its last one. Measured with the SDK's own mocks
(bench/check_overhead.py): 10,000 databases spend 23 s of 53 s in full collections, which free almost nothing;
1,000 spend 2.3 s of 5.2 s.

Here a full collection waits until the process's peak resident memory has doubled since the last one: about twice
the last collection in all. (``getrusage`` is one system call; ``sys.getallocatedblocks`` walks every pool of the
heap, and asking it at each young collection made 10,000 databases three times slower.) Young generations are
collected as before, and every cycle is still collected, at most one doubling later. Python 3.14's incremental
collector has other thresholds: there, and where ``getrusage`` is missing (Windows), nothing is changed.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

try:
    import resource
except ImportError:  # Windows: no getrusage, the policy does not apply
    resource = None  # type: ignore[assignment]

#: The heap grows by this factor between two full collections (CPython's own rule is 1.25).
GROWTH = 2.0
#: A threshold no generation-1 counter reaches: no automatic full collection (``gc.set_threshold``).
_NEVER = 2**30


def _peak() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux, bytes on macOS: ratios only


class _Doubling:
    def __init__(self, threshold0: int, threshold1: int, threshold2: int) -> None:
        self.thresholds = (threshold0, threshold1, threshold2)
        self.baseline = _peak()
        self.armed = False
        self.current = (threshold0, threshold1, _NEVER)  # what the policy last set

    def _set(self, threshold0: int, threshold1: int, threshold2: int) -> None:
        self.current = (threshold0, threshold1, threshold2)
        gc.set_threshold(*self.current)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        # gc.collect() does nothing inside a callback (the collector is running): only the thresholds change here.
        if phase != "stop" or gc.get_threshold() != self.current:
            return  # the program set thresholds of its own (``gc.set_threshold(0)`` turns collection off): its choice
        threshold0, threshold1, threshold2 = self.thresholds
        if info["generation"] == 2:
            self.baseline = _peak()
            self.armed = False
            self._set(threshold0, threshold1, _NEVER)
        elif not self.armed and _peak() >= self.baseline * GROWTH:
            self.armed = True  # the next generation-1 collections may go on to a full one, by CPython's own rule
            self._set(threshold0, threshold1, threshold2)


#: Signals whose Python handler is wrapped while the policy holds (Ctrl-C, and what ``rdsca.interrupts`` stops on).
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _in_callback(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code is _Doubling.__call__.__code__:
            return True
        frame = frame.f_back
    return False


def _deferring(previous: Callable[[int, FrameType | None], Any]) -> Callable[[int, FrameType | None], Any]:
    """``previous``, except while the collector runs the policy. A Python signal handler runs in whatever Python code
    runs when the signal arrives, a collector callback too; and the collector prints an exception raised in a
    callback and drops it ("Exception ignored in ..."): Ctrl-C was lost in about one run in six of a 10,000-resource
    check interrupted at random, with a traceback on stderr. There the signal is sent again to the main thread a
    moment later, from another thread (the callback will have returned)."""

    def handler(signum: int, frame: FrameType | None) -> Any:
        if _in_callback(frame):
            threading.Timer(0.001, signal.pthread_kill, (threading.main_thread().ident, signum)).start()
            return None
        return previous(signum, frame)

    return handler


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_kill"):
        yield  # handlers can be set in the main thread only; no pthread_kill: Windows, where the policy is off
        return
    wrapped = {}
    for signum in _SIGNALS:
        previous = signal.getsignal(signum)
        if callable(previous):  # SIG_DFL and SIG_IGN act in C, never in a callback
            wrapped[signum] = (previous, _deferring(previous))
            signal.signal(signum, wrapped[signum][1])
    try:
        yield
    finally:
        for signum, (previous, handler) in wrapped.items():
            if signal.getsignal(signum) is handler:  # unless the program set a handler of its own since
                signal.signal(signum, previous)


@contextlib.contextmanager
def amortised_collections() -> Iterator[bool]:
    """While the block runs (a program in the host, a Terraform check), full collections wait for the heap to
    double; yields whether the policy applies here. The collector's thresholds and callbacks are as before
    afterwards."""
    thresholds = gc.get_threshold()
    if resource is None or not (3, 8) <= sys.version_info[:2] < (3, 14) or len(thresholds) != 3 or thresholds[2] <= 0:
        yield False
        return
    policy = _Doubling(*thresholds)
    with _signals_deferred():
        gc.callbacks.append(policy)
        gc.set_threshold(*policy.current)
        try:
            yield True
        finally:
            gc.callbacks.remove(policy)
            gc.set_threshold(*thresholds)
