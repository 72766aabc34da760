"""What every service shares: the database, the clock and the practice's calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.db import Database
from ccmdesk.models import Practice
from ccmdesk.services.context import Clock, utc_now


def practice_zone(session: Session) -> dt.tzinfo:
    """The practice's time zone; before set-up, the computer's own."""
    name = session.scalars(select(Practice.timezone).limit(1)).first()
    if name:
        return ZoneInfo(name)
    local = dt.datetime.now().astimezone().tzinfo
    return local if local is not None else dt.UTC


class ServiceBase:
    """A use-case object: one session per call, never handed out."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def _now(self) -> dt.datetime:
        return self._clock()

    def _today(self, session: Session) -> dt.date:
        """Today in the practice's time zone: what "future" and "this month" are judged by."""
        return self._now().astimezone(practice_zone(session)).date()
