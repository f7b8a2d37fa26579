"""A bounded pool of worker threads that Ctrl-C stops at once.

``concurrent.futures.ThreadPoolExecutor`` joins its workers when the interpreter exits, so a Ctrl-C during a call to
an endpoint that never answers waits for every in-flight call to time out. These workers are daemon threads: when the
caller stops waiting (Ctrl-C, an error, enough results), nothing more is started and the process can exit at once;
a call still in flight is abandoned with it. Tasks may submit further tasks (an account's regions, once listed).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

K = TypeVar("K")


@dataclass
class Done(Generic[K]):
    key: K
    value: Any = None
    error: BaseException | None = None


class Pool(Generic[K]):
    """``pool.submit(key, fn)`` then ``for done in pool.completed(): ...`` (in the order tasks finish)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._tasks: queue.Queue[tuple[K, Callable[[], Any]] | None] = queue.Queue()
        self._done: queue.Queue[Done[K]] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._outstanding = 0
        self._threads: list[threading.Thread] = []

    def submit(self, key: K, task: Callable[[], Any]) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            self._outstanding += 1
            if len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name=f"rdsca-worker-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._tasks.put((key, task))

    def _work(self) -> None:
        while not self._stop.is_set():
            item = self._tasks.get()
            if item is None or self._stop.is_set():
                return
            key, task = item
            try:
                done: Done[K] = Done(key, task())
            except BaseException as exc:  # handed to the caller, who decides
                done = Done(key, error=exc)
            self._done.put(done)

    def completed(self) -> Iterator[Done[K]]:
        """Results as tasks finish, until none is left. Leaving the loop early (Ctrl-C included) stops the pool."""
        try:
            while True:
                with self._lock:
                    if self._outstanding == 0:
                        return
                try:
                    done = self._done.get(timeout=0.2)  # a timed wait, so that Ctrl-C is seen at once
                except queue.Empty:
                    continue
                with self._lock:
                    self._outstanding -= 1
                yield done
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        for _ in self._threads:
            self._tasks.put(None)


