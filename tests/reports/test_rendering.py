"""Superbills rendered on worker processes: the same bytes as here, and no loss if one dies."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import replace

import pytest
from pypdf import PdfReader

from ccmdesk.reports import pdf, rendering
from tests.helpers.processes import LINUX_PROC, ROOT, descendants, gone_within
from tests.helpers.reports import bill


class DiesInAWorker(pdf.Superbill):
    """Rendered here it is an ordinary superbill; unpickled in a worker, it kills the worker."""

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os._exit, (3,))


def test_worker_processes_give_the_same_documents_in_the_same_order() -> None:
    bills = [bill(f"M{n}", entries=n) for n in range(6)]
    here = rendering.render_batch(bills)
    with rendering.Renderer(workers=2) as renderer:
        assert renderer.parallel
        results = [renderer.submit(bills[:3]), renderer.submit(bills[3:])]
        there = [document for result in results for document in result()]
    assert there == here
    assert [PdfReader(io.BytesIO(d)).metadata.title for d in there] == [
        f"Superbill M{n} 2026-03" for n in range(6)
    ]


def test_a_worker_that_dies_costs_time_not_superbills() -> None:
    ordinary = bill("M1")
    dying = DiesInAWorker(**{f: getattr(ordinary, f) for f in pdf.Superbill.__dataclass_fields__})
    with rendering.Renderer(workers=2) as renderer:
        first = renderer.submit([replace(ordinary, mrn="M0"), dying])
        second = renderer.submit([replace(ordinary, mrn="M2")])
        documents = first() + second()
        assert not renderer.parallel  # the workers are gone; the rest rendered here
    titles = [PdfReader(io.BytesIO(d)).metadata.title for d in documents]
    assert titles == ["Superbill M0 2026-03", "Superbill M1 2026-03", "Superbill M2 2026-03"]


def test_few_superbills_render_here_and_many_use_every_core_this_process_may() -> None:
    assert rendering.worker_count(rendering.PARALLEL_FROM - 1) == 1
    assert rendering.worker_count(rendering.PARALLEL_FROM) == len(os.sched_getaffinity(0))


def test_many_cores_are_capped_where_windows_would_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(64)))
    assert rendering.worker_count(1000) == rendering.MAX_WORKERS == 61


def test_a_stopped_export_drops_the_batches_not_started() -> None:
    bills = [bill(f"M{n}", entries=40) for n in range(30)]
    renderer = rendering.Renderer(workers=2)
    results = [renderer.submit([b]) for b in bills]
    results[0]()
    # Only the batches the workers hold or have been handed run on; the rest never start.
    # How many those are depends on how fast each worker went while the first one rendered
    # (six or seven on a quiet machine), so the bound leaves room for a busy one.
    assert renderer.close() >= len(bills) // 2
    assert not renderer.parallel


def test_workers_that_cannot_be_started_leave_the_work_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from concurrent.futures import ProcessPoolExecutor

    def no_more_processes(*_args: object, **_kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(ProcessPoolExecutor, "submit", no_more_processes)
    with rendering.Renderer(workers=2) as renderer:
        documents = renderer.submit([bill("M1")])()
        assert not renderer.parallel
    assert PdfReader(io.BytesIO(documents[0])).metadata.title == "Superbill M1 2026-03"


# --- when the parent is killed -------------------------------------------------------------------

RENDERING_PARENT = """
from ccmdesk.reports import rendering
from tests.helpers.reports import bill

renderer = rendering.Renderer(workers=2)
results = [renderer.submit([bill(f"M{n}")]) for n in range(4)]
for result in results:
    result()
print("rendered", flush=True)
input()  # wait, the workers idle beside it, until killed
"""


@LINUX_PROC
def test_workers_end_within_seconds_of_their_parent_being_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", RENDERING_PARENT],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    workers: set[int] = set()
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline() == b"rendered\n"
        workers = descendants(parent.pid)
        assert workers
    finally:
        parent.kill()
        parent.wait()
    assert gone_within(workers, 5) == set()
    # Nothing holds the killed parent's pipes now: reading them ends.
    parent.communicate(timeout=5)
