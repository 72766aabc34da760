"""The enrolment history (offered, declined, consented, revoked) and "cannot pay"."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent
from ccmdesk.services import PermissionDenied, ServiceError, Services, ValidationFailed
from tests.helpers.common import ADMIN, BILLER, NURSE, patient_text

UNCONSENTED = {"consent_date": "", "consent_method": "", "initiating_visit_date": "",
               "care_plan_date": ""}  # fmt: skip


def steps(services: Services, mrn: str = "1001") -> list[tuple[str, str, str, str]]:
    return [
        (s.step, s.day.isoformat(), s.reason, s.recorded_by)
        for s in services.enrolment.history(BILLER, mrn).steps
    ]


def test_offered_and_declined_are_recorded_with_who_and_why_and_audited(
    staffed: Services, db: Database
) -> None:
    staffed.patients.save_text(ADMIN, patient_text(**UNCONSENTED))
    staffed.enrolment.offered(NURSE, "1001", dt.date(2026, 3, 2))
    staffed.enrolment.declined(NURSE, "1001", dt.date(2026, 3, 9), "cost share")
    assert steps(staffed) == [
        ("offered", "2026-03-02", "", "Grace Lee"),
        ("declined", "2026-03-09", "cost share", "Grace Lee"),
    ]
    history = staffed.enrolment.history(NURSE, "1001")
    assert history.declined and history.shows_cost_options
    with db.read() as session:
        actions = list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "enrolment"))
        )
    assert actions == ["enrolment.offered", "enrolment.declined"]
    # Declining does not change how the months bill: the consent dates decide that.
    assert staffed.patients.get(NURSE, "1001").consent_date is None
    assert [r.enrollment for r in staffed.patients.list_rows(NURSE)] == ["Declined"]
    staffed.enrolment.offered(NURSE, "1001", dt.date(2026, 3, 20))  # offered again
    assert [r.enrollment for r in staffed.patients.list_rows(NURSE)] == ["No consent"]


def test_a_decline_needs_a_known_reason_and_other_needs_a_note(staffed: Services) -> None:
    staffed.patients.save_text(ADMIN, patient_text(**UNCONSENTED))
    day = dt.date(2026, 3, 9)
    with pytest.raises(ValidationFailed, match="reason: is required"):
        staffed.enrolment.declined(NURSE, "1001", day, "")
    with pytest.raises(ValidationFailed, match="is not one of"):
        staffed.enrolment.declined(NURSE, "1001", day, "too busy")
    with pytest.raises(ValidationFailed, match="note: is required when the reason is"):
        staffed.enrolment.declined(NURSE, "1001", day, "other", "  ")
    with pytest.raises(ValidationFailed, match="day: is in the future"):
        staffed.enrolment.offered(NURSE, "1001", dt.date(2026, 4, 16))
    staffed.enrolment.declined(NURSE, "1001", day, "other", "Moving to Florida")
    assert staffed.enrolment.history(NURSE, "1001").steps[-1].note == "Moving to Florida"


def test_a_patient_with_consent_in_force_stops_by_a_revocation_not_a_decline(
    staffed: Services,
) -> None:
    staffed.patients.save_text(ADMIN, patient_text())  # consent 2025-11-04
    with pytest.raises(ServiceError, match="enter the day consent was revoked"):
        staffed.enrolment.declined(NURSE, "1001", dt.date(2026, 3, 9), "cost share")
    # Before the consent, a decline was possible (offered, declined, then changed their mind).
    staffed.enrolment.declined(NURSE, "1001", dt.date(2025, 10, 1), "not interested")


def test_only_the_care_team_and_administrators_record_steps(staffed: Services) -> None:
    staffed.patients.save_text(ADMIN, patient_text(**UNCONSENTED))
    with pytest.raises(PermissionDenied):
        staffed.enrolment.offered(BILLER, "1001", dt.date(2026, 3, 2))


def test_consent_and_revocation_in_the_patient_record_add_history_steps(
    staffed: Services,
) -> None:
    staffed.patients.save_text(ADMIN, patient_text())
    assert steps(staffed) == [("consented", "2025-11-04", "", "Ann Admin")]
    staffed.patients.save_text(NURSE, patient_text(phone="207-555-0199"), "1001")
    assert len(steps(staffed)) == 1  # nothing about consent changed
    staffed.patients.save_text(NURSE, patient_text(consent_revoked_date="2026-03-31"), "1001")
    assert steps(staffed)[-1] == ("revoked", "2026-03-31", "", "Grace Lee")
    assert not staffed.enrolment.history(NURSE, "1001").shows_cost_options


def test_the_patients_import_adds_consent_and_revocation_steps(staffed: Services) -> None:
    from tests.helpers.billing import csv_bytes

    staffed.imports.import_data(ADMIN, [("patients.csv", csv_bytes([patient_text()]))])
    revoked = patient_text(consent_revoked_date="2026-02-28")
    staffed.imports.import_data(ADMIN, [("patients.csv", csv_bytes([revoked]))])
    staffed.imports.import_data(ADMIN, [("patients.csv", csv_bytes([revoked]))])  # unchanged
    assert [s[:2] for s in steps(staffed)] == [
        ("consented", "2025-11-04"),
        ("revoked", "2026-02-28"),
    ]


def test_cannot_pay_is_kept_by_a_file_or_an_editor_that_leaves_it_out(
    staffed: Services,
) -> None:
    from tests.helpers.billing import csv_bytes

    staffed.patients.save_text(ADMIN, patient_text(cannot_pay="yes"))
    assert staffed.patients.get(NURSE, "1001").cannot_pay
    assert staffed.enrolment.history(NURSE, "1001").shows_cost_options
    staffed.patients.save_text(NURSE, patient_text(phone="207-555-0199"), "1001")
    assert staffed.patients.get(NURSE, "1001").cannot_pay
    staffed.imports.import_data(ADMIN, [("patients.csv", csv_bytes([patient_text()]))])
    assert staffed.patients.get(NURSE, "1001").cannot_pay
    staffed.imports.import_data(
        ADMIN, [("patients.csv", csv_bytes([patient_text(cannot_pay="no")]))]
    )
    assert not staffed.patients.get(NURSE, "1001").cannot_pay
    with pytest.raises(ValidationFailed, match="cannot_pay: 'perhaps' is not yes or no"):
        staffed.patients.save_text(NURSE, patient_text(cannot_pay="perhaps"), "1001")


def test_a_revocation_keeps_why_the_patient_stopped_and_a_later_reason_is_audited(
    staffed: Services, db: Database
) -> None:
    staffed.patients.save_text(ADMIN, patient_text())
    staffed.patients.save_text(
        NURSE, patient_text(consent_revoked_date="2026-03-20"), original_mrn="1001",
        stop=("cost share", ""),
    )  # fmt: skip
    assert steps(staffed)[-1] == ("revoked", "2026-03-20", "cost share", "Grace Lee")
    assert staffed.enrolment.history(NURSE, "1001").shows_cost_options
    # A reason given later, with the same revocation day, goes on that step and is audited.
    staffed.patients.save_text(
        NURSE, patient_text(consent_revoked_date="2026-03-20"), original_mrn="1001",
        stop=("other", "moved to a nursing home"),
    )  # fmt: skip
    history = staffed.enrolment.history(NURSE, "1001")
    assert [(s.step, s.reason, s.note) for s in history.steps][-1] == (
        "revoked", "other", "moved to a nursing home")  # fmt: skip
    assert len([s for s in history.steps if s.step == "revoked"]) == 1
    with db.read() as session:
        actions = list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "enrolment"))
        )
    assert actions == ["enrolment.stop_reason"]


def test_why_stopped_needs_a_revocation_day_a_known_reason_and_a_note_for_other(
    staffed: Services,
) -> None:
    staffed.patients.save_text(ADMIN, patient_text())
    with pytest.raises(ValidationFailed, match="stop_reason: needs the day consent was revoked"):
        staffed.patients.save_text(NURSE, patient_text(), "1001", stop=("cost share", ""))
    revoked = patient_text(consent_revoked_date="2026-03-20")
    with pytest.raises(ValidationFailed, match="stop_reason: 'bored' is not one of"):
        staffed.patients.save_text(NURSE, revoked, "1001", stop=("bored", ""))
    with pytest.raises(ValidationFailed, match="stop_note: is required when the reason is"):
        staffed.patients.save_text(NURSE, revoked, "1001", stop=("other", " "))
    assert staffed.patients.get(NURSE, "1001").consent_revoked_date is None  # nothing saved
