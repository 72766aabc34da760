"""The evaluation cache: what it serves equals a fresh evaluation, and every write invalidates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update

from ccmdesk.db import Database, open_database
from ccmdesk.models import Patient, Practice, Staff, TimeEntry, TimeSegment
from ccmdesk.rules.billing import Month, MonthResult
from ccmdesk.services import Services
from ccmdesk.services.billing.cache import EvaluationCache, read_stamp
from ccmdesk.services.billing.month_facts import MonthFactsRecord
from ccmdesk.services.errors import ServiceError
from tests.helpers.care_plans import signed_plan
from tests.helpers.common import (
    ADMIN,
    BILLER,
    CLI,
    DOCTOR,
    FAST_HASHER,
    NURSE,
    FakeClock,
    patient_text,
)
from tests.helpers.common import NOW as DEMO_NOW

MONTH = "2026-03"
# 2026-03-20 12:00 in New York: the month is open with days left.
NOW = dt.datetime(2026, 3, 20, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def team(db: Database, clock: FakeClock, staffed: Services) -> Services:
    for row in (
        patient_text(mrn="A1", last_name="Ames"),
        patient_text(mrn="B2", last_name="Bell", conditions="I10"),
        patient_text(mrn="C3", last_name="Cole"),
    ):
        staffed.patients.save_text(CLI, row)
    services = Services(db, clock=clock, hasher=FAST_HASHER)
    add(services, "A1", 25, days_ago=3)
    add(services, "B2", 12, days_ago=2)
    add(services, "C3", 5, days_ago=1)
    return services


def add(services: Services, mrn: str, minutes: int, days_ago: int) -> int:
    start = NOW - dt.timedelta(days=days_ago)
    row = services.entries.add_manual(
        NURSE, mrn, start, start + dt.timedelta(minutes=minutes), reason="call from home"
    )
    return row.entry_id


def key(services: Services) -> object:
    with services._db.read() as session:
        return read_stamp(session).for_month(
            Month.of(MONTH, dt.UTC, {}), int(services.now().timestamp())
        )


def fresh(db: Database, clock: FakeClock) -> Services:
    """Services with an empty cache: what an uncached evaluation gives."""
    return Services(db, clock=clock, hasher=FAST_HASHER)


def loads(services: Services) -> tuple[object, object, object]:
    return (
        services.dashboard.month(CLI, MONTH),
        services.minutes.worklist(NURSE, MONTH),
        services.minutes.worklist(CLI, MONTH),
    )


def test_a_second_load_is_served_from_the_cache_and_equals_a_fresh_one(
    team: Services, db: Database, clock: FakeClock
) -> None:
    first = loads(team)
    computed = team.evaluations.computed
    assert loads(team) == first
    assert team.evaluations.computed == computed  # nothing evaluated again
    assert loads(fresh(db, clock)) == first


def sign(s: Services) -> None:
    s.review.sign(DOCTOR, "A1", MONTH)


def practice(s: Services) -> None:
    record = s.practice.get()
    assert record is not None
    s.practice.save(CLI, dataclasses.replace(record, date_of_service_rule="threshold_date"))


def edit(s: Services) -> None:
    entry = s.time_log.patient_log(NURSE, "B2", MONTH)[0]
    assert entry.ended_at is not None
    end = entry.ended_at + dt.timedelta(minutes=9)
    s.entries.edit(NURSE, entry.entry_id, reason="longer", end=end)


WRITES: dict[str, Callable[[Services], object]] = {
    "add time": lambda s: add(s, "C3", 20, days_ago=4),
    "start a stopwatch": lambda s: s.stopwatch.start(NURSE, "C3"),
    "edit time": edit,
    "delete time": lambda s: s.entries.delete(
        NURSE, s.time_log.patient_log(NURSE, "C3", MONTH)[0].entry_id, "wrong patient"
    ),
    "conditions": lambda s: s.patients.save_text(
        CLI, patient_text(mrn="B2", last_name="Bell", conditions="I10;E11.9"), "B2"
    ),
    "consent": lambda s: s.patients.save_text(
        CLI, patient_text(mrn="C3", last_name="Cole", consent_date="2026-03-20"), "C3"
    ),
    "month facts": lambda s: s.month_facts.save(
        CLI, "A1", MONTH, MonthFactsRecord(billed_elsewhere=True)
    ),
    "sign": sign,
    "program": lambda s: s.programs.set(CLI, "A1", "apcm", MONTH),
    "fees": lambda s: s.fees.save(CLI, 2026, {"99490": 1234}),
    "payer": lambda s: s.payers.save_text(
        CLI, {"payer_id": "acme", "name": "Acme Health", "kind": "commercial"}
    ),
    "practice": practice,
    "enrolment": lambda s: s.enrolment.offered(CLI, "C3", dt.date(2026, 3, 19)),
}


@pytest.mark.parametrize("write", list(WRITES), ids=lambda w: w.replace(" ", "_"))
def test_every_kind_of_write_invalidates(
    team: Services, db: Database, clock: FakeClock, write: str
) -> None:
    before = loads(team)
    stamp = key(team)
    WRITES[write](team)
    assert key(team) != stamp
    after = loads(team)
    assert after == loads(fresh(db, clock))
    # These change no figure here (a stopwatch just started has run no second yet).
    if write not in ("payer", "enrolment", "practice", "start a stopwatch"):
        assert after != before


def test_writes_no_service_audits_still_invalidate(
    team: Services, db: Database, clock: FakeClock
) -> None:
    """A fee, a payer, a staff member's role or the practice changed by hand (or by a service
    that writes no audit event) moves the digest of the small tables."""
    for change in (
        update(Practice).values(date_of_service_rule="threshold_date"),
        update(Staff).where(Staff.staff_id == "rn-lee").values(role="non_clinical"),
    ):
        stamp = key(team)
        with db.session() as session:
            session.execute(change)
        assert key(team) != stamp
    # Time written straight into the tables (an import of old, say) with no audit event.
    before = loads(team)
    with db.session() as session:
        patient = session.scalars(select(Patient.id).where(Patient.mrn == "C3")).one()
        doctor = session.scalars(select(Staff.id).where(Staff.staff_id == "dr-a")).one()
        start = NOW - dt.timedelta(days=6)
        session.add(
            TimeEntry(
                patient_id=patient,
                staff_id=doctor,
                created_at=NOW,
                segments=[TimeSegment(started_at=start, ended_at=start + dt.timedelta(hours=1))],
            )
        )
    after = loads(team)
    assert after != before
    assert after == loads(fresh(db, clock))


def test_a_running_stopwatch_moves_the_key_each_minute_and_with_each_heartbeat(
    team: Services, clock: FakeClock
) -> None:
    timer = team.stopwatch.start(NURSE, "C3")
    first = loads(team)
    stamp = key(team)
    clock.advance(seconds=30)
    team.stopwatch.heartbeat(NURSE, timer.entry_id)
    assert key(team) != stamp  # the heartbeat moved
    stamp = key(team)
    clock.advance(minutes=2)
    assert key(team) != stamp  # the minute moved
    later = loads(team)
    assert later != first
    assert later[0].weeks != first[0].weeks  # the running time grew


def test_a_write_from_another_workstation_invalidates(
    team: Services, db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    before = loads(team)
    other_db = open_database(f"sqlite:///{tmp_path / 'ccmdesk.sqlite3'}", tmp_path / "backups")
    try:
        other = Services(other_db, clock=clock, hasher=FAST_HASHER)
        add(other, "C3", 30, days_ago=5)
        with other_db.session() as session:
            session.execute(update(TimeEntry).values(note="by hand"))  # no stamp of its own
    finally:
        other_db.dispose()
    after = loads(team)
    assert after != before
    assert after == loads(fresh(db, clock))


def test_concurrent_loads_evaluate_a_month_once(team: Services) -> None:
    cache = team.evaluations
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(team.dashboard.month(CLI, MONTH)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(r == results[0] for r in results)
    computed = cache.computed
    team.dashboard.month(CLI, MONTH)
    assert cache.computed == computed


def test_the_cache_keeps_a_bounded_number_of_months() -> None:
    cache = EvaluationCache(full_months=2, small_items=3)
    for n in range(5):
        cache.part((f"2026-0{n + 1}", 1), "rows", lambda n=n: [n])
        cache.small((f"2026-0{n + 1}", 1), "amounts", lambda n=n: n)
    assert len(cache._full) == 2 and len(cache._small) == 3
    # A newer stamp of a month replaces its older evaluation.
    assert cache.part(("2026-05", 2), "rows", lambda: ["new"]) == ["new"]
    assert len(cache._full) == 2


def test_the_demos_worklists_from_the_cache_are_the_fresh_ones(
    demo: Services, db: Database
) -> None:
    people = [demo.staff.actor_for(s.staff_id) for s in demo.staff.list()]
    workers = [CLI, *(a for a in people if a.role in ("clinical", "practitioner", "non_clinical"))]
    first = [demo.minutes.worklist(a, "2026-04") for a in workers]
    computed = demo.evaluations.computed
    assert [demo.minutes.worklist(a, "2026-04") for a in workers] == first
    assert demo.evaluations.computed == computed
    again = Services(db, clock=lambda: DEMO_NOW, hasher=FAST_HASHER)
    assert [again.minutes.worklist(a, "2026-04") for a in workers] == first
    assert sum(len(rows) for rows in first) > 100


# --- closed past months (docs/dashboard.md, "Closed months") ---------------------------------

JANUARY, FEBRUARY = "2026-01", "2026-02"


@pytest.fixture
def closed(team: Services, monkeypatch: pytest.MonkeyPatch) -> tuple[Services, list[str]]:
    """The team with time in January (left open) and February (closed for billing), the
    dashboard loaded once; and the past months the dashboard evaluates from then on."""
    add(team, "A1", 25, days_ago=30)  # 2026-02-18
    add(team, "B2", 22, days_ago=31)
    add(team, "A1", 30, days_ago=60)  # 2026-01-19
    team.closing.close(BILLER, FEBRUARY)
    team.dashboard.month(CLI, MONTH)
    evaluated: list[str] = []
    amounts_in = team.billing.amounts_in

    def spy(session: object, month: str) -> dict[str, int]:
        evaluated.append(month)
        return amounts_in(session, month)  # type: ignore[arg-type]

    monkeypatch.setattr(team.billing, "amounts_in", spy)
    return team, evaluated


def stopwatch_minutes(services: Services, clock: FakeClock, minutes: int = 5) -> None:
    timer = services.stopwatch.start(NURSE, "C3")
    clock.advance(minutes=minutes)
    services.stopwatch.stop(NURSE, timer.entry_id, activity="Call")


def month_amounts(services: Services, month: str) -> dict[str, int]:
    (found,) = (m for m in services.dashboard.month(CLI, MONTH).months if m.month == month)
    return dict(found.cents_by_code)


def test_a_stopwatch_stop_leaves_the_closed_month_cached_and_the_open_one_live(
    closed: tuple[Services, list[str]], db: Database, clock: FakeClock
) -> None:
    team, evaluated = closed
    stopwatch_minutes(team, clock)
    dashboard = team.dashboard.month(CLI, MONTH)
    # The open past months are evaluated again; the closed February is not.
    assert FEBRUARY not in evaluated
    assert JANUARY in evaluated
    assert dashboard == fresh(db, clock).dashboard.month(CLI, MONTH)
    assert month_amounts(team, FEBRUARY) == team.billing.month(BILLER, FEBRUARY).amount_by_code()
    assert month_amounts(team, FEBRUARY)  # February bills something: the check means something


def test_a_back_dated_revocation_reaches_the_closed_month(
    closed: tuple[Services, list[str]], db: Database, clock: FakeClock
) -> None:
    team, evaluated = closed
    before = month_amounts(team, FEBRUARY)
    team.patients.save_text(
        CLI, patient_text(mrn="A1", last_name="Ames", consent_revoked_date="2026-01-31"), "A1"
    )
    after = month_amounts(team, FEBRUARY)
    assert FEBRUARY in evaluated
    assert after != before
    assert after == team.billing.month(BILLER, FEBRUARY).amount_by_code()
    assert team.dashboard.month(CLI, MONTH) == fresh(db, clock).dashboard.month(CLI, MONTH)


def test_a_condition_removed_reaches_the_closed_month(
    closed: tuple[Services, list[str]], clock: FakeClock
) -> None:
    team, evaluated = closed
    before = month_amounts(team, FEBRUARY)
    stopwatch_minutes(team, clock)  # time events after it do not hide it
    team.patients.save_text(CLI, patient_text(mrn="A1", last_name="Ames", conditions="I10"), "A1")
    stopwatch_minutes(team, clock)
    after = month_amounts(team, FEBRUARY)
    assert FEBRUARY in evaluated
    assert after != before
    assert after == team.billing.month(BILLER, FEBRUARY).amount_by_code()


def test_a_reopened_month_is_live_again(
    closed: tuple[Services, list[str]], db: Database, clock: FakeClock
) -> None:
    team, evaluated = closed
    team.closing.reopen(ADMIN, FEBRUARY, "a late correction")
    team.dashboard.month(CLI, MONTH)
    evaluated.clear()
    stopwatch_minutes(team, clock)
    assert team.dashboard.month(CLI, MONTH) == fresh(db, clock).dashboard.month(CLI, MONTH)
    assert FEBRUARY in evaluated


def test_closing_again_keys_the_month_on_its_new_close(closed: tuple[Services, list[str]]) -> None:
    team, _ = closed
    with team._db.read() as session:
        first = read_stamp(session)
    team.closing.reopen(ADMIN, FEBRUARY, "a late correction")
    team.closing.close(BILLER, FEBRUARY)
    with team._db.read() as session:
        second = read_stamp(session)
    february = Month.of(FEBRUARY, dt.UTC, {})
    assert dict(first.closes)[FEBRUARY] != dict(second.closes)[FEBRUARY]
    assert first.for_closed_month(february, 0) != second.for_closed_month(february, 0)
    # A month not closed is keyed on the whole stamp, as the month on screen is.
    march = Month.of(MONTH, dt.UTC, {})
    assert second.for_closed_month(march, 0) == second.for_month(march, 0)


def test_no_time_write_reaches_the_closed_month(
    closed: tuple[Services, list[str]], clock: FakeClock
) -> None:
    """What the closed months' key rests on: time writes (audited as time entries, which the
    key leaves out) are refused in a closed month, so none can change its figures."""
    team, evaluated = closed
    before = month_amounts(team, FEBRUARY)
    (entry, *_) = team.time_log.patient_log(NURSE, "A1", FEBRUARY)
    assert entry.ended_at is not None
    march = NOW - dt.timedelta(days=2)
    feb = NOW - dt.timedelta(days=32)
    for write in (
        lambda: add(team, "C3", 30, days_ago=32),
        lambda: team.entries.edit(
            NURSE, entry.entry_id, reason="longer", end=entry.ended_at + dt.timedelta(minutes=9)
        ),
        lambda: team.entries.edit(
            NURSE, entry.entry_id, reason="moved", start=march, end=march + dt.timedelta(minutes=5)
        ),
        lambda: team.entries.delete(NURSE, entry.entry_id, "wrong patient"),
        lambda: team.entries.add_manual(
            NURSE, "C3", feb, NOW - dt.timedelta(days=1), reason="across the close"
        ),
    ):
        with pytest.raises(ServiceError, match="closed for billing"):
            write()
    assert month_amounts(team, FEBRUARY) == before
    assert FEBRUARY not in evaluated


# --- care plans (docs/billing-rules.md, "Care plan") -----------------------------------------


def cached_result(services: Services, mrn: str) -> MonthResult:
    """`mrn`'s month from the cached whole-month evaluation the dashboard reads."""
    with services._db.read() as session:
        rows = services.billing.evaluated_in(session, MONTH).rows
    return next(row.result for row in rows if row.mrn == mrn)


@pytest.mark.parametrize("writer", ["this workstation", "another workstation"])
def test_a_care_plan_signed_or_given_reaches_the_cached_month(
    team: Services, db: Database, clock: FakeClock, tmp_path: Path, writer: str
) -> None:
    assert "CARE_PLAN_NOT_GIVEN" not in cached_result(team, "A1").warnings  # kept elsewhere
    other_db = open_database(f"sqlite:///{tmp_path / 'ccmdesk.sqlite3'}", tmp_path / "backups")
    try:
        other = team if writer == "this workstation" else Services(other_db, clock=clock)
        version = signed_plan(other, "A1")
        # The signed version wins over the plan kept elsewhere: it was never given.
        assert "CARE_PLAN_NOT_GIVEN" in cached_result(team, "A1").warnings
        other.care_plans.record_copy(NURSE, "A1", version.number, clock().date(), "portal")
    finally:
        other_db.dispose()
    assert "CARE_PLAN_NOT_GIVEN" not in cached_result(team, "A1").warnings
    assert cached_result(team, "A1") == cached_result(fresh(db, clock), "A1")


def test_a_care_plan_signed_or_given_moves_a_closed_months_key(
    closed: tuple[Services, list[str]], clock: FakeClock
) -> None:
    """A copy given can change a closed month's warnings (never its bill): the care plan's
    events are not time's, so they move the closed month's key."""
    team, _ = closed
    february = Month.of(FEBRUARY, dt.UTC, {})

    def closed_key() -> object:
        with team._db.read() as session:
            return read_stamp(session).for_closed_month(february, 0)

    first = closed_key()
    version = signed_plan(team, "A1")
    second = closed_key()
    team.care_plans.record_copy(NURSE, "A1", version.number, clock().date(), "mail")
    assert len({first, second, closed_key()}) == 3
