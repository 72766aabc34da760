"""The audit trail: append-only in the database, a hash chain that names the first bad event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent
from ccmdesk.services import AuditFilter, PermissionDenied, Services
from tests.helpers.common import ADMIN, BILLER, CLI, NOW, NURSE, patient_text


@pytest.fixture
def trail(staffed: Services) -> Services:
    for n in range(4):
        staffed.patients.save_text(CLI, patient_text(mrn=f"A{n}", last_name=f"Doe{n}"))
    start = dt.datetime(2026, 4, 14, 14, 0, tzinfo=dt.UTC)
    staffed.entries.add_manual(NURSE, "A1", start, start + dt.timedelta(minutes=7), reason="r")
    return staffed


def ids(db: Database) -> list[int]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


@pytest.fixture
def unguarded(db: Database) -> Iterator[Database]:
    """The database as someone with the file and a SQLite shell has it: triggers dropped."""
    with db.session() as session:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))
    yield db


def test_an_untouched_trail_verifies_and_gives_its_head(trail: Services, db: Database) -> None:
    check = trail.audit.verify(ADMIN)
    assert check.ok and check.events == len(ids(db)) > 6
    with db.session() as session:
        last = session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id.desc())).first()
    assert check.head == last
    assert trail.audit.verify(ADMIN, expected_head=last).ok
    with pytest.raises(PermissionDenied):
        trail.audit.verify(NURSE)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET reason = 'x'", "DELETE FROM audit_event"]
)
def test_the_database_refuses_to_change_or_delete_events(
    trail: Services, db: Database, statement: str
) -> None:
    with pytest.raises(IntegrityError, match="append-only"), db.session() as session:
        session.execute(text(statement))
    assert trail.audit.verify(ADMIN).ok


def test_an_edited_event_is_named(trail: Services, unguarded: Database) -> None:
    with unguarded.session() as session:
        target = session.scalars(select(AuditEvent.id).where(AuditEvent.entity_key == "A2")).one()
        session.execute(text("UPDATE audit_event SET after = '{}' WHERE id = :id"), {"id": target})
    check = trail.audit.verify(ADMIN)
    assert not check.ok and check.first_bad_id == target
    assert check.events == ids(unguarded).index(target) + 1
    assert check.problem.startswith("its content was changed; and the audit trail's protecting")
    assert check.first_bad is not None and check.first_bad.action == "patient.create"
    assert check.first_bad.mrn == "A2"


def test_a_deleted_event_breaks_the_chain_at_the_next_one(
    trail: Services, unguarded: Database
) -> None:
    events = ids(unguarded)
    with unguarded.session() as session:
        session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[2]})
    check = trail.audit.verify(ADMIN)
    assert not check.ok and check.first_bad_id == events[3]
    assert check.problem.startswith("does not follow the event before it")


def test_reordered_events_are_caught_at_the_first_moved(
    trail: Services, unguarded: Database
) -> None:
    a, b = ids(unguarded)[4:6]
    with unguarded.session() as session:  # swap the two rows' places in the order
        session.execute(text("UPDATE audit_event SET id = -1 WHERE id = :a"), {"a": a})
        session.execute(text("UPDATE audit_event SET id = :a WHERE id = :b"), {"a": a, "b": b})
        session.execute(text("UPDATE audit_event SET id = :b WHERE id = -1"), {"b": b})
    check = trail.audit.verify(ADMIN)
    assert not check.ok and check.first_bad_id == a


def test_removing_the_newest_events_is_caught_by_a_head_written_down_before(
    trail: Services, unguarded: Database
) -> None:
    head = trail.audit.verify(ADMIN).head
    last = ids(unguarded)[-1]
    with unguarded.session() as session:
        session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": last})
    # The shorter chain holds together by itself: only the dropped triggers give it away.
    alone = trail.audit.verify(ADMIN)
    assert alone.first_bad_id is None and alone.problem.startswith("the audit trail's protecting")
    check = trail.audit.verify(ADMIN, expected_head=head)
    assert not check.ok and "not in the chain" in check.problem


def test_the_viewer_filters_by_patient_staff_action_and_day(trail: Services) -> None:
    rows, more = trail.audit.events(ADMIN, AuditFilter(mrn="A1"))
    assert not more and {r.action for r in rows} == {"patient.create", "time.create"}
    assert all(r.mrn == "A1" and r.patient_name == "Ana Doe1" for r in rows)
    time_rows, _ = trail.audit.events(BILLER, AuditFilter(action="time."))
    assert [r.action for r in time_rows] == ["time.create"]
    assert time_rows[0].actor_name == "Grace Lee" and time_rows[0].after is not None
    assert time_rows[0].reason == "r"
    by_nurse, _ = trail.audit.events(ADMIN, AuditFilter(actor="rn-lee"))
    assert [r.action for r in by_nurse] == ["time.create"]
    today = dt.date(2026, 4, 15)
    assert trail.audit.events(ADMIN, AuditFilter(first_day=today, last_day=today))[0]
    assert trail.audit.events(ADMIN, AuditFilter(last_day=dt.date(2026, 4, 14)))[0] == []
    newest, more = trail.audit.events(ADMIN, AuditFilter(limit=2))
    assert more and len(newest) == 2 and newest[0].id > newest[1].id
    assert "time.create" in trail.audit.actions(ADMIN)
    with pytest.raises(PermissionDenied):
        trail.audit.events(NURSE, AuditFilter())


# --- one chain under many writers -------------------------------------------------------------


def _append(session: Any, action: str) -> None:
    from ccmdesk.services.audit import record

    record(session, at=NOW, actor=CLI, action=action, entity="test", entity_key=action)


def test_two_workstations_appending_after_a_read_never_fork_the_chain(
    db: Database, tmp_path: Any
) -> None:
    """F1: an event recorded before anything else is written (a screen lock, a sign-out) read
    the head outside any lock; two processes then extended the same head."""
    import threading

    from ccmdesk.db import open_database
    from ccmdesk.services.audit import verify_chain

    assert db.sqlite_path is not None
    others = [open_database(f"sqlite:///{db.sqlite_path}") for _ in range(3)]
    errors: list[BaseException] = []

    def writer(database: Database, name: str) -> None:
        try:
            for n in range(25):
                with database.session() as session:
                    _append(session, f"{name}.{n}")
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(o, f"w{i}")) for i, o in enumerate(others)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for other in others:
        other.dispose()
    assert errors == []
    with db.read() as session:
        check = verify_chain(session)
    assert check.ok and check.events == 75


def test_the_audit_trail_is_extended_only_inside_a_write_session(db: Database) -> None:
    with pytest.raises(RuntimeError, match="write session"), db.read() as session:
        _append(session, "read")


def test_an_event_that_does_not_extend_the_head_is_refused_by_the_database(
    trail: Services, db: Database
) -> None:
    with db.read() as session:
        first = session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id).limit(1)).one()
    columns = "at, actor, action, entity, entity_key, before, after, reason, prev_hash, hash"
    values = "'2026-04-15 00:00:00', 'x', 'forged', 'e', 'k', NULL, NULL, '', :prev, :hash"
    for prev in (first, "0" * 64, "f" * 64):  # a fork from an old event, a second genesis
        with pytest.raises(IntegrityError, match="extend the head"), db.session() as session:
            session.execute(
                text(f"INSERT INTO audit_event ({columns}) VALUES ({values})"),
                {"prev": prev, "hash": "e" * 64},
            )
    # Spliced in behind the head with an id of its own choosing: refused as well.
    with pytest.raises(IntegrityError, match="extend the head"), db.session() as session:
        session.execute(
            text(f"INSERT INTO audit_event (id, {columns}) VALUES (0, {values})"),
            {"prev": "0" * 64, "hash": "d" * 64},
        )


def test_verify_names_dropped_triggers_even_when_every_hash_fits(
    trail: Services, db: Database
) -> None:
    with db.session() as session:
        session.execute(text("DROP TRIGGER audit_event_extends_head"))
    check = trail.audit.verify(ADMIN)
    assert not check.ok
    assert "triggers were dropped (audit_event_extends_head)" in check.problem
