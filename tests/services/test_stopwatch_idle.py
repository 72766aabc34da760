"""Idle time and wall-clock jumps on a running stopwatch: keep, discard, stop, re-base."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent
from ccmdesk.services import ServiceError, Services, ValidationFailed
from tests.helpers.common import CLI, NURSE, FakeClock, patient_text

START = dt.datetime(2026, 3, 4, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sw(db: Database, clock: FakeClock, staffed: Services) -> Services:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    staffed.patients.save_text(CLI, patient_text(mrn="1002", last_name="Okafor"))
    return Services(db, clock=clock)


def audit_rows(db: Database, action: str) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_discarding_idle_time_cuts_it_out_and_the_stopwatch_runs_on(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=4)
    idle_since = clock.now
    clock.advance(minutes=12)  # away; the nurse answers the idle question now
    state = sw.corrections.resolve_idle(NURSE, timer.entry_id, idle_since, "discard")
    assert (state.state, state.elapsed_seconds) == ("running", 240)
    clock.advance(minutes=2)
    done = sw.stopwatch.stop(NURSE, timer.entry_id, activity="Education").timer
    assert done.elapsed_seconds == 360
    assert done.segments == (
        (START, START + dt.timedelta(minutes=4)),
        (START + dt.timedelta(minutes=16), START + dt.timedelta(minutes=18)),
    )
    [event] = audit_rows(db, "time.idle_discard")
    assert '"idle"' in event.after and event.reason == "idle time discarded"


def test_keeping_idle_time_needs_a_reason_and_keeps_every_second(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=9)
    since = START + dt.timedelta(minutes=3)
    with pytest.raises(ValidationFailed, match="reason"):
        sw.corrections.resolve_idle(NURSE, timer.entry_id, since, "keep", "  ")
    state = sw.corrections.resolve_idle(NURSE, timer.entry_id, since, "keep", "reading the chart")
    assert state.elapsed_seconds == 540
    [event] = audit_rows(db, "time.idle_keep")
    assert event.reason == "reading the chart"


def test_stopping_at_the_start_of_idle_time_keeps_only_the_time_before(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=6)
    since = clock.now
    clock.advance(minutes=30)
    done = sw.stopwatch.stop(
        NURSE, timer.entry_id, activity="Education", at=since, reason="stopped where idle began"
    ).timer
    assert done.elapsed_seconds == 360
    [event] = audit_rows(db, "time.stop")
    assert event.reason == "stopped where idle began"


def test_idle_time_is_never_taken_off_another_entry(sw: Services, clock: FakeClock) -> None:
    first = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=10)
    since = clock.now - dt.timedelta(minutes=5)
    sw.stopwatch.stop(NURSE, first.entry_id, activity="Education")  # stopped from the tray
    second = sw.stopwatch.start(NURSE, "1002")
    clock.advance(minutes=3)
    with pytest.raises(ServiceError, match="no longer running"):
        sw.corrections.resolve_idle(NURSE, first.entry_id, since, "discard")
    assert sw.stopwatch.open_timers(NURSE)[0].elapsed_seconds == 180
    assert second.entry_id != first.entry_id


def test_idle_time_is_cut_from_every_stretch_it_covers(sw: Services, clock: FakeClock) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=5)
    idle_since = clock.now
    clock.advance(minutes=20)  # idle: nobody at the keyboard
    sw.stopwatch.pause(NURSE, timer.entry_id)
    clock.advance(minutes=5)
    sw.stopwatch.resume(NURSE, timer.entry_id)
    clock.advance(minutes=3)
    # Only the 5 minutes before idleness began are work; the stretch after the resume fell
    # inside the idle time the nurse now discards.
    state = sw.corrections.resolve_idle(NURSE, timer.entry_id, idle_since, "discard")
    assert state.elapsed_seconds == 300
    clock.advance(minutes=1)
    assert sw.stopwatch.open_timers(NURSE)[0].elapsed_seconds == 360


def test_a_manual_entry_cannot_overlap_ones_own_running_stopwatch(
    sw: Services, clock: FakeClock
) -> None:
    sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=10)
    with pytest.raises(ValidationFailed, match="overlaps your stopwatch for MRN 1001, running"):
        sw.entries.add_manual(
            NURSE,
            "1002",
            clock.now - dt.timedelta(minutes=6),
            clock.now - dt.timedelta(minutes=2),
            reason="typed in",
        )


def test_real_clock_instants_are_kept_in_whole_seconds(db: Database, staffed: Services) -> None:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    clock = FakeClock(dt.datetime(2026, 3, 4, 14, 0, 0, 734_512, tzinfo=dt.UTC))
    services = Services(db, clock=clock)
    timer = services.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=3, microseconds=100_000)
    services.stopwatch.stop(NURSE, timer.entry_id)
    # A note added afterwards (whole-second rules apply to edits) goes through.
    row = services.entries.edit(NURSE, timer.entry_id, reason="add a note", note="Refills")
    assert row.started_at.microsecond == 0 and row.note == "Refills"


def test_idle_instants_the_gui_passes_in_are_kept_in_whole_seconds(
    db: Database, staffed: Services
) -> None:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    clock = FakeClock(dt.datetime(2026, 3, 4, 14, 0, 0, 734_512, tzinfo=dt.UTC))
    services = Services(db, clock=clock)
    assert services.now().microsecond == 0  # the clock the GUI judges idle time by
    first = services.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=9)
    # Instants with a fraction, as an idle source measuring in milliseconds might give.
    since = clock.now - dt.timedelta(minutes=6, microseconds=250_000)
    services.corrections.resolve_idle(NURSE, first.entry_id, since, "discard")
    clock.advance(minutes=1)
    services.stopwatch.stop(NURSE, first.entry_id, at=clock.now - dt.timedelta(microseconds=1))
    # Correcting only the note afterwards goes through (edits refuse fractions of seconds).
    row = services.entries.edit(NURSE, first.entry_id, reason="add a note", note="Refills")
    assert row.note == "Refills" and row.ended_at is not None and row.ended_at.microsecond == 0


def test_a_clock_set_back_keeps_the_time_that_really_passed(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=10)
    clock.advance(hours=-1)  # the wall clock is corrected an hour back
    fixed = sw.corrections.clock_set_back(NURSE, timer.entry_id, 3600)
    assert fixed.timer.elapsed_seconds == 600
    assert (fixed.shifted_seconds, fixed.lost_seconds) == (3600, 0)
    clock.advance(minutes=5)
    assert sw.stopwatch.stop(NURSE, timer.entry_id).timer.elapsed_seconds == 900
    [event] = audit_rows(db, "time.clock_set_back")
    assert "3600 s" in event.reason


def test_a_clock_set_back_after_pauses_keeps_every_stretch_and_stop_works_at_once(
    sw: Services, clock: FakeClock
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=10)
    sw.stopwatch.pause(NURSE, timer.entry_id)
    clock.advance(minutes=5)
    sw.stopwatch.resume(NURSE, timer.entry_id)
    clock.advance(minutes=3)
    clock.advance(hours=-1)
    fixed = sw.corrections.clock_set_back(NURSE, timer.entry_id, 3600)
    # Both stretches moved together: no overlap inside the entry, nothing undercounted.
    first, second = fixed.timer.segments
    assert first[1] <= second[0] and fixed.timer.elapsed_seconds == 13 * 60
    # Stopping straight away is not refused as "before this stopwatch's last pause".
    clock.advance(seconds=30)
    assert sw.stopwatch.stop(NURSE, timer.entry_id).timer.elapsed_seconds == 13 * 60 + 30


def test_a_clock_set_back_moves_no_further_than_the_entry_before_allows(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    sw.entries.add_manual(
        NURSE, "1001", clock.now - dt.timedelta(minutes=30), clock.now - dt.timedelta(minutes=20),
        reason="call typed in",
    )  # fmt: skip
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=10)
    clock.advance(hours=-1)
    fixed = sw.corrections.clock_set_back(NURSE, timer.entry_id, 3600)
    # A full hour back would land on the entry that ended 20 minutes before this one began;
    # jumping clear past it is allowed (no overlap), so the whole hour is taken.
    assert (fixed.shifted_seconds, fixed.lost_seconds) == (3600, 0)
    assert fixed.timer.elapsed_seconds == 600


def test_time_that_cannot_move_back_without_overlap_is_left_out_and_audited(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    # An entry ended two minutes before the stopwatch began, and it is 30 minutes long: a
    # 20-minute set back can move this stopwatch back not at all.
    sw.entries.add_manual(
        NURSE, "1001", clock.now - dt.timedelta(minutes=32), clock.now - dt.timedelta(minutes=2),
        reason="call typed in",
    )  # fmt: skip
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=30)
    clock.advance(minutes=-20)
    fixed = sw.corrections.clock_set_back(NURSE, timer.entry_id, 1200)
    assert fixed.shifted_seconds == 120  # back to where the earlier entry ends
    assert fixed.lost_seconds == 1080
    assert fixed.timer.elapsed_seconds == 30 * 60 - 1080
    clock.advance(minutes=1)
    assert sw.stopwatch.stop(NURSE, timer.entry_id).timer.elapsed_seconds == 13 * 60
    [event] = audit_rows(db, "time.clock_set_back")
    assert "1080 s of this entry are left out" in event.reason


def test_entries_timed_on_the_same_fast_clock_move_back_with_the_stopwatch(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    first = sw.stopwatch.start(NURSE, "1002")
    clock.advance(minutes=10)
    sw.stopwatch.stop(NURSE, first.entry_id)
    timer = sw.stopwatch.start(NURSE, "1001")  # straight on to the next patient
    clock.advance(minutes=2)
    clock.advance(minutes=-10)  # the clock was 10 minutes fast and is corrected
    fixed = sw.corrections.clock_set_back(NURSE, timer.entry_id, 600)
    assert (fixed.shifted_seconds, fixed.lost_seconds) == (600, 0)
    # The earlier entry ended "in the future" on the corrected clock: it moved back too.
    [earlier] = sw.time_log.patient_log(NURSE, "1002")
    assert (earlier.started_at, earlier.seconds) == (START - dt.timedelta(minutes=10), 600)
    clock.advance(minutes=5)
    assert sw.stopwatch.stop(NURSE, timer.entry_id).timer.elapsed_seconds == 7 * 60
    assert len(audit_rows(db, "time.clock_set_back")) == 2  # each entry that moved


def test_a_clock_set_back_does_not_move_time_into_a_signed_month(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    from tests.helpers.database import sign

    # 00:00:30 on 1 April in New York; March is signed for the patient.
    clock.now = dt.datetime(2026, 4, 1, 4, 0, 30, tzinfo=dt.UTC)
    sign(db, "1001", "2026-03", clock.now)
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=3)
    clock.advance(minutes=-2)
    fixed = sw.corrections.clock_set_back(NURSE, timer.entry_id, 120)
    # Only back to midnight: the rest of the jump would land in the signed March.
    assert (fixed.shifted_seconds, fixed.lost_seconds) == (30, 90)
    assert fixed.timer.segments[0][0] == dt.datetime(2026, 4, 1, 4, 0, tzinfo=dt.UTC)
    clock.advance(minutes=3)
    assert sw.stopwatch.stop(NURSE, timer.entry_id).timer.elapsed_seconds == 90 + 3 * 60


def test_an_entry_that_cannot_move_is_removed_and_stop_still_works(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    # Back-to-back work on a clock 10 minutes fast: C, D, B, then the running stopwatch A.
    def timed(mrn: str, minutes: int) -> int:
        timer = sw.stopwatch.start(NURSE, mrn)
        clock.advance(minutes=minutes)
        return sw.stopwatch.stop(NURSE, timer.entry_id).timer.entry_id

    timed("1002", 15)
    timed("1002", 10)
    b = timed("1002", 3)
    a = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=4)
    clock.advance(minutes=-10)
    fixed = sw.corrections.clock_set_back(NURSE, a.entry_id, 600)
    # D ends where C ends... nothing can move back; B lies wholly after the corrected now.
    assert fixed.shifted_seconds == 0
    assert b not in [r.entry_id for r in sw.time_log.patient_log(NURSE, "1002")]
    events = {int(e.entity_key): e for e in audit_rows(db, "time.clock_set_back")}
    assert "180 s of this entry are left out" in events[b].reason
    assert events[b].after is None
    assert "240 s of this entry are left out" in events[a.entry_id].reason
    assert fixed.lost_seconds == 240
    clock.advance(minutes=2)
    assert sw.stopwatch.stop(NURSE, a.entry_id).timer.elapsed_seconds == 120


def test_time_already_in_a_signed_month_is_not_moved_by_a_clock_set_back(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    from tests.helpers.database import sign

    # 00:01 on 1 April in New York, on a clock running 10 minutes fast.
    clock.now = dt.datetime(2026, 4, 1, 4, 1, tzinfo=dt.UTC)
    other = sw.stopwatch.start(NURSE, "1002")
    clock.advance(minutes=2)
    sw.stopwatch.stop(NURSE, other.entry_id)
    sign(db, "1002", "2026-04", clock.now)  # April signed for that patient (as the clock said)
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=1)
    clock.advance(minutes=-10)
    # Moving the signed April call back into March would change what was signed: refused.
    with pytest.raises(ServiceError, match="signed"):
        sw.corrections.clock_set_back(NURSE, timer.entry_id, 600)
    [row] = sw.time_log.patient_log(NURSE, "1002", "2026-04")
    assert row.started_at == dt.datetime(2026, 4, 1, 4, 1, tzinfo=dt.UTC)  # nothing moved


def test_a_pause_after_an_unnoticed_clock_set_back_stays_valid(
    sw: Services, clock: FakeClock
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=-2)
    state = sw.stopwatch.pause(NURSE, timer.entry_id)
    assert (state.state, state.elapsed_seconds) == ("paused", 1)
