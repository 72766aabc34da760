"""The time logs screens show: a patient's entries, the signed-in person's day and week."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ccmdesk.models import Patient, Practice, Staff
from ccmdesk.rules.intervals import month_of
from ccmdesk.rules.reminders import ReminderSettings
from ccmdesk.rules.week import local_midnight, week_days
from ccmdesk.services.base import checked_month, practice_zone
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.time import store
from ccmdesk.services.time.base import TimeService
from ccmdesk.services.time.records import EntryRow, Week, WeekEntry

DEFAULT_WORKDAY = ReminderSettings()


class TimeLogService(TimeService):
    """Read-only: entries as log lines, a running stopwatch counted up to now."""

    def patient_log(self, actor: Actor, mrn: str, month: str | None = None) -> list[EntryRow]:
        """A patient's entries (of everyone), optionally one month in the practice's time zone."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        if month is not None:
            month = checked_month(month)
        with self._db.read() as session:
            zone = practice_zone(session)
            query = store.log_query().where(Patient.mrn == mrn)
            rows = [store.entry_row(session, e, self._now()) for e in session.scalars(query)]
        if month is not None:
            rows = [r for r in rows if month_of(r.started_at, zone) == month]
        return rows

    def my_day(self, actor: Actor, day: dt.date) -> list[EntryRow]:
        """The signed-in person's entries that start on a local day of the practice."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        with self._db.read() as session:
            zone = practice_zone(session)
            first = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
            last = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
            query = store.log_query().where(Staff.staff_id == actor.key)
            entries = session.scalars(query).all()
            rows = [store.entry_row(session, e, self._now()) for e in entries]
        return [r for r in rows if first <= r.started_at < last.astimezone(dt.UTC)]

    def my_week(self, actor: Actor, day: dt.date) -> Week:
        """The signed-in person's entries with time in the week (Monday to Sunday, the
        practice's calendar) holding `day`, with their stretches, in one read; an entry
        across a week's end is in both weeks."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        days = week_days(day)
        now = self._now()
        with self._db.read() as session:
            zone = practice_zone(session)
            workday = session.execute(
                select(Practice.workday_start_minute, Practice.workday_end_minute)
            ).first()
            lo = local_midnight(days[0], zone)
            hi = local_midnight(days[-1] + dt.timedelta(days=1), zone)
            entries = tuple(
                WeekEntry(row, tuple((s.started_at, s.ended_at) for s in entry.segments))
                for row, entry in store.entries_touching(session, actor, lo, hi, now)
            )
        return Week(
            days=days,
            zone=zone,
            now=now,
            entries=entries,
            # No practice yet: the reminders' default working day.
            workday=(workday[0], workday[1])
            if workday
            else (DEFAULT_WORKDAY.workday_start_minute, DEFAULT_WORKDAY.workday_end_minute),
        )
