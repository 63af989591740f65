"""The parse processes: where the poller parses feeds and fingerprints their new reports.

Both are pure Python and hold the GIL: in the scheduler's process, one large feed would
stall every fetch and the scheduler, and the writer would have one core for all of it.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


class ParseProcesses(Executor):
    """A pool of one process per core, started on first use; a pool a process died in
    (out of memory on a hostile feed?) is dropped, and the next task starts a fresh one."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # fetch threads ask for the pool at once

    def submit(
        self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> Future[_T]:
        pool = self._current()
        try:
            future = pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:  # broke since another thread's task
            self._drop(pool)
            pool = self._current()
            future = pool.submit(fn, *args, **kwargs)
        future.add_done_callback(lambda done: self._drop_if_broken(pool, done))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # forkserver: forking this process while fetch threads run could copy a
                # held lock into the child.
                self._pool = ProcessPoolExecutor(
                    max_workers=multiprocessing.cpu_count(),
                    mp_context=multiprocessing.get_context("forkserver"),
                )
            return self._pool

    def _drop_if_broken(self, pool: ProcessPoolExecutor, done: Future[Any]) -> None:
        if not done.cancelled() and isinstance(done.exception(), BrokenProcessPool):
            self._drop(pool)

    def _drop(self, broken: ProcessPoolExecutor) -> None:
        """Several threads see one breakage: only the first drops the pool."""
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)
