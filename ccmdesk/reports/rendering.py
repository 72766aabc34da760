"""Superbills rendered in batches, on worker processes when there are many: every core helps."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ccmdesk.reports import pdf

# Below this many superbills, starting worker processes (about half a second each, to import
# reportlab) costs more than it saves.
PARALLEL_FROM = 60
BATCH = 8  # superbills per task: small enough for a lively progress bar


def render_batch(bills: Sequence[pdf.Superbill]) -> list[bytes]:
    return [pdf.superbill_pdf(bill) for bill in bills]


def start_worker() -> None:
    """A worker process's start: leave when the parent does, then load what rendering needs."""
    leave_with_parent()
    pdf.warm_up()


def leave_with_parent() -> None:
    """End this process as soon as the process that spawned it is gone, however it ended.

    A worker waits for its next batch on a queue whose both ends it holds itself, so a parent
    killed outright (SIGKILL, a crash) never tells it to stop: it lingered for minutes, holding
    the parent's stdout and stderr open. Every spawned process has a sentinel for its parent
    (the read end of a pipe only the parent writes to on POSIX, the parent's handle on
    Windows) that becomes ready when the parent ends; a thread waits on it. Not
    prctl(PR_SET_PDEATHSIG): that fires when the parent's spawning *thread* ends, and exports
    run on threads that end.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # not a spawned process (rendering here): nothing to watch
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)  # no clean-up: whatever this worker was doing, nobody is waiting for it

    threading.Thread(target=watch, name="ccmdesk-parent-watch", daemon=True).start()


class Renderer:
    """Takes batches of superbills and hands back their PDFs in the order they were given.

    With `workers` above 1, batches render on that many spawned processes while the caller
    goes on (building the next batches, merging finished ones). Spawned, not forked: a fork
    would copy the GUI's threads' locks mid-use, and Windows has no fork.
    """

    def __init__(self, workers: int) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[list[bytes]]] = []
        if workers > 1:
            try:
                self._pool = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=start_worker,
                )
            except OSError:
                self._pool = None  # no processes to be had: render here, only slower

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def submit(self, bills: Sequence[pdf.Superbill]) -> Callable[[], list[bytes]]:
        """Start a batch; the returned call waits for its PDFs."""
        batch = list(bills)
        if self._pool is None:
            return lambda: render_batch(batch)
        try:
            future: Future[list[bytes]] = self._pool.submit(render_batch, batch)
        except (BrokenProcessPool, RuntimeError, OSError):
            # The workers are gone (a previous batch found out), or none could be started
            # (the process limit reached): work here.
            self.close()
            return lambda: render_batch(batch)
        self._futures.append(future)

        def result() -> list[bytes]:
            try:
                return future.result()
            except BrokenProcessPool:
                # A worker died (killed, out of memory, or could not start): the export still
                # completes, on this process, only slower.
                self.close()
                return render_batch(batch)

        return result

    def close(self) -> int:
        """Drop batches not started (how many is returned); a worker busy with one finishes
        it and leaves."""
        if self._pool is None:
            return 0
        # Cancelled here, one by one: shutdown(cancel_futures=True) alone cancels them only if
        # the pool object outlives its manager thread's next look, which a dropped reference
        # does not (a stopped export went on rendering every batch).
        dropped = sum(future.cancel() for future in self._futures)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        self._futures.clear()
        return dropped

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


# Windows' process pools wait on at most 61 handles.
MAX_WORKERS = 61


def worker_count(bills: int) -> int:
    """Processes worth starting for this many superbills: one per core this process may use,
    or none."""
    if bills < PARALLEL_FROM:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))  # the cores this process may run on
    except (AttributeError, OSError):  # not on every system
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))
