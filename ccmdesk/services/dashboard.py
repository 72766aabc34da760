"""The month at a glance: what the dashboard page and the handoff's first page draw."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

# The minutes bands the dashboard sorts a month's patients into: (low, high) whole countable
# minutes, both included; None: no upper end.
MINUTES_BANDS: tuple[tuple[int, int | None], ...] = (
    (0, 9),
    (10, 19),
    (20, 39),
    (40, 59),
    (60, None),
)


def band_label(low: int, high: int | None) -> str:
    """ "0-9", "60+": a band as the charts name it."""
    return f"{low}+" if high is None else f"{low}-{high}"


@dataclass(frozen=True)
class PatientCounts:
    """The month's patients, as the billing panel counts them."""

    enrolled: int  # rows enrolled in the month (BillingRow.enrolled)
    active: int  # rows with recorded time in the month (BillingRow.active)
    billable: int  # months that bill something (MonthResult.bills)
    signed: int  # months a practitioner signed (MonthResult.signed)


@dataclass(frozen=True)
class StaffWeek:
    """One person's recorded time in one week (Monday first, practice time zone)."""

    staff_key: str  # staff_id
    staff_name: str
    week: dt.date  # the Monday the week starts on
    seconds: int  # every service's time, deleted entries left out


@dataclass(frozen=True)
class MonthAmounts:
    """What one month bills, by code (the billing panel's figures for that month)."""

    month: str  # YYYY-MM
    cents_by_code: Mapping[str, int]

    @property
    def total_cents(self) -> int:
        return sum(self.cents_by_code.values())


@dataclass(frozen=True)
class MinutesBand:
    """The month's patients whose countable minutes fall in a band, and what reaching their
    next threshold would still add this month."""

    low: int
    high: int | None
    patients: int
    reachable_cents: int

    @property
    def label(self) -> str:
        return band_label(self.low, self.high)


@dataclass(frozen=True)
class EnrolmentCounts:
    """Where the practice's patients stand in enrolment: each patient once, at their latest
    step (offered and not yet answered, consented, declined with its reason, revoked)."""

    offered: int  # patients ever offered care management
    consented: int  # patients whose latest step is consent
    declined: int  # patients whose latest step is a decline
    revoked: int  # patients whose latest step is a revocation
    declined_by_reason: Mapping[str, int]  # catalog.DECLINE_REASONS → patients


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows for one month; the same figures as the billing panel."""

    month: str  # YYYY-MM
    counts: PatientCounts
    amount_cents: int  # the month's expected amount: BillingMonth.amount_cents
    weeks: tuple[StaffWeek, ...]  # the weeks that touch the month, every person with time
    months: tuple[MonthAmounts, ...]  # the 12 months ending with `month`, oldest first
    bands: tuple[MinutesBand, ...]  # one per MINUTES_BANDS, in that order
    enrolment: EnrolmentCounts
