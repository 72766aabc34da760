"""The practice's fee schedule: an amount in cents per code and calendar year."""

from __future__ import annotations

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ccmdesk.models.base import Base


class FeeScheduleAmount(Base):
    """What the practice charges for one code in one year."""

    __tablename__ = "fee_schedule_amount"
    __table_args__ = (UniqueConstraint("year", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(5))
    amount_cents: Mapped[int] = mapped_column(Integer)
