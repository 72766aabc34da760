"""Care plans written from several workstations (processes) at once, on SQLite and PostgreSQL:
versions numbered without gap or duplicate, one signature, every copy kept, one event each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from ccmdesk.db import open_database
from ccmdesk.models import AuditEvent, CarePlanCopy, CarePlanVersion
from ccmdesk.services import Services
from ccmdesk.services.audit import verify_chain
from tests.helpers.care_plan_processes import (
    MRN,
    prepare,
    record_copy,
    run_together,
    save_versions,
    sign_version,
)
from tests.helpers.care_plans import COMPLETE, signed_plan
from tests.helpers.common import CLI, DOCTOR, FAST_HASHER, NOW, NURSE
from tests.helpers.database import postgres_url, reset_schema

WORKSTATIONS, SAVES = 4, 5

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Services]]:
    """A database the workstations share (its URL) with patient 1001 and its care team, and
    this process's services on it."""
    if request.param == "postgresql":
        url = postgres_url()
        reset_schema(url)
    else:
        url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    database = open_database(url)
    services = Services(database, clock=lambda: NOW, hasher=FAST_HASHER)
    prepare(services)
    yield url, services
    database.dispose()


def events(services: Services, action: str) -> Counter[str]:
    """How many events of `action` each entity key has."""
    with services._db.read() as session:
        keys = session.scalars(select(AuditEvent.entity_key).where(AuditEvent.action == action))
        return Counter(keys)


def chain_ok(services: Services) -> bool:
    with services._db.read() as session:
        return verify_chain(session).ok


def test_workstations_saving_at_once_number_versions_without_gap_or_duplicate(
    shared: tuple[str, Services],
) -> None:
    url, services = shared
    got = run_together(url, save_versions, [(n, SAVES) for n in range(WORKSTATIONS)])
    assert [error for *_, error in got] == [""] * WORKSTATIONS
    saved = sorted(number for _, numbers, _, _ in got for number in numbers)
    assert saved == list(range(1, WORKSTATIONS * SAVES + 1))
    # The first saves all started from no plan: all but one were refused and saved again.
    assert sum(refused for _, _, refused, _ in got) >= WORKSTATIONS - 1
    with services._db.read() as session:
        stored = session.scalars(select(CarePlanVersion.number)).all()
    assert sorted(stored) == saved
    # Each save is one event naming its version; nothing refused left an event behind.
    assert events(services, "care_plan.save") == Counter(f"{MRN} v{n}" for n in saved)
    assert chain_ok(services)
    # Each version says what its workstation wrote: the goals of the save that made it.
    versions = services.care_plans.plan(NURSE, MRN).versions
    by_number = {number: (ws, n) for ws, numbers, _, _ in got for n, number in enumerate(numbers)}
    for version in versions:
        ws, n = by_number[version.number]
        assert version.content.goals == f"Goals written at workstation {ws}, save {n + 1}."
    # Rebuilt from the trail, each version says what the table holds, every field covered.
    check = services.audit.deep_check(CLI)
    assert check.ok, [d.message() for d in check.differences]
    (plans,) = [c for c in check.coverage if c.table == "care_plan_version"]
    assert (plans.rows, plans.fields_not_covered) == (WORKSTATIONS * SAVES, 0)


def test_two_workstations_signing_one_version_at_once_sign_it_once(
    shared: tuple[str, Services],
) -> None:
    url, services = shared
    services.care_plans.save(NURSE, MRN, COMPLETE, None)
    _, sha = services.care_plans.document(DOCTOR, MRN, 1)
    got = run_together(url, sign_version, [(1, sha), (1, sha)])
    assert sorted(got) == ["Version 1 of this care plan is signed already.", "signed"]
    assert events(services, "care_plan.sign") == Counter({f"{MRN} v1": 1})
    signed = services.care_plans.plan(NURSE, MRN).version(1)
    assert signed.signed and signed.document_hash == sha
    assert chain_ok(services)
    assert services.audit.deep_check(CLI).ok


def test_copies_recorded_at_once_are_all_kept(shared: tuple[str, Services]) -> None:
    url, services = shared
    signed_plan(services, MRN)
    methods = ["in_person", "mail", "portal"]
    got = run_together(url, record_copy, [(1, method) for method in methods])
    assert got == ["", "", ""]
    with services._db.read() as session:
        kept = session.scalars(select(CarePlanCopy.method)).all()
    assert sorted(kept) == methods
    copies = services.care_plans.plan(NURSE, MRN).version(1).copies
    assert sorted(c.note for c in copies) == [f"given {m}" for m in methods]
    assert events(services, "care_plan.give") == Counter({f"{MRN} v1": 3})
    assert chain_ok(services)
    assert services.audit.deep_check(CLI).ok
