"""The idle and clock-jump monitor: what each tick pattern reports."""

from __future__ import annotations

import datetime as dt

from ccmdesk.services.activity import ActivityMonitor, ClockSetBack, IdleBegan

T0 = dt.datetime(2026, 3, 4, 14, 0, tzinfo=dt.UTC)


def watching(threshold: float = 300) -> ActivityMonitor:
    monitor = ActivityMonitor(threshold)
    monitor.reset(T0, 1000.0)
    return monitor


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_steady_ticks_with_activity_report_nothing() -> None:
    monitor = watching()
    assert all(monitor.tick(at(s), 1000.0 + s, idle_seconds=2) is None for s in range(1, 600))


def test_inactivity_past_the_threshold_reports_when_it_began_once() -> None:
    monitor = watching(threshold=300)
    for second in range(1, 400):
        assert monitor.tick(at(second), 1000.0 + second, idle_seconds=max(0, second - 101)) is None
    assert monitor.tick(at(400), 1400.0, idle_seconds=299) is None
    event = monitor.tick(at(401), 1401.0, idle_seconds=300)
    assert event == IdleBegan(at(101), "inactive")
    assert monitor.tick(at(402), 1402.0, idle_seconds=301) is None  # asked once
    monitor.reset(at(500), 1500.0)
    assert monitor.tick(at(501), 1501.0, idle_seconds=0) is None


def test_on_a_call_inactivity_and_a_locked_screen_do_not_prompt() -> None:
    monitor = watching(threshold=300)
    monitor.on_call = True
    assert monitor.tick(at(1), 1001.0, idle_seconds=900, locked=True) is None
    monitor.on_call = False
    assert monitor.tick(at(2), 1002.0, idle_seconds=0, locked=True) == IdleBegan(at(2), "locked")


def test_system_sleep_shows_as_the_wall_clock_running_ahead_of_the_monotonic_one() -> None:
    monitor = watching()
    monitor.on_call = True  # a sleeping computer vouches for nothing, even on a call
    monitor.tick(at(10), 1010.0, idle_seconds=0)
    event = monitor.tick(at(10 + 3600), 1011.0, idle_seconds=0)  # Linux: monotonic paused
    assert event == IdleBegan(at(10), "sleep")


def test_a_very_late_tick_is_sleep_where_the_monotonic_clock_keeps_counting() -> None:
    monitor = watching()
    monitor.tick(at(10), 1010.0, idle_seconds=0)
    assert monitor.tick(at(10 + 1800), 1010.0 + 1800, idle_seconds=0) == IdleBegan(at(10), "sleep")


def test_a_wall_clock_set_back_is_reported_with_its_size() -> None:
    monitor = watching()
    monitor.tick(at(10), 1010.0, idle_seconds=0)
    assert monitor.tick(at(11 - 3600), 1011.0, idle_seconds=0) == ClockSetBack(3600)
    assert monitor.tick(at(12 - 3600), 1012.0, idle_seconds=0) is None


def test_small_clock_adjustments_are_not_jumps() -> None:
    monitor = watching()
    assert monitor.tick(at(4), 1001.0, idle_seconds=0) is None  # 3 s of slew
    assert monitor.tick(at(5), 1005.0, idle_seconds=0) is None


def test_nothing_is_reported_when_no_stopwatch_is_watched() -> None:
    monitor = ActivityMonitor(300)
    assert monitor.tick(at(1), 1.0, idle_seconds=10_000) is None
    monitor.reset(T0, 0.0)
    monitor.stop_watching()
    assert monitor.tick(at(4000), 4000.0, idle_seconds=10_000) is None
