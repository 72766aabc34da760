"""Programs, visits, G0506 flags and the APCM attestation put straight on the records, for tests
of what the billing side does with them (the program service has its own tests)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import Enrollment, Patient, Practice, ProgramPeriod, Staff


def set_program(
    db: Database, mrn: str, program: str, from_month: str = "", focus: str | None = None
) -> None:
    """The patient is in `program` from `from_month` ("" from the start) on."""
    with db.session() as session:
        patient_id = session.scalars(select(Patient.id).where(Patient.mrn == mrn)).one()
        session.add(
            ProgramPeriod(
                patient_id=patient_id,
                from_month=from_month,
                program=program,
                focus_condition=focus,
                recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                recorded_by="test",
            )
        )


def attest_apcm(db: Database, staff_id: str | None = None) -> None:
    """The practice's APCM attestation, by `staff_id` or its first practitioner."""
    with db.session() as session:
        query = select(Staff.id).where(Staff.role == "practitioner")
        if staff_id is not None:
            query = query.where(Staff.staff_id == staff_id)
        practice = session.scalars(select(Practice)).one()
        practice.apcm_attested_by_id = session.scalars(query.limit(1)).one()
        practice.apcm_attested_at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


def set_visits(
    db: Database, mrn: str, *, last_visit: dt.date | None = None, g0506: bool | None = None
) -> None:
    """The patient's last face-to-face visit, and the initiating visit's G0506 flag."""
    with db.session() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        patient.last_visit_date = last_visit
        if g0506 is not None:
            enrollment = session.scalars(
                select(Enrollment).where(Enrollment.patient_id == patient.id)
            ).one()
            enrollment.initiating_visit_g0506 = g0506
