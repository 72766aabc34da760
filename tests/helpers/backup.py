"""Time entries to back up, and a count of what a database file holds, for the backup tests."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sqlalchemy import func, select

from ccmdesk.db import open_database
from ccmdesk.models import AuditEvent, TimeEntry
from ccmdesk.services import Services
from tests.helpers.common import CLI, NURSE


def add_entries(services: Services, count: int, first: int = 0) -> None:
    for n in range(first, first + count):
        start = dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=3 * n)
        services.entries.add_manual(
            NURSE, "A1", start, start + dt.timedelta(minutes=2), reason=f"call {n}"
        )


def entry_count(path: Path) -> tuple[int, int, bool]:
    """Entries, their audit events, and whether the chain verifies, in a database file."""
    copy = path.with_name(path.name + ".opened.sqlite3")
    shutil.copyfile(path, copy)
    db = open_database(f"sqlite:///{copy}")
    try:
        with db.session() as session:
            entries = session.scalar(select(func.count()).select_from(TimeEntry))
            created = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "time.create")
            )
        return entries, created, Services(db).audit.verify(CLI).ok
    finally:
        db.dispose()
