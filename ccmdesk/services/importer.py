"""CSV import of staff, patients, time entries and patient months: all or nothing."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ccmdesk.models import (
    Patient,
    PatientMonth,
    Practice,
    Staff,
    TimeEntry,
    TimeSegment,
)
from ccmdesk.rules.intervals import month_days, split_by_month
from ccmdesk.rules.records import (
    PATIENT_COLUMNS,
    STAFF_COLUMNS,
    PatientRecord,
    PracticeRecord,
    StaffRecord,
)
from ccmdesk.rules.validation import (
    ACTIVITY_LIMIT,
    COMPLEXITY,
    SERVICES,
    ParseError,
    parse_bool,
    parse_date,
    parse_instant,
    parse_list,
    parse_month,
    patient_from_text,
    staff_from_text,
    text_error,
)
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, practice_zone
from ccmdesk.services.billing import (
    MonthFactsRecord,
    month_document,
    month_record,
    stay_months,
    write_month_facts,
)
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import ImportFailed
from ccmdesk.services.locks import LockTable
from ccmdesk.services.patients import (
    StaffRef,
    apply_patient,
    audit_form,
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


@dataclass(frozen=True)
class Row:
    file: str
    line: int
    values: dict[str, str]


@dataclass
class ParsedFile:
    name: str
    kind: str
    rows: list[Row]


class _Problems:
    """Problems as found; listed file by file (in the order given) and line by line."""

    def __init__(self) -> None:
        self._found: list[tuple[str, int, str, str]] = []
        self._files: dict[str, int] = {}
        self._missing: dict[str, set[str]] = {}

    def add(self, file: str, line: int, column: str, message: str) -> None:
        if message == "is required" and column in self._missing.get(file, ()):
            return  # said once at the header, not again on every row
        self._files.setdefault(file, len(self._files))
        self._found.append((file, line, column, message))

    def missing_column(self, file: str, column: str, kind: str) -> None:
        self.add(file, 1, column, f"required column is missing from this {kind} file")
        self._missing.setdefault(file, set()).add(column)

    def expect(self, files: Sequence[str]) -> None:
        for file in files:
            self._files.setdefault(file, len(self._files))

    @property
    def items(self) -> list[str]:
        ordered = sorted(self._found, key=lambda p: (self._files[p[0]], p[1]))
        return [f"{file}:{line}: {column}: {message}" for file, line, column, message in ordered]


def read_csv(name: str, data: bytes, problems: _Problems) -> ParsedFile | None:
    """Parse one file and decide its kind from its header; report what is wrong with it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(name, 1, "(file)", f"is not UTF-8 text (byte {exc.start})")
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
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
    rows: list[Row] = []
    start = 2
    try:
        for record in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(columns):
                problems.add(
                    name, line, "(row)", f"has {len(record)} fields; the header has {len(columns)}"
                )
                continue
            rows.append(Row(name, line, dict(zip(columns, record, strict=True))))
    except csv.Error as exc:
        problems.add(name, start, "(row)", f"cannot be read as CSV: {exc}")
    return ParsedFile(name, kind, rows)


@dataclass(frozen=True)
class _EntryIn:
    row: Row
    mrn: str
    staff_id: str
    start: dt.datetime
    end: dt.datetime
    service: str
    face_to_face: bool
    activity: str
    note: str

    @property
    def key(self) -> tuple[str, str, dt.datetime, dt.datetime]:
        return (self.mrn, self.staff_id, self.start, self.end)


@dataclass(frozen=True)
class _MonthIn:
    row: Row
    mrn: str
    month: str
    complexity: str
    other_services: tuple[str, ...]
    billed_elsewhere: bool
    inpatient: tuple[tuple[dt.date, dt.date], ...]


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


def _fmt_span(start: dt.datetime, end: dt.datetime) -> str:
    return f"{start.isoformat()} to {end.isoformat()}"


class ImportService(ServiceBase):
    """Bring a practice's spreadsheets in, in one transaction."""

    def import_paths(self, actor: Actor, paths: Sequence[Path]) -> ImportSummary:
        problems = _Problems()
        files: list[tuple[str, bytes]] = []
        for path in paths:
            try:
                files.append((str(path), Path(path).read_bytes()))
            except OSError as exc:
                problems.add(str(path), 1, "(file)", f"cannot be read: {exc.strerror or exc}")
        if problems.items:
            raise ImportFailed(problems.items)
        return self.import_data(actor, files)

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
        actor = self._authorize(actor, Permission.IMPORT_DATA)
        problems = _Problems()
        problems.expect([name for name, _ in files])
        parsed = [p for name, data in files if (p := read_csv(name, data, problems))]
        by_kind: dict[str, list[Row]] = {kind: [] for kind in ORDER}
        for parsed_file in parsed:
            by_kind[parsed_file.kind].extend(parsed_file.rows)
        summary = ImportSummary()
        with self._db.session() as session:
            today = self._today(session)
            refs, _ = staff_refs(session)
            staff_in = self._check_staff(by_kind[STAFF], refs, problems)
            patients_in = self._check_patients(session, by_kind[PATIENTS], refs, today, problems)
            # MRNs of the file's rows count as known even when a row is wrong: its own error is
            # the one to report, not one more for each of that patient's entries.
            known_mrns = set(session.scalars(select(Patient.mrn))) | {
                mrn for row in by_kind[PATIENTS] if (mrn := row.values.get("mrn", "").strip())
            }
            entries_in = self._check_entries(
                session, by_kind[TIME_ENTRIES], refs, known_mrns, problems
            )
            months_in = self._check_months(by_kind[PATIENT_MONTHS], known_mrns, problems)
            self._check_staff_effects(session, staff_in, patients_in, problems)
            if problems.items:
                raise ImportFailed(problems.items)
            reason = "imported from " + ", ".join(sorted({p.name for p in parsed}))
            if practice is not None and session.scalars(select(Practice.id)).first() is None:
                add_practice(session, self._now(), actor, practice)
            self._write_staff(session, actor, staff_in, reason, summary)
            self._write_patients(session, actor, patients_in, reason, summary)
            locks = Locks(LockTable.read(session), practice_zone(session), problems)
            self._write_entries(session, actor, entries_in, reason, summary, locks)
            self._write_months(session, actor, months_in, reason, summary, locks)
            if problems.items:
                # Time or facts of a signed or closed month would change: nothing is written.
                raise ImportFailed(problems.items)
        return summary

    # --- checks ------------------------------------------------------------------------------

    @staticmethod
    def _duplicate(
        seen: dict[object, Row], key: object, row: Row, column: str, label: str, p: _Problems
    ) -> bool:
        first = seen.get(key)
        if first is not None and first.file == row.file:
            p.add(
                row.file,
                row.line,
                column,
                f"{label} appears twice in this file (first on line {first.line})",
            )
            return True
        if first is not None:
            p.add(row.file, row.line, column, f"{label} is also in {first.file} line {first.line}")
            return True
        seen[key] = row
        return False

    def _check_staff(
        self, rows: list[Row], refs: dict[str, StaffRef], p: _Problems
    ) -> dict[str, tuple[Row, StaffRecord]]:
        out: dict[str, tuple[Row, StaffRecord]] = {}
        seen: dict[object, Row] = {}
        for row in rows:
            record, errors = staff_from_text(row.values)
            for error in errors:
                p.add(row.file, row.line, error.field, error.message)
            if record.staff_id and self._duplicate(
                seen, record.staff_id, row, "staff_id", f"'{record.staff_id}'", p
            ):
                continue
            if record.staff_id:
                # Known even when the row is wrong, so rows naming it don't pile up more errors.
                refs[record.staff_id] = StaffRef(
                    record.name, record.role, record.npi, True, checked=not errors
                )
            if not errors:
                out[record.staff_id] = (row, record)
        return out

    @staticmethod
    def _check_staff_effects(
        session: Session,
        staff_in: dict[str, tuple[Row, StaffRecord]],
        patients_in: dict[str, PatientRecord],
        p: _Problems,
    ) -> None:
        """Judge staff changes by the state after the whole import, not row by row.

        Demoting an administrator is fine when the same files add another; changing a nurse's
        role is not when patients (on file or in these files) still name her care manager.
        """
        stored = {s.staff_id: s for s in session.scalars(select(Staff))}
        final = {key: (s.role, s.active) for key, s in stored.items()}
        for key, (_, record) in staff_in.items():
            final[key] = (record.role, stored[key].active if key in stored else True)
        had_admin = any(s.role == "admin" and s.active for s in stored.values())
        if had_admin and not any(role == "admin" and active for role, active in final.values()):
            for key, (row, record) in staff_in.items():
                if key in stored and stored[key].role == "admin" and record.role != "admin":
                    p.add(row.file, row.line, "role", "these files would leave no active "
                          "administrator; keep one")  # fmt: skip
        refs = {
            mrn: (names["billing_practitioner"], names["care_manager"])
            for mrn, names in stored_staff_references(session).items()
        }
        for mrn, patient in patients_in.items():
            refs[mrn] = (patient.billing_practitioner, patient.care_manager)
        for key, (row, record) in staff_in.items():
            if key not in stored:
                continue
            final_record = dataclasses.replace(record, active=stored[key].active)
            for error in stranded_patient_errors(
                record.name,
                final_record,
                sum(1 for b, _ in refs.values() if b == key),
                sum(1 for _, m in refs.values() if m == key),
            ):
                p.add(row.file, row.line, error.field, error.message)

    def _check_patients(
        self,
        session: Session,
        rows: list[Row],
        refs: dict[str, StaffRef],
        today: dt.date,
        p: _Problems,
    ) -> dict[str, PatientRecord]:
        out: dict[str, PatientRecord] = {}
        seen: dict[object, Row] = {}
        previous = stored_staff_references(session) if rows else {}
        for row in rows:
            record, errors = patient_from_text(row.values, today)
            errors += reference_errors(record, refs, previous.get(record.mrn))
            for error in errors:
                p.add(row.file, row.line, error.field, error.message)
            if record.mrn and self._duplicate(seen, record.mrn, row, "mrn", f"'{record.mrn}'", p):
                continue
            if not errors:
                out[record.mrn] = record
        return out

    def _check_entries(
        self,
        session: Session,
        rows: list[Row],
        refs: dict[str, StaffRef],
        known_mrns: set[str],
        p: _Problems,
    ) -> list[_EntryIn]:
        now = self._now()
        entries: list[_EntryIn] = []
        seen: dict[object, Row] = {}
        for row in rows:
            v = row.values
            ok = True
            mrn, staff_id = v.get("mrn", "").strip(), v.get("staff_id", "").strip()
            if not mrn:
                p.add(row.file, row.line, "mrn", "is required")
                ok = False
            elif mrn not in known_mrns:
                p.add(row.file, row.line, "mrn", f"no patient has MRN '{mrn}'")
                ok = False
            if not staff_id:
                p.add(row.file, row.line, "staff_id", "is required")
                ok = False
            elif staff_id not in refs:
                p.add(row.file, row.line, "staff_id", f"no staff member has staff_id '{staff_id}'")
                ok = False
            instants: dict[str, dt.datetime] = {}
            for column in ("start", "end"):
                try:
                    instants[column] = parse_instant(v.get(column, ""))
                except ParseError as exc:
                    p.add(row.file, row.line, column, str(exc))
                    ok = False
            if "start" in instants and "end" in instants:
                if instants["end"] <= instants["start"]:
                    p.add(row.file, row.line, "end", "is not after start")
                    ok = False
                elif instants["end"] > now:
                    p.add(row.file, row.line, "end", "is in the future")
                    ok = False
            service = v.get("service", "").strip().lower() or "ccm"
            if service not in SERVICES:
                p.add(
                    row.file,
                    row.line,
                    "service",
                    f"'{service}' is not one of {', '.join(SERVICES)}",
                )
                ok = False
            try:
                face_to_face = parse_bool(v.get("face_to_face", ""))
            except ParseError as exc:
                p.add(row.file, row.line, "face_to_face", str(exc))
                ok = False
            activity, note = v.get("activity", "").strip(), v.get("note", "").strip()
            for column, value, limit in (
                ("activity", activity, ACTIVITY_LIMIT),
                ("note", note, None),
            ):
                if message := text_error(value, limit, multiline=column == "note"):
                    p.add(row.file, row.line, column, message)
                    ok = False
            if not ok:
                continue
            entry = _EntryIn(
                row,
                mrn,
                staff_id,
                instants["start"],
                instants["end"],
                service,
                face_to_face,
                activity,
                note,
            )
            if self._duplicate(seen, entry.key, row, "start", "this entry", p):
                continue
            entries.append(entry)
        self._check_overlaps(session, entries, p)
        return entries

    @staticmethod
    def _check_overlaps(session: Session, entries: list[_EntryIn], p: _Problems) -> None:
        """One staff member cannot be in two places: segments may touch but not overlap."""
        if not entries:
            return
        staff_ids = {e.staff_id for e in entries}
        lo = min(e.start for e in entries)
        hi = max(e.end for e in entries)
        existing: dict[str, list[tuple[dt.datetime, dt.datetime, str, tuple[object, ...]]]] = {}
        query = (
            select(Staff.staff_id, Patient.mrn, TimeSegment.started_at, TimeSegment.ended_at)
            .join(TimeEntry, TimeSegment.entry_id == TimeEntry.id)
            .join(Staff, TimeEntry.staff_id == Staff.id)
            .join(Patient, TimeEntry.patient_id == Patient.id)
            .where(
                Staff.staff_id.in_(staff_ids),
                TimeEntry.deleted_at.is_(None),
                TimeSegment.started_at < hi,
                TimeSegment.ended_at.is_(None) | (TimeSegment.ended_at > lo),
            )
        )
        stored_keys: set[tuple[str, str, dt.datetime, dt.datetime]] = set()
        for staff_id, mrn, started, ended in session.execute(query):
            end = ended or dt.datetime.max.replace(tzinfo=dt.UTC)
            label = (
                f"the recorded entry for MRN {mrn}, {_fmt_span(started, end)}"
                if ended is not None
                else f"the stopwatch for MRN {mrn} running since {started.isoformat()}"
            )
            existing.setdefault(staff_id, []).append((started, end, label, (mrn, staff_id)))
            stored_keys.add((mrn, staff_id, started, end))
        by_staff: dict[str, list[tuple[dt.datetime, dt.datetime, str, _EntryIn | None]]] = {}
        for staff_id, spans in existing.items():
            by_staff[staff_id] = [(s, e, label, None) for s, e, label, _ in spans]
        for entry in entries:
            if entry.key in stored_keys:
                continue  # the same entry again: matched, not overlapping
            label = (
                f"MRN {entry.mrn}, {_fmt_span(entry.start, entry.end)} ({entry.row.file} "
                f"line {entry.row.line})"
            )
            by_staff.setdefault(entry.staff_id, []).append((entry.start, entry.end, label, entry))
        for staff_id, spans in by_staff.items():
            spans.sort(key=lambda s: (s[0], s[1]))
            latest: tuple[dt.datetime, dt.datetime, str, _EntryIn | None] | None = None
            for span in spans:
                if latest is not None and span[0] < latest[1]:
                    # Report on the row being imported; if both are imported, on the later one.
                    target = span[3] or latest[3]
                    other = latest[2] if span[3] is not None else span[2]
                    if target is not None:
                        p.add(
                            target.row.file,
                            target.row.line,
                            "start",
                            f"overlaps another entry of {staff_id}: {other}",
                        )
                if latest is None or span[1] > latest[1]:
                    latest = span

    def _check_months(self, rows: list[Row], known_mrns: set[str], p: _Problems) -> list[_MonthIn]:
        out: list[_MonthIn] = []
        seen: dict[object, Row] = {}
        for row in rows:
            v = row.values
            ok = True
            mrn = v.get("mrn", "").strip()
            if not mrn:
                p.add(row.file, row.line, "mrn", "is required")
                ok = False
            elif mrn not in known_mrns:
                p.add(row.file, row.line, "mrn", f"no patient has MRN '{mrn}'")
                ok = False
            month = ""
            try:
                month = parse_month(v.get("month", ""))
            except ParseError as exc:
                p.add(row.file, row.line, "month", str(exc))
                ok = False
            complexity = v.get("complexity", "").strip().lower() or "none"
            if complexity not in COMPLEXITY:
                p.add(
                    row.file,
                    row.line,
                    "complexity",
                    f"'{complexity}' is not none, moderate or high",
                )
                ok = False
            others = tuple(code.upper() for code in parse_list(v.get("other_services", "")))
            for code in others:
                if not _PROCEDURE_CODE.fullmatch(code):
                    p.add(
                        row.file,
                        row.line,
                        "other_services",
                        f"'{code}' is not a CPT or HCPCS code (5 letters or digits)",
                    )
                    ok = False
            try:
                billed_elsewhere = parse_bool(v.get("billed_elsewhere", ""))
            except ParseError as exc:
                p.add(row.file, row.line, "billed_elsewhere", str(exc))
                ok = False
                billed_elsewhere = False
            stays: list[tuple[dt.date, dt.date]] = []
            for item in parse_list(v.get("inpatient", "")):
                stay = self._parse_stay(item, month, row, p)
                if stay is None:
                    ok = False
                else:
                    stays.append(stay)
            if not ok:
                continue
            if self._duplicate(seen, (mrn, month), row, "month", f"{mrn} {month}", p):
                continue
            out.append(
                _MonthIn(row, mrn, month, complexity, others, billed_elsewhere, tuple(stays))
            )
        return out

    @staticmethod
    def _parse_stay(
        item: str, month: str, row: Row, p: _Problems
    ) -> tuple[dt.date, dt.date] | None:
        parts = item.split("..")
        try:
            if len(parts) != 2:
                raise ParseError(f"'{item}' is not a stay; use YYYY-MM-DD..YYYY-MM-DD")
            admitted, discharged = parse_date(parts[0]), parse_date(parts[1])
            if admitted is None or discharged is None:
                raise ParseError(f"'{item}' needs both dates: YYYY-MM-DD..YYYY-MM-DD")
        except ParseError as exc:
            p.add(row.file, row.line, "inpatient", str(exc))
            return None
        if discharged < admitted:
            p.add(row.file, row.line, "inpatient", f"'{item}' ends before it starts")
            return None
        if month:
            first, last = month_days(month)
            if discharged < first or admitted > last:
                p.add(row.file, row.line, "inpatient", f"'{item}' is not in {month}")
                return None
        return admitted, discharged

    # --- writes ------------------------------------------------------------------------------

    def _write_staff(
        self,
        session: Session,
        actor: Actor,
        staff_in: dict[str, tuple[Row, StaffRecord]],
        reason: str,
        summary: ImportSummary,
    ) -> None:
        counts = summary.counts[STAFF]
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
            audit.record(
                session,
                at=self._now(),
                actor=actor,
                action="staff.update" if before else "staff.create",
                entity="staff",
                entity_key=staff_id,
                before=dataclasses.asdict(before) if before else None,
                after=dataclasses.asdict(record),
                reason=reason,
            )
        session.flush()

    def _write_patients(
        self,
        session: Session,
        actor: Actor,
        patients_in: dict[str, PatientRecord],
        reason: str,
        summary: ImportSummary,
    ) -> None:
        counts = summary.counts[PATIENTS]
        if not patients_in:
            return
        _, ids = staff_refs(session)
        keys = {sid: key for key, sid in ids.items()}
        existing = {
            p.mrn: p
            for p in session.scalars(
                select(Patient)
                .where(Patient.mrn.in_(list(patients_in)))
                .options(selectinload(Patient.conditions), selectinload(Patient.enrollment))
            )
        }
        changes: list[tuple[Patient, dict[str, object] | None, dict[str, object]]] = []
        for mrn, record in patients_in.items():
            patient = existing.get(mrn)
            before = audit_form(patient_record(patient, keys)) if patient else None
            after = audit_form(record)
            if before == after:
                counts.unchanged += 1
                continue
            if patient is None:
                patient = Patient()
                session.add(patient)
                counts.created += 1
            else:
                counts.updated += 1
            apply_patient(patient, record, ids)
            changes.append((patient, before, after))
        # One flush for all rows (not one per row): the audit events need the new ids.
        session.flush()
        for patient, before, after in changes:
            audit.record(
                session,
                at=self._now(),
                actor=actor,
                action="patient.update" if before else "patient.create",
                entity="patient",
                entity_key=patient.mrn,
                patient_id=patient.id,
                before=before,
                after=after,
                reason=reason,
            )

    def _write_entries(
        self,
        session: Session,
        actor: Actor,
        entries: list[_EntryIn],
        reason: str,
        summary: ImportSummary,
        locks: Locks,
    ) -> None:
        counts = summary.counts[TIME_ENTRIES]
        if not entries:
            return
        patient_ids = dict(session.execute(select(Patient.mrn, Patient.id)).all())
        staff_ids = dict(session.execute(select(Staff.staff_id, Staff.id)).all())
        # Existing single-segment entries of the same people are matched by their key.
        lo = min(e.start for e in entries)
        hi = max(e.end for e in entries)
        matches: dict[tuple[int, int, dt.datetime, dt.datetime], TimeEntry] = {}
        for entry, segment in session.execute(
            select(TimeEntry, TimeSegment)
            .join(TimeSegment, TimeSegment.entry_id == TimeEntry.id)
            .where(
                TimeEntry.deleted_at.is_(None),
                TimeEntry.staff_id.in_({staff_ids[e.staff_id] for e in entries}),
                TimeSegment.started_at >= lo,
                TimeSegment.started_at <= hi,
            )
        ):
            if segment.ended_at is not None:
                key = (entry.patient_id, entry.staff_id, segment.started_at, segment.ended_at)
                matches[key] = entry
        now = self._now()
        changes: list[tuple[TimeEntry, str, dict[str, object] | None, dict[str, object]]] = []
        for item in entries:
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
            locks.check(item.row, "start", patient_id, locks.months_of(item.start, item.end))
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
                    created_at=now,
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
            audit.record(
                session,
                at=now,
                actor=actor,
                action=action,
                entity="time_entry",
                entity_key=str(entry.id),
                patient_id=entry.patient_id,
                before=before_doc,
                after=after,
                reason=reason,
            )

    def _write_months(
        self,
        session: Session,
        actor: Actor,
        months: list[_MonthIn],
        reason: str,
        summary: ImportSummary,
        locks: Locks,
    ) -> None:
        counts = summary.counts[PATIENT_MONTHS]
        if not months:
            return
        patient_ids = dict(session.execute(select(Patient.mrn, Patient.id)).all())
        for item in months:
            patient_id = patient_ids[item.mrn]
            row = session.scalars(
                select(PatientMonth)
                .where(PatientMonth.patient_id == patient_id, PatientMonth.month == item.month)
                .options(selectinload(PatientMonth.inpatient_stays))
            ).first()
            facts = MonthFactsRecord(
                item.complexity, item.other_services, item.billed_elsewhere, item.inpatient
            )
            after = month_document(facts)
            before = None
            if row is not None:
                before = month_document(month_record(row))
                if before == after:
                    counts.unchanged += 1
                    continue
            # A stay reaching into another month changes that month's minutes too.
            old_stays = set(month_record(row).inpatient_stays) if row is not None else set()
            months = {item.month, *stay_months(old_stays ^ set(facts.inpatient_stays))}
            locks.check(item.row, "month", patient_id, months, "its facts")
            if row is not None:
                counts.updated += 1
            else:
                row = PatientMonth(patient_id=patient_id, month=item.month)
                session.add(row)
                counts.created += 1
            write_month_facts(session, row, facts)
            audit.record(
                session,
                at=self._now(),
                actor=actor,
                action="month.update" if before else "month.create",
                entity="patient_month",
                entity_key=f"{item.mrn} {item.month}",
                patient_id=patient_id,
                before=before,
                after=after,
                reason=reason,
            )
