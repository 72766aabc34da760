"""Time entries: a stopwatch run or a manual entry, made of one or more segments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ccmdesk.models.base import Base, UTCDateTime, one_of


class TimeEntry(Base):
    """Minutes one staff member spent on one patient.

    A stopwatch that is paused and resumed leaves several segments; the entry's time is the sum
    of its segments, never the span from first start to last end.
    """

    __tablename__ = "time_entry"
    __table_args__ = (
        one_of("state", ("running", "paused", "stopped")),
        one_of("service", ("ccm", "pcm", "tcm", "rpm", "bhi")),
        one_of("source", ("stopwatch", "manual", "import")),
        # Every start and resume looks up the staff member's running and paused stopwatches.
        Index("ix_time_entry_staff_state", "staff_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))  # ix_time_entry_staff_state
    service: Mapped[str] = mapped_column(String(3), default="ccm")
    face_to_face: Mapped[bool] = mapped_column(Boolean, default=False)
    activity: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default="stopped")
    source: Mapped[str] = mapped_column(String(10), default="manual")
    # Written while a stopwatch runs, so a crash loses at most the time since the last beat.
    last_heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted_reason: Mapped[str | None] = mapped_column(Text)

    segments: Mapped[list[TimeSegment]] = relationship(
        order_by="TimeSegment.started_at", cascade="all, delete-orphan"
    )


class TimeSegment(Base):
    """One uninterrupted stretch of an entry; ended_at is empty while it runs."""

    __tablename__ = "time_segment"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at > started_at", name="positive"),
        # Month evaluation reads segments by time from this index alone (it covers them).
        Index("ix_time_segment_span", "started_at", "ended_at", "entry_id"),
        Index("ix_time_segment_ended_at", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("time_entry.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
