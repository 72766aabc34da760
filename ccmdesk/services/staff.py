"""Staff members: list, add, edit, and turn a chosen staff member into the acting user."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ccmdesk.models import Patient, Staff
from ccmdesk.rules.records import FieldError, StaffRecord
from ccmdesk.rules.validation import validate_staff
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import NotFound, ValidationFailed


def staff_record(staff: Staff) -> StaffRecord:
    return StaffRecord(
        staff_id=staff.staff_id,
        name=staff.name,
        role=staff.role,
        credentials=staff.credentials,
        npi=staff.npi or "",
        active=staff.active,
    )


def apply_staff(staff: Staff, record: StaffRecord) -> None:
    staff.staff_id = record.staff_id
    staff.name = record.name
    staff.role = record.role
    staff.credentials = record.credentials
    staff.npi = record.npi or None
    staff.active = record.active


def stranded_patient_errors(
    name: str, record: StaffRecord, billing: int, managed: int
) -> list[FieldError]:
    """Patients left with a billing practitioner or care manager who can no longer be one."""
    errors: list[FieldError] = []
    if billing and (record.role != "practitioner" or not record.active):
        errors.append(
            FieldError(
                "role",
                f"{billing} patient(s) have {name} as billing practitioner; "
                "move them to another practitioner first",
            )
        )
    # A care manager who leaves may be retired at once (their patients show them as inactive
    # until reassigned); turning them into someone who cannot manage care may not.
    if managed and record.active and record.role not in ("clinical", "practitioner"):
        errors.append(
            FieldError(
                "role",
                f"{managed} patient(s) have {name} as care manager; "
                "give them another care manager first",
            )
        )
    return errors


def staff_change_errors(session: Session, staff: Staff, record: StaffRecord) -> list[FieldError]:
    """Changes that would strand patients or lock every administrator out."""
    errors: list[FieldError] = []
    if staff.role == "admin" and staff.active and (record.role != "admin" or not record.active):
        admins = session.execute(
            select(func.count())
            .select_from(Staff)
            .where(Staff.role == "admin", Staff.active.is_(True))
        ).scalar_one()
        if admins <= 1:
            errors.append(
                FieldError("role", "this is the only active administrator; add another first")
            )

    def count(column: InstrumentedAttribute[int | None]) -> int:
        query = select(func.count()).select_from(Patient).where(column == staff.id)
        return session.execute(query).scalar_one()

    errors += stranded_patient_errors(
        staff.name,
        record,
        count(Patient.billing_practitioner_id),
        count(Patient.care_manager_id),
    )
    return errors


class StaffService(ServiceBase):
    """The practice's people."""

    def list(self, include_inactive: bool = True) -> list[StaffRecord]:
        with self._db.read() as session:
            query = select(Staff).order_by(Staff.name, Staff.staff_id)
            if not include_inactive:
                query = query.where(Staff.active.is_(True))
            return [staff_record(s) for s in session.scalars(query)]

    def actor_for(self, staff_id: str) -> Actor:
        """The acting user once a person has said who they are."""
        with self._db.read() as session:
            staff = session.scalars(select(Staff).where(Staff.staff_id == staff_id)).first()
            if staff is None or not staff.active:
                raise NotFound(f"There is no active staff member '{staff_id}'.")
            return Actor(key=staff.staff_id, name=staff.name, role=staff.role)

    def save(self, actor: Actor, record: StaffRecord, *, is_new: bool) -> StaffRecord:
        """Add a staff member (is_new) or update the one with record.staff_id."""
        actor = self._authorize(actor, Permission.MANAGE_STAFF)
        errors = validate_staff(record)
        if errors:
            raise ValidationFailed(errors)
        with self._db.session() as session:
            staff = session.scalars(select(Staff).where(Staff.staff_id == record.staff_id)).first()
            if is_new and staff is not None:
                raise ValidationFailed(
                    [FieldError("staff_id", f"'{record.staff_id}' is already taken")]
                )
            if not is_new and staff is None:
                raise NotFound(f"There is no staff member '{record.staff_id}'.")
            before = staff_record(staff) if staff else None
            if staff is not None:
                if errors := staff_change_errors(session, staff, record):
                    raise ValidationFailed(errors)
            else:
                staff = Staff()
                session.add(staff)
            apply_staff(staff, record)
            change = (dataclasses.asdict(before) if before else None, dataclasses.asdict(record))
            audit.record_saved(session, self._now(), actor, "staff", record.staff_id, change)
        return record
