"""Signed patient-months and closed practice months: which take no changes, and why."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.models import MonthClose, MonthlyReview
from ccmdesk.rules.intervals import Interval, month_label
from ccmdesk.services.errors import ServiceError

SIGNED = "signed"
CLOSED = "closed"


@dataclass(frozen=True)
class Lock:
    """One month that takes no changes: signed for the patient, or closed for the practice."""

    month: str  # YYYY-MM
    why: str  # SIGNED or CLOSED

    def message(self, what: str = "its time") -> str:
        """The sentence a person reads when a change is refused."""
        name = month_label(self.month)
        if self.why == CLOSED:
            return (
                f"{name} is closed for billing; {what} cannot change until an administrator "
                "reopens the month."
            )
        return (
            f"{name} is signed for this patient; {what} cannot change until a practitioner or "
            "an administrator unlocks the month."
        )


def closed_months(session: Session, months: Iterable[str] | None = None) -> set[str]:
    """The months (of these, or all) the practice has closed and nobody has reopened."""
    query = select(MonthClose.month).where(MonthClose.reopened_at.is_(None))
    if months is not None:
        query = query.where(MonthClose.month.in_(sorted(set(months))))
    return set(session.scalars(query))


def signed_months(session: Session, patient_id: int, months: Iterable[str]) -> set[str]:
    """The months of these a practitioner has signed for the patient, not unlocked since."""
    return set(
        session.scalars(
            select(MonthlyReview.month).where(
                MonthlyReview.patient_id == patient_id,
                MonthlyReview.month.in_(sorted(set(months))),
                MonthlyReview.voided_at.is_(None),
            )
        )
    )


@dataclass(frozen=True)
class LockTable:
    """Closed months and signed patient-months, to check many changes against at once."""

    closed: frozenset[str]
    signed: frozenset[tuple[int, str]]  # (patient id, month)

    @classmethod
    def read(cls, session: Session) -> LockTable:
        """Every lock in force (a few rows a patient a month at most)."""
        signed = session.execute(
            select(MonthlyReview.patient_id, MonthlyReview.month).where(
                MonthlyReview.voided_at.is_(None)
            )
        )
        return cls(frozenset(closed_months(session)), frozenset((p, m) for p, m in signed))

    def first(self, patient_id: int, months: Iterable[str]) -> Lock | None:
        """The earliest of these months that takes no changes for the patient; a closed
        month is named before a signed one, since reopening it is the first thing needed."""
        wanted = set(months)
        closed = wanted & self.closed
        if closed:
            return Lock(min(closed), CLOSED)
        signed = {m for m in wanted if (patient_id, m) in self.signed}
        return Lock(min(signed), SIGNED) if signed else None


def first_lock(session: Session, patient_id: int, months: Iterable[str]) -> Lock | None:
    """The earliest of these months that takes no changes for the patient."""
    wanted = set(months)
    if not wanted:
        return None
    table = LockTable(
        frozenset(closed_months(session, wanted)),
        frozenset((patient_id, m) for m in signed_months(session, patient_id, wanted)),
    )
    return table.first(patient_id, wanted)


def refuse_locked(
    session: Session, patient_id: int, months: Iterable[str], what: str = "its time"
) -> None:
    """Raise a ServiceError naming the month when any of these months is locked."""
    lock = first_lock(session, patient_id, months)
    if lock is not None:
        raise ServiceError(lock.message(what))


def locked_spans(
    session: Session, patient_ids: set[int], since: str, bounds: Callable[[str], Interval]
) -> dict[int, list[Interval]]:
    """Each patient's locked months from `since` (YYYY-MM) on, as UTC spans time must keep
    out of; closed months count for every patient."""
    rows = session.execute(
        select(MonthlyReview.patient_id, MonthlyReview.month).where(
            MonthlyReview.patient_id.in_(sorted(patient_ids)),
            MonthlyReview.month >= since,
            MonthlyReview.voided_at.is_(None),
        )
    )
    months: dict[int, set[str]] = {pid: set() for pid in patient_ids}
    for patient_id, month in rows:
        months[patient_id].add(month)
    closed = {
        m
        for m in session.scalars(
            select(MonthClose.month).where(
                MonthClose.reopened_at.is_(None), MonthClose.month >= since
            )
        )
    }
    return {
        pid: [bounds(month) for month in sorted(found | closed)]
        for pid, found in months.items()
        if found or closed
    }
