"""Importing the time entries file."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from ccmdesk.models import Patient, Staff, TimeEntry, TimeSegment
from ccmdesk.rules.entries import activity_error, overlap_message, service_error, span_errors
from ccmdesk.rules.validation import (
    ParseError,
    note_error,
    parse_instant,
)
from ccmdesk.services.base import practice_zone
from ccmdesk.services.importing.core import Cells, Check, FileKind, Importer, Report, Row, Write

TIME_ENTRIES = "time entries"


@dataclass(frozen=True)
class _EntryIn:
    mrn: str
    staff_id: str
    start: dt.datetime
    end: dt.datetime
    service: str
    face_to_face: bool
    activity: str
    note: str


def _read_entry(
    row: Row,
    now: dt.datetime,
    report: Report,
    known_mrn: Callable[[str], bool] | None = None,
    known_staff: Callable[[str], bool] | None = None,
) -> _EntryIn | None:
    """A time entry row's values, or None after reporting each problem. The references are
    checked only when `known_mrn` and `known_staff` are given (the checking pass)."""
    cells = Cells(row, report)
    v, bad = cells.values, cells.bad
    mrn = cells.mrn(known_mrn)
    staff_id = cells.reference("staff_id", known_staff, "no staff member has staff_id '{}'")
    instants: dict[str, dt.datetime] = {}
    for column in ("start", "end"):
        try:
            instants[column] = parse_instant(v.get(column, ""))
        except ParseError as exc:
            bad(column, str(exc))
    if "start" in instants and "end" in instants:
        for error in span_errors(instants["start"], instants["end"], now):
            bad(error.field, error.message)
    service = cells.choice("service", "ccm", service_error)
    face_to_face = cells.flag("face_to_face")
    activity, note = v.get("activity", "").strip(), v.get("note", "").strip()
    if message := activity_error(activity):
        bad("activity", message)
    if message := note_error(note):
        bad("note", message)
    if not cells.ok:
        return None
    return _EntryIn(
        sys.intern(mrn),
        sys.intern(staff_id),
        instants["start"],
        instants["end"],
        service,
        face_to_face,
        activity,
        note,
    )


# A checked entry as kept for the duplicate and overlap checks: small, no row values.
_Span = tuple[dt.datetime, dt.datetime, str, int, int]  # start, end, MRN, file index, line
_OPEN_END = dt.datetime.max.replace(tzinfo=dt.UTC)
# start, end, 0 (stored) or 1 (imported), then the stored one's place in the query's order
# or the imported one's file index and line, and the MRN
_Merged = tuple[dt.datetime, dt.datetime, int, int, int, str]


class TimeEntriesImporter(Importer):
    """Time entry rows: new entries, or stored ones (same patient, staff, start, end) updated."""

    kind = FileKind(
        TIME_ENTRIES,
        ("mrn", "staff_id", "start"),
        ("mrn", "staff_id", "start", "end", "service", "face_to_face", "activity", "note"),
        ("mrn", "staff_id", "start", "end"),
    )

    def check(self, c: Check) -> None:
        spans: dict[str, list[_Span]] = {}
        for batch, known_mrn in c.mrn_batches(TIME_ENTRIES):
            for row in batch:
                entry = _read_entry(row, c.now, c.reporter(row), known_mrn, c.refs.__contains__)
                if entry is not None:
                    spans.setdefault(entry.staff_id, []).append(
                        (entry.start, entry.end, entry.mrn, row.index, row.line)
                    )
        _entry_keys(c, spans)
        _overlaps(c, spans)

    def write(self, w: Write) -> None:
        counts = w.summary.counts[TIME_ENTRIES]
        session = w.session
        staff_ids = dict(session.execute(select(Staff.staff_id, Staff.id)).all())

        def read(row: Row, report: Report) -> _EntryIn | None:
            return _read_entry(row, w.now, report)

        for items in w.items(TIME_ENTRIES, read):
            patient_ids = w.patient_ids(item.mrn for _, item in items)
            # Stored entries of the same people starting at the same instants are matched by
            # their key (patient, staff, start, end) and updated rather than added again.
            matches: dict[tuple[int, int, dt.datetime, dt.datetime], TimeEntry] = {}
            for entry, segment in session.execute(
                select(TimeEntry, TimeSegment)
                .join(TimeSegment, TimeSegment.entry_id == TimeEntry.id)
                .where(
                    TimeEntry.deleted_at.is_(None),
                    TimeEntry.staff_id.in_(sorted({staff_ids[i.staff_id] for _, i in items})),
                    TimeSegment.started_at.in_(sorted({item.start for _, item in items})),
                )
            ):
                if segment.ended_at is not None:
                    key = (entry.patient_id, entry.staff_id, segment.started_at, segment.ended_at)
                    matches[key] = entry
            changes: list[tuple[TimeEntry, str, dict[str, object] | None, dict[str, object]]] = []
            for row, item in items:
                patient_id, staff_id = patient_ids[item.mrn], staff_ids[item.staff_id]
                fields = {
                    "service": item.service,
                    "face_to_face": item.face_to_face,
                    "activity": item.activity,
                    "note": item.note,
                }
                span = {"start": item.start, "end": item.end}
                found = matches.get((patient_id, staff_id, item.start, item.end))
                if found is not None:
                    before = {name: getattr(found, name) for name in fields}
                    if before == fields:
                        counts.unchanged += 1
                        continue
                w.locks.check(row, "start", patient_id, w.locks.months_of(item.start, item.end))
                before_doc: dict[str, object] | None
                if found is not None:
                    entry = found
                    for name, value in fields.items():
                        setattr(entry, name, value)
                    counts.updated += 1
                    action, before_doc = "time.update", {**before, **span}
                else:
                    entry = TimeEntry(
                        patient_id=patient_id,
                        staff_id=staff_id,
                        state="stopped",
                        source="import",
                        created_at=w.now,
                        **fields,
                    )
                    entry.segments.append(TimeSegment(started_at=item.start, ended_at=item.end))
                    session.add(entry)
                    counts.created += 1
                    action, before_doc = "time.create", None
                after = {**fields, **span, "mrn": item.mrn, "staff_id": item.staff_id}
                changes.append((entry, action, before_doc, after))
            session.flush()
            for entry, action, before_doc, after in changes:
                w.record(
                    action=action,
                    entity="time_entry",
                    entity_key=str(entry.id),
                    patient_id=entry.patient_id,
                    before=before_doc,
                    after=after,
                )
            w.release()


def _entry_keys(c: Check, spans: dict[str, list[_Span]]) -> None:
    """The same entry (MRN, staff, start, end) twice: the later one is reported."""
    for staff_id, mine in spans.items():
        # Sorted, the same entry sits together, the one given first at the front.
        mine.sort()
        kept: list[_Span] = []
        for span in mine:
            first = kept[-1] if kept else None
            if first is not None and span[:3] == first[:3]:
                file, line = c.name_of(span[3]), span[4]
                if first[3] == span[3]:
                    message = f"this entry appears twice in this file (first on line {first[4]})"
                else:
                    message = f"this entry is also in {c.name_of(first[3])} line {first[4]}"
                c.problems.add(file, line, "start", message)
                continue
            kept.append(span)
        spans[staff_id] = kept


def _overlaps(c: Check, spans: dict[str, list[_Span]]) -> None:
    """One staff member cannot be in two places: segments may touch but not overlap."""
    if not spans:
        return
    lo = min(span[0] for mine in spans.values() for span in mine)
    hi = max(span[1] for mine in spans.values() for span in mine)
    query = (
        select(Staff.staff_id, Patient.mrn, TimeSegment.started_at, TimeSegment.ended_at)
        .join(TimeEntry, TimeSegment.entry_id == TimeEntry.id)
        .join(Staff, TimeEntry.staff_id == Staff.id)
        .join(Patient, TimeEntry.patient_id == Patient.id)
        .where(
            Staff.staff_id.in_(list(spans)),
            TimeEntry.deleted_at.is_(None),
            TimeSegment.started_at < hi,
            TimeSegment.ended_at.is_(None) | (TimeSegment.ended_at > lo),
        )
    )
    # Sorted, the same span stands as the stored one first, then the imported ones as given.
    merged: dict[str, list[_Merged]] = {}
    stored_keys: dict[str, set[tuple[dt.datetime, dt.datetime, str]]] = {}
    for number, (staff_id, mrn, started, ended) in enumerate(c.session.execute(query)):
        end = ended or _OPEN_END
        merged.setdefault(staff_id, []).append((started, end, 0, number, 0, mrn))
        stored_keys.setdefault(staff_id, set()).add((started, end, mrn))
    for staff_id, mine in spans.items():
        known = stored_keys.get(staff_id, set())
        merged.setdefault(staff_id, []).extend(
            (start, end, 1, index, line, mrn)
            for start, end, mrn, index, line in mine
            if (start, end, mrn) not in known  # the same entry again: matched, not overlap
        )
    zone = practice_zone(c.session)
    for staff_id, items in merged.items():
        items.sort()
        latest: _Merged | None = None
        for item in items:
            if latest is not None and item[0] < latest[1]:
                # Report on the row being imported; if both are imported, on the later one.
                target = item if item[2] else latest if latest[2] else None
                if target is not None:
                    message = _sentence(c, latest if item[2] else item, staff_id, zone)
                    c.problems.add(c.name_of(target[3]), target[4], "start", message)
            if latest is None or item[1] > latest[1]:
                latest = item


def _sentence(c: Check, item: _Merged, staff_id: str, zone: dt.tzinfo) -> str:
    """The time-entry rule's overlap sentence, naming `item` (stored or imported) as the one
    the row collides with; an imported one with its file and line."""
    start, end, imported, index, line, mrn = item
    running = end == _OPEN_END
    where = f"{c.name_of(index)} line {line}" if imported else ""
    return overlap_message(
        mrn, start, start if running else end, running, zone, owner=f"{staff_id}'s", where=where
    )
