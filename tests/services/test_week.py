"""A person's week: one read of the entries touching Monday to Sunday, stretches included."""

from __future__ import annotations

import datetime as dt

import pytest

from ccmdesk.db import Database
from ccmdesk.services import PermissionDenied, Services
from tests.helpers.common import BILLER, CLI, DOCTOR, NURSE, FakeClock, patient_text
from tests.helpers.database import emitted
from tests.helpers.week import insert_entry, utc

# Thursday 12 March 2026, 15:00 UTC: 11:00 in New York (daylight time since Sunday 8 March).
NOW = dt.datetime(2026, 3, 12, 15, 0, tzinfo=dt.UTC)
WEEK = [dt.date(2026, 3, 9) + dt.timedelta(days=n) for n in range(7)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def week(db: Database, clock: FakeClock, staffed: Services) -> Services:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    staffed.patients.save_text(CLI, patient_text(mrn="1002", last_name="Okafor"))
    return Services(db, clock=clock)


def test_the_week_holds_my_entries_with_time_in_it(
    week: Services, db: Database, clock: FakeClock
) -> None:
    add = week.entries.add_manual
    # Sunday 8 March 23:40 to Monday 00:10 in New York: in both weeks.
    across = add(NURSE, "1001", utc(9, 3, 40), utc(9, 4, 10), reason="late call").entry_id
    tuesday = add(NURSE, "1002", utc(10, 13), utc(10, 13, 20), reason="call", service="bhi")
    add(NURSE, "1001", utc(8, 14), utc(8, 14, 30), reason="the week before")
    add(DOCTOR, "1001", utc(10, 13), utc(10, 13, 30), reason="someone else's")
    gone = add(NURSE, "1001", utc(11, 13), utc(11, 13, 5), reason="call").entry_id
    week.entries.delete(NURSE, gone, "typed twice")
    # A paused and resumed stopwatch, still running: two stretches, the last open.
    timer = week.stopwatch.start(NURSE, "1002")
    clock.advance(minutes=5)
    week.stopwatch.pause(NURSE, timer.entry_id)
    clock.advance(minutes=10)
    week.stopwatch.resume(NURSE, timer.entry_id)
    clock.advance(minutes=3)

    result = week.time_log.my_week(NURSE, dt.date(2026, 3, 12))
    assert list(result.days) == WEEK
    assert result.now == clock() and result.workday == (480, 1020)
    assert str(result.zone) == "America/New_York"
    assert [e.row.entry_id for e in result.entries] == [across, tuesday.entry_id, timer.entry_id]
    assert result.entries[0].segments == ((utc(9, 3, 40), utc(9, 4, 10)),)
    assert result.entries[1].row.service == "bhi" and result.entries[1].row.seconds == 1200
    running = result.entries[2]
    assert running.segments == ((NOW, utc(12, 15, 5)), (utc(12, 15, 15), None))
    assert running.row.ended_at is None and running.row.seconds == 8 * 60

    before = week.time_log.my_week(NURSE, dt.date(2026, 3, 8))
    assert before.days[0] == dt.date(2026, 3, 2)
    assert [e.row.entry_id for e in before.entries][-1] == across
    assert week.time_log.my_week(NURSE, dt.date(2026, 3, 16)).entries == ()


def test_the_week_is_read_in_the_same_few_statements_however_many_entries(
    week: Services, db: Database
) -> None:
    def statements() -> int:
        with emitted(db) as seen:
            week.time_log.my_week(NURSE, dt.date(2026, 3, 12))
        return len(seen)

    week.entries.add_manual(NURSE, "1001", utc(9, 13), utc(9, 13, 20), reason="call")
    few = statements()
    for day in range(9, 12):
        for hour in (14, 16, 18):
            mrn = "1001" if hour == 14 else "1002"
            week.entries.add_manual(NURSE, mrn, utc(day, hour), utc(day, hour, 20), reason="c")
    assert statements() == few


def test_overlapping_entries_left_by_old_data_are_both_in_the_week(
    week: Services, db: Database
) -> None:
    first = insert_entry(db, "rn-lee", "1001", [(utc(10, 14), utc(10, 14, 30))])
    second = insert_entry(db, "rn-lee", "1002", [(utc(10, 14, 20), utc(10, 14, 40))])
    result = week.time_log.my_week(NURSE, dt.date(2026, 3, 10))
    assert [e.row.entry_id for e in result.entries] == [first, second]
    assert [e.row.patient_name for e in result.entries] == ["Ana Rivera", "Ana Okafor"]


def test_the_week_is_for_people_who_record_time(week: Services) -> None:
    with pytest.raises(PermissionDenied):
        week.time_log.my_week(BILLER, dt.date(2026, 3, 12))
