"""The practice: one row describing the clinic that bills."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ccmdesk.models.base import Base


class Practice(Base):
    """Practice details printed on claims; a database holds exactly one."""

    __tablename__ = "practice"
    __table_args__ = (
        CheckConstraint("date_of_service_rule IN ('last_day', 'threshold_date')", name="dos_rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    group_npi: Mapped[str | None] = mapped_column(String(10))
    tin: Mapped[str] = mapped_column(String(10), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    place_of_service: Mapped[str] = mapped_column(String(2), default="11")
    date_of_service_rule: Mapped[str] = mapped_column(String(20), default="last_day")
