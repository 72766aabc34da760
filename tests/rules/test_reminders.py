"""Which reminders are due: each kind's trigger, its key, and its silence when turned off."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ccmdesk.rules.catalog import REMINDER_KINDS
from ccmdesk.rules.reminders import (
    DueCallback,
    Facts,
    MonthToClose,
    ReminderSettings,
    RunningStopwatch,
    due,
    off_kinds,
    off_text,
    settings_errors,
)

ZONE = ZoneInfo("America/New_York")
SETTINGS = ReminderSettings()
# Tuesday 2026-12-08, 10:00 local.
NOW = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)
RUNNING = RunningStopwatch(7, "1001", "Ana Rivera", 61 * 60)
CALLBACK = DueCallback(3, "1002", "Ben Okafor", NOW - dt.timedelta(hours=4), "BP readings")
# One fact for every kind, each enough to raise it.
EVERY = Facts(
    falling_behind=4,
    days_left=24,
    callbacks=(CALLBACK,),
    ready_to_sign=3,
    ready_month="2026-11",
    month_close=MonthToClose("2026-11", 2),
)


def kinds(facts: Facts, now: dt.datetime = NOW, **settings: object) -> list[str]:
    chosen = ReminderSettings(**settings) if settings else SETTINGS  # type: ignore[arg-type]
    return [r.kind for r in due(now, ZONE, chosen, frozenset(), facts)]


def test_every_kind_is_raised_by_its_facts_with_a_key_per_occasion() -> None:
    found = {r.kind: r for r in due(NOW, ZONE, SETTINGS, frozenset(), EVERY)}
    assert set(found) == {
        "falling_behind",
        "callbacks_due",
        "ready_to_sign",
        "month_close",
    }
    behind = found["falling_behind"]
    assert behind.key == "falling_behind:2026-12-08"
    assert behind.body == (
        "4 of your patients need minutes to reach their next threshold with 24 days left."
    )
    assert behind.target == "worklist:falling_behind"
    assert found["callbacks_due"].key == "callbacks_due:3"
    assert found["callbacks_due"].target == "patient:1002"
    assert "BP readings" in found["callbacks_due"].body
    assert found["ready_to_sign"].title == "3 months ready to sign"
    assert "November 2026" in found["ready_to_sign"].body
    close = found["month_close"]
    assert close.title == "3 days left to close November 2026"  # the 8th: 8, 9, 10 left
    assert "2 billable patient-months are still unsigned" in close.body
    assert close.target == "billing"


@pytest.mark.parametrize("kind", list(REMINDER_KINDS))
def test_each_kind_off_for_the_practice_or_the_person_raises_nothing(kind: str) -> None:
    facts = Facts(
        falling_behind=4,
        days_left=24,
        running=RUNNING if kind == "long_stopwatch" else None,
        in_front=True,
        active_minutes=30,
        callbacks=(CALLBACK,),
        ready_to_sign=3,
        ready_month="2026-11",
        month_close=MonthToClose("2026-11", 2),
    )
    assert kind in [r.kind for r in due(NOW, ZONE, SETTINGS, frozenset(), facts)]
    practice_off = ReminderSettings(off=frozenset({kind}))
    assert kind not in [r.kind for r in due(NOW, ZONE, practice_off, frozenset(), facts)]
    assert kind not in [r.kind for r in due(NOW, ZONE, SETTINGS, frozenset({kind}), facts)]


def test_the_morning_reminders_wait_for_the_working_day() -> None:
    before = dt.datetime(2026, 12, 8, 12, 59, tzinfo=dt.UTC)  # 07:59 local
    assert kinds(EVERY, before) == ["callbacks_due"]
    assert kinds(EVERY, before, workday_start_minute=7 * 60) == [
        "falling_behind",
        "callbacks_due",
        "ready_to_sign",
        "month_close",
    ]


def test_nobody_falling_behind_raises_nothing() -> None:
    assert "falling_behind" not in kinds(Facts(falling_behind=0, days_left=10))
    one = due(NOW, ZONE, SETTINGS, frozenset(), Facts(falling_behind=1, days_left=1))
    assert one[0].title == "1 patient falling behind"
    assert one[0].body.endswith("with 1 day left.")


def test_a_stopwatch_past_the_limit_is_named_once_per_entry() -> None:
    at_limit = RunningStopwatch(7, "1001", "Ana Rivera", 60 * 60)
    assert kinds(Facts(running=at_limit)) == []
    found = due(NOW, ZONE, SETTINGS, frozenset(), Facts(running=RUNNING))
    assert [(r.kind, r.key, r.target) for r in found] == [
        ("long_stopwatch", "long_stopwatch:7", "patient:1001")
    ]
    assert found[0].title == "Stopwatch running for 1 h 01 min"
    assert kinds(Facts(running=at_limit), stopwatch_limit_minutes=30) == ["long_stopwatch"]


def test_timing_a_call_needs_activity_in_front_in_working_hours_and_no_stopwatch() -> None:
    active = Facts(in_front=True, active_minutes=10)
    found = due(NOW, ZONE, SETTINGS, frozenset(), active)
    assert [(r.title, r.key) for r in found] == [
        ("Timing a call?", "no_stopwatch:2026-12-08T10:00")
    ]
    assert kinds(Facts(in_front=True, active_minutes=9)) == []
    assert kinds(Facts(in_front=False, active_minutes=30)) == []
    assert kinds(Facts(in_front=True, active_minutes=30, running=RUNNING)) == ["long_stopwatch"]
    evening = dt.datetime(2026, 12, 8, 22, 0, tzinfo=dt.UTC)  # 17:00 local: the day is over
    assert kinds(active, evening) == []
    assert kinds(Facts(in_front=True, active_minutes=3), nudge_after_minutes=3) == ["no_stopwatch"]


def test_timing_a_call_is_raised_at_most_once_an_hour() -> None:
    recent = Facts(in_front=True, active_minutes=30, last_nudge=NOW - dt.timedelta(minutes=59))
    assert kinds(recent) == []
    older = Facts(in_front=True, active_minutes=30, last_nudge=NOW - dt.timedelta(minutes=60))
    assert kinds(older) == ["no_stopwatch"]


def test_a_callback_not_due_yet_raises_nothing() -> None:
    later = DueCallback(4, "1002", "Ben Okafor", NOW + dt.timedelta(minutes=1))
    assert kinds(Facts(callbacks=(later,))) == []


def test_month_close_only_in_the_first_ten_days() -> None:
    facts = Facts(month_close=MonthToClose("2026-11", 0))
    tenth = dt.datetime(2026, 12, 10, 15, 0, tzinfo=dt.UTC)
    found = due(tenth, ZONE, SETTINGS, frozenset(), facts)
    assert found[0].title == "1 day left to close November 2026"
    assert found[0].body.endswith("Every billable patient-month in it is signed.")
    eleventh = dt.datetime(2026, 12, 11, 15, 0, tzinfo=dt.UTC)
    assert kinds(facts, eleventh) == []


def test_off_text_keeps_known_kinds_in_catalogue_order() -> None:
    assert off_kinds("month_close bogus falling_behind") == {"month_close", "falling_behind"}
    assert off_text({"month_close", "falling_behind"}) == "falling_behind month_close"


def test_settings_errors_name_each_field() -> None:
    assert settings_errors(SETTINGS) == []
    bad = ReminderSettings(
        off=frozenset({"nope"}),
        stopwatch_limit_minutes=2,
        nudge_after_minutes=0,
        workday_start_minute=600,
        workday_end_minute=540,
    )
    assert [e.field for e in settings_errors(bad)] == [
        "reminders_off",
        "stopwatch_limit_minutes",
        "nudge_after_minutes",
        "workday_end_minute",
    ]
