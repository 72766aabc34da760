"""Care plan workstations as child processes that save, sign or give a copy all at once."""

from __future__ import annotations

import dataclasses
import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

from ccmdesk.db import open_database
from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import ServiceError, Services
from tests.helpers.care_plans import COMPLETE
from tests.helpers.common import CLI, DOCTOR, NOW, NURSE, SMALL_PRACTICE, VALID_NPIS, patient_text

MRN = "1001"
# A save refused because another workstation saved first says so (services/care_plans._stale).
STALE = "while you were"
# Far more refusals than 4 workstations saving 5 versions each can meet: a bound, not a budget.
MAX_ATTEMPTS = 200


def prepare(services: Services) -> None:
    """A practice, Dr. A and the nurse, and patient 1001 whose billing practitioner is Dr. A."""
    services.practice.save(CLI, SMALL_PRACTICE)
    for record in (
        StaffRecord("dr-a", "Dr. A", "practitioner", "MD", VALID_NPIS[0]),
        StaffRecord("rn-lee", "Grace Lee", "clinical", "RN"),
    ):
        services.staff.save(CLI, record, is_new=True)
    services.patients.save_text(CLI, patient_text(mrn=MRN))


def run_together(
    url: str, target: Callable[..., None], jobs: Sequence[tuple[Any, ...]]
) -> list[Any]:
    """Start one process per job (`target(url, *job, start, results)`) and return what each
    put on the queue. `start` is a barrier: each goes on once every one is ready (has opened
    the database and read what it needs), so their writes meet."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(len(jobs)), context.Queue()
    workers = [context.Process(target=target, args=(url, *job, start, results)) for job in jobs]
    for worker in workers:
        worker.start()
    got = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(30)
    return got


def save_versions(url: str, workstation: int, count: int, start: Any, results: Any) -> None:
    """A nurse's workstation: save `count` versions, each based on the newest it reads, and
    read again and retry when another workstation saved first. The first read is before the
    barrier, so every workstation's first save starts from the same version and all but one
    are refused. Reports (workstation, the numbers saved, refusals met, error)."""
    db = open_database(url)
    saved: list[int] = []
    refused = 0
    try:
        services = Services(db, clock=lambda: NOW)
        latest = services.care_plans.plan(NURSE, MRN).latest
        start.wait(60)
        for n in range(1, count + 1):
            content = dataclasses.replace(
                COMPLETE, goals=f"Goals written at workstation {workstation}, save {n}."
            )
            for attempt in range(MAX_ATTEMPTS):
                if n > 1 or attempt > 0:
                    latest = services.care_plans.plan(NURSE, MRN).latest
                try:
                    version = services.care_plans.save(
                        NURSE, MRN, content, latest.number if latest else None
                    )
                except ServiceError as error:
                    if STALE not in str(error):
                        raise
                    refused += 1
                    continue
                saved.append(version.number)
                break
            else:
                raise AssertionError(f"save {n} was refused {MAX_ATTEMPTS} times")
        results.put((workstation, saved, refused, ""))
    except BaseException as error:  # reported to the test
        results.put((workstation, saved, refused, repr(error)))
    finally:
        db.dispose()


def sign_version(url: str, number: int, shown_hash: str, start: Any, results: Any) -> None:
    """Dr. A's workstation: sign version `number` once both are ready. Reports "signed", or the
    refusal's sentence, or the unexpected error."""
    db = open_database(url)
    try:
        services = Services(db, clock=lambda: NOW)
        start.wait(60)
        try:
            services.care_plans.sign(DOCTOR, MRN, number, shown_hash)
            results.put("signed")
        except ServiceError as error:
            results.put(str(error))
    except BaseException as error:  # reported to the test
        results.put(f"unexpected: {error!r}")
    finally:
        db.dispose()


def record_copy(url: str, number: int, method: str, start: Any, results: Any) -> None:
    """A workstation recording that a copy of version `number` was given, once all are ready."""
    db = open_database(url)
    try:
        services = Services(db, clock=lambda: NOW)
        start.wait(60)
        services.care_plans.record_copy(
            NURSE, MRN, number, NOW.date(), method, note=f"given {method}"
        )
        results.put("")
    except BaseException as error:  # reported to the test
        results.put(repr(error))
    finally:
        db.dispose()
