"""This month's countable minutes per patient: the patient page's progress and the worklist."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from ccmdesk.models import (
    Enrollment,
    InpatientStay,
    Patient,
    PatientCondition,
    PatientMonth,
    Staff,
    TimeEntry,
    TimeSegment,
)
from ccmdesk.rules.intervals import Interval, month_days, month_of
from ccmdesk.rules.minutes import (
    Progress,
    TimedWork,
    countable_seconds,
    family_for,
    month_bounds,
    progress,
)
from ccmdesk.services.base import ServiceBase, checked_month, practice_zone
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import NotFound
from ccmdesk.services.patients import enrollment_status


@dataclass(frozen=True)
class MonthProgress:
    """One patient's month: countable time against the next threshold."""

    mrn: str
    patient_name: str
    month: str
    enrollment: str
    progress: Progress


@dataclass(frozen=True)
class WorklistRow:
    """A patient on a care manager's worklist, with how much time the month still needs."""

    mrn: str
    patient_name: str
    enrollment: str
    progress: Progress
    last_contact: dt.datetime | None  # the latest end of any of the patient's entries


@dataclass(frozen=True)
class _Facts:
    patient_id: int
    mrn: str
    name: str
    consent: dt.date | None
    revoked: dt.date | None
    conditions: int
    complexity: str
    stays: tuple[tuple[dt.date, dt.date], ...]


class MinutesService(ServiceBase):
    """Set-based reads: a handful of queries for one patient or for a whole worklist."""

    def month_progress(self, actor: Actor, mrn: str, month: str | None = None) -> MonthProgress:
        self._authorize(actor, Permission.VIEW_PATIENTS)
        month = checked_month(month) if month is not None else None
        now = self._now()
        with self._db.read() as session:
            found = self._month_progress(session, Patient.mrn == mrn, month, now)
        if found is None:
            raise NotFound(f"There is no patient with MRN '{mrn}'.")
        return found

    def progress_in(
        self, session: Session, patient_id: int, month: str, now: dt.datetime
    ) -> MonthProgress:
        """A patient's month_progress inside the caller's transaction: a write that changed
        the patient's time returns it without another session."""
        found = self._month_progress(session, Patient.id == patient_id, month, now)
        assert found is not None, "the caller's entry has a patient"
        return found

    def _month_progress(
        self, session: Session, which: ColumnElement[bool], month: str | None, now: dt.datetime
    ) -> MonthProgress | None:
        zone = practice_zone(session)
        month = month or month_of(now, zone)
        facts = self._facts(session, month, which)
        if not facts:
            return None
        work, _ = self._work(session, month, zone, now, [f.patient_id for f in facts])
        today = now.astimezone(zone).date()
        fact = facts[0]
        return MonthProgress(
            mrn=fact.mrn,
            patient_name=fact.name,
            month=month,
            enrollment=enrollment_status(fact.consent, fact.revoked, today),
            progress=self._progress(fact, work.get(fact.patient_id, []), month, zone, today),
        )

    def worklist(self, actor: Actor, month: str | None = None) -> list[WorklistRow]:
        """The actor's enrolled patients (as care manager, or as billing practitioner; every
        enrolled patient for non-clinical staff, who schedule), the ones needing the most
        minutes per day left first; those past every threshold last."""
        actor = self._authorize(actor, Permission.VIEW_WORKLIST)
        month = checked_month(month) if month is not None else None
        now = self._now()
        with self._db.read() as session:
            zone = practice_zone(session)
            month = month or month_of(now, zone)
            today = now.astimezone(zone).date()
            # Non-clinical staff manage no patients of their own: they schedule for everyone.
            me = (
                None
                if actor.role == "non_clinical"
                else session.scalars(select(Staff.id).where(Staff.staff_id == actor.key)).first()
            )
            mine = (
                or_(Patient.care_manager_id == me, Patient.billing_practitioner_id == me)
                if me is not None
                else true()  # the command line and schedulers see every patient
            )
            facts = [
                f
                for f in self._facts(session, month, mine)
                if enrollment_status(f.consent, f.revoked, today) == "Enrolled"
            ]
            work, last = self._work(session, month, zone, now, None)
        rows = [
            WorklistRow(
                mrn=f.mrn,
                patient_name=f.name,
                enrollment="Enrolled",
                progress=self._progress(f, work.get(f.patient_id, []), month, zone, today),
                last_contact=last.get(f.patient_id),
            )
            for f in facts
        ]
        rows.sort(
            key=lambda r: (
                r.progress.next_threshold_minutes is None,
                -r.progress.need,
                r.patient_name.casefold(),
            )
        )
        return rows

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _progress(
        fact: _Facts, work: list[TimedWork], month: str, zone: dt.tzinfo, today: dt.date
    ) -> Progress:
        seconds = countable_seconds(work, month, zone, fact.consent, fact.stays)
        return progress(family_for(fact.conditions, fact.complexity), seconds, month, today)

    @staticmethod
    def _facts(session: Session, month: str, which: ColumnElement[bool]) -> list[_Facts]:
        conditions = (
            select(PatientCondition.patient_id, func.count().label("n"))
            .group_by(PatientCondition.patient_id)
            .subquery()
        )
        rows = session.execute(
            select(
                Patient.id,
                Patient.mrn,
                Patient.first_name,
                Patient.last_name,
                Enrollment.consent_date,
                Enrollment.consent_revoked_date,
                func.coalesce(conditions.c.n, 0),
                func.coalesce(PatientMonth.complexity, "none"),
            )
            .outerjoin(Enrollment, Enrollment.patient_id == Patient.id)
            .outerjoin(conditions, conditions.c.patient_id == Patient.id)
            .outerjoin(
                PatientMonth,
                and_(PatientMonth.patient_id == Patient.id, PatientMonth.month == month),
            )
            .where(which)
        ).all()
        # Stays overlapping the month, whichever month's record they were entered on: a stay
        # recorded in February that runs into March cuts March's days too.
        first, last = month_days(month)
        stays: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
        stay_rows = session.execute(
            select(PatientMonth.patient_id, InpatientStay.admitted_on, InpatientStay.discharged_on)
            .join(InpatientStay, InpatientStay.patient_month_id == PatientMonth.id)
            .where(InpatientStay.admitted_on <= last, InpatientStay.discharged_on >= first)
            .distinct()
        )
        for patient_id, admitted, discharged in stay_rows:
            stays[patient_id].append((admitted, discharged))
        return [
            _Facts(
                patient_id=pid,
                mrn=mrn,
                name=f"{first} {last}",
                consent=consent,
                revoked=revoked,
                conditions=count,
                complexity=complexity,
                stays=tuple(stays.get(pid, ())),
            )
            for pid, mrn, first, last, consent, revoked, count, complexity in rows
        ]

    @staticmethod
    def _work(
        session: Session,
        month: str,
        zone: dt.tzinfo,
        now: dt.datetime,
        patient_ids: Iterable[int] | None,
    ) -> tuple[dict[int, list[TimedWork]], dict[int, dt.datetime]]:
        """Every segment touching the month, grouped into entries, in one query; a running
        stopwatch counts up to now."""
        first, last = month_bounds(month, zone)
        query = (
            select(
                TimeEntry.id,
                TimeEntry.patient_id,
                TimeEntry.service,
                TimeEntry.face_to_face,
                Staff.role,
                TimeSegment.started_at,
                TimeSegment.ended_at,
            )
            .join(TimeEntry, TimeSegment.entry_id == TimeEntry.id)
            .join(Staff, TimeEntry.staff_id == Staff.id)
            .where(
                TimeEntry.deleted_at.is_(None),
                TimeSegment.started_at < last,
                or_(TimeSegment.ended_at.is_(None), TimeSegment.ended_at > first),
            )
        )
        if patient_ids is not None:
            query = query.where(TimeEntry.patient_id.in_(list(patient_ids)))
        entries: dict[int, tuple[int, str, bool, str, list[Interval]]] = {}
        last_contact: dict[int, dt.datetime] = {}
        for entry_id, patient_id, service, f2f, role, start, end in session.execute(query):
            end = end or now
            item = entries.setdefault(entry_id, (patient_id, service, f2f, role, []))
            item[4].append((start, end))
            if end > last_contact.get(patient_id, first):
                last_contact[patient_id] = end
        work: dict[int, list[TimedWork]] = defaultdict(list)
        for patient_id, service, f2f, role, spans in entries.values():
            work[patient_id].append(TimedWork(tuple(spans), role, service, f2f))
        return work, last_contact
