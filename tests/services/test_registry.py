"""Practice, staff and patient services: permissions, validation and the audit trail."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent, Patient
from ccmdesk.rules.records import PracticeRecord, StaffRecord
from ccmdesk.services import (
    Actor,
    NotFound,
    PermissionDenied,
    ServiceError,
    Services,
    ValidationFailed,
)
from ccmdesk.services.audit import verify_chain
from tests.helpers.common import ADMIN, BILLER, CLI, NURSE, SCHEDULER, VALID_NPIS, patient_text


def audit_actions(db: Database) -> list[tuple[str, str, str]]:
    with db.read() as session:
        return [
            (e.actor, e.action, e.entity_key)
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_first_start_creates_the_practice_and_its_first_admin(
    services: Services, db: Database
) -> None:
    assert services.practice.needs_setup()
    actor = services.practice.set_up(
        PracticeRecord(name="Harbor Clinic", timezone="America/Chicago"),
        StaffRecord("boss", "Pat Boss", "clinical"),
    )
    assert actor == Actor(key="boss", name="Pat Boss", role="admin")
    assert not services.practice.needs_setup()
    assert services.staff.list()[0].role == "admin"  # the first person is always an admin
    assert [a for _, a, _ in audit_actions(db)] == ["practice.create", "staff.create"]
    with pytest.raises(ServiceError, match="already has staff"):
        services.practice.set_up(PracticeRecord(name="X"), StaffRecord("x", "X", "admin"))


def test_set_up_reports_practice_and_admin_errors_together(services: Services) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.practice.set_up(PracticeRecord(name="", tin="1"), StaffRecord("", "", "admin"))
    assert {e.field for e in caught.value.errors} == {"name", "tin", "admin_staff_id", "admin_name"}
    assert services.practice.needs_setup()


def test_only_admins_change_the_practice(staffed: Services, db: Database) -> None:
    current = staffed.practice.get()
    assert current is not None
    with pytest.raises(
        PermissionDenied, match=r"Grace Lee \(Clinical staff\) may not change the practice"
    ):
        staffed.practice.save(NURSE, dataclasses.replace(current, name="Hijacked"))
    staffed.practice.save(ADMIN, dataclasses.replace(current, phone="207-555-0199"))
    assert staffed.practice.get().phone == "207-555-0199"
    assert audit_actions(db)[-1] == ("admin-a", "practice.update", "practice")


def test_only_admins_manage_staff_and_every_change_is_audited(
    staffed: Services, db: Database
) -> None:
    new = StaffRecord("lpn-g", "Mateo García", "clinical", "LPN")
    with pytest.raises(PermissionDenied):
        staffed.staff.save(BILLER, new, is_new=True)
    staffed.staff.save(ADMIN, new, is_new=True)
    with pytest.raises(ValidationFailed, match="already taken"):
        staffed.staff.save(ADMIN, new, is_new=True)
    staffed.staff.save(ADMIN, dataclasses.replace(new, credentials="RN"), is_new=False)
    with db.session() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event.action == "staff.update"
        assert json.loads(event.before)["credentials"] == "LPN"
        assert json.loads(event.after)["credentials"] == "RN"
        assert verify_chain(session).ok


def test_a_practitioner_needs_an_npi_and_cannot_leave_patients_stranded(staffed: Services) -> None:
    with pytest.raises(ValidationFailed, match="npi: is required for a practitioner"):
        staffed.staff.save(ADMIN, StaffRecord("np-x", "NP X", "practitioner"), is_new=True)
    staffed.patients.save_text(NURSE, patient_text())
    with pytest.raises(
        ValidationFailed, match=r"1 patient\(s\) have Dr\. A as billing practitioner"
    ):
        staffed.staff.save(
            ADMIN, StaffRecord("dr-a", "Dr. A", "clinical", "MD", VALID_NPIS[0]), is_new=False
        )


def test_the_last_admin_cannot_be_demoted_or_retired(staffed: Services) -> None:
    with pytest.raises(ValidationFailed, match="only active administrator"):
        staffed.staff.save(ADMIN, StaffRecord("admin-a", "Ann Admin", "billing"), is_new=False)
    with pytest.raises(ValidationFailed, match="only active administrator"):
        staffed.staff.save(
            ADMIN, StaffRecord("admin-a", "Ann Admin", "admin", active=False), is_new=False
        )


def test_actor_for_refuses_unknown_and_inactive_staff(staffed: Services) -> None:
    assert staffed.staff.actor_for("rn-lee") == NURSE
    staffed.staff.save(ADMIN, StaffRecord("sched-s", "Sam Scheduler", "non_clinical", active=False),
                       is_new=False)  # fmt: skip
    with pytest.raises(NotFound):
        staffed.staff.actor_for("sched-s")
    with pytest.raises(NotFound):
        staffed.staff.actor_for("nobody")


def test_a_nurse_adds_and_edits_a_patient_with_a_full_audit_record(
    staffed: Services, db: Database
) -> None:
    saved = staffed.patients.save_text(NURSE, patient_text())
    assert saved.conditions == ("E11.9", "I10")
    row = staffed.patients.list_rows(NURSE)[0]
    assert (row.mrn, row.billing_practitioner, row.enrollment, row.care_manager) == (
        "1001", "Dr. A", "Enrolled", "rn-lee",
    )  # fmt: skip
    staffed.patients.save_text(
        NURSE, patient_text(conditions="I10;E11.9;J44.9", phone="207-555-1234"), "1001"
    )
    record = staffed.patients.get(NURSE, "1001")
    assert record.conditions == ("I10", "E11.9", "J44.9")  # order on file is kept
    assert record.consent_practitioner == "dr-a"  # defaults to the billing practitioner
    with db.session() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.action, event.actor, event.entity_key) == ("patient.update", "rn-lee", "1001")
        assert json.loads(event.before)["phone"] == ""
        assert json.loads(event.after)["conditions"] == ["I10", "E11.9", "J44.9"]


def test_saving_a_patient_unchanged_writes_no_audit_event(staffed: Services, db: Database) -> None:
    staffed.patients.save_text(NURSE, patient_text())
    count = len(audit_actions(db))
    staffed.patients.save_text(NURSE, patient_text(), "1001")
    assert len(audit_actions(db)) == count


def test_patient_references_and_unique_mrn_are_checked(staffed: Services, db: Database) -> None:
    staffed.patients.save_text(NURSE, patient_text())
    raw = patient_text(mrn="1001", billing_practitioner="rn-lee", care_manager="bill-b",
                       consent_practitioner="ghost")  # fmt: skip
    problems = {e.field: e.message for e in staffed.patients.check_text(raw, None)}
    assert problems == {
        "mrn": "'1001' belongs to another patient",
        "billing_practitioner": "'rn-lee' is clinical, not a practitioner",
        "care_manager": "'bill-b' is billing; a care manager must be clinical staff or a practitioner",
        "consent_practitioner": "no staff member has staff_id 'ghost'",
    }
    with pytest.raises(ValidationFailed):
        staffed.patients.save_text(NURSE, raw)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 1


def test_roles_without_edit_rights_cannot_change_patients(staffed: Services) -> None:
    for actor in (BILLER, SCHEDULER):
        with pytest.raises(PermissionDenied, match="may not add or edit patients"):
            staffed.patients.save_text(actor, patient_text())
        assert staffed.patients.list_rows(actor) == []  # but they may look


def test_enrollment_status_follows_consent_and_revocation(staffed: Services) -> None:
    staffed.patients.save_text(NURSE, patient_text(mrn="a", consent_date="", consent_method=""))
    staffed.patients.save_text(NURSE, patient_text(mrn="b", consent_revoked_date="2026-02-01"))
    staffed.patients.save_text(NURSE, patient_text(mrn="c"))
    status = {r.mrn: r.enrollment for r in staffed.patients.list_rows(NURSE)}
    assert status == {"a": "No consent", "b": "Consent revoked", "c": "Enrolled"}


def test_every_registry_change_extends_a_verifiable_chain(staffed: Services, db: Database) -> None:
    staffed.patients.save_text(CLI, patient_text())
    with db.session() as session:
        check = verify_chain(session)
        assert check.ok and check.events == len(audit_actions(db)) > 5
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "patient.create")
        ).one()
    with pytest.raises(IntegrityError, match="append-only"), db.session() as session:
        session.execute(text("UPDATE audit_event SET reason = 'tampered' WHERE id = :id"),
                        {"id": event.id})  # fmt: skip
    with db.session() as session:  # someone with the file drops the guard first
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("UPDATE audit_event SET reason = 'tampered' WHERE id = :id"),
                        {"id": event.id})  # fmt: skip
    with db.session() as session:
        check = verify_chain(session)
    assert not check.ok and check.first_bad_id == event.id


def test_services_judge_the_role_held_now_not_the_one_signed_in_with(staffed: Services) -> None:
    staffed.staff.save(ADMIN, StaffRecord("admin-b", "Bea Admin", "admin"), is_new=True)
    stale = Actor(key="admin-b", name="Bea Admin", role="admin")
    staffed.staff.save(ADMIN, StaffRecord("admin-b", "Bea Admin", "billing"), is_new=False)
    with pytest.raises(PermissionDenied, match=r"Bea Admin \(Billing\) may not add or edit staff"):
        staffed.staff.save(stale, StaffRecord("x-1", "X", "clinical"), is_new=True)
    staffed.staff.save(ADMIN, StaffRecord("rn-lee", "Grace Lee", "clinical", "RN", active=False),
                       is_new=False)  # fmt: skip
    with pytest.raises(PermissionDenied, match="not an active staff member"):
        staffed.patients.list_rows(NURSE)
    with pytest.raises(PermissionDenied, match="not an active staff member"):
        staffed.patients.list_rows(Actor(key="nobody", name="Nobody", role="admin"))


def test_the_first_start_actor_is_refused_once_staff_exist(staffed: Services) -> None:
    setup = Actor(key="setup:someone", name="first start", role="admin")
    with pytest.raises(PermissionDenied, match="set-up is finished"):
        staffed.demo.create(setup)


def test_staff_who_left_stay_where_they_are_but_cannot_be_newly_chosen(staffed: Services) -> None:
    staffed.staff.save(ADMIN, StaffRecord("lpn-o", "Ada Ode", "clinical", "LPN"), is_new=True)
    staffed.patients.save_text(NURSE, patient_text(care_manager="lpn-o"))
    staffed.staff.save(ADMIN, StaffRecord("lpn-o", "Ada Ode", "clinical", "LPN", active=False),
                       is_new=False)  # fmt: skip
    # The patient who already has her can still be edited ...
    staffed.patients.save_text(NURSE, patient_text(care_manager="lpn-o", phone="555"), "1001")
    # ... but nobody can be newly given her.
    with pytest.raises(ValidationFailed, match="care_manager: 'lpn-o' is no longer active"):
        staffed.patients.save_text(NURSE, patient_text(mrn="1002", care_manager="lpn-o"))


def test_first_start_over_a_practice_described_by_the_command_line_keeps_the_before(
    services: Services, db: Database
) -> None:
    services.practice.save(CLI, PracticeRecord(name="Old Name", timezone="America/Chicago"))
    services.practice.set_up(
        PracticeRecord(name="New Name", timezone="America/Denver"),
        StaffRecord("boss", "Pat Boss", "admin"),
    )
    with db.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "practice").order_by(AuditEvent.id.desc())
        ).first()
    assert event.action == "practice.update"
    assert json.loads(event.before)["timezone"] == "America/Chicago"
    assert json.loads(event.after)["timezone"] == "America/Denver"
