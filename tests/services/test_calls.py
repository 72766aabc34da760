"""The call log and callbacks: validation, audit, ordering, permissions, done derived."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from ccmdesk.models import AuditEvent, CallAttempt, TimeEntry
from ccmdesk.services import (
    Actor,
    NotFound,
    PermissionDenied,
    ServiceError,
    Services,
    ValidationFailed,
)
from tests.helpers.common import (
    BILLER,
    CLI,
    DOCTOR,
    FAST_HASHER,
    NOW,
    NURSE,
    SCHEDULER,
    FakeClock,
    patient_text,
)

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def practice(staffed: Services) -> Services:
    staffed.patients.save_text(
        CLI,
        patient_text(mrn="P1", phone="207-555-0101", mobile_phone="207-555-0199",
                     preferred_call_time="morning"),
    )  # fmt: skip
    staffed.patients.save_text(CLI, patient_text(mrn="P2", last_name="Two"))
    return staffed


def actions(services: Services) -> list[str]:
    with services._db.read() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_attempt_is_logged_audited_and_listed_newest_first(practice: Services) -> None:
    calls = practice.calls
    calls.record_attempt(NURSE, "P1", "no answer", "207-555-0101", at=NOW - 2 * HOUR)
    row = calls.record_attempt(NURSE, "P1", "reached", "207-555-0199", "  talked meds  ")
    assert (row.at, row.caller, row.note) == (NOW, "Grace Lee", "talked meds")
    log = calls.patient_log(DOCTOR, "P1")
    assert [a.outcome for a in log.attempts] == ["reached", "no answer"]
    assert log.phones == (("Home", "207-555-0101"), ("Mobile", "207-555-0199"))
    assert log.preferred_call_time == "morning"
    assert actions(practice).count("patient.call") == 2
    assert calls.patient_log(BILLER, "P2").attempts == ()  # reading needs VIEW_PATIENTS only


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"outcome": "busy"}, "outcome", "not an outcome"),
        ({"phone": "5" * 41}, "phone", "at most 40"),
        ({"note": "bell\x07"}, "note", "control characters"),
        ({"at": NOW + dt.timedelta(minutes=1)}, "at", "in the future"),
        ({"call_back_at": NOW - HOUR}, "due_at", "in the past"),
    ],
)
def test_a_wrong_attempt_is_refused_with_a_sentence(
    practice: Services, kwargs: dict[str, object], field: str, words: str
) -> None:
    given: dict[str, object] = {"outcome": "voicemail", **kwargs}
    with pytest.raises(ValidationFailed) as refused:
        practice.calls.record_attempt(NURSE, "P1", **given)  # type: ignore[arg-type]
    assert [e.field for e in refused.value.errors] == [field]
    assert words in str(refused.value)
    assert practice.calls.patient_log(NURSE, "P1").attempts == ()


def test_a_callback_in_the_past_or_for_a_biller_is_refused(practice: Services) -> None:
    with pytest.raises(ValidationFailed, match="in the past"):
        practice.calls.schedule(NURSE, "P1", NOW - dt.timedelta(seconds=1))
    with pytest.raises(ValidationFailed, match="does not call patients"):
        practice.calls.schedule(NURSE, "P1", NOW + HOUR, assigned_to="bill-b")
    with pytest.raises(ValidationFailed, match="no staff member"):
        practice.calls.schedule(NURSE, "P1", NOW + HOUR, assigned_to="nobody")
    with pytest.raises(NotFound):
        practice.calls.schedule(NURSE, "P9", NOW + HOUR)


def test_only_callers_log_calls(practice: Services) -> None:
    for actor in (BILLER, Actor("admin-a", "Ann Admin", "admin")):
        with pytest.raises(PermissionDenied, match="may not log calls"):
            practice.calls.record_attempt(actor, "P1", "reached")
        with pytest.raises(PermissionDenied):
            practice.calls.schedule(actor, "P1", NOW + HOUR)
    practice.calls.record_attempt(SCHEDULER, "P1", "voicemail")  # schedulers call too


def test_callbacks_are_scheduled_done_and_cancelled_once(practice: Services) -> None:
    calls = practice.calls
    first = calls.schedule(NURSE, "P1", NOW + HOUR, note="after lunch")
    second = calls.schedule(SCHEDULER, "P1", NOW + 3 * HOUR, assigned_to="rn-lee")
    assert (first.assigned_to, second.assigned_to, second.assigned_name) == (
        "", "rn-lee", "Grace Lee")  # fmt: skip
    log = calls.patient_log(NURSE, "P1")
    assert [c.callback_id for c in log.callbacks] == [second.callback_id, first.callback_id]
    assert [c.callback_id for c in log.open_callbacks] == [first.callback_id, second.callback_id]
    assert calls.done(NURSE, first.callback_id).status == "done"
    assert calls.cancel(NURSE, second.callback_id).status == "cancelled"
    with pytest.raises(ServiceError, match="already done or cancelled"):
        calls.done(NURSE, first.callback_id)
    with pytest.raises(ServiceError, match="already done or cancelled"):
        calls.cancel(NURSE, second.callback_id)
    assert calls.patient_log(NURSE, "P1").open_callbacks == ()
    assert actions(practice)[-4:] == [
        "patient.callback", "patient.callback", "patient.callback_done",
        "patient.callback_cancel",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("outcome", "closes"),
    [("reached", True), ("declined", True), ("voicemail", False), ("no answer", False),
     ("wrong number", False)],
)  # fmt: skip
def test_an_attempt_answering_a_callback_closes_it_unless_another_try_is_needed(
    practice: Services, outcome: str, closes: bool
) -> None:
    callback = practice.calls.schedule(NURSE, "P1", NOW + HOUR)
    practice.calls.record_attempt(NURSE, "P1", outcome, callback_id=callback.callback_id)
    [row] = practice.calls.patient_log(NURSE, "P1").callbacks
    assert row.status == ("done" if closes else "open")


def test_an_attempt_may_schedule_the_next_call_in_the_same_step(practice: Services) -> None:
    practice.calls.record_attempt(NURSE, "P1", "voicemail", call_back_at=NOW + 20 * HOUR)
    [row] = practice.calls.patient_log(NURSE, "P1").open_callbacks
    assert row.due_at == NOW + 20 * HOUR
    assert actions(practice)[-2:] == ["patient.call", "patient.callback"]


def test_an_attempt_cannot_answer_another_patients_callback(practice: Services) -> None:
    other = practice.calls.schedule(NURSE, "P2", NOW + HOUR)
    with pytest.raises(ServiceError, match="another patient's"):
        practice.calls.record_attempt(NURSE, "P1", "reached", callback_id=other.callback_id)


def test_a_linked_stopwatch_stopped_and_kept_makes_the_callback_done(practice: Services) -> None:
    clock = FakeClock(NOW)
    practice = Services(practice._db, clock=clock, hasher=FAST_HASHER)
    calls = practice.calls
    callback = calls.schedule(NURSE, "P1", NOW + HOUR)
    timer = practice.stopwatch.start(NURSE, "P1")
    linked = calls.link(NURSE, callback.callback_id, timer.entry_id)
    assert (linked.time_entry_id, linked.status) == (timer.entry_id, "open")  # still running
    assert calls.due(NURSE, NOW + 2 * HOUR) != ()
    clock.advance(minutes=12)
    practice.stopwatch.stop(NURSE, timer.entry_id)
    assert calls.patient_log(NURSE, "P1").callbacks[0].status == "done"
    assert calls.due(NURSE, NOW + 2 * HOUR) == ()
    assert "patient.callback_link" in actions(practice)
    # The entry deleted: the call was not made after all, and the callback is open again.
    practice.entries.delete(NURSE, timer.entry_id, "wrong patient")
    assert calls.patient_log(NURSE, "P1").callbacks[0].status == "open"


def test_a_stopwatch_of_another_patient_cannot_answer_a_callback(practice: Services) -> None:
    callback = practice.calls.schedule(NURSE, "P1", NOW + HOUR)
    timer = practice.stopwatch.start(NURSE, "P2")
    with pytest.raises(ServiceError, match="another patient"):
        practice.calls.link(NURSE, callback.callback_id, timer.entry_id)


def test_due_lists_ones_own_and_unassigned_for_ones_patients(practice: Services) -> None:
    calls = practice.calls
    mine = calls.schedule(NURSE, "P1", NOW + HOUR)  # unassigned: P1's care manager, rn-lee
    theirs = calls.schedule(NURSE, "P2", NOW + 2 * HOUR, assigned_to="sched-s")
    calls.schedule(NURSE, "P1", NOW + 30 * HOUR)  # not due yet
    assert [c.callback_id for c in calls.due(NURSE, NOW + 3 * HOUR)] == [mine.callback_id]
    assert [c.callback_id for c in calls.due(SCHEDULER, NOW + 3 * HOUR)] == [theirs.callback_id]
    assert len(calls.due(CLI, NOW + 3 * HOUR)) == 2


def test_a_pre_consent_call_and_its_stopwatch_time_still_count_nothing(
    practice: Services,
) -> None:
    """An attempt is a record, never time; pre-consent time stays excluded (C6)."""
    practice.patients.save_text(CLI, patient_text(mrn="P3", consent_date="2026-04-10"))
    before_consent = dt.datetime(2026, 4, 3, 14, 0, tzinfo=dt.UTC)
    practice.calls.record_attempt(NURSE, "P3", "reached", at=before_consent)
    practice.entries.add_manual(
        NURSE, "P3", before_consent, before_consent + dt.timedelta(minutes=25),
        reason="outreach call",
    )  # fmt: skip
    with practice._db.read() as session:
        entries = session.scalar(select(func.count()).select_from(TimeEntry))
        attempts = session.scalar(select(func.count()).select_from(CallAttempt))
    assert (entries, attempts) == (1, 1)  # the call wrote no time of its own
    assert practice.minutes.month_progress(NURSE, "P3", "2026-04").progress.countable_seconds == 0
    [row] = [r for r in practice.billing.month(DOCTOR, "2026-04").rows if r.mrn == "P3"]
    assert row.result.countable_seconds == 0
    assert "PRE_CONSENT_TIME_EXCLUDED" in row.result.warnings
