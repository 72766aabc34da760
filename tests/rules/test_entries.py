"""Each time-entry rule once: the sentence the stopwatch, entries by hand and imports all give."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ccmdesk.rules import entries
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import ACTIVITY_LIMIT, NOTE_LIMIT, REASON_LIMIT

NOW = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
ZONE = ZoneInfo("America/New_York")


def test_a_span_ends_after_it_starts() -> None:
    assert entries.span_errors(NOW - MINUTE, NOW - MINUTE, NOW) == [
        FieldError("end", "is not after start")
    ]
    assert entries.span_errors(NOW - 2 * MINUTE, NOW - MINUTE, NOW) == []


def test_a_span_does_not_end_in_the_future() -> None:
    assert entries.span_errors(NOW - MINUTE, NOW + MINUTE, NOW) == [
        FieldError("end", "is in the future")
    ]
    assert entries.span_errors(NOW - MINUTE, NOW, NOW) == []  # up to now is fine


def test_a_span_is_in_whole_seconds() -> None:
    half = dt.timedelta(milliseconds=500)
    assert entries.span_errors(NOW - MINUTE + half, NOW - half, NOW) == [
        FieldError("start", "has a fraction of a second; give whole seconds"),
        FieldError("end", "has a fraction of a second; give whole seconds"),
    ]


def test_a_span_without_a_time_zone_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="time zone"):
        entries.span_errors(dt.datetime(2026, 3, 4, 9), NOW, NOW)


def test_the_service_is_one_ccmdesk_knows() -> None:
    assert entries.service_error("ccm") is None
    assert entries.service_error("xyz") == "'xyz' is not one of ccm, pcm, tcm, rpm, bhi"


def test_the_activity_is_one_short_line() -> None:
    assert entries.activity_error("Education") is None
    assert entries.activity_error("a\nb") == "contains line breaks or control characters"
    too_long = "x" * (ACTIVITY_LIMIT + 1)
    assert (
        entries.activity_error(too_long) == f"is {ACTIVITY_LIMIT + 1} characters long; at most 100"
    )


def test_the_details_name_each_field() -> None:
    note = "n" * (NOTE_LIMIT + 1)
    assert entries.detail_errors("a\tb", note, "xyz") == [
        FieldError("activity", "contains line breaks or control characters"),
        FieldError("note", f"is {NOTE_LIMIT + 1} characters long; at most {NOTE_LIMIT}"),
        FieldError("service", "'xyz' is not one of ccm, pcm, tcm, rpm, bhi"),
    ]
    assert entries.detail_errors("Call", "two\nlines", None) == []  # None: service unchanged


@pytest.mark.parametrize(
    ("action", "sentence"),
    [
        ("by hand", "is required for time added or changed by hand"),
        ("discard", "is required to discard time"),
        ("delete", "is required to delete time"),
        ("keep idle", "is required to keep idle time"),
    ],
)
def test_a_reason_is_required_for_what_changes_time(action: str, sentence: str) -> None:
    assert entries.reason_errors("  ", action) == [FieldError("reason", sentence)]
    assert entries.reason_errors("called from home", action) == []


def test_a_reason_has_a_length_limit_whether_required_or_not() -> None:
    long = "r" * (REASON_LIMIT + 1)
    expected = [FieldError("reason", f"is {REASON_LIMIT + 1} characters long; at most 500")]
    assert entries.reason_errors(long) == entries.reason_errors(long, "delete") == expected
    assert entries.reason_errors("") == []  # not required: none given is fine


def test_an_entry_by_hand_is_checked_whole() -> None:
    errors = entries.entry_errors(
        NOW - MINUTE, NOW + MINUTE, NOW, activity="", note="", service="xyz", reason=""
    )
    assert [str(e) for e in errors] == [
        "end: is in the future",
        "service: 'xyz' is not one of ccm, pcm, tcm, rpm, bhi",
        "reason: is required for time added or changed by hand",
    ]


def test_a_stop_is_not_in_the_future_nor_before_the_last_pause() -> None:
    stop = {"activity": "", "note": "", "service": None, "reason": ""}
    assert entries.stop_errors(NOW + MINUTE, NOW, **stop) == [FieldError("end", "is in the future")]
    assert entries.stop_errors(NOW, NOW, **stop) == []
    paused = [NOW - 5 * MINUTE, NOW - 2 * MINUTE]
    assert entries.stop_end_error(NOW - 3 * MINUTE, paused) == (
        "is before this stopwatch's last pause"
    )
    assert entries.stop_end_error(NOW - 2 * MINUTE, paused) is None
    assert entries.stop_end_error(NOW - 3 * MINUTE, []) is None  # never paused


def test_the_first_overlap_is_found_and_touching_is_not_one() -> None:
    mine = [(NOW - 10 * MINUTE, NOW - 5 * MINUTE)]
    touching = (NOW - 5 * MINUTE, NOW, "A")
    sharing = (NOW - 6 * MINUTE, NOW - 4 * MINUTE, "B")
    assert entries.first_overlap(mine, [touching], NOW) is None
    assert entries.first_overlap(mine, [touching, sharing], NOW) == (
        NOW - 6 * MINUTE,
        NOW - 4 * MINUTE,
        False,
        "B",
    )


def test_a_running_stopwatch_counts_up_to_the_given_end_and_at_least_a_second() -> None:
    mine = [(NOW - 10 * MINUTE, NOW - 5 * MINUTE)]
    running = (NOW - 7 * MINUTE, None, "C")
    assert entries.first_overlap(mine, [running], NOW - 5 * MINUTE) == (
        NOW - 7 * MINUTE,
        NOW - 5 * MINUTE,
        True,
        "C",
    )
    just_started = (NOW - 5 * MINUTE - dt.timedelta(seconds=1), None, "D")
    found = entries.first_overlap(mine, [just_started], NOW - 20 * MINUTE)
    assert found is not None and found[1] - found[0] == dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("started", "ended", "running", "sentence"),
    [
        (
            dt.datetime(2026, 3, 4, 14, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 4, 14, 10, tzinfo=dt.UTC),
            False,
            "This overlaps your 09:00\N{EN DASH}09:10 entry for MRN 1001 on 04 Mar 2026; "
            "change the start or end.",
        ),
        (
            dt.datetime(2026, 3, 4, 14, 0, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 4, 14, 10, tzinfo=dt.UTC),
            True,
            "This overlaps your stopwatch for MRN 1001, running since 09:00:30 on 04 Mar 2026; "
            "change the start or end.",
        ),
        (
            dt.datetime(2026, 3, 5, 4, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 5, 5, 30, tzinfo=dt.UTC),
            False,
            "This overlaps your entry for MRN 1001 from 04 Mar 2026 23:30 to 05 Mar 2026 "
            "00:30; change the start or end.",
        ),
    ],
)
def test_an_overlap_names_the_entry_in_the_practices_time(
    started: dt.datetime, ended: dt.datetime, running: bool, sentence: str
) -> None:
    assert entries.overlap_message("1001", started, ended, running, ZONE) == sentence


def test_an_overlap_read_by_someone_else_names_whose_time_and_where_it_is_given() -> None:
    started = dt.datetime(2026, 3, 4, 14, 0, tzinfo=dt.UTC)
    ended = started + 10 * MINUTE
    sentence = entries.overlap_message(
        "1001", started, ended, False, ZONE, owner="rn-lee's", where="entries.csv line 2"
    )
    assert sentence == (
        "This overlaps rn-lee's 09:00\N{EN DASH}09:10 entry for MRN 1001 on 04 Mar 2026 "
        "(entries.csv line 2); change the start or end."
    )
