"""A patient-month's facts (complexity, other services, billed elsewhere, stays): read and set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ccmdesk.db import Database
from ccmdesk.models import InpatientStay, Patient, PatientMonth, Staff
from ccmdesk.rules.month_facts import month_facts_errors, other_services
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, checked_month, checked_reason, patient_by_mrn
from ccmdesk.services.billing.evaluation import BillingRow, BillingService
from ccmdesk.services.context import SYSTEM_ROLE, Actor, Clock, Permission, allowed, require
from ccmdesk.services.errors import PermissionDenied, ServiceError, ValidationFailed
from ccmdesk.services.locks import refuse_locked


@dataclass(frozen=True)
class MonthFactsRecord:
    """The editable facts of one patient-month."""

    complexity: str = "none"
    other_services: tuple[str, ...] = ()
    billed_elsewhere: bool = False
    inpatient_stays: tuple[tuple[dt.date, dt.date], ...] = ()
    family_override: str | None = None


@dataclass(frozen=True)
class MonthFactsEdit:
    """A month's facts as the person editing them finds them, with what they may change: each
    refusal is the sentence save() would refuse with ("" when allowed)."""

    record: MonthFactsRecord
    attest_refusal: str
    set_refusal: str

    @property
    def can_attest(self) -> bool:
        return not self.attest_refusal

    @property
    def can_set(self) -> bool:
        return not self.set_refusal


class MonthFactsService(ServiceBase):
    """Billing staff set a month's facts; the billing practitioner attests its complexity."""

    def __init__(self, db: Database, clock: Clock, billing: BillingService) -> None:
        super().__init__(db, clock)
        self._billing = billing

    def get(self, actor: Actor, mrn: str, month: str) -> MonthFactsRecord:
        self._authorize(actor, Permission.VIEW_PATIENTS)
        month = checked_month(month)
        with self._db.read() as session:
            patient = patient_by_mrn(session, mrn)
            return month_record(month_row(session, patient.id, month))

    def for_edit(self, actor: Actor, mrn: str, month: str) -> MonthFactsEdit:
        """The facts, and whether this person may attest complexity and set the other facts,
        decided by the checks save() makes (role, own patient, signed or closed month)."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        month = checked_month(month)
        with self._db.read() as session:
            patient = patient_by_mrn(session, mrn)
            record = month_record(month_row(session, patient.id, month))
            locked = _refusal(lambda: self._refuse_locked(session, patient, {month}))
            attest = _refusal(lambda: self._may_attest(session, actor, patient))
            facts = _refusal(lambda: require(actor, Permission.SET_MONTH_FACTS))
        # A signed or closed month is the first thing to say: nobody may change it.
        return MonthFactsEdit(record, locked or attest, locked or facts)

    def save(
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
            row = month_row(session, patient.id, month)
            before = month_record(row)
            after = MonthFactsRecord(
                record.complexity,
                record.other_services,
                record.billed_elsewhere,
                record.inpatient_stays,
                before.family_override,
            )
            if after == before:
                return self._billing.patient_month(actor, mrn, month)
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
            audit.record_month(
                session,
                self._now(),
                actor,
                "month.update",
                patient,
                month,
                before=month_document(before),
                after=month_document(after),
                reason=reason.strip(),
            )
        return self._billing.patient_month(actor, mrn, month)

    @staticmethod
    def _checked(record: MonthFactsRecord, month: str) -> MonthFactsRecord:
        others = other_services(record.other_services)
        stays = tuple(sorted(set(record.inpatient_stays)))
        errors = month_facts_errors(month, record.complexity, others, stays)
        if errors:
            raise ValidationFailed(errors)
        return MonthFactsRecord(record.complexity, others, record.billed_elsewhere, stays)

    def _may_attest(self, session: Session, actor: Actor, patient: Patient) -> None:
        """Complexity is medical decision making: only the patient's billing practitioner
        attests it (or the command line, importing)."""
        if actor.role == SYSTEM_ROLE:
            return
        bp = session.get(Staff, patient.billing_practitioner_id or -1)
        if not allowed(actor, Permission.ATTEST_COMPLEXITY):
            # Said as the rule, naming who attests, for the person who cannot.
            named = f", {bp.name}," if bp is not None else ""
            raise PermissionDenied(
                f"Only the patient's billing practitioner{named} attests complexity; "
                f"{actor.name} may not attest complexity."
            )
        if bp is None or bp.staff_id != actor.key:
            raise PermissionDenied(
                f"Only the patient's billing practitioner attests complexity; {actor.name} is "
                "not this patient's billing practitioner."
            )

    @staticmethod
    def _refuse_locked(session: Session, patient: Patient, months: set[str]) -> None:
        refuse_locked(session, patient.id, months, "its facts")


def _refusal(check: Callable[[], None]) -> str:
    """The sentence a check refuses with, or "" when it passes."""
    try:
        check()
    except ServiceError as error:
        return str(error)
    return ""


def month_row(session: Session, patient_id: int, month: str) -> PatientMonth | None:
    """The stored patient-month with its stays, or None."""
    return session.scalars(
        select(PatientMonth)
        .where(PatientMonth.patient_id == patient_id, PatientMonth.month == month)
        .options(selectinload(PatientMonth.inpatient_stays))
    ).first()


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
