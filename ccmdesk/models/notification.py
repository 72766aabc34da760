"""Reminders raised for one person, kept so nothing is lost when no tray shows them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ccmdesk.models.base import Base, UTCDateTime, one_of
from ccmdesk.rules.catalog import REMINDER_KINDS


class Notification(Base):
    """One reminder for one staff member; `key` names the occasion (the kind and its day, say),
    so two workstations raising the same reminder at once store it once."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("staff_id", "key"),
        one_of("kind", REMINDER_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # What a click opens: "worklist:falling_behind", "patient:<MRN>", "review", "billing", ...
    target: Mapped[str] = mapped_column(String(200), default="")
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
