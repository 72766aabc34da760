"""The database file: held shared while open, exclusive to restore, damaged when headerless."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from ccmdesk import dbfile
from ccmdesk.db import open_database
from ccmdesk.dbfile import DamagedFile, InUse, Restoring, claim, exclusive, lock_path

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="advisory locks: POSIX")


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_an_empty_database_file_is_damaged_not_new_and_is_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "ccmdesk.sqlite3"
    path.write_bytes(b"")
    with pytest.raises(DamagedFile, match=r"is empty \(0 bytes\).*restore a backup"):
        open_database(url(path))
    assert path.read_bytes() == b""
    # A file that is not there yet is a new database, made and migrated.
    new = tmp_path / "new.sqlite3"
    open_database(url(new)).dispose()
    assert new.read_bytes().startswith(dbfile.SQLITE_HEADER)


def test_a_file_that_does_not_start_with_sqlites_header_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "ccmdesk.sqlite3"
    open_database(url(path)).dispose()
    data = path.read_bytes()
    path.write_bytes(b"\0" * 16 + data[16:])  # SQLite's header wiped, the rest whole
    with pytest.raises(DamagedFile, match="does not start as an SQLite database does"):
        open_database(url(path))
    assert path.read_bytes()[16:] == data[16:]


@posix_only
def test_an_open_database_holds_an_owner_only_lock_that_a_restore_is_refused_by(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ccmdesk.sqlite3"
    db = open_database(url(path))
    assert stat.S_IMODE(lock_path(path).stat().st_mode) == 0o600
    with pytest.raises(InUse, match="ccmdesk has this database open elsewhere"), exclusive(path):
        pass
    db.dispose()
    with exclusive(path):  # alone with it now
        pass


@posix_only
def test_opening_waits_for_a_restore_and_says_why_when_it_takes_too_long(tmp_path: Path) -> None:
    path = tmp_path / "ccmdesk.sqlite3"
    open_database(url(path)).dispose()
    with exclusive(path), pytest.raises(Restoring, match="a restore has been replacing"):
        claim(url(path), wait=0)
    claim(url(path), wait=0).release()


@posix_only
def test_a_window_restoring_turns_its_own_lock_exclusive_and_back(tmp_path: Path) -> None:
    path = tmp_path / "ccmdesk.sqlite3"
    db = open_database(url(path))
    try:
        with exclusive(path, db.lock), pytest.raises(Restoring):
            claim(url(path), wait=0)  # nobody opens it meanwhile
        with pytest.raises(InUse), exclusive(path):
            pass  # shared again: the window still has it open
        other = open_database(url(path))
        try:
            with pytest.raises(InUse), exclusive(path, db.lock):
                pass  # another holder: refused, and the window's shared lock is back
            with pytest.raises(InUse), exclusive(path):
                pass
        finally:
            other.dispose()
    finally:
        db.dispose()


def test_without_advisory_locks_nothing_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows has no flock: the GUI's marker file is what a restore goes by (see cli.py)."""
    monkeypatch.setattr(dbfile, "fcntl", None)
    path = tmp_path / "ccmdesk.sqlite3"
    db = open_database(url(path))
    try:
        assert not dbfile.locks_available() and db.lock is not None and db.lock.fd is None
        with exclusive(path):
            pass
        assert not lock_path(path).exists()
    finally:
        db.dispose()


def test_a_database_server_needs_no_lock_file() -> None:
    lock = claim("postgresql+psycopg://ccm@dbhost/ccmdesk")
    assert lock.fd is None
    lock.release()
