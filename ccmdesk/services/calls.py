"""A patient's call log and callbacks: outreach recorded, never counted as time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from ccmdesk.models import CallAttempt, Callback, Patient, Staff, TimeEntry
from ccmdesk.rules.calls import attempt_errors, callback_errors, closes_callback
from ccmdesk.rules.records import FieldError
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, patient_by_mrn, staff_names, who_did
from ccmdesk.services.context import PERMISSIONS, Actor, Permission
from ccmdesk.services.errors import NotFound, ServiceError, ValidationFailed

# Who may be asked to call back: whoever may log calls (docs/permissions.md).
CALLERS = PERMISSIONS[Permission.LOG_CALLS]


def _entry_finished() -> ColumnElement[bool]:
    """The callback's linked stopwatch was stopped and kept: the call was made and timed."""
    return exists().where(
        TimeEntry.id == Callback.time_entry_id,
        TimeEntry.state == "stopped",
        TimeEntry.deleted_at.is_(None),
    )


def callback_open() -> ColumnElement[bool]:
    """A callback still to make: not done, not cancelled, and not answered by a stopwatch
    started from it and stopped since (derived, so the stopwatch never writes callbacks)."""
    return and_(Callback.done_at.is_(None), Callback.cancelled_at.is_(None), ~_entry_finished())


def callbacks_for(staff_id: int | None) -> ColumnElement[bool]:
    """The callbacks a person is to make: assigned to them, or to nobody (then the patient's
    care manager's, and whoever works the patient's list). None: everyone's (the command line)."""
    if staff_id is None:
        return Callback.id.is_not(None)
    return or_(Callback.assigned_to_id == staff_id, Callback.assigned_to_id.is_(None))


@dataclass(frozen=True)
class CallRow:
    """One call attempt as the call log shows it."""

    attempt_id: int
    mrn: str
    at: dt.datetime
    caller: str  # who called (a name), or who recorded it
    outcome: str
    phone: str
    note: str
    callback_id: int | None  # the callback it answered


@dataclass(frozen=True)
class CallbackRow:
    """One callback: when, for whom, and whether it is still to make."""

    callback_id: int
    mrn: str
    patient_name: str
    due_at: dt.datetime
    assigned_to: str  # staff_id; "" for the patient's care manager
    assigned_name: str  # "" for the patient's care manager
    note: str
    created_at: dt.datetime
    created_by: str  # a name
    time_entry_id: int | None
    status: str  # open, done, cancelled
    closed_at: dt.datetime | None  # done or cancelled at (None when done by a timed call)

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class CallLog:
    """A patient's numbers, preferred time, attempts and callbacks, the newest first."""

    mrn: str
    phones: tuple[tuple[str, str], ...]  # (label, number) for each number on file
    preferred_call_time: str  # "" or a key of catalog.PREFERRED_CALL_TIMES
    attempts: tuple[CallRow, ...]
    callbacks: tuple[CallbackRow, ...]

    @property
    def open_callbacks(self) -> tuple[CallbackRow, ...]:
        """The callbacks still to make, the earliest due first."""
        return tuple(sorted((c for c in self.callbacks if c.is_open), key=lambda c: c.due_at))


def phones_of(home: str, mobile: str, other: str) -> tuple[tuple[str, str], ...]:
    """A patient's numbers on file (patient.phone, mobile_phone, other_phone) with what they
    are."""
    numbers = (("Home", home), ("Mobile", mobile), ("Other", other))
    return tuple((label, number) for label, number in numbers if number)


class CallService(ServiceBase):
    """Log call attempts, schedule, finish, cancel and link callbacks; every write audited."""

    def patient_log(self, actor: Actor, mrn: str) -> CallLog:
        """The patient's numbers, call attempts and callbacks, the newest first."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            patient = patient_by_mrn(session, mrn)
            names = staff_names(session)
            attempts = session.scalars(
                select(CallAttempt)
                .where(CallAttempt.patient_id == patient.id)
                .order_by(CallAttempt.at.desc(), CallAttempt.id.desc())
            ).all()
            staff_keys = {
                sid: key for sid, key in session.execute(select(Staff.id, Staff.staff_id))
            }
            rows = tuple(
                CallRow(
                    a.id,
                    mrn,
                    a.at,
                    who_did(staff_keys.get(a.staff_id or 0, a.recorded_by), names),
                    a.outcome,
                    a.phone,
                    a.note,
                    a.callback_id,
                )
                for a in attempts
            )
            callbacks = self._callbacks(session, Callback.patient_id == patient.id)
            phones = phones_of(patient.phone, patient.mobile_phone, patient.other_phone)
            return CallLog(mrn, phones, patient.preferred_call_time, rows, callbacks)

    def due(self, actor: Actor, until: dt.datetime) -> tuple[CallbackRow, ...]:
        """The open callbacks the actor is to make that are due by `until`, the earliest first
        (unassigned ones only for patients they manage; the command line: everyone's)."""
        actor = self._authorize(actor, Permission.VIEW_PATIENTS)
        with self._db.read() as session:
            me = _staff_id(session, actor)
            which: ColumnElement[bool] = and_(callback_open(), Callback.due_at <= until)
            if me is not None:
                mine = select(Patient.id).where(
                    or_(Patient.care_manager_id == me, Patient.billing_practitioner_id == me)
                )
                which = and_(
                    which,
                    or_(
                        Callback.assigned_to_id == me,
                        and_(Callback.assigned_to_id.is_(None), Callback.patient_id.in_(mine)),
                    ),
                )
            rows = self._callbacks(session, which)
        return tuple(sorted(rows, key=lambda r: r.due_at))

    def record_attempt(
        self,
        actor: Actor,
        mrn: str,
        outcome: str,
        phone: str = "",
        note: str = "",
        *,
        callback_id: int | None = None,
        at: dt.datetime | None = None,
        call_back_at: dt.datetime | None = None,
    ) -> CallRow:
        """Log a call made to the patient (`at` defaults to now; never in the future).

        Made from a callback, the call closes it when its outcome needs no other try
        (rules/calls.py). `call_back_at` schedules the next call in the same step, for the
        patient's care manager. The call is a record: it writes no time (docs/calls.md).
        """
        actor = self._authorize(actor, Permission.LOG_CALLS)
        now = self._now().replace(microsecond=0)
        at = (at or now).replace(microsecond=0)
        errors = attempt_errors(outcome, phone, note, at, now)
        if call_back_at is not None:
            errors += callback_errors(call_back_at, "", now)
        if errors:
            raise ValidationFailed(errors)
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            answered = None
            if callback_id is not None:
                answered = self._open_callback(session, callback_id)
                if answered.patient_id != patient.id:
                    raise ServiceError("That callback is another patient's; log the call there.")
            attempt = CallAttempt(
                patient_id=patient.id, staff_id=_staff_id(session, actor), at=at, outcome=outcome,
                phone=phone.strip(), note=note.strip(), callback_id=callback_id,
                recorded_by=actor.key,
            )  # fmt: skip
            session.add(attempt)
            session.flush()
            audit.record(
                session, at=now, actor=actor, action="patient.call", entity="call",
                entity_key=f"{mrn} {at.isoformat()}", after=_attempt_form(attempt),
                patient_id=patient.id,
            )  # fmt: skip
            if answered is not None and closes_callback(outcome):
                self._close(session, actor, answered, mrn, "done", now)
            if call_back_at is not None:
                add_callback(session, actor, patient, mrn, call_back_at, None, "", now)
            names = staff_names(session)
            return CallRow(
                attempt.id, mrn, at, who_did(actor.key, names), outcome, attempt.phone,
                attempt.note, callback_id,
            )  # fmt: skip

    def schedule(
        self,
        actor: Actor,
        mrn: str,
        due_at: dt.datetime,
        assigned_to: str | None = None,
        note: str = "",
    ) -> CallbackRow:
        """Promise the patient a call at `due_at` (ahead of now), by `assigned_to` (a staff_id
        of the care team or the schedulers; None: the patient's care manager)."""
        actor = self._authorize(actor, Permission.LOG_CALLS)
        now = self._now().replace(microsecond=0)
        if errors := callback_errors(due_at, note, now):
            raise ValidationFailed(errors)
        with self._db.session() as session:
            patient = patient_by_mrn(session, mrn)
            assignee = _assignee(session, assigned_to)
            callback = add_callback(session, actor, patient, mrn, due_at, assignee, note, now)
            return self._callbacks(session, Callback.id == callback.id)[0]

    def done(self, actor: Actor, callback_id: int) -> CallbackRow:
        """Mark an open callback as made."""
        return self._finish(actor, callback_id, "done")

    def cancel(self, actor: Actor, callback_id: int) -> CallbackRow:
        """Cancel an open callback (no longer needed)."""
        return self._finish(actor, callback_id, "cancelled")

    def link(self, actor: Actor, callback_id: int, time_entry_id: int) -> CallbackRow:
        """The stopwatch `time_entry_id` was started to make this callback: once that entry is
        stopped (and not deleted) the callback counts as done."""
        actor = self._authorize(actor, Permission.LOG_CALLS)
        now = self._now().replace(microsecond=0)
        with self._db.session() as session:
            callback = self._open_callback(session, callback_id)
            entry = session.get(TimeEntry, time_entry_id)
            if entry is None or entry.deleted_at is not None:
                raise NotFound("That time entry is not on file any more.")
            if entry.patient_id != callback.patient_id:
                raise ServiceError("That stopwatch times another patient; it cannot answer this "
                                   "callback.")  # fmt: skip
            mrn = _mrn(session, callback.patient_id)
            before = {"time_entry_id": callback.time_entry_id}
            callback.time_entry_id = entry.id
            session.flush()
            audit.record(
                session, at=now, actor=actor, action="patient.callback_link", entity="callback",
                entity_key=f"{mrn} {callback.id}", before=before,
                after={"time_entry_id": entry.id}, patient_id=callback.patient_id,
            )  # fmt: skip
            return self._callbacks(session, Callback.id == callback.id)[0]

    # --- helpers ----------------------------------------------------------------------------

    def _finish(self, actor: Actor, callback_id: int, status: str) -> CallbackRow:
        actor = self._authorize(actor, Permission.LOG_CALLS)
        now = self._now().replace(microsecond=0)
        with self._db.session() as session:
            callback = self._open_callback(session, callback_id)
            mrn = _mrn(session, callback.patient_id)
            self._close(session, actor, callback, mrn, status, now)
            return self._callbacks(session, Callback.id == callback.id)[0]

    @staticmethod
    def _close(
        session: Session, actor: Actor, callback: Callback, mrn: str, status: str, now: dt.datetime
    ) -> None:
        if status == "done":
            callback.done_at, callback.done_by = now, actor.key
        else:
            callback.cancelled_at = now
        session.flush()
        action = "patient.callback_done" if status == "done" else "patient.callback_cancel"
        audit.record(
            session, at=now, actor=actor, action=action, entity="callback",
            entity_key=f"{mrn} {callback.id}", before={"status": "open"},
            after={"status": status}, patient_id=callback.patient_id,
        )  # fmt: skip

    @staticmethod
    def _open_callback(session: Session, callback_id: int) -> Callback:
        callback = session.scalars(
            select(Callback).where(Callback.id == callback_id, callback_open())
        ).first()
        if callback is not None:
            return callback
        if session.get(Callback, callback_id) is None:
            raise NotFound("That callback is not on file any more; reload the patient.")
        raise ServiceError("That callback is already done or cancelled; reload the patient.")

    @staticmethod
    def _callbacks(session: Session, which: ColumnElement[bool]) -> tuple[CallbackRow, ...]:
        names = staff_names(session)
        assignee = {sid: (key, name) for sid, key, name in session.execute(
            select(Staff.id, Staff.staff_id, Staff.name))}  # fmt: skip
        finished = _entry_finished().label("finished")
        rows = session.execute(
            select(Callback, Patient.mrn, Patient.first_name, Patient.last_name, finished)
            .join(Patient, Patient.id == Callback.patient_id)
            .where(which)
            .order_by(Callback.due_at.desc(), Callback.id.desc())
        ).all()
        return tuple(
            _callback_row(c, mrn, f"{first} {last}", bool(done_by_entry), names, assignee)
            for c, mrn, first, last, done_by_entry in rows
        )


def add_callback(
    session: Session,
    actor: Actor,
    patient: Patient,
    mrn: str,
    due_at: dt.datetime,
    assignee: int | None,
    note: str,
    now: dt.datetime,
) -> Callback:
    """Store and audit a callback, checked by the caller (the demo adds an overdue one)."""
    callback = Callback(
        patient_id=patient.id, due_at=due_at.replace(microsecond=0), assigned_to_id=assignee,
        note=note.strip(), created_at=now, created_by=actor.key,
    )  # fmt: skip
    session.add(callback)
    session.flush()
    assigned = session.get(Staff, assignee) if assignee is not None else None
    audit.record(
        session, at=now, actor=actor, action="patient.callback", entity="callback",
        entity_key=f"{mrn} {callback.id}",
        after={"due_at": callback.due_at, "assigned_to": assigned.staff_id if assigned else "",
               "note": callback.note},
        patient_id=patient.id,
    )  # fmt: skip
    return callback


def _callback_row(
    c: Callback,
    mrn: str,
    name: str,
    done_by_entry: bool,
    names: dict[str, str],
    assignee: dict[int, tuple[str, str]],
) -> CallbackRow:
    if c.cancelled_at is not None:
        status, closed = "cancelled", c.cancelled_at
    elif c.done_at is not None:
        status, closed = "done", c.done_at
    elif done_by_entry:
        status, closed = "done", None
    else:
        status, closed = "open", None
    key, assigned_name = assignee.get(c.assigned_to_id or 0, ("", ""))
    return CallbackRow(
        c.id, mrn, name, c.due_at, key, assigned_name, c.note, c.created_at,
        who_did(c.created_by, names), c.time_entry_id, status, closed,
    )  # fmt: skip


def _staff_id(session: Session, actor: Actor) -> int | None:
    """The actor's staff row id; None for the command line."""
    return session.scalars(select(Staff.id).where(Staff.staff_id == actor.key)).first()


def _mrn(session: Session, patient_id: int) -> str:
    return session.scalars(select(Patient.mrn).where(Patient.id == patient_id)).one()


def _assignee(session: Session, staff_key: str | None) -> int | None:
    if not staff_key:
        return None
    staff = session.scalars(select(Staff).where(Staff.staff_id == staff_key)).first()
    if staff is None:
        raise ValidationFailed([FieldError("assigned_to", f"no staff member has staff_id "
                                           f"'{staff_key}'")])  # fmt: skip
    if not staff.active:
        raise ValidationFailed([FieldError("assigned_to", f"{staff.name} is no longer active")])
    if staff.role not in CALLERS:
        raise ValidationFailed(
            [
                FieldError(
                    "assigned_to",
                    f"{staff.name} does not call patients; "
                    "choose someone of the care team or a scheduler",
                )
            ]
        )
    return staff.id


def _attempt_form(attempt: CallAttempt) -> dict[str, Any]:
    return {
        "at": attempt.at, "outcome": attempt.outcome, "phone": attempt.phone,
        "note": attempt.note, "callback_id": attempt.callback_id,
    }  # fmt: skip


def open_callbacks_by_patient(
    session: Session, patient_ids: Iterable[int] | None, staff_id: int | None
) -> dict[int, tuple[int, dt.datetime]]:
    """Each patient's earliest open callback for this person (or unassigned): (id, due)."""
    which = and_(callback_open(), callbacks_for(staff_id))
    if patient_ids is not None:
        which = and_(which, Callback.patient_id.in_(list(patient_ids)))
    found: dict[int, tuple[int, dt.datetime]] = {}
    for cid, pid, due in session.execute(
        select(Callback.id, Callback.patient_id, Callback.due_at)
        .where(which)
        .order_by(Callback.due_at, Callback.id)
    ):
        found.setdefault(pid, (cid, due))
    return found


def last_outcomes(session: Session, patient_ids: Iterable[int] | None) -> dict[int, str]:
    """Each patient's latest call attempt's outcome."""
    query = select(CallAttempt.patient_id, CallAttempt.outcome).order_by(
        CallAttempt.patient_id, CallAttempt.at, CallAttempt.id
    )
    if patient_ids is not None:
        query = query.where(CallAttempt.patient_id.in_(list(patient_ids)))
    return {pid: outcome for pid, outcome in session.execute(query)}  # later rows win: the latest
