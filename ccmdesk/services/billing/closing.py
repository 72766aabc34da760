"""Closing a month for billing after export, and reopening it through an audited unlock."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ccmdesk.db import Database
from ccmdesk.models import (
    AuditEvent,
    MonthClose,
    MonthFlag,
    Patient,
    Staff,
    TimeEntry,
    TimeSegment,
)
from ccmdesk.rules.intervals import month_label, month_of
from ccmdesk.rules.minutes import month_bounds
from ccmdesk.rules.records import FieldError
from ccmdesk.services import audit
from ccmdesk.services.base import (
    ServiceBase,
    checked_month,
    checked_reason,
    practice_zone,
    who_did,
)
from ccmdesk.services.billing.evaluation import BillingRow, BillingService
from ccmdesk.services.billing.flags import bill_line
from ccmdesk.services.billing.plumbing import collector_paused
from ccmdesk.services.context import Actor, Clock, Permission
from ccmdesk.services.errors import ServiceError, ValidationFailed
from ccmdesk.services.refusals import Refusal, first_refusal, message, permission_refusal


@dataclass(frozen=True)
class Closing:
    """One closing of the month, and its reopening if there was one."""

    closed_at: dt.datetime
    closed_by: str  # name
    reopened_at: dt.datetime | None = None
    reopened_by: str = ""
    reason: str = ""


def bill_text(rows: list[BillingRow]) -> str:
    return "\n".join(bill_line(r) for r in rows)


def bill_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Flag:
    """A change that reached a billed month (see MonthFlag), as the billing panel lists it."""

    month: str
    mrn: str
    patient_name: str
    raised_at: dt.datetime
    raised_by: str  # name, or the staff id of someone no longer on the staff list
    why: str
    before: str
    after: str


@dataclass(frozen=True)
class BillCheck:
    """Whether a month's bill is still the one it was closed with (or last acknowledged), and
    the flags raised on it that billing has not acknowledged yet."""

    month: str
    closed: bool
    changed: tuple[str, ...] = ()  # MRNs whose line differs from the stored bill
    stored_hash_ok: bool = True  # the stored bill still hashes to what the audit trail holds
    flags: tuple[Flag, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.changed and self.stored_hash_ok and not self.flags

    def message(self) -> str:
        """What the billing panel and `audit verify` say when something is wrong."""
        name = month_label(self.month)
        parts = []
        if not self.stored_hash_ok:
            parts.append(
                f"the bill stored when {name} was closed does not match the hash in the audit "
                "trail: it was changed outside ccmdesk"
            )
        if self.changed:
            shown = ", ".join(self.changed[:8]) + (" …" if len(self.changed) > 8 else "")
            parts.append(
                f"{name}'s bill now differs from the one it was closed with for "
                f"{len(self.changed)} patient(s) (MRN {shown})"
            )
        if self.flags:
            parts.append(
                f"{len(self.flags)} change(s) reached {name} after it was billed and await "
                "acknowledgement"
            )
        return "; ".join(parts)


@dataclass(frozen=True)
class MonthState:
    month: str
    closings: tuple[Closing, ...]  # newest first
    # Why the person asking may not close the month now ("" when they may), by the rule
    # closing obeys (close_refusal).
    close_refusal: str = ""

    @property
    def closed(self) -> bool:
        return bool(self.closings) and self.closings[0].reopened_at is None

    @property
    def can_close(self) -> bool:
        return not self.close_refusal


def close_refusal(
    actor: Actor, month: str, current: str, closed: bool, running: bool
) -> Refusal | None:
    """Why `actor` may not close `month` (YYYY-MM) while `current` is the practice's month,
    or None: the one rule both ClosingService.close and the Close button follow."""
    name = month_label(month)
    return first_refusal(
        permission_refusal(actor, Permission.CLOSE_MONTH),
        Refusal(f"{name} is not over yet; a month is closed after it ends.")
        if month >= current
        else None,
        Refusal(f"{name} is closed already.") if closed else None,
        Refusal(
            f"A stopwatch started in or before {name} is still running or paused; it must be "
            "stopped before the month is closed."
        )
        if running
        else None,
    )


def _running(session: Session, month: str, zone: dt.tzinfo) -> bool:
    """Whether a stopwatch with time in the month is running or paused: its time is final
    only once it is stopped."""
    lo, hi = month_bounds(month, zone)
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
    return running is not None


class ClosingService(ServiceBase):
    """Billing staff close a month for the whole practice; only an administrator reopens it."""

    def __init__(self, db: Database, clock: Clock, billing: BillingService) -> None:
        super().__init__(db, clock)
        self._billing = billing

    def state(self, actor: Actor, month: str) -> MonthState:
        """The month's closings, and whether `actor` may close it now."""
        actor = self._authorize(actor, Permission.VIEW_BILLING)
        month = checked_month(month)
        with self._db.read() as session:
            rows = session.scalars(
                select(MonthClose)
                .where(MonthClose.month == month)
                .order_by(MonthClose.closed_at.desc(), MonthClose.id.desc())
            ).all()
            names = dict(session.execute(select(Staff.staff_id, Staff.name)).all())
            closings = tuple(
                Closing(
                    r.closed_at,
                    names.get(r.closed_by, r.closed_by),
                    r.reopened_at,
                    names.get(r.reopened_by or "", r.reopened_by or ""),
                    r.reopen_reason or "",
                )
                for r in rows
            )
            zone = practice_zone(session)
            closed = bool(closings) and closings[0].reopened_at is None
            refusal = close_refusal(
                actor,
                month,
                month_of(self._now(), zone),
                closed,
                not closed and _running(session, month, zone),
            )
        return MonthState(month, closings, message(refusal))

    def close(self, actor: Actor, month: str) -> MonthState:
        """Close a finished month: from now on nothing in it changes until it is reopened.
        The audit event keeps what the month bills at closing, and a hash of every row."""
        actor = self._authorize(actor, Permission.CLOSE_MONTH)
        month = checked_month(month)
        now = self._now().replace(microsecond=0)
        with collector_paused(), self._db.session() as session:
            zone = practice_zone(session)
            closed = session.scalars(
                select(MonthClose.id).where(
                    MonthClose.month == month, MonthClose.reopened_at.is_(None)
                )
            ).first()
            refusal = close_refusal(
                actor,
                month,
                month_of(now, zone),
                closed is not None,
                closed is None and _running(session, month, zone),
            )
            if refusal is not None:
                refusal.raise_it()
            rows = self._billing.evaluate_in(session, month)
            billable = [r for r in rows if r.result.billable]
            lines = bill_text(rows)
            session.add(MonthClose(month=month, closed_at=now, closed_by=actor.key, bill=lines))
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
                    "rows_sha256": bill_sha256(lines),
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

    # --- is the bill still the one billed? ------------------------------------------------------

    def check(self, actor: Actor, month: str, rows: list[BillingRow] | None = None) -> BillCheck:
        """Re-check a month: a closed month's bill against the one it was closed with (and that
        against the hash in the audit trail), and the flags nobody has acknowledged. `rows`,
        the month just evaluated for the screen, saves evaluating it again."""
        self._authorize(actor, Permission.VIEW_BILLING)
        month = checked_month(month)
        with collector_paused(), self._db.read() as session:
            return self.check_in(session, month, rows)

    def check_all(self, actor: Actor) -> list[BillCheck]:
        """Every closed month, and every month with an open flag, that is not as billed."""
        self._authorize(actor, Permission.VIEW_BILLING)
        with collector_paused(), self._db.read() as session:
            months = set(
                session.scalars(select(MonthClose.month).where(MonthClose.reopened_at.is_(None)))
            ) | set(
                session.scalars(select(MonthFlag.month).where(MonthFlag.acknowledged_at.is_(None)))
            )
            checks = [self.check_in(session, m) for m in sorted(months)]
        return [c for c in checks if not c.ok]

    def check_in(
        self, session: Session, month: str, rows: list[BillingRow] | None = None
    ) -> BillCheck:
        flags = _open_flags(session, month)
        closing = session.scalars(
            select(MonthClose).where(MonthClose.month == month, MonthClose.reopened_at.is_(None))
        ).first()
        if closing is None:
            return BillCheck(month, False, flags=flags)
        stored = dict(_split(line) for line in closing.bill.splitlines() if line)
        if rows is None:
            rows = self._billing.evaluate_in(session, month)
        now = {r.mrn: bill_line(r) for r in rows}
        changed = sorted(m for m in stored.keys() | now.keys() if stored.get(m) != now.get(m))
        anchored = _anchored_hash(session, month)
        return BillCheck(
            month,
            True,
            tuple(changed),
            anchored is None or anchored == bill_sha256(closing.bill),
            flags,
        )

    def acknowledge(self, actor: Actor, month: str, reason: str) -> BillCheck:
        """Billing staff take note of what changed in a billed month: its flags are settled and
        a closed month's stored bill becomes today's (both kept in the audit trail)."""
        actor = self._authorize(actor, Permission.CLOSE_MONTH)
        month = checked_month(month)
        if not reason.strip():
            raise ValidationFailed([FieldError("reason", "is required to acknowledge a change")])
        reason = checked_reason(reason)
        now = self._now().replace(microsecond=0)
        with collector_paused(), self._db.session() as session:
            flags = session.scalars(
                select(MonthFlag).where(
                    MonthFlag.month == month, MonthFlag.acknowledged_at.is_(None)
                )
            ).all()
            closing = session.scalars(
                select(MonthClose).where(
                    MonthClose.month == month, MonthClose.reopened_at.is_(None)
                )
            ).first()
            before = self.check_in(session, month)
            if before.ok:
                raise ServiceError(f"Nothing in {month_label(month)} awaits acknowledgement.")
            for flag in flags:
                flag.acknowledged_at = now
                flag.acknowledged_by = actor.key
            after: dict[str, object] = {"flags": len(flags), "changed": list(before.changed)}
            if closing is not None:
                closing.bill = bill_text(self._billing.evaluate_in(session, month))
                after["rows_sha256"] = bill_sha256(closing.bill)
            audit.record(
                session,
                at=now,
                actor=actor,
                action="month.acknowledge",
                entity="month",
                entity_key=month,
                after=after,
                reason=reason.strip(),
            )
            return self.check_in(session, month)


def _split(line: str) -> tuple[str, str]:
    return line.split("|", 1)[0], line


def _open_flags(session: Session, month: str) -> tuple[Flag, ...]:
    rows = session.execute(
        select(MonthFlag, Patient.mrn, Patient.first_name, Patient.last_name)
        .join(Patient, Patient.id == MonthFlag.patient_id)
        .where(MonthFlag.month == month, MonthFlag.acknowledged_at.is_(None))
        .order_by(MonthFlag.id)
    ).all()
    names = dict(session.execute(select(Staff.staff_id, Staff.name)).all())
    return tuple(
        Flag(
            f.month,
            mrn,
            f"{first} {last}",
            f.raised_at,
            who_did(f.raised_by, names),
            f.why,
            f.before,
            f.after,
        )
        for f, mrn, first, last in rows
    )


def _anchored_hash(session: Session, month: str) -> str | None:
    """The bill hash the audit trail holds for the month's current closing: the close event's,
    or a later acknowledgement's."""
    latest = session.scalars(
        select(AuditEvent.after)
        .where(
            AuditEvent.entity == "month",
            AuditEvent.entity_key == month,
            AuditEvent.action.in_(("month.close", "month.acknowledge")),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if not latest:
        return None
    value = json.loads(latest).get("rows_sha256")
    return value if isinstance(value, str) else None
