"""The monthly review: queue, summary, signing (one or a batch), unlocking, and the freeze."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent, MonthlyReview
from ccmdesk.rules.care_plan import PlanInForce
from ccmdesk.rules.records import DEFAULT_ATTESTATION
from ccmdesk.services import (
    Actor,
    ImportFailed,
    MonthFactsRecord,
    PermissionDenied,
    ServiceError,
    Services,
    ValidationFailed,
)
from ccmdesk.services.review import care_plan_text
from tests.helpers.billing import (
    BELOW_MRN,
    BLOCKED_MRN,
    READY_MRN,
    csv_bytes,
    import_cases,
    patient_row,
    with_second_doctor_and_cases,
)
from tests.helpers.care_plans import signed_plan
from tests.helpers.common import ADMIN, BILLER, CLI, DOCTOR, NURSE, FakeClock
from tests.helpers.payer_billing import (
    CLAIM_FILE,
    PCM_ONLY,
    add_payers,
    add_sent_claim,
    set_payers,
)
from tests.helpers.scenario_cases import CASES, MONTH

OTHER_DOCTOR = Actor(key="dr-b", name="Dr. B", role="practitioner")


@pytest.fixture
def team(staffed: Services) -> Services:
    return with_second_doctor_and_cases(staffed)


def events(db: Database, action: str) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def entry_row(mrn: str, start: str, end: str, staff: str = "rn-lee") -> dict[str, str]:
    return {"mrn": mrn, "staff_id": staff, "start": start, "end": end, "activity": "Call"}


# --- queue and summary -------------------------------------------------------------------------


def test_the_queue_shows_a_practitioners_patients_by_review_status(team: Services) -> None:
    queue = team.review.queue(DOCTOR, MONTH)
    status = {row.mrn: s for row, s in queue.rows}
    assert status[READY_MRN] == "ready to sign"
    assert status[BELOW_MRN] == "below threshold"
    assert status[BLOCKED_MRN] == "blocked"
    assert queue.count("ready to sign") == sum(c.status == "billable" for c in CASES)
    assert team.review.queue(OTHER_DOCTOR, MONTH).rows == ()  # none of them are Dr. B's
    assert len(team.review.queue(BILLER, MONTH).rows) == len(CASES)
    with pytest.raises(PermissionDenied):
        team.review.queue(NURSE, MONTH)


def test_the_summary_has_conditions_consent_care_plan_log_minutes_and_codes(
    team: Services,
) -> None:
    summary = team.review.summary(DOCTOR, "S13", MONTH)
    assert summary.conditions[0] == ("E11.9", "Type 2 diabetes mellitus without complications")
    assert summary.consent_date == dt.date(2025, 11, 4) and summary.consent_method == "verbal"
    assert summary.care_plan == PlanInForce(dt.date(2025, 11, 4))  # kept elsewhere
    assert care_plan_text(summary.care_plan, summary.care_plan_given_on) == (
        "kept elsewhere, dated 4 Nov 2025"
    )
    assert {line.staff_name for line in summary.log} >= {"Grace Lee"}
    assert sum(line.seconds for line in summary.log) >= summary.row.result.countable_seconds
    assert summary.row.result.codes == "99490x1"
    assert summary.status == "ready to sign" and summary.signature is None
    assert summary.attestation == DEFAULT_ATTESTATION and summary.month_over
    with pytest.raises(PermissionDenied, match="not the billing practitioner"):
        team.review.summary(OTHER_DOCTOR, "S13", MONTH)


# --- signing -----------------------------------------------------------------------------------


def test_signing_records_what_was_signed_with_its_hash_in_the_audit_trail(
    team: Services, db: Database
) -> None:
    signature = team.review.sign(DOCTOR, READY_MRN, MONTH)
    assert signature.attestation == DEFAULT_ATTESTATION
    with db.session() as session:
        review = session.scalars(select(MonthlyReview)).one()
        assert hashlib.sha256(review.summary.encode()).hexdigest() == review.summary_hash
        signed = json.loads(review.summary)
    assert signed["codes"] == [["99490", 1]] and signed["entries"]
    (event,) = events(db, "month.sign")
    assert json.loads(event.after)["summary_sha256"] == signature.summary_hash
    summary = team.review.summary(DOCTOR, READY_MRN, MONTH)
    assert summary.status == "signed" and summary.signature is not None
    assert "NOT_SIGNED" not in summary.row.result.warnings


def test_the_practice_words_its_own_attestation(team: Services) -> None:
    team.practice.save_attestation(ADMIN, "  I supervised this care.  ")
    assert team.review.sign(DOCTOR, READY_MRN, MONTH).attestation == "I supervised this care."
    team.practice.save_attestation(ADMIN, "")
    assert team.practice.attestation() == DEFAULT_ATTESTATION
    with pytest.raises(PermissionDenied):
        team.practice.save_attestation(BILLER, "x")
    with pytest.raises(ValidationFailed, match="longer than"):
        team.practice.save_attestation(ADMIN, "x" * 1001)


@pytest.mark.parametrize(
    ("who", "mrn", "error", "message"),
    [
        (OTHER_DOCTOR, READY_MRN, ServiceError, "only the patient's billing practitioner"),
        (DOCTOR, BLOCKED_MRN, ServiceError, r"not billable \(NO_CONSENT\)"),
        (DOCTOR, BELOW_MRN, ServiceError, r"not billable \(BELOW_THRESHOLD\)"),
        (ADMIN, READY_MRN, PermissionDenied, "may not sign"),
        (BILLER, READY_MRN, PermissionDenied, "may not sign"),
        (NURSE, READY_MRN, PermissionDenied, "may not sign"),
    ],
)
def test_only_the_billing_practitioner_signs_a_billable_month(
    team: Services, who: Actor, mrn: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        team.review.sign(who, mrn, MONTH)


def test_a_month_is_signed_once_and_not_before_it_begins(team: Services) -> None:
    team.review.sign(DOCTOR, READY_MRN, MONTH)
    with pytest.raises(ServiceError, match="signed already"):
        team.review.sign(DOCTOR, READY_MRN, MONTH)
    with pytest.raises(ServiceError, match="has not begun"):
        team.review.sign(DOCTOR, READY_MRN, "2026-05")


def test_a_month_with_an_open_stopwatch_cannot_be_signed(team: Services) -> None:
    team.stopwatch.start(DOCTOR, READY_MRN)  # in April, the current month
    with pytest.raises(ServiceError, match="stopwatch is still running or paused"):
        team.review.sign(DOCTOR, READY_MRN, "2026-04")


def test_a_batch_signs_all_or_nothing_and_names_each_refusal(team: Services, db: Database) -> None:
    with pytest.raises(ServiceError) as refused:
        team.review.sign_many(DOCTOR, MONTH, [READY_MRN, "S03", BLOCKED_MRN])
    assert "Nothing was signed" in str(refused.value) and "(S17): not billable" in str(
        refused.value
    )
    assert events(db, "month.sign") == []
    signed = team.review.sign_many(DOCTOR, MONTH, [READY_MRN, "S03", "S04"])
    assert len(signed) == 3 and len(events(db, "month.sign")) == 3
    status = {row.mrn: s for row, s in team.review.queue(DOCTOR, MONTH).rows}
    assert [status[m] for m in (READY_MRN, "S03", "S04")] == ["signed"] * 3
    with pytest.raises(ValidationFailed):
        team.review.sign_many(DOCTOR, MONTH, [])


# --- the freeze --------------------------------------------------------------------------------


def test_a_signed_month_refuses_every_path_that_would_change_it(
    team: Services, db: Database
) -> None:
    team.review.sign(DOCTOR, "S13", MONTH)
    log = team.time_log.patient_log(NURSE, "S13", MONTH)
    mine = next(line for line in log if line.staff_id == "rn-lee")
    start = dt.datetime(2026, 3, 30, 14, 0, tzinfo=dt.UTC)
    refused = "March 2026 is signed for this patient"
    with pytest.raises(ServiceError, match=refused):
        team.entries.add_manual(NURSE, "S13", start, start + dt.timedelta(minutes=5), reason="r")
    with pytest.raises(ServiceError, match=refused):
        team.entries.edit(NURSE, mine.entry_id, note="changed", reason="r")
    with pytest.raises(ServiceError, match=refused):
        team.entries.delete(NURSE, mine.entry_id, "r")
    with pytest.raises(ServiceError, match=refused):
        team.month_facts.save(BILLER, "S13", MONTH, MonthFactsRecord(billed_elsewhere=True))
    with pytest.raises(ServiceError, match=refused):
        team.month_facts.save(DOCTOR, "S13", MONTH, MonthFactsRecord(complexity="high"))
    new_time = entry_row("S13", "2026-03-30T10:00:00-04:00", "2026-03-30T10:05:00-04:00")
    with pytest.raises(ImportFailed) as failed:
        team.imports.import_data(CLI, [("time.csv", csv_bytes([new_time]))])
    assert failed.value.problems == [
        "time.csv:2: start: March 2026 is signed for this patient; its time cannot change "
        "until a practitioner or an administrator unlocks the month."
    ]
    facts = {"mrn": "S13", "month": MONTH, "billed_elsewhere": "yes"}
    with pytest.raises(ImportFailed, match=r"months\.csv:2: month: March 2026 is signed"):
        team.imports.import_data(CLI, [("months.csv", csv_bytes([facts]))])
    # Nothing changed, and the signature still covers the same log.
    assert team.time_log.patient_log(NURSE, "S13", MONTH) == log
    assert team.review.summary(DOCTOR, "S13", MONTH).status == "signed"


def test_re_importing_the_same_rows_into_a_signed_month_changes_nothing_and_is_fine(
    team: Services,
) -> None:
    team.review.sign(DOCTOR, "S13", MONTH)
    # import_cases imports the same files again: every row is unchanged.
    import_cases(team, CASES)
    assert team.review.summary(DOCTOR, "S13", MONTH).status == "signed"


def test_an_unlock_needs_a_reason_voids_the_signature_and_the_month_is_signed_again(
    team: Services, db: Database
) -> None:
    team.review.sign(DOCTOR, "S13", MONTH)
    with pytest.raises(ValidationFailed, match="reason"):
        team.review.unlock(DOCTOR, "S13", MONTH, " ")
    with pytest.raises(PermissionDenied, match="not the billing practitioner"):
        team.review.unlock(OTHER_DOCTOR, "S13", MONTH, "typo")
    with pytest.raises(PermissionDenied):
        team.review.unlock(BILLER, "S13", MONTH, "typo")
    team.review.unlock(DOCTOR, "S13", MONTH, "a call was missing")
    summary = team.review.summary(DOCTOR, "S13", MONTH)
    assert summary.status == "ready to sign" and summary.signature is None
    (voided,) = summary.history
    assert voided.void_reason == "a call was missing" and voided.voided_by == "Dr. A"
    start = dt.datetime(2026, 3, 30, 14, 0, tzinfo=dt.UTC)
    team.entries.add_manual(NURSE, "S13", start, start + dt.timedelta(minutes=5), reason="r")
    team.review.sign(DOCTOR, "S13", MONTH)
    team.review.unlock(ADMIN, "S13", MONTH, "admin correction")  # an administrator may too
    (unlock, _) = events(db, "month.unlock")
    assert (
        unlock.reason == "a call was missing" and json.loads(unlock.before)["signed_by"] == "dr-a"
    )
    with pytest.raises(ServiceError, match="nothing to unlock"):
        team.review.unlock(ADMIN, "S13", MONTH, "again")


# --- closing the month -------------------------------------------------------------------------


def test_billing_closes_a_finished_month_and_only_an_administrator_reopens_it(
    team: Services, db: Database
) -> None:
    with pytest.raises(ServiceError, match="not over yet"):
        team.closing.close(BILLER, "2026-04")
    with pytest.raises(PermissionDenied):
        team.closing.close(NURSE, MONTH)
    with pytest.raises(PermissionDenied):
        team.closing.close(DOCTOR, MONTH)
    state = team.closing.close(BILLER, MONTH)
    assert state.closed and state.closings[0].closed_by == "Bo Biller"
    (closed,) = events(db, "month.close")
    after = json.loads(closed.after)
    assert after["billable"] == sum(c.status == "billable" for c in CASES)
    assert after["amount_cents"] == team.billing.month(BILLER, MONTH).amount_cents
    with pytest.raises(ServiceError, match="closed already"):
        team.closing.close(ADMIN, MONTH)
    with pytest.raises(PermissionDenied):
        team.closing.reopen(BILLER, MONTH, "mistake")
    with pytest.raises(ValidationFailed):
        team.closing.reopen(ADMIN, MONTH, "")
    state = team.closing.reopen(ADMIN, MONTH, "late entry from the home visit nurse")
    assert not state.closed and state.closings[0].reason.startswith("late entry")
    assert events(db, "month.reopen")[0].reason.startswith("late entry")


def test_a_closed_month_is_read_only_for_every_patient_and_every_path(team: Services) -> None:
    team.closing.close(BILLER, MONTH)
    start = dt.datetime(2026, 3, 30, 14, 0, tzinfo=dt.UTC)
    closed = "March 2026 is closed for billing"
    with pytest.raises(ServiceError, match=closed):
        team.entries.add_manual(NURSE, "S01", start, start + dt.timedelta(minutes=5), reason="r")
    with pytest.raises(ServiceError, match=closed):
        team.month_facts.save(BILLER, "S01", MONTH, MonthFactsRecord(billed_elsewhere=True))
    with pytest.raises(ServiceError, match=closed):
        team.families.choose(BILLER, "S05", MONTH, "ccm", "r")
    with pytest.raises(ServiceError, match="closed for billing"):
        team.review.sign(DOCTOR, READY_MRN, MONTH)
    new_time = entry_row("S01", "2026-03-30T10:00:00-04:00", "2026-03-30T10:05:00-04:00")
    with pytest.raises(ImportFailed, match=r"time\.csv:2: start: March 2026 is closed"):
        team.imports.import_data(CLI, [("time.csv", csv_bytes([new_time]))])
    # April is open: time there is recorded as usual.
    april = dt.datetime(2026, 4, 14, 14, 0, tzinfo=dt.UTC)
    team.entries.add_manual(NURSE, "S01", april, april + dt.timedelta(minutes=5), reason="r")


def test_a_signature_in_a_closed_month_is_not_voided_before_reopening(team: Services) -> None:
    team.review.sign(DOCTOR, READY_MRN, MONTH)
    team.closing.close(BILLER, MONTH)
    with pytest.raises(ServiceError, match="reopen"):
        team.review.unlock(ADMIN, READY_MRN, MONTH, "r")


def test_a_month_with_a_running_stopwatch_is_not_closed(team: Services, db: Database) -> None:
    from tests.helpers.common import FakeClock

    clock = FakeClock(dt.datetime(2026, 3, 31, 20, 0, tzinfo=dt.UTC))
    march = Services(db, clock=clock)
    running = march.stopwatch.start(NURSE, "S01")
    clock.advance(hours=240)  # into April, the stopwatch still open
    with pytest.raises(ServiceError, match="still running or paused"):
        march.closing.close(BILLER, MONTH)
    march.stopwatch.stop(NURSE, running.entry_id, at=clock.now - dt.timedelta(hours=239))
    assert march.closing.close(BILLER, MONTH).closed


def test_a_signed_month_whose_figures_change_on_the_patient_record_says_so(
    team: Services,
) -> None:
    from tests.helpers.billing import patient_row

    team.review.sign(DOCTOR, "S13", MONTH)
    assert not team.review.summary(DOCTOR, "S13", MONTH).changed_since_signed
    # One condition instead of two: the month now reads as PCM, not what was signed.
    case = next(c for c in CASES if c.number == 13)
    row = patient_row(case) | {"conditions": "E11.9"}
    team.imports.import_data(CLI, [("patients.csv", csv_bytes([row]))])
    summary = team.review.summary(DOCTOR, "S13", MONTH)
    assert summary.status == "signed" and summary.changed_since_signed


def test_a_paused_stopwatch_keeps_its_month_from_being_signed_or_closed(
    team: Services, db: Database
) -> None:
    from tests.helpers.common import FakeClock

    clock = FakeClock(dt.datetime(2026, 3, 31, 14, 0, tzinfo=dt.UTC))
    march = Services(db, clock=clock)
    timer = march.stopwatch.start(NURSE, READY_MRN)
    clock.advance(minutes=10)
    march.stopwatch.pause(NURSE, timer.entry_id)  # as switching user does
    clock.now = dt.datetime(2026, 4, 15, 16, 0, tzinfo=dt.UTC)
    with pytest.raises(ServiceError, match="running or paused"):
        march.review.sign(DOCTOR, READY_MRN, MONTH)
    assert march.review.summary(DOCTOR, READY_MRN, MONTH).open_stopwatch
    with pytest.raises(ServiceError, match="running or paused"):
        march.closing.close(BILLER, MONTH)
    march.stopwatch.stop(NURSE, timer.entry_id)
    march.review.sign(DOCTOR, READY_MRN, MONTH)
    assert march.closing.close(BILLER, MONTH).closed


def test_a_stale_paused_stopwatch_from_an_earlier_month_does_not_block_closing(
    team: Services, db: Database
) -> None:
    from tests.helpers.common import FakeClock

    clock = FakeClock(dt.datetime(2026, 2, 10, 14, 0, tzinfo=dt.UTC))
    february = Services(db, clock=clock)
    timer = february.stopwatch.start(NURSE, "S01")
    clock.advance(minutes=5)
    february.stopwatch.pause(NURSE, timer.entry_id)
    clock.now = dt.datetime(2026, 4, 15, 16, 0, tzinfo=dt.UTC)
    assert february.closing.close(BILLER, MONTH).closed  # its time is all in February


def test_discarding_a_paused_stopwatch_cannot_take_time_out_of_a_locked_month(
    team: Services, db: Database
) -> None:
    from ccmdesk.models import TimeEntry

    timer = team.stopwatch.start(NURSE, "S01")  # 15 April
    team.stopwatch.pause(NURSE, timer.entry_id)
    team.closing.close(BILLER, MONTH)
    # An older database may hold one paused across the closing (closing now refuses that).
    with db.session() as session:
        entry = session.get(TimeEntry, timer.entry_id)
        assert entry is not None
        entry.segments[0].started_at = dt.datetime(2026, 3, 31, 14, 0, tzinfo=dt.UTC)
        entry.segments[0].ended_at = dt.datetime(2026, 3, 31, 14, 10, tzinfo=dt.UTC)
    with pytest.raises(ServiceError, match="March 2026 is closed"):
        team.stopwatch.discard(NURSE, timer.entry_id, "oops")


def test_nothing_is_signed_when_the_month_changed_since_it_was_shown(team: Services) -> None:
    shown = ("99490x1", 6613)
    assert team.review.summary(DOCTOR, READY_MRN, MONTH).row.result.codes == shown[0]
    start = dt.datetime(2026, 3, 30, 14, 0, tzinfo=dt.UTC)
    team.entries.add_manual(NURSE, READY_MRN, start, start + dt.timedelta(minutes=20),
                              reason="late call")  # fmt: skip
    with pytest.raises(ServiceError, match=r"changed since it was shown \(99490x1 then, "):
        team.review.sign(DOCTOR, READY_MRN, MONTH, shown)
    assert team.review.summary(DOCTOR, READY_MRN, MONTH).signature is None
    now = team.review.summary(DOCTOR, READY_MRN, MONTH).row.result
    team.review.sign(DOCTOR, READY_MRN, MONTH, (now.codes, now.amount_cents))


def test_the_queue_says_whether_the_month_can_be_signed_by_the_rule_signing_obeys(
    team: Services,
) -> None:
    from ccmdesk.services.review import CLOSED, READY

    open_queue = team.review.queue(DOCTOR, MONTH)
    assert open_queue.can_sign and open_queue.count(READY) > 0
    assert not team.review.queue(BILLER, MONTH).can_sign  # billing staff sign nothing
    team.closing.close(BILLER, MONTH)
    closed = team.review.queue(DOCTOR, MONTH)
    assert not closed.can_sign and closed.count(READY) == 0
    assert closed.count(CLOSED) == open_queue.count(READY)
    with pytest.raises(ServiceError) as refused:
        team.review.sign(DOCTOR, READY_MRN, MONTH)
    assert str(refused.value) == closed.sign_refusal
    assert not team.review.queue(DOCTOR, "2026-05").can_sign  # not begun


# --- payers and sent claims ------------------------------------------------------------------


def test_unlocking_a_month_whose_claim_was_sent_says_a_corrected_claim_is_needed(
    team: Services, db: Database
) -> None:
    team.review.sign(DOCTOR, READY_MRN, MONTH)
    team.review.sign(DOCTOR, "S13", MONTH)
    add_sent_claim(db, READY_MRN, MONTH)
    summary = team.review.summary(DOCTOR, READY_MRN, MONTH)
    assert summary.sent_in == CLAIM_FILE and "frequency 7" in summary.unlock_warning
    unlocked = team.review.unlock(DOCTOR, READY_MRN, MONTH, "a call was missing")
    # The unlock goes through, and says what it means for the claim already sent.
    assert unlocked.corrected_claim_needed and unlocked.sent_in == CLAIM_FILE
    assert unlocked.message == (
        f"A claim for this month was already sent in {CLAIM_FILE}. If the month then bills "
        "differently, the payer needs a corrected claim (frequency 7), which ccmdesk does not "
        "produce yet: send it from the clearinghouse or practice-management system."
    )
    assert team.review.summary(DOCTOR, READY_MRN, MONTH).signature is None
    (event,) = events(db, "month.unlock")
    after = json.loads(event.after)
    assert after["sent_in"] == CLAIM_FILE and "frequency 7" in after["corrected_claim"]
    # A month never sent in a claim file unlocks as before: nothing about claims.
    other = team.review.unlock(DOCTOR, "S13", MONTH, "typo")
    assert not other.corrected_claim_needed and other.message == ""
    assert team.review.summary(DOCTOR, "S13", MONTH).unlock_warning == ""
    assert events(db, "month.unlock")[1].after is None


def test_the_summary_says_the_payers_block_and_the_patients_share(
    team: Services, db: Database
) -> None:
    add_payers(team, PCM_ONLY)
    set_payers(db, BLOCKED_MRN, "acme-pcm")
    blocked = team.review.summary(DOCTOR, BLOCKED_MRN, MONTH)
    assert "PAYER_DOES_NOT_COVER" in blocked.row.result.blocks
    assert blocked.estimate == ""  # a month that does not bill has no share to estimate
    ready = team.review.summary(DOCTOR, READY_MRN, MONTH)  # Medicare Part B, 20 %
    assert ready.estimate == (
        "Patient share (estimate): $13.23, 20 % coinsurance; assumes the Part B deductible "
        "($283.00 in 2026) has been met."
    )
    set_payers(db, READY_MRN, None)  # no payer on file: the summary reads as before payers
    assert team.review.summary(DOCTOR, READY_MRN, MONTH).estimate == ""


def test_the_summary_shows_the_signed_version_in_force_and_when_it_was_given(
    team: Services, db: Database
) -> None:
    """The version in force on the month's last day, as the bill judged it; a version signed
    after the month leaves the month on the plan kept elsewhere."""
    march = Services(db, clock=FakeClock(dt.datetime(2026, 3, 20, 16, tzinfo=dt.UTC)))
    first = signed_plan(march, READY_MRN, review_on=dt.date(2026, 9, 4))
    signed_plan(team, READY_MRN)  # signed 15 April: not in force for March
    summary = team.review.summary(DOCTOR, READY_MRN, MONTH)
    assert summary.care_plan == PlanInForce(dt.date(2026, 3, 20), 1, dt.date(2026, 9, 4))
    assert care_plan_text(summary.care_plan, summary.care_plan_given_on) == (
        "version 1, signed 20 Mar 2026 · review by 4 Sep 2026 · no copy given yet"
    )
    assert "CARE_PLAN_NOT_GIVEN" in summary.row.result.warnings
    for day in (dt.date(2026, 4, 6), dt.date(2026, 3, 27)):
        team.care_plans.record_copy(NURSE, READY_MRN, first.number, day, "mail")
    summary = team.review.summary(DOCTOR, READY_MRN, MONTH)
    assert summary.care_plan_given_on == dt.date(2026, 3, 27)  # the first copy
    assert care_plan_text(summary.care_plan, summary.care_plan_given_on).endswith(
        "· copy given 27 Mar 2026"
    )


def test_the_summary_says_when_no_plan_is_on_file(team: Services) -> None:
    case = next(c for c in CASES if f"S{c.number:02d}" == READY_MRN)
    team.patients.save_text(NURSE, patient_row(case) | {"care_plan_date": ""}, READY_MRN)
    summary = team.review.summary(DOCTOR, READY_MRN, MONTH)
    assert summary.care_plan is None and "NO_CARE_PLAN" in summary.row.result.blocks
    assert care_plan_text(summary.care_plan, summary.care_plan_given_on) == "none on file"
