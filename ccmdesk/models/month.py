"""Patient-month facts, inpatient stays and the monthly review (sign-off)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ccmdesk.models.base import Base, UTCDateTime, one_of
from ccmdesk.rules.month_facts import COMPLEXITY


class PatientMonth(Base):
    """What is known about one patient in one service month besides the minutes."""

    __tablename__ = "patient_month"
    __table_args__ = (
        UniqueConstraint("patient_id", "month"),
        one_of("complexity", COMPLEXITY),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    complexity: Mapped[str] = mapped_column(String(10), default="none")
    other_services: Mapped[str] = mapped_column(String(400), default="")  # ';'-separated codes
    billed_elsewhere: Mapped[bool] = mapped_column(Boolean, default=False)
    # A biller may choose another compliant code family for the month (docs/billing-rules.md,
    # "C8 Choosing the family").
    family_override: Mapped[str | None] = mapped_column(String(20))

    inpatient_stays: Mapped[list[InpatientStay]] = relationship(
        order_by="InpatientStay.admitted_on", cascade="all, delete-orphan"
    )


class InpatientStay(Base):
    """An inpatient stay; its local days (both ends included) are not care-management time."""

    __tablename__ = "inpatient_stay"
    __table_args__ = (CheckConstraint("discharged_on >= admitted_on", name="order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_month_id: Mapped[int] = mapped_column(
        ForeignKey("patient_month.id", ondelete="CASCADE"), index=True
    )
    admitted_on: Mapped[dt.date] = mapped_column(Date)
    discharged_on: Mapped[dt.date] = mapped_column(Date)


def _in_force(name: str, *keys: str, ended: str) -> Index:
    """A unique index on `keys` over the rows in force: those whose `ended` (when voided or
    reopened) is NULL."""
    where = text(f"{ended} IS NULL")
    return Index(name, *keys, unique=True, sqlite_where=where, postgresql_where=where)


class MonthlyReview(Base):
    """A practitioner's signature on a patient's month; voided (never deleted) on unlock."""

    __tablename__ = "monthly_review"
    # At most one signature in force per patient-month; voided ones stay as history.
    __table_args__ = (
        _in_force("ux_monthly_review_in_force", "patient_id", "month", ended="voided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attestation: Mapped[str] = mapped_column(Text)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    void_reason: Mapped[str | None] = mapped_column(Text)
    # What was signed (codes, minutes, the time log's entries), as canonical JSON, and its
    # SHA-256: the same hash is in the audit trail's sign event.
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_hash: Mapped[str] = mapped_column(String(64), default="")


class MonthClose(Base):
    """The practice closing a month for billing; reopened (never deleted) by an administrator."""

    __tablename__ = "month_close"
    __table_args__ = (_in_force("ux_month_close_in_force", "month", ended="reopened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_by: Mapped[str] = mapped_column(String(100))  # staff_id, or "cli:<os user>"
    reopened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reopened_by: Mapped[str | None] = mapped_column(String(100))
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    # The bill as it stood when closed (one line per patient: MRN|codes|cents|signed), brought
    # up to date only when billing acknowledges a change; its SHA-256 is in the audit trail.
    bill: Mapped[str] = mapped_column(Text, default="", server_default="")


class MonthFlag(Base):
    """A change that had to reach a closed or signed month's bill (a back-dated revocation of
    consent): raised on that month until billing staff acknowledge it."""

    __tablename__ = "month_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    raised_by: Mapped[str] = mapped_column(String(100))  # staff_id, or "cli:<os user>"
    why: Mapped[str] = mapped_column(Text)
    before: Mapped[str] = mapped_column(Text, default="")  # the patient's bill line before
    after: Mapped[str] = mapped_column(Text, default="")
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
