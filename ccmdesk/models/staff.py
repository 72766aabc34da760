"""Staff members and their roles."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ccmdesk.models.base import Base, UTCDateTime, one_of


class Role(StrEnum):
    """What a staff member does; decides whose minutes count and who may do what."""

    CLINICAL = "clinical"
    PRACTITIONER = "practitioner"
    NON_CLINICAL = "non_clinical"
    BILLING = "billing"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.CLINICAL: "Clinical staff",
    Role.PRACTITIONER: "Practitioner",
    Role.NON_CLINICAL: "Non-clinical staff",
    Role.BILLING: "Billing",
    Role.ADMIN: "Administrator",
}


class Staff(Base):
    """A person who works in the practice and may act in ccmdesk."""

    __tablename__ = "staff"
    __table_args__ = (one_of("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    credentials: Mapped[str] = mapped_column(String(40), default="")
    npi: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Argon2id hashes (argon2-cffi's encoded form, parameters and salt included); never shown,
    # exported or written to the audit trail.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_set_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    # Wrong passwords or PINs in a row; the fifth locks the account until locked_until.
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The end of the last lock-out, kept after it has passed until the password is next used
    # (sign-in or unlock): while it is set the PIN does not unlock (services/auth.py).
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The reminders this person turned off for themself (space-separated keys of
    # catalog.REMINDER_KINDS); the practice's own list applies on top.
    reminders_off: Mapped[str] = mapped_column(Text, default="", server_default="")
