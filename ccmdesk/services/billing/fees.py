"""The practice's fee schedules: what each code is charged in a calendar year."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select

from ccmdesk.models import FeeScheduleAmount
from ccmdesk.rules.catalog import CODES
from ccmdesk.rules.records import FieldError
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase, checked_reason
from ccmdesk.services.context import Actor, Permission
from ccmdesk.services.errors import ServiceError, ValidationFailed
from ccmdesk.services.locks import closed_months

YEARS = (2000, 2100)
MAX_CENTS = 1_000_000  # $10,000.00: far above any care-management fee, catches a slip of digits


@dataclass(frozen=True)
class FeeLine:
    code: str
    description: str
    cents: int


class FeeService(ServiceBase):
    """Administrators keep the amounts; billing reads them for each month's year (or, for a
    year without its own schedule, the latest earlier one)."""

    def years(self) -> list[int]:
        with self._db.read() as session:
            return sorted(set(session.scalars(select(FeeScheduleAmount.year))))

    def schedule(self, actor: Actor, year: int) -> list[FeeLine]:
        """The year's amounts, every code listed; a year without its own schedule shows the
        one in force for it (the latest earlier year's)."""
        self._authorize(actor, Permission.VIEW_BILLING)
        amounts = self._in_force(year)
        return [
            FeeLine(code, CODES[code].description, amounts[code])
            for code in sorted(amounts, key=lambda c: (c[0] == "G", c))
            if code in CODES
        ]

    def _in_force(self, year: int) -> dict[str, int]:
        """The schedule billing charges in `year`: that year's own, else the latest earlier
        one (the rule of rules.billing's Month.of)."""
        with self._db.read() as session:
            latest = session.scalar(
                select(func.max(FeeScheduleAmount.year)).where(FeeScheduleAmount.year <= year)
            )
            rows = session.execute(
                select(FeeScheduleAmount.code, FeeScheduleAmount.amount_cents).where(
                    FeeScheduleAmount.year == latest
                )
            )
            return {code: cents for code, cents in rows}

    def save(self, actor: Actor, year: int, amounts: Mapping[str, int], reason: str = "") -> None:
        """Set the year's amounts (codes not given keep what is in force for the year). A year
        with a month closed for billing is refused: its claims are already out."""
        actor = self._authorize(actor, Permission.MANAGE_FEES)
        reason = checked_reason(reason)
        errors = _problems(year, amounts)
        if errors:
            raise ValidationFailed(errors)
        before = self._in_force(year)
        after = {**before, **amounts}
        with self._db.session() as session:
            closed = sorted(closed_months(session, [f"{year}-{m:02d}" for m in range(1, 13)]))
            if closed and after != before:
                raise ServiceError(
                    f"{', '.join(closed)} {'is' if len(closed) == 1 else 'are'} closed for "
                    f"billing: {year}'s fees cannot change until an administrator reopens it."
                )
            rows = {
                row.code: row
                for row in session.scalars(
                    select(FeeScheduleAmount).where(FeeScheduleAmount.year == year)
                )
            }
            for code, cents in after.items():
                row = rows.get(code)
                if row is None:
                    session.add(FeeScheduleAmount(year=year, code=code, amount_cents=cents))
                else:
                    row.amount_cents = cents
            if after != before or len(rows) != len(after):
                audit.record(
                    session,
                    at=self._now(),
                    actor=actor,
                    action="fees.update",
                    entity="fee_schedule",
                    entity_key=str(year),
                    before={c: v for c, v in before.items() if after.get(c) != v} or None,
                    after={c: v for c, v in after.items() if before.get(c) != v} or {},
                    reason=reason.strip(),
                )


def _problems(year: int, amounts: Mapping[str, int]) -> list[FieldError]:
    low, high = YEARS
    errors = []
    if not low <= year <= high:
        errors.append(FieldError("year", f"must be {low} to {high}"))
    for code, cents in amounts.items():
        if code not in CODES:
            errors.append(FieldError(code, "is not a care-management code ccmdesk bills"))
        elif not isinstance(cents, int) or not 0 < cents <= MAX_CENTS:
            errors.append(
                FieldError(code, f"must be more than $0.00 and at most ${MAX_CENTS // 100:,}")
            )
    return errors
