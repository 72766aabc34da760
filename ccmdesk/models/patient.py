"""Patients, their chronic conditions and their care-management enrollment."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ccmdesk.models.base import Base, UTCDateTime, one_of
from ccmdesk.rules.catalog import (
    CALL_OUTCOMES,
    DECLINE_REASONS,
    ENROLMENT_STEPS,
    PATIENT_PROGRAMS,
    SIGNATURE_ON_FILE,
)
from ccmdesk.rules.records import RELATIONSHIPS


class Patient(Base):
    """A patient's demographics, payer and care team."""

    __tablename__ = "patient"
    __table_args__ = (
        one_of("insured_relationship", RELATIONSHIPS),
        one_of("signature_on_file", SIGNATURE_ON_FILE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(40), unique=True)
    last_name: Mapped[str] = mapped_column(String(100), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    dob: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")  # the main (home) number
    mobile_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    other_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # "", or a key of catalog.PREFERRED_CALL_TIMES (checked by the patient service: a CHECK
    # would make SQLite rebuild the patient table, and the rebuild's drop cascades to every
    # patient's rows); the worklist marks patients whose window is open now.
    preferred_call_time: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # The language the care plan's patient copy is printed in (a key of care_plan.LANGUAGES,
    # checked by the patient service for the reason preferred_call_time is).
    preferred_language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")
    address: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip: Mapped[str] = mapped_column(String(10), default="")
    # The primary payer's name and kind, kept in step with primary_payer_id by the patient
    # service so that the superbill and the handoff read them as before (docs/payers.md).
    payer: Mapped[str] = mapped_column(String(100), default="")
    payer_type: Mapped[str] = mapped_column(String(20), default="")
    member_id: Mapped[str] = mapped_column(String(40), default="")  # the primary member id
    primary_payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"), index=True)
    # "relationship" would hide SQLAlchemy's relationship() in this class body.
    insured_relationship: Mapped[str] = mapped_column(String(10), default="self")
    insured_last_name: Mapped[str] = mapped_column(String(100), default="")
    insured_first_name: Mapped[str] = mapped_column(String(100), default="")
    secondary_payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"), index=True)
    secondary_member_id: Mapped[str] = mapped_column(String(40), default="")
    signature_on_file: Mapped[str] = mapped_column(String(3), default="")  # blank: the practice's
    qmb: Mapped[bool] = mapped_column(Boolean, default=False)
    # The patient says they cannot pay the coinsurance: the care team is shown the options
    # (docs/payers.md, "A patient who cannot pay").
    cannot_pay: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The patient's last face-to-face visit with the practice: APCM needs one within three
    # years (docs/billing-rules.md, "APCM").
    last_visit_date: Mapped[dt.date | None] = mapped_column(Date)
    billing_practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    care_manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)

    conditions: Mapped[list[PatientCondition]] = relationship(
        order_by="PatientCondition.position", cascade="all, delete-orphan"
    )
    enrollment: Mapped[Enrollment | None] = relationship(cascade="all, delete-orphan")


class PatientCondition(Base):
    """One chronic condition on a patient's list; the order on file is the claim order."""

    __tablename__ = "patient_condition"
    __table_args__ = (UniqueConstraint("patient_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(8))


class Enrollment(Base):
    """Consent, initiating visit and care plan: the facts that open care management billing."""

    __tablename__ = "enrollment"
    __table_args__ = (one_of("consent_method", ("verbal", "written"), "method", nullable=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), unique=True
    )
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    consent_method: Mapped[str | None] = mapped_column(String(10))
    consent_practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    consent_revoked_date: Mapped[dt.date | None] = mapped_column(Date)
    initiating_visit_date: Mapped[dt.date | None] = mapped_column(Date)
    # The billing practitioner personally did the extensive assessment and care planning at
    # the initiating visit: G0506, once per patient (docs/billing-rules.md, "G0506").
    initiating_visit_g0506: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # A care plan kept outside ccmdesk, known only by its date (patients.csv care_plan_date); a
    # signed version in ccmdesk wins over it (docs/billing-rules.md, "Care plan").
    care_plan_date: Mapped[dt.date | None] = mapped_column(Date)


class EnrolmentEvent(Base):
    """One step of a patient's enrolment history: offered, consented, declined or revoked."""

    __tablename__ = "enrolment_event"
    __table_args__ = (
        one_of("step", ENROLMENT_STEPS),
        one_of("reason", DECLINE_REASONS, nullable=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(10))
    day: Mapped[dt.date] = mapped_column(Date)  # the day it happened, in the practice
    reason: Mapped[str | None] = mapped_column(String(20))  # declined or revoked: why
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))  # staff_id, or "cli:<os user>"


class Waiver(Base):
    """A financial-hardship waiver of a patient's coinsurance, from a first month to a last
    (none: until it is ended). One patient's waivers never overlap (docs/payers.md)."""

    __tablename__ = "waiver"
    __table_args__ = (
        UniqueConstraint("patient_id", "from_month"),
        CheckConstraint("to_month IS NULL OR to_month >= from_month", name="order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    from_month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    to_month: Mapped[str | None] = mapped_column(String(7))
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    approved_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))


class ProgramPeriod(Base):
    """The program a patient is billed under from a month onward (docs/billing-rules.md,
    "Programs"): the period in force in a month is the one with the latest `from_month` not
    after it; a patient with none is in `ccm`."""

    __tablename__ = "program_period"
    __table_args__ = (
        UniqueConstraint("patient_id", "from_month"),
        one_of("program", PATIENT_PROGRAMS),
        CheckConstraint("(program = 'pcm_focus') = (focus_condition IS NOT NULL)", name="focus"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    from_month: Mapped[str] = mapped_column(String(7))  # YYYY-MM; "" from the start
    program: Mapped[str] = mapped_column(String(10))
    focus_condition: Mapped[str | None] = mapped_column(String(8))  # pcm_focus only
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))  # staff_id, or "cli:<os user>"


class CallAttempt(Base):
    """One outreach call to a patient and what came of it: a record, not time (the minutes are
    timed with the stopwatch and counted by the billing rules)."""

    __tablename__ = "call_attempt"
    __table_args__ = (one_of("outcome", CALL_OUTCOMES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # none: the CLI
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str] = mapped_column(String(40), default="")  # the number dialled
    note: Mapped[str] = mapped_column(Text, default="")
    # The callback this call answered, if it was made from one.
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callback.id", ondelete="SET NULL"))
    recorded_by: Mapped[str] = mapped_column(String(100))  # staff_id, or "cli:<os user>"


class Callback(Base):
    """A call promised to a patient at a time: open until done or cancelled."""

    __tablename__ = "callback"
    __table_args__ = (
        # The worklist and the reminders read the open callbacks due by a time.
        Index("ix_callback_open_due", "done_at", "cancelled_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Who is to call; none: the patient's care manager.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    # The stopwatch started from this callback: the two are linked from its start.
    time_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("time_entry.id", ondelete="SET NULL")
    )
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(100))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
