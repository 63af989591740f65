"""The parse processes: where the poller parses feeds and fingerprints their new reports.

Both are pure Python and hold the GIL: in the scheduler's process, one large feed would
stall every fetch and the scheduler, and the writer would have one core for all of it.
The processes end when the process that started them does, however it ends: killed, a
forkserver and its workers would otherwise wait for work for ever (hundreds of MB).
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, ParamSpec, TypeVar

# Where a process cannot be waited for (no pidfd), how often to look whether it still runs.
PARENT_CHECK_S = 1.0
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
                    initializer=exit_with,
                    initargs=(os.getpid(),),
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


def exit_with(pid: int) -> None:
    """Exit this process as soon as process `pid` ends (a parse process's initializer:
    its parent is the forkserver, which lives on while its children do)."""
    threading.Thread(target=_exit_after, args=(pid,), daemon=True, name=f"exit-with-{pid}").start()


def _exit_after(pid: int) -> None:
    try:
        if hasattr(os, "pidfd_open"):  # Linux: woken when it ends
            select.select([os.pidfd_open(pid)], [], [])
        else:
            while True:
                os.kill(pid, 0)  # ProcessLookupError once it has ended
                time.sleep(PARENT_CHECK_S)
    except ProcessLookupError:  # ended, before or while we watched
        pass
    os._exit(0)
