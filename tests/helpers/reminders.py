"""Reminder test data: callbacks, and a child process that raises reminders at a given signal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from ccmdesk.db import Database, open_database
from ccmdesk.models import Callback, Patient, Staff
from ccmdesk.rules.reminders import Reminder
from ccmdesk.services import Services
from ccmdesk.services.notifications import Activity
from tests.helpers.common import NURSE

# Wednesday 2026-04-08, 10:00 in New York: in the working day and the month-close window.
APRIL_8 = dt.datetime(2026, 4, 8, 14, 0, tzinfo=dt.UTC)
# What every raising process stores: the same keys, at once.
SHARED = [
    Reminder("callbacks_due", f"callbacks_due:{n}", f"Callback {n}", "", "patient:1001")
    for n in range(25)
]


def add_callback(
    db: Database, mrn: str, due_at: dt.datetime, assigned_to: str | None = None, **values: Any
) -> int:
    with db.session() as session:
        patient = session.scalars(select(Patient.id).where(Patient.mrn == mrn)).one()
        staff = (
            session.scalars(select(Staff.id).where(Staff.staff_id == assigned_to)).one()
            if assigned_to
            else None
        )
        callback = Callback(
            patient_id=patient,
            due_at=due_at,
            assigned_to_id=staff,
            created_at=due_at - dt.timedelta(days=1),
            created_by="rn-lee",
            **values,
        )
        session.add(callback)
        session.flush()
        return callback.id


def raise_together(url: str, start: Any, results: Any) -> None:
    """A workstation (a child process): at the signal, store the SHARED reminders and check
    the nurse's; report the ids it got back, or the error."""
    db = open_database(url)
    try:
        services = Services(db, clock=lambda: APRIL_8)
        with db.read() as session:
            staff_id = session.scalars(select(Staff.id).where(Staff.staff_id == NURSE.key)).one()
        start.wait(30)
        stored = services.notifications._store(staff_id, list(SHARED), APRIL_8)
        inbox = services.notifications.check(NURSE, Activity(30, True))
        results.put(
            (sorted(r.id for r in stored), sorted((r.id, r.kind) for r in inbox.raised), "")
        )
    except BaseException as error:  # reported to the test
        results.put(([], [], repr(error)))
    finally:
        db.dispose()
