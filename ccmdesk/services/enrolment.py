"""A patient's enrolment history: offered, consented, declined, revoked, with who and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ccmdesk.models import Enrollment, EnrolmentEvent, Patient, Staff
from ccmdesk.rules.catalog import DECLINE_REASONS
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import reason_error
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, patient_by_mrn, who_did
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import ServiceError, ValidationFailed

OFFERED, CONSENTED, DECLINED, REVOKED = "offered", "consented", "declined", "revoked"
COST_SHARE, OTHER = "cost share", "other"


@dataclass(frozen=True)
class EnrolmentStep:
    """One line of the history, oldest first."""

    step: str
    day: dt.date
    reason: str  # declined or revoked: one of DECLINE_REASONS; blank: none given
    note: str
    recorded_by: str  # the staff member's name, or who else recorded it ("upgrade", the CLI)
    recorded_at: dt.datetime


@dataclass(frozen=True)
class Enrolment:
    """A patient's history and what the care team is shown from it."""

    steps: tuple[EnrolmentStep, ...]
    cannot_pay: bool  # the patient record says the patient cannot pay the coinsurance

    @property
    def last(self) -> EnrolmentStep | None:
        return self.steps[-1] if self.steps else None

    @property
    def declined(self) -> bool:
        """The last step is a decline: the patient is not enrolled (billing still goes by the
        consent dates, docs/payers.md "Enrolment history")."""
        return self.last is not None and self.last.step == DECLINED

    @property
    def shows_cost_options(self) -> bool:
        """Whether the care team is shown what to do for a patient who cannot pay: the record
        says so, or the last decline or revocation was for the cost share."""
        stops = [s for s in self.steps if s.step in (DECLINED, REVOKED)]
        return self.cannot_pay or bool(stops and stops[-1].reason == COST_SHARE)


def last_declined(connection: Connection) -> set[int]:
    """The patients whose enrolment history ends with a decline: without consent they show as
    "Declined" (docs/payers.md, "Enrolment history")."""
    last: dict[int, tuple[tuple[dt.date, dt.datetime, int], str]] = {}
    query = select(
        EnrolmentEvent.patient_id, EnrolmentEvent.day, EnrolmentEvent.recorded_at,
        EnrolmentEvent.id, EnrolmentEvent.step,
    )  # fmt: skip
    for patient_id, day, at, event_id, step in connection.execute(query):
        key = (day, at, event_id)
        if patient_id not in last or key > last[patient_id][0]:
            last[patient_id] = (key, step)
    return {pid for pid, (_, step) in last.items() if step == DECLINED}


def _order(event: EnrolmentEvent) -> tuple[dt.date, dt.datetime, int]:
    return (event.day, event.recorded_at, event.id)


def reason_problems(step: str, reason: str, note: str) -> list[FieldError]:
    """A decline names one of the reasons; "other" needs a note (docs/payers.md)."""
    errors: list[FieldError] = []
    if step == DECLINED and not reason:
        errors.append(FieldError("reason", "is required: why the patient declined"))
    elif reason and reason not in DECLINE_REASONS:
        known = ", ".join(DECLINE_REASONS)
        errors.append(FieldError("reason", f"'{reason}' is not one of {known}"))
    if reason == OTHER and not note.strip():
        errors.append(FieldError("note", 'is required when the reason is "other": say why'))
    if message := reason_error(note):
        errors.append(FieldError("note", message))
    return errors


def consent_events(
    session: Session,
    patient_id: int,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    now: dt.datetime,
    actor: Actor,
    stop: tuple[str, str] = ("", ""),
) -> None:
    """The history's consented and revoked steps for a saved patient record (its audit form,
    before and after): added, in the save's transaction, when the consent date or the
    revocation date is set or changed (clearing one adds nothing: the audit trail has the
    correction). `stop` is why the patient stopped and a note, for the revoked step."""
    for step, field in ((CONSENTED, "consent_date"), (REVOKED, "consent_revoked_date")):
        day = after.get(field)
        reason, note = stop if step == REVOKED else ("", "")
        if day is not None and (before is None or before.get(field) != day):
            add_event(session, patient_id, step, day, reason or None, note.strip(), now, actor)
        elif day is not None and (reason or note.strip()):
            _give_reason(session, patient_id, day, reason, note.strip(), now, actor)


def _give_reason(
    session: Session,
    patient_id: int,
    day: dt.date,
    reason: str,
    note: str,
    now: dt.datetime,
    actor: Actor,
) -> None:
    """Why the patient stopped, given after the revocation was entered: kept on the
    revocation's step (the last one of that day), the change in the audit trail."""
    event = session.scalars(
        select(EnrolmentEvent)
        .where(
            EnrolmentEvent.patient_id == patient_id,
            EnrolmentEvent.step == REVOKED,
            EnrolmentEvent.day == day,
        )
        .order_by(EnrolmentEvent.id.desc())
    ).first()
    if event is None:  # a revocation from before the history: start it now
        event = add_event(session, patient_id, REVOKED, day, None, "", now, actor)
        session.flush()
    before = _document(REVOKED, day, event.reason, event.note)
    event.reason, event.note = reason or None, note
    after = _document(REVOKED, day, event.reason, event.note)
    if before != after:
        mrn = session.scalar(select(Patient.mrn).where(Patient.id == patient_id))
        audit.record(
            session, at=now, actor=actor, action="enrolment.stop_reason", entity="enrolment",
            entity_key=mrn or "", before=before, after=after, patient_id=patient_id,
        )  # fmt: skip


def stop_problems(reason: str, note: str, revoked: bool) -> list[FieldError]:
    """Why a patient stopped, given with a revocation in the patient editor: one of the
    reasons, "other" with a note, and only beside a revocation day (docs/payers.md)."""
    if not reason and not note.strip():
        return []
    if not revoked:
        return [FieldError("stop_reason", "needs the day consent was revoked")]
    return [
        FieldError(f"stop_{error.field}", error.message)
        for error in reason_problems(REVOKED, reason, note)
    ]


def add_event(
    session: Session,
    patient_id: int,
    step: str,
    day: dt.date,
    reason: str | None,
    note: str,
    now: dt.datetime,
    actor: Actor,
) -> EnrolmentEvent:
    event = EnrolmentEvent(
        patient_id=patient_id, step=step, day=day, reason=reason, note=note,
        recorded_at=now.astimezone(dt.UTC).replace(microsecond=0), recorded_by=actor.key,
    )  # fmt: skip
    session.add(event)
    return event


def _document(step: str, day: dt.date, reason: str | None, note: str) -> dict[str, Any]:
    return {"step": step, "day": day, "reason": reason, "note": note}


class EnrolmentService(ServiceBase):
    """Read a patient's enrolment history; record that care management was offered or
    declined (consent and revocation come from the patient record)."""

    def history(self, actor: Actor, mrn: str) -> Enrolment:
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            patient = patient_by_mrn(session, mrn)
            names = {key: name for key, name in session.execute(select(Staff.staff_id, Staff.name))}
            events = sorted(
                session.scalars(
                    select(EnrolmentEvent).where(EnrolmentEvent.patient_id == patient.id)
                ),
                key=_order,
            )
            steps = tuple(
                EnrolmentStep(
                    e.step,
                    e.day,
                    e.reason or "",
                    e.note,
                    who_did(e.recorded_by, names),
                    e.recorded_at,
                )
                for e in events
            )
            return Enrolment(steps, patient.cannot_pay)

    def offered(self, actor: Actor, mrn: str, day: dt.date, note: str = "") -> EnrolmentStep:
        """Care management was offered to the patient on `day`."""
        return self._record(actor, mrn, OFFERED, day, "", note)

    def declined(
        self, actor: Actor, mrn: str, day: dt.date, reason: str, note: str = ""
    ) -> EnrolmentStep:
        """The patient declined care management on `day`, for `reason`."""
        return self._record(actor, mrn, DECLINED, day, reason, note)

    def _record(
        self, actor: Actor, mrn: str, step: str, day: dt.date, reason: str, note: str
    ) -> EnrolmentStep:
        actor = self._authorize(actor, Permission.EDIT_PATIENTS)
        note = note.strip()
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            errors = reason_problems(step, reason, note)
            if day > self._today(session):
                errors.append(FieldError("day", "is in the future"))
            if errors:
                raise ValidationFailed(errors)
            if step == DECLINED:
                self._refuse_decline_while_enrolled(session, patient, day)
            now = self._now()
            add_event(session, patient.id, step, day, reason or None, note, now, actor)
            audit.record(
                session, at=now, actor=actor, action=f"enrolment.{step}", entity="enrolment",
                entity_key=mrn, after=_document(step, day, reason or None, note),
                patient_id=patient.id,
            )  # fmt: skip
            return EnrolmentStep(step, day, reason, note, actor.name, now)

    def _refuse_decline_while_enrolled(
        self, session: Session, patient: Patient, day: dt.date
    ) -> None:
        enrollment = session.scalars(
            select(Enrollment).where(Enrollment.patient_id == patient.id)
        ).first()
        if enrollment is None or enrollment.consent_date is None:
            return
        revoked = enrollment.consent_revoked_date
        if enrollment.consent_date <= day and (revoked is None or revoked > day):
            raise ServiceError(
                f"{patient.first_name} {patient.last_name} has consent on file from "
                f"{enrollment.consent_date.isoformat()}: to stop care management, enter the "
                "day consent was revoked in the patient's record."
            )
