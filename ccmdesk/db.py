"""Engine, sessions, SQLite pragmas, and Alembic migrations run from code."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ccmdesk import dbfile

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BACKUP_DIR_NAME = "backups"
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


class DatabaseError(Exception):
    """A database that cannot be opened; the message says why and what to do."""


class NewerDatabaseError(DatabaseError):
    """The database was written by a newer ccmdesk than this one."""


@dataclass
class Database:
    """An open, migrated database: the engine and a factory for one session per user action."""

    engine: Engine
    sessions: sessionmaker[Session]
    sqlite_path: Path | None
    lock: dbfile.SharedLock | None = None  # held while open: a restore refuses meanwhile

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends cleanly and rolls back otherwise."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.lock is not None:
            self.lock.release()


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # foreign_keys is per connection, so it must be set on every new connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


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
    else:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
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
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    return backup


def open_database(url: str, backup_dir: Path | None = None) -> Database:
    """Open (creating if needed) and migrate the database at the URL."""
    lock = dbfile.claim(url)  # before the file is touched: an empty one is damaged, not new
    engine, sqlite_path = create_db_engine(url)
    try:
        migrate(engine, sqlite_path, backup_dir)
    except Exception:
        engine.dispose()
        lock.release()
        raise
    return Database(engine, sessionmaker(engine, expire_on_commit=False), sqlite_path, lock)
