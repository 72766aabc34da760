"""Which outcomes close a callback, what an attempt and a callback must say, call windows."""

from __future__ import annotations

import datetime as dt

from ccmdesk.rules.calls import (
    attempt_errors,
    call_time_label,
    call_window_open,
    callback_errors,
    closes_callback,
)
from ccmdesk.rules.catalog import CALL_OUTCOMES

NOW = dt.datetime(2026, 4, 15, 16, 0, tzinfo=dt.UTC)


def test_only_a_patient_reached_or_declining_closes_a_callback() -> None:
    assert {o for o in CALL_OUTCOMES if closes_callback(o)} == {"reached", "declined"}


def test_an_attempt_as_given_is_checked_field_by_field() -> None:
    assert attempt_errors("reached", "207-555-0100", "ok", NOW, NOW) == []
    errors = attempt_errors("busy", "1" * 41, "x\x00", NOW + dt.timedelta(seconds=1), NOW)
    assert [e.field for e in errors] == ["outcome", "phone", "note", "at"]


def test_a_callback_must_be_ahead_of_now() -> None:
    assert callback_errors(NOW + dt.timedelta(seconds=1), "", NOW) == []
    assert [e.field for e in callback_errors(NOW, "", NOW)] == ["due_at"]


def test_the_preferred_window_holds_its_first_hour_not_its_end() -> None:
    morning = dt.datetime(2026, 4, 15, 8, 0)
    assert call_window_open("morning", morning)
    assert not call_window_open("morning", morning.replace(hour=12))
    assert call_window_open("afternoon", morning.replace(hour=12))
    assert not call_window_open("", morning)
    assert call_time_label("evening") == "Evening (17-20)"
    assert call_time_label("") == ""
