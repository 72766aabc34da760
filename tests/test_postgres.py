"""The same code on PostgreSQL: runs when CCMDESK_TEST_POSTGRES_URL names a scratch database.

scripts/test.sh (and so CI) starts a throwaway PostgreSQL server for the whole suite;
scripts/test-postgres.sh runs only the PostgreSQL tests on one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from ccmdesk.db import Database, NewerDatabaseError, open_database
from ccmdesk.rules.records import PracticeRecord
from ccmdesk.services import Services
from ccmdesk.services.audit import verify_chain
from tests.helpers.common import CLI, NOW, NURSE, patient_text
from tests.helpers.database import reset_schema

pytestmark = pytest.mark.postgresql


@pytest.fixture
def pg(pg_url: str) -> Iterator[Database]:
    reset_schema(pg_url)
    database = open_database(pg_url)
    yield database
    database.dispose()


def test_migrations_demo_and_reimport_work_on_postgresql(pg: Database) -> None:
    services = Services(pg, clock=lambda: NOW)
    created = services.demo.create(CLI)
    again = services.imports.import_data(CLI, services.demo.files().files)
    assert created.counts["patients"].created >= 190
    # Every kind the demo writes (payers too) reads back unchanged.
    assert again.counts.keys() == created.counts.keys()
    assert [c.created + c.updated for c in again.counts.values()] == [0] * len(again.counts)
    rows = services.patients.list_rows(CLI)
    assert len(rows) == created.counts["patients"].created
    with pg.session() as session:
        assert verify_chain(session).ok


def test_patient_edits_and_instants_round_trip_on_postgresql(pg: Database) -> None:
    services = Services(pg, clock=lambda: NOW)
    services.demo.create(CLI)
    mrn = services.patients.list_rows(CLI)[0].mrn
    raw = patient_text(mrn=mrn, billing_practitioner="dr-okafor", care_manager="rn-lee",
                       conditions="I10;E11.9")  # fmt: skip
    services.patients.save_text(NURSE, raw, mrn)
    assert services.patients.get(NURSE, mrn).conditions == ("I10", "E11.9")
    with pg.session() as session:
        assert verify_chain(session).ok


def test_a_newer_postgresql_schema_is_refused(pg: Database, pg_url: str) -> None:
    with pg.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    with pytest.raises(NewerDatabaseError):
        open_database(pg_url)


def test_concurrent_writers_keep_one_unbroken_audit_chain(pg: Database) -> None:
    import threading

    from ccmdesk.rules.records import StaffRecord

    services = Services(pg, clock=lambda: NOW)
    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        try:
            for i in range(40):
                services.staff.save(
                    CLI, StaffRecord(f"{prefix}-{i}", f"N {i}", "clinical"), is_new=True
                )
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(f"t{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with pg.session() as session:
        check = verify_chain(session)
    assert check.ok and check.events == 120


def test_a_month_evaluates_the_same_on_postgresql(pg: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The epoch seconds are computed by the database: the same stored rows must give the same
    # results on both backends.
    services = Services(pg, clock=lambda: NOW)
    services.demo.create(CLI)
    month = services.billing.current_month()
    on_pg = services.billing.month(CLI, month)
    local = open_database(f"sqlite:///{tmp_path / 'same.sqlite3'}")
    try:
        sqlite_services = Services(local, clock=lambda: NOW)
        sqlite_services.demo.create(CLI)
        on_sqlite = sqlite_services.billing.month(CLI, month)
    finally:
        local.dispose()
    assert on_pg.billable > 0
    assert [(r.mrn, r.result.countable_seconds, r.result.codes, r.result.warnings)
            for r in on_pg.rows] == [
        (r.mrn, r.result.countable_seconds, r.result.codes, r.result.warnings)
        for r in on_sqlite.rows
    ]  # fmt: skip


def test_signing_unlocking_closing_and_the_append_only_trail_on_postgresql(pg: Database) -> None:
    from sqlalchemy.exc import DBAPIError

    from ccmdesk.services import Actor

    services = Services(pg, clock=lambda: NOW)
    services.demo.create(CLI)
    month = "2026-03"
    ready = [
        row for row, status in services.review.queue(CLI, month).rows if status == "ready to sign"
    ]
    row = ready[0]
    doctor = Actor(key=row.practitioner_key, name=row.practitioner, role="practitioner")
    services.review.sign(doctor, row.mrn, month)
    services.review.unlock(doctor, row.mrn, month, "checking the unlock")
    services.review.sign(doctor, row.mrn, month)  # a second signature after a voided one
    services.closing.close(CLI, month)
    services.closing.reopen(CLI, month, "checking the reopen")
    assert services.review.summary(CLI, row.mrn, month).status == "signed"
    with pytest.raises(DBAPIError, match="append-only"), pg.session() as session:
        session.execute(text("UPDATE audit_event SET reason = 'x'"))
    assert services.audit.verify(CLI).ok


def test_an_event_that_does_not_extend_the_head_is_refused_on_postgresql(pg: Database) -> None:
    from sqlalchemy.exc import DBAPIError

    services = Services(pg, clock=lambda: NOW)
    services.practice.save(CLI, PracticeRecord(name="P"))
    columns = "at, actor, action, entity, entity_key, before, after, reason, prev_hash, hash"
    values = "'2026-04-15 00:00:00', 'x', 'forged', 'e', 'k', NULL, NULL, '', :prev, :hash"
    for prev in ("0" * 64, "f" * 64):
        with pytest.raises(DBAPIError, match="extend the head"), pg.session() as session:
            session.execute(
                text(f"INSERT INTO audit_event ({columns}) VALUES ({values})"),
                {"prev": prev, "hash": "e" * 64},
            )
    with pg.read() as session:
        head = session.execute(text("SELECT hash FROM audit_event ORDER BY id DESC")).scalar()
    with pytest.raises(DBAPIError, match="extend the head"), pg.session() as session:
        session.execute(
            text(f"INSERT INTO audit_event (id, {columns}) VALUES (0, {values})"),
            {"prev": head, "hash": "d" * 64},
        )
    with pg.read() as session:
        assert verify_chain(session).ok


def test_deep_check_is_clean_after_ordinary_use_and_names_a_table_edit_on_postgresql(
    pg: Database,
) -> None:
    import datetime as dt

    from ccmdesk.rules.records import PracticeRecord, StaffRecord

    services = Services(pg, clock=lambda: NOW)
    services.practice.save(CLI, PracticeRecord("Harbor", timezone="America/New_York"))
    for record in (
        StaffRecord("dr-a", "Dr. A", "practitioner", "MD", "1234567893"),
        StaffRecord("rn-lee", "Grace Lee", "clinical", "RN"),
    ):
        services.staff.save(CLI, record, is_new=True)
    services.patients.save_text(CLI, patient_text(mrn="1001"))
    start = NOW - dt.timedelta(days=1)
    row = services.entries.add_manual(NURSE, "1001", start, start + dt.timedelta(minutes=9),
                                        reason="call on the ward phone")  # fmt: skip
    services.fees.save(CLI, 2026, {"99490": 7000})
    assert services.audit.deep_check(CLI).ok
    with pg.session() as session:
        session.execute(text("UPDATE staff SET role = 'admin' WHERE staff_id = 'rn-lee'"))
        session.execute(
            text("UPDATE time_segment SET ended_at = ended_at + interval '45 minutes' "
                 "WHERE entry_id = :id"),
            {"id": row.entry_id},
        )  # fmt: skip
    found = [d.message() for d in services.audit.deep_check(CLI).differences]
    assert (
        found[0] == 'staff rn-lee: role: the table holds "admin"; the audit trail says "clinical"'
    )
    assert found[1].startswith(f"time_entry {row.entry_id} (MRN 1001, rn-lee): segments: ")
    assert "the table holds 54 min" in found[1] and "the audit trail says 9 min" in found[1]
    assert len(found) == 2
