"""This month's progress for one patient and the worklist ordered by need."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import InpatientStay, Patient, PatientMonth, Staff, TimeEntry, TimeSegment
from ccmdesk.rules.minutes import NO_MINUTES
from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import PermissionDenied, Services
from tests.helpers.care_plans import signed_plan
from tests.helpers.common import BILLER, CLI, NURSE, FakeClock, patient_text
from tests.helpers.common import NOW as STAFFED_NOW
from tests.helpers.programs import set_program

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
    timer = sw.stopwatch.start(NURSE, "A1")
    for _ in range(12):  # six minutes of the panel's heartbeats
        clock.advance(seconds=30)
        sw.stopwatch.heartbeat(NURSE, timer.entry_id)
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


def test_callbacks_due_today_or_overdue_come_first_the_earliest_first(
    sw: Services, clock: FakeClock
) -> None:
    """docs/calls.md: callbacks due today lead the worklist, then need as before."""
    add(sw, "A1", 18, days_ago=3)  # by need alone: B2, A1, C3
    add(sw, "B2", 5, days_ago=2)
    add(sw, "C3", 29, days_ago=1)
    clock.now = NOW - dt.timedelta(days=2)
    overdue = sw.calls.schedule(NURSE, "A1", NOW - dt.timedelta(days=1))
    sw.calls.schedule(NURSE, "A1", NOW - dt.timedelta(days=1, hours=2), assigned_to="rn-kim")
    clock.now = NOW
    later_today = sw.calls.schedule(NURSE, "C3", NOW + dt.timedelta(hours=3))
    sw.calls.schedule(NURSE, "B2", NOW + dt.timedelta(days=1))  # tomorrow: need decides
    sw.calls.record_attempt(NURSE, "C3", "no answer")
    sw.calls.record_attempt(NURSE, "C3", "voicemail", "207-555-0199")
    rows = sw.minutes.worklist(NURSE)
    assert [r.mrn for r in rows] == ["A1", "C3", "B2"]
    assert [r.callback_id for r in rows[:2]] == [overdue.callback_id, later_today.callback_id]
    assert rows[1].last_outcome == "voicemail"
    assert rows[2].callback_due == NOW + dt.timedelta(days=1)
    sw.calls.done(NURSE, overdue.callback_id)
    assert [r.mrn for r in sw.minutes.worklist(NURSE)] == ["C3", "B2", "A1"]


def test_worklist_rows_carry_the_patients_numbers_and_best_time(sw: Services) -> None:
    sw.patients.save_text(
        CLI,
        patient_text(mrn="A1", last_name="Ames", phone="207-555-0101",
                     other_phone="207-555-0177", preferred_call_time="afternoon"),
        original_mrn="A1",
    )  # fmt: skip
    row = next(r for r in sw.minutes.worklist(NURSE) if r.mrn == "A1")
    assert row.phones == (("Home", "207-555-0101"), ("Other", "207-555-0177"))
    assert (row.preferred_call_time, row.callback_due, row.last_outcome) == ("afternoon", None, "")


def test_patients_past_every_threshold_go_to_the_end(sw: Services) -> None:
    add(sw, "A1", 61, days_ago=3)
    rows = sw.minutes.worklist(NURSE)
    assert rows[-1].mrn == "A1" and rows[-1].progress.next_threshold_minutes is None


def test_one_patients_progress_aims_at_the_family_of_that_patients_own_conditions(
    sw: Services, clock: FakeClock
) -> None:
    # The panel and the stop count one patient's conditions (a count per patient row, not
    # the practice's counts joined in): one condition aims at PCM's 30 minutes, two at CCM's 20.
    add(sw, "A1", 5, days_ago=2)
    add(sw, "C3", 5, days_ago=3)
    assert sw.minutes.month_progress(NURSE, "A1").progress.next_threshold_minutes == 20
    assert sw.minutes.month_progress(NURSE, "C3").progress.next_threshold_minutes == 30
    timer = sw.stopwatch.start(NURSE, "C3")
    clock.advance(minutes=5)
    stopped = sw.stopwatch.stop(NURSE, timer.entry_id)
    assert (stopped.progress.mrn, stopped.progress.progress.countable_seconds) == ("C3", 600)
    assert stopped.progress.progress.next_threshold_minutes == 30


def test_bhi_time_has_its_own_progress_and_never_counts_toward_the_program(
    sw: Services, clock: FakeClock
) -> None:
    # docs/billing-rules.md, "General BHI": BHI time goes to 99484's 20 minutes, apart.
    add(sw, "A1", 15, days_ago=2)
    start = NOW - dt.timedelta(days=3)
    sw.entries.add_manual(
        NURSE, "A1", start, start + dt.timedelta(minutes=12), reason="call", service="bhi"
    )
    result = sw.minutes.month_progress(NURSE, "A1")
    assert result.progress.countable_seconds == 15 * 60
    assert (result.bhi.countable_seconds, result.bhi.next_threshold_minutes) == (12 * 60, 20)
    assert result.bhi.seconds_short == 8 * 60
    # Started as BHI, a stopwatch is saved as BHI, and the stop returns the BHI progress.
    timer = sw.stopwatch.start(NURSE, "A1", "bhi")
    assert timer.service == "bhi"
    clock.advance(minutes=9)
    stopped = sw.stopwatch.stop(NURSE, timer.entry_id)
    assert stopped.entry.service == "bhi" and stopped.timer.service == "bhi"
    assert stopped.progress.bhi.countable_seconds == 21 * 60
    assert stopped.progress.bhi.next_threshold_minutes is None  # 20:00 reached
    assert stopped.progress.progress.countable_seconds == 15 * 60
    billed = sw.billing.patient_month(BILLER, "A1", "2026-03").result
    assert billed.bhi is not None and billed.bhi.countable_seconds == 21 * 60


def test_the_target_follows_the_program_in_force_this_month(sw: Services, db: Database) -> None:
    # docs/billing-rules.md, "Programs": A1 has two conditions. PCM by focus aims at PCM's 30
    # minutes whatever the count; APCM bills without minutes, so there is nothing to aim at;
    # a program from next month changes nothing yet.
    add(sw, "A1", 25, days_ago=2)
    add(sw, "B2", 25, days_ago=3)
    add(sw, "C3", 5, days_ago=4)
    set_program(db, "A1", "pcm_focus", focus="E11.9")
    set_program(db, "B2", "apcm")
    set_program(db, "C3", "apcm", from_month="2026-04")
    a1 = sw.minutes.month_progress(NURSE, "A1").progress
    assert (a1.family, a1.next_threshold_minutes, a1.seconds_short) == ("pcm", 30, 5 * 60)
    b2 = sw.minutes.month_progress(NURSE, "B2").progress
    assert (b2.family, b2.aims, b2.next_threshold_minutes) == (NO_MINUTES, False, None)
    assert b2.countable_seconds == 25 * 60  # the minutes still show, as documentation
    assert sw.minutes.month_progress(NURSE, "C3").progress.family == "pcm"
    assert sw.minutes.month_progress(NURSE, "C3", "2026-04").progress.family == NO_MINUTES
    rows = {r.mrn: r.progress for r in sw.minutes.worklist(NURSE)}
    assert rows["A1"] == a1 and rows["B2"] == b2
    # The APCM patient needs nothing: last, with the months already done.
    assert [r.mrn for r in sw.minutes.worklist(NURSE)][-1] == "B2"


def test_a_biller_has_no_worklist(sw: Services) -> None:
    with pytest.raises(PermissionDenied):
        sw.minutes.worklist(BILLER)


def test_a_stay_recorded_on_last_months_record_cuts_this_months_days(sw: Services) -> None:
    from ccmdesk.services import MonthFactsRecord

    add(sw, "A1", 15, days_ago=3)  # 25 March
    stay = MonthFactsRecord(inpatient_stays=((dt.date(2026, 2, 27), dt.date(2026, 3, 25)),))
    sw.month_facts.save(CLI, "A1", "2026-02", stay)
    assert sw.minutes.month_progress(NURSE, "A1").progress.countable_seconds == 0


def test_a_stopwatch_nobody_watches_counts_to_its_last_heartbeat_as_on_the_bill(
    sw: Services, clock: FakeClock
) -> None:
    # Its program ended without stopping it: the bill counts it only up to the last heartbeat
    # until its owner answers the recovery question, and the panel shows the same.
    add(sw, "A1", 15, days_ago=2)
    timer = sw.stopwatch.start(NURSE, "A1")
    clock.advance(minutes=2)
    sw.stopwatch.heartbeat(NURSE, timer.entry_id)
    clock.advance(minutes=10)
    shown = sw.minutes.month_progress(NURSE, "A1").progress.countable_seconds
    billed = sw.billing.patient_month(BILLER, "A1", "2026-03").result.countable_seconds
    assert shown == billed == 17 * 60


def test_a_consent_dated_after_the_month_shows_the_minutes_the_bill_counts(
    sw: Services, staffed: Services
) -> None:
    # Issue #16: the worklist and the patient panel cut every minute before such a consent
    # (0:00 for March), while the bill counts all of them and NO_CONSENT alone blocks it.
    staffed.patients.save_text(
        CLI, patient_text(mrn="F6", last_name="Fox", consent_date="2026-04-02")
    )
    add(sw, "F6", 12, days_ago=6)
    add(sw, "F6", 9, days_ago=1)
    bill = sw.billing.patient_month(BILLER, "F6", "2026-03").result
    assert "NO_CONSENT" in bill.blocks and bill.countable_seconds == 21 * 60
    assert sw.minutes.month_progress(NURSE, "F6", "2026-03").progress.countable_seconds == 21 * 60
    row = next(r for r in sw.minutes.worklist(NURSE, "2026-03") if r.mrn == "F6")
    assert row.progress.countable_seconds == 21 * 60


# --- the worklist's minutes are the bill's, for any month (Hypothesis) -----------------------

NY = ZoneInfo("America/New_York")
# After every consent drawn below, so the patient record takes it.
LATER = dt.datetime(2026, 4, 20, 16, 0, tzinfo=dt.UTC)
# Feb 25 to Apr 5 local: entries and stays may cross either end of March.
LO = int(dt.datetime(2026, 2, 25, tzinfo=NY).timestamp())
HI = int(dt.datetime(2026, 4, 5, tzinfo=NY).timestamp())
# A practitioner and a nurse (twice as likely), and two whose time never counts.
WORKERS = ("dr-a", "rn-lee", "dr-a", "rn-lee", "sched-s", "bill-b")

entry = st.fixed_dictionaries(
    {
        "staff": st.sampled_from(WORKERS),
        "start": st.integers(LO, HI - 60),
        "steps": st.lists(
            st.tuples(st.integers(0, 6 * 3600), st.integers(1, 3 * 3600)), min_size=1, max_size=3
        ),
        "service": st.sampled_from(["ccm", "ccm", "ccm", "pcm", "tcm", "rpm"]),
        "face_to_face": st.sampled_from([False, False, False, True]),
        "deleted": st.sampled_from([False, False, False, True]),
    }
)
# None, before March, its first, a day inside it, its last, after it (no consent for March).
consent = (
    st.none()
    | st.sampled_from(
        [dt.date(2026, 2, 20), dt.date(2026, 3, 1), dt.date(2026, 3, 31), dt.date(2026, 4, 2)]
    )
    | st.dates(dt.date(2026, 2, 20), dt.date(2026, 4, 5))
)
stay = st.tuples(st.dates(dt.date(2026, 2, 20), dt.date(2026, 4, 3)), st.integers(0, 6))
# A stopwatch still running: when it started, and how long ago its last heartbeat came
# (beyond two heartbeats it is one nobody watches).
running = st.none() | st.tuples(st.integers(HI - 10 * 86400, HI - 60), st.integers(0, 3 * 86400))


def _segments(start: int, steps: list[tuple[int, int]]) -> list[tuple[int, int | None]]:
    """An entry's segments: in order, never overlapping (a pause leaves a gap of 0 or more)."""
    spans: list[tuple[int, int | None]] = []
    for gap, length in steps:
        start += gap
        spans.append((start, start + length))
        start += length
    return spans


_numbers = itertools.count(1)  # a new patient for every example: the database is shared


def _instant(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    consent=consent,
    entries=st.lists(entry, max_size=6),
    stays=st.lists(stay, max_size=2),
    timer=running,
)
def test_the_worklist_and_the_patient_panel_show_the_minutes_the_bill_counts(
    db: Database,
    staffed: Services,
    consent: dt.date | None,
    entries: list[dict[str, Any]],
    stays: list[tuple[dt.date, int]],
    timer: tuple[int, int] | None,
) -> None:
    services = Services(db, clock=lambda: LATER)
    mrn = f"H{next(_numbers)}"
    consent_text = consent.isoformat() if consent else ""
    record = patient_text(
        mrn=mrn, consent_date=consent_text, consent_method="verbal" if consent else ""
    )
    staffed.patients.save_text(CLI, record)
    with db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        staff = {key: id_ for key, id_ in session.execute(select(Staff.staff_id, Staff.id))}
        made: list[tuple[str, str, bool, bool, list[tuple[int, int | None]], int | None]] = [
            (item["staff"], item["service"], item["face_to_face"], item["deleted"], spans, None)
            for item in entries
            for spans in [_segments(item["start"], item["steps"])]
        ]
        if timer is not None:
            started, beat_ago = timer
            beat = max(started, int(LATER.timestamp()) - beat_ago)
            made.append(("rn-lee", "ccm", False, False, [(started, None)], beat))
        for who, service, f2f, deleted, spans, beat in made:
            running_now = beat is not None
            row = TimeEntry(
                patient_id=patient.id,
                staff_id=staff[who],
                service=service,
                face_to_face=f2f,
                state="running" if running_now else "stopped",
                source="stopwatch" if running_now else "import",
                created_at=LATER,
                deleted_at=LATER if deleted else None,
                deleted_reason="mistake" if deleted else None,
                last_heartbeat_at=_instant(beat) if beat is not None else None,
            )
            row.segments = [
                TimeSegment(started_at=_instant(a), ended_at=None if b is None else _instant(b))
                for a, b in spans
            ]
            session.add(row)
        for admitted, days in stays:
            # Recorded on the admission month's record; a stay counts wherever it was entered.
            month = session.scalars(
                select(PatientMonth).where(
                    PatientMonth.patient_id == patient.id,
                    PatientMonth.month == admitted.strftime("%Y-%m"),
                )
            ).one_or_none()
            if month is None:
                month = PatientMonth(patient_id=patient.id, month=admitted.strftime("%Y-%m"))
                session.add(month)
            month.inpatient_stays.append(
                InpatientStay(admitted_on=admitted, discharged_on=admitted + dt.timedelta(days))
            )
    billed = services.billing.patient_month(BILLER, mrn, "2026-03").result.countable_seconds
    shown = services.minutes.month_progress(NURSE, mrn, "2026-03").progress
    assert shown.countable_seconds == billed
    listed = [r for r in services.minutes.worklist(NURSE, "2026-03") if r.mrn == mrn]
    assert [r.progress.countable_seconds for r in listed] == ([billed] if consent else [])
    # `staffed` lives through every example, and so does its evaluation cache: the rows
    # written above, with no audit event, must still invalidate it (docs/dashboard.md).
    kept = staffed.minutes.worklist(NURSE, "2026-03")
    assert kept == Services(db, clock=lambda: STAFFED_NOW).minutes.worklist(NURSE, "2026-03")


def test_the_worklist_marks_a_plan_review_due_as_the_months_evaluation_warns(
    sw: Services, clock: FakeClock
) -> None:
    signed_plan(sw, "A1", review_on=dt.date(2026, 3, 30))  # passed before 31 March
    signed_plan(sw, "B2", review_on=dt.date(2026, 3, 31))  # the last day itself: not yet
    due = {row.mrn: row.plan_review_due for row in sw.minutes.worklist(NURSE, "2026-03")}
    assert due == {"A1": True, "B2": False, "C3": False}  # C3's plan is kept elsewhere
    warned = {
        row.mrn: "CARE_PLAN_REVIEW_DUE" in row.result.warnings
        for row in sw.billing.month(BILLER, "2026-03").rows
    }
    assert {mrn: warned[mrn] for mrn in due} == due
    # April: B2's review date has passed too.
    clock.now = dt.datetime(2026, 4, 2, 16, tzinfo=dt.UTC)
    assert {row.mrn for row in sw.minutes.worklist(NURSE, "2026-04") if row.plan_review_due} == {
        "A1",
        "B2",
    }
