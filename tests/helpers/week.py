"""Week tests' shared pieces: March 2026 instants, and overlapping entries the services refuse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import Patient, Staff, TimeEntry, TimeSegment


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An instant in March 2026, in UTC: the month the week tests live in."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


def insert_entry(
    db: Database,
    staff_id: str,
    mrn: str,
    spans: Sequence[tuple[dt.datetime, dt.datetime]],
    *,
    service: str = "ccm",
    activity: str = "",
) -> int:
    """A stopped entry as an old import or a race could have left it (overlaps included)."""
    with db.session() as session:
        staff = session.scalars(select(Staff).where(Staff.staff_id == staff_id)).one()
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        entry = TimeEntry(
            patient_id=patient.id,
            staff_id=staff.id,
            service=service,
            activity=activity,
            state="stopped",
            source="import",
            created_at=spans[0][0],
        )
        entry.segments.extend(TimeSegment(started_at=a, ended_at=b) for a, b in spans)
        session.add(entry)
        session.flush()
        return entry.id
