"""Care plans: each saved version, the copies given to the patient, and the practice's texts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ccmdesk.models.base import Base, UTCDateTime, one_of
from ccmdesk.rules.care_plan import COPY_METHODS, LANGUAGES


class CarePlanVersion(Base):
    """One saved version of a patient's comprehensive care plan. A version is never changed
    after it is saved: a revision is the next number. Signing fills the signed_* columns once,
    with the SHA-256 of the document signed (docs/billing-rules.md, "Care plan")."""

    __tablename__ = "care_plan_version"
    __table_args__ = (UniqueConstraint("patient_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per patient
    problems: Mapped[str] = mapped_column(Text, default="")
    outcomes: Mapped[str] = mapped_column(Text, default="")
    goals: Mapped[str] = mapped_column(Text, default="")
    symptoms: Mapped[str] = mapped_column(Text, default="")
    interventions: Mapped[str] = mapped_column(Text, default="")
    medications: Mapped[str] = mapped_column(Text, default="")
    community: Mapped[str] = mapped_column(Text, default="")
    coordination: Mapped[str] = mapped_column(Text, default="")
    review_on: Mapped[dt.date | None] = mapped_column(Date)
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    saved_by: Mapped[str] = mapped_column(String(100))  # staff_id, or "cli:<os user>"
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # The day it was signed in the practice's time zone: the care plan date the rules use.
    signed_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    attestation: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[str] = mapped_column(Text, default="")  # the canonical JSON signed
    document_hash: Mapped[str] = mapped_column(String(64), default="")


class CarePlanCopy(Base):
    """A copy of a signed version given to the patient or caregiver: the day, how, and in
    which language it was printed."""

    __tablename__ = "care_plan_copy"
    __table_args__ = (
        one_of("method", COPY_METHODS),
        one_of("language", LANGUAGES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("care_plan_version.id", ondelete="CASCADE"), index=True
    )
    given_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(2))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))


class CarePlanTemplate(Base):
    """The practice's template for one chronic condition: the ICD-10-CM prefixes it matches
    (';'-separated) and the goals, symptom management and interventions it prefills."""

    __tablename__ = "care_plan_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    prefixes: Mapped[str] = mapped_column(String(200), default="")
    goals: Mapped[str] = mapped_column(Text, default="")
    symptoms: Mapped[str] = mapped_column(Text, default="")
    interventions: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class PatientCopyText(Base):
    """The practice's words for the patient copy in one language (title, opening, what to do
    when symptoms get worse, when to call 911, closing)."""

    __tablename__ = "patient_copy_text"
    __table_args__ = (one_of("language", LANGUAGES),)

    language: Mapped[str] = mapped_column(String(2), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    worse: Mapped[str] = mapped_column(Text, default="")
    emergency: Mapped[str] = mapped_column(Text, default="")
    closing: Mapped[str] = mapped_column(Text, default="")
