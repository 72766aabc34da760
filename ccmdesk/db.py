"""Engine, sessions, SQLite pragmas, and Alembic migrations run from code."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ccmdesk import dbfile
from ccmdesk.errors import (
    UNREADABLE_MESSAGE,
    AuditProtectionMissing,
    DatabaseBusy,
    DatabaseDamaged,
    DatabaseError,
    NewerDatabaseError,
    classify,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BACKUP_DIR_NAME = "backups"
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


# The order of locks (docs/integrity.md): a write transaction takes THE write lock before it
# reads anything its decision depends on (SQLite: BEGIN IMMEDIATE; PostgreSQL: this advisory
# lock, the same number the audit trail's head is guarded by); row locks come after it, if any.
# One lock, always first, so no two ccmdesk transactions can wait for each other in a circle.
WRITE_LOCK_KEY = 0x43434D  # "CCM"
_WRITE_OPTION = "ccmdesk_write"
_READ_OPTION = "ccmdesk_read"
_BRIEF_OPTION = "ccmdesk_brief"
# A brief write (a stopwatch heartbeat, on the window's thread) waits this long, once: if the
# lock is busy it is skipped and the next one comes a few seconds later, the window never stalls.
BRIEF_WAIT_MS = 200
# How long one attempt waits for another workstation's write to finish, and how many attempts:
# long enough for an ordinary save or a sign-off, short enough that nobody stares at a frozen
# window; a big import that holds the lock longer gets the "busy, try again" sentence.
BUSY_TIMEOUT_MS = 5000
WRITE_ATTEMPTS = 3
_PG_LOCK_TIMEOUT = "15s"


class NestedWriteError(RuntimeError):
    """A write transaction opened inside another on the same thread: a bug that would wait for
    itself (the inner one queues behind the outer one's lock)."""


class ReadOnlySessionError(RuntimeError):
    """A read session tried to write: a bug, since writes must hold the write lock first."""


@dataclass
class Database:
    """An open, migrated database: one write or read session per user action."""

    engine: Engine
    sqlite_path: Path | None
    lock: dbfile.SharedLock | None = None  # held while open: a restore refuses meanwhile

    def __post_init__(self) -> None:
        reader = self.engine.execution_options(**{_READ_OPTION: True})
        self._reads = sessionmaker(reader, expire_on_commit=False)
        writer = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._writes = sessionmaker(writer, expire_on_commit=False)
        brief = self.engine.execution_options(**{_WRITE_OPTION: True, _BRIEF_OPTION: True})
        self._brief_writes = sessionmaker(brief, expire_on_commit=False)
        self._writing = threading.local()

    @contextmanager
    def session(self, *, brief: bool = False) -> Iterator[Session]:
        """A write transaction: it holds the database's write lock from its first statement, so
        what it reads (the audit head, "no stopwatch open", "the month is not closed") cannot
        change before it commits. Commits when the block ends cleanly, rolls back otherwise.
        Busy, full, read-only and damaged databases come out as known errors. A `brief` write
        waits only BRIEF_WAIT_MS for the lock, once, then is refused as busy."""
        if getattr(self._writing, "active", False):
            raise NestedWriteError("a write session is already open on this thread")
        self._writing.active = True
        try:
            maker = self._brief_writes if brief else self._writes
            with _known_errors(), maker() as session, session.begin():
                session.info[_WRITE_OPTION] = True
                session.connection()  # take the write lock now, before any read
                yield session
        finally:
            self._writing.active = False

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction: one consistent snapshot, no lock, never blocks a writer."""
        try:
            with _known_errors(), self._reads() as session, session.begin():
                yield session
        except DatabaseError as error:
            if isinstance(error.__cause__, DBAPIError) and _is_read_only_refusal(error.__cause__):
                raise ReadOnlySessionError("a read session tried to write") from error
            raise

    def dispose(self) -> None:
        self.engine.dispose()
        if self.lock is not None:
            self.lock.release()


def is_write_session(session: Session) -> bool:
    """Whether this session holds the write lock (the audit trail may only be extended so)."""
    return bool(session.info.get(_WRITE_OPTION))


@contextmanager
def _known_errors() -> Iterator[None]:
    try:
        yield
    except DBAPIError as error:
        known = classify(error)
        if known is None:
            raise
        raise known from error


def _is_read_only_refusal(error: DBAPIError) -> bool:
    text_ = str(error.orig).lower()
    return "readonly database" in text_ or "read-only transaction" in text_


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # ccmdesk begins every transaction itself (see _begin): the driver's own implicit BEGIN
    # comes only at the first INSERT or UPDATE, so whatever was read before it (the audit head,
    # "no stopwatch is open") would not be protected by the transaction at all.
    dbapi_connection.isolation_level = None
    # foreign_keys is per connection, so it must be set on every new connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    """Writes take SQLite's write lock at BEGIN (IMMEDIATE), waiting up to the busy timeout, a
    bounded number of times; reads are plain snapshots that may not write (query_only). The
    engine used bare (migrations, maintenance, tests) begins deferred, as SQLite does."""
    options = connection.get_execution_options()
    write = bool(options.get(_WRITE_OPTION))
    read_only = bool(options.get(_READ_OPTION))
    # query_only outlives the transaction on this pooled connection: switch it only on change.
    if connection.info.get("query_only", False) != read_only:
        connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
        connection.info["query_only"] = read_only
    brief = bool(options.get(_BRIEF_OPTION))
    wait = BRIEF_WAIT_MS if brief else BUSY_TIMEOUT_MS
    if connection.info.get("busy_timeout", BUSY_TIMEOUT_MS) != wait:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={wait}")
        connection.info["busy_timeout"] = wait
    if not write:
        connection.exec_driver_sql("BEGIN")
        return
    attempts = 1 if brief else WRITE_ATTEMPTS
    for attempt in range(attempts):
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except DBAPIError as error:
            if not isinstance(classify(error), DatabaseBusy) or attempt == attempts - 1:
                raise


def _begin_postgresql(connection: Connection) -> None:
    """Writes take the one write lock first, with a timeout; reads are read-only transactions."""
    options = connection.get_execution_options()
    if options.get(_WRITE_OPTION):
        wait = f"{BRIEF_WAIT_MS}ms" if options.get(_BRIEF_OPTION) else _PG_LOCK_TIMEOUT
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{wait}'")
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
    elif options.get(_READ_OPTION):
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")


def _create_owner_only(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it.

    SQLite gives its -wal and -shm files the permissions of the database file.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


def create_db_engine(url: str) -> tuple[Engine, Path | None]:
    """An engine for the URL; SQLite files get pragmas and owner-only permissions."""
    parsed = make_url(url)
    sqlite_path: Path | None = None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            sqlite_path = Path(parsed.database)
            _create_owner_only(sqlite_path)
        # hide_parameters: an error message must never carry a patient's name into a log.
        engine = create_engine(url, hide_parameters=True)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        event.listen(engine, "begin", _begin_sqlite)
    else:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
        if parsed.get_backend_name() == "postgresql":
            event.listen(engine, "begin", _begin_postgresql)
    return engine, sqlite_path


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def sqlite_backup(source: Path, target: Path) -> Path:
    """Copy a live SQLite database with the online backup API into an owner-only file.

    The copy is one consistent snapshot (taken in one step, under a read lock, while others go
    on writing) and a single self-contained file (rollback journal, not WAL)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _create_owner_only(target)
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    return target


def checksum_path(backup: Path) -> Path:
    """The SHA-256 written beside a backup when it was taken (sha256sum's format)."""
    return backup.with_name(backup.name + ".sha256")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_checksum(backup: Path) -> None:
    target = checksum_path(backup)
    fd = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(f"{file_sha256(backup)}  {backup.name}\n")


def known_revisions() -> list[str]:
    """Revision ids of this version's migrations, oldest first (files are named NNNN_*.py)."""
    versions = MIGRATIONS_DIR / "versions"
    return sorted(m.group(1) for p in versions.iterdir() if (m := _REVISION_FILE.match(p.name)))


def head_revision() -> str:
    return known_revisions()[-1]


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database, or None for a new database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine, sqlite_path: Path | None, backup_dir: Path | None) -> Path | None:
    """Bring the schema to this version's head; return the backup taken first, if any.

    A database whose revision this ccmdesk does not know was written by a newer version and is
    refused untouched, rather than guessed at.
    """
    current = current_revision(engine)
    if current == head_revision():
        # The everyday case: skip importing Alembic, which costs a quarter second at start-up.
        return None

    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    config = _alembic_config(None)
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_current_head()
    if current == head:
        return None
    if current is not None:
        try:
            scripts.get_revision(current)
        except CommandError:
            raise NewerDatabaseError(
                f"This database was written by a newer version of ccmdesk (schema {current}); "
                "this version knows schemas up to "
                f"{head}. Install the newer ccmdesk, or open a different data folder."
            ) from None
    backup: Path | None = None
    if current is not None and sqlite_path is not None and backup_dir is not None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        backup = sqlite_backup(sqlite_path, backup_dir / f"pre-migration-{current}-{stamp}.sqlite3")
        write_checksum(backup)
    with engine.execution_options(**{_WRITE_OPTION: True}).begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    return backup


# The triggers that keep the audit trail append-only and unforked (migrations 0005 and 0007).
AUDIT_TRIGGERS = ("audit_event_no_update", "audit_event_no_delete", "audit_event_extends_head")


def missing_audit_triggers(connection: Connection) -> list[str]:
    """The audit trail's triggers that are not in the database (none, unless someone dropped
    them with a tool other than ccmdesk)."""
    if connection.dialect.name == "postgresql":
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    present = set(connection.exec_driver_sql(query).scalars())
    return [name for name in AUDIT_TRIGGERS if name not in present]


def audit_protection_message(missing: list[str]) -> str:
    return (
        "The audit trail's protection is missing from this database (trigger "
        f"{', '.join(missing)}): the file was changed with a tool other than ccmdesk, so its "
        "history can no longer be trusted. ccmdesk will not work on it. An administrator "
        "restores the latest good backup (`ccmdesk restore`), then runs `ccmdesk audit verify`."
    )


def open_database(url: str, backup_dir: Path | None = None, *, guarded: bool = True) -> Database:
    """Open (creating if needed) and migrate the database at the URL.

    A database whose audit triggers were dropped is refused (AuditProtectionMissing) unless
    `guarded` is False, which only `audit verify` and restore use, to report on it or replace it.
    """
    lock = dbfile.claim(url)  # before the file is touched: an empty one is damaged, not new
    engine, sqlite_path = create_db_engine(url)
    try:
        migrate(engine, sqlite_path, backup_dir)
        if guarded:
            with engine.connect() as connection:
                missing = missing_audit_triggers(connection)
            if missing:
                raise AuditProtectionMissing(audit_protection_message(missing))
    except UnicodeDecodeError as error:
        # Text SQLite hands back that is not UTF-8 (a flipped bit in a page it reads at open).
        engine.dispose()
        lock.release()
        raise DatabaseDamaged(UNREADABLE_MESSAGE) from error
    except Exception:
        engine.dispose()
        lock.release()
        raise
    return Database(engine, sqlite_path, lock)


# SQLite's full integrity check reads every page and checks every index against its table. Its
# speed depends on how much of the file is index: 190 MiB/s on a patients-only file, 12.6 MiB/s
# on one full of time entries (benchmarks/integrity_check.py, docs/performance.md). The start-up
# check runs it on files up to this size, where even the slow kind finishes within a second, and
# the quick check (no index cross-check) above it.
FULL_CHECK_BYTES = 10 * 1024 * 1024


def file_damage(db: Database) -> str | None:
    """What SQLite's own check finds wrong with the file, in words, or None (always None on
    PostgreSQL, whose server keeps its own files): the full integrity check, or the quick
    check on a file larger than FULL_CHECK_BYTES."""
    if db.sqlite_path is None:
        return None
    try:
        size = db.sqlite_path.stat().st_size
        pragma = "integrity_check" if size <= FULL_CHECK_BYTES else "quick_check"
        with db.engine.connect() as connection:
            problems = [row[0] for row in connection.exec_driver_sql(f"PRAGMA {pragma}")]
    except Exception as error:  # a damaged file fails here rather than answering
        return f"the database cannot be read ({getattr(error, 'orig', None) or error})"
    return None if problems == ["ok"] else "the database is damaged: " + "; ".join(problems[:3])


def missing_columns(connection: Connection) -> str | None:
    """The first table or column the models need that the database lacks, in words, or None.
    A flipped bit in a table's stored definition can rename a column while SQLite's own check
    still passes; every query naming it then fails."""
    from ccmdesk.models import Base

    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    for table in Base.metadata.sorted_tables:
        if table.name not in tables:
            return f"the table {table.name} is missing"
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                return f"the table {table.name} has no column {column.name}"
    return None


def integrity_problem(db: Database) -> str | None:
    """What is wrong with the open database, in words, or None: the file's damage (above), the
    tables and columns the models need, and the audit trail's triggers on every backend (the
    start-up check)."""
    if damage := file_damage(db):
        return damage
    try:
        with db.engine.connect() as connection:
            if lacking := missing_columns(connection):
                return f"the database is damaged: {lacking}"
            missing = missing_audit_triggers(connection)
    except Exception as error:
        return f"the database cannot be read ({getattr(error, 'orig', None) or error})"
    return audit_protection_message(missing) if missing else None
