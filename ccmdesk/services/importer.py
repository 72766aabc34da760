"""CSV import of staff, patients, time entries and patient months: all or nothing, streamed."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import heapq
import io
import itertools
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from ccmdesk.db import Database
from ccmdesk.models import (
    Patient,
    PatientMonth,
    Practice,
    Staff,
    TimeEntry,
    TimeSegment,
)
from ccmdesk.rules.entries import activity_error, service_error, span_errors
from ccmdesk.rules.intervals import month_days, split_by_month
from ccmdesk.rules.records import (
    PATIENT_COLUMNS,
    STAFF_COLUMNS,
    PatientRecord,
    PracticeRecord,
    StaffRecord,
)
from ccmdesk.rules.text import shown
from ccmdesk.rules.validation import (
    COMPLEXITY,
    OTHER_SERVICES_LIMIT,
    ParseError,
    note_error,
    parse_bool,
    parse_date,
    parse_instant,
    parse_list,
    parse_month,
    patient_from_text,
    staff_from_text,
)
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, practice_zone
from ccmdesk.services.billing import (
    BillingService,
    MonthFactsRecord,
    month_document,
    month_record,
    stay_months,
    write_month_facts,
)
from ccmdesk.services.closing import billed_months_kept
from ccmdesk.services.context import Actor, Clock, Permission
from ccmdesk.services.errors import ImportFailed
from ccmdesk.services.locks import LockTable
from ccmdesk.services.patients import (
    StaffRef,
    apply_patient,
    audit_form,
    change_reason,
    patient_record,
    reference_errors,
    staff_refs,
    stored_staff_references,
)
from ccmdesk.services.practice import add_practice
from ccmdesk.services.results import ORDER, ImportSummary
from ccmdesk.services.staff import apply_staff, staff_record, stranded_patient_errors

STAFF, PATIENTS, TIME_ENTRIES, PATIENT_MONTHS = (
    "staff",
    "patients",
    "time entries",
    "patient months",
)
# Columns every row of a kind needs; a file without one is told so once, at its header.
REQUIRED = {
    "staff": ("staff_id", "name", "role"),
    "patients": ("mrn", "last_name", "first_name", "dob", "billing_practitioner"),
    "time entries": ("mrn", "staff_id", "start", "end"),
    "patient months": ("mrn", "month"),
}
# A field may be long (a note), but a file of one endless field is refused, not read into memory.
csv.field_size_limit(1_000_000)
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required columns that identify it, every column it may have)
    STAFF: (("staff_id", "role"), STAFF_COLUMNS),
    PATIENTS: (("mrn", "last_name"), PATIENT_COLUMNS),
    TIME_ENTRIES: (
        ("mrn", "staff_id", "start"),
        ("mrn", "staff_id", "start", "end", "service", "face_to_face", "activity", "note"),
    ),
    PATIENT_MONTHS: (
        ("mrn", "month"),
        ("mrn", "month", "complexity", "other_services", "billed_elsewhere", "inpatient"),
    ),
}
_PROCEDURE_CODE = re.compile(r"^[A-Z0-9]{5}$")
# Rows read, checked against the database and written together: one query per batch rather
# than one per row, and no more than a batch of rows or ORM objects held at any time.
BATCH = 500
# Problems listed when a file is wrong throughout; the count of all of them is still given.
LISTED = 1_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Row:
    file: str
    line: int
    values: dict[str, str]
    index: int = 0  # the file's place among the files given


class _Problems:
    """Problems as found; listed file by file (in the order given) and line by line.

    Only the first LISTED (in that order) are kept, so a file wrong on every one of a million
    rows does not fill the memory with messages; every problem is still counted.
    """

    def __init__(self) -> None:
        # A heap of the listed ones, the last in listing order on top (keys negated).
        self._kept: list[tuple[int, int, int, str, str, str]] = []
        self._count = 0
        self._files: dict[str, int] = {}
        self._missing: dict[str, set[str]] = {}

    def add(self, file: str, line: int, column: str, message: str) -> None:
        if message == "is required" and column in self._missing.get(file, ()):
            return  # said once at the header, not again on every row
        index = self._files.setdefault(file, len(self._files))
        self._count += 1
        item = (-index, -line, -self._count, file, column, message)
        if len(self._kept) < LISTED:
            heapq.heappush(self._kept, item)
        else:
            heapq.heappushpop(self._kept, item)  # drops whichever comes last in the listing

    def missing_column(self, file: str, column: str, kind: str) -> None:
        self.add(file, 1, column, f"required column is missing from this {kind} file")
        self._missing.setdefault(file, set()).add(column)

    def expect(self, files: Sequence[str]) -> None:
        for file in files:
            self._files.setdefault(file, len(self._files))

    def __bool__(self) -> bool:
        return self._count > 0

    @property
    def items(self) -> list[str]:
        # File names, column names and messages all quote the files' own text: escaped, so a
        # cell cannot break its problem line or forge another.
        return [
            f"{shown(file)}:{-line}: {shown(column)}: {shown(message)}"
            for _, line, _, file, column, message in sorted(self._kept, reverse=True)
        ]

    def fail(self) -> NoReturn:
        raise ImportFailed(self.items, self._count)


# --- files ---------------------------------------------------------------------------------


class _Hashing(io.RawIOBase):
    """A binary stream that hashes what is read through it."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.digest.update(data)
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass(frozen=True)
class _Source:
    """One file given to the import, opened afresh for each pass over it."""

    name: str
    open: Callable[[], BinaryIO]


def _first_pass(source: _Source) -> tuple[str, int | None]:
    """The file's SHA-256, and the offset of its first byte that is not UTF-8 (None if all is)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    bad: int | None = None
    with source.open() as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            if bad is None:
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad = offset - pending + exc.start
            offset += len(chunk)
    if bad is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            bad = offset - len(exc.object) + exc.start
    return digest.hexdigest(), bad


@dataclass
class _CsvFile:
    """A file whose header was read: its kind, columns and content hash. Its rows are read
    again on each pass, never all held at once."""

    source: _Source
    index: int  # its place among the files given
    kind: str
    columns: list[str]
    digest: str

    @property
    def name(self) -> str:
        return self.source.name

    def rows(self, problems: _Problems | None) -> Iterator[Row]:
        """The data rows; with `problems`, rows that cannot be read are reported there.
        Without (the writing pass, after every row was checked), any such row means the file
        changed since it was checked, and so does a different hash at its end."""
        name = self.name
        try:
            with (
                _Hashing(self.source.open()) as raw,
                io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8-sig", newline="") as text,
            ):
                reader = csv.reader(text)
                next(reader, None)  # the header
                start = 2
                try:
                    for record in reader:
                        line = start
                        start = reader.line_num + 1
                        if not any(cell.strip() for cell in record):
                            continue
                        if len(record) != len(self.columns):
                            if problems is None:
                                self.changed()
                            problems.add(
                                name,
                                line,
                                "(row)",
                                f"has {len(record)} fields; the header has {len(self.columns)}",
                            )
                            continue
                        values = dict(zip(self.columns, record, strict=True))
                        yield Row(name, line, values, self.index)
                except csv.Error as exc:
                    if problems is None:
                        self.changed()
                    problems.add(name, start, "(row)", f"cannot be read as CSV: {exc}")
                    return
                except UnicodeDecodeError:
                    self.changed()
                if raw.digest.hexdigest() != self.digest:
                    self.changed()
        except OSError as exc:
            raise ImportFailed(
                [f"{name}:1: (file): cannot be read: {exc.strerror or exc}"]
            ) from exc

    def unexpected(self, column: str, message: str) -> NoReturn:
        """A problem met in the writing pass: the rows were all fine in the checking pass."""
        self.changed()

    def changed(self) -> NoReturn:
        raise ImportFailed(
            [
                f"{self.name}:1: (file): changed while it was being imported; make sure "
                "nothing else writes to it and import it again"
            ]
        )


def open_csv(source: _Source, index: int, problems: _Problems) -> _CsvFile | None:
    """Check one file's encoding and header and decide its kind; report what is wrong."""
    name = source.name
    try:
        digest, bad = _first_pass(source)
        if bad is not None:
            problems.add(name, 1, "(file)", f"is not UTF-8 text (byte {bad})")
            return None
        with io.TextIOWrapper(source.open(), encoding="utf-8-sig", newline="") as text:
            header = next(csv.reader(text))
    except OSError as exc:
        problems.add(name, 1, "(file)", f"cannot be read: {exc.strerror or exc}")
        return None
    except StopIteration:
        problems.add(name, 1, "(header)", "the file is empty")
        return None
    except csv.Error as exc:
        problems.add(name, 1, "(header)", f"cannot read the header: {exc}")
        return None
    columns = [c.strip().lower() for c in header]
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            problems.add(name, 1, column or "(blank)", "column appears twice")
        seen.add(column)
    candidates = [kind for kind, (required, _) in KINDS.items() if set(required) <= seen]
    if not candidates:
        lacks = "; ".join(
            f"{kind} needs {', '.join(c for c in required if c not in seen)}"
            for kind, (required, _) in KINDS.items()
        )
        problems.add(name, 1, "(header)", f"is not a ccmdesk import file: {lacks}")
        return None
    # A header can hold the identifying columns of two kinds; the one it fits best wins.
    kind = min(candidates, key=lambda k: (len(seen - set(KINDS[k][1])), ORDER.index(k)))
    allowed = set(KINDS[kind][1])
    for column in columns:
        if column not in allowed:
            problems.add(name, 1, column or "(blank)", f"unknown column in a {kind} file")
    for column in REQUIRED[kind]:
        if column not in seen:
            problems.missing_column(name, column, kind)
    return _CsvFile(source, index, kind, columns, digest)


def _batches(rows: Iterable[Row], size: int = BATCH) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


# --- rows read into values ------------------------------------------------------------------


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


@dataclass(frozen=True)
class _MonthIn:
    mrn: str
    month: str
    complexity: str
    other_services: tuple[str, ...]
    billed_elsewhere: bool
    inpatient: tuple[tuple[dt.date, dt.date], ...]


Report = Callable[[str, str], None]  # (column, message) for the row being read


def _read_entry(
    row: Row,
    now: dt.datetime,
    report: Report,
    known_mrn: Callable[[str], bool] | None = None,
    known_staff: Callable[[str], bool] | None = None,
) -> _EntryIn | None:
    """A time entry row's values, or None after reporting each problem. The references are
    checked only when `known_mrn` and `known_staff` are given (the checking pass)."""
    v = row.values
    ok = True

    def bad(column: str, message: str) -> None:
        nonlocal ok
        report(column, message)
        ok = False

    mrn, staff_id = v.get("mrn", "").strip(), v.get("staff_id", "").strip()
    if not mrn:
        bad("mrn", "is required")
    elif known_mrn is not None and not known_mrn(mrn):
        bad("mrn", f"no patient has MRN '{mrn}'")
    if not staff_id:
        bad("staff_id", "is required")
    elif known_staff is not None and not known_staff(staff_id):
        bad("staff_id", f"no staff member has staff_id '{staff_id}'")
    instants: dict[str, dt.datetime] = {}
    for column in ("start", "end"):
        try:
            instants[column] = parse_instant(v.get(column, ""))
        except ParseError as exc:
            bad(column, str(exc))
    if "start" in instants and "end" in instants:
        for error in span_errors(instants["start"], instants["end"], now):
            bad(error.field, error.message)
    service = v.get("service", "").strip().lower() or "ccm"
    if message := service_error(service):
        bad("service", message)
    face_to_face = False
    try:
        face_to_face = parse_bool(v.get("face_to_face", ""))
    except ParseError as exc:
        bad("face_to_face", str(exc))
    activity, note = v.get("activity", "").strip(), v.get("note", "").strip()
    if message := activity_error(activity):
        bad("activity", message)
    if message := note_error(note):
        bad("note", message)
    if not ok:
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


def _parse_stay(item: str, month: str, report: Report) -> tuple[dt.date, dt.date] | None:
    parts = item.split("..")
    try:
        if len(parts) != 2:
            raise ParseError(f"'{item}' is not a stay; use YYYY-MM-DD..YYYY-MM-DD")
        admitted, discharged = parse_date(parts[0]), parse_date(parts[1])
        if admitted is None or discharged is None:
            raise ParseError(f"'{item}' needs both dates: YYYY-MM-DD..YYYY-MM-DD")
    except ParseError as exc:
        report("inpatient", str(exc))
        return None
    if discharged < admitted:
        report("inpatient", f"'{item}' ends before it starts")
        return None
    if month:
        first, last = month_days(month)
        if discharged < first or admitted > last:
            report("inpatient", f"'{item}' is not in {month}")
            return None
    return admitted, discharged


def _read_month(
    row: Row, report: Report, known_mrn: Callable[[str], bool] | None = None
) -> _MonthIn | None:
    """A patient month row's values, or None after reporting each problem."""
    v = row.values
    ok = True

    def bad(column: str, message: str) -> None:
        nonlocal ok
        report(column, message)
        ok = False

    mrn = v.get("mrn", "").strip()
    if not mrn:
        bad("mrn", "is required")
    elif known_mrn is not None and not known_mrn(mrn):
        bad("mrn", f"no patient has MRN '{mrn}'")
    month = ""
    try:
        # Cells are read without the spaces around them, like every other cell; the month
        # itself then passes the one strict check.
        month = parse_month(v.get("month", "").strip())
    except ParseError as exc:
        bad("month", str(exc))
    complexity = v.get("complexity", "").strip().lower() or "none"
    if complexity not in COMPLEXITY:
        bad("complexity", f"'{complexity}' is not none, moderate or high")
    others = tuple(code.upper() for code in parse_list(v.get("other_services", "")))
    if len(others) > OTHER_SERVICES_LIMIT:
        bad("other_services", f"lists {len(others)} codes; at most {OTHER_SERVICES_LIMIT}")
    for code in others[:OTHER_SERVICES_LIMIT]:
        if not _PROCEDURE_CODE.fullmatch(code):
            bad("other_services", f"'{code}' is not a CPT or HCPCS code (5 letters or digits)")
    billed_elsewhere = False
    try:
        billed_elsewhere = parse_bool(v.get("billed_elsewhere", ""))
    except ParseError as exc:
        bad("billed_elsewhere", str(exc))
    stays: list[tuple[dt.date, dt.date]] = []
    for item in parse_list(v.get("inpatient", "")):
        stay = _parse_stay(item, month, report)
        if stay is None:
            ok = False
        else:
            stays.append(stay)
    if not ok:
        return None
    return _MonthIn(mrn, month, complexity, others, billed_elsewhere, tuple(stays))


def _fmt_span(start: dt.datetime, end: dt.datetime) -> str:
    return f"{start.isoformat()} to {end.isoformat()}"


# A checked entry as kept for the duplicate and overlap checks: small, no row values.
_Span = tuple[dt.datetime, dt.datetime, str, int, int]  # start, end, MRN, file index, line
_OPEN_END = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass
class Locks:
    """Checks each row that would change time or facts against the signed and closed months."""

    table: LockTable
    zone: dt.tzinfo
    problems: _Problems

    def months_of(self, start: dt.datetime, end: dt.datetime) -> set[str]:
        return {month for month, _ in split_by_month((start, end), self.zone)}

    def check(
        self, row: Row, column: str, patient_id: int, months: set[str], what: str = "its time"
    ) -> None:
        lock = self.table.first(patient_id, months)
        if lock is not None:
            self.problems.add(row.file, row.line, column, lock.message(what))


# --- the checking pass ----------------------------------------------------------------------


@dataclass
class _Check:
    """Reads every row once and reports every problem, keeping only what later rows and the
    writing pass need: keys seen (with where), staff rows, and each entry's span."""

    session: Session
    problems: _Problems
    files: list[_CsvFile]
    today: dt.date
    now: dt.datetime
    refs: dict[str, StaffRef] = field(default_factory=dict)
    staff_in: dict[str, tuple[Row, StaffRecord]] = field(default_factory=dict)
    patients_seen: dict[str, tuple[str, int]] = field(default_factory=dict)
    # Billing practitioner and care manager counts the patients rows move, by staff_id.
    billing_moves: Counter[str] = field(default_factory=Counter)
    manager_moves: Counter[str] = field(default_factory=Counter)

    def rows(self, kind: str) -> Iterator[Row]:
        for csv_file in self.files:
            if csv_file.kind == kind:
                yield from csv_file.rows(self.problems)

    def reporter(self, row: Row) -> Report:
        return functools.partial(self.problems.add, row.file, row.line)

    def duplicate(
        self, seen: dict[Any, tuple[str, int]], key: object, row: Row, column: str, label: str
    ) -> bool:
        first = seen.get(key)
        if first is None:
            seen[key] = (row.file, row.line)
            return False
        file, line = first
        if file == row.file:
            message = f"{label} appears twice in this file (first on line {line})"
        else:
            message = f"{label} is also in {file} line {line}"
        self.problems.add(row.file, row.line, column, message)
        return True

    def staff(self) -> None:
        seen: dict[str, tuple[str, int]] = {}
        for row in self.rows(STAFF):
            record, errors = staff_from_text(row.values)
            for error in errors:
                self.problems.add(row.file, row.line, error.field, error.message)
            if record.staff_id and self.duplicate(
                seen, record.staff_id, row, "staff_id", f"'{record.staff_id}'"
            ):
                continue
            if record.staff_id:
                # Known even when the row is wrong, so rows naming it don't pile up more errors.
                self.refs[record.staff_id] = StaffRef(
                    record.name, record.role, record.npi, True, checked=not errors
                )
            if not errors:
                # A practice's staff are few: their rows are kept for the writing pass.
                self.staff_in[record.staff_id] = (row, record)

    def patients(self) -> None:
        seen = self.patients_seen
        for batch in _batches(self.rows(PATIENTS)):
            mrns = sorted({row.values.get("mrn", "").strip() for row in batch})
            previous = stored_staff_references(self.session, mrns)
            for row in batch:
                record, errors = patient_from_text(row.values, self.today)
                stored = previous.get(record.mrn)
                errors += reference_errors(record, self.refs, stored)
                for error in errors:
                    self.problems.add(row.file, row.line, error.field, error.message)
                if record.mrn and self.duplicate(seen, record.mrn, row, "mrn", f"'{record.mrn}'"):
                    continue
                if not errors:
                    self.billing_moves[record.billing_practitioner] += 1
                    self.manager_moves[record.care_manager] += 1
                    if stored is not None:
                        self.billing_moves[stored["billing_practitioner"]] -= 1
                        self.manager_moves[stored["care_manager"]] -= 1

    def stored_mrns(self, batch: list[Row]) -> set[str]:
        """MRNs of the batch that are neither in these files nor in the database."""
        mrns = {row.values.get("mrn", "").strip() for row in batch} - self.patients_seen.keys()
        mrns.discard("")
        if not mrns:
            return set()
        query = select(Patient.mrn).where(Patient.mrn.in_(sorted(mrns)))
        return set(self.session.scalars(query))

    def entries(self) -> None:
        # MRNs of the files' patient rows count as known even when a row is wrong: its own
        # error is the one to report, not one more for each of that patient's entries.
        spans: dict[str, list[_Span]] = {}
        for batch in _batches(self.rows(TIME_ENTRIES)):
            stored = self.stored_mrns(batch)

            def known_mrn(mrn: str, stored: set[str] = stored) -> bool:
                return mrn in self.patients_seen or mrn in stored

            for row in batch:
                entry = _read_entry(
                    row, self.now, self.reporter(row), known_mrn, self.refs.__contains__
                )
                if entry is not None:
                    spans.setdefault(entry.staff_id, []).append(
                        (entry.start, entry.end, entry.mrn, row.index, row.line)
                    )
        self.entry_keys(spans)
        self.overlaps(spans)

    def name_of(self, index: int) -> str:
        return next(f.name for f in self.files if f.index == index)

    def entry_keys(self, spans: dict[str, list[_Span]]) -> None:
        """The same entry (MRN, staff, start, end) twice: the later one is reported."""
        for staff_id, mine in spans.items():
            # Sorted, the same entry sits together, the one given first at the front.
            mine.sort()
            kept: list[_Span] = []
            for span in mine:
                first = kept[-1] if kept else None
                if first is not None and span[:3] == first[:3]:
                    file, line = self.name_of(span[3]), span[4]
                    if first[3] == span[3]:
                        message = (
                            f"this entry appears twice in this file (first on line {first[4]})"
                        )
                    else:
                        message = f"this entry is also in {self.name_of(first[3])} line {first[4]}"
                    self.problems.add(file, line, "start", message)
                    continue
                kept.append(span)
            spans[staff_id] = kept

    def overlaps(self, spans: dict[str, list[_Span]]) -> None:
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
        # start, end, 0 (stored) or 1 (imported), then the stored one's place in the query's
        # order or the imported one's file and line, and the MRN; sorting by these orders the
        # same span as the stored one first, then the imported ones as given.
        merged: dict[str, list[tuple[dt.datetime, dt.datetime, int, int, int, str]]] = {}
        stored_keys: dict[str, set[tuple[dt.datetime, dt.datetime, str]]] = {}
        for number, (staff_id, mrn, started, ended) in enumerate(self.session.execute(query)):
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
        for staff_id, items in merged.items():
            items.sort()
            latest: tuple[dt.datetime, dt.datetime, int, int, int, str] | None = None
            for item in items:
                if latest is not None and item[0] < latest[1]:
                    # Report on the row being imported; if both are imported, on the later one.
                    target = item if item[2] else latest if latest[2] else None
                    other = self.label(latest if item[2] else item)
                    if target is not None:
                        self.problems.add(
                            self.name_of(target[3]),
                            target[4],
                            "start",
                            f"overlaps another entry of {staff_id}: {other}",
                        )
                if latest is None or item[1] > latest[1]:
                    latest = item

    def label(self, item: tuple[dt.datetime, dt.datetime, int, int, int, str]) -> str:
        start, end, imported, index, line, mrn = item
        if imported:
            return f"MRN {mrn}, {_fmt_span(start, end)} ({self.name_of(index)} line {line})"
        if end == _OPEN_END:
            return f"the stopwatch for MRN {mrn} running since {start.isoformat()}"
        return f"the recorded entry for MRN {mrn}, {_fmt_span(start, end)}"

    def months(self) -> None:
        seen: dict[tuple[str, str], tuple[str, int]] = {}
        for batch in _batches(self.rows(PATIENT_MONTHS)):
            stored = self.stored_mrns(batch)

            def known_mrn(mrn: str, stored: set[str] = stored) -> bool:
                return mrn in self.patients_seen or mrn in stored

            for row in batch:
                item = _read_month(row, self.reporter(row), known_mrn)
                if item is not None:
                    key = (item.mrn, item.month)
                    self.duplicate(seen, key, row, "month", f"{item.mrn} {item.month}")

    def staff_effects(self) -> None:
        """Judge staff changes by the state after the whole import, not row by row.

        Demoting an administrator is fine when the same files add another; changing a nurse's
        role is not when patients (on file or in these files) still name her care manager.
        """
        if not self.staff_in:
            return
        session = self.session
        stored = {s.staff_id: s for s in session.scalars(select(Staff))}
        final = {key: (s.role, s.active) for key, s in stored.items()}
        for key, (_, record) in self.staff_in.items():
            final[key] = (record.role, stored[key].active if key in stored else True)
        had_admin = any(s.role == "admin" and s.active for s in stored.values())
        if had_admin and not any(role == "admin" and active for role, active in final.values()):
            for key, (row, record) in self.staff_in.items():
                if key in stored and stored[key].role == "admin" and record.role != "admin":
                    self.problems.add(row.file, row.line, "role", "these files would leave no "
                                      "active administrator; keep one")  # fmt: skip
        # Counter's + keeps the positive totals: what is on file, moved by these files' rows.
        billing = self.stored_counts(Patient.billing_practitioner_id) + self.billing_moves
        managed = self.stored_counts(Patient.care_manager_id) + self.manager_moves
        for key, (row, record) in self.staff_in.items():
            if key not in stored:
                continue
            final_record = dataclasses.replace(record, active=stored[key].active)
            for error in stranded_patient_errors(
                record.name, final_record, billing[key], managed[key]
            ):
                self.problems.add(row.file, row.line, error.field, error.message)

    def stored_counts(self, column: InstrumentedAttribute[int | None]) -> Counter[str]:
        """Patients on file per staff_id they name in `column`."""
        rows = self.session.execute(
            select(Staff.staff_id, func.count())
            .join(Patient, column == Staff.id)
            .group_by(Staff.staff_id)
        )
        return Counter({staff_id: count for staff_id, count in rows})


# --- the service ----------------------------------------------------------------------------


class ImportService(ServiceBase):
    """Bring a practice's spreadsheets in, in one transaction."""

    def __init__(self, db: Database, clock: Clock, billing: BillingService) -> None:
        super().__init__(db, clock)
        self._billing = billing  # a patient's change must flag the billed months it reaches

    def import_paths(self, actor: Actor, paths: Sequence[Path]) -> ImportSummary:
        problems = _Problems()
        sources: list[_Source] = []
        for path in paths:
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                problems.add(str(path), 1, "(file)", f"cannot be read: {exc.strerror or exc}")
            else:
                # Read from the disk on each pass, never held whole.
                sources.append(_Source(str(path), functools.partial(open, path, "rb")))
        if problems:
            problems.fail()
        return self._import(actor, sources)

    def import_data(
        self,
        actor: Actor,
        files: Sequence[tuple[str, bytes]],
        practice: PracticeRecord | None = None,
    ) -> ImportSummary:
        """Import (name, bytes) files; raise ImportFailed listing every problem, writing nothing.

        `practice` (used by the demo) describes the practice in the same transaction when the
        database has none yet, so a refused import leaves no practice behind either.
        """
        sources = [_Source(name, functools.partial(io.BytesIO, data)) for name, data in files]
        return self._import(actor, sources, practice)

    def _import(
        self, actor: Actor, sources: Sequence[_Source], practice: PracticeRecord | None = None
    ) -> ImportSummary:
        """Two passes over the files in one transaction: the first checks every row and keeps
        only keys and spans; the second reads the rows again and writes them in batches. Any
        problem in either pass raises ImportFailed, and the transaction writes nothing."""
        actor = self._authorize(actor, Permission.IMPORT_DATA)
        problems = _Problems()
        problems.expect([source.name for source in sources])
        files = [
            csv_file
            for index, source in enumerate(sources)
            if (csv_file := open_csv(source, index, problems))
        ]
        summary = ImportSummary()
        now = self._now()
        with self._db.session() as session:
            check = _Check(session, problems, files, self._today(session), now)
            check.refs, _ = staff_refs(session)
            check.staff()
            check.patients()
            check.entries()
            check.months()
            check.staff_effects()
            if problems:
                problems.fail()
            reason = "imported from " + ", ".join(sorted({f.name for f in files}))
            if practice is not None and session.scalars(select(Practice.id)).first() is None:
                add_practice(session, now, actor, practice)
            write = _Write(session, actor, now, reason, summary, files, check.today, self._billing)
            write.staff(check.staff_in)
            write.patients()
            locks = Locks(LockTable.read(session), practice_zone(session), problems)
            write.entries(locks)
            write.months(locks)
            if problems:
                # Time or facts of a signed or closed month would change: nothing is written.
                problems.fail()
        return summary


# --- the writing pass -----------------------------------------------------------------------


@dataclass
class _Write:
    """Reads the checked rows again and writes them a batch at a time; after each batch the
    session lets go of its objects, so memory stays flat however long the files are."""

    session: Session
    actor: Actor
    now: dt.datetime
    reason: str
    summary: ImportSummary
    files: list[_CsvFile]
    today: dt.date
    billing: BillingService

    def rows(self, kind: str) -> Iterator[tuple[_CsvFile, list[Row]]]:
        for csv_file in self.files:
            if csv_file.kind == kind:
                for batch in _batches(csv_file.rows(None)):
                    yield csv_file, batch

    def release(self) -> None:
        """Write what is pending and forget the batch's objects (the transaction goes on)."""
        self.session.flush()
        self.session.expunge_all()

    def record(
        self,
        action: str,
        entity: str,
        entity_key: str,
        before: dict[str, Any] | None,
        after: dict[str, Any],
        patient_id: int | None = None,
    ) -> None:
        audit.record(
            self.session,
            at=self.now,
            actor=self.actor,
            action=action,
            entity=entity,
            entity_key=entity_key,
            patient_id=patient_id,
            before=before,
            after=after,
            reason=self.reason,
        )

    def staff(self, staff_in: dict[str, tuple[Row, StaffRecord]]) -> None:
        counts = self.summary.counts[STAFF]
        session = self.session
        existing = {s.staff_id: s for s in session.scalars(select(Staff))}
        for staff_id, (_, record) in staff_in.items():
            staff = existing.get(staff_id)
            before = staff_record(staff) if staff else None
            if before is not None:
                # The file has no "active" column: importing never reactivates or retires anyone.
                record = dataclasses.replace(record, active=before.active)
            if before == record:
                counts.unchanged += 1
                continue
            if staff is None:
                staff = Staff()
                session.add(staff)
                counts.created += 1
            else:
                counts.updated += 1
            apply_staff(staff, record)
            self.record(
                action="staff.update" if before else "staff.create",
                entity="staff",
                entity_key=staff_id,
                before=dataclasses.asdict(before) if before else None,
                after=dataclasses.asdict(record),
            )
        self.release()

    def patients(self) -> None:
        counts = self.summary.counts[PATIENTS]
        session = self.session
        _, ids = staff_refs(session)
        keys = {sid: key for key, sid in ids.items()}
        for csv_file, batch in self.rows(PATIENTS):
            records: dict[str, PatientRecord] = {}
            for row in batch:
                record, errors = patient_from_text(row.values, self.today)
                if errors:
                    csv_file.changed()
                records[record.mrn] = record
            existing = {
                p.mrn: p
                for p in session.scalars(
                    select(Patient)
                    .where(Patient.mrn.in_(list(records)))
                    .options(selectinload(Patient.conditions), selectinload(Patient.enrollment))
                )
            }
            pending: list[tuple[Patient | None, PatientRecord, dict[str, Any] | None]] = []
            for mrn, record in records.items():
                patient = existing.get(mrn)
                before = audit_form(patient_record(patient, keys)) if patient else None
                if before == audit_form(record):
                    counts.unchanged += 1
                    continue
                pending.append((patient, record, before))
            # A change reaching a closed or signed month's bill flags that month, as it does
            # when typed (docs/integrity.md, "Billed months stay billed").
            whys = {p.id: change_reason(before, audit_form(r)) for p, r, before in pending if p}
            kept = billed_months_kept(
                session, self.billing, list(whys), flag_why=whys.__getitem__, actor=self.actor,
                now=self.now.replace(microsecond=0),
            )  # fmt: skip
            changes: list[tuple[Patient, dict[str, Any] | None, dict[str, Any]]] = []
            with kept:
                for found, record, before in pending:
                    patient = found
                    if patient is None:
                        patient = Patient()
                        session.add(patient)
                        counts.created += 1
                    else:
                        counts.updated += 1
                    apply_patient(patient, record, ids)
                    changes.append((patient, before, audit_form(record)))
            # One flush for the batch (not one per row): the audit events need the new ids.
            session.flush()
            for patient, before, after in changes:
                self.record(
                    action="patient.update" if before else "patient.create",
                    entity="patient",
                    entity_key=patient.mrn,
                    patient_id=patient.id,
                    before=before,
                    after=after,
                )
            self.release()

    def entries(self, locks: Locks) -> None:
        counts = self.summary.counts[TIME_ENTRIES]
        session = self.session
        staff_ids = dict(session.execute(select(Staff.staff_id, Staff.id)).all())
        for csv_file, batch in self.rows(TIME_ENTRIES):
            items: list[tuple[Row, _EntryIn]] = []
            for row in batch:
                entry_in = _read_entry(row, self.now, csv_file.unexpected)
                assert entry_in is not None  # changed() raised otherwise
                items.append((row, entry_in))
            patient_ids = dict(
                session.execute(
                    select(Patient.mrn, Patient.id).where(
                        Patient.mrn.in_(sorted({item.mrn for _, item in items}))
                    )
                ).all()
            )
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
                entry = matches.get((patient_id, staff_id, item.start, item.end))
                if entry is not None:
                    before = {name: getattr(entry, name) for name in fields}
                    if before == fields:
                        counts.unchanged += 1
                        continue
                locks.check(row, "start", patient_id, locks.months_of(item.start, item.end))
                if entry is not None:
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
                        created_at=self.now,
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
                self.record(
                    action=action,
                    entity="time_entry",
                    entity_key=str(entry.id),
                    patient_id=entry.patient_id,
                    before=before_doc,
                    after=after,
                )
            self.release()

    def months(self, locks: Locks) -> None:
        counts = self.summary.counts[PATIENT_MONTHS]
        session = self.session
        for csv_file, batch in self.rows(PATIENT_MONTHS):
            items: list[tuple[Row, _MonthIn]] = []
            for row in batch:
                item = _read_month(row, csv_file.unexpected)
                assert item is not None  # changed() raised otherwise
                items.append((row, item))
            patient_ids = dict(
                session.execute(
                    select(Patient.mrn, Patient.id).where(
                        Patient.mrn.in_(sorted({item.mrn for _, item in items}))
                    )
                ).all()
            )
            stored = {
                (row.patient_id, row.month): row
                for row in session.scalars(
                    select(PatientMonth)
                    .where(
                        PatientMonth.patient_id.in_(sorted(set(patient_ids.values()))),
                        PatientMonth.month.in_(sorted({item.month for _, item in items})),
                    )
                    .options(selectinload(PatientMonth.inpatient_stays))
                )
            }
            for source_row, item in items:
                patient_id = patient_ids[item.mrn]
                month_row = stored.get((patient_id, item.month))
                facts = MonthFactsRecord(
                    item.complexity, item.other_services, item.billed_elsewhere, item.inpatient
                )
                after = month_document(facts)
                before = None
                if month_row is not None:
                    before = month_document(month_record(month_row))
                    if before == after:
                        counts.unchanged += 1
                        continue
                # A stay reaching into another month changes that month's minutes too.
                old_stays = (
                    set(month_record(month_row).inpatient_stays) if month_row is not None else set()
                )
                months = {item.month, *stay_months(old_stays ^ set(facts.inpatient_stays))}
                locks.check(source_row, "month", patient_id, months, "its facts")
                if month_row is not None:
                    counts.updated += 1
                else:
                    month_row = PatientMonth(patient_id=patient_id, month=item.month)
                    session.add(month_row)
                    counts.created += 1
                write_month_facts(session, month_row, facts)
                self.record(
                    action="month.update" if before else "month.create",
                    entity="patient_month",
                    entity_key=f"{item.mrn} {item.month}",
                    patient_id=patient_id,
                    before=before,
                    after=after,
                )
            self.release()
