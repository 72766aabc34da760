"""Interval arithmetic on UTC instants: union, overlap and the split at local month ends."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

Interval = tuple[dt.datetime, dt.datetime]
# Instants as datetimes (the stopwatch, the worklist) or as epoch seconds (the billing engine).
T = TypeVar("T", dt.datetime, int)


# The months ccmdesk handles: fee schedules, claims and the calendar checks assume this century.
FIRST_MONTH, LAST_MONTH = "2000-01", "2099-12"
# [0-9], not \d or int() alone: those take any script's digits, and "２０２６-11" would be read as
# November 2026 while matching none of that month's stored facts or signatures.
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def is_month(text: str) -> bool:
    """YYYY-MM in ASCII digits, from 2000-01 to 2099-12: the one check every month passes."""
    return _MONTH.fullmatch(text) is not None and FIRST_MONTH <= text <= LAST_MONTH


def month_parts(month: str) -> tuple[int, int]:
    """Year and month number of a YYYY-MM month; ValueError for anything else."""
    if _MONTH.fullmatch(month) is None:
        raise ValueError(f"{month!r} is not a YYYY-MM month")
    return int(month[:4]), int(month[5:])


def previous_months(month: str, count: int = 12) -> list[str]:
    """The `count` months ending with `month` (YYYY-MM), oldest first."""
    year, number = month_parts(month)
    index = year * 12 + number - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def month_days(month: str) -> tuple[dt.date, dt.date]:
    """The first and the last day of a month given as YYYY-MM."""
    year, number = month_parts(month)
    following = dt.date(year + (number == 12), number % 12 + 1, 1)
    return dt.date(year, number, 1), following - dt.timedelta(days=1)


# English names, not the process locale's: Qt sets the locale at start-up, and the same data
# must print the same claims and PDFs from the GUI and from the command line.
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")  # fmt: skip


def month_label(month: str) -> str:
    """ "2026-03" as people say it: "March 2026"."""
    first, _ = month_days(month)
    return month_year(first)


def month_year(day: dt.date) -> str:
    """ "March 2026"."""
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"


def short_month(day: dt.date) -> str:
    """ "Mar"."""
    return MONTH_NAMES[day.month - 1][:3]


def day_month_year(day: dt.date) -> str:
    """ "4 Nov 2026", as the screens and summaries write a day (English whatever the locale)."""
    return f"{day.day} {short_month(day)} {day.year}"


def date_text(day: dt.date) -> str:
    """ "05 Mar 2026", as superbills print dates."""
    return f"{day.day:02d} {short_month(day)} {day.year}"


def date_time_text(at: dt.datetime) -> str:
    """ "05 Mar 2026 14:03" (in whatever zone `at` is given)."""
    return f"{date_text(at)} {at:%H:%M}"


def minus(pieces: Iterable[tuple[T, T]], cut: tuple[Any, Any]) -> list[tuple[T, T]]:
    """The parts of each piece outside `cut`."""
    kept: list[tuple[T, T]] = []
    for start, end in pieces:
        if end <= cut[0] or start >= cut[1]:
            kept.append((start, end))
            continue
        if start < cut[0]:
            kept.append((start, cut[0]))
        if end > cut[1]:
            kept.append((cut[1], end))
    return kept


def seconds(interval: Interval) -> int:
    """Whole seconds of true elapsed time (a DST night is 23 or 25 hours long)."""
    start, end = interval
    return int((end - start).total_seconds())


def overlap(a: Interval, b: Interval) -> bool:
    """True when the intervals share time; ones that merely touch do not overlap."""
    return a[0] < b[1] and b[0] < a[1]


def largest_free_shift(
    moving: Sequence[tuple[Interval, Sequence[Interval]]], limit: dt.timedelta
) -> dt.timedelta | None:
    """How far back, at most `limit`, every span can move together without overlapping any
    interval it must keep clear of (each span has its own list); None if not even in place.

    Moving back by s overlaps fixed interval b exactly when a.start - b.end < s < a.end -
    b.start, so the largest allowed s is `limit` itself or the left end of such a range.
    """

    def free(shift: dt.timedelta) -> bool:
        return not any(
            overlap((a - shift, b - shift), fixed) for (a, b), avoid in moving for fixed in avoid
        )

    candidates = {limit, dt.timedelta(0)} | {
        start - fixed_end
        for (start, _), avoid in moving
        for _, fixed_end in avoid
        if dt.timedelta(0) <= start - fixed_end <= limit
    }
    return next((s for s in sorted(candidates, reverse=True) if free(s)), None)


def month_of(instant: dt.datetime, zone: dt.tzinfo) -> str:
    """YYYY-MM of the instant in the practice's time zone."""
    return instant.astimezone(zone).strftime("%Y-%m")


def _next_month_start(instant: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    local = instant.astimezone(zone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return dt.datetime(year, month, 1, tzinfo=zone).astimezone(dt.UTC)


def split_by_month(interval: Interval, zone: dt.tzinfo) -> list[tuple[str, Interval]]:
    """Cut an interval at each local midnight that starts a month: each month gets its own."""
    start, end = interval
    pieces: list[tuple[str, Interval]] = []
    while start < end:
        boundary = _next_month_start(start, zone)
        piece_end = min(end, boundary)
        pieces.append((month_of(start, zone), (start, piece_end)))
        start = piece_end
    return pieces
