"""The month at a glance: what the dashboard page and the handoff's first page draw."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ccmdesk.db import Database
from ccmdesk.models import EnrolmentEvent, Staff, TimeEntry, TimeSegment
from ccmdesk.rules.billing import Month, MonthResult, local_midnight
from ccmdesk.rules.catalog import DECLINE_REASONS
from ccmdesk.rules.intervals import previous_months
from ccmdesk.services.base import ServiceBase, checked_month, practice_zone
from ccmdesk.services.billing.cache import read_stamp
from ccmdesk.services.billing.evaluation import BillingRow, BillingService
from ccmdesk.services.billing.plumbing import Epoch, Joined, collector_paused, json_numbers
from ccmdesk.services.context import Actor, Clock, Permission
from ccmdesk.services.time.recovery import STALE_AFTER_SECONDS

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
    # The month's APCM patients: no minutes threshold, so in no band (docs/dashboard.md).
    apcm_patients: int = 0


# Only a month whose sole block is being short of minutes can still be lifted by minutes.
_REACHABLE_BLOCKS = frozenset({"BELOW_THRESHOLD"})


def counts_of(rows: Sequence[BillingRow]) -> PatientCounts:
    """The billing panel's rows counted as the dashboard shows them."""
    return PatientCounts(
        enrolled=sum(1 for r in rows if r.enrolled),
        active=sum(1 for r in rows if r.active),
        billable=sum(1 for r in rows if r.result.bills),
        signed=sum(1 for r in rows if r.result.signed),
    )


def reachable_cents(result: MonthResult, open_month: bool) -> int:
    """What reaching the next threshold this month would add (docs/dashboard.md, "Minutes
    bands"): the fee of the code the next threshold earns, for an unsigned month of an open
    month with days left that nothing but its minutes blocks; 0 otherwise."""
    if not open_month or result.signed or result.next_threshold is None:
        return 0
    if not set(result.blocks) <= _REACHABLE_BLOCKS:
        return 0
    return result.inputs[0].fees.get(result.next_threshold[1], 0)


def bands_of(rows: Sequence[BillingRow], open_month: bool) -> tuple[tuple[MinutesBand, ...], int]:
    """Each timed-program patient in its band by whole countable minutes, and the number of
    APCM patients, who have no minutes threshold and are left out of the bands."""
    patients = [0] * len(MINUTES_BANDS)
    cents = [0] * len(MINUTES_BANDS)
    apcm = 0
    for row in rows:
        result = row.result
        if result.program == "apcm":
            apcm += 1
            continue
        minutes = result.countable_seconds // 60
        k = next(
            i for i, (low, high) in enumerate(MINUTES_BANDS)
            if low <= minutes and (high is None or minutes <= high)
        )  # fmt: skip
        patients[k] += 1
        cents[k] += reachable_cents(result, open_month)
    bands = tuple(
        MinutesBand(low, high, patients[k], cents[k]) for k, (low, high) in enumerate(MINUTES_BANDS)
    )
    return bands, apcm


def week_starts(m: Month) -> list[dt.date]:
    """The Mondays of the weeks that touch the month, and the Monday after the last."""
    first = m.first_day - dt.timedelta(days=m.first_day.weekday())
    mondays = [first]
    while mondays[-1] <= m.last_day:
        mondays.append(mondays[-1] + dt.timedelta(days=7))
    return mondays


def split_by_week(starts: Sequence[int], ends: Sequence[int], bounds: Sequence[int]) -> list[int]:
    """Seconds of the spans (epoch seconds) in each week [bounds[k], bounds[k + 1])."""
    seconds = [0] * (len(bounds) - 1)
    for start, end in zip(starts, ends, strict=True):
        k = max(bisect_right(bounds, start) - 1, 0)
        while k < len(seconds) and bounds[k] < end:
            part = min(end, bounds[k + 1]) - max(start, bounds[k])
            if part > 0:
                seconds[k] += part
            k += 1
    return seconds


def staff_weeks(session: Session, m: Month, now: int) -> tuple[StaffWeek, ...]:
    """Every person's recorded time (deleted entries left out, every service) per week of the
    weeks touching the month, split at the weeks' local midnights; a running stopwatch counts
    up to now, a stale one up to its last heartbeat, as on the bill."""
    mondays = week_starts(m)
    bounds = [local_midnight(day, m.zone) for day in mondays]
    lo = dt.datetime.fromtimestamp(bounds[0], dt.UTC)
    hi = dt.datetime.fromtimestamp(bounds[-1], dt.UTC)
    start, end = Epoch(TimeSegment.started_at), Epoch(TimeSegment.ended_at)
    closed = (
        select(TimeEntry.staff_id, Joined(start, TimeSegment.id), Joined(end, TimeSegment.id))
        .join(TimeSegment, TimeSegment.entry_id == TimeEntry.id)
        .where(
            TimeEntry.deleted_at.is_(None),
            TimeSegment.started_at < hi,
            TimeSegment.ended_at > lo,
        )
        .group_by(TimeEntry.staff_id)
    )
    spans: dict[int, tuple[list[int], list[int]]] = {}
    result = session.connection().execute(closed)
    for staff_id, starts, ends in result.cursor.fetchall():
        spans[staff_id] = (json_numbers(starts), json_numbers(ends))
    result.close()
    running = (
        select(
            TimeEntry.staff_id,
            start,
            Epoch(func.coalesce(TimeEntry.last_heartbeat_at, TimeSegment.started_at)),
        )
        .join(TimeEntry, TimeSegment.entry_id == TimeEntry.id)
        .where(
            TimeEntry.deleted_at.is_(None),
            TimeSegment.started_at < hi,
            TimeSegment.ended_at.is_(None),
        )
    )
    for staff_id, first, last_beat in session.execute(running):
        until = now if now - last_beat <= STALE_AFTER_SECONDS else last_beat
        if until > first:
            starts_, ends_ = spans.setdefault(staff_id, ([], []))
            starts_.append(first)
            ends_.append(until)
    people = {
        pk: (key, name)
        for pk, key, name in session.execute(
            select(Staff.id, Staff.staff_id, Staff.name).where(Staff.id.in_(list(spans)))
        )
    }
    weeks = []
    for pk, (starts_, ends_) in spans.items():
        key, name = people[pk]
        for monday, seconds in zip(mondays, split_by_week(starts_, ends_, bounds), strict=False):
            weeks.append(StaffWeek(key, name, monday, seconds))
    return tuple(sorted(weeks, key=lambda w: (w.staff_name.casefold(), w.staff_key, w.week)))


def enrolment_counts(session: Session) -> EnrolmentCounts:
    """Each patient once, at their latest enrolment step (by day, then as recorded)."""
    last: dict[int, tuple[tuple[dt.date, dt.datetime, int], str, str | None]] = {}
    query = select(
        EnrolmentEvent.patient_id, EnrolmentEvent.day, EnrolmentEvent.recorded_at,
        EnrolmentEvent.id, EnrolmentEvent.step, EnrolmentEvent.reason,
    )  # fmt: skip
    for pid, day, at, event_id, step, reason in session.execute(query):
        order = (day, at, event_id)
        if pid not in last or order > last[pid][0]:
            last[pid] = (order, step, reason)
    steps = Counter(step for _, step, _ in last.values())
    reasons = Counter(reason or "other" for _, step, reason in last.values() if step == "declined")
    return EnrolmentCounts(
        offered=len(last),
        consented=steps["consented"],
        declined=steps["declined"],
        revoked=steps["revoked"],
        declined_by_reason={r: reasons[r] for r in DECLINE_REASONS if reasons[r]},
    )


class DashboardService(ServiceBase):
    """The month at a glance, from the billing panel's own evaluation (through the cache)."""

    def __init__(self, db: Database, clock: Clock, billing: BillingService) -> None:
        super().__init__(db, clock)
        self._billing = billing

    def month(self, actor: Actor, month: str) -> Dashboard:
        """The month's dashboard (VIEW_DASHBOARD)."""
        self._authorize(actor, Permission.VIEW_DASHBOARD)
        month = checked_month(month)
        with collector_paused(), self._db.read() as session:
            return self.compute_in(session, month)

    def compute_in(self, session: Session, month: str) -> Dashboard:
        """The month's dashboard inside the caller's transaction, no permission asked: for the
        export's handoff, which must draw what it exports."""
        cache = self._billing.cache
        now = self._now()
        zone = practice_zone(session)
        today = now.astimezone(zone).date()
        stamp = read_stamp(session)
        current = self._billing.evaluated_in(session, month, stamp)
        keys: list[Hashable] = []
        amounts: list[dict[str, int]] = []
        for other in previous_months(month):
            if other == month:
                keys.append(current.key)
                amounts.append(cache.small(current.key, "amounts", current.amount_by_code))
                continue
            # A closed past month keeps its figures across time writes (docs/dashboard.md,
            # "Closed months"): a stopwatch stop evaluates again only the months not closed.
            key = stamp.for_closed_month(Month.of(other, zone, {}), int(now.timestamp()))
            keys.append(key)
            amounts.append(cache.small(key, "amounts", self._amounts(session, other)))

        def compute() -> Dashboard:
            m = current.m
            open_month = not current.closed and today <= m.last_day
            bands, apcm = bands_of(current.rows, open_month)
            return Dashboard(
                month=month,
                counts=counts_of(current.rows),
                amount_cents=sum(r.result.total_cents for r in current.rows),
                weeks=staff_weeks(session, m, int(now.timestamp())),
                months=tuple(
                    MonthAmounts(other, by_code)
                    for other, by_code in zip(previous_months(month), amounts, strict=True)
                ),
                bands=bands,
                enrolment=enrolment_counts(session),
                apcm_patients=apcm,
            )

        # The weeks reach past the month's own days: a stopwatch running in them moves them.
        mondays = week_starts(current.m)
        span = stamp.for_span(
            local_midnight(mondays[0], zone),
            local_midnight(mondays[-1], zone),
            int(now.timestamp()),
        )
        return cache.small((tuple(keys), span, today), "dashboard", compute)

    def _amounts(self, session: Session, month: str) -> Callable[[], dict[str, int]]:
        return lambda: self._billing.amounts_in(session, month)
