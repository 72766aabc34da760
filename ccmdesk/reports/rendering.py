"""Superbills rendered in batches, on worker processes when there are many: every core helps."""

from __future__ import annotations

import multiprocessing
import os
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


class Renderer:
    """Takes batches of superbills and hands back their PDFs in the order they were given.

    With `workers` above 1, batches render on that many spawned processes while the caller
    goes on (building the next batches, merging finished ones). Spawned, not forked: a fork
    would copy the GUI's threads' locks mid-use, and Windows has no fork.
    """

    def __init__(self, workers: int) -> None:
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1:
            try:
                self._pool = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=pdf.warm_up,
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
        except (BrokenProcessPool, RuntimeError):
            self.close()  # the workers are gone (a previous batch found out): work here
            return lambda: render_batch(batch)

        def result() -> list[bytes]:
            try:
                return future.result()
            except BrokenProcessPool:
                # A worker died (killed, out of memory, or could not start): the export still
                # completes, on this process, only slower.
                self.close()
                return render_batch(batch)

        return result

    def close(self) -> None:
        """Drop batches not started; a worker busy with one finishes it and leaves."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def worker_count(bills: int) -> int:
    """Processes worth starting for this many superbills: one per core, or none."""
    return (os.cpu_count() or 1) if bills >= PARALLEL_FROM else 1
