"""Claims written to 837P files: what was sent, so a later export never sends one twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ccmdesk.models.base import Base, UTCDateTime


class SentClaim(Base):
    """One claim (a patient-month) in one claim file; a resend adds another row."""

    __tablename__ = "sent_claim"
    __table_args__ = (Index("ix_sent_claim_patient_month", "patient_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    claim_id: Mapped[str] = mapped_column(String(20))
    payer_id: Mapped[str] = mapped_column(String(20))
    file: Mapped[str] = mapped_column(String(100))  # the file's name, e.g. claims-2026-03-mcr-b.x12
    control_number: Mapped[int] = mapped_column(Integer)
    sent_on: Mapped[dt.date] = mapped_column(Date)  # the practice's day
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_by: Mapped[str] = mapped_column(String(100))  # staff_id, or "cli:<os user>"
    total_cents: Mapped[int] = mapped_column(Integer)
