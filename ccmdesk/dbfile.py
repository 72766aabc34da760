"""The SQLite file itself: shared while open, exclusive to restore, damaged if it has no header."""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from sqlalchemy.engine import make_url

from ccmdesk.errors import DatabaseDamaged, KnownError

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the GUI's marker file stands in (config.py)
    fcntl = None

LOCK_SUFFIX = ".lock"
SQLITE_HEADER = b"SQLite format 3\x00"
# Opening waits this long for a restore to finish (it copies the database aside, so a big one
# takes seconds); past it, the opener is told why rather than left hanging.
WAIT_SECONDS = 60.0
_POLL_SECONDS = 0.05
IN_USE = (
    "ccmdesk has this database open elsewhere (a window, or a command such as an import); "
    "close it and try again. Nothing was changed."
)


class DatabaseFileError(KnownError):
    """The database file cannot be used now; the message says why and what to do."""


class DamagedFile(DatabaseFileError, DatabaseDamaged):
    """The file exists but is empty or not an SQLite database: damaged, never taken for new."""


class InUse(DatabaseFileError):
    """Another process has the database open, so it may not be replaced."""


class Restoring(DatabaseFileError):
    """A restore held the database for longer than opening waits."""


def locks_available() -> bool:
    """Whether processes can tell one another they have the database open (not on Windows)."""
    return fcntl is not None


def sqlite_file(url: str) -> Path | None:
    """The database file an SQLite URL names; None for a server or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + LOCK_SUFFIX)


class SharedLock:
    """This process's shared lock on a database's lock file, held while its Database is open;
    a restore takes the lock exclusively, so it knows when it is alone with the file."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd
        # Closing the descriptor is what releases the lock: done once, by release() or, for a
        # Database never disposed, when this object goes.
        self._close = weakref.finalize(self, os.close, fd) if fd is not None else None

    def release(self) -> None:
        if self._close is not None:
            self._close()


def claim(url: str, wait: float = WAIT_SECONDS) -> SharedLock:
    """Before an SQLite database is opened: the shared lock (waiting out a restore), then the
    file checked. A file that does not exist yet is new; one that exists but is empty or does
    not start with SQLite's header is damaged (DamagedFile), never taken for a new one."""
    database = sqlite_file(url)
    if database is None:
        return SharedLock(None)
    lock = _share(database, wait)
    try:
        check_header(database)
    except BaseException:
        lock.release()
        raise
    return lock


def check_header(database: Path) -> None:
    """Raise DamagedFile for an existing file that is not an SQLite database; a missing file is
    a new database, and one that cannot be read is left for SQLite to report."""
    try:
        with database.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError:
        return  # missing: a new database; unreadable: SQLite says why when it opens it
    if header == SQLITE_HEADER:
        return
    if not header:
        raise DamagedFile(
            f"cannot open the database: {database} is empty (0 bytes). A database that was used "
            "is never empty, so it is treated as damaged, not as a new one: restore a backup. "
            "(If ccmdesk has never run with this data folder, delete the empty file and start "
            "again.)"
        )
    raise DamagedFile(
        f"cannot open the database: {database} is damaged: it does not start as an SQLite "
        "database does. Restore a backup."
    )


def _open_lock_file(database: Path) -> int:
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Owner-only, like the database; it holds nothing, but says who has the file open.
    return os.open(lock_path(database), os.O_RDWR | os.O_CREAT, 0o600)


def _share(database: Path, wait: float) -> SharedLock:
    if fcntl is None:
        return SharedLock(None)
    fd = _open_lock_file(database)
    try:
        _wait_shared(fd, database, wait)
    except BaseException:
        os.close(fd)
        raise
    return SharedLock(fd)


def _wait_shared(fd: int, database: Path, wait: float) -> None:
    assert fcntl is not None
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise Restoring(
                    f"cannot open the database: a restore has been replacing {database} for "
                    f"over {wait:.0f} seconds. Try again when it has finished."
                ) from None
            time.sleep(_POLL_SECONDS)


@contextmanager
def exclusive(database: Path, mine: SharedLock | None = None) -> Iterator[None]:
    """Held while a restore replaces the file; InUse while any other process (window or
    command) has it open. `mine` is this process's own shared lock (a window restoring): it is
    turned exclusive, and shared again afterwards. Without advisory locks (Windows) this holds
    nothing: the caller checks the GUI's marker file instead."""
    if fcntl is None:
        yield
        return
    if mine is not None and mine.fd is not None:
        fd, own = mine.fd, True
    else:
        fd, own = _open_lock_file(database), False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InUse(IN_USE) from None
        yield
    finally:
        if own:
            # Converting a flock is not atomic (a refused one has dropped the shared lock too):
            # take it again, as the Database holding it expects.
            _wait_shared(fd, database, WAIT_SECONDS)
        else:
            os.close(fd)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries to the disk, so a rename in it is durable (POSIX; Windows has
    no directory handles to sync, nor needs it)."""
    if os.name != "posix":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
