"""Backups: daily and monthly copies, consistent while others write, checked, and restored."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ccmdesk.db import Database, open_database
from ccmdesk.models import AuditEvent, TimeEntry
from ccmdesk.services import PermissionDenied, Services
from ccmdesk.services.backup import KEEP_DAILY, KEEP_MONTHLY, BackupError, file_problem, restore
from tests.conftest import ADMIN, CLI, NOW, NURSE, FakeClock, patient_text

PAGE = 4096  # SQLite's default page size


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def team(db: Database, clock: FakeClock, staffed: Services) -> Services:
    services = Services(db, clock=clock)
    services.patients.save_text(CLI, patient_text(mrn="A1", last_name="Doe"))
    return services


def add_entries(services: Services, count: int, first: int = 0) -> None:
    for n in range(first, first + count):
        start = dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=3 * n)
        services.entries.add_manual(
            NURSE, "A1", start, start + dt.timedelta(minutes=2), reason=f"call {n}"
        )


def entry_count(path: Path) -> tuple[int, int, bool]:
    """Entries, their audit events, and whether the chain verifies, in a database file."""
    copy = path.with_name(path.name + ".opened.sqlite3")
    shutil.copyfile(path, copy)
    db = open_database(f"sqlite:///{copy}")
    try:
        with db.session() as session:
            entries = session.scalar(select(func.count()).select_from(TimeEntry))
            created = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "time.create")
            )
        return entries, created, Services(db).audit.verify(CLI).ok
    finally:
        db.dispose()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def damage_a_page(path: Path) -> None:
    """Overwrite the header of a page in the middle of the file (its type, cell counts)."""
    middle = path.stat().st_size // PAGE // 2
    flip_bytes(path, middle * PAGE, count=12)


def flip_bytes(path: Path, at: int, count: int = 64) -> None:
    data = bytearray(path.read_bytes())
    for n in range(at, at + count):
        data[n] ^= 0xFF
    path.write_bytes(bytes(data))


def test_the_first_start_of_a_day_takes_a_daily_copy_and_a_monthly_one(
    team: Services, clock: FakeClock
) -> None:
    made = team.backups.daily()
    assert sorted(p.name.split("-")[0] for p in made) == ["daily", "monthly"]
    assert team.backups.daily() == []  # a second start the same day
    clock.advance(days=1)
    assert [p.name.split("-")[0] for p in team.backups.daily()] == ["daily"]
    folder = team.backups.folder
    assert folder is not None and stat.S_IMODE(folder.stat().st_mode) == 0o700
    for backup in team.backups.list():
        assert stat.S_IMODE(backup.path.stat().st_mode) == 0o600
        assert file_problem(backup.path) is None


def test_fourteen_daily_and_twelve_monthly_copies_are_kept(
    team: Services, clock: FakeClock
) -> None:
    for _ in range(400):
        team.backups.daily()
        clock.advance(days=1)
    kinds = [b.kind for b in team.backups.list()]
    assert kinds.count("daily") == KEEP_DAILY and kinds.count("monthly") == KEEP_MONTHLY
    newest_daily = max(b.path.name for b in team.backups.list() if b.kind == "daily")
    assert newest_daily == f"daily-{(clock.now - dt.timedelta(days=1)).astimezone().date()}.sqlite3"


def test_a_backup_taken_while_entries_are_written_restores_to_a_consistent_database(
    team: Services, tmp_path: Path
) -> None:
    add_entries(team, 5)
    failures: list[BaseException] = []

    def write() -> None:
        try:
            add_entries(team, 120, first=5)
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    copies = []
    while writer.is_alive() or not copies:
        copies.append(team.backups.take(ADMIN, tmp_path / f"copy-{len(copies)}.sqlite3"))
    writer.join()
    assert not failures
    seen = set()
    for copy in copies:
        assert file_problem(copy) is None
        entries, created, chain_ok = entry_count(copy)
        # Every entry with its audit event, never one without the other: one snapshot.
        assert entries == created and chain_ok and 5 <= entries <= 125
        seen.add(entries)
    assert len(copies) >= 2

    database = team.backups._db.sqlite_path
    assert database is not None
    team.backups._db.dispose()
    aside = restore(database, copies[0], NOW, CLI)
    assert entry_count(database)[:2] == (min(seen), min(seen))
    assert entry_count(aside)[0] == 125


def test_a_damaged_copy_is_found_and_refused_and_nothing_changes(
    team: Services, tmp_path: Path
) -> None:
    add_entries(team, 40)
    copy = team.backups.take(ADMIN, tmp_path / "copy.sqlite3")
    flip_bytes(copy, copy.stat().st_size // 2 + 1000, count=4)  # inside a row: structure intact
    assert file_problem(copy) == (
        "its bytes changed since it was taken (the checksum beside it does not match)"
    )
    database = team.backups._db.sqlite_path
    assert database is not None
    team.backups._db.dispose()
    before = digest(database)
    with pytest.raises(
        BackupError, match=r"cannot be restored: its bytes changed .* Nothing was changed"
    ):
        restore(database, copy, NOW, CLI)
    assert digest(database) == before
    assert not list(database.parent.glob(".restore-*")) and not list(
        database.parent.glob("*.before-restore-*")
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"hello, not a database", "not an SQLite database"), (None, "There is no file")],
)
def test_restore_refuses_what_is_not_a_ccmdesk_backup(
    team: Services, tmp_path: Path, content: bytes | None, problem: str
) -> None:
    source = tmp_path / "other.sqlite3"
    if content is not None:
        source.write_bytes(content)
    database = team.backups._db.sqlite_path
    assert database is not None
    team.backups._db.dispose()
    with pytest.raises(BackupError, match=problem):
        restore(database, source, NOW, CLI)


def test_the_newest_good_backup_is_offered_past_a_damaged_one(
    team: Services, clock: FakeClock
) -> None:
    add_entries(team, 30)
    team.backups.daily()
    clock.advance(days=1)
    (newest,) = team.backups.daily()
    flip_bytes(newest, newest.stat().st_size // 2)
    good = team.backups.latest_good()
    assert good is not None and good.path != newest and good.kind in ("daily", "monthly")


def test_the_start_up_check_finds_a_damaged_database(team: Services, tmp_path: Path) -> None:
    add_entries(team, 60)
    assert team.backups.quick_check() is None
    database = team.backups._db.sqlite_path
    assert database is not None
    team.backups._db.dispose()
    damaged = tmp_path / "damaged.sqlite3"
    shutil.copyfile(database, damaged)
    damage_a_page(damaged)
    db = open_database(f"sqlite:///{damaged}")
    try:
        problem = Services(db).backups.quick_check()
    finally:
        db.dispose()
    assert (problem is not None and "damaged" in problem) or "cannot be read" in (problem or "")


def test_a_restore_is_recorded_in_the_restored_audit_trail(team: Services, tmp_path: Path) -> None:
    copy = team.backups.take(ADMIN, tmp_path / "copy.sqlite3")
    aside = team.backups.restore_now(ADMIN, copy)
    with team.backups._db.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "database.restore")
        ).one()
    assert event.actor == "admin-a" and str(copy) in event.reason and str(aside) in event.reason


def test_only_administrators_back_up_or_restore(team: Services, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied, match="may not back up or restore the database"):
        team.backups.take(NURSE, tmp_path / "copy.sqlite3")
    with pytest.raises(PermissionDenied):
        team.backups.restore_now(NURSE, tmp_path / "copy.sqlite3")


def test_a_file_without_a_checksum_is_still_checked_page_by_page(
    team: Services, tmp_path: Path
) -> None:
    add_entries(team, 60)
    copy = team.backups.take(ADMIN, tmp_path / "copy.sqlite3")
    loose = tmp_path / "from-elsewhere.sqlite3"
    shutil.copyfile(copy, loose)  # no checksum beside it
    assert file_problem(loose) is None
    damage_a_page(loose)
    problem = file_problem(loose)
    assert problem is not None and problem.startswith(("it is damaged", "it cannot be read"))


def test_each_start_checks_the_database_then_takes_the_days_copies(team: Services) -> None:
    check = team.backups.start_of_day()
    assert check.problem is None and check.backup_failed is None
    assert sorted(p.name.split("-")[0] for p in check.made) == ["daily", "monthly"]
    assert team.backups.start_of_day().made == []


def test_an_administrator_restores_over_the_open_database_and_work_goes_on(
    team: Services, tmp_path: Path
) -> None:
    add_entries(team, 3)
    copy = team.backups.take(ADMIN, tmp_path / "copy.sqlite3")
    add_entries(team, 4, first=3)
    with pytest.raises(PermissionDenied):
        team.backups.restore_now(NURSE, copy)
    aside = team.backups.restore_now(ADMIN, copy)
    with team.backups._db.session() as session:  # the same engine, on the restored file
        assert session.scalar(select(func.count()).select_from(TimeEntry)) == 3
        assert (
            session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)).one()
            == "database.restore"
        )
    assert entry_count(aside)[0] == 7
    assert team.audit.verify(CLI).ok


def test_a_backup_never_overwrites_a_file_least_of_all_the_database(
    team: Services, tmp_path: Path
) -> None:
    add_entries(team, 3)
    database = team.backups._db.sqlite_path
    assert database is not None
    before = entry_count(database)[0]
    with pytest.raises(BackupError, match="already exists; a backup never replaces a file"):
        team.backups.take(ADMIN, database)
    assert database.exists() and entry_count(database)[0] == before
    (tmp_path / "taken.sqlite3").write_text("someone's file")
    with pytest.raises(BackupError, match="already exists"):
        team.backups.take(ADMIN, tmp_path / "taken.sqlite3")
    assert (tmp_path / "taken.sqlite3").read_text() == "someone's file"


def test_a_restore_interrupted_at_the_last_step_leaves_the_database_as_it_was(
    team: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ccmdesk.services import backup

    add_entries(team, 3)
    copy = team.backups.take(ADMIN, tmp_path / "copy.sqlite3")
    add_entries(team, 2, first=3)
    database = team.backups._db.sqlite_path
    assert database is not None
    team.backups._db.dispose()

    def killed(*_: object) -> None:
        raise KeyboardInterrupt  # Ctrl+C, or the power going, just before the swap

    monkeypatch.setattr(backup.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        restore(database, copy, NOW, CLI)
    monkeypatch.undo()
    assert entry_count(database)[0] == 5  # never without a database, nothing lost
    assert not list(database.parent.glob(".restore-*"))


def test_a_backup_without_passwords_keeps_everyones_password_and_the_restorer_is_recorded(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    from ccmdesk.rules.records import StaffRecord
    from tests.conftest import FAST_HASHER

    services = Services(db, clock=clock, hasher=FAST_HASHER)
    services.staff.save(CLI, StaffRecord("admin-a", "Ann Admin", "admin"), is_new=True)
    old = services.backups.take(CLI, tmp_path / "before-sign-in.sqlite3")
    services.staff.save(CLI, StaffRecord("admin-new", "New Admin", "admin"), is_new=True)
    services.auth.set_password(CLI, "admin-a", "ann's long password")
    services.auth.set_password(CLI, "admin-new", "new admin's password")
    newcomer = services.auth.sign_in("admin-new", "new admin's password")
    services.backups.restore_now(newcomer, old)  # the backup has never heard of them
    assert services.auth.anyone_has_password()  # nobody can claim the practice now
    assert services.auth.sign_in("admin-a", "ann's long password").key == "admin-a"
    with db.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "database.restore")
        ).one()
    assert event.actor == "admin-new" and "1 staff kept their passwords" in event.reason


def test_a_restore_is_refused_while_ccmdesk_has_the_database_open_elsewhere(
    team: Services, tmp_path: Path
) -> None:
    """Another process (a command-line import, say) has it open: its rows must not vanish."""
    add_entries(team, 3)
    copy = team.backups.take(ADMIN, tmp_path / "copy.sqlite3")
    add_entries(team, 2, first=3)
    database = team.backups._db.sqlite_path
    assert database is not None
    elsewhere = open_database(f"sqlite:///{database}")  # a second holder, as another process is
    try:
        with pytest.raises(BackupError, match="ccmdesk has this database open elsewhere"):
            team.backups.restore_now(ADMIN, copy)
    finally:
        elsewhere.dispose()
    assert entry_count(database)[0] == 5
    assert not list(database.parent.glob("*.before-restore-*"))
    assert team.backups.restore_now(ADMIN, copy) is not None  # alone with it: restored
    assert entry_count(database)[0] == 3
