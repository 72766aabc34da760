"""Running stopwatches: start, pause, resume, heartbeat, stop, discard, and after a crash."""

from __future__ import annotations

import datetime as dt

from ccmdesk.db import Database
from ccmdesk.models import TimeSegment
from ccmdesk.rules.entries import (
    NO_TIME_LEFT,
    reason_errors,
    service_error,
    stop_end_error,
    stop_errors,
)
from ccmdesk.rules.intervals import month_of
from ccmdesk.rules.records import FieldError
from ccmdesk.services.base import practice_zone
from ccmdesk.services.context import Actor, Clock, Permission
from ccmdesk.services.errors import NotFound, ServiceError, ValidationFailed
from ccmdesk.services.minutes import MinutesService
from ccmdesk.services.time import store
from ccmdesk.services.time.base import TimeService
from ccmdesk.services.time.records import Stopped, TimerRunning, TimerState
from ccmdesk.services.time.recovery import RECOVERY_CHOICES, RECOVERY_STOP_REASON, left_running


class StopwatchService(TimeService):
    """One's own stopwatches, each transition committed at once; also what becomes of one
    found running after ccmdesk ended without stopping it."""

    def __init__(self, db: Database, clock: Clock, minutes: MinutesService) -> None:
        super().__init__(db, clock)
        self._minutes = minutes  # the month's progress a stop returns

    # --- reading ---------------------------------------------------------------------------

    def open_timers(self, actor: Actor) -> list[TimerState]:
        """The actor's running and paused stopwatches, oldest first."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        return self._open_timers(actor)

    def _open_timers(self, actor: Actor) -> list[TimerState]:
        """open_timers for an actor already authorized (no second permission look-up)."""
        now = self._now()
        with self._db.read() as session:
            entries = store.open_entries(session, actor)
            return [self._state(session, entry, now) for entry in entries]

    def last_started(self, actor: Actor) -> TimerState | None:
        """The actor's latest stopwatch not discarded, open or stopped: whose patient the
        global shortcut times when nothing runs (the window's Stopwatch menu)."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        with self._db.read() as session:
            entry = store.last_stopwatch(session, actor)
            return None if entry is None else self._state(session, entry, self._now())

    # --- transitions ------------------------------------------------------------------------

    def start(self, actor: Actor, mrn: str, service: str = "ccm") -> TimerState:
        actor = self._authorize(actor, Permission.RECORD_TIME)
        if message := service_error(service):
            raise ValidationFailed([FieldError("service", message)])
        for timer in self._open_timers(actor):
            if timer.state == "running":
                raise TimerRunning(timer)
        now = self._now()
        with self._db.session() as session:
            span = (now, None)
            entry = store.new_entry(
                session, actor, mrn, span, service=service, source="stopwatch", now=now
            )
            store.refuse_locked_entry(session, entry)
            session.add(entry)
            session.flush()
            self._audit(
                session, actor, entry, "time.start", None, {"start": now, "service": service}
            )
            return self._state(session, entry, now)

    def pause(self, actor: Actor, entry_id: int) -> TimerState:
        actor = self._authorize(actor, Permission.RECORD_TIME)
        return self._turn(actor, entry_id, "running", "paused")

    def resume(self, actor: Actor, entry_id: int) -> TimerState:
        actor = self._authorize(actor, Permission.RECORD_TIME)
        for timer in self._open_timers(actor):
            if timer.state == "running" and timer.entry_id != entry_id:
                raise TimerRunning(timer)
        return self._turn(actor, entry_id, "paused", "running")

    def _turn(self, actor: Actor, entry_id: int, was: str, becomes: str) -> TimerState:
        """Pause (close the running stretch) or resume (open a new one, outside any signed
        month); either way the heartbeat is now and the stretches go to the audit trail."""
        now = self._now()
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            if entry.state != was:
                raise ServiceError(f"This stopwatch is not {was}.")
            if becomes == "paused":
                store.close_open_segment(entry, now)
            else:
                entry.segments.append(TimeSegment(started_at=now))
                store.refuse_locked_entry(session, entry)
            entry.state = becomes
            entry.last_heartbeat_at = now
            after = {"at": now, "segments": store.segments_of(entry)}
            action = "time.pause" if becomes == "paused" else "time.resume"
            self._audit(session, actor, entry, action, None, after)
            return self._state(session, entry, now)

    def heartbeat(self, actor: Actor, entry_id: int) -> None:
        """Record that the stopwatch is still running (no audit event: it changes no time)."""
        # A heartbeat vouches for time: someone whose role no longer records time cannot.
        actor = self._authorize(actor, Permission.RECORD_TIME)
        now = self._now()
        # Brief: behind a long import the heartbeat is refused as busy at once and the next one
        # comes a few seconds later, rather than freezing the window that sends it.
        with self._db.session(brief=True) as session:
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
        reason: str = "",
    ) -> Stopped:
        """Close the stopwatch (at `at`, e.g. the last heartbeat or the start of idle time, or
        now) and save what was done; `reason` says in the audit trail why it ended early.
        Returns the saved entry and its patient's month as they are now, read in the same
        transaction."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        now = self._now()
        end = (at or now).replace(microsecond=0)  # stored instants are whole seconds
        errors = stop_errors(end, now, activity=activity, note=note, service=service, reason=reason)
        if errors:
            raise ValidationFailed(errors)
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            if entry.state == "stopped":
                raise ServiceError("This stopwatch was stopped already.")
            closed_ends = [s.ended_at for s in entry.segments if s.ended_at is not None]
            if message := stop_end_error(end, closed_ends):
                raise ValidationFailed([FieldError("end", message)])
            open_segment = next((s for s in entry.segments if s.ended_at is None), None)
            if open_segment is not None:
                if end <= open_segment.started_at:
                    # Stopping at the last heartbeat of a segment that never beat: nothing to keep.
                    entry.segments.remove(open_segment)
                else:
                    open_segment.ended_at = end
            if not entry.segments:
                raise ValidationFailed([FieldError("end", NO_TIME_LEFT)])
            store.refuse_locked_entry(session, entry)
            store.refuse_overlap(session, entry)
            entry.state = "stopped"
            entry.activity = activity.strip()
            entry.note = note.strip()
            entry.face_to_face = face_to_face
            if service is not None:
                entry.service = service
            self._audit(
                session,
                actor,
                entry,
                "time.stop",
                None,
                store.document(entry),  # every stretch is closed now
                reason.strip(),
            )
            session.flush()  # the month's progress below counts this entry as stopped
            zone = practice_zone(session)
            return Stopped(
                self._state(session, entry, end),
                store.entry_row(session, entry, end),
                self._minutes.progress_in(session, entry.patient_id, month_of(end, zone), now),
            )

    def discard(self, actor: Actor, entry_id: int, reason: str) -> None:
        """Throw a stopwatch away (kept, marked deleted, with the reason)."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        if errors := reason_errors(reason, "discard"):
            raise ValidationFailed(errors)
        now = self._now()
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            # A paused stopwatch's closed stretches are time already in its months.
            store.refuse_locked_entry(session, entry)
            store.close_open_segment(entry, now)
            before = {
                "state": entry.state,
                "segments": [[a, b] for a, b in store.closed_spans(entry, now)],
            }
            store.mark_deleted(entry, now, reason)
            self._audit(session, actor, entry, "time.discard", before, None, reason.strip())

    # --- after a crash ------------------------------------------------------------------------

    def stale_timers(
        self, actor: Actor, crashed_before: dt.datetime | None = None
    ) -> list[TimerState]:
        """Running stopwatches the program ended without stopping: their heartbeat stopped, or
        (after an unclean exit) came before `crashed_before`; see left_running."""
        now = self._now()
        return [t for t in self.open_timers(actor) if left_running(t, now, crashed_before)]

    def recover(self, actor: Actor, entry_id: int, choice: str) -> TimerState | Stopped | None:
        """Keep a stopwatch found running after an unclean exit (counting through now), stop it
        at its last heartbeat, or discard it; the choice is audited."""
        if choice not in RECOVERY_CHOICES:
            raise ValueError(f"unknown recovery choice {choice!r}")
        actor = self._authorize(actor, Permission.RECORD_TIME)
        if choice == "discard":
            self.discard(actor, entry_id, "discarded after ccmdesk ended without stopping it")
            return None
        if choice == "stop_at_heartbeat":
            timer = next((t for t in self.open_timers(actor) if t.entry_id == entry_id), None)
            if timer is None:
                raise NotFound(f"There is no stopwatch {entry_id} of yours.")
            return self.stop(
                actor,
                entry_id,
                at=timer.last_heartbeat_at or timer.started_at,
                reason=RECOVERY_STOP_REASON,
            )
        now = self._now()
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            before = {"last_heartbeat_at": entry.last_heartbeat_at}
            entry.last_heartbeat_at = now
            self._audit(
                session,
                actor,
                entry,
                "time.recover_keep",
                before,
                {"last_heartbeat_at": now},
                "kept after ccmdesk ended without stopping it",
            )
            return self._state(session, entry, now)
