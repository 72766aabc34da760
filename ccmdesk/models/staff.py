"""Staff members and their roles."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ccmdesk.models.base import Base


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
    __table_args__ = (
        CheckConstraint(
            "role IN ('clinical', 'practitioner', 'non_clinical', 'billing', 'admin')", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    credentials: Mapped[str] = mapped_column(String(40), default="")
    npi: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
