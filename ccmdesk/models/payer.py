"""The practice's payers: who pays for care management, and the patient's share."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ccmdesk.models.base import Base, one_of
from ccmdesk.rules.catalog import DEFAULT_COINSURANCE_PERCENT, PAYER_KINDS, UNKNOWN_COVERAGE


class Payer(Base):
    """One payer on the practice's list; retired payers stay for the patients that name them."""

    __tablename__ = "payer"
    __table_args__ = (one_of("kind", PAYER_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    edi_payer_id: Mapped[str] = mapped_column(String(80), default="")
    covers: Mapped[str] = mapped_column(String(40), default=UNKNOWN_COVERAGE)
    coinsurance_percent: Mapped[int] = mapped_column(Integer, default=DEFAULT_COINSURANCE_PERCENT)
    min_diagnoses: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
