"""What every service shares: the practice's time zone, read once a transaction."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import event, select

from ccmdesk.db import Database
from ccmdesk.models import Practice
from ccmdesk.rules.records import PracticeRecord
from ccmdesk.services import Services
from ccmdesk.services.base import forget_practice_zone, practice_zone


def test_the_zone_is_read_once_a_transaction(
    db: Database, services: Services, practice: PracticeRecord
) -> None:
    # A stop asks for the zone three times; each read also flushed the stop's pending rows.
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        with db.read() as session:
            zones = [practice_zone(session) for _ in range(3)]
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert zones == [ZoneInfo("America/New_York")] * 3
    assert sum("practice" in sql.lower() for sql in statements) == 1


def test_a_zone_changed_in_the_transaction_is_read_afresh_once_forgotten(
    db: Database, practice: PracticeRecord
) -> None:
    with db.session() as session:
        assert practice_zone(session) == ZoneInfo("America/New_York")
        session.scalars(select(Practice)).one().timezone = "America/Denver"
        forget_practice_zone(session)  # as saving the practice does
        assert practice_zone(session) == ZoneInfo("America/Denver")
