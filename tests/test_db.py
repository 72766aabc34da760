"""The database: pragmas, file mode, migrations from code, backups and refusing newer files."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from ccmdesk.db import NewerDatabaseError, head_revision, open_database
from tests.helpers.database import damage_an_index


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_an_empty_database_is_created_at_the_latest_schema(tmp_path: Path) -> None:
    db = open_database(url(tmp_path / "new.sqlite3"), tmp_path / "backups")
    with db.session() as session:
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        fees = session.execute(
            text("SELECT amount_cents FROM fee_schedule_amount WHERE year=2026 AND code='99490'")
        ).scalar()
    db.dispose()
    assert revision == head_revision()
    assert fees == 6613
    assert not (tmp_path / "backups").exists()  # nothing to back up on a new database


def test_connections_use_wal_foreign_keys_and_full_sync(tmp_path: Path) -> None:
    db = open_database(url(tmp_path / "p.sqlite3"))
    with db.engine.connect() as connection:
        values = {
            name: connection.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
    db.dispose()
    assert values == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 2,
        "busy_timeout": 5000,
    }


def test_the_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "db.sqlite3"
    db = open_database(url(path))
    with db.engine.connect() as connection:
        # While a connection is open the WAL and shared-memory files exist: they hold patient
        # data too, and SQLite gives them the database file's permissions.
        side_files = [Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(p.exists() for p in side_files)
        assert {stat.S_IMODE(p.stat().st_mode) for p in side_files} == {0o600}
        connection.execute(text("SELECT 1"))
    db.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_an_upgrade_keeps_the_data_and_leaves_a_backup_first(tmp_path: Path) -> None:
    from alembic import command

    from ccmdesk.db import _alembic_config, create_db_engine

    path = tmp_path / "old.sqlite3"
    engine, _ = create_db_engine(url(path))
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")
        connection.execute(
            text("INSERT INTO staff (staff_id, name, role, credentials, active) "
                 "VALUES ('rn-lee', 'Grace Lee', 'clinical', 'RN', 1)")
        )  # fmt: skip
    engine.dispose()

    db = open_database(url(path), tmp_path / "backups")
    with db.session() as session:
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        names = session.execute(text("SELECT name FROM staff")).scalars().all()
        fee_rows = session.execute(text("SELECT count(*) FROM fee_schedule_amount")).scalar()
    db.dispose()
    assert revision == head_revision()
    assert names == ["Grace Lee"]
    assert fee_rows == 30  # 0002 seeds 14 codes a year; 0011 adds 99484
    backups = list((tmp_path / "backups").glob("pre-migration-0001-*.sqlite3"))
    assert len(backups) == 1
    copy = sqlite3.connect(backups[0])
    try:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
        assert copy.execute("SELECT name FROM staff").fetchall() == [("Grace Lee",)]
    finally:
        copy.close()
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    # Checked like any other backup: its SHA-256 beside it, and SQLite's integrity check.
    from ccmdesk.services.backup import file_problem

    assert backups[0].with_name(backups[0].name + ".sha256").exists()
    assert file_problem(backups[0]) is None


def test_a_database_from_a_newer_ccmdesk_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    db = open_database(url(path))
    db.dispose()
    raw = sqlite3.connect(path)
    raw.execute("UPDATE alembic_version SET version_num = '0099'")
    raw.commit()
    raw.close()
    before = path.read_bytes()

    with pytest.raises(NewerDatabaseError, match="newer version of ccmdesk"):
        open_database(url(path), tmp_path / "backups")
    assert path.read_bytes() == before
    assert not (tmp_path / "backups").exists()


def test_revision_file_names_agree_with_alembic() -> None:
    # Start-up reads the head from file names to skip importing Alembic; they must not drift.
    from alembic.script import ScriptDirectory

    from ccmdesk.db import _alembic_config, head_revision, known_revisions

    scripts = ScriptDirectory.from_config(_alembic_config(None))
    walked = [script.revision for script in scripts.walk_revisions()]
    assert known_revisions() == sorted(walked)
    assert head_revision() == scripts.get_current_head()


def test_opening_a_current_database_does_not_import_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "c.sqlite3"
    open_database(url(path)).dispose()
    code = (
        "import sys; from ccmdesk.db import open_database\n"
        f"open_database({url(path)!r}).dispose()\n"
        "print(any(m.startswith('alembic') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from ccmdesk.models import Base

    db = open_database(url(tmp_path / "m.sqlite3"))
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.dispose()
    assert differences == []


def test_a_practice_from_before_the_stopwatch_settings_gets_the_defaults(tmp_path: Path) -> None:
    from alembic import command

    from ccmdesk.db import _alembic_config, create_db_engine
    from ccmdesk.rules.records import DEFAULT_ACTIVITIES
    from ccmdesk.services import Services

    path = tmp_path / "old.sqlite3"
    engine, _ = create_db_engine(url(path))
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0002")
        connection.execute(
            text("INSERT INTO practice (name, address, phone, tin, timezone, place_of_service, "
                 "date_of_service_rule) VALUES ('Old Clinic', '', '', '', 'America/Chicago', "
                 "'11', 'last_day')")
        )  # fmt: skip
    engine.dispose()
    settings = Services(
        open_database(url(path), tmp_path / "backups")
    ).practice.stopwatch_settings()
    assert settings.idle_minutes == 5
    assert settings.activities == DEFAULT_ACTIVITIES


# --- one writer at a time ---------------------------------------------------------------------


def test_a_write_session_holds_the_write_lock_from_its_start_while_reads_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ccmdesk.db as db_module
    from ccmdesk.errors import DatabaseBusy

    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 50)
    first = open_database(url(tmp_path / "w.sqlite3"))
    second = open_database(url(tmp_path / "w.sqlite3"))
    try:
        with first.session() as holding:
            # Nothing written yet: the lock is held all the same (BEGIN IMMEDIATE), so what this
            # transaction reads cannot change under it.
            holding.execute(text("SELECT count(*) FROM staff")).scalar()
            with (
                pytest.raises(DatabaseBusy, match=r"busy.*Nothing was saved"),
                second.session() as waiting,
            ):
                waiting.execute(text("SELECT 1"))
            with second.read() as reading:
                assert reading.execute(text("SELECT count(*) FROM staff")).scalar() == 0
        with second.session() as now_free:
            now_free.execute(text("SELECT 1"))
    finally:
        first.dispose()
        second.dispose()


def test_a_read_session_that_writes_is_a_bug_not_a_read_only_database(tmp_path: Path) -> None:
    from ccmdesk.db import ReadOnlySessionError

    db = open_database(url(tmp_path / "r.sqlite3"))
    try:
        with pytest.raises(ReadOnlySessionError), db.read() as session:
            session.execute(text("DELETE FROM staff"))
        with db.session() as session:  # the pooled connection writes again afterwards
            session.execute(text("DELETE FROM staff"))
    finally:
        db.dispose()


def test_a_write_session_inside_another_on_one_thread_is_refused_at_once(tmp_path: Path) -> None:
    from ccmdesk.db import NestedWriteError

    db = open_database(url(tmp_path / "n.sqlite3"))
    try:
        with db.session(), pytest.raises(NestedWriteError), db.session():
            pass
        with db.session() as session:  # and the flag is cleared for the next one
            session.execute(text("SELECT 1"))
    finally:
        db.dispose()


def test_a_read_only_database_file_gives_the_read_only_sentence(tmp_path: Path) -> None:
    from sqlalchemy import event

    from ccmdesk.errors import DatabaseReadOnly

    db = open_database(url(tmp_path / "ro.sqlite3"))
    db.engine.dispose()
    # Stands in for a read-only file or mount, which root (running these tests) writes anyway:
    # SQLite answers both with SQLITE_READONLY.
    event.listen(db.engine, "connect", lambda conn, _: conn.execute("PRAGMA query_only = 1"))
    try:
        with (
            pytest.raises(DatabaseReadOnly, match=r"read-only\..*write access"),
            db.session() as session,
        ):
            session.execute(text("DELETE FROM staff"))
    finally:
        db.dispose()


def test_a_full_database_gives_the_full_disk_sentence(tmp_path: Path) -> None:
    from sqlalchemy import event

    from ccmdesk.errors import DatabaseFull

    db = open_database(url(tmp_path / "full.sqlite3"))
    db.engine.dispose()
    event.listen(db.engine, "connect", lambda conn, _: conn.execute("PRAGMA max_page_count = 60"))
    try:
        with (
            pytest.raises(DatabaseFull, match="disk that holds the database is full"),
            db.session() as session,
        ):
            session.execute(text("CREATE TABLE filler (x TEXT)"))
            for _ in range(400):
                session.execute(text("INSERT INTO filler VALUES (randomblob(1000))"))
    finally:
        db.dispose()


def test_dropped_audit_triggers_stop_ccmdesk_from_opening_the_database(tmp_path: Path) -> None:
    from ccmdesk.errors import AuditProtectionMissing

    path = tmp_path / "t.sqlite3"
    open_database(url(path)).dispose()
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER audit_event_extends_head")
    raw.commit()
    raw.close()
    with pytest.raises(AuditProtectionMissing, match=r"audit_event_extends_head.*restore"):
        open_database(url(path))
    open_database(url(path), guarded=False).dispose()  # audit verify may still look at it


def test_the_start_up_check_runs_the_full_integrity_check_on_a_small_file(tmp_path: Path) -> None:
    """The quick check skips the cross-check of indexes against their tables (F16: it missed
    10 of 48 damaged databases); on a file small enough, the full check runs."""
    from ccmdesk.db import integrity_problem

    path = tmp_path / "i.sqlite3"
    open_database(url(path)).dispose()
    damage_an_index(path)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    raw.close()
    db = open_database(url(path))
    try:
        problem = integrity_problem(db)
    finally:
        db.dispose()
    assert problem is not None and problem.startswith("the database is damaged")


def test_the_start_up_check_names_dropped_audit_triggers(tmp_path: Path) -> None:
    from ccmdesk.db import integrity_problem

    path = tmp_path / "g.sqlite3"
    db = open_database(url(path))
    try:
        assert integrity_problem(db) is None
        with db.session() as session:
            session.execute(text("DROP TRIGGER audit_event_no_delete"))
        assert "audit_event_no_delete" in (integrity_problem(db) or "")
    finally:
        db.dispose()


def test_the_start_up_check_names_a_column_a_flipped_bit_renamed(tmp_path: Path) -> None:
    """SQLite's own check passes on a table whose stored definition names a column otherwise;
    every query naming the column then fails, so the check names it (no traceback)."""
    from ccmdesk.db import integrity_problem

    path = tmp_path / "c.sqlite3"
    open_database(url(path)).dispose()
    raw = sqlite3.connect(path)
    raw.execute("ALTER TABLE time_entry RENAME COLUMN deleted_at TO deleted_as")
    raw.commit()
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    raw.close()
    db = open_database(url(path), guarded=False)
    try:
        problem = integrity_problem(db)
    finally:
        db.dispose()
    assert problem == "the database is damaged: the table time_entry has no column deleted_at"


def test_a_brief_write_gives_up_at_once_when_the_lock_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stopwatch heartbeat runs on the window's thread: behind an import it must not wait."""
    import threading

    import ccmdesk.db as db_module
    from ccmdesk.errors import DatabaseBusy

    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 60_000)  # an ordinary write would wait
    first = open_database(url(tmp_path / "b.sqlite3"))
    second = open_database(url(tmp_path / "b.sqlite3"))
    outcome: list[BaseException] = []

    def beat() -> None:
        try:
            with second.session(brief=True) as session:
                session.execute(text("SELECT 1"))
        except BaseException as error:  # reported below
            outcome.append(error)

    try:
        with first.session():
            thread = threading.Thread(target=beat)
            thread.start()
            thread.join(timeout=20)
            still_waiting = thread.is_alive()
        thread.join()
    finally:
        first.dispose()
        second.dispose()
    assert not still_waiting
    assert len(outcome) == 1 and isinstance(outcome[0], DatabaseBusy)
