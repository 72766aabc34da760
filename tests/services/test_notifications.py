"""NotificationService: each reminder raised once from the database's facts, listed, read."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ccmdesk.db import Database, open_database
from ccmdesk.models import AuditEvent, Notification
from ccmdesk.rules.catalog import REMINDER_KINDS
from ccmdesk.rules.reminders import ReminderSettings
from ccmdesk.services import Actor, PermissionDenied, Services, ValidationFailed
from ccmdesk.services.notifications import Activity
from tests.helpers.common import ADMIN, BILLER, CLI, DOCTOR, NURSE, FakeClock, patient_text
from tests.helpers.database import reset_schema
from tests.helpers.reminders import APRIL_8, SHARED, add_callback, raise_together

ACTIVE = Activity(active_minutes=15, in_front=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(APRIL_8)


@pytest.fixture
def rs(db: Database, clock: FakeClock, staffed: Services) -> Services:
    """Two of the nurse's CCM patients with no minutes in April; 25 minutes of March for the
    first (ready for Dr. A to sign, and March not closed)."""
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    staffed.patients.save_text(CLI, patient_text(mrn="1002", last_name="Okafor"))
    services = Services(db, clock=clock)
    march = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)
    services.entries.add_manual(
        NURSE, "1001", march, march + dt.timedelta(minutes=25), reason="call from home"
    )
    return services


def kinds(services: Services, actor: Actor = NURSE, activity: Activity | None = None) -> list[str]:
    raised = services.notifications.check(actor, activity or Activity()).raised
    return [r.kind for r in raised]


def stored(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        return [(n.kind, n.key) for n in session.scalars(select(Notification).order_by("id"))]


def test_falling_behind_is_raised_once_a_day_with_the_count_and_days_left(
    rs: Services, db: Database, clock: FakeClock
) -> None:
    inbox = rs.notifications.check(NURSE)
    assert [(r.kind, r.body, r.target) for r in inbox.raised] == [
        (
            "falling_behind",
            "2 of your patients need minutes to reach their next threshold with 23 days left.",
            "worklist:falling_behind",
        )
    ]
    assert inbox.unread == 1
    clock.advance(hours=2)
    assert kinds(rs) == []  # once a day
    clock.advance(days=1)
    assert kinds(rs) == ["falling_behind"]
    assert [key for _, key in stored(db)] == [
        "falling_behind:2026-04-08",
        "falling_behind:2026-04-09",
    ]
    # Not the practitioner's: Dr. A manages no patient's care (she signs them).
    assert "falling_behind" not in kinds(rs, DOCTOR)


def test_a_long_stopwatch_is_raised_once_for_its_entry(rs: Services, clock: FakeClock) -> None:
    rs.notifications.save_my_off(NURSE, {"falling_behind"})
    rs.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=60)
    assert kinds(rs) == []
    clock.advance(minutes=1, seconds=1)
    inbox = rs.notifications.check(NURSE)
    assert [(r.kind, r.target) for r in inbox.raised] == [("long_stopwatch", "patient:1001")]
    assert "Ana Rivera" in inbox.raised[0].body
    clock.advance(minutes=30)
    assert kinds(rs) == []


def test_timing_a_call_is_raised_when_active_without_a_stopwatch_once_an_hour(
    rs: Services, clock: FakeClock
) -> None:
    rs.notifications.save_my_off(NURSE, {"falling_behind"})
    assert kinds(rs, NURSE, Activity(active_minutes=9, in_front=True)) == []
    assert kinds(rs, NURSE, Activity(active_minutes=15, in_front=False)) == []
    assert kinds(rs, NURSE, ACTIVE) == ["no_stopwatch"]
    clock.advance(minutes=59)
    assert kinds(rs, NURSE, ACTIVE) == []
    clock.advance(minutes=1)
    assert kinds(rs, NURSE, ACTIVE) == ["no_stopwatch"]
    rs.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=61)
    assert kinds(rs, NURSE, ACTIVE) == ["long_stopwatch"]  # a stopwatch runs: no nudge


def test_callbacks_due_for_the_person_are_raised_each_once(
    rs: Services, db: Database, clock: FakeClock
) -> None:
    rs.notifications.save_my_off(NURSE, {"falling_behind"})
    past = APRIL_8 - dt.timedelta(hours=1)
    mine = add_callback(db, "1001", past, "rn-lee", note="BP readings")
    unassigned = add_callback(db, "1002", past)  # the care manager's
    add_callback(db, "1001", past, "dr-a")  # someone else's
    later = add_callback(db, "1001", APRIL_8 + dt.timedelta(minutes=30))
    add_callback(db, "1002", past, done_at=past, done_by="rn-lee")
    add_callback(db, "1002", past, cancelled_at=past)
    inbox = rs.notifications.check(NURSE)
    assert sorted((r.title, r.target) for r in inbox.raised) == [
        ("Callback due: Ana Okafor", "patient:1002"),
        ("Callback due: Ana Rivera", "patient:1001"),
    ]
    assert {k for _, k in stored(db)} == {f"callbacks_due:{mine}", f"callbacks_due:{unassigned}"}
    clock.advance(minutes=31)
    assert [r.title for r in rs.notifications.check(NURSE).raised] == ["Callback due: Ana Rivera"]
    assert f"callbacks_due:{later}" in {k for _, k in stored(db)}


def test_a_callback_answered_by_a_kept_stopwatch_is_not_due(
    rs: Services, db: Database, clock: FakeClock
) -> None:
    # Called back early from the worklist: the stopwatch started from the callback was
    # stopped and kept, so the Calls tab shows it done; at its hour it must not ring.
    rs.notifications.save_my_off(NURSE, {"falling_behind"})
    later = add_callback(db, "1001", APRIL_8 + dt.timedelta(minutes=30), "rn-lee")
    timer = rs.stopwatch.start(NURSE, "1001")
    rs.calls.link(NURSE, later, timer.entry_id)
    clock.advance(minutes=10)
    rs.stopwatch.stop(NURSE, timer.entry_id)
    clock.advance(minutes=25)
    assert kinds(rs, NURSE) == []


def test_practitioners_hear_of_months_ready_to_sign(rs: Services) -> None:
    inbox = rs.notifications.check(DOCTOR)
    assert [(r.kind, r.title, r.target) for r in inbox.raised] == [
        ("ready_to_sign", "1 month ready to sign", "review")
    ]
    assert kinds(rs, DOCTOR) == []


def test_billing_hears_of_the_month_to_close_in_its_first_ten_days(
    rs: Services, clock: FakeClock
) -> None:
    inbox = rs.notifications.check(BILLER)
    assert [(r.kind, r.title, r.target) for r in inbox.raised] == [
        ("month_close", "3 days left to close March 2026", "billing")
    ]
    assert "1 billable patient-month is still unsigned" in inbox.raised[0].body
    clock.advance(days=3)  # the 11th
    assert kinds(rs, BILLER) == []
    rs.notifications.save_my_off(NURSE, {"falling_behind"})
    assert kinds(rs, NURSE) == []  # not billing's reminder for a nurse


@pytest.mark.parametrize("kind", list(REMINDER_KINDS))
@pytest.mark.parametrize("where", ["practice", "person"])
def test_a_kind_turned_off_raises_nothing(
    rs: Services, db: Database, clock: FakeClock, kind: str, where: str
) -> None:
    add_callback(db, "1001", APRIL_8 - dt.timedelta(hours=1))
    if kind == "long_stopwatch":
        rs.stopwatch.start(NURSE, "1001")
        clock.advance(minutes=61)
    actor = {"ready_to_sign": DOCTOR, "month_close": BILLER}.get(kind, NURSE)
    if where == "practice":
        rs.notifications.save_settings(ADMIN, ReminderSettings(off=frozenset({kind})))
    else:
        rs.notifications.save_my_off(actor, {kind})
    raised = kinds(rs, actor, ACTIVE)
    assert kind not in raised
    # Turned on again, the same moment raises it: the silence was the setting's.
    if where == "practice":
        rs.notifications.save_settings(ADMIN, ReminderSettings())
    else:
        rs.notifications.save_my_off(actor, set())
    assert kind in kinds(rs, actor, ACTIVE)


def test_marking_read_one_or_all(rs: Services, db: Database) -> None:
    add_callback(db, "1001", APRIL_8 - dt.timedelta(hours=1))
    inbox = rs.notifications.check(NURSE)
    assert inbox.unread == 2 and not any(r.read for r in inbox.rows)
    first = inbox.rows[-1].id
    after = rs.notifications.mark_read(NURSE, [first])
    assert after.unread == 1
    assert [r.read for r in after.rows if r.id == first] == [True]
    assert rs.notifications.mark_read(NURSE).unread == 0
    assert rs.notifications.list(DOCTOR).rows == ()  # each person sees only their own


def test_practice_settings_are_checked_audited_and_only_for_administrators(
    rs: Services, db: Database
) -> None:
    chosen = ReminderSettings(frozenset({"no_stopwatch"}), 90, 15, 7 * 60, 16 * 60)
    with pytest.raises(PermissionDenied):
        rs.notifications.save_settings(NURSE, chosen)
    with pytest.raises(ValidationFailed):
        rs.notifications.save_settings(ADMIN, ReminderSettings(stopwatch_limit_minutes=1))
    rs.notifications.save_settings(ADMIN, chosen)
    assert rs.notifications.settings() == chosen
    rs.notifications.save_my_off(NURSE, {"month_close", "callbacks_due"})
    assert rs.notifications.my_off(NURSE) == {"month_close", "callbacks_due"}
    with db.read() as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.after).where(
                AuditEvent.action.in_(["practice.reminders", "staff.reminders"])
            )
        ).all()
    assert [(a, json.loads(after)) for a, after in events] == [
        (
            "practice.reminders",
            {
                "reminders_off": "no_stopwatch",
                "stopwatch_limit_minutes": 90,
                "nudge_after_minutes": 15,
                "workday_start_minute": 420,
                "workday_end_minute": 960,
            },
        ),
        ("staff.reminders", {"reminders_off": "callbacks_due month_close"}),
    ]


def test_a_key_stored_meanwhile_by_another_workstation_is_kept_not_an_error(
    rs: Services, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Services(db, clock=lambda: APRIL_8)  # another workstation
    first = other.notifications.check(NURSE).raised
    # This workstation read before the other stored: it tries the same insert.
    monkeypatch.setattr(type(rs.notifications), "_stored", staticmethod(lambda *_: set()))
    second = rs.notifications.check(NURSE).raised
    assert [r.id for r in second] == [r.id for r in first]
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 1


# --- several processes at once ------------------------------------------------------------------


def _raise_in_processes(url: str, count: int) -> list[tuple[list[int], list[object], str]]:
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [
        context.Process(target=raise_together, args=(url, start, results)) for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    start.set()
    got = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)
    return got


def _assert_each_stored_once(db: Database, got: list[tuple[list[int], list[object], str]]) -> None:
    assert [error for _, _, error in got] == [""] * len(got)
    with db.read() as session:
        rows = session.execute(select(Notification.id, Notification.key)).all()
    keys = [key for _, key in rows]
    assert len(keys) == len(set(keys))
    assert {r.key for r in SHARED} <= set(keys)  # none lost
    assert any(key.startswith("falling_behind:") for key in keys)
    shared_ids = {row_id for row_id, key in rows if key.startswith("callbacks_due:")}
    assert all(set(ids) == shared_ids for ids, _, _ in got)  # the same answer everywhere
    # A check that read after another stored raises nothing new; whatever a check raised is
    # the stored row, and the nudge was stored once for all of them.
    by_id = dict(rows)
    raised = {(row_id, kind) for _, found, _ in got for row_id, kind in found}  # type: ignore[misc]
    assert {by_id[row_id].split(":")[0] for row_id, _ in raised} == {
        "falling_behind",
        "no_stopwatch",
    }
    assert sum(key.startswith("no_stopwatch:") for key in keys) == 1


def test_several_processes_raising_the_same_reminders_store_each_once(
    rs: Services, db: Database
) -> None:
    assert db.sqlite_path is not None
    got = _raise_in_processes(f"sqlite:///{db.sqlite_path}", 4)
    _assert_each_stored_once(db, got)


@pytest.fixture
def pg(pg_url: str) -> Iterator[Database]:
    reset_schema(pg_url)
    database = open_database(pg_url)
    yield database
    database.dispose()


@pytest.mark.postgresql
def test_several_processes_store_each_reminder_once_on_postgresql(
    pg: Database, pg_url: str, tmp_path: Path
) -> None:
    from ccmdesk.rules.records import StaffRecord
    from tests.helpers.common import FAST_HASHER, SMALL_PRACTICE

    services = Services(pg, clock=lambda: APRIL_8, hasher=FAST_HASHER)
    services.practice.save(CLI, SMALL_PRACTICE)
    services.staff.save(CLI, StaffRecord("rn-lee", "Grace Lee", "clinical", "RN"), is_new=True)
    services.staff.save(
        CLI, StaffRecord("dr-a", "Dr. A", "practitioner", "MD", "1234567893"), is_new=True
    )
    services.patients.save_text(CLI, patient_text(mrn="1001"))
    got = _raise_in_processes(pg_url, 4)
    _assert_each_stored_once(pg, got)
