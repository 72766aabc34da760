"""The SQL reads of a month's evaluation: patients, month facts, stays, signatures, segments."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Session, aliased

from ccmdesk.models import (
    CarePlanCopy,
    CarePlanVersion,
    Enrollment,
    FeeScheduleAmount,
    InpatientStay,
    MonthClose,
    MonthlyReview,
    Patient,
    PatientCondition,
    PatientMonth,
    Payer,
    Practice,
    ProgramPeriod,
    Staff,
    TimeEntry,
    TimeSegment,
    Waiver,
)
from ccmdesk.rules.billing import (
    BHI_SERVICE,
    COUNTING_ROLES,
    COUNTING_SERVICES,
    FACE_TO_FACE,
    NON_CLINICAL,
    OTHER_SERVICE,
    Columns,
    Month,
)
from ccmdesk.rules.billing import Waiver as WaiverFacts
from ccmdesk.rules.care_plan import SignedPlan
from ccmdesk.rules.programs import DEFAULT_PROGRAM
from ccmdesk.services.base import practice_zone
from ccmdesk.services.billing.plumbing import Epoch, Joined, json_numbers
from ccmdesk.services.time.recovery import STALE_AFTER_SECONDS

# Rows of the patients query (its columns are listed in patient_rows).
PatientRows = Sequence[Row[*tuple[Any, ...]]]
# Per patient id: (complexity, other services, billed elsewhere, family override) on file for
# the month; and the inpatient stays (admitted, discharged) that reach into it.
MonthFactsRows = dict[int, tuple[str, str, bool, str | None]]
Stays = dict[int, tuple[tuple[dt.date, dt.date], ...]]
# Per patient id: the hardship waivers that cover the month (at most one: they never overlap).
Waivers = dict[int, tuple[WaiverFacts, ...]]

# Per patient id: the program in force for the month and its focus condition (pcm_focus); a
# patient who is not listed is in NO_PERIOD's.
Programs = dict[int, tuple[str, str | None]]
NO_PERIOD: tuple[str, str | None] = (DEFAULT_PROGRAM, None)

# The secondary payer is a second row of the payer table beside the primary one.
_SecondaryPayer = aliased(Payer, name="secondary_payer")


def month_context(session: Session, month: str) -> tuple[Month, str, bool]:
    """The month with its fees, the practice's date-of-service rule, and whether the month is
    closed for billing (read together: one query for both)."""
    zone = practice_zone(session)
    fees: dict[int, dict[str, int]] = defaultdict(dict)
    for year, code, cents in session.execute(
        select(FeeScheduleAmount.year, FeeScheduleAmount.code, FeeScheduleAmount.amount_cents)
    ):
        fees[year][code] = cents
    closed = exists().where(MonthClose.month == month, MonthClose.reopened_at.is_(None))
    rule_of = select(Practice.date_of_service_rule).limit(1).scalar_subquery()
    attested = exists().where(Practice.apcm_attested_at.is_not(None))
    rule, is_closed, is_attested = session.execute(select(rule_of, closed, attested)).one()
    m = Month.of(month, zone, fees, apcm_attested=bool(is_attested))
    return m, rule or "last_day", bool(is_closed)


def inpatient_stays(session: Session, m: Month, patient_ids: Sequence[int] | None) -> Stays:
    """Stays overlapping the month, whichever month's record they were entered on."""
    query = (
        select(PatientMonth.patient_id, InpatientStay.admitted_on, InpatientStay.discharged_on)
        .join(InpatientStay, InpatientStay.patient_month_id == PatientMonth.id)
        .where(InpatientStay.admitted_on <= m.last_day, InpatientStay.discharged_on >= m.first_day)
    )
    if patient_ids is not None:
        query = query.where(PatientMonth.patient_id.in_(patient_ids))
    stays: dict[int, set[tuple[dt.date, dt.date]]] = defaultdict(set)
    for patient_id, admitted, discharged in session.execute(query):
        stays[patient_id].add((admitted, discharged))
    return {pid: tuple(sorted(found)) for pid, found in stays.items()}


def month_rows(
    session: Session, m: Month, ids: Sequence[int] | None
) -> tuple[MonthFactsRows, Stays, set[int]]:
    """The month's facts, inpatient stays and signatures, per patient."""
    months = {
        pid: (complexity, others, elsewhere, override)
        for pid, complexity, others, elsewhere, override in session.execute(
            _only(
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
    stays = inpatient_stays(session, m, ids)
    signed = set(
        session.scalars(
            _only(
                select(MonthlyReview.patient_id).where(
                    MonthlyReview.month == m.month, MonthlyReview.voided_at.is_(None)
                ),
                MonthlyReview.patient_id,
                ids,
            )
        )
    )
    return months, stays, signed


def waivers(session: Session, month: str, ids: Sequence[int] | None) -> Waivers:
    """The hardship waivers that cover the month, per patient, with the approver's name: one
    query for the whole practice. Only the month's own waivers are read; the rules ask
    PatientFacts.waiver_for(month) of no other month."""
    query = (
        select(
            Waiver.patient_id, Waiver.from_month, Waiver.to_month, Staff.name, Waiver.approved_on
        )
        .join(Staff, Staff.id == Waiver.approved_by_id)
        .where(
            Waiver.from_month <= month,
            (Waiver.to_month.is_(None)) | (Waiver.to_month >= month),
        )
        .order_by(Waiver.patient_id, Waiver.from_month)
    )
    found: dict[int, list[WaiverFacts]] = defaultdict(list)
    for patient_id, first, last, name, day in session.execute(_only(query, Waiver.patient_id, ids)):
        found[patient_id].append(WaiverFacts(first, last, name, day))
    return {pid: tuple(items) for pid, items in found.items()}


def programs(session: Session, month: str, ids: Sequence[int] | None) -> Programs:
    """Each patient's program in force for the month, with its focus condition: the period
    with the latest start not after the month (docs/billing-rules.md, "Programs"). Patients
    with none are in `ccm` and are not listed; a practice that never changes a program reads
    no row."""
    query = (
        select(
            ProgramPeriod.patient_id,
            ProgramPeriod.from_month,
            ProgramPeriod.program,
            ProgramPeriod.focus_condition,
        )
        .where(ProgramPeriod.from_month <= month)
        .order_by(ProgramPeriod.patient_id, ProgramPeriod.from_month)
    )
    found: Programs = {}
    for pid, _, program, focus in session.execute(_only(query, ProgramPeriod.patient_id, ids)):
        found[pid] = (program, focus)  # the latest start wins
    return found


def signed_plans(
    session: Session, patient_ids: Sequence[int] | None = None, until: dt.date | None = None
) -> dict[int, list[SignedPlan]]:
    """Each patient's signed care plan versions as the billing rules see them, signed on or
    before `until` when given (a later one is never in force for the month: docs/billing-rules.md,
    "Care plan"): one query for any number of patients; `None`: every patient."""
    given = select(CarePlanCopy.id).where(CarePlanCopy.version_id == CarePlanVersion.id).exists()
    query = select(
        CarePlanVersion.patient_id,
        CarePlanVersion.number,
        CarePlanVersion.signed_on,
        CarePlanVersion.review_on,
        given,
    ).where(CarePlanVersion.signed_on.is_not(None))
    if until is not None:
        query = query.where(CarePlanVersion.signed_on <= until)
    found: dict[int, list[SignedPlan]] = {}
    for patient_id, number, signed_on, review_on, was_given in session.execute(
        _only(query, CarePlanVersion.patient_id, patient_ids)
    ):
        # A signed version always has its review date (signing needs every element).
        assert signed_on is not None  # selected by the WHERE clause
        plan = SignedPlan(number, signed_on, review_on or signed_on, bool(was_given))
        found.setdefault(patient_id, []).append(plan)
    return found


def _only(query: Any, column: Any, ids: Sequence[int] | None) -> Any:
    return query if ids is None else query.where(column.in_(ids))


def conditions(session: Session, which: ColumnElement[bool] | None) -> dict[int, list[str]]:
    """The conditions of the patients `which` selects (all when None), by patient id, in the
    claim's order."""
    found: dict[int, list[str]] = defaultdict(list)
    query = select(PatientCondition.patient_id, PatientCondition.code).order_by(
        PatientCondition.patient_id, PatientCondition.position
    )
    if which is not None:
        # One patient's summary reads one patient's conditions, not the practice's.
        query = query.join(Patient, Patient.id == PatientCondition.patient_id).where(which)
    # Core rows on the session's connection, the driver's tuples fetched in one call: a
    # month's 10,000 patients need none of the ORM's result machinery.
    result = session.connection().execute(query)
    for pid, code in result.cursor.fetchall():
        found[pid].append(code)
    result.close()
    return found


def patient_rows(
    session: Session, which: ColumnElement[bool] | None
) -> tuple[PatientRows, dict[int, list[str]]]:
    """The patients' rows (with billing practitioner and enrollment) and conditions, of
    the patients `which` selects (all when None)."""
    found = conditions(session, which)
    connection = session.connection()  # Core rows: the ORM's result layer is not needed
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
            # The primary payer as the rules read it (rules.billing.Coverage), and the
            # secondary payer's name; NULL for a patient with no payer on file.
            Payer.id,
            Payer.payer_id,
            Payer.name,
            Payer.kind,
            Payer.covers,
            Payer.coinsurance_percent,
            Payer.min_diagnoses,
            _SecondaryPayer.name,
            Patient.last_visit_date,
            Enrollment.initiating_visit_g0506,
        )
        .outerjoin(Staff, Staff.id == Patient.billing_practitioner_id)
        .outerjoin(Enrollment, Enrollment.patient_id == Patient.id)
        .outerjoin(Payer, Payer.id == Patient.primary_payer_id)
        .outerjoin(_SecondaryPayer, _SecondaryPayer.id == Patient.secondary_payer_id)
        .where(which if which is not None else Patient.id > 0)
        .order_by(Patient.mrn)
    ).all()
    return rows, found


@functools.cache
def _work_statements(by_patient: bool) -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
    """The closed and running segment queries of `work`, built once: building them (cases,
    compiled extensions, cache keys) cost about 1 ms of every Stop and save, which reads one
    patient's month. Their values come as bound parameters: lo, hi, not_counting and ids."""
    lo = bindparam("lo", type_=TimeSegment.started_at.type)
    hi = bindparam("hi", type_=TimeSegment.started_at.type)
    # The rules' own classification (kind_of), written as SQL from the same sets. Staff
    # whose time never counts are few: a list of ids spares SQLite a join per row.
    not_counting: BindParameter[list[int]] = bindparam("not_counting", expanding=True)
    kind = case((TimeEntry.staff_id.in_(not_counting), NON_CLINICAL), else_=0) + case(
        (
            and_(
                TimeEntry.service.in_(sorted(COUNTING_SERVICES)),
                TimeEntry.face_to_face.is_(False),
            ),
            0,
        ),
        # BHI time, which BHI counts apart (docs/billing-rules.md, "General BHI").
        (
            and_(TimeEntry.service == "bhi", TimeEntry.face_to_face.is_(False)),
            OTHER_SERVICE | BHI_SERVICE,
        ),
        (TimeEntry.service == "bhi", OTHER_SERVICE | BHI_SERVICE | FACE_TO_FACE),
        else_=OTHER_SERVICE,
    )
    start, end = Epoch(TimeSegment.started_at), Epoch(TimeSegment.ended_at)
    closed = (
        select(
            TimeEntry.patient_id,
            *(Joined(column, TimeSegment.id) for column in (start, end, TimeEntry.staff_id, kind)),
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
            Epoch(func.coalesce(TimeEntry.last_heartbeat_at, TimeSegment.started_at)),
        )
        .join(TimeEntry, TimeSegment.entry_id == TimeEntry.id)
        .where(
            TimeEntry.deleted_at.is_(None),
            TimeSegment.started_at < hi,
            TimeSegment.ended_at.is_(None),
        )
    )
    if by_patient:
        ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
        closed = closed.where(TimeEntry.patient_id.in_(ids))
        running = running.where(TimeEntry.patient_id.in_(ids))
    return closed, running


def work(session: Session, m: Month, now: int, ids: Sequence[int] | None) -> dict[int, Columns]:
    """Every segment touching the month, as epoch seconds in columns, per patient.

    The database gathers each patient's segments into four arrays of numbers (starts, ends,
    staff and kinds), so a month of 300,000 segments crosses into Python as 10,000 rows of
    JSON read in C, with no object per segment. Closed and running segments
    are two queries, since `ended_at IS NULL OR ended_at > ?` would keep SQLite from using
    an index; a running stopwatch counts up to now (a stale one to its last heartbeat).
    """
    closed, running = _work_statements(ids is not None)
    params: dict[str, Any] = {
        "lo": dt.datetime.fromtimestamp(m.start, dt.UTC),
        "hi": dt.datetime.fromtimestamp(m.end, dt.UTC),
        "not_counting": sorted(
            session.scalars(select(Staff.id).where(Staff.role.not_in(sorted(COUNTING_ROLES))))
        ),
    }
    if ids is not None:
        params["ids"] = list(ids)
    connection = session.connection()
    work: dict[int, Columns] = {}
    result = connection.execute(closed, params)
    for pid, starts, ends, staff, kinds in result.cursor.fetchall():
        numbers = json_numbers(starts)
        work[pid] = Columns(
            numbers,
            json_numbers(ends),
            json_numbers(staff),
            # Nearly every segment's kind is 0 (counted): an array of zeros needs no reading.
            json_numbers(kinds) if str(kinds).strip("[0, ]") else [0] * len(numbers),
        )
    result.close()
    for first, staff, kind_, pid, last_beat in connection.execute(running, params):
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
