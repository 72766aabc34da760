"""This month's progress for one patient and the worklist ordered by need."""

from __future__ import annotations

import datetime as dt

import pytest

from ccmdesk.db import Database
from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import PermissionDenied, Services
from tests.helpers.common import BILLER, CLI, NURSE, FakeClock, patient_text

# 2026-03-28 12:00 in New York: four days left in March, today included.
NOW = dt.datetime(2026, 3, 28, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def sw(db: Database, clock: FakeClock, staffed: Services) -> Services:
    staffed.staff.save(CLI, StaffRecord("rn-kim", "Kim Park", "clinical", "RN"), is_new=True)
    rows = [
        patient_text(mrn="A1", last_name="Ames"),
        patient_text(mrn="B2", last_name="Bell"),
        patient_text(mrn="C3", last_name="Cole", conditions="I10"),  # PCM: 30 minutes
        patient_text(
            mrn="D4", last_name="Diaz", consent_date="", consent_method=""
        ),  # not enrolled
        patient_text(mrn="E5", last_name="Eng", care_manager="rn-kim"),  # someone else's
    ]
    for row in rows:
        staffed.patients.save_text(CLI, row)
    return Services(db, clock=clock)


def add(sw: Services, mrn: str, minutes: int, days_ago: int = 1) -> None:
    start = NOW - dt.timedelta(days=days_ago)
    end = start + dt.timedelta(minutes=minutes)
    sw.entries.add_manual(NURSE, mrn, start, end, reason="call from home", activity="Education")


def test_month_progress_counts_a_running_stopwatch_up_to_now(
    sw: Services, clock: FakeClock
) -> None:
    add(sw, "A1", 15, days_ago=2)
    sw.stopwatch.start(NURSE, "A1")
    clock.advance(minutes=6)
    result = sw.minutes.month_progress(NURSE, "A1")
    assert (result.month, result.progress.countable_seconds) == ("2026-03", 21 * 60)
    assert (result.progress.previous_threshold_minutes, result.progress.next_threshold_minutes) == (
        20,
        40,
    )
    assert result.progress.days_left == 4


def test_the_worklist_holds_my_enrolled_patients_most_in_need_first(sw: Services) -> None:
    add(sw, "A1", 18, days_ago=3)  # 2 minutes short of 20
    add(sw, "B2", 5, days_ago=2)  # 15 short
    add(sw, "C3", 29, days_ago=1)  # 1 short of the PCM 30
    rows = sw.minutes.worklist(NURSE)
    assert [r.mrn for r in rows] == ["B2", "A1", "C3"]
    assert [r.progress.seconds_short // 60 for r in rows] == [15, 2, 1]
    assert rows[0].last_contact == NOW - dt.timedelta(days=2) + dt.timedelta(minutes=5)


def test_patients_past_every_threshold_go_to_the_end(sw: Services) -> None:
    add(sw, "A1", 61, days_ago=3)
    rows = sw.minutes.worklist(NURSE)
    assert rows[-1].mrn == "A1" and rows[-1].progress.next_threshold_minutes is None


def test_a_biller_has_no_worklist(sw: Services) -> None:
    with pytest.raises(PermissionDenied):
        sw.minutes.worklist(BILLER)


def test_a_stay_recorded_on_last_months_record_cuts_this_months_days(sw: Services) -> None:
    from ccmdesk.services import MonthFactsRecord

    add(sw, "A1", 15, days_ago=3)  # 25 March
    stay = MonthFactsRecord(inpatient_stays=((dt.date(2026, 2, 27), dt.date(2026, 3, 25)),))
    sw.month_facts.save(CLI, "A1", "2026-02", stay)
    assert sw.minutes.month_progress(NURSE, "A1").progress.countable_seconds == 0
