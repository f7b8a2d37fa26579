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
import sys
from collections.abc import Iterator
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
    gc.callbacks.append(policy)
    gc.set_threshold(*policy.current)
    try:
        yield True
    finally:
        gc.callbacks.remove(policy)
        gc.set_threshold(*thresholds)
