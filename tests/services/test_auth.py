"""Signing in: Argon2id passwords, PINs for one's own screen, lockout, and the audit trail."""

from __future__ import annotations

import contextlib

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent, Staff
from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import Actor, PermissionDenied, Services, ValidationFailed
from ccmdesk.services.auth import AccountLocked, PinState, SignInRefused
from tests.helpers.common import ADMIN, CLI, FAST_HASHER, NOW, NURSE, FakeClock

PASSWORD = "correct horse battery"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def team(db: Database, clock: FakeClock) -> Services:
    services = Services(db, clock=clock, hasher=FAST_HASHER)
    for record in (
        StaffRecord("admin-a", "Ann Admin", "admin"),
        StaffRecord("rn-lee", "Grace Lee", "clinical", "RN"),
        StaffRecord("rn-grace-lee", "Grace Lee 2", "clinical", "RN"),
        StaffRecord("rn-old", "Old Nurse", "clinical", "RN", active=False),
    ):
        services.staff.save(CLI, record, is_new=True)
    for staff_id in ("admin-a", "rn-lee", "rn-old"):
        services.auth.set_password(CLI, staff_id, PASSWORD)
    return services


def events(db: Database, action: str) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def staff_row(db: Database, staff_id: str) -> Staff:
    with db.session() as session:
        row = session.scalars(select(Staff).where(Staff.staff_id == staff_id)).one()
        session.expunge(row)
        return row


def test_the_right_password_signs_in_and_is_audited(team: Services, db: Database) -> None:
    actor = team.auth.sign_in(" rn-lee ", PASSWORD)
    assert actor == Actor(key="rn-lee", name="Grace Lee", role="clinical")
    assert [e.actor for e in events(db, "auth.sign_in")] == ["rn-lee"]


def test_only_an_argon2id_hash_is_stored_and_no_secret_reaches_the_audit_trail(
    team: Services, db: Database
) -> None:
    row = staff_row(db, "rn-lee")
    assert row.password_hash is not None and row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    with db.session() as session:
        trail = " ".join(
            f"{e.before} {e.after} {e.reason}" for e in session.scalars(select(AuditEvent))
        )
    assert PASSWORD not in trail and "$argon2" not in trail


def test_a_wrong_password_or_unknown_id_gets_the_same_answer_and_is_recorded(
    team: Services, db: Database
) -> None:
    for staff_id, password in (("rn-lee", "wrong password"), ("nobody", PASSWORD),
                               ("rn-old", PASSWORD)):  # fmt: skip
        with pytest.raises(SignInRefused, match="The staff id or the password is not right"):
            team.auth.sign_in(staff_id, password)
    failures = events(db, "auth.failure")
    assert [(e.entity_key, e.reason) for e in failures] == [
        ("rn-lee", "wrong password (1 of 5)"),
        ("(unknown)", "unknown or inactive staff id"),
        ("rn-old", "unknown or inactive staff id"),
    ]
    # What was typed as an unknown id (often a password in the wrong field) is not kept.
    assert all("nobody" not in f"{e.actor} {e.entity_key} {e.reason}" for e in failures)
    assert staff_row(db, "rn-lee").failed_attempts == 1


def test_five_wrong_attempts_lock_the_account_for_five_minutes(
    team: Services, db: Database, clock: FakeClock
) -> None:
    said = []
    for attempt in range(4):
        with pytest.raises(SignInRefused) as refused:
            team.auth.sign_in("rn-lee", f"guess {attempt}")
        assert not isinstance(refused.value, AccountLocked)
        said.append(str(refused.value))
    # Every refusal says how many tries are left, counting down.
    assert [s.split("right. ")[-1] for s in said] == [
        "4 more wrong attempts lock the account for 5 minutes.",
        "3 more wrong attempts lock the account for 5 minutes.",
        "2 more wrong attempts lock the account for 5 minutes.",
        "1 more wrong attempt locks the account for 5 minutes.",
    ]
    with pytest.raises(AccountLocked, match="Try again in 5 minutes"):
        team.auth.sign_in("rn-lee", "guess 4")
    assert [e.entity_key for e in events(db, "auth.account_lock")] == ["rn-lee"]
    clock.advance(minutes=4)
    with pytest.raises(AccountLocked, match="Try again in 1 minute,"):
        team.auth.sign_in("rn-lee", PASSWORD)  # even the right password waits
    clock.advance(minutes=1)
    assert team.auth.sign_in("rn-lee", PASSWORD).key == "rn-lee"
    assert staff_row(db, "rn-lee").failed_attempts == 0


def test_an_administrator_lifts_a_lockout_by_setting_a_new_password(
    team: Services, db: Database
) -> None:
    for attempt in range(5):
        with pytest.raises(SignInRefused):
            team.auth.sign_in("rn-lee", f"guess {attempt}")
    team.auth.set_password(ADMIN, "rn-lee", "a brand new secret")
    assert team.auth.sign_in("rn-lee", "a brand new secret").key == "rn-lee"
    assert [e.actor for e in events(db, "auth.password_set")][-1] == "admin-a"


def test_without_a_password_sign_in_says_how_to_get_one(team: Services) -> None:
    team.staff.save(CLI, StaffRecord("ma-new", "New Assistant", "clinical"), is_new=True)
    with pytest.raises(SignInRefused, match="ccmdesk user set-password ma-new"):
        team.auth.sign_in("ma-new", "")
    assert not team.auth.has_password("ma-new") and team.auth.has_password("rn-lee")


def test_one_changes_ones_own_password_only_with_the_current_one(team: Services) -> None:
    with pytest.raises(PermissionDenied, match="current password is not right"):
        team.auth.set_password(NURSE, "rn-lee", "my next password")
    with pytest.raises(PermissionDenied, match="current password is not right"):
        team.auth.set_password(NURSE, "rn-lee", "my next password", current="wrong")
    team.auth.set_password(NURSE, "rn-lee", "my next password", current=PASSWORD)
    assert team.auth.sign_in("rn-lee", "my next password").key == "rn-lee"
    with pytest.raises(SignInRefused):
        team.auth.sign_in("rn-lee", PASSWORD)


def test_only_administrators_set_someone_elses_password(team: Services) -> None:
    with pytest.raises(PermissionDenied, match="may not add or edit staff"):
        team.auth.set_password(NURSE, "admin-a", "taken over now")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8 characters"),
        ("password123", "first ones anyone would guess"),
        ("aaaaaaaaaa", "first ones anyone would guess"),
        ("RN-GRACE-LEE", "may not be the staff id"),
        ("Grace Lee 2", "may not be the person's name"),
        (" padded password", "may not start or end with a space"),
        ("x" * 129, "at most 128 characters"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(
    team: Services, password: str, problem: str
) -> None:
    with pytest.raises(ValidationFailed, match=problem):
        team.auth.set_password(ADMIN, "rn-grace-lee", password)


def test_a_pin_unlocks_ones_own_screen_but_never_signs_in(team: Services, db: Database) -> None:
    with pytest.raises(PermissionDenied, match="password is not right"):
        team.auth.set_pin(NURSE, "4826", "wrong")
    with pytest.raises(ValidationFailed, match="4 to 8 digits"):
        team.auth.set_pin(NURSE, "48a6", PASSWORD)
    with pytest.raises(ValidationFailed, match="too easy to guess"):
        team.auth.set_pin(NURSE, "1234", PASSWORD)
    team.auth.set_pin(NURSE, "4826", PASSWORD)
    assert team.auth.unlock(NURSE, "4826").key == "rn-lee"
    assert team.auth.unlock(NURSE, PASSWORD).key == "rn-lee"
    with pytest.raises(SignInRefused):
        team.auth.sign_in("rn-lee", "4826")
    with pytest.raises(SignInRefused, match="password or PIN is not right"):
        team.auth.unlock(NURSE, "0000")
    assert len(events(db, "auth.screen_unlock")) == 2
    team.auth.set_pin(NURSE, None, PASSWORD)
    with pytest.raises(SignInRefused):
        team.auth.unlock(NURSE, "4826")


def test_wrong_pins_count_towards_the_lockout(team: Services) -> None:
    team.auth.set_pin(NURSE, "4826", PASSWORD)
    for attempt in range(4):
        with pytest.raises(SignInRefused):
            team.auth.unlock(NURSE, f"99{attempt}1")
    with pytest.raises(AccountLocked):
        team.auth.unlock(NURSE, "9951")
    with pytest.raises(AccountLocked):
        team.auth.unlock(NURSE, "4826")


def test_screen_locks_and_sign_outs_are_in_the_audit_trail(team: Services, db: Database) -> None:
    team.auth.screen_locked(NURSE, automatic=True)
    team.auth.screen_locked(NURSE, automatic=False)
    team.auth.signed_out(NURSE)
    assert [e.reason for e in events(db, "auth.screen_lock")] == ["inactivity", ""]
    assert [e.actor for e in events(db, "auth.sign_out")] == ["rn-lee"]


def test_a_stronger_hashing_setting_upgrades_a_hash_at_the_next_sign_in(
    team: Services, db: Database, clock: FakeClock
) -> None:
    stronger = Services(db, clock=clock, hasher=PasswordHasher(time_cost=2, memory_cost=128,
                                                               parallelism=1))  # fmt: skip
    assert "t=1" in (staff_row(db, "rn-lee").password_hash or "")
    stronger.auth.sign_in("rn-lee", PASSWORD)
    assert "t=2" in (staff_row(db, "rn-lee").password_hash or "")
    assert stronger.auth.sign_in("rn-lee", PASSWORD).key == "rn-lee"


def test_the_first_password_on_an_older_database_is_an_administrators_only(
    db: Database, clock: FakeClock
) -> None:
    services = Services(db, clock=clock, hasher=FAST_HASHER)
    for record in (StaffRecord("admin-a", "Ann Admin", "admin"),
                   StaffRecord("rn-lee", "Grace Lee", "clinical")):  # fmt: skip
        services.staff.save(CLI, record, is_new=True)
    assert not services.auth.anyone_has_password()
    with pytest.raises(PermissionDenied, match="Only an active administrator"):
        services.auth.claim_first_password("rn-lee", PASSWORD)
    actor = services.auth.claim_first_password("admin-a", PASSWORD)
    assert actor.key == "admin-a" and services.auth.anyone_has_password()
    with pytest.raises(PermissionDenied, match="already set up"):
        services.auth.claim_first_password("admin-a", "another password")
    assert services.auth.sign_in("admin-a", PASSWORD) == actor


def test_an_administrator_changing_their_own_password_proves_the_current_one(
    team: Services,
) -> None:
    admin = team.auth.sign_in("admin-a", PASSWORD)
    with pytest.raises(PermissionDenied, match="current password is not right"):
        team.auth.set_password(admin, "admin-a", "a takeover attempt", current="wrong")
    team.auth.set_password(admin, "admin-a", "a proper new one", current=PASSWORD)
    team.auth.set_password(admin, "rn-lee", "set for grace")  # someone else's: no proof asked
    assert team.auth.sign_in("rn-lee", "set for grace").key == "rn-lee"


def test_a_try_on_an_account_without_a_password_is_recorded(team: Services, db: Database) -> None:
    team.staff.save(CLI, StaffRecord("ma-new", "New Assistant", "clinical"), is_new=True)
    with pytest.raises(SignInRefused):
        team.auth.sign_in("ma-new", "anything at all")
    assert [(e.entity_key, e.reason) for e in events(db, "auth.failure")] == [
        ("ma-new", "no password set")
    ]


def test_wrong_passwords_tried_in_parallel_still_lock_the_account_after_five(
    team: Services, db: Database
) -> None:
    import threading

    outcomes: list[str] = []
    start = threading.Barrier(12)

    def guess(n: int) -> None:
        start.wait()
        try:
            team.auth.sign_in("rn-lee", f"parallel guess {n}")
        except AccountLocked:
            outcomes.append("locked")
        except SignInRefused:
            outcomes.append("wrong")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Five wrong answers, then the lock: the fifth locks, the rest find it locked.
    assert sorted(outcomes) == ["locked"] * 8 + ["wrong"] * 4
    assert len(events(db, "auth.account_lock")) == 1


def test_two_first_passwords_at_once_cannot_both_be_the_first(
    db: Database, clock: FakeClock
) -> None:
    import threading

    services = Services(db, clock=clock, hasher=FAST_HASHER)
    for staff_id in ("admin-a", "admin-b"):
        services.staff.save(CLI, StaffRecord(staff_id, f"Admin {staff_id}", "admin"), is_new=True)
    won: list[str] = []
    start = threading.Barrier(2)

    def claim(staff_id: str) -> None:
        start.wait()
        with contextlib.suppress(PermissionDenied):
            won.append(services.auth.claim_first_password(staff_id, "the first password").key)

    threads = [threading.Thread(target=claim, args=(s,)) for s in ("admin-a", "admin-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def lock_out_with_pins(team: Services) -> None:
    for attempt in range(4):
        with pytest.raises(SignInRefused):
            team.auth.unlock(NURSE, f"97{attempt}3")
    with pytest.raises(AccountLocked, match="only your password unlocks: your PIN is off"):
        team.auth.unlock(NURSE, "9753")


def test_after_a_lock_out_only_the_password_unlocks_until_it_is_used(
    team: Services, db: Database, clock: FakeClock
) -> None:
    team.auth.set_pin(NURSE, "4826", PASSWORD)
    assert team.auth.pin_state(NURSE) == PinState.ON
    lock_out_with_pins(team)
    assert "the PIN is off until the password is used" in events(db, "auth.account_lock")[0].reason
    clock.advance(minutes=5)  # the lock-out is over; the PIN stays off
    assert team.auth.pin_state(NURSE) == PinState.OFF
    for _ in range(2):
        with pytest.raises(SignInRefused, match="Your PIN is off") as refused:
            team.auth.unlock(NURSE, "4826")  # the right PIN
        assert not isinstance(refused.value, AccountLocked)
    # Not even compared, so a right PIN is a wrong password like any other and counts as one.
    assert [e.reason for e in events(db, "auth.failure")][-2:] == [
        "wrong password (1 of 5)",
        "wrong password (2 of 5)",
    ]
    assert team.auth.unlock(NURSE, PASSWORD).key == "rn-lee"
    assert team.auth.pin_state(NURSE) == PinState.ON
    assert team.auth.unlock(NURSE, "4826").key == "rn-lee"


def test_a_guesser_gets_five_pins_between_two_uses_of_the_password(
    team: Services, clock: FakeClock
) -> None:
    """Five every five minutes was 1,440 a day; now the sixth is against the password."""
    team.auth.set_pin(NURSE, "4826", PASSWORD)
    lock_out_with_pins(team)
    for _ in range(3):  # fifteen more minutes of guessing, the right PIN among the guesses
        clock.advance(minutes=5)
        for guess in ("1357", "2468", "4826", "8642"):
            with pytest.raises(SignInRefused) as refused:
                team.auth.unlock(NURSE, guess)
            assert not isinstance(refused.value, AccountLocked)
        with pytest.raises(AccountLocked):
            team.auth.unlock(NURSE, "3579")
    assert team.auth.pin_state(NURSE) == PinState.OFF


def test_signing_in_with_the_password_turns_the_pin_back_on_but_a_reset_does_not(
    team: Services, clock: FakeClock
) -> None:
    team.auth.set_pin(NURSE, "4826", PASSWORD)
    lock_out_with_pins(team)
    team.auth.set_password(ADMIN, "rn-lee", "a brand new secret")  # lifts the lock-out at once
    assert team.auth.pin_state(NURSE) == PinState.OFF
    with pytest.raises(SignInRefused, match="Your PIN is off"):
        team.auth.unlock(NURSE, "4826")
    assert team.auth.sign_in("rn-lee", "a brand new secret").key == "rn-lee"
    assert team.auth.pin_state(NURSE) == PinState.ON
    assert team.auth.unlock(NURSE, "4826").key == "rn-lee"


def test_a_lock_out_by_wrong_passwords_at_sign_in_turns_the_pin_off_too(
    team: Services, clock: FakeClock
) -> None:
    team.auth.set_pin(NURSE, "4826", PASSWORD)
    for attempt in range(5):
        with pytest.raises(SignInRefused):
            team.auth.sign_in("rn-lee", f"guess {attempt}")
    clock.advance(minutes=5)
    assert team.auth.pin_state(NURSE) == PinState.OFF
    with pytest.raises(SignInRefused, match="Your PIN is off"):
        team.auth.unlock(NURSE, "4826")
    assert team.auth.unlock(NURSE, PASSWORD).key == "rn-lee"
    assert team.auth.pin_state(NURSE) == PinState.ON


def test_without_a_pin_the_lock_screen_asks_for_the_password(team: Services) -> None:
    assert team.auth.pin_state(NURSE) == PinState.NONE
    with pytest.raises(SignInRefused, match=r"^That password is not right\. 4 more wrong"):
        team.auth.unlock(NURSE, "0000")
