"""Month-end billing: evaluate a patient-month or a whole month, set month facts, pick a family."""

from __future__ import annotations

import datetime as dt
import gc
import json
import sqlite3
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Row, and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.functions import FunctionElement

from ccmdesk.models import (
    Enrollment,
    FeeScheduleAmount,
    InpatientStay,
    MonthlyReview,
    Patient,
    PatientCondition,
    PatientMonth,
    Practice,
    Staff,
    TimeEntry,
    TimeSegment,
)
from ccmdesk.rules.billing import (
    COUNTING_ROLES,
    COUNTING_SERVICES,
    NON_CLINICAL,
    OTHER_SERVICE,
    Columns,
    Month,
    MonthFacts,
    MonthResult,
    PatientFacts,
    Prepared,
    evaluate_prepared,
    prepare,
)
from ccmdesk.rules.catalog import FAMILIES
from ccmdesk.rules.intervals import month_days, month_of
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import OTHER_SERVICES_LIMIT
from ccmdesk.services import audit
from ccmdesk.services.base import (
    ServiceBase,
    checked_month,
    checked_reason,
    patient_by_mrn,
    practice_zone,
)
from ccmdesk.services.context import SYSTEM_ROLE, Actor, Permission, require
from ccmdesk.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from ccmdesk.services.locks import refuse_locked
from ccmdesk.services.time.recovery import STALE_AFTER_SECONDS

COMPLEXITY = ("none", "moderate", "high")


class _Epoch(FunctionElement[int]):
    """Whole UTC epoch seconds of a stored instant, computed by the database: a month of
    300,000 segments is fetched as integers instead of being parsed into datetimes."""

    type = Integer()
    inherit_cache = True


@compiles(_Epoch, "sqlite")
def _epoch_sqlite(element: _Epoch, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    if sqlite3.sqlite_version_info >= (3, 38):
        return f"unixepoch({column})"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


@compiles(_Epoch, "postgresql")
def _epoch_postgresql(element: _Epoch, compiler: Any, **kw: Any) -> str:
    # Stored naive UTC (see UTCDateTime): read it as UTC, not as the server's zone.
    column = compiler.process(element.clauses, **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column} AT TIME ZONE 'UTC')) AS BIGINT)"


class _Joined(FunctionElement[Any]):
    """A group's integers as one JSON array. Every `_Joined` of one query lists its group's
    rows in the same order (one pass on SQLite; the rows' ids on PostgreSQL), so several of
    them read as columns of the same segments."""

    inherit_cache = True


@compiles(_Joined, "sqlite")
def _joined_sqlite(element: _Joined, compiler: Any, **kw: Any) -> str:
    # No CAST or concatenation per row: the aggregate writes the integers itself, and the
    # JSON decoder reads them back faster than splitting and int() (measured).
    value = compiler.process(element.clauses.clauses[0], **kw)
    if sqlite3.sqlite_version_info >= (3, 38):  # JSON functions built in
        return f"json_group_array({value})"
    return f"'[' || group_concat({value}) || ']'"


@compiles(_Joined, "postgresql")
def _joined_postgresql(element: _Joined, compiler: Any, **kw: Any) -> str:
    value, order = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"json_agg({value} ORDER BY {order})"


_read_json = json.JSONDecoder().raw_decode


def _numbers(value: str | list[int]) -> list[int]:
    """A `_Joined` value as a list (PostgreSQL's driver has decoded it already)."""
    return value if isinstance(value, list) else _read_json(value)[0]


_pause_lock = threading.Lock()
_pauses = 0  # evaluations running now (the GUI may run several on worker threads)
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """A month builds about a million small objects, none in a reference cycle; the cyclic
    garbage collector would rescan them again and again while they are made (0.2-0.6 s of a
    10,000-patient month, measured). The collector is process-wide, so overlapping
    evaluations share one pause and the last to finish restores it."""
    global _pauses, _was_enabled
    with _pause_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


@dataclass(frozen=True)
class BillingRow:
    """One patient's month on the billing panel."""

    mrn: str
    last_name: str
    first_name: str
    practitioner: str  # the billing practitioner's name, or ""
    practitioner_npi: str
    enrolled: bool
    active: bool
    result: MonthResult
    practitioner_key: str = ""  # the billing practitioner's staff_id, or ""

    @property
    def patient_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


@dataclass(frozen=True)
class BillingMonth:
    """A whole month: every enrolled or active patient, sorted by MRN."""

    month: str
    rows: list[BillingRow]

    @property
    def billable(self) -> int:
        return sum(1 for row in self.rows if row.result.billable)

    @property
    def amount_cents(self) -> int:
        return sum(row.result.amount_cents for row in self.rows)

    def amount_by_code(self) -> dict[str, int]:
        return amount_by_code(self.rows)


def amount_by_code(rows: Iterable[BillingRow]) -> dict[str, int]:
    """Cents per billed code over the rows, in code order (blocked months bill nothing)."""
    totals: Counter[str] = Counter()
    for row in rows:
        for line in row.result.lines:
            totals[line.code] += line.charge_cents
    return dict(sorted(totals.items()))


@dataclass(frozen=True)
class MonthFactsRecord:
    """The editable facts of one patient-month."""

    complexity: str = "none"
    other_services: tuple[str, ...] = ()
    billed_elsewhere: bool = False
    inpatient_stays: tuple[tuple[dt.date, dt.date], ...] = ()
    family_override: str | None = None


@dataclass(frozen=True)
class _Patient:
    id: int
    mrn: str
    last_name: str
    first_name: str
    practitioner: str
    npi: str
    facts: PatientFacts
    practitioner_key: str


# Per patient id: (complexity, other services, billed elsewhere, family override) on file for
# the month; and the inpatient stays (admitted, discharged) that reach into it.
_MonthFactsRows = dict[int, tuple[str, str, bool, str | None]]
_Stays = dict[int, tuple[tuple[dt.date, dt.date], ...]]


class BillingService(ServiceBase):
    """Evaluates months with a few set-based queries, never one query per patient."""

    def month(self, actor: Actor, month: str) -> BillingMonth:
        """Every enrolled or active patient's month, evaluated."""
        self._authorize(actor, Permission.VIEW_BILLING)
        month = checked_month(month)
        with collector_paused(), self._db.read() as session:
            rows = self.evaluate_in(session, month)
        return BillingMonth(month, rows)

    def patient_month(self, actor: Actor, mrn: str, month: str) -> BillingRow:
        """One patient's month, evaluated (whether or not it is enrolled or active)."""
        self._authorize(actor, Permission.VIEW_BILLING)
        month = checked_month(month)
        with self._db.read() as session:
            rows = self.evaluate_in(session, month, Patient.mrn == mrn, every=True)
        if not rows:
            raise NotFound(f"There is no patient with MRN '{mrn}'.")
        return rows[0]

    def month_facts(self, actor: Actor, mrn: str, month: str) -> MonthFactsRecord:
        self._authorize(actor, Permission.VIEW_PATIENTS)
        month = checked_month(month)
        with self._db.read() as session:
            patient = patient_by_mrn(session, mrn)
            return month_record(self._month_row(session, patient.id, month))

    def save_month_facts(
        self, actor: Actor, mrn: str, month: str, record: MonthFactsRecord, reason: str = ""
    ) -> BillingRow:
        """Store the month's facts. Complexity is the billing practitioner's attestation;
        the other facts are billing staff's. The audit trail keeps before and after."""
        actor = self._current(actor)
        month = checked_month(month)
        record = self._checked(record, month)
        reason = checked_reason(reason)
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            row = self._month_row(session, patient.id, month)
            before = month_record(row)
            after = MonthFactsRecord(
                record.complexity,
                record.other_services,
                record.billed_elsewhere,
                record.inpatient_stays,
                before.family_override,
            )
            if after == before:
                return self.patient_month(actor, mrn, month)
            if after.complexity != before.complexity:
                self._may_attest(session, actor, patient)
            others_changed = (
                set(after.other_services) != set(before.other_services)
                or after.billed_elsewhere != before.billed_elsewhere
                or after.inpatient_stays != before.inpatient_stays
            )
            if others_changed:
                require(actor, Permission.SET_MONTH_FACTS)
            # A stay reaching into another month changes that month's minutes too.
            changed = set(before.inpatient_stays) ^ set(after.inpatient_stays)
            self._refuse_locked(session, patient, {month, *stay_months(changed)})
            if row is None:
                row = PatientMonth(patient_id=patient.id, month=month)
                session.add(row)
            write_month_facts(session, row, after)
            audit.record(
                session,
                at=self._now(),
                actor=actor,
                action="month.update",
                entity="patient_month",
                entity_key=f"{mrn} {month}",
                patient_id=patient.id,
                before=month_document(before),
                after=month_document(after),
                reason=reason.strip(),
            )
        return self.patient_month(actor, mrn, month)

    def choose_family(
        self, actor: Actor, mrn: str, month: str, family: str | None, reason: str
    ) -> BillingRow:
        """Bill the month under another compliant family (None: the rules' own choice)."""
        actor = self._authorize(actor, Permission.CHOOSE_FAMILY)
        month = checked_month(month)
        if family is not None and family not in FAMILIES:
            raise ServiceError(f"'{family}' is not a code family.")
        if not reason.strip():
            raise ServiceError("Say why the family is switched; the audit trail keeps it.")
        reason = checked_reason(reason)
        current = self.patient_month(actor, mrn, month)
        if family is not None and family not in current.result.compliant:
            label = FAMILIES[family].label
            raise ServiceError(
                f"{label} does not fit this month's time and facts; the month qualifies for "
                + (", ".join(FAMILIES[f].label for f in current.result.compliant) or "nothing")
                + "."
            )
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            self._refuse_locked(session, patient, {month})
            row = self._month_row(session, patient.id, month)
            before = row.family_override if row is not None else None
            if before == family:
                return current
            if row is None:
                row = PatientMonth(patient_id=patient.id, month=month)
                session.add(row)
            row.family_override = family
            session.flush()
            audit.record(
                session,
                at=self._now(),
                actor=actor,
                action="month.family",
                entity="patient_month",
                entity_key=f"{mrn} {month}",
                patient_id=patient.id,
                before={"family": before},
                after={"family": family},
                reason=reason.strip(),
            )
        return self.patient_month(actor, mrn, month)

    def current_month(self) -> str:
        with self._db.read() as session:
            return month_of(self._now(), practice_zone(session))

    # --- checks ---------------------------------------------------------------------------------

    @staticmethod
    def _checked(record: MonthFactsRecord, month: str) -> MonthFactsRecord:
        errors: list[FieldError] = []
        if record.complexity not in COMPLEXITY:
            errors.append(FieldError("complexity", "must be none, moderate or high"))
        others = tuple(
            dict.fromkeys(c for code in record.other_services if (c := code.strip().upper()))
        )
        if len(others) > OTHER_SERVICES_LIMIT:
            errors.append(
                FieldError(
                    "other_services",
                    f"lists {len(others)} codes; at most {OTHER_SERVICES_LIMIT}",
                )
            )
        for code in others[:OTHER_SERVICES_LIMIT]:
            # isascii too: isalnum alone takes full-width letters and digits.
            if not (len(code) == 5 and code.isascii() and code.isalnum()):
                errors.append(FieldError("other_services", f"'{code}' is not a CPT or HCPCS code"))
        first, last = month_days(month)
        stays = tuple(sorted(set(record.inpatient_stays)))
        for admitted, discharged in stays:
            if discharged < admitted:
                errors.append(FieldError("inpatient", f"{admitted}..{discharged} ends first"))
            elif discharged < first or admitted > last:
                errors.append(
                    FieldError("inpatient", f"{admitted}..{discharged} is not in {month}")
                )
        if errors:
            raise ValidationFailed(errors)
        return MonthFactsRecord(record.complexity, others, record.billed_elsewhere, stays)

    def _may_attest(self, session: Session, actor: Actor, patient: Patient) -> None:
        """Complexity is medical decision making: only the patient's billing practitioner
        attests it (or the command line, importing)."""
        require(actor, Permission.ATTEST_COMPLEXITY)
        if actor.role == SYSTEM_ROLE:
            return
        bp = session.get(Staff, patient.billing_practitioner_id or -1)
        if bp is None or bp.staff_id != actor.key:
            raise PermissionDenied(
                f"Only the patient's billing practitioner attests complexity; {actor.name} is "
                "not this patient's billing practitioner."
            )

    @staticmethod
    def _refuse_locked(session: Session, patient: Patient, months: set[str]) -> None:
        refuse_locked(session, patient.id, months, "its facts")

    # --- reads ----------------------------------------------------------------------------------

    @staticmethod
    def _month_row(session: Session, patient_id: int, month: str) -> PatientMonth | None:
        return session.scalars(
            select(PatientMonth)
            .where(PatientMonth.patient_id == patient_id, PatientMonth.month == month)
            .options(selectinload(PatientMonth.inpatient_stays))
        ).first()

    def evaluate_in(
        self,
        session: Session,
        month: str,
        which: ColumnElement[bool] | None = None,
        *,
        every: bool = False,
    ) -> list[BillingRow]:
        """The month (YYYY-MM) of the patients `which` selects (all by default), in MRN order,
        inside the caller's transaction; only the enrolled or active ones unless `every`.
        For services that must act on exactly what they evaluated (signing)."""
        m, dos_rule = self._month_context(session, month)
        return self._evaluate(session, m, dos_rule, which, every)

    def _month_context(self, session: Session, month: str) -> tuple[Month, str]:
        zone = practice_zone(session)
        fees: dict[int, dict[str, int]] = defaultdict(dict)
        for year, code, cents in session.execute(
            select(FeeScheduleAmount.year, FeeScheduleAmount.code, FeeScheduleAmount.amount_cents)
        ):
            fees[year][code] = cents
        rule = session.scalars(select(Practice.date_of_service_rule).limit(1)).first()
        return Month.of(month, zone, fees), rule or "last_day"

    @staticmethod
    def _stays(session: Session, m: Month, patient_ids: Sequence[int] | None) -> _Stays:
        """Stays overlapping the month, whichever month's record they were entered on."""
        query = (
            select(PatientMonth.patient_id, InpatientStay.admitted_on, InpatientStay.discharged_on)
            .join(InpatientStay, InpatientStay.patient_month_id == PatientMonth.id)
            .where(
                InpatientStay.admitted_on <= m.last_day, InpatientStay.discharged_on >= m.first_day
            )
        )
        if patient_ids is not None:
            query = query.where(PatientMonth.patient_id.in_(patient_ids))
        stays: dict[int, set[tuple[dt.date, dt.date]]] = defaultdict(set)
        for patient_id, admitted, discharged in session.execute(query):
            stays[patient_id].add((admitted, discharged))
        return {pid: tuple(sorted(found)) for pid, found in stays.items()}

    def _evaluate(
        self,
        session: Session,
        m: Month,
        dos_rule: str,
        which: ColumnElement[bool] | None,
        every: bool,
    ) -> list[BillingRow]:
        now = int(self._now().timestamp())
        patient_rows, conditions = self._patient_rows(session, which)
        # A subset's ids narrow the other queries; the whole practice needs no list.
        ids = [row[0] for row in patient_rows] if which is not None else None
        months, stays, signed = self._month_rows(session, m, ids)
        # Preparing 10,000 patients (their facts, blocks and open families) is Python work,
        # and SQLite builds the month's segments with the interpreter lock released: a helper
        # thread does the one while this thread waits on the other, on the second core. The
        # helper touches no database.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="billing") as helper:
            preparing = helper.submit(
                _prepare, m, dos_rule, patient_rows, conditions, months, stays, signed
            )
            work = self._work(session, m, now, ids)
            prepared = preparing.result()
        rows: list[BillingRow] = []
        none = Columns([], [], [], [])
        for p, enrolled, patient_month in prepared:
            segments = work.get(p.id, none)
            active = bool(segments.starts)
            if not every and not enrolled and not active:
                continue
            rows.append(
                BillingRow(
                    p.mrn,
                    p.last_name,
                    p.first_name,
                    p.practitioner,
                    p.npi,
                    enrolled,
                    active,
                    evaluate_prepared(patient_month, segments),
                    p.practitioner_key,
                )
            )
        return rows

    def _month_rows(
        self, session: Session, m: Month, ids: Sequence[int] | None
    ) -> tuple[_MonthFactsRows, _Stays, set[int]]:
        """The month's facts, inpatient stays and signatures, per patient."""
        months = {
            pid: (complexity, others, elsewhere, override)
            for pid, complexity, others, elsewhere, override in session.execute(
                self._only(
                    select(
                        PatientMonth.patient_id,
                        PatientMonth.complexity,
                        PatientMonth.other_services,
                        PatientMonth.billed_elsewhere,
                        PatientMonth.family_override,
                    ).where(PatientMonth.month == m.month),
                    PatientMonth.patient_id,
                    ids,
                )
            )
        }
        stays = self._stays(session, m, ids)
        signed = set(
            session.scalars(
                self._only(
                    select(MonthlyReview.patient_id).where(
                        MonthlyReview.month == m.month, MonthlyReview.voided_at.is_(None)
                    ),
                    MonthlyReview.patient_id,
                    ids,
                )
            )
        )
        return months, stays, signed

    @staticmethod
    def _only(query: Any, column: Any, ids: Sequence[int] | None) -> Any:
        return query if ids is None else query.where(column.in_(ids))

    @staticmethod
    def _patient_rows(
        session: Session, which: ColumnElement[bool] | None
    ) -> tuple[Sequence[Row[Any]], dict[int, list[str]]]:
        """The patients' rows (with billing practitioner and enrollment) and conditions, of
        the patients `which` selects (all when None)."""
        conditions: dict[int, list[str]] = defaultdict(list)
        connection = session.connection()  # Core rows: the ORM's result layer is not needed
        condition_query = select(PatientCondition.patient_id, PatientCondition.code).order_by(
            PatientCondition.patient_id, PatientCondition.position
        )
        if which is not None:
            # One patient's summary reads one patient's conditions, not the practice's.
            condition_query = condition_query.join(
                Patient, Patient.id == PatientCondition.patient_id
            ).where(which)
        result = connection.execute(condition_query)
        # Plain ids and codes: the driver's tuples, fetched in one call.
        for pid, code in result.cursor.fetchall():
            conditions[pid].append(code)
        result.close()
        rows = connection.execute(
            select(
                Patient.id,
                Patient.mrn,
                Patient.last_name,
                Patient.first_name,
                Patient.qmb,
                Patient.billing_practitioner_id,
                Staff.name,
                Staff.role,
                Staff.npi,
                Staff.staff_id,
                Enrollment.consent_date,
                Enrollment.consent_practitioner_id,
                Enrollment.consent_revoked_date,
                Enrollment.initiating_visit_date,
                Enrollment.care_plan_date,
            )
            .outerjoin(Staff, Staff.id == Patient.billing_practitioner_id)
            .outerjoin(Enrollment, Enrollment.patient_id == Patient.id)
            .where(which if which is not None else Patient.id > 0)
            .order_by(Patient.mrn)
        ).all()
        return rows, conditions

    @staticmethod
    def _work(
        session: Session, m: Month, now: int, ids: Sequence[int] | None
    ) -> dict[int, Columns]:
        """Every segment touching the month, as epoch seconds in columns, per patient.

        The database gathers each patient's segments into four arrays of numbers (starts, ends,
        staff and kinds), so a month of 300,000 segments crosses into Python as 10,000 rows of
        JSON read in C, with no object per segment. Closed and running segments
        are two queries, since `ended_at IS NULL OR ended_at > ?` would keep SQLite from using
        an index; a running stopwatch counts up to now (a stale one to its last heartbeat).
        """
        lo = dt.datetime.fromtimestamp(m.start, dt.UTC)
        hi = dt.datetime.fromtimestamp(m.end, dt.UTC)
        # The rules' own classification (kind_of), written as SQL from the same sets. Staff
        # whose time never counts are few: a list of ids spares SQLite a join per row.
        not_counting = sorted(
            session.scalars(select(Staff.id).where(Staff.role.not_in(sorted(COUNTING_ROLES))))
        )
        kind = case((TimeEntry.staff_id.in_(not_counting), NON_CLINICAL), else_=0) + case(
            (
                and_(
                    TimeEntry.service.in_(sorted(COUNTING_SERVICES)),
                    TimeEntry.face_to_face.is_(False),
                ),
                0,
            ),
            else_=OTHER_SERVICE,
        )
        start, end = _Epoch(TimeSegment.started_at), _Epoch(TimeSegment.ended_at)
        closed = (
            select(
                TimeEntry.patient_id,
                *(
                    _Joined(column, TimeSegment.id)
                    for column in (start, end, TimeEntry.staff_id, kind)
                ),
            )
            .join(TimeSegment, TimeSegment.entry_id == TimeEntry.id)
            .where(
                TimeEntry.deleted_at.is_(None),
                TimeSegment.started_at < hi,
                TimeSegment.ended_at > lo,
            )
            .group_by(TimeEntry.patient_id)
        )
        running = (
            select(
                start,
                TimeEntry.staff_id,
                kind,
                TimeEntry.patient_id,
                _Epoch(func.coalesce(TimeEntry.last_heartbeat_at, TimeSegment.started_at)),
            )
            .join(TimeEntry, TimeSegment.entry_id == TimeEntry.id)
            .where(
                TimeEntry.deleted_at.is_(None),
                TimeSegment.started_at < hi,
                TimeSegment.ended_at.is_(None),
            )
        )
        if ids is not None:
            closed = closed.where(TimeEntry.patient_id.in_(ids))
            running = running.where(TimeEntry.patient_id.in_(ids))
        connection = session.connection()
        work: dict[int, Columns] = {}
        result = connection.execute(closed)
        for pid, starts, ends, staff, kinds in result.cursor.fetchall():
            numbers = _numbers(starts)
            work[pid] = Columns(
                numbers,
                _numbers(ends),
                _numbers(staff),
                # Nearly every segment's kind is 0 (counted): an array of zeros needs no reading.
                _numbers(kinds) if str(kinds).strip("[0, ]") else [0] * len(numbers),
            )
        result.close()
        for first, staff, kind_, pid, last_beat in connection.execute(running):
            # A stopwatch nobody watches any more (its ccmdesk ended without stopping it)
            # counts only up to its last heartbeat until its owner answers the recovery
            # question: the part no one can vouch for is never billed.
            until = now if now - last_beat <= STALE_AFTER_SECONDS else last_beat
            if until > max(first, m.start):
                columns = work.setdefault(pid, Columns([], [], [], []))
                columns.starts.append(first)
                columns.ends.append(until)
                columns.staff.append(staff)
                columns.kinds.append(kind_)
        return work


def _build_patients(rows: Sequence[Row[Any]], conditions: dict[int, list[str]]) -> list[_Patient]:
    """The rules' patient facts from the patients' rows: pure Python, no database."""
    out = []
    for (
        pid,
        mrn,
        last,
        first,
        qmb,
        bp,
        bp_name,
        bp_role,
        npi,
        bp_key,
        consent,
        consent_for,
        revoked,
        visit,
        care_plan,
    ) in rows:
        out.append(
            _Patient(
                pid,
                mrn,
                last,
                first,
                bp_name or "",
                npi or "",
                PatientFacts(
                    conditions=tuple(conditions.get(pid, ())),
                    billing_practitioner_id=bp,
                    billing_practitioner_name=bp_name or "",
                    billing_practitioner_ok=bp_role == "practitioner" and bool(npi),
                    consent_date=consent,
                    consent_practitioner_id=consent_for,
                    consent_revoked_date=revoked,
                    initiating_visit_date=visit,
                    care_plan_date=care_plan,
                    qmb=bool(qmb),
                ),
                bp_key or "",
            )
        )
    return out


def _prepare(
    m: Month,
    dos_rule: str,
    patient_rows: Sequence[Row[Any]],
    conditions: dict[int, list[str]],
    months: _MonthFactsRows,
    stays: _Stays,
    signed: set[int],
) -> list[tuple[_Patient, bool, Prepared]]:
    """Each patient, whether enrolled in the month, and its month prepared for the rules:
    pure Python, no database."""
    out = []
    # Most patients share the same month facts (none on file, unsigned): one object each.
    shared: dict[tuple[Any, ...], MonthFacts] = {}
    for p in _build_patients(patient_rows, conditions):
        facts = p.facts
        enrolled = (
            facts.consent_date is not None
            and facts.consent_date <= m.last_day
            and not (
                facts.consent_revoked_date is not None and facts.consent_revoked_date < m.first_day
            )
        )
        key = (*months.get(p.id, ("none", "", False, None)), stays.get(p.id, ()), p.id in signed)
        month_facts = shared.get(key)
        if month_facts is None:
            complexity, others, elsewhere, override, stays_of, is_signed = key
            month_facts = shared[key] = MonthFacts(
                complexity=complexity,
                other_services=tuple(c for c in others.split(";") if c),
                billed_elsewhere=bool(elsewhere),
                inpatient_stays=stays_of,
                family_override=override,
                signed=is_signed,
            )
        out.append((p, enrolled, prepare(m, facts, month_facts, dos_rule=dos_rule)))
    return out


def stay_months(stays: Iterable[tuple[dt.date, dt.date]]) -> set[str]:
    """Every month (YYYY-MM) a stay has a day in."""
    months: set[str] = set()
    for admitted, discharged in stays:
        year, number = admitted.year, admitted.month
        while (year, number) <= (discharged.year, discharged.month):
            months.add(f"{year:04d}-{number:02d}")
            year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return months


def month_record(row: PatientMonth | None) -> MonthFactsRecord:
    """A stored patient-month's facts (its stays loaded); the defaults when there is none."""
    if row is None:
        return MonthFactsRecord()
    return MonthFactsRecord(
        complexity=row.complexity,
        other_services=tuple(c for c in row.other_services.split(";") if c),
        billed_elsewhere=row.billed_elsewhere,
        inpatient_stays=tuple(
            sorted((s.admitted_on, s.discharged_on) for s in row.inpatient_stays)
        ),
        family_override=row.family_override,
    )


def write_month_facts(session: Session, row: PatientMonth, record: MonthFactsRecord) -> None:
    """Store the facts on the row (the family choice is left as it is); the stays are
    replaced only when they differ."""
    row.complexity = record.complexity
    row.other_services = ";".join(record.other_services)
    row.billed_elsewhere = record.billed_elsewhere
    if record.inpatient_stays != month_record(row).inpatient_stays:
        row.inpatient_stays.clear()
        session.flush()  # the old stays go before the new ones are added
        row.inpatient_stays.extend(
            InpatientStay(admitted_on=a, discharged_on=d) for a, d in record.inpatient_stays
        )
    session.flush()


def month_document(record: MonthFactsRecord) -> dict[str, Any]:
    """The facts as the audit trail keeps them (before and after)."""
    return {
        "complexity": record.complexity,
        "other_services": ";".join(record.other_services),
        "billed_elsewhere": record.billed_elsewhere,
        "inpatient": [[a.isoformat(), d.isoformat()] for a, d in record.inpatient_stays],
    }
