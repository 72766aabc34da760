"""The stopwatch core: every transition committed at once, durations from UTC instants."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent, Staff, TimeEntry, TimeSegment
from ccmdesk.services import (
    Actor,
    ImportFailed,
    PermissionDenied,
    ServiceError,
    Services,
    Stopped,
    TimerRunning,
    ValidationFailed,
)
from tests.helpers.common import BILLER, CLI, NURSE, FakeClock, patient_text
from tests.helpers.database import count_sessions, sign


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 4, 14, 0, tzinfo=dt.UTC))


@pytest.fixture
def sw(db: Database, clock: FakeClock, staffed: Services) -> Services:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    staffed.patients.save_text(CLI, patient_text(mrn="1002", last_name="Okafor"))
    return Services(db, clock=clock)


def test_pause_and_resume_count_only_the_running_time(sw: Services, clock: FakeClock) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=5)
    sw.stopwatch.pause(NURSE, timer.entry_id)
    clock.advance(minutes=7)  # on hold: not counted
    paused = sw.stopwatch.open_timers(NURSE)[0]
    assert (paused.state, paused.elapsed_seconds) == ("paused", 300)
    sw.stopwatch.resume(NURSE, timer.entry_id)
    clock.advance(minutes=3, seconds=20)
    assert sw.stopwatch.open_timers(NURSE)[0].elapsed_seconds == 500
    done = sw.stopwatch.stop(NURSE, timer.entry_id, activity="education", note="BP cuff").timer
    assert (done.state, done.elapsed_seconds, len(done.segments)) == ("stopped", 500, 2)
    assert sw.stopwatch.open_timers(NURSE) == []


def test_each_transition_is_in_the_database_at_once(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    # A new session (as another process would) sees the running entry and its open segment.
    with db.session() as session:
        entry = session.get(TimeEntry, timer.entry_id)
        segment = session.scalars(select(TimeSegment).where(TimeSegment.entry_id == entry.id)).one()
        assert (entry.state, segment.ended_at, entry.last_heartbeat_at) == (
            "running",
            None,
            clock.now,
        )
    clock.advance(seconds=30)
    sw.stopwatch.heartbeat(NURSE, timer.entry_id)
    with db.session() as session:
        assert session.get(TimeEntry, timer.entry_id).last_heartbeat_at == clock.now
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity == "time_entry")
        ).all()
    assert actions == ["time.start"]  # heartbeats change no time and are not audited


def test_one_running_stopwatch_per_person(sw: Services, clock: FakeClock) -> None:
    first = sw.stopwatch.start(NURSE, "1001")
    with pytest.raises(TimerRunning) as caught:
        sw.stopwatch.start(NURSE, "1002")
    assert caught.value.running.entry_id == first.entry_id
    assert "still running" in str(caught.value)
    # Pausing A and starting B is fine: segments that merely touch do not overlap (C3,
    # docs/billing-rules.md, "C3 Overlap counted once").
    clock.advance(minutes=2)
    sw.stopwatch.pause(NURSE, first.entry_id)
    second = sw.stopwatch.start(NURSE, "1002")
    with pytest.raises(TimerRunning):
        sw.stopwatch.resume(NURSE, first.entry_id)
    clock.advance(minutes=4)
    sw.stopwatch.stop(NURSE, second.entry_id)
    sw.stopwatch.resume(NURSE, first.entry_id)
    clock.advance(minutes=1)
    assert sw.stopwatch.stop(NURSE, first.entry_id).timer.elapsed_seconds == 180


def test_a_dst_night_counts_true_elapsed_time(db: Database, staffed: Services) -> None:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    # 2026-11-01 01:50 EDT; the wall clock falls back at 02:00 EDT to 01:00 EST.
    clock = FakeClock(dt.datetime(2026, 11, 1, 5, 50, tzinfo=dt.UTC))
    services = Services(db, clock=clock)
    timer = services.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=20)  # now 01:10 EST: the wall clock says -40 minutes
    assert services.stopwatch.stop(NURSE, timer.entry_id).timer.elapsed_seconds == 1200


def test_stop_returns_the_saved_entry_and_the_month_from_at_most_two_sessions(
    sw: Services, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=12)
    opened = count_sessions(monkeypatch)
    done = sw.stopwatch.stop(NURSE, timer.entry_id, activity="Education")
    # The permission look-up and the write; the page's log line and progress come with it.
    assert len(opened) <= 2, opened
    monkeypatch.undo()
    assert (done.entry.entry_id, done.entry.seconds, done.entry.activity) == (
        timer.entry_id,
        720,
        "Education",
    )
    assert done.entry == sw.time_log.patient_log(NURSE, "1001")[0]
    assert done.progress == sw.minutes.month_progress(NURSE, "1001")
    assert done.progress.progress.countable_seconds == 720


def test_the_importer_and_the_stopwatch_give_one_sentence_for_one_bad_entry(
    sw: Services, clock: FakeClock, tmp_path
) -> None:
    start, end = clock.now - dt.timedelta(minutes=10), clock.now + dt.timedelta(minutes=5)
    with pytest.raises(ValidationFailed) as by_hand:
        sw.entries.add_manual(NURSE, "1001", start, end, reason="call from home", service="xyz")
    typed = [str(error) for error in by_hand.value.errors]
    assert typed == [
        "end: is in the future",
        "service: 'xyz' is not one of ccm, pcm, tcm, rpm, bhi",
    ]
    csv = tmp_path / "entries.csv"
    csv.write_text(f"mrn,staff_id,start,end,service\n1001,rn-lee,{start},{end},xyz\n")
    with pytest.raises(ImportFailed) as imported:
        sw.imports.import_paths(CLI, [csv])
    # "entries.csv:2: end: is in the future": the same sentences after the file and line.
    assert [problem.split(": ", 1)[1] for problem in imported.value.problems] == typed
    timer = sw.stopwatch.start(NURSE, "1002")
    with pytest.raises(ValidationFailed) as stopped:
        sw.stopwatch.stop(NURSE, timer.entry_id, service="xyz", at=end)
    assert sorted(str(error) for error in stopped.value.errors) == typed


def test_the_importer_and_entries_by_hand_give_one_overlap_sentence(
    sw: Services, clock: FakeClock, tmp_path
) -> None:
    """One rule, one sentence: in the practice's time, the other entry named as a person knows
    it; the importer's reader is not the nurse, so it says whose time it is, and where a row."""
    start = clock.now - dt.timedelta(minutes=58, seconds=40)  # 08:01:20 in New York
    sw.entries.add_manual(NURSE, "1001", start, start + dt.timedelta(minutes=10),
                          reason="call from home")  # fmt: skip
    later = start + dt.timedelta(minutes=5)
    with pytest.raises(ValidationFailed) as by_hand:
        sw.entries.add_manual(NURSE, "1002", later, later + dt.timedelta(minutes=15), reason="x")
    [typed] = by_hand.value.errors
    csv = tmp_path / "entries.csv"
    csv.write_text(
        f"mrn,staff_id,start,end\n1002,rn-lee,{later},{later + dt.timedelta(minutes=15)}\n"
    )
    with pytest.raises(ImportFailed) as imported:
        sw.imports.import_paths(CLI, [csv])
    assert imported.value.problems == [
        f"{csv}:2: {typed.field}: " + typed.message.replace("your ", "rn-lee's ", 1)
    ]
    # Two rows of one file that overlap: the same sentence, with the other row's file and line.
    early = start - dt.timedelta(hours=2)
    csv.write_text(
        "mrn,staff_id,start,end\n"
        f"1001,rn-lee,{early},{early + dt.timedelta(minutes=10)}\n"
        f"1002,rn-lee,{early + dt.timedelta(minutes=5)},{early + dt.timedelta(minutes=20)}\n"
    )
    with pytest.raises(ImportFailed) as imported:
        sw.imports.import_paths(CLI, [csv])
    sw.entries.add_manual(NURSE, "1001", early, early + dt.timedelta(minutes=10),
                          reason="call from home")  # fmt: skip
    with pytest.raises(ValidationFailed) as by_hand:
        sw.entries.add_manual(NURSE, "1002", early + dt.timedelta(minutes=5),
                              early + dt.timedelta(minutes=20), reason="x")  # fmt: skip
    [typed] = by_hand.value.errors
    assert typed.message == (
        "This overlaps your 06:01:20\N{EN DASH}06:11:20 entry for MRN 1001 on 04 Mar 2026; "
        "change the start or end."
    )
    assert imported.value.problems == [
        f"{csv}:3: start: This overlaps rn-lee's 06:01:20\N{EN DASH}06:11:20 entry for MRN 1001 "
        f"on 04 Mar 2026 ({csv} line 2); change the start or end."
    ]


def test_stop_at_the_last_heartbeat_keeps_only_time_known_to_be_worked(
    sw: Services, clock: FakeClock
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(seconds=30)
    sw.stopwatch.heartbeat(NURSE, timer.entry_id)
    beat = clock.now
    clock.advance(hours=3)  # the computer lost power; the next start finds this timer
    found = sw.stopwatch.open_timers(NURSE)[0]
    assert found.last_heartbeat_at == beat
    done = sw.stopwatch.stop(NURSE, timer.entry_id, at=found.last_heartbeat_at).timer
    assert done.elapsed_seconds == 30


def test_stop_refuses_a_future_end_and_overlap_with_another_entry(
    sw: Services, db: Database, clock: FakeClock, tmp_path
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=10)
    with pytest.raises(ValidationFailed, match="end: is in the future"):
        sw.stopwatch.stop(NURSE, timer.entry_id, at=clock.now + dt.timedelta(minutes=1))
    # An import cannot add time on top of a running stopwatch ...
    csv = tmp_path / "entries.csv"
    start = (clock.now - dt.timedelta(minutes=5)).isoformat()
    end = (clock.now - dt.timedelta(minutes=2)).isoformat()
    csv.write_text(f"mrn,staff_id,start,end\n1002,rn-lee,{start},{end}\n")
    with pytest.raises(ImportFailed, match="rn-lee's stopwatch for MRN 1001, running since 09:00"):
        sw.imports.import_paths(CLI, [csv])
    # ... but another workstation may have saved an entry meanwhile: stop refuses to overlap it.
    with db.session() as session:
        mine = session.get(TimeEntry, timer.entry_id)
        other = TimeEntry(patient_id=mine.patient_id, staff_id=mine.staff_id, state="stopped",
                          source="manual", created_at=clock.now)  # fmt: skip
        other.segments.append(
            TimeSegment(
                started_at=clock.now - dt.timedelta(minutes=5),
                ended_at=clock.now - dt.timedelta(minutes=2),
            )
        )
        session.add(other)
    with pytest.raises(ValidationFailed, match=r"overlaps your 09:05–09:08 entry for MRN 1001"):
        sw.stopwatch.stop(NURSE, timer.entry_id)
    assert sw.stopwatch.open_timers(NURSE)[0].state == "running"  # nothing was lost


def test_discard_needs_a_reason_and_is_audited(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=1)
    with pytest.raises(ValidationFailed, match="reason: is required"):
        sw.stopwatch.discard(NURSE, timer.entry_id, " ")
    sw.stopwatch.discard(NURSE, timer.entry_id, "started on the wrong patient")
    assert sw.stopwatch.open_timers(NURSE) == []
    with db.session() as session:
        entry = session.get(TimeEntry, timer.entry_id)
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert entry.deleted_reason == "started on the wrong patient"
    assert (event.action, event.reason) == ("time.discard", "started on the wrong patient")


def test_only_care_team_roles_record_time_and_only_their_own(sw: Services) -> None:
    with pytest.raises(PermissionDenied, match="may not record care-management time"):
        sw.stopwatch.start(BILLER, "1001")
    timer = sw.stopwatch.start(NURSE, "1001")
    from ccmdesk.services import Actor

    doctor = Actor(key="dr-a", name="Dr. A", role="practitioner")
    with pytest.raises(ServiceError, match="no stopwatch"):
        sw.stopwatch.pause(doctor, timer.entry_id)


def test_a_heartbeat_needs_a_role_that_records_time(sw: Services, db: Database) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    with db.session() as session:
        staff = session.scalars(select(Staff).where(Staff.staff_id == NURSE.key)).one()
        staff.role = "billing"  # moved to the billing office while the stopwatch ran
    with pytest.raises(PermissionDenied):
        sw.stopwatch.heartbeat(NURSE, timer.entry_id)


def test_stop_cannot_end_before_the_last_pause(sw: Services, clock: FakeClock) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=5)
    sw.stopwatch.pause(NURSE, timer.entry_id)
    with pytest.raises(ValidationFailed, match="before this stopwatch's last pause"):
        sw.stopwatch.stop(NURSE, timer.entry_id, at=clock.now - dt.timedelta(minutes=1))
    assert sw.stopwatch.stop(NURSE, timer.entry_id).timer.elapsed_seconds == 300


def test_a_stopwatch_found_running_after_a_crash_can_be_kept_stopped_or_discarded(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    a = sw.stopwatch.start(NURSE, "1001")
    clock.advance(seconds=55)
    sw.stopwatch.pause(NURSE, a.entry_id)
    b = sw.stopwatch.start(NURSE, "1002")
    clock.advance(seconds=45)
    sw.stopwatch.heartbeat(NURSE, b.entry_id)
    assert sw.stopwatch.stale_timers(NURSE) == []  # beating
    clock.advance(minutes=30)  # power cut: no heartbeat for half an hour
    assert [t.entry_id for t in sw.stopwatch.stale_timers(NURSE)] == [b.entry_id]  # not paused A
    stopped = sw.stopwatch.recover(NURSE, b.entry_id, "stop_at_heartbeat")
    assert (
        isinstance(stopped, Stopped) and stopped.timer.elapsed_seconds == 45
    )  # the half hour is not counted

    sw.stopwatch.resume(NURSE, a.entry_id)
    clock.advance(minutes=31)  # another unclean exit; the nurse says she was on the call
    kept = sw.stopwatch.recover(NURSE, a.entry_id, "keep")
    assert kept is not None and (kept.state, kept.elapsed_seconds) == ("running", 55 + 31 * 60)
    assert sw.stopwatch.stale_timers(NURSE) == []
    assert sw.stopwatch.recover(NURSE, a.entry_id, "discard") is None
    with db.session() as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_key == str(a.entry_id))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == [
        "time.start",
        "time.pause",
        "time.resume",
        "time.recover_keep",
        "time.discard",
    ]


def test_manual_entries_need_a_reason_and_respect_the_rules(sw: Services, clock: FakeClock) -> None:
    start = clock.now - dt.timedelta(hours=2)
    end = start + dt.timedelta(minutes=12)
    with pytest.raises(ValidationFailed) as caught:
        sw.entries.add_manual(NURSE, "1001", end, start, reason=" ")
    assert {e.field for e in caught.value.errors} == {"end", "reason"}
    with pytest.raises(ValidationFailed, match="end: is in the future"):
        sw.entries.add_manual(NURSE, "1001", start, clock.now + dt.timedelta(minutes=1),
                                reason="phone call from home")  # fmt: skip
    row = sw.entries.add_manual(NURSE, "1001", start, end, reason="call taken in the hallway",
                                  activity="education")  # fmt: skip
    assert (row.seconds, row.source, row.activity, row.ended_at) == (
        720,
        "manual",
        "education",
        end,
    )
    with pytest.raises(ValidationFailed, match="overlaps your 07:00–07:12 entry"):
        sw.entries.add_manual(NURSE, "1002", start + dt.timedelta(minutes=5),
                                end + dt.timedelta(minutes=5), reason="x")  # fmt: skip


def test_an_overlap_is_a_sentence_in_practice_time_without_an_internal_id(
    sw: Services, clock: FakeClock
) -> None:
    # 13:01:20-13:11:20 UTC is 08:01:20-08:11:20 in New York (the practice's zone), in winter.
    start = clock.now - dt.timedelta(minutes=58, seconds=40)
    row = sw.entries.add_manual(NURSE, "1001", start, start + dt.timedelta(minutes=10),
                                  reason="call from home")  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        sw.entries.add_manual(NURSE, "1002", start + dt.timedelta(minutes=5),
                                start + dt.timedelta(minutes=20), reason="x")  # fmt: skip
    [error] = caught.value.errors
    assert error.message == (
        "This overlaps your 08:01:20–08:11:20 entry for MRN 1001 on 04 Mar 2026; "
        "change the start or end."
    )
    assert f"entry {row.entry_id}" not in error.message and "+00:00" not in error.message
    # An entry across local midnight names both days; whole minutes drop the seconds.
    night = dt.datetime(2026, 3, 3, 4, 50, tzinfo=dt.UTC)  # 23:50 on the 2nd in New York
    sw.entries.add_manual(NURSE, "1001", night, night + dt.timedelta(minutes=20),
                            reason="late call")  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        sw.entries.add_manual(NURSE, "1002", night, night + dt.timedelta(minutes=1),
                                reason="x")  # fmt: skip
    assert caught.value.errors[0].message == (
        "This overlaps your entry for MRN 1001 from 02 Mar 2026 23:50 to 03 Mar 2026 00:10; "
        "change the start or end."
    )


def test_the_free_span_is_the_latest_time_no_entry_of_ones_own_holds(
    sw: Services, clock: FakeClock
) -> None:
    clock.advance(seconds=30)  # 14:00:30: a span ends on a whole minute, at or before now
    ten = dt.timedelta(minutes=10)
    at = dt.datetime(2026, 3, 4, 14, 0, tzinfo=dt.UTC)
    assert sw.entries.free_span(NURSE, 10) == (at - ten, at)
    # The entry just saved (13:48:20-13:58:40) holds the ten minutes just past: the span ends
    # on the minute before it began, and is free of it.
    saved = sw.entries.add_manual(
        NURSE, "1001", at - dt.timedelta(minutes=11, seconds=40), at - dt.timedelta(seconds=80),
        reason="call",
    )  # fmt: skip
    start, end = sw.entries.free_span(NURSE, 10)
    assert (start, end) == (at - dt.timedelta(minutes=22), at - dt.timedelta(minutes=12))
    row = sw.entries.add_manual(NURSE, "1002", start, end, reason="the default, as offered")
    assert row.ended_at <= saved.started_at
    # A gap shorter than the span is passed over; a running stopwatch holds time up to now.
    sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=3)
    start, end = sw.entries.free_span(NURSE, 10)
    assert (start, end) == (at - dt.timedelta(minutes=32), at - dt.timedelta(minutes=22))
    # Someone else's time is no obstacle: the clinician's span is the ten minutes just past.
    doctor = Actor(key="dr-a", name="Dr. A", role="practitioner")
    assert sw.entries.free_span(doctor, 10)[1] == at + dt.timedelta(minutes=3)


def test_edits_keep_before_and_after_and_deletions_need_a_reason(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    start = clock.now - dt.timedelta(hours=1)
    row = sw.entries.add_manual(NURSE, "1001", start, start + dt.timedelta(minutes=10), reason="r")
    edited = sw.entries.edit(NURSE, row.entry_id, end=start + dt.timedelta(minutes=15),
                               note="longer than typed", reason="typo in the end time")  # fmt: skip
    assert edited.seconds == 900
    with db.session() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.reason) == ("time.update", "typo in the end time")
    assert '"note":""' in event.before and '"note":"longer than typed"' in event.after
    with pytest.raises(ValidationFailed, match="reason: is required"):
        sw.entries.delete(NURSE, row.entry_id, "")
    sw.entries.delete(NURSE, row.entry_id, "entered on the wrong patient")
    assert sw.time_log.patient_log(NURSE, "1001") == []


def test_a_paused_and_resumed_entry_keeps_its_segments_when_edited(
    sw: Services, clock: FakeClock
) -> None:
    timer = sw.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=2)
    sw.stopwatch.pause(NURSE, timer.entry_id)
    clock.advance(minutes=2)
    sw.stopwatch.resume(NURSE, timer.entry_id)
    clock.advance(minutes=2)
    sw.stopwatch.stop(NURSE, timer.entry_id)
    with pytest.raises(ServiceError, match="paused and resumed"):
        sw.entries.edit(NURSE, timer.entry_id, end=clock.now, reason="r")
    row = sw.entries.edit(
        NURSE, timer.entry_id, activity="care plan review or revision", reason="r"
    )
    assert (row.seconds, row.activity) == (240, "care plan review or revision")


def test_a_signed_month_refuses_new_changed_and_deleted_time(
    sw: Services, db: Database, clock: FakeClock
) -> None:
    start = clock.now - dt.timedelta(hours=3)
    row = sw.entries.add_manual(NURSE, "1001", start, start + dt.timedelta(minutes=5), reason="r")
    sign(db, "1001", "2026-03", clock.now)
    with pytest.raises(ServiceError, match="March 2026 is signed"):
        sw.entries.add_manual(NURSE, "1001", start + dt.timedelta(minutes=30),
                                start + dt.timedelta(minutes=40), reason="r")  # fmt: skip
    with pytest.raises(ServiceError, match="March 2026 is signed"):
        sw.entries.edit(NURSE, row.entry_id, note="x", reason="r")
    with pytest.raises(ServiceError, match="March 2026 is signed"):
        sw.entries.delete(NURSE, row.entry_id, "r")
    # A stopwatch is refused at the start, not after minutes the nurse could not keep.
    with pytest.raises(ServiceError, match="March 2026 is signed"):
        sw.stopwatch.start(NURSE, "1001")
    assert sw.stopwatch.open_timers(NURSE) == []
    # Another patient's month is not affected.
    assert sw.entries.add_manual(NURSE, "1002", start + dt.timedelta(minutes=30),
                                   start + dt.timedelta(minutes=40), reason="r").seconds == 600  # fmt: skip


def test_the_spring_forward_night_counts_true_elapsed_time(db: Database, staffed: Services) -> None:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    # 2026-03-08 01:50 EST; at 02:00 the wall clock jumps to 03:00 EDT.
    clock = FakeClock(dt.datetime(2026, 3, 8, 6, 50, tzinfo=dt.UTC))
    services = Services(db, clock=clock)
    timer = services.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=20)  # now 03:10 EDT: the wall clock says +80 minutes
    assert services.stopwatch.stop(NURSE, timer.entry_id).timer.elapsed_seconds == 1200


def test_a_stopwatch_across_the_local_month_end_leaves_each_month_its_own_seconds(
    db: Database, staffed: Services
) -> None:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    # 23:50 on 31 March in New York (03:50 UTC on 1 April), stopped at 00:15 on 1 April.
    clock = FakeClock(dt.datetime(2026, 4, 1, 3, 50, tzinfo=dt.UTC))
    services = Services(db, clock=clock)
    timer = services.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=25)
    services.stopwatch.stop(NURSE, timer.entry_id, activity="Education")
    march = services.minutes.month_progress(NURSE, "1001", "2026-03").progress
    april = services.minutes.month_progress(NURSE, "1001", "2026-04").progress
    assert (march.countable_seconds, april.countable_seconds) == (600, 900)


def test_logs_by_patient_month_and_by_local_day(db: Database, staffed: Services) -> None:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    # 22:30 in New York on 31 March is 02:30 UTC on 1 April: March, and the 31st locally.
    clock = FakeClock(dt.datetime(2026, 4, 2, 12, 0, tzinfo=dt.UTC))
    services = Services(db, clock=clock)
    late = dt.datetime(2026, 4, 1, 2, 30, tzinfo=dt.UTC)
    services.entries.add_manual(NURSE, "1001", late, late + dt.timedelta(minutes=10), reason="r")
    april = dt.datetime(2026, 4, 1, 14, 0, tzinfo=dt.UTC)
    services.entries.add_manual(NURSE, "1001", april, april + dt.timedelta(minutes=5), reason="r")
    assert [r.seconds for r in services.time_log.patient_log(NURSE, "1001", "2026-03")] == [600]
    assert [r.seconds for r in services.time_log.patient_log(NURSE, "1001", "2026-04")] == [300]
    assert [r.seconds for r in services.time_log.my_day(NURSE, dt.date(2026, 3, 31))] == [600]
    assert [r.seconds for r in services.time_log.my_day(NURSE, dt.date(2026, 4, 1))] == [300]


def test_after_an_unclean_exit_a_fresh_heartbeat_from_before_the_start_is_left_running(
    sw: Services, clock: FakeClock
) -> None:
    a = sw.stopwatch.start(NURSE, "1001")
    clock.advance(seconds=40)
    sw.stopwatch.heartbeat(NURSE, a.entry_id)
    clock.advance(seconds=10)  # killed, and started again at once
    restarted = sw.now()
    assert sw.stopwatch.stale_timers(NURSE) == []  # by the heartbeat's age alone: watched
    assert [t.entry_id for t in sw.stopwatch.stale_timers(NURSE, restarted)] == [a.entry_id]
    sw.stopwatch.recover(NURSE, a.entry_id, "keep")  # its heartbeat is now this run's
    assert sw.stopwatch.stale_timers(NURSE, restarted) == []


def test_the_last_stopwatch_started_is_the_global_shortcuts_patient(
    sw: Services, clock: FakeClock
) -> None:
    assert sw.stopwatch.last_started(NURSE) is None
    first = sw.stopwatch.start(NURSE, "1001", "bhi")
    clock.advance(minutes=3)
    sw.stopwatch.stop(NURSE, first.entry_id)
    # Time added by hand afterwards (for the hour before) is not a stopwatch started.
    earlier = clock.now - dt.timedelta(hours=1)
    sw.entries.add_manual(NURSE, "1002", earlier, earlier + dt.timedelta(minutes=5), reason="x")
    last = sw.stopwatch.last_started(NURSE)
    assert last is not None
    assert (last.mrn, last.service, last.state) == ("1001", "bhi", "stopped")
    clock.advance(minutes=10)
    wrong = sw.stopwatch.start(NURSE, "1002")
    assert sw.stopwatch.last_started(NURSE).entry_id == wrong.entry_id
    sw.stopwatch.discard(NURSE, wrong.entry_id, "started on the wrong patient")
    assert sw.stopwatch.last_started(NURSE).mrn == "1001"  # a discarded one is forgotten
    with pytest.raises(PermissionDenied):
        sw.stopwatch.last_started(BILLER)
