"""The week view's rules: days, pieces cut at local midnight, wall-clock places, overlaps, gaps."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ccmdesk.rules.intervals import seconds
from ccmdesk.rules.week import (
    day_pieces,
    day_span,
    gaps,
    local_span,
    overlaps,
    union_seconds,
    wall_seconds,
    week_days,
)

NY = ZoneInfo("America/New_York")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def test_a_week_runs_monday_to_sunday() -> None:
    days = week_days(dt.date(2026, 3, 11))  # a Wednesday
    assert days[0] == dt.date(2026, 3, 9) and days[-1] == dt.date(2026, 3, 15)
    assert len(days) == 7 and week_days(dt.date(2026, 3, 15)) == days
    assert week_days(dt.date(2026, 3, 16))[0] == dt.date(2026, 3, 16)


def test_the_days_clocks_change_are_23_and_25_hours_long() -> None:
    assert seconds(day_span(dt.date(2026, 3, 8), NY)) == 23 * 3600
    assert seconds(day_span(dt.date(2026, 11, 1), NY)) == 25 * 3600
    assert seconds(day_span(dt.date(2026, 3, 9), NY)) == 24 * 3600


def test_a_stretch_across_midnight_gives_each_day_its_piece() -> None:
    call = (at("2026-03-15T23:40:00-04:00"), at("2026-03-16T00:10:00-04:00"))
    pieces = day_pieces(call, NY)
    assert [(day, seconds(piece)) for day, piece in pieces] == [
        (dt.date(2026, 3, 15), 1200),
        (dt.date(2026, 3, 16), 600),
    ]
    # The first piece ends where the next day's begins: on its clock face, at the bottom.
    assert wall_seconds(pieces[0][1][1], dt.date(2026, 3, 15), NY) == 86400
    assert wall_seconds(pieces[1][1][0], dt.date(2026, 3, 16), NY) == 0
    assert day_pieces((call[0], call[0]), NY) == []


def test_wall_clock_places_on_the_nights_clocks_change() -> None:
    spring = dt.date(2026, 3, 8)
    # 01:30 EST and 03:30 EDT are an hour apart but stand two hours apart on the wall.
    assert wall_seconds(at("2026-03-08T01:30:00-05:00"), spring, NY) == 90 * 60
    assert wall_seconds(at("2026-03-08T03:30:00-04:00"), spring, NY) == 210 * 60
    autumn = dt.date(2026, 11, 1)
    # The repeated hour: both passes of 01:30 stand at 01:30.
    first = at("2026-11-01T01:30:00-04:00")
    second = at("2026-11-01T01:30:00-05:00")
    assert wall_seconds(first, autumn, NY) == wall_seconds(second, autumn, NY) == 90 * 60
    # Across the autumn night an entry keeps its true length, 90 minutes, not 30.
    [(day, piece)] = day_pieces((first, at("2026-11-01T02:00:00-05:00")), NY)
    assert day == autumn and seconds(piece) == 90 * 60


def test_the_working_day_in_utc_follows_the_clock_change() -> None:
    before = local_span(dt.date(2026, 3, 6), NY, 480, 1020)
    after = local_span(dt.date(2026, 3, 9), NY, 480, 1020)
    assert before == (at("2026-03-06T13:00:00Z"), at("2026-03-06T22:00:00Z"))
    assert after == (at("2026-03-09T12:00:00Z"), at("2026-03-09T21:00:00Z"))
    assert local_span(dt.date(2026, 3, 9), NY, 0, 1440) == day_span(dt.date(2026, 3, 9), NY)


def test_overlaps_pair_the_stretches_sharing_time() -> None:
    a = (at("2026-03-10T10:00:00Z"), at("2026-03-10T10:30:00Z"))
    b = (at("2026-03-10T10:20:00Z"), at("2026-03-10T10:45:00Z"))
    touching = (at("2026-03-10T10:45:00Z"), at("2026-03-10T11:00:00Z"))
    inside = (at("2026-03-10T10:05:00Z"), at("2026-03-10T10:10:00Z"))
    found = overlaps([(b, 2), (touching, 3), (a, 1), (inside, 4)])
    assert found == [
        ((inside[0], inside[1]), 1, 4),
        ((b[0], a[1]), 1, 2),
    ]
    # Two stretches of one entry (a paused stopwatch) are never an overlap of it with itself.
    assert overlaps([(a, 1), (b, 1)]) == []


def test_overlaps_across_midnight_and_the_autumn_clock_change() -> None:
    late = (at("2026-10-31T23:50:00-04:00"), at("2026-11-01T01:40:00-05:00"))
    # 01:10 on the second pass of the repeated hour: inside the late call, which ran through
    # both passes; on the first pass it would be inside too, so use the true instant.
    repeat = (at("2026-11-01T01:10:00-05:00"), at("2026-11-01T02:00:00-05:00"))
    [(shared, first, second)] = overlaps([(late, "late"), (repeat, "repeat")])
    assert (first, second) == ("late", "repeat")
    assert seconds(shared) == 30 * 60
    # Counted once: 1 h 50 min of the late call plus the 20 minutes after it.
    assert union_seconds([late, repeat]) == (170 + 20) * 60


def test_gaps_are_the_free_stretches_of_the_working_day() -> None:
    day = local_span(dt.date(2026, 3, 10), NY, 480, 1020)  # 08:00 to 17:00
    calls = [
        (at("2026-03-10T07:30:00-04:00"), at("2026-03-10T08:30:00-04:00")),
        (at("2026-03-10T09:00:00-04:00"), at("2026-03-10T09:05:00-04:00")),
        (at("2026-03-10T09:04:00-04:00"), at("2026-03-10T09:30:00-04:00")),
        (at("2026-03-10T09:35:00-04:00"), at("2026-03-10T16:50:00-04:00")),
    ]
    assert gaps(calls, day, minutes(10)) == [
        (at("2026-03-10T08:30:00-04:00"), at("2026-03-10T09:00:00-04:00")),
        (at("2026-03-10T16:50:00-04:00"), at("2026-03-10T17:00:00-04:00")),
    ]
    assert gaps(calls, day, minutes(5)) == [
        (at("2026-03-10T08:30:00-04:00"), at("2026-03-10T09:00:00-04:00")),
        (at("2026-03-10T09:30:00-04:00"), at("2026-03-10T09:35:00-04:00")),
        (at("2026-03-10T16:50:00-04:00"), at("2026-03-10T17:00:00-04:00")),
    ]
    assert gaps([], day, minutes(10)) == [day]
    evening = [(at("2026-03-10T18:00:00-04:00"), at("2026-03-10T19:00:00-04:00"))]
    assert gaps(evening, day, minutes(10)) == [day]


def test_gaps_on_the_spring_night_are_true_time() -> None:
    night = local_span(dt.date(2026, 3, 8), NY, 60, 240)  # 01:00 to 04:00 on the wall
    assert seconds(night) == 2 * 3600  # the hour from 02:00 to 03:00 never happens
    call = [(at("2026-03-08T01:30:00-05:00"), at("2026-03-08T03:30:00-04:00"))]
    assert [seconds(g) for g in gaps(call, night, minutes(1))] == [30 * 60, 30 * 60]
