"""Choosing the code family a patient's month is billed under."""

from __future__ import annotations

from ccmdesk.db import Database
from ccmdesk.models import PatientMonth
from ccmdesk.rules.catalog import FAMILIES
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, checked_month, checked_reason, patient_by_mrn
from ccmdesk.services.billing.capabilities import family_refusal
from ccmdesk.services.billing.evaluation import BillingRow, BillingService
from ccmdesk.services.billing.month_facts import month_row
from ccmdesk.services.context import Actor, Clock, Permission
from ccmdesk.services.errors import ServiceError
from ccmdesk.services.locks import closed_months, signed_months


class FamilyService(ServiceBase):
    """Billing staff bill a month under another compliant family, with a reason."""

    def __init__(self, db: Database, clock: Clock, billing: BillingService) -> None:
        super().__init__(db, clock)
        self._billing = billing

    def choose(
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
        current = self._billing.patient_month(actor, mrn, month)
        if family is not None and family not in current.result.compliant:
            label = FAMILIES[family].label
            raise ServiceError(
                f"{label} does not fit this month's time and facts; the month qualifies for "
                + (", ".join(FAMILIES[f].label for f in current.result.compliant) or "nothing")
                + "."
            )
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            closed = bool(closed_months(session, [month]))
            signed = bool(signed_months(session, patient.id, [month]))
            refusal = family_refusal(actor, month, closed, signed)
            if refusal is not None:
                refusal.raise_it()
            row = month_row(session, patient.id, month)
            before = row.family_override if row is not None else None
            if before == family:
                return current
            if row is None:
                row = PatientMonth(patient_id=patient.id, month=month)
                session.add(row)
            row.family_override = family
            session.flush()
            audit.record_month(
                session,
                self._now(),
                actor,
                "month.family",
                patient,
                month,
                before={"family": before},
                after={"family": family},
                reason=reason.strip(),
            )
        return self._billing.patient_month(actor, mrn, month)
