"""What every service shares: the database, the clock and the practice's calendar."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.db import Database
from ccmdesk.models import Patient, Practice, Staff
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import parse_month, reason_error
from ccmdesk.services.context import SYSTEM_ROLE, Actor, Clock, Permission, require, utc_now
from ccmdesk.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed

# Where a transaction keeps the zone it read (Session.info lives as long as the session).
_ZONE = "ccmdesk.practice_zone"


def practice_zone(session: Session) -> dt.tzinfo:
    """The practice's time zone; before set-up, the computer's own. Read once a transaction:
    a stop asks three times, and each read flushed the stop's pending rows first."""
    zone: dt.tzinfo | None = session.info.get(_ZONE)
    if zone is None:
        name = session.scalars(select(Practice.timezone).limit(1)).first()
        local = dt.datetime.now().astimezone().tzinfo
        zone = ZoneInfo(name) if name else local if local is not None else dt.UTC
        session.info[_ZONE] = zone
    return zone


def forget_practice_zone(session: Session) -> None:
    """The practice's time zone was just changed in this transaction: read it afresh."""
    session.info.pop(_ZONE, None)


def patient_by_mrn(session: Session, mrn: str, *options: Any) -> Patient:
    """The patient with this MRN (loading `options` with it), or a clear NotFound."""
    patient = session.scalars(select(Patient).where(Patient.mrn == mrn).options(*options)).first()
    if patient is None:
        raise NotFound(f"There is no patient with MRN '{mrn}'.")
    return patient


def checked_month(month: str) -> str:
    """A YYYY-MM month (ASCII digits, 2000-01 to 2099-12) as given, or a clear refusal."""
    try:
        return parse_month(month)
    except ValueError as exc:
        raise ServiceError(str(exc)) from exc


def checked_reason(reason: str) -> str:
    """The reason, stripped, or a refusal when it is too long or holds control characters;
    whether one is required is each caller's own rule."""
    if message := reason_error(reason):
        raise ValidationFailed([FieldError("reason", message)])
    return reason.strip()


class ServiceBase:
    """A use-case object: one session per call, never handed out."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def _now(self) -> dt.datetime:
        return self._clock()

    def _authorize(self, actor: Actor, permission: Permission) -> Actor:
        """The acting person as the database knows them now, if their role allows the action.

        The role an Actor carries is only what was true when they signed in: an administrator
        demoted or retired since then must be refused, whatever the window still shows.
        """
        current = self._current(actor)
        require(current, permission)
        return current

    def _current(self, actor: Actor) -> Actor:
        if actor.role == SYSTEM_ROLE and actor.key.startswith("cli:"):
            return actor  # the command line: a local data-migration tool (formats.md)
        with self._db.read() as session:
            if actor.key.startswith("setup:"):
                # First start acts as an administrator only until the first staff member exists.
                if session.scalars(select(Staff.id).limit(1)).first() is not None:
                    raise PermissionDenied(
                        "The first-start set-up is finished; sign in as a staff member."
                    )
                return actor
            staff = session.scalars(select(Staff).where(Staff.staff_id == actor.key)).first()
            if staff is None or not staff.active:
                raise PermissionDenied(
                    f"{actor.name} is not an active staff member any more; sign in again."
                )
            return Actor(key=staff.staff_id, name=staff.name, role=staff.role)

    def _today(self, session: Session) -> dt.date:
        """Today in the practice's time zone: what "future" and "this month" are judged by."""
        return self._now().astimezone(practice_zone(session)).date()


def staff_names(session: Session) -> dict[str, str]:
    """Every staff member's name by staff_id: what who_did reads."""
    return {key: name for key, name in session.execute(select(Staff.staff_id, Staff.name))}


def staff_label(staff: Staff | None) -> str:
    """ "Adaeze Okafor, MD": a name with its credentials, as documents sign it."""
    if staff is None:
        return ""
    return f"{staff.name}, {staff.credentials}" if staff.credentials else staff.name


def who_did(key: str, names: dict[str, str]) -> str:
    """Who recorded something, from the key it was recorded under: a staff member's name, the
    command line as Actor.command_line names it, the first start, the upgrade, or the key."""
    if key in names:
        return names[key]
    if key.startswith("cli:"):
        return f"command line ({key[4:]})"
    if key.startswith("setup:"):
        return "first start"
    return "upgrade (from the consent dates)" if key == "upgrade" else key
