"""A person's week as a calendar shows it: its days, time cut at local midnights, overlaps, gaps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TypeVar

from ccmdesk.rules.intervals import Interval, seconds

T = TypeVar("T")  # what the caller knows a stretch by (an entry id)

DAY_SECONDS = 24 * 3600


def week_days(day: dt.date) -> tuple[dt.date, ...]:
    """Monday to Sunday of the week holding `day`."""
    monday = day - dt.timedelta(days=day.weekday())
    return tuple(monday + dt.timedelta(days=n) for n in range(7))


def local_midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The UTC instant a local day begins (midnight is never skipped by US clock changes)."""
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def day_span(day: dt.date, zone: dt.tzinfo) -> Interval:
    """A local day as UTC instants: 23 hours on the night clocks spring forward, 25 in autumn."""
    return local_midnight(day, zone), local_midnight(day + dt.timedelta(days=1), zone)


def local_span(day: dt.date, zone: dt.tzinfo, first_minute: int, last_minute: int) -> Interval:
    """From one local wall-clock minute of the day to another (the working day), in UTC."""
    midnight = dt.datetime.combine(day, dt.time(), zone)

    def at(minute: int) -> dt.datetime:
        hours, minutes = divmod(minute, 60)
        if hours >= 24:
            return local_midnight(day + dt.timedelta(days=1), zone)
        return midnight.replace(hour=hours, minute=minutes).astimezone(dt.UTC)

    return at(first_minute), at(last_minute)


def day_pieces(span: Interval, zone: dt.tzinfo) -> list[tuple[dt.date, Interval]]:
    """A stretch cut at each local midnight: each day it touches gets its own piece."""
    start, end = span
    pieces: list[tuple[dt.date, Interval]] = []
    while start < end:
        day = start.astimezone(zone).date()
        piece_end = min(end, local_midnight(day + dt.timedelta(days=1), zone))
        pieces.append((day, (start, piece_end)))
        start = piece_end
    return pieces


def wall_seconds(instant: dt.datetime, day: dt.date, zone: dt.tzinfo) -> int:
    """Where an instant stands on the day's clock face, in seconds after local midnight: what
    the wall clock reads (so on the night clocks spring forward 03:00 stands 3 hours down,
    though 2 hours have passed); the next midnight is 86,400."""
    local = instant.astimezone(zone)
    if local.date() > day:
        return DAY_SECONDS
    naive = local.replace(tzinfo=None) - dt.datetime.combine(day, dt.time())
    return int(naive.total_seconds())


def union(spans: Iterable[Interval]) -> list[Interval]:
    """The stretches covered by any span, merged, in order; touching spans join."""
    merged: list[Interval] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def union_seconds(spans: Iterable[Interval]) -> int:
    """Seconds covered by any span: time worked at once on two entries counts once
    (docs/billing-rules.md, "C3 Overlap counted once")."""
    return sum(seconds(span) for span in union(spans))


def overlaps(stretches: Sequence[tuple[Interval, T]]) -> list[tuple[Interval, T, T]]:
    """Each pair of stretches of different owners sharing time, with the time they share, by
    its start. Stretches that merely touch do not overlap (docs/billing-rules.md, C3)."""
    ordered = sorted(stretches, key=lambda item: item[0])
    found: list[tuple[Interval, T, T]] = []
    for index, ((_, end), first) in enumerate(ordered):
        for (other_start, other_end), second in ordered[index + 1 :]:
            if other_start >= end:
                break  # sorted by start: no later stretch reaches back into this one
            if first != second:
                found.append(((other_start, min(end, other_end)), first, second))
    return sorted(found, key=lambda item: item[0])


def gaps(spans: Iterable[Interval], window: Interval, at_least: dt.timedelta) -> list[Interval]:
    """The free stretches of `window` (a working day) no span covers, `at_least` long."""
    free: list[Interval] = []
    cursor = window[0]
    for start, end in union(spans):
        if start > cursor:
            free.append((cursor, min(start, window[1])))
        cursor = max(cursor, end)
        if cursor >= window[1]:
            break
    if cursor < window[1]:
        free.append((cursor, window[1]))
    return [(a, b) for a, b in free if b > a and b - a >= at_least]
