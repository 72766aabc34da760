"""The practice: one row describing the clinic that bills."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ccmdesk.models.base import Base, one_of
from ccmdesk.rules.records import DEFAULT_ACTIVITIES


class Practice(Base):
    """Practice details printed on claims; a database holds exactly one."""

    __tablename__ = "practice"
    __table_args__ = (one_of("date_of_service_rule", ("last_day", "threshold_date"), "dos_rule"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    group_npi: Mapped[str | None] = mapped_column(String(10))
    tin: Mapped[str] = mapped_column(String(10), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    place_of_service: Mapped[str] = mapped_column(String(2), default="11")
    date_of_service_rule: Mapped[str] = mapped_column(String(20), default="last_day")
    # Minutes without keyboard or mouse before a running stopwatch asks about the idle time.
    idle_minutes: Mapped[int] = mapped_column(Integer, default=5)
    # Minutes without keyboard or mouse before the window locks (patient data hidden).
    auto_lock_minutes: Mapped[int] = mapped_column(Integer, default=10)
    # The stop dialog's activity list, one per line, in the order shown.
    activities: Mapped[str] = mapped_column(Text, default="\n".join(DEFAULT_ACTIVITIES))
    # The statement a practitioner signs each monthly summary with; empty: the default.
    attestation: Mapped[str] = mapped_column(Text, default="")
