"""A patient's program from a month on: who sets it, what it must say, signed and closed
months, no-op changes, removal, history and the program in force."""

from __future__ import annotations

import itertools
import json
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent, MonthClose, MonthlyReview
from ccmdesk.services import (
    NotFound,
    PermissionDenied,
    ServiceError,
    Services,
    ValidationFailed,
)
from tests.helpers.common import ADMIN, BILLER, CLI, DOCTOR, NOW, NURSE, patient_text
from tests.helpers.database import sign


@pytest.fixture
def patient(staffed: Services) -> Services:
    staffed.patients.save_text(ADMIN, patient_text(conditions="E11.9;I10;N18.30"))
    return staffed


def close(db: Database, month: str) -> None:
    with db.session() as session:
        session.add(MonthClose(month=month, closed_at=NOW, closed_by="bill-b"))


def program_events(db: Database) -> list[tuple[str, str, dict[str, object], dict[str, object]]]:
    with db.read() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.entity_key, AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.action.like("patient.program%"))
            .order_by(AuditEvent.id)
        ).all()
    return [(a, k, json.loads(b), json.loads(after)) for a, k, b, after in rows]


def test_a_patient_with_no_period_is_in_ccm(patient: Services) -> None:
    assert patient.programs.program_in(NURSE, "1001", "2026-03") == ("ccm", None)
    assert patient.programs.history(NURSE, "1001") == []


def test_a_change_from_a_month_holds_from_then_on_and_is_audited(
    patient: Services, db: Database
) -> None:
    assert patient.programs.set(BILLER, "1001", "apcm", "2026-03") is True
    assert patient.programs.program_in(BILLER, "1001", "2026-02") == ("ccm", None)
    assert patient.programs.program_in(BILLER, "1001", "2026-03") == ("apcm", None)
    assert patient.programs.program_in(BILLER, "1001", "2027-01") == ("apcm", None)
    [row] = patient.programs.history(BILLER, "1001")
    assert (row.from_month, row.program, row.focus_condition) == ("2026-03", "apcm", None)
    assert (row.recorded_by, row.recorded_by_name, row.recorded_at) == ("bill-b", "Bo Biller", NOW)
    assert row.starts == "from March 2026"
    [(action, key, before, after)] = program_events(db)
    assert (action, key) == ("patient.program", "1001 program 2026-03")
    assert before == {"in_force": {"from_month": "", "program": "ccm", "focus_condition": None}}
    assert after == {"from_month": "2026-03", "program": "apcm", "focus_condition": None}


def test_pcm_focus_needs_a_condition_on_the_patients_list(patient: Services) -> None:
    with pytest.raises(ValidationFailed) as caught:
        patient.programs.set(DOCTOR, "1001", "pcm_focus", "2026-03")
    assert [e.field for e in caught.value.errors] == ["focus_condition"]
    with pytest.raises(ValidationFailed, match=r"J44\.9 is not on the patient's list"):
        patient.programs.set(DOCTOR, "1001", "pcm_focus", "2026-03", "J44.9")
    with pytest.raises(ValidationFailed, match="only for pcm_focus"):
        patient.programs.set(DOCTOR, "1001", "apcm", "2026-03", "E11.9")
    with pytest.raises(ValidationFailed, match="'bhi' is not a program"):
        patient.programs.set(DOCTOR, "1001", "bhi", "2026-03")
    with pytest.raises(ValidationFailed, match="not a month"):
        patient.programs.set(DOCTOR, "1001", "apcm", "March")
    # Written as a clinician might type it: the code is read the way the conditions are.
    assert patient.programs.set(DOCTOR, "1001", "pcm_focus", "2026-03", "n1830")
    assert patient.programs.program_in(DOCTOR, "1001", "2026-04") == ("pcm_focus", "N18.30")


def test_the_same_program_again_changes_nothing_and_writes_no_event(
    patient: Services, db: Database
) -> None:
    assert patient.programs.set(BILLER, "1001", "ccm", "") is False  # the default already
    assert patient.programs.set(BILLER, "1001", "pcm_focus", "2026-01", "I10") is True
    assert patient.programs.set(BILLER, "1001", "pcm_focus", "2026-01", "I10") is False
    # In force from an earlier month already: nothing to add.
    assert patient.programs.set(BILLER, "1001", "pcm_focus", "2026-04", "I10") is False
    assert len(program_events(db)) == 1
    assert [r.from_month for r in patient.programs.history(BILLER, "1001")] == ["2026-01"]


def test_a_change_from_a_month_replaces_that_period_and_keeps_later_ones(
    patient: Services, db: Database
) -> None:
    patient.programs.set(BILLER, "1001", "apcm", "2026-01")
    patient.programs.set(BILLER, "1001", "ccm", "2026-06")
    patient.programs.set(BILLER, "1001", "pcm_focus", "2026-01", "E11.9")
    history = [(r.from_month, r.program) for r in patient.programs.history(BILLER, "1001")]
    assert history == [("2026-01", "pcm_focus"), ("2026-06", "ccm")]
    *_, (_, _, before, _) = program_events(db)
    assert before == {"from_month": "2026-01", "program": "apcm", "focus_condition": None}


@pytest.mark.parametrize("locked", ["2026-03", "2026-05"])
def test_a_signed_month_from_then_on_refuses_the_change(
    patient: Services, db: Database, locked: str
) -> None:
    sign(db, "1001", locked, NOW)
    with pytest.raises(ServiceError) as refused:
        patient.programs.set(BILLER, "1001", "apcm", "2026-03")
    month = {"2026-03": "March 2026", "2026-05": "May 2026"}[locked]
    assert str(refused.value) == (
        f"{month} is signed for this patient; the patient's program from that month on cannot "
        "change until a practitioner or an administrator unlocks the month."
    )
    with pytest.raises(ServiceError, match="is signed for this patient"):
        patient.programs.set(BILLER, "1001", "apcm", "")  # from the start: every month
    assert patient.programs.set(BILLER, "1001", "apcm", "2026-06") is True  # after it: fine
    assert len(program_events(db)) == 1


def test_a_closed_month_refuses_the_change_and_the_removal(patient: Services, db: Database) -> None:
    patient.programs.set(BILLER, "1001", "apcm", "2026-03")
    close(db, "2026-04")
    with pytest.raises(ServiceError, match=r"April 2026 is closed for billing; .* reopens"):
        patient.programs.set(BILLER, "1001", "ccm", "2026-03")
    with pytest.raises(ServiceError, match="April 2026 is closed"):
        patient.programs.remove(BILLER, "1001", "2026-03")
    # Setting what is in force already is not a change: a file imported again is not refused.
    assert patient.programs.set(BILLER, "1001", "apcm", "2026-03") is False
    assert patient.programs.program_in(BILLER, "1001", "2026-04") == ("apcm", None)


def test_a_signature_voided_by_an_unlock_no_longer_refuses(patient: Services, db: Database) -> None:
    sign(db, "1001", "2026-03", NOW)
    with db.session() as session:
        for review in session.scalars(select(MonthlyReview)):
            review.voided_at = NOW
    assert patient.programs.set(BILLER, "1001", "apcm", "2026-03") is True


def test_removing_a_period_brings_back_the_one_before(patient: Services, db: Database) -> None:
    patient.programs.set(BILLER, "1001", "pcm_focus", "", "I10")
    patient.programs.set(BILLER, "1001", "apcm", "2026-03")
    patient.programs.remove(ADMIN, "1001", "2026-03")
    assert patient.programs.program_in(ADMIN, "1001", "2026-05") == ("pcm_focus", "I10")
    *_, (action, key, before, after) = program_events(db)
    assert (action, key) == ("patient.program_remove", "1001 program 2026-03")
    assert before == {"from_month": "2026-03", "program": "apcm", "focus_condition": None}
    assert after == {"in_force": {"from_month": "", "program": "pcm_focus",
                                  "focus_condition": "I10"}}  # fmt: skip
    with pytest.raises(NotFound, match="starts from March 2026"):
        patient.programs.remove(ADMIN, "1001", "2026-03")


def test_the_care_team_reads_programs_but_does_not_set_them(patient: Services) -> None:
    with pytest.raises(PermissionDenied, match="may not change a patient's program"):
        patient.programs.set(NURSE, "1001", "apcm", "2026-03")
    with pytest.raises(PermissionDenied):
        patient.programs.remove(NURSE, "1001", "2026-03")
    assert patient.programs.history(NURSE, "1001") == []
    with pytest.raises(NotFound, match="no patient with MRN '9999'"):
        patient.programs.set(CLI, "9999", "apcm", "2026-03")


def test_two_workstations_setting_at_once_both_end_in_a_sentence_or_success(
    patient: Services, db: Database
) -> None:
    outcomes: list[object] = []

    def attempt(program: str) -> None:
        try:
            outcomes.append(patient.programs.set(BILLER, "1001", program, "2026-03"))
        except ServiceError as refusal:  # pragma: no cover - the write lock serialises them
            outcomes.append(str(refusal))

    threads = [threading.Thread(target=attempt, args=(p,)) for p in ("apcm", "apcm")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == ["False", "True"]
    assert [r.program for r in patient.programs.history(BILLER, "1001")] == ["apcm"]
    assert len(program_events(db)) == 1


_numbers = itertools.count(1)  # a new patient for every example: the database is shared
MONTHS = [f"2026-{m:02d}" for m in range(1, 9)]
change = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(["", *MONTHS]),
              st.sampled_from([("ccm", None), ("apcm", None), ("pcm_focus", "I10")])),
    st.tuples(st.just("remove"), st.sampled_from(["", *MONTHS]), st.none()),
)  # fmt: skip


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    signed=st.sets(st.sampled_from(MONTHS), max_size=2),
    before=st.lists(change, max_size=3),
    after=st.lists(change, max_size=5),
)
def test_a_program_change_never_alters_a_signed_month(
    staffed: Services,
    db: Database,
    signed: set[str],
    before: list[tuple[str, str, tuple[str, str | None] | None]],
    after: list[tuple[str, str, tuple[str, str | None] | None]],
) -> None:
    mrn = f"H{next(_numbers)}"
    staffed.patients.save_text(CLI, patient_text(mrn=mrn))

    def run(changes: list[tuple[str, str, tuple[str, str | None] | None]]) -> None:
        for kind, month, choice in changes:
            try:
                if kind == "set" and choice is not None:
                    staffed.programs.set(CLI, mrn, choice[0], month, choice[1])
                else:
                    staffed.programs.remove(CLI, mrn, month)
            except ServiceError:
                pass  # refused with a sentence: nothing changed

    run(before)
    for month in signed:
        sign(db, mrn, month, NOW)
    kept = {m: staffed.programs.program_in(CLI, mrn, m) for m in signed}
    run(after)
    assert {m: staffed.programs.program_in(CLI, mrn, m) for m in signed} == kept
