"""The practice's stopwatch settings: idle threshold and activity list, validated and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent
from ccmdesk.rules.records import DEFAULT_ACTIVITIES, StopwatchSettings
from ccmdesk.services import PermissionDenied, Services, ValidationFailed
from tests.helpers.common import ADMIN, NURSE


def test_defaults_then_a_saved_change_is_read_back_and_audited(
    staffed: Services, db: Database
) -> None:
    assert staffed.practice.stopwatch_settings() == StopwatchSettings(5, DEFAULT_ACTIVITIES)
    saved = staffed.practice.save_stopwatch_settings(
        ADMIN, StopwatchSettings(8, (" Phone call ", "Pharmacy"))
    )
    assert saved == StopwatchSettings(8, ("Phone call", "Pharmacy"))
    assert staffed.practice.stopwatch_settings() == saved
    with db.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "practice.stopwatch_settings")
        ).all()
    assert actions == ["practice.stopwatch_settings"]


def test_bad_settings_are_refused_with_every_problem_named(staffed: Services) -> None:
    with pytest.raises(ValidationFailed) as caught:
        staffed.practice.save_stopwatch_settings(
            ADMIN, StopwatchSettings(0, ("Call", "", "call", "x" * 101))
        )
    text = str(caught.value)
    for expected in ("between 1 and 120", "line 2 is empty", "line 3 repeats", "line 4 is 101"):
        assert expected in text
    assert staffed.practice.stopwatch_settings().idle_minutes == 5


def test_only_an_administrator_changes_the_settings(staffed: Services) -> None:
    with pytest.raises(PermissionDenied):
        staffed.practice.save_stopwatch_settings(NURSE, StopwatchSettings(10))
