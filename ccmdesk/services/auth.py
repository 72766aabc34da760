"""Signing in and unlocking: Argon2id passwords and PINs, lockout after failures, all audited."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from ccmdesk.db import Database
from ccmdesk.models import Staff
from ccmdesk.rules.passwords import password_problem, pin_problem
from ccmdesk.rules.records import FieldError, PracticeRecord, StaffRecord
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase
from ccmdesk.services.context import Actor, Clock, Permission, utc_now
from ccmdesk.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from ccmdesk.services.practice import PracticeService

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=5)
WRONG = "The staff id or the password is not right."
WRONG_UNLOCK = "That password or PIN is not right."
WRONG_UNLOCK_NO_PIN = "That password is not right."
WRONG_UNLOCK_PIN_OFF = (
    "That password is not right. Your PIN is off since the account was locked: unlock with "
    "your password."
)
PIN_OFF_AFTER_LOCK = " After that only your password unlocks: your PIN is off until you use it."
# Verified against when the staff id is unknown, so that case takes as long as a wrong password.
_DUMMY_SECRET = "not anyone's password"


class SignInRefused(ServiceError):
    """Not signed in; the message says why, without saying which of id or password was wrong."""


class AccountLocked(SignInRefused):
    """Too many wrong passwords or PINs in a row: the account waits until `until`."""

    def __init__(self, message: str, until: dt.datetime) -> None:
        super().__init__(message)
        self.until = until


class PinState(StrEnum):
    """Whether a person's PIN unlocks their screen now."""

    NONE = "none"  # no PIN set
    ON = "on"
    OFF = "off"  # off since a lock-out, until the person uses their password


@dataclass(frozen=True)
class _Outcome:
    actor: Actor | None
    refusal: SignInRefused | None


def default_hasher() -> PasswordHasher:
    """Argon2id with argon2-cffi's defaults (RFC 9106's low-memory choice: 64 MiB, t=3)."""
    return PasswordHasher()


class AuthService(ServiceBase):
    """Who may use ccmdesk, proved by a password (or, to unlock one's own screen, a PIN)."""

    def __init__(self, db: Database, clock: Clock = utc_now, hasher: PasswordHasher | None = None):
        super().__init__(db, clock)
        self._hasher = hasher or default_hasher()
        self._dummy: str | None = None

    # --- signing in and unlocking -------------------------------------------------------------

    def sign_in(self, staff_id: str, password: str) -> Actor:
        """The acting user, once their password is right; refused otherwise (and audited)."""
        return self._attempt(staff_id.strip(), password, pin=False, action="auth.sign_in")

    def unlock(self, actor: Actor, secret: str) -> Actor:
        """Unlock one's own locked screen with one's password or PIN (the password only, once
        the account has been locked: see `pin_state`)."""
        return self._attempt(actor.key, secret, pin=True, action="auth.screen_unlock")

    def pin_state(self, actor: Actor) -> PinState:
        """What the lock screen offers: a PIN is off from a lock-out until the password is used
        (signing in, or unlocking with it), so a short PIN faces five guesses between two uses
        of the password, not five every five minutes."""
        with self._db.read() as session:
            staff = session.scalars(select(Staff).where(Staff.staff_id == actor.key)).first()
            if staff is None or staff.pin_hash is None:
                return PinState.NONE
            return PinState.OFF if _pin_off(staff) else PinState.ON

    def screen_locked(self, actor: Actor, *, automatic: bool) -> None:
        """Record that this person's screen was locked (by them, or after inactivity)."""
        self._record(actor, "auth.screen_lock", reason="inactivity" if automatic else "")

    def signed_out(self, actor: Actor) -> None:
        self._record(actor, "auth.sign_out")

    def _attempt(self, staff_id: str, secret: str, *, pin: bool, action: str) -> Actor:
        # The outcome is worked out inside the transaction and raised after it, so a failed
        # attempt (and a lockout) is committed, not rolled back with the refusal.
        outcome = self._outcome(staff_id, secret, pin=pin, action=action)
        if outcome.refusal is not None:
            raise outcome.refusal
        assert outcome.actor is not None
        return outcome.actor

    def _outcome(self, staff_id: str, secret: str, *, pin: bool, action: str) -> _Outcome:
        now = self._now()
        with self._db.session() as session:
            _take_turns(session, Staff.staff_id == staff_id)
            staff = session.scalars(
                select(Staff).where(Staff.staff_id == staff_id).with_for_update()
            ).first()
            who = _claimant(staff)
            if staff is None or not staff.active:
                self._verify(None, secret)
                # What was typed is not kept: it is often a password typed in the wrong field.
                key = staff.staff_id if staff is not None else "(unknown)"
                _event(session, now, who, "auth.failure", key, "unknown or inactive staff id")
                return _Outcome(None, SignInRefused(WRONG))
            if staff.locked_until is not None and staff.locked_until > now:
                _event(session, now, who, "auth.failure", staff.staff_id, "account locked")
                pin_note = pin and staff.pin_hash is not None
                return _Outcome(None, _locked(staff.locked_until, now, pin_note=pin_note))
            if staff.password_hash is None:
                _event(session, now, who, "auth.failure", staff.staff_id, "no password set")
                return _Outcome(
                    None,
                    SignInRefused(
                        f"No password is set for {staff.staff_id} yet. An administrator sets one "
                        f"on the Staff page, or IT runs: ccmdesk user set-password "
                        f"{staff.staff_id}"
                    ),
                )
            # A PIN that is off is not even compared: a right one must not tell a guesser so.
            pin_on = pin and staff.pin_hash is not None and not _pin_off(staff)
            matched = self._verify(staff.password_hash, secret)
            if not matched and pin_on:
                matched = self._verify(staff.pin_hash, secret)
            if matched:
                staff.failed_attempts = 0
                staff.locked_until = None  # by the password, or by a PIN that was on already
                rehashed = None
                if not pin and self._hasher.check_needs_rehash(staff.password_hash):
                    staff.password_hash = self._hasher.hash(secret)  # stronger settings now
                    rehashed = _password_print(staff)
                actor = Actor(key=staff.staff_id, name=staff.name, role=staff.role)
                _event(session, now, actor, action, staff.staff_id, after=rehashed)
                return _Outcome(actor, None)
            staff.failed_attempts += 1
            what = "password or PIN" if pin_on else "password"
            tries = f"{staff.failed_attempts} of {MAX_FAILURES}"
            _event(session, now, who, "auth.failure", staff.staff_id, f"wrong {what} ({tries})")
            if staff.failed_attempts >= MAX_FAILURES:
                staff.failed_attempts = 0
                # Kept once it has passed, until the password is used: the PIN is off till then.
                staff.locked_until = now + LOCKOUT
                has_pin = staff.pin_hash is not None
                _event(
                    session,
                    now,
                    who,
                    "auth.account_lock",
                    staff.staff_id,
                    f"{MAX_FAILURES} wrong attempts in a row"
                    + ("; the PIN is off until the password is used" if has_pin else ""),
                )
                return _Outcome(None, _locked(staff.locked_until, now, pin_note=pin and has_pin))
            left = MAX_FAILURES - staff.failed_attempts
            if not pin:
                wrong = WRONG
            elif pin_on:
                wrong = WRONG_UNLOCK
            elif staff.pin_hash is None:
                wrong = WRONG_UNLOCK_NO_PIN
            else:
                wrong = WRONG_UNLOCK_PIN_OFF
            return _Outcome(
                None,
                SignInRefused(f"{wrong} {_tries_left(left)}"),
            )

    def _verify(self, encoded: str | None, secret: str) -> bool:
        if encoded is None:
            if self._dummy is None:
                self._dummy = self._hasher.hash(_DUMMY_SECRET)
            encoded = self._dummy
            secret = secret + "\0"  # never matches
        try:
            return self._hasher.verify(encoded, secret)
        except (VerificationError, InvalidHashError):
            return False

    # --- setting passwords and PINs -----------------------------------------------------------

    def set_password(
        self, actor: Actor, staff_id: str, password: str, *, current: str | None = None
    ) -> None:
        """A new password: one's own (always with the current one, if there is one), or anyone
        else's by an administrator (or IT at the command line); it also lifts a lockout."""
        own = actor.key == staff_id
        if not own:
            actor = self._authorize(actor, Permission.MANAGE_STAFF)
        now = self._now()
        with self._db.session() as session:
            staff = session.scalars(select(Staff).where(Staff.staff_id == staff_id)).first()
            if staff is None:
                raise NotFound(f"There is no staff member '{staff_id}'.")
            # Changing one's own password proves the old one first, an administrator's too: an
            # unattended session must not be enough to take the account over for good. (The
            # command line is IT's tool, under its own operating-system account.)
            proving = own and staff.password_hash is not None
            if proving and (current is None or not self._verify(staff.password_hash, current)):
                raise PermissionDenied("Your current password is not right.")
            why = "first password" if staff.password_hash is None else ""
            self._set_password(session, actor, staff, password, now, why)

    def _set_password(
        self,
        session: Session,
        actor: Actor,
        staff: Staff,
        password: str,
        now: dt.datetime,
        why: str,
    ) -> None:
        """The hash of an acceptable new password, stored, and its print in the audit trail; a
        lock-out ends with it, and the PIN stays off until the person uses the new password."""
        if problem := password_problem(password, staff.staff_id, staff.name):
            raise ValidationFailed([FieldError("password", problem)])
        staff.password_hash = self._hasher.hash(password)
        staff.password_set_at = now
        staff.failed_attempts = 0
        if staff.locked_until is not None:
            staff.locked_until = min(staff.locked_until, now)
        after = _password_print(staff)
        _event(session, now, actor, "auth.password_set", staff.staff_id, why, after=after)

    def set_pin(self, actor: Actor, pin: str | None, password: str) -> None:
        """Set (or, with None, remove) one's own screen-unlock PIN, confirmed by the password."""
        if pin is not None and (problem := pin_problem(pin)):
            raise ValidationFailed([FieldError("pin", problem)])
        now = self._now()
        with self._db.session() as session:
            staff = session.scalars(select(Staff).where(Staff.staff_id == actor.key)).first()
            if staff is None or staff.password_hash is None:
                raise PermissionDenied("Set a password first; a PIN only unlocks your screen.")
            if not self._verify(staff.password_hash, password):
                raise PermissionDenied("Your password is not right.")
            staff.pin_hash = self._hasher.hash(pin) if pin is not None else None
            _event(
                session,
                now,
                actor,
                "auth.pin_set" if pin is not None else "auth.pin_removed",
                staff.staff_id,
                after={"pin_sha256": audit.fingerprint(staff.pin_hash)},
            )

    def hash_password(
        self, password: str, staff_id: str = "", name: str = "", *, field: str = "password"
    ) -> str:
        """The Argon2id hash of an acceptable new password; refused with the reason otherwise."""
        if problem := password_problem(password, staff_id, name):
            raise ValidationFailed([FieldError(field, problem)])
        return self._hasher.hash(password)

    def set_up_practice(self, practice: PracticeRecord, admin: StaffRecord, password: str) -> Actor:
        """First start: the practice and its first administrator, who signs in with `password`.
        Every problem (practice, administrator and password) is reported in one go."""
        problem = password_problem(password, admin.staff_id, admin.name)
        return PracticeService(self._db, self._clock).set_up(
            practice,
            admin,
            password_hash=None if problem else self._hasher.hash(password),
            more_errors=[FieldError("admin_password", problem)] if problem else [],
        )

    # --- what the sign-in screen needs to know ------------------------------------------------

    def has_password(self, staff_id: str) -> bool:
        with self._db.read() as session:
            return bool(
                session.scalar(
                    select(func.count())
                    .select_from(Staff)
                    .where(Staff.staff_id == staff_id, Staff.password_hash.is_not(None))
                )
            )

    def anyone_has_password(self) -> bool:
        """False only on a database from before sign-in existed (or a fresh one)."""
        with self._db.read() as session:
            return _anyone_has_password(session)

    def claim_first_password(self, staff_id: str, password: str) -> Actor:
        """On a database from before sign-in, where nobody has a password yet: an active
        administrator sets theirs and is signed in. Refused as soon as anyone has one."""
        now = self._now()
        with self._db.session() as session:
            _take_turns(session, Staff.password_hash.is_not(None))
            if _anyone_has_password(session):
                raise PermissionDenied("Sign-in is already set up; sign in with your password.")
            staff = session.scalars(select(Staff).where(Staff.staff_id == staff_id)).first()
            if staff is None or not staff.active or staff.role != "admin":
                raise PermissionDenied(
                    "Only an active administrator sets up sign-in for the practice."
                )
            actor = Actor(key=staff.staff_id, name=staff.name, role=staff.role)
            why = "sign-in set up for the practice"
            self._set_password(session, actor, staff, password, now, why)
            _event(session, now, actor, "auth.sign_in", staff.staff_id)
            return actor

    def _record(self, actor: Actor, action: str, reason: str = "") -> None:
        with self._db.session() as session:
            _event(session, self._now(), actor, action, actor.key, reason)


def _event(
    session: Session,
    now: dt.datetime,
    actor: Actor,
    action: str,
    key: str,
    reason: str = "",
    *,
    after: dict[str, str | None] | None = None,
) -> None:
    audit.record(
        session,
        at=now,
        actor=actor,
        action=action,
        entity="staff",
        entity_key=key,
        after=after,
        reason=reason,
    )


def _password_print(staff: Staff) -> dict[str, str | None]:
    """What the audit trail keeps of a new password: a fingerprint of the stored hash (never
    the hash), so `audit verify --deep` sees a hash replaced behind ccmdesk's back."""
    return {"password_sha256": audit.fingerprint(staff.password_hash)}


def _take_turns(session: Session, rows: ColumnElement[bool]) -> None:
    """Start the transaction as a writer, so attempts read what the one before wrote: parallel
    wrong passwords cannot each see "4 of 5" and slip past the lockout, and two first
    passwords cannot both be the first. (A write that changes nothing takes SQLite's write
    lock; on PostgreSQL the rows read next are locked FOR UPDATE as well.)"""
    session.execute(
        update(Staff).where(rows).values(failed_attempts=Staff.failed_attempts),
        execution_options={"synchronize_session": False},
    )


def _anyone_has_password(session: Session) -> bool:
    count = session.scalar(
        select(func.count()).select_from(Staff).where(Staff.password_hash.is_not(None))
    )
    return bool(count)


def _claimant(staff: Staff | None) -> Actor:
    """Whom a failed attempt is recorded against: the account tried, not a proven person."""
    if staff is None:
        return Actor(key="(unknown)", name="unknown", role="none")
    return Actor(key=staff.staff_id, name=staff.name, role=staff.role)


def _pin_off(staff: Staff) -> bool:
    """A lock-out (over or not) since the password was last used: the PIN does not unlock."""
    return staff.locked_until is not None


def _tries_left(left: int) -> str:
    """How many wrong attempts remain before the lock-out, said every time: a person who knows
    it slows down and checks Caps Lock before the account locks."""
    minutes = int(LOCKOUT.total_seconds() // 60)
    attempts = "attempt locks" if left == 1 else "attempts lock"
    return f"{left} more wrong {attempts} the account for {minutes} minutes."


def _locked(until: dt.datetime, now: dt.datetime, *, pin_note: bool = False) -> AccountLocked:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return AccountLocked(
        f"This account is locked after {MAX_FAILURES} wrong attempts in a row. Try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}, or ask an administrator to set a new "
        "password." + (PIN_OFF_AFTER_LOCK if pin_note else ""),
        until,
    )
