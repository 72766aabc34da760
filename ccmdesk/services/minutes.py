"""This month's countable minutes per patient: the patient page's progress and the worklist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from ccmdesk.db import Database
from ccmdesk.models import Enrollment, Patient, PatientCondition, PatientMonth, Staff
from ccmdesk.rules.billing import (
    Columns,
    Month,
    bhi_countable_seconds,
    countable_seconds,
)
from ccmdesk.rules.calls import due_today
from ccmdesk.rules.care_plan import SignedPlan, in_force, plan_warnings
from ccmdesk.rules.intervals import month_of
from ccmdesk.rules.minutes import Progress, family_for, progress
from ccmdesk.services.base import ServiceBase, checked_month, practice_zone
from ccmdesk.services.billing.cache import EvaluationCache, read_stamp
from ccmdesk.services.billing.plumbing import collector_paused
from ccmdesk.services.billing.queries import (
    NO_PERIOD,
    Programs,
    inpatient_stays,
    programs,
    signed_plans,
    work,
)
from ccmdesk.services.calls import last_outcomes, open_callbacks_by_patient, phones_of
from ccmdesk.services.context import Actor, Clock, Permission, utc_now
from ccmdesk.services.errors import NotFound
from ccmdesk.services.patients import enrollment_status

# The month evaluation's own reads, so the worklist and the patient panel count exactly the
# time the bill counts: each patient's segments touching the month (a running stopwatch up to
# now, a stale one up to its last heartbeat) and the inpatient stays overlapping the month.
_month_segments = work
_month_stays = inpatient_stays


@dataclass(frozen=True)
class MonthProgress:
    """One patient's month: countable time against the next threshold."""

    mrn: str
    patient_name: str
    month: str
    enrollment: str
    progress: Progress
    # General BHI toward 99484's 20 minutes, counted apart (docs/billing-rules.md, "General
    # BHI"), from the segments already read: the screen shows it for a patient with a
    # behavioural-health condition, or with BHI time.
    bhi: Progress


@dataclass(frozen=True)
class WorklistRow:
    """A patient on a care manager's worklist, with how much time the month still needs."""

    mrn: str
    patient_name: str
    enrollment: str
    progress: Progress
    last_contact: dt.datetime | None  # the latest end of any of the patient's entries
    # Whom to call and how (docs/calls.md): the numbers on file (home, mobile, other), the
    # preferred time ("" or a key of catalog.PREFERRED_CALL_TIMES), the earliest open callback
    # for this person or for nobody in particular, and the last call attempt's outcome.
    phones: tuple[tuple[str, str], ...] = ()
    preferred_call_time: str = ""
    callback_id: int | None = None
    callback_due: dt.datetime | None = None
    last_outcome: str = ""
    # The month's care plan in force has passed its review date: the month's evaluation
    # warns CARE_PLAN_REVIEW_DUE (docs/billing-rules.md, "Care plan").
    plan_review_due: bool = False


@dataclass(frozen=True)
class _Facts:
    patient_id: int
    mrn: str
    name: str
    consent: dt.date | None
    revoked: dt.date | None
    conditions: int
    complexity: str
    care_plan_date: dt.date | None = None  # a plan kept elsewhere


class MinutesService(ServiceBase):
    """Set-based reads: a handful of queries for one patient or for a whole worklist."""

    def __init__(
        self, db: Database, clock: Clock = utc_now, cache: EvaluationCache | None = None
    ) -> None:
        super().__init__(db, clock)
        self._cache = cache if cache is not None else EvaluationCache()

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
        m = Month.of(month, zone, {})
        ids = [f.patient_id for f in facts]
        work = _month_segments(session, m, int(now.timestamp()), ids)
        stays = _month_stays(session, m, ids)
        today = now.astimezone(zone).date()
        fact = facts[0]
        segments = work.get(fact.patient_id, _NO_SEGMENTS)
        bhi_seconds = bhi_countable_seconds(
            m, fact.consent, stays.get(fact.patient_id, ()), segments
        )
        return MonthProgress(
            mrn=fact.mrn,
            patient_name=fact.name,
            month=month,
            enrollment=enrollment_status(fact.consent, fact.revoked, today),
            progress=self._progress(m, fact, work, stays, today, programs(session, month, ids)),
            bhi=progress("bhi", bhi_seconds, month, today),
        )

    def worklist(self, actor: Actor, month: str | None = None) -> list[WorklistRow]:
        """The actor's enrolled patients (as care manager, or as billing practitioner; every
        enrolled patient for non-clinical staff, who schedule), the ones needing the most
        minutes per day left first; those past every threshold last."""
        actor = self._authorize(actor, Permission.VIEW_WORKLIST)
        month = checked_month(month) if month is not None else None
        now = self._now()
        # Thousands of rows made beside the cache's millions of objects: a collection of the
        # oldest generation would walk them all (plumbing.collector_paused says why).
        with collector_paused(), self._db.read() as session:
            zone = practice_zone(session)
            month = month or month_of(now, zone)
            today = now.astimezone(zone).date()
            # Non-clinical staff manage no patients of their own: they schedule for everyone.
            staff_id = session.scalars(select(Staff.id).where(Staff.staff_id == actor.key)).first()
            me = None if actor.role == "non_clinical" else staff_id
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
            m = Month.of(month, zone, {})
            at = int(now.timestamp())
            # The whole month's segments, read from the span index as the billing panel reads
            # them: a list of this person's patients would send SQLite through each patient's
            # whole history instead. Kept in the evaluation cache under a stamp read in this
            # transaction, with the stays, programs and each patient's countable seconds, so
            # the next load while nothing changed reads only the facts (docs/dashboard.md).
            key = read_stamp(session).for_month(m, at)
            cache = self._cache
            work = cache.segments(session, m, key, at)
            stays = cache.part(key, "stays", lambda: _month_stays(session, m, None))
            in_force = cache.part(key, "programs", lambda: programs(session, month, None))
            counted: dict[int, int] = cache.part(key, "countable", dict)
            plans = cache.part(
                key, "care_plans", lambda: signed_plans(session, None, until=m.last_day)
            )
            # Calls and callbacks are read fresh every time: they are not in the cache's stamp.
            ids = [f.patient_id for f in facts]
            # A long list is read whole: one scan beats thousands of bound parameters.
            calls = _call_facts(
                session, staff_id, ids if me is not None and len(ids) <= 500 else None
            )
        rows = [
            WorklistRow(
                mrn=f.mrn,
                patient_name=f.name,
                enrollment="Enrolled",
                progress=self._progress(m, f, work, stays, today, in_force, counted),
                last_contact=_last_contact(work.get(f.patient_id)),
                plan_review_due=_review_due(m, f, plans),
                **calls.get(f.patient_id, {}),
            )
            for f in facts
        ]
        # Callbacks due today or overdue first, the earliest first (docs/calls.md); then need.
        rows.sort(
            key=lambda r: (
                _due_first(r, now, zone),
                r.progress.next_threshold_minutes is None,
                -r.progress.need,
                r.patient_name.casefold(),
            )
        )
        return rows

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _progress(
        m: Month,
        fact: _Facts,
        work: dict[int, Columns],
        stays: dict[int, tuple[tuple[dt.date, dt.date], ...]],
        today: dt.date,
        in_force: Programs,
        counted: dict[int, int] | None = None,
    ) -> Progress:
        """The patient's countable seconds as the billing rules count them (C0-C6 in
        docs/billing-rules.md; one definition: a consent dated after the month cuts nothing, as
        on the bill), against the thresholds of the family the patient's program and
        conditions aim at (a patient with no program period is in `ccm`). `counted` keeps
        each patient's seconds for the next load under the same database stamp."""
        seconds = counted.get(fact.patient_id) if counted is not None else None
        if seconds is None:
            segments = work.get(fact.patient_id, _NO_SEGMENTS)
            seconds = countable_seconds(m, fact.consent, stays.get(fact.patient_id, ()), segments)
            if counted is not None:
                counted[fact.patient_id] = seconds
        program = in_force.get(fact.patient_id, NO_PERIOD)[0]
        family = family_for(fact.conditions, fact.complexity, program)
        return progress(family, seconds, m.month, today)

    @staticmethod
    def _facts(session: Session, month: str, which: ColumnElement[bool]) -> list[_Facts]:
        # Counted per patient row from the patient_condition index: a GROUP BY joined in
        # would count every patient's conditions first, about 5 ms of each Stop and save
        # for the one patient whose progress it returns (tests/services/test_query_plans.py).
        conditions = (
            select(func.count())
            .where(PatientCondition.patient_id == Patient.id)
            .correlate(Patient)
            .scalar_subquery()
        )
        rows = session.execute(
            select(
                Patient.id,
                Patient.mrn,
                Patient.first_name,
                Patient.last_name,
                Enrollment.consent_date,
                Enrollment.consent_revoked_date,
                conditions,
                func.coalesce(PatientMonth.complexity, "none"),
                Enrollment.care_plan_date,
            )
            .outerjoin(Enrollment, Enrollment.patient_id == Patient.id)
            .outerjoin(
                PatientMonth,
                and_(PatientMonth.patient_id == Patient.id, PatientMonth.month == month),
            )
            .where(which)
        ).all()
        return [
            _Facts(
                patient_id=pid,
                mrn=mrn,
                name=f"{first} {last}",
                consent=consent,
                revoked=revoked,
                conditions=count,
                complexity=complexity,
                care_plan_date=care_plan,
            )
            for pid, mrn, first, last, consent, revoked, count, complexity, care_plan in rows
        ]


_NO_SEGMENTS = Columns([], [], [], [])
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


def _review_due(m: Month, fact: _Facts, plans: dict[int, list[SignedPlan]]) -> bool:
    """Whether the month's evaluation warns CARE_PLAN_REVIEW_DUE: the rules' own judgement
    of the plan in force, from the facts the worklist has read (no whole evaluation)."""
    plan = in_force(plans.get(fact.patient_id, ()), fact.care_plan_date, m.last_day)
    return "CARE_PLAN_REVIEW_DUE" in plan_warnings(plan, m.last_day)


def _due_first(row: WorklistRow, now: dt.datetime, zone: dt.tzinfo) -> tuple[bool, dt.datetime]:
    """The sort key that puts callbacks due today or overdue first, the earliest first."""
    if row.callback_due is not None and due_today(row.callback_due, now, zone):
        return False, row.callback_due
    return True, _NEVER


def _call_facts(
    session: Session, me: int | None, patient_ids: list[int] | None
) -> dict[int, dict[str, Any]]:
    """The worklist rows' call fields, by patient id, in three small queries (None: every
    patient's, for schedulers and the command line); `me`: the asker's staff row id."""
    phones = select(
        Patient.id, Patient.phone, Patient.mobile_phone, Patient.other_phone,
        Patient.preferred_call_time,
    )  # fmt: skip
    if patient_ids is not None:
        phones = phones.where(Patient.id.in_(patient_ids))
    facts: dict[int, dict[str, Any]] = {}
    for pid, home, mobile, other, preferred in session.execute(phones):
        facts[pid] = {
            "phones": phones_of(home, mobile, other),
            "preferred_call_time": preferred,
        }
    for pid, (cid, due) in open_callbacks_by_patient(session, patient_ids, me).items():
        facts.setdefault(pid, {}).update(callback_id=cid, callback_due=due)
    for pid, outcome in last_outcomes(session, patient_ids).items():
        facts.setdefault(pid, {})["last_outcome"] = outcome
    return facts


def _last_contact(segments: Columns | None) -> dt.datetime | None:
    """The latest end of any of the patient's segments touching the month."""
    if segments is None or not segments.ends:
        return None
    return dt.datetime.fromtimestamp(max(segments.ends), dt.UTC)
