"""Reminders: which are due for the signed-in person, stored once, listed and marked read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ccmdesk.db import Database
from ccmdesk.models import Patient, Practice, Staff, TimeEntry, TimeSegment
from ccmdesk.models.notification import Notification
from ccmdesk.models.patient import Callback
from ccmdesk.models.staff import Role
from ccmdesk.rules import reminders
from ccmdesk.rules.catalog import REMINDER_KINDS
from ccmdesk.rules.intervals import month_of, previous_months
from ccmdesk.rules.minutes import days_left
from ccmdesk.rules.reminders import (
    DueCallback,
    Facts,
    MonthToClose,
    Reminder,
    ReminderSettings,
    RunningStopwatch,
)
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, practice_zone
from ccmdesk.services.calls import callback_open
from ccmdesk.services.context import Actor, Clock, Permission, allowed
from ccmdesk.services.errors import ServiceError, ValidationFailed
from ccmdesk.services.locks import closed_months
from ccmdesk.services.minutes import MinutesService
from ccmdesk.services.review import READY, ReviewService

# The panel lists this many, newest first; older ones stay stored.
LIST_LIMIT = 200


@dataclass(frozen=True)
class Activity:
    """What only the window knows: how long the person has been working in it, and whether
    ccmdesk is the window in front."""

    active_minutes: int = 0
    in_front: bool = False


@dataclass(frozen=True)
class NotificationRow:
    id: int
    kind: str
    title: str
    body: str
    target: str
    created_at: dt.datetime
    read: bool


@dataclass(frozen=True)
class Inbox:
    """The person's reminders, newest first, and the ones this check raised (for the tray)."""

    rows: tuple[NotificationRow, ...]
    unread: int
    raised: tuple[NotificationRow, ...] = ()


@dataclass(frozen=True)
class _Me:
    id: int
    role: str
    off: frozenset[str]


def _row(n: Notification) -> NotificationRow:
    return NotificationRow(
        n.id, n.kind, n.title, n.body, n.target, n.created_at, n.read_at is not None
    )


def previous_month(month: str) -> str:
    return previous_months(month, 2)[0]


def _settings(session: Session) -> ReminderSettings:
    practice = session.scalars(select(Practice).limit(1)).first()
    if practice is None:
        return ReminderSettings()
    return ReminderSettings(
        off=reminders.off_kinds(practice.reminders_off),
        stopwatch_limit_minutes=practice.stopwatch_limit_minutes,
        nudge_after_minutes=practice.nudge_after_minutes,
        workday_start_minute=practice.workday_start_minute,
        workday_end_minute=practice.workday_end_minute,
    )


def _settings_form(settings: ReminderSettings) -> dict[str, object]:
    return {
        "reminders_off": reminders.off_text(settings.off),
        "stopwatch_limit_minutes": settings.stopwatch_limit_minutes,
        "nudge_after_minutes": settings.nudge_after_minutes,
        "workday_start_minute": settings.workday_start_minute,
        "workday_end_minute": settings.workday_end_minute,
    }


class NotificationService(ServiceBase):
    """Reminders (docs/reminders.md): the rules say which are due, this stores each once."""

    def __init__(
        self, db: Database, clock: Clock, minutes: MinutesService, review: ReviewService
    ) -> None:
        super().__init__(db, clock)
        self._minutes = minutes
        self._review = review
        # (staff id, day key) of the once-a-day reminders already evaluated with nothing to
        # say: the month is not evaluated again every minute for the rest of that day.
        self._quiet: set[tuple[int, str]] = set()

    # --- checking ---------------------------------------------------------------------------

    def check(
        self, actor: Actor, activity: Activity = Activity(), now: dt.datetime | None = None
    ) -> Inbox:
        """Raise the reminders due for `actor` now that are not stored yet, and return their
        list. Two workstations raising the same reminder store it once; both get it back."""
        now = now or self._now()
        with self._db.read() as session:
            me = self._me(session, actor)
            if me is None:  # the command line, or someone retired since signing in
                return Inbox((), 0)
            zone = practice_zone(session)
            settings = _settings(session)
            facts = self._cheap_facts(session, me, activity, now)
            off = settings.off | me.off
            daily = {
                kind: reminders.day_key(kind, now, zone)
                for kind in ("falling_behind", "ready_to_sign", "month_close")
                if kind not in off and reminders.day_started(now, zone, settings)
            }
            stored = self._stored(session, me.id, daily.values())
            month = month_of(now, zone)
            closed = bool(closed_months(session, [previous_month(month)]))
        wanted = {
            kind
            for kind, key in daily.items()
            if key not in stored and (me.id, key) not in self._quiet
        }
        facts = self._daily_facts(actor, me, facts, wanted, month, now, zone, closed)
        due = reminders.due(now, zone, settings, me.off, facts)
        raised_kinds = {r.kind for r in due}
        self._quiet |= {(me.id, daily[k]) for k in wanted if k not in raised_kinds}
        with self._db.read() as session:
            stored = self._stored(session, me.id, (r.key for r in due))
        new = [r for r in due if r.key not in stored]
        raised: tuple[NotificationRow, ...] = ()
        if new:
            raised = self._store(me.id, new, now)
        inbox = self.list(actor)
        return Inbox(inbox.rows, inbox.unread, raised)

    def _me(self, session: Session, actor: Actor) -> _Me | None:
        row = session.execute(
            select(Staff.id, Staff.role, Staff.reminders_off, Staff.active).where(
                Staff.staff_id == actor.key
            )
        ).first()
        if row is None or not row.active:
            return None
        return _Me(row.id, row.role, reminders.off_kinds(row.reminders_off))

    @staticmethod
    def _stored(session: Session, staff_id: int, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        if not keys:
            return set()
        return set(
            session.scalars(
                select(Notification.key).where(
                    Notification.staff_id == staff_id, Notification.key.in_(keys)
                )
            )
        )

    def _cheap_facts(
        self, session: Session, me: _Me, activity: Activity, now: dt.datetime
    ) -> Facts:
        """The facts read every minute: each an indexed read of a few rows."""
        running = None
        entry = session.execute(
            select(TimeEntry.id, Patient.mrn, Patient.first_name, Patient.last_name)
            .join(Patient, Patient.id == TimeEntry.patient_id)
            .where(
                TimeEntry.staff_id == me.id,
                TimeEntry.state == "running",
                TimeEntry.deleted_at.is_(None),
            )
            .limit(1)
        ).first()
        if entry is not None:
            spans = session.execute(
                select(TimeSegment.started_at, TimeSegment.ended_at).where(
                    TimeSegment.entry_id == entry.id
                )
            ).all()
            elapsed = sum(int(((end or now) - start).total_seconds()) for start, end in spans)
            name = f"{entry.first_name} {entry.last_name}"
            running = RunningStopwatch(entry.id, entry.mrn, name, max(0, elapsed))
        last_nudge = session.scalar(
            select(func.max(Notification.created_at)).where(
                Notification.staff_id == me.id, Notification.kind == "no_stopwatch"
            )
        )
        callbacks = session.execute(
            select(
                Callback.id,
                Callback.due_at,
                Callback.note,
                Patient.mrn,
                Patient.first_name,
                Patient.last_name,
            )
            .join(Patient, Patient.id == Callback.patient_id)
            .where(
                # Open as the Calls tab and the worklist judge it: a stopwatch started from
                # the callback and kept answers it too (docs/calls.md).
                callback_open(),
                Callback.due_at <= now,
                or_(
                    Callback.assigned_to_id == me.id,
                    Callback.assigned_to_id.is_(None) & (Patient.care_manager_id == me.id),
                ),
            )
            .order_by(Callback.due_at, Callback.id)
        ).all()
        return Facts(
            running=running,
            active_minutes=activity.active_minutes,
            in_front=activity.in_front,
            last_nudge=last_nudge,
            callbacks=tuple(
                DueCallback(c.id, c.mrn, f"{c.first_name} {c.last_name}", c.due_at, c.note)
                for c in callbacks
            ),
        )

    def _daily_facts(
        self,
        actor: Actor,
        me: _Me,
        facts: Facts,
        wanted: set[str],
        month: str,
        now: dt.datetime,
        zone: dt.tzinfo,
        last_closed: bool,
    ) -> Facts:
        """The once-a-day facts, read only when today's reminder is not stored yet: each
        evaluates a month, too much to do every minute."""
        falling, left = 0, 0
        if "falling_behind" in wanted and allowed(actor, Permission.VIEW_WORKLIST):
            with self._db.read() as session:
                mine = set(
                    session.scalars(select(Patient.mrn).where(Patient.care_manager_id == me.id))
                )
            if mine:
                rows = self._minutes.worklist(actor, month)
                falling = sum(1 for r in rows if r.mrn in mine and r.progress.falling_behind)
            left = days_left(month, now.astimezone(zone).date())
        last = previous_month(month)
        ready = 0
        if "ready_to_sign" in wanted and me.role == Role.PRACTITIONER and not last_closed:
            ready = self._review.queue(actor, last).count(READY)
        closing = None
        if (
            "month_close" in wanted
            and allowed(actor, Permission.CLOSE_MONTH)
            and not last_closed
            and reminders.in_close_window(now, zone)
        ):
            closing = MonthToClose(last, self._review.queue(actor, last).count(READY))
        return Facts(
            falling_behind=falling,
            days_left=left,
            running=facts.running,
            active_minutes=facts.active_minutes,
            in_front=facts.in_front,
            last_nudge=facts.last_nudge,
            callbacks=facts.callbacks,
            ready_to_sign=ready,
            ready_month=last,
            month_close=closing,
        )

    def _store(
        self, staff_id: int, new: list[Reminder], now: dt.datetime
    ) -> tuple[NotificationRow, ...]:
        """Insert the new reminders; a key another workstation stored meanwhile is left as
        it is (ON CONFLICT DO NOTHING), and the stored rows are returned either way."""
        with self._db.session() as session:
            # Another workstation may have nudged this person since the read above.
            last_nudge = session.scalar(
                select(func.max(Notification.created_at)).where(
                    Notification.staff_id == staff_id, Notification.kind == "no_stopwatch"
                )
            )
            hour = dt.timedelta(minutes=reminders.NUDGE_EVERY_MINUTES)
            if last_nudge is not None and now - last_nudge < hour:
                new = [r for r in new if r.kind != "no_stopwatch"]
            if not new:
                return ()
            dialect = session.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            statement = insert(Notification).values(
                [
                    {
                        "staff_id": staff_id,
                        "kind": r.kind,
                        "key": r.key,
                        "created_at": now,
                        "title": r.title,
                        "body": r.body,
                        "target": r.target,
                    }
                    for r in new
                ]
            )
            session.execute(statement.on_conflict_do_nothing(index_elements=["staff_id", "key"]))
            rows = session.scalars(
                select(Notification)
                .where(
                    Notification.staff_id == staff_id,
                    Notification.key.in_([r.key for r in new]),
                )
                .order_by(Notification.created_at.desc(), Notification.id.desc())
            ).all()
            return tuple(_row(n) for n in rows)

    # --- the list -----------------------------------------------------------------------------

    def list(self, actor: Actor) -> Inbox:
        """The person's reminders, newest first, with how many are unread."""
        with self._db.read() as session:
            me = self._me(session, actor)
            if me is None:
                return Inbox((), 0)
            rows = session.scalars(
                select(Notification)
                .where(Notification.staff_id == me.id)
                .order_by(Notification.created_at.desc(), Notification.id.desc())
                .limit(LIST_LIMIT)
            ).all()
            unread = session.scalar(
                select(func.count()).where(
                    Notification.staff_id == me.id, Notification.read_at.is_(None)
                )
            )
        return Inbox(tuple(_row(n) for n in rows), unread or 0)

    def mark_read(self, actor: Actor, ids: Iterable[int] | None = None) -> Inbox:
        """Mark the person's reminders read: these, or every one (`ids` None)."""
        with self._db.session() as session:
            me = self._me(session, actor)
            if me is None:
                raise ServiceError(f"{actor.name} has no reminders; sign in as a staff member.")
            statement = update(Notification).where(
                Notification.staff_id == me.id, Notification.read_at.is_(None)
            )
            if ids is not None:
                statement = statement.where(Notification.id.in_(list(ids)))
            session.execute(statement.values(read_at=self._now()))
        return self.list(actor)

    # --- settings -----------------------------------------------------------------------------

    def settings(self) -> ReminderSettings:
        """The practice's reminder settings (the defaults before set-up)."""
        with self._db.read() as session:
            return _settings(session)

    def save_settings(self, actor: Actor, settings: ReminderSettings) -> ReminderSettings:
        actor = self._authorize(actor, Permission.MANAGE_PRACTICE)
        if errors := reminders.settings_errors(settings):
            raise ValidationFailed(errors)
        with self._db.session() as session:
            practice = session.scalars(select(Practice).limit(1)).first()
            if practice is None:
                raise ServiceError("Describe the practice first.")
            before = _settings(session)
            practice.reminders_off = reminders.off_text(settings.off)
            practice.stopwatch_limit_minutes = settings.stopwatch_limit_minutes
            practice.nudge_after_minutes = settings.nudge_after_minutes
            practice.workday_start_minute = settings.workday_start_minute
            practice.workday_end_minute = settings.workday_end_minute
            if before != settings:
                audit.record(
                    session,
                    at=self._now(),
                    actor=actor,
                    action="practice.reminders",
                    entity="practice",
                    entity_key="practice",
                    before=_settings_form(before),
                    after=_settings_form(settings),
                )
        return settings

    def my_off(self, actor: Actor) -> frozenset[str]:
        """The reminders the person turned off for themself."""
        with self._db.read() as session:
            me = self._me(session, actor)
        return me.off if me else frozenset()

    def save_my_off(self, actor: Actor, kinds: Iterable[str]) -> frozenset[str]:
        """Anyone turns reminders off or on for themself; the practice's list applies too."""
        actor = self._current(actor)
        kinds = frozenset(kinds)
        if unknown := sorted(kinds - set(REMINDER_KINDS)):
            raise ServiceError(f"There is no reminder '{unknown[0]}'.")
        with self._db.session() as session:
            staff = session.scalars(select(Staff).where(Staff.staff_id == actor.key)).first()
            if staff is None:
                raise ServiceError(f"{actor.name} has no reminders; sign in as a staff member.")
            before = staff.reminders_off
            staff.reminders_off = reminders.off_text(kinds)
            if before != staff.reminders_off:
                audit.record(
                    session,
                    at=self._now(),
                    actor=actor,
                    action="staff.reminders",
                    entity="staff",
                    entity_key=actor.key,
                    before={"reminders_off": before},
                    after={"reminders_off": staff.reminders_off},
                )
        return kinds
