"""Time by hand: an entry added after the fact, edited or deleted, and a free span to offer."""

from __future__ import annotations

import datetime as dt

from ccmdesk.rules.entries import entry_errors, reason_errors
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import ServiceError, ValidationFailed
from ccmdesk.services.time import store
from ccmdesk.services.time.base import TimeService
from ccmdesk.services.time.records import EntryRow


class EntryService(TimeService):
    """One's own entries, changed by hand; a reason for each change goes to the audit trail."""

    def free_span(self, actor: Actor, minutes: int = 10) -> tuple[dt.datetime, dt.datetime]:
        """The latest `minutes` in whole minutes, ending at or before now, that overlap none of
        the actor's own time: what "Add time by hand" offers first, so its default can be saved
        (the ten minutes just past usually hold the entry just stopped)."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        length = dt.timedelta(minutes=minutes)
        now = self._now()
        end = now.replace(second=0)
        # A week back is far beyond any working day's entries: past it, the plain default.
        with self._db.read() as session:
            while end > now - dt.timedelta(days=7):
                start = end - length
                # The earliest start among the segments sharing [start, end): every range that
                # ends after it shares time with that segment, so the next try ends there.
                earliest = store.earliest_own_start(session, actor, start, end)
                if earliest is None:
                    return start, end
                end = earliest.replace(second=0, microsecond=0)
        free_end = now.replace(second=0)
        return free_end - length, free_end

    def add_manual(
        self,
        actor: Actor,
        mrn: str,
        start: dt.datetime,
        end: dt.datetime,
        *,
        reason: str,
        activity: str = "",
        service: str = "ccm",
        face_to_face: bool = False,
        note: str = "",
    ) -> EntryRow:
        """Time recorded after the fact (a call taken away from the desk): a reason is required."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        errors = entry_errors(
            start,
            end,
            self._now(),
            activity=activity,
            note=note,
            service=service,
            reason=reason,
        )
        if errors:
            raise ValidationFailed(errors)
        now = self._now()
        with self._db.session() as session:
            span = (start, end)
            entry = store.new_entry(
                session, actor, mrn, span, service=service, source="manual", now=now
            )
            entry.activity, entry.note = activity.strip(), note.strip()
            entry.face_to_face = face_to_face
            session.add(entry)
            session.flush()
            store.refuse_locked_entry(session, entry)
            store.refuse_overlap(session, entry)
            self._audit(
                session, actor, entry, "time.create", None, store.document(entry), reason.strip()
            )
            return store.entry_row(session, entry, now)

    def edit(
        self,
        actor: Actor,
        entry_id: int,
        *,
        reason: str,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        activity: str | None = None,
        service: str | None = None,
        face_to_face: bool | None = None,
        note: str | None = None,
    ) -> EntryRow:
        """Change a stopped entry of one's own; before and after go to the audit trail."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        now = self._now()
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            if entry.state != "stopped":
                raise ServiceError("Stop the stopwatch before editing its entry.")
            store.refuse_locked_entry(session, entry)  # the month it is in now
            before = store.document(entry)
            if start is not None or end is not None:
                if len(entry.segments) != 1:
                    raise ServiceError(
                        "This entry was paused and resumed; its times cannot be edited as one "
                        "span. Delete it and add the time by hand instead."
                    )
                segment = entry.segments[0]
                segment.started_at = start or segment.started_at
                segment.ended_at = end or segment.ended_at
            segment_start = min(s.started_at for s in entry.segments)
            segment_end = max(s.ended_at or now for s in entry.segments)
            errors = entry_errors(
                segment_start,
                segment_end,
                self._now(),
                activity=activity or "",
                note=note or "",
                service=service or entry.service,
                reason=reason,
            )
            if errors:
                raise ValidationFailed(errors)
            if activity is not None:
                entry.activity = activity.strip()
            if note is not None:
                entry.note = note.strip()
            if service is not None:
                entry.service = service
            if face_to_face is not None:
                entry.face_to_face = face_to_face
            session.flush()
            store.refuse_locked_entry(session, entry)  # and the month it moves into
            store.refuse_overlap(session, entry)
            after = store.document(entry)
            if after != before:
                self._audit(session, actor, entry, "time.update", before, after, reason.strip())
            return store.entry_row(session, entry, now)

    def delete(self, actor: Actor, entry_id: int, reason: str) -> None:
        """Remove an entry of one's own (kept, marked deleted, with the reason)."""
        actor = self._authorize(actor, Permission.RECORD_TIME)
        if errors := reason_errors(reason, "delete"):
            raise ValidationFailed(errors)
        now = self._now()
        with self._db.session() as session:
            entry = self._entry(session, actor, entry_id)
            store.refuse_locked_entry(session, entry)
            before = store.document(entry)
            store.mark_deleted(entry, now, reason)
            self._audit(session, actor, entry, "time.delete", before, None, reason.strip())
