"""The stopwatch: start, pause, resume, heartbeat, stop and recovery, each committed at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ccmdesk.models import Patient, Staff, TimeEntry, TimeSegment
from ccmdesk.rules.intervals import Interval, overlap, seconds
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import ACTIVITY_LIMIT, text_error
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import NotFound, ServiceError, ValidationFailed

SERVICES = ("ccm", "pcm", "tcm", "rpm", "bhi")
# A running stopwatch writes a heartbeat at least this often; a crash loses at most this much.
HEARTBEAT_SECONDS = 30


class TimerRunning(ServiceError):
    """The staff member already has a running stopwatch; the caller decides what to do with it."""

    def __init__(self, running: TimerState) -> None:
        self.running = running
        super().__init__(
            f"Your stopwatch for {running.patient_name} (MRN {running.mrn}) is still running; "
            "pause or stop it first."
        )


@dataclass(frozen=True)
class TimerState:
    """A stopwatch as the screen shows it."""

    entry_id: int
    mrn: str
    patient_name: str
    state: str  # running, paused, stopped
    started_at: dt.datetime
    elapsed_seconds: int  # closed segments, plus the open one up to now
    last_heartbeat_at: dt.datetime | None
    segments: tuple[Interval, ...]


def _closed(entry: TimeEntry, until: dt.datetime) -> list[Interval]:
    return [(s.started_at, s.ended_at or until) for s in entry.segments]


class StopwatchService(ServiceBase):
    """Durations come from UTC instants written at each transition, never from counting ticks."""

    # --- reading ---------------------------------------------------------------------------

    def _entry(self, session: Session, actor: Actor, entry_id: int) -> TimeEntry:
        entry = session.scalars(
            select(TimeEntry)
            .join(Staff, TimeEntry.staff_id == Staff.id)
            .where(TimeEntry.id == entry_id, Staff.staff_id == actor.key)
            .options(selectinload(TimeEntry.segments))
        ).first()
        if entry is None or entry.deleted_at is not None:
            raise NotFound(f"There is no stopwatch {entry_id} of yours.")
        return entry

    def _state(self, session: Session, entry: TimeEntry, now: dt.datetime) -> TimerState:
        patient = session.get(Patient, entry.patient_id)
        assert patient is not None
        spans = _closed(entry, now)
        return TimerState(
            entry_id=entry.id,
            mrn=patient.mrn,
            patient_name=f"{patient.first_name} {patient.last_name}",
            state=entry.state,
            started_at=spans[0][0],
            elapsed_seconds=sum(seconds(span) for span in spans),
            last_heartbeat_at=entry.last_heartbeat_at,
            segments=tuple(spans),
        )

    def open_timers(self, actor: Actor) -> list[TimerState]:
        """The actor's running and paused stopwatches, oldest first."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        now = self._now()
        with self._db.session() as session:
            entries = session.scalars(
                select(TimeEntry)
                .join(Staff, TimeEntry.staff_id == Staff.id)
                .where(
                    Staff.staff_id == actor.key,
                    TimeEntry.state.in_(("running", "paused")),
                    TimeEntry.deleted_at.is_(None),
                )
                .order_by(TimeEntry.id)
                .options(selectinload(TimeEntry.segments))
            ).all()
            return [self._state(session, entry, now) for entry in entries]

    # --- transitions ------------------------------------------------------------------------

    def start(self, actor: Actor, mrn: str, service: str = "ccm") -> TimerState:
        actor = self._authorize(actor, Permission.RECORD_TIME)
        if service not in SERVICES:
            raise ValidationFailed([FieldError("service", f"'{service}' is not a service")])
        for timer in self.open_timers(actor):
            if timer.state == "running":
                raise TimerRunning(timer)
        now = self._now()
        with self._db.session() as session:
            patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).first()
            staff = session.scalars(select(Staff).where(Staff.staff_id == actor.key)).one()
            if patient is None:
                raise NotFound(f"There is no patient with MRN '{mrn}'.")
            entry = TimeEntry(
                patient_id=patient.id,
                staff_id=staff.id,
                service=service,
                state="running",
                source="stopwatch",
                created_at=now,
                last_heartbeat_at=now,
            )
            entry.segments.append(TimeSegment(started_at=now))
            session.add(entry)
            session.flush()
            self._audit(session, actor, entry, "time.start", None, {"start": now})
            return self._state(session, entry, now)

    def pause(self, actor: Actor, entry_id: int) -> TimerState:
        actor = self._authorize(actor, Permission.RECORD_TIME)
        now = self._now()
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            if entry.state != "running":
                raise ServiceError("This stopwatch is not running.")
            self._close_open_segment(entry, now)
            entry.state = "paused"
            entry.last_heartbeat_at = now
            self._audit(session, actor, entry, "time.pause", None, {"at": now})
            return self._state(session, entry, now)

    def resume(self, actor: Actor, entry_id: int) -> TimerState:
        actor = self._authorize(actor, Permission.RECORD_TIME)
        for timer in self.open_timers(actor):
            if timer.state == "running" and timer.entry_id != entry_id:
                raise TimerRunning(timer)
        now = self._now()
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            if entry.state != "paused":
                raise ServiceError("This stopwatch is not paused.")
            entry.segments.append(TimeSegment(started_at=now))
            entry.state = "running"
            entry.last_heartbeat_at = now
            self._audit(session, actor, entry, "time.resume", None, {"at": now})
            return self._state(session, entry, now)

    def heartbeat(self, actor: Actor, entry_id: int) -> None:
        """Record that the stopwatch is still running (no audit event: it changes no time)."""
        now = self._now()
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            if entry.state == "running":
                entry.last_heartbeat_at = now

    def stop(
        self,
        actor: Actor,
        entry_id: int,
        *,
        activity: str = "",
        service: str | None = None,
        face_to_face: bool = False,
        note: str = "",
        at: dt.datetime | None = None,
    ) -> TimerState:
        """Close the stopwatch (at `at`, e.g. the last heartbeat, or now) and save what was done."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        now = self._now()
        end = at or now
        errors = []
        if message := text_error(activity, ACTIVITY_LIMIT):
            errors.append(FieldError("activity", message))
        if message := text_error(note, None, multiline=True):
            errors.append(FieldError("note", message))
        if service is not None and service not in SERVICES:
            errors.append(FieldError("service", f"'{service}' is not a service"))
        if end > now:
            errors.append(FieldError("end", "is in the future"))
        if errors:
            raise ValidationFailed(errors)
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            if entry.state == "stopped":
                raise ServiceError("This stopwatch was stopped already.")
            closed_ends = [s.ended_at for s in entry.segments if s.ended_at is not None]
            if closed_ends and end < max(closed_ends):
                raise ValidationFailed([FieldError("end", "is before this stopwatch's last pause")])
            open_segment = next((s for s in entry.segments if s.ended_at is None), None)
            if open_segment is not None:
                if end <= open_segment.started_at:
                    # Stopping at the last heartbeat of a segment that never beat: nothing to keep.
                    entry.segments.remove(open_segment)
                else:
                    open_segment.ended_at = end
            if not entry.segments:
                raise ValidationFailed([FieldError("end", "leaves no time on this stopwatch")])
            self._refuse_overlap(session, entry)
            entry.state = "stopped"
            entry.activity = activity.strip()
            entry.note = note.strip()
            entry.face_to_face = face_to_face
            if service is not None:
                entry.service = service
            spans = _closed(entry, end)
            self._audit(
                session, actor, entry, "time.stop", None,
                {"segments": [[a, b] for a, b in spans], "activity": entry.activity,
                 "service": entry.service, "face_to_face": face_to_face, "note": entry.note},
            )  # fmt: skip
            return self._state(session, entry, end)

    def discard(self, actor: Actor, entry_id: int, reason: str) -> None:
        """Throw a stopwatch away (kept, marked deleted, with the reason)."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        if not reason.strip():
            raise ValidationFailed([FieldError("reason", "is required to discard time")])
        now = self._now()
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            self._close_open_segment(entry, now)
            before = {"state": entry.state, "segments": [[a, b] for a, b in _closed(entry, now)]}
            entry.state = "stopped"
            entry.deleted_at = now
            entry.deleted_reason = reason.strip()
            self._audit(session, actor, entry, "time.discard", before, None, reason.strip())

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _close_open_segment(entry: TimeEntry, now: dt.datetime) -> None:
        for segment in entry.segments:
            if segment.ended_at is None:
                segment.ended_at = now

    @staticmethod
    def _refuse_overlap(session: Session, entry: TimeEntry) -> None:
        """One person cannot be in two places: refuse, naming the entry it collides with."""
        spans = [(s.started_at, s.ended_at) for s in entry.segments if s.ended_at is not None]
        lo = min(a for a, _ in spans)
        hi = max(b for _, b in spans)
        others = session.execute(
            select(TimeSegment.started_at, TimeSegment.ended_at, Patient.mrn, TimeEntry.id)
            .join(TimeEntry, TimeSegment.entry_id == TimeEntry.id)
            .join(Patient, TimeEntry.patient_id == Patient.id)
            .where(
                TimeEntry.staff_id == entry.staff_id,
                TimeEntry.id != entry.id,
                TimeEntry.deleted_at.is_(None),
                TimeSegment.started_at < hi,
                TimeSegment.ended_at.is_not(None),
                TimeSegment.ended_at > lo,
            )
        )
        for started, ended, mrn, other_id in others:
            if any(overlap(span, (started, ended)) for span in spans):
                raise ValidationFailed([FieldError(
                    "start",
                    f"overlaps your entry {other_id} for MRN {mrn}, {started.isoformat()} to "
                    f"{ended.isoformat()}",
                )])  # fmt: skip

    def _audit(
        self,
        session: Session,
        actor: Actor,
        entry: TimeEntry,
        action: str,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
        reason: str = "",
    ) -> None:
        audit.record(
            session,
            at=self._now(),
            actor=actor,
            action=action,
            entity="time_entry",
            entity_key=str(entry.id),
            patient_id=entry.patient_id,
            before=before,
            after=after,
            reason=reason,
        )
