"""Financial-hardship waivers of a patient's coinsurance: recorded and kept by billing staff."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.models import MonthlyReview, Patient, Staff, Waiver
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.waivers import (
    APPROVER_ROLES,
    WaiverRecord,
    overlaps,
    span_text,
    touched_months,
    waiver_from_text,
)
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, patient_by_mrn
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import NotFound, ServiceError, ValidationFailed
from ccmdesk.services.locks import LockTable, closed_months

# What a refusal says cannot change in a signed or closed month (services/locks.py words it).
WHAT = "whether its coinsurance is waived"


@dataclass(frozen=True)
class WaiverRow:
    """A stored waiver as the lists show it."""

    waiver_id: int
    record: WaiverRecord
    patient_name: str  # "Last, First"
    approved_by_name: str
    recorded_by: str
    recorded_at: dt.datetime

    @property
    def span(self) -> str:
        return span_text(self.record)


@dataclass(frozen=True)
class Approver:
    """A staff member who may approve a waiver."""

    staff_id: str
    name: str
    active: bool


def waiver_record(waiver: Waiver, mrn: str, approver_key: str) -> WaiverRecord:
    return WaiverRecord(
        mrn=mrn,
        from_month=waiver.from_month,
        to_month=waiver.to_month,
        approved_by=approver_key,
        approved_on=waiver.approved_on,
        reason=waiver.reason,
    )


def audit_form(record: WaiverRecord) -> dict[str, Any]:
    return dataclasses.asdict(record)


def approver_error(
    record: WaiverRecord, approvers: Mapping[str, Approver], previous: str | None = None
) -> FieldError | None:
    """The approver must be billing staff or an administrator, and active unless the waiver
    already names them (a waiver approved by someone who has left can still be ended)."""
    if not record.approved_by:
        return FieldError("approved_by", "is required: the staff_id of who approved the waiver")
    approver = approvers.get(record.approved_by)
    if approver is None:
        return FieldError(
            "approved_by",
            f"'{record.approved_by}' is not billing staff or an administrator; only they "
            "approve hardship waivers",
        )
    if not approver.active and record.approved_by != previous:
        return FieldError("approved_by", f"'{record.approved_by}' is no longer active")
    return None


def overlap_error(record: WaiverRecord, others: Iterable[WaiverRecord]) -> FieldError | None:
    """A patient's waivers never overlap (docs/payers.md)."""
    for other in others:
        if overlaps(record, other):
            return FieldError(
                "from_month",
                f"overlaps the patient's waiver {span_text(other)}; change or end that one first",
            )
    return None


def read_approvers(session: Session) -> dict[str, Approver]:
    rows = session.execute(
        select(Staff.staff_id, Staff.name, Staff.active).where(Staff.role.in_(APPROVER_ROLES))
    )
    return {key: Approver(key, name, active) for key, name, active in rows}


def patient_locks(session: Session, patient_id: int, since: str) -> LockTable:
    """The closed months and the patient's signed months from `since` on: an open-ended
    waiver is judged against the locks that exist (docs/payers.md)."""
    signed = session.scalars(
        select(MonthlyReview.month).where(
            MonthlyReview.patient_id == patient_id,
            MonthlyReview.month >= since,
            MonthlyReview.voided_at.is_(None),
        )
    )
    closed = {m for m in closed_months(session) if m >= since}
    return LockTable(frozenset(closed), frozenset((patient_id, m) for m in signed))


def lock_error(
    table: LockTable, patient_id: int, before: WaiverRecord | None, after: WaiverRecord | None
) -> str | None:
    """The refusal when the change touches a signed or closed month, naming the month."""
    months = set(table.closed) | {m for p, m in table.signed if p == patient_id}
    lock = table.first(patient_id, touched_months(before, after, months))
    return lock.message(WHAT) if lock is not None else None


def _since(*records: WaiverRecord | None) -> str:
    return min(r.from_month for r in records if r is not None)


class WaiverService(ServiceBase):
    """Record, change, end, delete and list hardship waivers; each change is audited."""

    def approvers(self, actor: Actor) -> list[Approver]:
        """Who may approve a waiver (billing staff and administrators), by name."""
        actor = self._authorize(actor, Permission.MANAGE_WAIVERS)
        with self._db.read() as session:
            return sorted(read_approvers(session).values(), key=lambda a: (a.name, a.staff_id))

    def list(self, actor: Actor, mrn: str | None = None) -> list[WaiverRow]:
        """Every waiver (by patient, then first month), or one patient's."""
        actor = self._authorize(actor, Permission.MANAGE_WAIVERS)
        with self._db.read() as session:
            query = (
                select(Waiver, Patient.mrn, Patient.last_name, Patient.first_name,
                       Staff.staff_id, Staff.name)
                .join(Patient, Patient.id == Waiver.patient_id)
                .join(Staff, Staff.id == Waiver.approved_by_id)
                .order_by(Patient.last_name, Patient.first_name, Patient.mrn, Waiver.from_month)
            )  # fmt: skip
            if mrn is not None:
                patient_by_mrn(session, mrn)  # a clear NotFound for a wrong MRN
                query = query.where(Patient.mrn == mrn)
            return [
                WaiverRow(
                    waiver.id,
                    waiver_record(waiver, found, key),
                    f"{last}, {first}",
                    name,
                    waiver.recorded_by,
                    waiver.recorded_at,
                )
                for waiver, found, last, first, key, name in session.execute(query)
            ]

    def record_text(self, actor: Actor, raw: Mapping[str, str]) -> WaiverRow:
        """Record a new waiver from column -> text; the approver defaults to the actor."""
        actor = self._authorize(actor, Permission.MANAGE_WAIVERS)
        return self._save(actor, None, raw)

    def change_text(self, actor: Actor, waiver_id: int, raw: Mapping[str, str]) -> WaiverRow:
        """Change a waiver (its months, approval or reason); the MRN stays the waiver's."""
        actor = self._authorize(actor, Permission.MANAGE_WAIVERS)
        return self._save(actor, waiver_id, raw)

    def end(self, actor: Actor, waiver_id: int, last_month: str) -> WaiverRow:
        """End a waiver with `last_month` as its last month covered."""
        actor = self._authorize(actor, Permission.MANAGE_WAIVERS)
        with self._db.read() as session:
            _, record = self._find(session, waiver_id)
        raw = {**_text(record), "to_month": last_month}
        return self._save(actor, waiver_id, raw)

    def delete(self, actor: Actor, waiver_id: int) -> None:
        """Remove a waiver recorded by mistake; refused when it covers a signed or closed
        month (end it after that month instead)."""
        actor = self._authorize(actor, Permission.MANAGE_WAIVERS)
        with self._db.session() as session:
            waiver, before = self._find(session, waiver_id)
            table = patient_locks(session, waiver.patient_id, before.from_month)
            if message := lock_error(table, waiver.patient_id, before, None):
                raise ServiceError(message)
            session.delete(waiver)
            audit.record(
                session, at=self._now(), actor=actor, action="waiver.delete", entity="waiver",
                entity_key=f"{before.mrn} {before.from_month}", before=audit_form(before),
                patient_id=waiver.patient_id,
            )  # fmt: skip

    def _save(self, actor: Actor, waiver_id: int | None, raw: Mapping[str, str]) -> WaiverRow:
        with self._db.session() as session:
            waiver: Waiver | None = None
            before: WaiverRecord | None = None
            if waiver_id is not None:
                waiver, before = self._find(session, waiver_id)
                raw = {**raw, "mrn": before.mrn}
            raw = dict(raw)
            if not raw.get("approved_by", "").strip() and not actor.key.startswith("cli:"):
                raw["approved_by"] = actor.key
            record, errors = waiver_from_text(raw, self._today(session))
            patient = None
            if record.mrn:
                patient = session.scalars(select(Patient).where(Patient.mrn == record.mrn)).first()
                if patient is None:
                    errors.append(FieldError("mrn", f"no patient has MRN '{record.mrn}'"))
            approvers = read_approvers(session)
            if error := approver_error(record, approvers, before.approved_by if before else None):
                errors.append(error)
            if errors or patient is None:
                raise ValidationFailed(errors)
            others = [
                waiver_record(w, record.mrn, "")
                for w in session.scalars(select(Waiver).where(Waiver.patient_id == patient.id))
                if w.id != waiver_id
            ]
            if error := overlap_error(record, others):
                raise ValidationFailed([error])
            table = patient_locks(session, patient.id, _since(before, record))
            if message := lock_error(table, patient.id, before, record):
                raise ServiceError(message)
            if before == record:
                assert waiver is not None
                return self._row(session, waiver, record)
            staff_id = session.scalars(
                select(Staff.id).where(Staff.staff_id == record.approved_by)
            ).one()
            now = self._now()
            if waiver is None:
                waiver = Waiver(patient_id=patient.id, recorded_at=now, recorded_by=actor.key)
                session.add(waiver)
            waiver.from_month = record.from_month
            waiver.to_month = record.to_month
            waiver.approved_by_id = staff_id
            assert record.approved_on is not None  # checked
            waiver.approved_on = record.approved_on
            waiver.reason = record.reason
            session.flush()
            action = "waiver.create" if before is None else "waiver.update"
            if (
                before is not None
                and before.to_month != record.to_month
                and _only_end(before, record)
            ):
                action = "waiver.end"
            audit.record(
                session, at=now, actor=actor, action=action, entity="waiver",
                entity_key=f"{record.mrn} {record.from_month}",
                before=audit_form(before) if before else None, after=audit_form(record),
                patient_id=patient.id,
            )  # fmt: skip
            return self._row(session, waiver, record)

    def _row(self, session: Session, waiver: Waiver, record: WaiverRecord) -> WaiverRow:
        patient = session.get(Patient, waiver.patient_id)
        approver = session.get(Staff, waiver.approved_by_id)
        assert patient is not None and approver is not None
        return WaiverRow(
            waiver.id, record, f"{patient.last_name}, {patient.first_name}", approver.name,
            waiver.recorded_by, waiver.recorded_at,
        )  # fmt: skip

    def _find(self, session: Session, waiver_id: int) -> tuple[Waiver, WaiverRecord]:
        waiver = session.get(Waiver, waiver_id)
        if waiver is None:
            raise NotFound("That hardship waiver is not on file any more; reload the list.")
        mrn = session.scalars(select(Patient.mrn).where(Patient.id == waiver.patient_id)).one()
        key = session.scalars(select(Staff.staff_id).where(Staff.id == waiver.approved_by_id)).one()
        return waiver, waiver_record(waiver, mrn, key)


def _only_end(before: WaiverRecord, after: WaiverRecord) -> bool:
    return dataclasses.replace(before, to_month=after.to_month) == after


def _text(record: WaiverRecord) -> dict[str, str]:
    """A record as the column -> text a dialog or a file gives."""
    return {
        "mrn": record.mrn,
        "from_month": record.from_month,
        "to_month": record.to_month or "",
        "approved_by": record.approved_by,
        "approved_on": record.approved_on.isoformat() if record.approved_on else "",
        "reason": record.reason,
    }
