"""Countable seconds for a month (C1-C6) and the next threshold the progress bar aims at."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ccmdesk.rules.minutes import (
    TimedWork,
    countable_seconds,
    days_left,
    family_for,
    month_bounds,
    progress,
    progress_share,
    threshold_ticks,
)

NY = ZoneInfo("America/New_York")


def local(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=NY).astimezone(dt.UTC)


def work(start: dt.datetime, minutes: float, **kind: object) -> TimedWork:
    fields = {"role": "clinical", "service": "ccm", "face_to_face": False} | kind
    return TimedWork(((start, start + dt.timedelta(minutes=minutes)),), **fields)  # type: ignore[arg-type]


def test_only_clinical_care_management_time_away_from_the_patient_counts() -> None:
    day = local(2026, 3, 10, 9)
    entries = [
        work(day, 10),
        work(day + dt.timedelta(hours=1), 5, role="non_clinical"),
        work(day + dt.timedelta(hours=2), 5, role="billing"),
        work(day + dt.timedelta(hours=3), 5, service="rpm"),
        work(day + dt.timedelta(hours=4), 5, face_to_face=True),
        work(day + dt.timedelta(hours=5), 7, role="practitioner", service="pcm"),
    ]
    assert countable_seconds(entries, "2026-03", NY, None) == 17 * 60


def test_overlapping_time_of_two_people_counts_once() -> None:
    day = local(2026, 3, 10, 9)
    entries = [work(day, 10), work(day + dt.timedelta(minutes=5), 10, role="practitioner")]
    assert countable_seconds(entries, "2026-03", NY, None) == 15 * 60


def test_time_before_the_consent_day_and_on_inpatient_days_is_not_counted() -> None:
    entries = [
        work(local(2026, 3, 9, 23, 50), 20),  # 10 minutes before the consent day begins
        work(local(2026, 3, 20, 9), 15),  # admitted that day
        work(local(2026, 3, 22, 23, 55), 10),  # discharged the 22nd: 5 minutes are on the 23rd
    ]
    seconds = countable_seconds(
        entries, "2026-03", NY, dt.date(2026, 3, 10), [(dt.date(2026, 3, 20), dt.date(2026, 3, 22))]
    )
    assert seconds == 10 * 60 + 5 * 60


def test_a_timer_across_the_local_month_end_leaves_each_month_its_own_seconds() -> None:
    entries = [work(local(2026, 3, 31, 23, 50), 25)]
    assert countable_seconds(entries, "2026-03", NY, None) == 10 * 60
    assert countable_seconds(entries, "2026-04", NY, None) == 15 * 60


def test_thresholds_need_every_second() -> None:
    assert (
        progress("ccm", 19 * 60 + 59, "2026-03", dt.date(2026, 3, 25)).next_threshold_minutes == 20
    )
    reached = progress("ccm", 20 * 60, "2026-03", dt.date(2026, 3, 25))
    assert (reached.previous_threshold_minutes, reached.next_threshold_minutes) == (20, 40)
    assert progress("ccm", 60 * 60, "2026-03", dt.date(2026, 3, 25)).next_threshold_minutes is None
    assert progress("complex", 61 * 60, "2026-03", dt.date(2026, 3, 1)).next_threshold_minutes == 90
    assert progress("pcm", 10 * 60, "2026-03", dt.date(2026, 3, 1)).seconds_short == 20 * 60
    assert progress(None, 999, "2026-03", dt.date(2026, 3, 1)).next_threshold_minutes is None


def test_need_is_the_time_short_per_day_left() -> None:
    late = progress("ccm", 10 * 60, "2026-03", dt.date(2026, 3, 30))  # 2 days left
    early = progress("ccm", 0, "2026-03", dt.date(2026, 3, 2))  # 30 days left
    assert (late.days_left, early.days_left) == (2, 30)
    assert late.need == 300 and early.need == 40
    assert late.need > early.need


def test_families_follow_the_conditions_and_the_attested_complexity() -> None:
    assert [family_for(0, "none"), family_for(1, "high"), family_for(2, "none")] == [
        None,
        "pcm",
        "ccm",
    ]
    assert family_for(3, "moderate") == family_for(2, "high") == "complex"


def test_days_left_and_month_bounds_follow_the_local_calendar() -> None:
    assert days_left("2026-02", dt.date(2026, 2, 28)) == 1
    assert days_left("2026-02", dt.date(2026, 3, 1)) == 0
    assert days_left("2026-12", dt.date(2026, 11, 20)) == 31
    start, end = month_bounds("2026-03", NY)
    assert (start, end) == (local(2026, 3, 1), local(2026, 4, 1))
    assert end - start == dt.timedelta(days=31, hours=-1)  # the spring-forward night


def test_every_progress_bar_shows_the_share_of_the_next_threshold_with_ticks_below() -> None:
    march = "2026-03"
    today = dt.date(2026, 3, 16)
    cases = [
        (progress("ccm", 17 * 60, march, today), 17 / 20, ()),
        (progress("ccm", 45 * 60, march, today), 45 / 60, (20 / 60, 40 / 60)),
        (progress("ccm", 61 * 60, march, today), 1.0, (20 / 60, 40 / 60)),
        (progress("complex", 70 * 60, march, today), 70 / 90, (60 / 90,)),
        (progress("pcm", 10 * 60, march, today), 10 / 30, ()),
    ]
    for made, share, ticks in cases:
        assert progress_share(made) == share
        assert threshold_ticks(made) == ticks
    nothing = progress(None, 600, march, today)
    assert progress_share(nothing) is None and threshold_ticks(nothing) == ()
