"""Corrections to a running stopwatch: idle time kept or left out, and a clock set back."""

from __future__ import annotations

import datetime as dt

from ccmdesk.models import TimeSegment
from ccmdesk.rules.entries import reason_errors
from ccmdesk.rules.intervals import largest_free_shift, overlap, seconds
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import ServiceError, ValidationFailed
from ccmdesk.services.time import store
from ccmdesk.services.time.base import TimeService
from ccmdesk.services.time.records import ClockCorrection, TimerState

IDLE_CHOICES = ("keep", "discard")


class CorrectionService(TimeService):
    """Time a running stopwatch counted that the person was not there for, or that a wrong
    clock put in the future, put right (audited)."""

    def resolve_idle(
        self, actor: Actor, entry_id: int, since: dt.datetime, choice: str, reason: str = ""
    ) -> TimerState:
        """Settle idle time on the stopwatch that was running when it began: keep it (a reason
        is required) or discard it (the stopwatch runs on without it). Stopping at the start of
        the idle time is stop(at=since)."""
        if choice not in IDLE_CHOICES:
            raise ValueError(f"unknown idle choice {choice!r}")
        actor = self._authorize(actor, Permission.RECORD_TIME)
        if errors := reason_errors(reason, "keep idle" if choice == "keep" else None):
            raise ValidationFailed(errors)
        now = self._now()
        since = since.replace(microsecond=0)  # stored instants are whole seconds
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            open_segment = next((s for s in entry.segments if s.ended_at is None), None)
            if entry.state != "running" or open_segment is None:
                # Never take idle time off an entry other than the one it happened on.
                raise ServiceError(
                    "This stopwatch is no longer running; its idle time was settled already."
                )
            # Idle time reaches back no further than the entry's own start; a pause and resume
            # inside it leave the idle stretch spread over several segments, all cut below.
            first_start = min(s.started_at for s in entry.segments)
            begin = min(max(since, first_start), now)
            idle = {"from": begin, "to": now}
            if choice == "keep":
                entry.last_heartbeat_at = now
                self._audit(session, actor, entry, "time.idle_keep", None, idle, reason.strip())
                return self._state(session, entry, now)
            before = store.document(entry)
            for segment in list(entry.segments):
                end = segment.ended_at or now
                if end <= begin:
                    continue
                if segment.started_at >= begin:
                    entry.segments.remove(segment)
                else:
                    segment.ended_at = begin
            entry.segments.append(TimeSegment(started_at=now))
            entry.last_heartbeat_at = now
            session.flush()
            self._audit(
                session,
                actor,
                entry,
                "time.idle_discard",
                before,
                {**store.document(entry), "idle": idle},
                reason.strip() or "idle time discarded",
            )
            return self._state(session, entry, now)

    def clock_set_back(self, actor: Actor, entry_id: int, jump_seconds: int) -> ClockCorrection:
        """The computer's clock went back while this stopwatch ran: move its entry back as far
        (each stretch keeps its length, so none overlaps another or ends after now), or as far
        as the person's other entries and signed months allow; audited.

        The person's other stretches that end after the new now were timed on the same fast
        clock, so they move with it; what still lies after now is cut there and reported.
        """
        actor = self._authorize(actor, Permission.RECORD_TIME)
        if jump_seconds <= 0:
            raise ValueError("a clock set back moves by a positive number of seconds")
        now = self._now()
        jump = dt.timedelta(seconds=jump_seconds)
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            open_segment = next((s for s in entry.segments if s.ended_at is None), None)
            if entry.state != "running" or open_segment is None:
                raise ServiceError("This stopwatch is not running.")
            fast_entries = store.entries_ending_after(session, entry, now)
            moving = [(entry, s) for s in entry.segments] + [
                (e, s) for e in fast_entries for s in e.segments if s.ended_at and s.ended_at > now
            ]
            # On the fast clock, the running stretch has reached now + jump.
            spans = {id(s): (s.started_at, s.ended_at or now + jump) for _, s in moving}
            lo = min(a for a, _ in spans.values()) - jump
            fixed = [
                (started, ended or now + jump)
                for started, ended, _, _ in store.own_segments(session, entry, lo, now + jump)
                if ended is None or ended <= now
            ]
            signed = store.locked_months(session, {e.patient_id for e, _ in moving}, lo)
            if any(
                overlap(spans[id(s)], month)
                for e, s in moving
                for month in signed.get(e.patient_id, [])
            ):
                # Moving or cutting time already in a signed month would change what was signed.
                raise ServiceError(
                    "The computer's clock went back, but time that would have to move lies in a "
                    "month signed for the patient; a practitioner or an administrator must "
                    "unlock it first."
                )
            shift = largest_free_shift(
                [(spans[id(s)], [*fixed, *signed.get(e.patient_id, [])]) for e, s in moving],
                jump,
            )
            if shift is None:  # cannot happen after the check above; kept as a guard
                raise ServiceError("The computer's clock went back; this stopwatch cannot follow.")
            changed = {entry.id: entry, **{e.id: e for e in fast_entries}}
            before = {key: store.document(e) for key, e in changed.items()}
            true = {
                key: sum(seconds(span) for span in store.closed_spans(e, now + jump))
                for key, e in changed.items()
            }
            for owner, segment in moving:
                segment.started_at = min(segment.started_at - shift, now)
                if segment.ended_at is not None:
                    segment.ended_at = min(segment.ended_at - shift, now)
                    if segment.ended_at <= segment.started_at:
                        owner.segments.remove(segment)
            entry.last_heartbeat_at = now
            base = f"the computer's clock went back {jump_seconds} s while the stopwatch ran"
            lost_here = 0
            for key, e in changed.items():
                lost = true[key] - sum(seconds(span) for span in store.closed_spans(e, now))
                reason = base
                if lost:
                    reason += f"; {lost} s of this entry are left out: they cannot move back "
                    reason += "without overlapping other entries or a signed month"
                if not e.segments:
                    # Wholly after the corrected now and unable to move: nothing of it is left.
                    e.deleted_at = now
                    e.deleted_reason = reason
                self._audit(
                    session,
                    actor,
                    e,
                    "time.clock_set_back",
                    before[key],
                    store.document(e) if e.segments else None,
                    reason,
                )
                if e is entry:
                    lost_here = lost
            session.flush()
            return ClockCorrection(
                self._state(session, entry, now), int(shift.total_seconds()), lost_here
            )
