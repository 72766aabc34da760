"""Month evaluations kept between loads, keyed on a stamp of the database read with them."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ccmdesk.models import (
    AuditEvent,
    FeeScheduleAmount,
    MonthClose,
    Payer,
    Practice,
    Staff,
    TimeEntry,
    TimeSegment,
)
from ccmdesk.rules.billing import Columns, Month
from ccmdesk.services.billing import queries
from ccmdesk.services.billing.plumbing import Epoch

T = TypeVar("T")

# Full evaluations (rows, segments) held at once: a 10,000-patient month is tens of megabytes.
FULL_MONTHS = 3
# The audit entity of the time services' events (services/time/base.py, importing/time_entries.py):
# the only writes a closed month's evaluation does not need to see (docs/dashboard.md).
TIME_ENTITY = "time_entry"
# Small figures per month (amounts by code, counts): the dashboard's 12 months and more.
SMALL_ITEMS = 64


@dataclass(frozen=True)
class Stamp:
    """What the database looked like to one transaction, cheaply: every write an evaluation
    reads moves one of these (docs/dashboard.md, "The evaluation cache").

    - `audit`: the audit trail's head id; every change to patients, consent, conditions,
      time, month facts, signatures, programs, waivers, care plans and closing writes an event.
    - `segments`, `segment_count`, `entries`: inserted or removed time, even unaudited.
    - `small`: a digest of the small tables the rules read whole (practice settings, fees,
      payers, staff roles and names, month closes), so a write to them counts whether or not
      it wrote an audit event.
    - `open`: each open segment's start and its entry's last heartbeat (epoch seconds):
      running time counts up to now, a stale stopwatch to its last heartbeat.
    - `closes`: each closed month (YYYY-MM) and its close row's id, and `not_time`: the
      newest audit event that is not a time entry's (0 when no month is closed): the key of a
      closed past month (for_closed_month).
    """

    audit: int
    segments: int
    segment_count: int
    entries: int
    small: str
    open: tuple[tuple[int, int], ...]
    closes: tuple[tuple[str, int], ...] = ()
    not_time: int = 0

    def for_month(self, m: Month, now: int) -> Hashable:
        """The key of one month's evaluation: open segments that reach into the month make
        it depend on the minute of `now` and on their heartbeats; others leave it alone."""
        return (m.month, *self.for_span(m.start, m.end, now))

    def for_closed_month(self, m: Month, now: int) -> Hashable:
        """The key of a past month's evaluation: a month closed for billing (and not reopened)
        moves only with writes that are not to time, since its time, month facts, family
        choices and signatures are locked and no stopwatch with time in it runs
        (docs/dashboard.md, "Closed months"); any other month is keyed as for_month."""
        close = dict(self.closes).get(m.month)
        if close is None:
            return self.for_month(m, now)
        return (m.month, "closed", close, self.small, self.not_time)

    def for_span(self, start: int, end: int, now: int) -> tuple[Hashable, ...]:
        """The key of figures read from the time between `start` and `end` (epoch seconds)."""
        touching = tuple(o for o in self.open if o[0] < end) if now > start else ()
        moving = (now // 60, touching) if touching else ()
        return (self.audit, self.segments, self.segment_count, self.entries, self.small, moving)


def read_stamp(session: Session) -> Stamp:
    """The stamp, read in the caller's transaction (a few index lookups and small tables)."""
    audit, segments, count, entries = session.execute(
        select(
            select(func.coalesce(func.max(AuditEvent.id), 0)).scalar_subquery(),
            select(func.coalesce(func.max(TimeSegment.id), 0)).scalar_subquery(),
            select(func.count(TimeSegment.id)).scalar_subquery(),
            select(func.coalesce(func.max(TimeEntry.id), 0)).scalar_subquery(),
        )
    ).one()
    digest = hashlib.sha256()
    for query in (
        select(Practice.__table__),
        select(FeeScheduleAmount.year, FeeScheduleAmount.code, FeeScheduleAmount.amount_cents)
        .order_by(FeeScheduleAmount.id),
        select(Payer.__table__).order_by(Payer.id),
        select(Staff.id, Staff.staff_id, Staff.name, Staff.role, Staff.npi, Staff.active)
        .order_by(Staff.id),
        select(MonthClose.__table__).order_by(MonthClose.id),
    ):  # fmt: skip
        for row in session.execute(query):
            digest.update(repr(tuple(row)).encode())
        digest.update(b"|")
    closes = [
        (month, close_id)
        for close_id, month in session.execute(
            select(MonthClose.id, MonthClose.month)
            .where(MonthClose.reopened_at.is_(None))
            .order_by(MonthClose.month)
        )
    ]
    # Walked back from the newest event: the time entries' own events since the last other
    # write are all it reads (docs/performance.md). Not read at all with no month closed.
    not_time = (
        session.scalars(
            select(AuditEvent.id)
            .where(AuditEvent.entity != TIME_ENTITY)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        ).first()
        or 0
        if closes
        else 0
    )
    open_ = session.execute(
        select(
            Epoch(TimeSegment.started_at),
            Epoch(func.coalesce(TimeEntry.last_heartbeat_at, TimeSegment.started_at)),
            TimeEntry.deleted_at.is_(None),
        )
        .join(TimeEntry, TimeEntry.id == TimeSegment.entry_id)
        .where(TimeSegment.ended_at.is_(None))
        .order_by(TimeSegment.id)
    ).all()
    return Stamp(
        int(audit),
        int(segments),
        int(count),
        int(entries),
        digest.hexdigest(),
        tuple((int(start), int(beat) if alive else -1) for start, beat, alive in open_),
        tuple(closes),
        int(not_time),
    )


@dataclass
class _Entry:
    key: Hashable
    parts: dict[Hashable, Any] = field(default_factory=dict)


class EvaluationCache:
    """Thread-safe: the GUI evaluates months off its thread, maybe two at once. A part is
    computed once per key (a second thread asking for it waits for the first), and entries
    are evicted least recently used first, so memory stays bounded."""

    def __init__(self, full_months: int = FULL_MONTHS, small_items: int = SMALL_ITEMS) -> None:
        self._lock = threading.Lock()
        self._full: OrderedDict[str, _Entry] = OrderedDict()  # by month
        self._small: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._full_months = full_months
        self._small_items = small_items
        self.computed = 0  # parts computed (not served from the cache): for tests

    def part(self, key: Hashable, name: str, compute: Callable[[], T]) -> T:
        """A large part (rows, segments) of the month whose key is `key`."""
        month = key[0] if isinstance(key, tuple) else str(key)
        with self._lock:
            entry = self._full.get(month)
            if entry is None or entry.key != key:
                entry = self._full[month] = _Entry(key)  # a newer stamp replaces the old
            self._full.move_to_end(month)
            while len(self._full) > self._full_months:
                self._full.popitem(last=False)
        return self._once(entry.parts, (key, name), name, compute)

    def segments(self, session: Session, m: Month, key: Hashable, now: int) -> dict[int, Columns]:
        """Every patient's segments touching the month (queries.work), as the billing
        evaluation and the worklist both read them: one entry, one reader."""
        return self.part(key, "segments", lambda: queries.work(session, m, now, None))

    def small(self, key: Hashable, name: str, compute: Callable[[], T]) -> T:
        """A small figure of the month whose key is `key` (kept for more months)."""
        with self._lock:
            if (key, name) in self._small:
                self._small.move_to_end((key, name))
        value = self._once(self._small, (key, name), (key, name), compute)
        with self._lock:
            while len(self._small) > self._small_items:
                self._small.popitem(last=False)
        return value

    def _once(
        self,
        store: dict[Hashable, Any],
        lock_key: Hashable,
        name: Hashable,
        compute: Callable[[], T],
    ) -> T:
        with self._lock:
            if name in store:
                return store[name]  # type: ignore[no-any-return]
            gate = self._computing.setdefault(lock_key, threading.Lock())
        with gate:
            with self._lock:
                if name in store:
                    return store[name]  # type: ignore[no-any-return]
            value = compute()
            with self._lock:
                store[name] = value
                self.computed += 1
                self._computing.pop(lock_key, None)
        return value

    def clear(self) -> None:
        with self._lock:
            self._full.clear()
            self._small.clear()
