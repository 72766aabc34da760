"""Closing a month for billing after export, and reopening it through an audited unlock."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import or_, select

from ccmdesk.db import Database
from ccmdesk.models import MonthClose, Staff, TimeEntry, TimeSegment
from ccmdesk.rules.intervals import month_label, month_of
from ccmdesk.rules.minutes import month_bounds
from ccmdesk.rules.records import FieldError
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, checked_month, checked_reason, practice_zone
from ccmdesk.services.billing import BillingService, collector_paused
from ccmdesk.services.context import Actor, Clock, Permission
from ccmdesk.services.errors import ServiceError, ValidationFailed


@dataclass(frozen=True)
class Closing:
    """One closing of the month, and its reopening if there was one."""

    closed_at: dt.datetime
    closed_by: str  # name
    reopened_at: dt.datetime | None = None
    reopened_by: str = ""
    reason: str = ""


@dataclass(frozen=True)
class MonthState:
    month: str
    closings: tuple[Closing, ...]  # newest first

    @property
    def closed(self) -> bool:
        return bool(self.closings) and self.closings[0].reopened_at is None


class ClosingService(ServiceBase):
    """Billing staff close a month for the whole practice; only an administrator reopens it."""

    def __init__(self, db: Database, clock: Clock, billing: BillingService) -> None:
        super().__init__(db, clock)
        self._billing = billing

    def state(self, actor: Actor, month: str) -> MonthState:
        self._authorize(actor, Permission.VIEW_BILLING)
        month = checked_month(month)
        with self._db.session() as session:
            rows = session.scalars(
                select(MonthClose)
                .where(MonthClose.month == month)
                .order_by(MonthClose.closed_at.desc(), MonthClose.id.desc())
            ).all()
            names = dict(session.execute(select(Staff.staff_id, Staff.name)).all())
            return MonthState(
                month,
                tuple(
                    Closing(
                        r.closed_at,
                        names.get(r.closed_by, r.closed_by),
                        r.reopened_at,
                        names.get(r.reopened_by or "", r.reopened_by or ""),
                        r.reopen_reason or "",
                    )
                    for r in rows
                ),
            )

    def close(self, actor: Actor, month: str) -> MonthState:
        """Close a finished month: from now on nothing in it changes until it is reopened.
        The audit event keeps what the month bills at closing, and a hash of every row."""
        actor = self._authorize(actor, Permission.CLOSE_MONTH)
        month = checked_month(month)
        now = self._now().replace(microsecond=0)
        with collector_paused(), self._db.session() as session:
            zone = practice_zone(session)
            if month >= month_of(now, zone):
                raise ServiceError(
                    f"{month_label(month)} is not over yet; a month is closed after it ends."
                )
            if session.scalars(
                select(MonthClose.id).where(
                    MonthClose.month == month, MonthClose.reopened_at.is_(None)
                )
            ).first():
                raise ServiceError(f"{month_label(month)} is closed already.")
            lo, hi = month_bounds(month, zone)
            # Running or paused: a stopwatch's time is final only once it is stopped.
            running = session.scalars(
                select(TimeEntry.id)
                .join(TimeSegment, TimeSegment.entry_id == TimeEntry.id)
                .where(
                    TimeEntry.deleted_at.is_(None),
                    TimeEntry.state.in_(("running", "paused")),
                    TimeSegment.started_at < hi,
                    or_(TimeSegment.ended_at.is_(None), TimeSegment.ended_at > lo),
                )
            ).first()
            if running is not None:
                raise ServiceError(
                    f"A stopwatch started in or before {month_label(month)} is still running or "
                    "paused; it must be stopped before the month is closed."
                )
            rows = self._billing.evaluate_in(session, month)
            billable = [r for r in rows if r.result.billable]
            lines = "\n".join(
                f"{r.mrn}|{r.result.codes}|{r.result.amount_cents}|{r.result.signed}" for r in rows
            )
            session.add(MonthClose(month=month, closed_at=now, closed_by=actor.key))
            audit.record(
                session,
                at=now,
                actor=actor,
                action="month.close",
                entity="month",
                entity_key=month,
                after={
                    "patients": len(rows),
                    "billable": len(billable),
                    "billable_signed": sum(1 for r in billable if r.result.signed),
                    "amount_cents": sum(r.result.amount_cents for r in billable),
                    "rows_sha256": hashlib.sha256(lines.encode("utf-8")).hexdigest(),
                },
            )
        return self.state(actor, month)

    def reopen(self, actor: Actor, month: str, reason: str) -> MonthState:
        """Reopen a closed month (administrators only), with the reason in the audit trail."""
        actor = self._authorize(actor, Permission.REOPEN_MONTH)
        month = checked_month(month)
        if not reason.strip():
            raise ValidationFailed([FieldError("reason", "is required to reopen a closed month")])
        reason = checked_reason(reason)
        now = self._now().replace(microsecond=0)
        with self._db.session() as session:
            row = session.scalars(
                select(MonthClose).where(
                    MonthClose.month == month, MonthClose.reopened_at.is_(None)
                )
            ).first()
            if row is None:
                raise ServiceError(f"{month_label(month)} is not closed.")
            row.reopened_at = now
            row.reopened_by = actor.key
            row.reopen_reason = reason.strip()
            audit.record(
                session,
                at=now,
                actor=actor,
                action="month.reopen",
                entity="month",
                entity_key=month,
                before={"closed_at": row.closed_at, "closed_by": row.closed_by},
                reason=reason.strip(),
            )
        return self.state(actor, month)
