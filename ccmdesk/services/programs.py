"""A patient's program (CCM, PCM by focus, APCM) from a month onward: set, removed, read back."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ccmdesk.models import MonthlyReview, Patient, ProgramPeriod, Staff
from ccmdesk.rules.programs import (
    FROM_THE_START,
    ProgramChoice,
    from_text,
    in_force,
    program_choice,
    same_program,
)
from ccmdesk.rules.validation import ParseError, parse_month
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, patient_by_mrn, who_did
from ccmdesk.services.billing import queries
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import NotFound, ServiceError, ValidationFailed
from ccmdesk.services.locks import Lock, LockTable, closed_months

# What a refusal says cannot change in a signed or closed month (services/locks.py words it).
WHAT = "the patient's program from that month on"
ACTION_SET, ACTION_REMOVE = "patient.program", "patient.program_remove"


@dataclass(frozen=True)
class ProgramPeriodRow:
    """One period of a patient's program history, as the editor lists it."""

    from_month: str  # YYYY-MM, or "" from the start
    program: str
    focus_condition: str | None
    recorded_by: str  # the key it was recorded under
    recorded_by_name: str
    recorded_at: dt.datetime

    @property
    def choice(self) -> ProgramChoice:
        return ProgramChoice(self.from_month, self.program, self.focus_condition)

    @property
    def starts(self) -> str:
        return from_text(self.from_month)


def stored_periods(session: Session, patient_id: int) -> list[ProgramPeriod]:
    return list(
        session.scalars(
            select(ProgramPeriod)
            .where(ProgramPeriod.patient_id == patient_id)
            .order_by(ProgramPeriod.from_month)
        )
    )


def _choice(period: ProgramPeriod) -> ProgramChoice:
    return ProgramChoice(period.from_month, period.program, period.focus_condition)


@dataclass(frozen=True)
class ProgramLocks:
    """Closed months and patients' signed months, read once for many program changes (an
    import); a change from a month is refused while any month from then on is locked
    (docs/billing-rules.md, "Programs")."""

    closed: frozenset[str]
    signed: dict[int, frozenset[str]]

    @classmethod
    def read(cls, session: Session, patient_id: int | None = None) -> ProgramLocks:
        """Every lock in force, or those of one patient (and every closed month)."""
        query = select(MonthlyReview.patient_id, MonthlyReview.month).where(
            MonthlyReview.voided_at.is_(None)
        )
        if patient_id is not None:
            query = query.where(MonthlyReview.patient_id == patient_id)
        signed: dict[int, set[str]] = {}
        for pid, month in session.execute(query):
            signed.setdefault(pid, set()).add(month)
        return cls(frozenset(closed_months(session)), {p: frozenset(m) for p, m in signed.items()})

    @classmethod
    def of(cls, table: LockTable) -> ProgramLocks:
        signed: dict[int, set[str]] = {}
        for pid, month in table.signed:
            signed.setdefault(pid, set()).add(month)
        return cls(table.closed, {p: frozenset(m) for p, m in signed.items()})

    def first(self, patient_id: int, from_month: str) -> Lock | None:
        """The first locked month from `from_month` on ("" is every month); a closed month is
        named before a signed one, since reopening it is the first thing needed."""
        signed = {m for m in self.signed.get(patient_id, ()) if m >= from_month}
        closed = {m for m in self.closed if m >= from_month}
        table = LockTable(self.closed, frozenset((patient_id, m) for m in signed))
        return table.first(patient_id, signed | closed)


def program_lock(session: Session, patient_id: int, from_month: str) -> Lock | None:
    """The first signed (for the patient) or closed month from `from_month` on."""
    return ProgramLocks.read(session, patient_id).first(patient_id, from_month)


def periods_of(session: Session, patient_ids: Iterable[int]) -> dict[int, list[ProgramChoice]]:
    """The program periods of these patients, by patient id (one query for a batch)."""
    found: dict[int, list[ProgramChoice]] = {}
    query = select(ProgramPeriod).where(ProgramPeriod.patient_id.in_(sorted(set(patient_ids))))
    for period in session.scalars(query):
        found.setdefault(period.patient_id, []).append(_choice(period))
    return found


def change_refusal(
    periods: Iterable[ProgramChoice], choice: ProgramChoice, locks: ProgramLocks, patient_id: int
) -> str | None:
    """Why `choice` may not be put in force (a signed or closed month), or None: also None
    when it is in force then already, which is no change at all."""
    if same_program(in_force(periods, choice.from_month), choice):
        return None
    lock = locks.first(patient_id, choice.from_month)
    return lock.message(WHAT) if lock is not None else None


def _form(choice: ProgramChoice | None) -> dict[str, Any] | None:
    return dataclasses.asdict(choice) if choice is not None else None


def apply_program(
    session: Session,
    patient_id: int,
    choice: ProgramChoice,
    *,
    at: dt.datetime,
    actor: Actor,
    entity_key: str,
    reason: str = "",
    locks: ProgramLocks | None = None,
) -> bool:
    """Put `choice` in force from its month, in the caller's write transaction (True), or
    nothing when that program is in force then already (False); a ServiceError when a signed
    or closed month from then on forbids it. The period starting then is made or replaced and
    audited; later periods stay. The patients import uses it too (with `locks` read once), so
    a file and a person are judged alike."""
    periods = stored_periods(session, patient_id)
    current = in_force([_choice(p) for p in periods], choice.from_month)
    if same_program(current, choice):
        return False
    locks = locks or ProgramLocks.read(session, patient_id)
    if lock := locks.first(patient_id, choice.from_month):
        raise ServiceError(lock.message(WHAT))
    existing = next((p for p in periods if p.from_month == choice.from_month), None)
    before = _choice(existing) if existing is not None else None
    if existing is None:
        existing = ProgramPeriod(patient_id=patient_id, from_month=choice.from_month)
        session.add(existing)
    existing.program = choice.program
    existing.focus_condition = choice.focus_condition
    existing.recorded_at = at.replace(microsecond=0)
    existing.recorded_by = actor.key
    _flush(session)
    audit.record(
        session, at=at, actor=actor, action=ACTION_SET, entity="patient", entity_key=entity_key,
        before=_form(before) or {"in_force": _form(current)}, after=_form(choice),
        patient_id=patient_id, reason=reason,
    )  # fmt: skip
    return True


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError:
        # The write lock makes this unlikely; a clash on (patient, month) still gets a sentence.
        raise ServiceError(
            "Someone else changed this patient's program at the same moment; reload the "
            "patient and try again."
        ) from None


def program_key(mrn: str, from_month: str) -> str:
    """The audit trail's key of a program period: the MRN and its first month."""
    return f"{mrn} program {from_month or 'start'}"


def checked_from_month(from_month: str) -> str:
    if not from_month:
        return FROM_THE_START
    try:
        return parse_month(from_month)
    except ParseError as exc:
        raise ServiceError(f"The program's first month: {exc}.") from exc


class ProgramService(ServiceBase):
    """Which program each patient is billed under, from which month; every change audited."""

    def set(
        self,
        actor: Actor,
        mrn: str,
        program: str,
        from_month: str,
        focus_condition: str | None = None,
    ) -> bool:
        """Put `program` in force from `from_month` ("YYYY-MM", or "" from the start), with
        its focus condition for pcm_focus. True when something changed; False when that
        program was in force then already (no audit event). Refused (ServiceError) when a
        month from then on is signed for the patient or closed for the practice."""
        actor = self._authorize(actor, Permission.SET_PROGRAM)
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            choice, errors = program_choice(
                program,
                from_month,
                focus_condition,
                queries.conditions(session, Patient.id == patient.id).get(patient.id, []),
            )
            if errors:
                raise ValidationFailed(errors)
            return apply_program(
                session, patient.id, choice, at=self._now(), actor=actor,
                entity_key=program_key(mrn, choice.from_month),
            )  # fmt: skip

    def remove(self, actor: Actor, mrn: str, from_month: str) -> None:
        """Remove the period that starts at `from_month` (the one before it, or CCM, takes
        over); refused as `set` is when a month from then on is signed or closed."""
        actor = self._authorize(actor, Permission.SET_PROGRAM)
        month = checked_from_month(from_month)
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            period = session.scalars(
                select(ProgramPeriod).where(
                    ProgramPeriod.patient_id == patient.id, ProgramPeriod.from_month == month
                )
            ).first()
            if period is None:
                raise NotFound(
                    f"No program period of this patient starts {from_text(month)}; reload the "
                    "patient."
                )
            if lock := program_lock(session, patient.id, month):
                raise ServiceError(lock.message(WHAT))
            before = _choice(period)
            session.delete(period)
            session.flush()
            after = in_force([_choice(p) for p in stored_periods(session, patient.id)], month)
            audit.record(
                session, at=self._now(), actor=actor, action=ACTION_REMOVE, entity="patient",
                entity_key=program_key(mrn, month), before=_form(before),
                after={"in_force": _form(after)}, patient_id=patient.id,
            )  # fmt: skip

    def history(self, actor: Actor, mrn: str) -> list[ProgramPeriodRow]:
        """The patient's program periods, first month first (none: CCM throughout)."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            patient = patient_by_mrn(session, mrn)
            periods = stored_periods(session, patient.id)
            names = {
                key: name
                for key, name in session.execute(
                    select(Staff.staff_id, Staff.name).where(
                        Staff.staff_id.in_({p.recorded_by for p in periods})
                    )
                )
            }
            return [
                ProgramPeriodRow(
                    p.from_month,
                    p.program,
                    p.focus_condition,
                    p.recorded_by,
                    who_did(p.recorded_by, names),
                    p.recorded_at,
                )
                for p in periods
            ]

    def program_in(self, actor: Actor, mrn: str, month: str) -> tuple[str, str | None]:
        """(program, focus condition) in force for the patient in a month (YYYY-MM)."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        month = checked_from_month(month)
        with self._db.read() as session:
            patient = patient_by_mrn(session, mrn)
            found = in_force([_choice(p) for p in stored_periods(session, patient.id)], month)
            return found.program, found.focus_condition
