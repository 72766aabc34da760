"""Known errors a person can meet (busy, full, read-only, damaged database), classified here."""

from __future__ import annotations

import errno
import sqlite3
from typing import Any

# SQLite's primary result codes (https://www.sqlite.org/rescode.html).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26


class KnownError(Exception):
    """A failure that is not a bug: str(error) says what happened and what to do."""


class DatabaseError(KnownError):
    """A database that cannot be opened or used; the message says why and what to do."""


class NewerDatabaseError(DatabaseError):
    """The database was written by a newer ccmdesk than this one."""


class DatabaseBusy(DatabaseError):
    """Another workstation held the write lock for longer than we wait."""


class DatabaseFull(DatabaseError):
    """The disk (or the server's) has no room left."""


class DatabaseReadOnly(DatabaseError):
    """The database file, its folder or the disk cannot be written."""


class DatabaseDamaged(DatabaseError):
    """The database file is damaged (or is not a database at all)."""


class AuditProtectionMissing(DatabaseDamaged):
    """The triggers that keep the audit trail append-only are gone: the file was changed by
    something other than ccmdesk."""


class DatabaseUnavailable(DatabaseError):
    """The database server cannot be reached, or the file cannot be opened."""


class DiskFull(KnownError):
    """A file (export, backup) could not be written: no space left."""


NOTHING_SAVED = "Nothing was saved."
BUSY_MESSAGE = (
    "The database is busy: another workstation (or a large import) is writing to it. "
    f"{NOTHING_SAVED} Wait a moment and try again."
)
FULL_MESSAGE = (
    "The disk that holds the database is full. "
    f"{NOTHING_SAVED} Free some space on it (or ask IT to), then try again."
)
READ_ONLY_MESSAGE = (
    "The database cannot be written: its file, its folder or the disk is read-only. "
    f"{NOTHING_SAVED} Ask IT to give ccmdesk write access to the data folder."
)
RESTORE_ADVICE = (
    "An administrator can restore the latest good backup "
    "(Practice settings > Backups, or `ccmdesk restore`)."
)
DAMAGED_MESSAGE = f"The database file is damaged. {NOTHING_SAVED} {RESTORE_ADVICE}"
UNAVAILABLE_MESSAGE = (
    "The database cannot be reached (the server is down, the network is cut, or the file "
    f"cannot be opened). {NOTHING_SAVED} Check the connection and try again."
)
UNREADABLE_MESSAGE = (
    "A value stored in the database cannot be read (a date or a number holds garbage): the "
    f"file is damaged. {NOTHING_SAVED} {RESTORE_ADVICE}"
)
DISK_FULL_MESSAGE = "The disk is full: {what} could not be written. Free some space and try again."

# PostgreSQL SQLSTATE classes and codes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_PG_BUSY = {"40P01", "40001", "55P03", "57014"}  # deadlock, serialization, lock/statement timeout
_PG_FULL = {"53100", "53200", "53000"}
_PG_READ_ONLY = {"25006"}
_PG_DAMAGED = {"XX001", "XX002"}


def classify(error: BaseException) -> KnownError | None:
    """The known error behind this exception (itself, or the driver's error it wraps), or None
    for a bug. Every layer that shows errors asks here, so one failure reads the same everywhere.
    """
    if isinstance(error, KnownError):
        return error
    original: Any = getattr(error, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's
    for candidate in (original, error):
        if candidate is None:
            continue
        known = _classify_driver_error(candidate)
        if known is not None:
            return known
    if _unreadable_stored_value(error):
        return DatabaseDamaged(UNREADABLE_MESSAGE)
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        name = getattr(error, "filename", None)
        return DiskFull(DISK_FULL_MESSAGE.format(what=f"'{name}'" if name else "a file"))
    return None


def _classify_driver_error(error: Any) -> KnownError | None:
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        text = str(error).lower()
        primary = code & 0xFF if isinstance(code, int) else None
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in text:
            return DatabaseBusy(BUSY_MESSAGE)
        if primary == _SQLITE_FULL or "database or disk is full" in text:
            return DatabaseFull(FULL_MESSAGE)
        if primary == _SQLITE_READONLY or "readonly database" in text:
            return DatabaseReadOnly(READ_ONLY_MESSAGE)
        if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in text:
            return DatabaseDamaged(DAMAGED_MESSAGE)
        if "could not decode" in text:  # text that is no longer UTF-8: a flipped bit
            return DatabaseDamaged(UNREADABLE_MESSAGE)
        if primary == _SQLITE_IOERR or "disk i/o error" in text:
            return DatabaseDamaged(DAMAGED_MESSAGE)
        if primary == _SQLITE_CANTOPEN or "unable to open" in text:
            return DatabaseUnavailable(UNAVAILABLE_MESSAGE)
        return None
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(state, str):
        if state in _PG_BUSY:
            return DatabaseBusy(BUSY_MESSAGE)
        if state in _PG_FULL:
            return DatabaseFull(FULL_MESSAGE)
        if state in _PG_READ_ONLY:
            return DatabaseReadOnly(READ_ONLY_MESSAGE)
        if state in _PG_DAMAGED:
            return DatabaseDamaged(DAMAGED_MESSAGE)
        if state.startswith("08") or state in {"57P01", "57P02", "57P03"}:
            return DatabaseUnavailable(UNAVAILABLE_MESSAGE)
    if type(error).__name__ in {"OperationalError", "InterfaceError"} and (
        type(error).__module__.startswith("psycopg")
    ):
        return DatabaseUnavailable(UNAVAILABLE_MESSAGE)
    return None


def _unreadable_stored_value(error: BaseException) -> bool:
    """A stored value that its column's type cannot turn back into Python (a date with a flipped
    bit): the failure is raised inside SQLAlchemy's result processing or ccmdesk's own column
    types, which only ever fail on what the file holds."""
    if not isinstance(error, ValueError | OverflowError | UnicodeDecodeError):
        return False
    trace = error.__traceback__
    innermost = None
    while trace is not None:
        innermost = trace.tb_frame.f_code.co_filename
        trace = trace.tb_next
    if innermost is None:
        return False
    path = innermost.replace("\\", "/")
    return ("sqlalchemy/" in path and ("processors" in path or "type_api" in path)) or (
        "ccmdesk/models/" in path
    )
