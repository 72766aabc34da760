"""Interval maths: union, overlap and the month split in the practice's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from ccmdesk.rules.intervals import (
    Interval,
    largest_free_shift,
    overlap,
    seconds,
    split_by_month,
)

NY = ZoneInfo("America/New_York")
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def test_touching_intervals_do_not_overlap() -> None:
    a = (at("2026-03-10T10:00:00Z"), at("2026-03-10T10:10:00Z"))
    b = (at("2026-03-10T10:10:00Z"), at("2026-03-10T10:20:00Z"))
    assert not overlap(a, b)
    assert overlap(a, (at("2026-03-10T10:09:59Z"), at("2026-03-10T10:30:00Z")))


def test_a_call_across_month_end_gives_each_month_its_own_seconds() -> None:
    call = (at("2026-03-31T23:50:00-04:00"), at("2026-04-01T00:10:00-04:00"))
    pieces = split_by_month(call, NY)
    assert [(month, seconds(piece)) for month, piece in pieces] == [
        ("2026-03", 600),
        ("2026-04", 600),
    ]


def test_month_end_is_local_midnight_not_utc_midnight() -> None:
    # 21:00 in New York on 31 March is already 1 April in UTC: it stays in March.
    evening = (at("2026-03-31T21:00:00-04:00"), at("2026-03-31T21:30:00-04:00"))
    assert [m for m, _ in split_by_month(evening, NY)] == ["2026-03"]


def test_dst_nights_count_true_elapsed_time() -> None:
    # 2026-03-08: clocks jump 02:00 -> 03:00 in New York; 01:30 to 03:30 is one hour.
    spring = (at("2026-03-08T01:30:00-05:00"), at("2026-03-08T03:30:00-04:00"))
    assert seconds(spring) == 3600
    # 2026-11-01: 01:30 EDT to 01:30 EST is one hour too, though the wall clock did not move.
    autumn = (at("2026-11-01T01:30:00-04:00"), at("2026-11-01T01:30:00-05:00"))
    assert seconds(autumn) == 3600
    assert split_by_month(autumn, NY)[0][0] == "2026-11"


instants = st.integers(min_value=0, max_value=400 * 24 * 3600).map(
    lambda s: dt.datetime(2025, 12, 1, tzinfo=UTC) + dt.timedelta(seconds=s)
)


@given(
    st.lists(st.tuples(instants, st.integers(min_value=1, max_value=90 * 24 * 3600)), max_size=6)
)
def test_splitting_at_month_ends_conserves_every_second(
    spans: list[tuple[dt.datetime, int]],
) -> None:
    for start, length in spans:
        interval = (start, start + dt.timedelta(seconds=length))
        pieces = split_by_month(interval, NY)
        assert sum(seconds(p) for _, p in pieces) == length
        assert [m for m, _ in pieces] == sorted({m for m, _ in pieces})


def shift(
    spans: list[Interval], others: list[Interval], limit: dt.timedelta
) -> dt.timedelta | None:
    return largest_free_shift([(span, others) for span in spans], limit)


def _at(minute: int) -> dt.datetime:
    return dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)


def test_the_whole_shift_is_taken_when_nothing_is_in_the_way() -> None:
    spans = [(_at(60), _at(70)), (_at(80), _at(90))]
    others = [(_at(0), _at(5))]
    assert shift(spans, others, dt.timedelta(minutes=50)) == dt.timedelta(minutes=50)


def test_the_shift_stops_where_an_earlier_entry_ends() -> None:
    # Moving back an hour would land the spans on the entry from 0:10 to 0:30.
    spans = [(_at(60), _at(70)), (_at(80), _at(90))]
    others = [(_at(10), _at(30))]
    assert shift(spans, others, dt.timedelta(minutes=60)) == dt.timedelta(minutes=30)


def test_a_shift_may_carry_the_spans_past_an_interleaved_entry() -> None:
    # The other entry (paused between the two spans) is fixed; only the spans move. Shifts of
    # 2 to 18 minutes put the second span on it; 18 exactly touches it, which is allowed.
    spans = [(_at(60), _at(70)), (_at(80), _at(90))]
    others = [(_at(72), _at(78))]
    assert shift(spans, others, dt.timedelta(minutes=20)) == dt.timedelta(minutes=20)
    assert shift(spans, others, dt.timedelta(minutes=18)) == dt.timedelta(minutes=18)
    assert shift(spans, others, dt.timedelta(minutes=17)) == dt.timedelta(minutes=2)


def test_no_room_at_all_means_no_shift() -> None:
    # The span starts where the other entry ends, and any move up to 25 minutes lands on it.
    spans = [(_at(60), _at(70))]
    others = [(_at(45), _at(60))]
    assert shift(spans, others, dt.timedelta(minutes=20)) == dt.timedelta(0)
    # Beyond that the span clears it entirely, before it.
    assert shift(spans, others, dt.timedelta(minutes=25)) == dt.timedelta(minutes=25)


def test_each_span_keeps_clear_of_its_own_list_and_none_when_even_staying_overlaps() -> None:
    # The first span must stay out of a signed month ending at 0:58; the second need not.
    first, second = (_at(60), _at(70)), (_at(80), _at(90))
    signed = (_at(-1000), _at(58))
    assert largest_free_shift(
        [(first, [signed]), (second, [])], dt.timedelta(minutes=30)
    ) == dt.timedelta(minutes=2)
    # A span already inside what it must avoid cannot be placed anywhere by moving back.
    assert largest_free_shift([((_at(50), _at(55)), [signed])], dt.timedelta(minutes=5)) is None


@given(
    st.lists(st.tuples(st.integers(0, 120), st.integers(1, 20)), min_size=1, max_size=3),
    st.lists(st.tuples(st.integers(0, 120), st.integers(1, 20)), max_size=4),
    st.integers(0, 90),
)
def test_the_shift_found_is_the_largest_free_one_by_brute_force(
    spans: list[tuple[int, int]], others: list[tuple[int, int]], limit: int
) -> None:
    moving = [((_at(a), _at(a + n)), [(_at(b), _at(b + m)) for b, m in others]) for a, n in spans]

    def free(minutes: int) -> bool:
        d = dt.timedelta(minutes=minutes)
        return not any(overlap((a - d, b - d), o) for (a, b), avoid in moving for o in avoid)

    best = next((m for m in range(limit, -1, -1) if free(m)), None)
    found = largest_free_shift(moving, dt.timedelta(minutes=limit))
    assert found == (None if best is None else dt.timedelta(minutes=best))
