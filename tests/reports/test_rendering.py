"""Superbills rendered on worker processes: the same bytes as here, and no loss if one dies."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from ccmdesk.reports import pdf, rendering


def bill(mrn: str, entries: int = 3) -> pdf.Superbill:
    return pdf.Superbill(
        practice=pdf.PracticeHeader("Clinic", "1 Main St", "555", "1245319599", "12-3"),
        month="2026-03",
        month_name="March 2026",
        practitioner="Ada Okafor, MD",
        practitioner_npi="1000000012",
        billing_npi="1245319599",
        patient_name=f"Patient {mrn}",
        dob="01 Jan 1950",
        mrn=mrn,
        address="2 Elm St",
        payer="Medicare Part B",
        member_id="1EG4TE5MK72",
        qmb=False,
        date_of_service="31 Mar 2026",
        place_of_service="11",
        diagnoses=(("E11.9", "Type 2 diabetes mellitus without complications"),),
        lines=(pdf.ServiceLine("99490", "CCM, first 20 min", 1, "A", 6613),),
        total_cents=6613,
        patient_share_cents=1323,
        minutes=(("Countable (each second once)", "21:00"),),
        thresholds=("20:00 of countable time reached on 30 Mar → 99490",),
        excluded=(),
        consent="04 Jan 2026, verbal",
        care_plan="05 Jan 2026",
        sign_off=None,
        log=tuple(
            pdf.LogLine("30 Mar 2026", "09:00–09:07", "7:00", "Nurse", "education", "CCM", "")
            for _ in range(entries)
        ),
        generated="01 Apr 2026 09:00 by Bo",
    )


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
    # At most the batches the workers hold or have been handed run on; the rest never start.
    assert renderer.close() >= len(bills) - 6
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

ROOT = Path(__file__).resolve().parents[2]
LINUX_PROC = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def _stat(pid: int) -> tuple[str, int] | None:
    """A process's state letter and parent, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, parent = text[text.rindex(")") + 2 :].split()[:2]
    return state, int(parent)


def descendants(pid: int) -> set[int]:
    """Every living process below `pid` (its children, theirs...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat[1]
    found: set[int] = set()
    wanted = {pid}
    while wanted:
        wanted = {child for child, parent in parents.items() if parent in wanted} - found
        found |= wanted
    return found


def alive(pids: Iterable[int]) -> set[int]:
    """Those of `pids` still running (a zombie has ended; only its exit status is left)."""
    return {pid for pid in pids if (stat := _stat(pid)) is not None and stat[0] != "Z"}


def gone_within(pids: set[int], seconds: float) -> set[int]:
    """Wait up to `seconds` for `pids` to end; those still running then (and now killed)."""
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = alive(pids)
    for pid in left:  # started by this test: do not leave them running
        os.kill(pid, signal.SIGKILL)
    return left


RENDERING_PARENT = """
from ccmdesk.reports import rendering
from tests.reports.test_rendering import bill

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
