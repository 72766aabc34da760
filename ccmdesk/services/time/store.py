"""The time services' SQL: one's own entries, the log query, the overlap and lock look-ups."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Select, func, or_, select, union_all
from sqlalchemy.orm import Session, selectinload

from ccmdesk.models import Patient, Staff, TimeEntry, TimeSegment
from ccmdesk.rules.entries import first_overlap, overlap_message
from ccmdesk.rules.intervals import Interval, month_of, seconds, split_by_month
from ccmdesk.rules.minutes import month_bounds
from ccmdesk.rules.records import FieldError
from ccmdesk.services.base import patient_by_mrn, practice_zone
from ccmdesk.services.context import Actor
from ccmdesk.services.errors import NotFound, ValidationFailed
from ccmdesk.services.locks import locked_spans, refuse_locked
from ccmdesk.services.time.records import EntryRow, TimerState

Segment = tuple[dt.datetime, dt.datetime | None, str, int]  # start, end, MRN, entry id


def segments_of(entry: TimeEntry) -> list[list[dt.datetime | None]]:
    """The entry's stretches as the audit trail keeps them (an open one ends in None)."""
    return [[s.started_at, s.ended_at] for s in entry.segments]


def closed_spans(entry: TimeEntry, until: dt.datetime) -> list[Interval]:
    """The entry's stretches, an open one counted up to `until`."""
    return [(s.started_at, s.ended_at or until) for s in entry.segments]


def document(entry: TimeEntry) -> dict[str, object]:
    """What the audit trail keeps of an entry."""
    return {
        "segments": segments_of(entry),
        "service": entry.service,
        "face_to_face": entry.face_to_face,
        "activity": entry.activity,
        "note": entry.note,
    }


def own_staff(session: Session, actor: Actor) -> Staff:
    """The acting staff member's record (the actor was authorized: it exists)."""
    return session.scalars(select(Staff).where(Staff.staff_id == actor.key)).one()


def new_entry(
    session: Session,
    actor: Actor,
    mrn: str,
    span: tuple[dt.datetime, dt.datetime | None],
    *,
    service: str,
    source: str,
    now: dt.datetime,
) -> TimeEntry:
    """A new entry of the actor's own for the patient with this MRN, with one stretch: a
    stopwatch running since its start (end None, its heartbeat now), or a stopped entry."""
    start, end = span
    entry = TimeEntry(
        patient_id=patient_by_mrn(session, mrn).id,
        staff_id=own_staff(session, actor).id,
        service=service,
        state="running" if end is None else "stopped",
        source=source,
        created_at=now,
        last_heartbeat_at=now if end is None else None,
    )
    entry.segments.append(TimeSegment(started_at=start, ended_at=end))
    return entry


def mark_deleted(entry: TimeEntry, now: dt.datetime, reason: str) -> None:
    """Delete or discard: the entry stays, stopped and marked deleted, with the reason."""
    close_open_segment(entry, now)
    entry.state = "stopped"
    entry.deleted_at = now
    entry.deleted_reason = reason.strip()


def own_entry(session: Session, actor: Actor, entry_id: int) -> TimeEntry:
    """The actor's own entry (with its stretches), or a NotFound; deleted ones are gone."""
    entry = session.scalars(
        select(TimeEntry)
        .join(Staff, TimeEntry.staff_id == Staff.id)
        .where(TimeEntry.id == entry_id, Staff.staff_id == actor.key)
        .options(selectinload(TimeEntry.segments))
    ).first()
    if entry is None or entry.deleted_at is not None:
        raise NotFound(f"There is no stopwatch {entry_id} of yours.")
    return entry


def timer_state(session: Session, entry: TimeEntry, now: dt.datetime) -> TimerState:
    patient = session.get(Patient, entry.patient_id)
    assert patient is not None
    spans = closed_spans(entry, now)
    return TimerState(
        entry_id=entry.id,
        mrn=patient.mrn,
        patient_name=f"{patient.first_name} {patient.last_name}",
        state=entry.state,
        started_at=spans[0][0],
        elapsed_seconds=sum(seconds(span) for span in spans),
        last_heartbeat_at=entry.last_heartbeat_at,
        segments=tuple(spans),
        service=entry.service,
    )


def entry_row(
    session: Session,
    entry: TimeEntry,
    now: dt.datetime,
    patient: Patient | None = None,
    staff: Staff | None = None,
) -> EntryRow:
    """The entry as a log line; `patient` and `staff` when the caller has them already."""
    patient = patient or session.get(Patient, entry.patient_id)
    staff = staff or session.get(Staff, entry.staff_id)
    assert patient is not None and staff is not None
    spans = closed_spans(entry, now)
    running = any(s.ended_at is None for s in entry.segments)
    return EntryRow(
        entry_id=entry.id,
        mrn=patient.mrn,
        patient_name=f"{patient.first_name} {patient.last_name}",
        staff_id=staff.staff_id,
        staff_name=staff.name,
        started_at=min(a for a, _ in spans),
        ended_at=None if running else max(b for _, b in spans),
        seconds=sum(seconds(span) for span in spans),
        service=entry.service,
        face_to_face=entry.face_to_face,
        activity=entry.activity,
        note=entry.note,
        state=entry.state,
        source=entry.source,
    )


def open_entries(session: Session, actor: Actor) -> list[TimeEntry]:
    """The actor's running and paused stopwatches, oldest first."""
    return list(
        session.scalars(
            select(TimeEntry)
            .join(Staff, TimeEntry.staff_id == Staff.id)
            .where(
                Staff.staff_id == actor.key,
                TimeEntry.state.in_(("running", "paused")),
                TimeEntry.deleted_at.is_(None),
            )
            .order_by(TimeEntry.id)
            .options(selectinload(TimeEntry.segments))
        )
    )


def last_stopwatch(session: Session, actor: Actor) -> TimeEntry | None:
    """The actor's stopwatch started last, not discarded (entries by hand and imports aside)."""
    return session.scalars(
        select(TimeEntry)
        .join(Staff, TimeEntry.staff_id == Staff.id)
        .where(
            Staff.staff_id == actor.key,
            TimeEntry.source == "stopwatch",
            TimeEntry.deleted_at.is_(None),
        )
        .order_by(TimeEntry.created_at.desc(), TimeEntry.id.desc())
        .limit(1)
        .options(selectinload(TimeEntry.segments))
    ).first()


def earliest_own_start(
    session: Session, actor: Actor, start: dt.datetime, end: dt.datetime
) -> dt.datetime | None:
    """The earliest start among the actor's stretches sharing [start, end), if any."""
    staff_id = select(Staff.id).where(Staff.staff_id == actor.key).scalar_subquery()
    return session.scalar(
        select(func.min(TimeSegment.started_at))
        .join(TimeEntry, TimeSegment.entry_id == TimeEntry.id)
        .where(
            TimeEntry.staff_id == staff_id,
            TimeEntry.deleted_at.is_(None),
            TimeSegment.started_at < end,
            or_(TimeSegment.ended_at > start, TimeSegment.ended_at.is_(None)),
        )
    )


def log_query() -> Select[TimeEntry]:
    """Every entry not deleted, in the order it was made, with its stretches."""
    return (
        select(TimeEntry)
        .join(Patient, TimeEntry.patient_id == Patient.id)
        .join(Staff, TimeEntry.staff_id == Staff.id)
        .where(TimeEntry.deleted_at.is_(None))
        .order_by(TimeEntry.created_at, TimeEntry.id)
        .options(selectinload(TimeEntry.segments))
    )


def entries_touching(
    session: Session, actor: Actor, lo: dt.datetime, hi: dt.datetime, now: dt.datetime
) -> list[tuple[EntryRow, TimeEntry]]:
    """The actor's entries not deleted with a stretch sharing time with [lo, hi) (a running
    one reaches to now), as log lines by start, with their stretches: one query for the
    entries, one for their stretches, one for their patients, however many there are."""
    staff = own_staff(session, actor)
    # Two halves, as own_segments explains: each uses the ended_at index on its own.
    closed = select(TimeSegment.entry_id).where(
        TimeSegment.ended_at > lo, TimeSegment.started_at < hi
    )
    # A running stretch reaches to now: none is in a week that begins after now.
    open_ = select(TimeSegment.entry_id).where(
        TimeSegment.ended_at.is_(None), TimeSegment.started_at < hi
    )
    touching = union_all(closed, open_) if now > lo else closed
    entries = session.scalars(
        select(TimeEntry)
        .where(
            TimeEntry.id.in_(touching),
            (TimeEntry.staff_id + 0) == staff.id,
            TimeEntry.deleted_at.is_(None),
        )
        .options(selectinload(TimeEntry.segments))
    ).all()
    patients = {
        p.id: p
        for p in session.scalars(
            select(Patient).where(Patient.id.in_({e.patient_id for e in entries}))
        )
    }
    rows = [(entry_row(session, e, now, patients[e.patient_id], staff), e) for e in entries]
    return sorted(rows, key=lambda pair: (pair[0].started_at, pair[0].entry_id))


def refuse_locked_entry(session: Session, entry: TimeEntry) -> None:
    """A month signed for the patient, or closed for the practice, takes no changes."""
    zone = practice_zone(session)
    months = {
        month
        for s in entry.segments
        for month, _ in (
            split_by_month((s.started_at, s.ended_at), zone)
            if s.ended_at is not None
            else [(month_of(s.started_at, zone), None)]
        )
    }
    refuse_locked(session, entry.patient_id, months)


def close_open_segment(entry: TimeEntry, now: dt.datetime) -> None:
    for segment in list(entry.segments):
        if segment.ended_at is None:
            if now > segment.started_at or len(entry.segments) == 1:
                # Only a clock set back before the GUI noticed makes now <= start; a
                # one-second stretch keeps the entry valid rather than failing the pause.
                segment.ended_at = max(now, segment.started_at + dt.timedelta(seconds=1))
            else:
                entry.segments.remove(segment)  # closed before it began: nothing to keep


def own_segments(
    session: Session, entry: TimeEntry, lo: dt.datetime, hi: dt.datetime
) -> list[Segment]:
    """The person's segments of other entries that may share time with [lo, hi]: closed
    ones ending after lo, and open ones (a running stopwatch) starting before hi."""

    def query(
        *segment_filter: ColumnElement[bool],
    ) -> Select[dt.datetime, dt.datetime | None, str, int]:
        return (
            select(TimeSegment.started_at, TimeSegment.ended_at, Patient.mrn, TimeEntry.id)
            .join(TimeEntry, TimeSegment.entry_id == TimeEntry.id)
            .join(Patient, TimeEntry.patient_id == Patient.id)
            .where(
                # "+ 0" keeps SQLite from walking the person's whole history through the
                # staff index: the recent segments (ix_time_segment_ended_at) are far fewer.
                (TimeEntry.staff_id + 0) == entry.staff_id,
                TimeEntry.id != entry.id,
                TimeEntry.deleted_at.is_(None),
                *segment_filter,
            )
        )

    # Two queries, not one with OR: each half uses the ended_at index on its own.
    # The closed half leaves "started_at < hi" out of the SQL and filters here: with it,
    # SQLite (which has no statistics to tell the two ranges apart) takes the covering
    # ix_time_segment_span for "started_at < hi" and walks every segment started before
    # the stop, all of history (issue #16: stop p99 49-62 ms with 300,000 entries). Only
    # the ended_at index can then serve the query; the few segments ending after lo that
    # start at or after hi are dropped below. No maximum segment length exists to bound
    # the started_at range instead. tests/services/test_query_plans.py guards the plan.
    closed = [
        row for row in session.execute(query(TimeSegment.ended_at > lo)) if row.started_at < hi
    ]
    running = session.execute(
        query(TimeSegment.ended_at.is_(None), TimeSegment.started_at < hi)
    ).all()
    return [(a, b, mrn, other) for a, b, mrn, other in [*closed, *running]]


def entries_ending_after(session: Session, entry: TimeEntry, now: dt.datetime) -> list[TimeEntry]:
    """The person's other entries with a stretch ending after `now` (with their stretches)."""
    return list(
        session.scalars(
            select(TimeEntry)
            .where(
                TimeEntry.id.in_(select(TimeSegment.entry_id).where(TimeSegment.ended_at > now)),
                # "+ 0": start from the few segments after now, not the staff's history.
                (TimeEntry.staff_id + 0) == entry.staff_id,
                TimeEntry.id != entry.id,
                TimeEntry.deleted_at.is_(None),
            )
            .options(selectinload(TimeEntry.segments))
        )
    )


def refuse_overlap(session: Session, entry: TimeEntry) -> None:
    """One person cannot be in two places: refuse, naming the entry it collides with."""
    spans = [(s.started_at, s.ended_at) for s in entry.segments if s.ended_at is not None]
    lo = min(a for a, _ in spans)
    hi = max(b for _, b in spans)
    others = ((a, b, mrn) for a, b, mrn, _ in own_segments(session, entry, lo, hi))
    # A running stopwatch of one's own counts as running up to the end of this entry.
    if found := first_overlap(spans, others, hi):
        started, ended, running, mrn = found
        message = overlap_message(mrn, started, ended, running, practice_zone(session))
        raise ValidationFailed([FieldError("start", message)])


def locked_months(
    session: Session, patient_ids: set[int], since: dt.datetime
) -> dict[int, list[Interval]]:
    """Each patient's signed or closed months from `since` on, as UTC spans time must keep
    out of."""
    zone = practice_zone(session)
    return locked_spans(
        session, patient_ids, month_of(since, zone), lambda month: month_bounds(month, zone)
    )
