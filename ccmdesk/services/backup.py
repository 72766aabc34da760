"""Backups of the SQLite database: daily and monthly copies, on demand, checked, and restored."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from ccmdesk import dbfile
from ccmdesk.db import (
    Database,
    checksum_path,
    file_sha256,
    integrity_problem,
    known_revisions,
    open_database,
    sqlite_backup,
    write_checksum,
)
from ccmdesk.errors import DatabaseError
from ccmdesk.services import audit
from ccmdesk.services.base import ServiceBase
from ccmdesk.services.context import Actor, Clock, Permission, utc_now
from ccmdesk.services.errors import ServiceError

KEEP_DAILY = 14
KEEP_MONTHLY = 12
KEEP_PRE_MIGRATION = 10
SUFFIX = ".sqlite3"
RESTORING = ".restore-"  # the checked copy of a backup, beside the database until it goes live
_KINDS = re.compile(r"^(daily|monthly|manual|pre-migration)-.*\.sqlite3$")


class BackupError(ServiceError):
    """A backup that cannot be taken, or a file that may not be restored; says why."""


@dataclass(frozen=True)
class StartCheck:
    problem: str | None  # the database is damaged: why
    backup_failed: str | None  # the day's copy could not be made: why
    made: list[Path]


@dataclass(frozen=True)
class BackupFile:
    path: Path
    kind: str  # daily, monthly, manual, pre-migration
    taken: dt.datetime  # the file's modification time, UTC
    size: int


def checksum_problem(backup: Path, copy: Path | None = None) -> str | None:
    """Whether `copy` (default: the backup itself) still has the bytes the backup was taken
    with; None when they match or when the backup has no checksum beside it."""
    try:
        expected = checksum_path(backup).read_text(encoding="ascii").split()[0]
    except (OSError, IndexError, UnicodeDecodeError):
        return None  # a file from elsewhere: only SQLite's own check applies
    if file_sha256(copy or backup) != expected:
        return "its bytes changed since it was taken (the checksum beside it does not match)"
    return None


def file_problem(path: Path, *, checksum_of: Path | None = None) -> str | None:
    """Why this file is not a sound ccmdesk database this version can open; None if it is.

    A backup's checksum (taken with it) catches any changed byte; SQLite's full integrity
    check, run read-only, catches damaged structure in any file. `checksum_of` names the
    backup whose checksum applies when `path` is a copy of it."""
    if problem := checksum_problem(checksum_of or path, path):
        return problem
    try:
        with path.open("rb") as handle:
            header = handle.read(len(dbfile.SQLITE_HEADER))
    except OSError as error:
        return f"it cannot be read ({error.strerror or error})"
    if header != dbfile.SQLITE_HEADER:
        return "it is not an SQLite database"
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                return "it is damaged: " + "; ".join(problems[:3])
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            if not {"alembic_version", "staff", "practice", "audit_event"} <= tables:
                return "it is not a ccmdesk database"
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        return f"it cannot be read as a database ({error})"
    if revision is None or revision[0] not in known_revisions():
        return "it was written by a newer version of ccmdesk"
    return None


def list_backups(folder: Path) -> list[BackupFile]:
    """The copies in a backups folder, newest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _KINDS.match(path.name)
        if match and path.is_file():
            stat = path.stat()
            taken = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
            found.append(BackupFile(path, match.group(1), taken, stat.st_size))
    return sorted(found, key=lambda b: (b.taken, b.path.name), reverse=True)


def latest_good_backup(folder: Path) -> BackupFile | None:
    """The newest copy that passes its checksum and SQLite's integrity check; usable when the
    database itself cannot even be opened."""
    return next((b for b in list_backups(folder) if file_problem(b.path) is None), None)


class BackupService(ServiceBase):
    """Copies of the database in the data folder's backups/ (owner-only files)."""

    def __init__(self, db: Database, clock: Clock = utc_now, folder: Path | None = None) -> None:
        super().__init__(db, clock)
        self.folder = folder

    @property
    def available(self) -> bool:
        """Backups here are of an SQLite file; a database server keeps its own."""
        return self._db.sqlite_path is not None and self.folder is not None

    def _source(self) -> tuple[Path, Path]:
        if self._db.sqlite_path is None or self.folder is None:
            raise BackupError(
                "This ccmdesk uses a database server: back it up with the server's own tools."
            )
        return self._db.sqlite_path, self.folder

    def take(self, actor: Actor, target: Path | None = None) -> Path:
        """A backup now: to `target`, or a manual copy in the backups folder."""
        self._authorize(actor, Permission.BACKUP)
        source, folder = self._source()
        if target is None:
            target = folder / f"manual-{self._stamp()}{SUFFIX}"
        target = Path(target).expanduser()
        if target.exists() and target.is_dir():
            target = target / f"ccmdesk-{self._stamp()}{SUFFIX}"
        return self._copy(source, target)

    def daily(self) -> list[Path]:
        """At the first start of a day: today's copy, this month's if there is none yet, and
        old ones pruned (14 daily, 12 monthly kept). Returns the copies made."""
        if not self.available:
            return []
        source, folder = self._source()
        today = self._now().astimezone().date()  # the workstation's day
        made: list[Path] = []
        daily = folder / f"daily-{today.isoformat()}{SUFFIX}"
        if not daily.exists():
            made.append(self._copy(source, daily))
        monthly = folder / f"monthly-{today:%Y-%m}{SUFFIX}"
        if not monthly.exists():
            made.append(self._copy(source, monthly))
        self._prune(folder)
        return made

    def list(self) -> list[BackupFile]:
        """The backups folder's copies, newest first."""
        return list_backups(self.folder) if self.folder is not None else []

    def latest_good(self) -> BackupFile | None:
        """The newest backup that passes the checks (changed or damaged ones are skipped)."""
        return latest_good_backup(self.folder) if self.folder is not None else None

    def quick_check(self) -> str | None:
        """The start-up check of the open database (see db.integrity_problem); None when sound."""
        return integrity_problem(self._db)

    def start_of_day(self) -> StartCheck:
        """What the GUI runs in the background at each start: the quick check, then (on a sound
        database only: a damaged one must not push good copies out) the day's backups."""
        problem = self.quick_check()
        if problem is not None:
            return StartCheck(problem, None, [])
        try:
            return StartCheck(None, None, self.daily())
        except BackupError as error:
            return StartCheck(None, str(error), [])

    def restore_now(self, actor: Actor, source: Path) -> Path | None:
        """Replace the open database by `source` (checked first; refused while another ccmdesk
        has it open); returns where the replaced one is kept. The application should be
        restarted afterwards: every window's figures are from the database that was replaced."""
        actor = self._authorize(actor, Permission.BACKUP)
        database, _ = self._source()
        self._db.engine.dispose()  # no connection may keep the replaced file open
        # Recorded as the person who restored, whether or not the backup knows them.
        return restore(database, source, self._now(), actor, mine=self._db.lock)

    def _copy(self, source: Path, target: Path) -> Path:
        """Copy under a temporary name beside the target, then rename: a failure deletes only
        what this call made, and an existing file (the database itself, say) is never
        overwritten or removed."""
        target = Path(target)
        if target.exists() or target.resolve() == source.resolve():
            raise BackupError(
                f"{target} already exists; a backup never replaces a file. Choose a new name."
            )
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(handle)
        temporary = Path(name)
        try:
            temporary.unlink()  # sqlite_backup makes it afresh, owner-only
            sqlite_backup(source, temporary)
            os.replace(temporary, target)
            write_checksum(target)
        except (OSError, sqlite3.Error) as error:
            temporary.unlink(missing_ok=True)
            raise BackupError(f"The backup to {target} failed: {error}.") from error
        return target

    def _prune(self, folder: Path) -> None:
        keep = {"daily": KEEP_DAILY, "monthly": KEEP_MONTHLY, "pre-migration": KEEP_PRE_MIGRATION}
        by_kind: dict[str, list[Path]] = {}
        for backup in list_backups(folder):
            if backup.kind in keep:
                by_kind.setdefault(backup.kind, []).append(backup.path)
        for kind, paths in by_kind.items():
            # Names carry the date, so name order is age order (mtime can be touched).
            for old in sorted(paths, reverse=True)[keep[kind] :]:
                old.unlink(missing_ok=True)
                checksum_path(old).unlink(missing_ok=True)

    def _stamp(self) -> str:
        return self._now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def restore(
    database: Path,
    source: Path,
    now: dt.datetime,
    actor: Actor,
    *,
    mine: dbfile.SharedLock | None = None,
) -> Path | None:
    """Put the backup `source` in place of the database file; return where a copy of the
    database that was there is kept (None if there was none).

    Refused while any other ccmdesk process (a window, or a command such as an import) has the
    database open; `mine` is this process's own hold on it, when a window restores. Alone with
    the file, the backup is copied beside the database and checked (nothing changes unless it
    is sound); the database's write-ahead log is folded into it and the database copied aside
    (every committed entry, a crashed session's too); the copy is brought to this version's
    schema, keeps staff passwords and gets its audit event; only then does it take the
    database's place, in one rename. Cut at any moment, the database is the old one or the
    restored one with its audit event."""
    source = Path(source).expanduser()
    if not source.is_file():
        raise BackupError(f"There is no file {source}.")
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        with dbfile.exclusive(database, mine):
            return _restore_alone(database, source, now, actor)
    except dbfile.InUse as error:
        raise BackupError(f"The restore did not start: {error}") from None


def _restore_alone(database: Path, source: Path, now: dt.datetime, actor: Actor) -> Path | None:
    _sweep_leftovers(database)
    handle, name = tempfile.mkstemp(prefix=RESTORING, suffix=SUFFIX, dir=database.parent)
    os.close(handle)
    copy = Path(name)
    aside = _aside_name(database, now)
    journals = [Path(f"{database}{suffix}") for suffix in ("-wal", "-shm")]
    kept: Path | None = None
    try:
        os.chmod(copy, 0o600)
        shutil.copyfile(source, copy)
        if problem := file_problem(copy, checksum_of=source):
            raise BackupError(f"{source} cannot be restored: {problem}. Nothing was changed.")
        _fold_log(database)
        kept = _keep_aside(database, aside)
        _prepare(copy, source, database if kept is not None else None, kept, actor, now)
        # The old write-ahead log must not meet the restored file. It is empty once folded;
        # interrupted here, the old database stays, whole, beside its complete copy.
        _drop_journals(journals)
        _put_in_place(copy, database)
    except BaseException as error:
        replaced = not copy.exists()
        for journal in journals:
            saved = Path(f"{aside}{journal.name.removeprefix(database.name)}")
            if not replaced and not journal.exists() and saved.exists():
                shutil.copyfile(saved, journal)  # not replaced: the old database's log back
        if isinstance(error, OSError | sqlite3.Error | SQLAlchemyError | DatabaseError):
            outcome = "The backup is in place" if replaced else "Nothing was changed"
            raise BackupError(f"The restore failed: {error}. {outcome}.") from error
        raise
    finally:
        _remove_copy(copy)
    return kept


def _sweep_leftovers(database: Path) -> None:
    """Copies left by a restore that was killed (they hold a backup's patient data): no
    restore runs now but this one, so any found are leftovers."""
    for leftover in database.parent.glob(f"{RESTORING}*{SUFFIX}*"):
        if leftover.is_file():
            leftover.unlink(missing_ok=True)


def _remove_copy(copy: Path) -> None:
    for suffix in ("", "-wal", "-shm", dbfile.LOCK_SUFFIX):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)


def _aside_name(database: Path, now: dt.datetime) -> Path:
    """Where the replaced database is kept: a name no earlier restore has taken."""
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = database.with_name(f"{database.name}.before-restore-{stamp}")
    number = 1
    while aside.exists():
        number += 1
        aside = database.with_name(f"{database.name}.before-restore-{stamp}-{number}")
    return aside


def _fold_log(database: Path) -> None:
    """Fold the write-ahead log into the database file (a crashed session's committed entries
    are only in the log), so dropping the log before the swap loses nothing. A file SQLite
    cannot read is left as it is: its log is kept aside with it."""
    if not database.exists():
        return
    try:
        connection = sqlite3.connect(database)
        try:
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return
    if busy:
        raise BackupError(
            "The restore did not start: the database is still being written to. Close "
            "ccmdesk everywhere and try again. Nothing was changed."
        )


def _keep_aside(database: Path, aside: Path) -> Path | None:
    """A copy of the database (and its log, if folding it failed), owner-only."""
    if not database.exists():
        return None
    for suffix in ("", "-wal", "-shm"):
        current = Path(f"{database}{suffix}")
        if current.exists():
            target = Path(f"{aside}{suffix}")
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "wb") as out, current.open("rb") as data:
                shutil.copyfileobj(data, out)
                out.flush()
                os.fsync(out.fileno())
    return aside


def _prepare(
    copy: Path,
    source: Path,
    replaced: Path | None,
    aside: Path | None,
    actor: Actor,
    now: dt.datetime,
) -> None:
    """The checked copy made ready before it goes live: this version's schema (an older
    backup), the passwords of the database it replaces kept, its audit event written, and one
    self-contained file."""
    db = open_database(f"sqlite:///{copy}")  # the backup itself is left as it was
    try:
        # Read from the database itself (folded, and alone with us), so the copy aside is kept
        # exactly as it was and never opened.
        carried = carry_passwords(replaced, copy) if replaced is not None else 0
        kept = f"; the database it replaced was kept as {aside}" if aside is not None else ""
        with db.session() as session:
            audit.record(
                session,
                at=now,
                actor=actor,
                action="database.restore",
                entity="database",
                entity_key=Path(source).name[:100],
                reason=f"restored from {source}{kept}"
                + (f"; {carried} staff kept their passwords" if carried else ""),
            )
    finally:
        db.dispose()
    connection = sqlite3.connect(copy)
    try:
        # Out of WAL mode: everything in the one file that the rename moves, nothing in a log.
        (mode,) = connection.execute("PRAGMA journal_mode=DELETE").fetchone()
    finally:
        connection.close()
    if mode != "delete":
        raise BackupError(f"The restore failed: {copy} stayed in {mode} mode. Nothing was changed.")
    fd = os.open(copy, os.O_RDWR)
    try:
        os.fsync(fd)  # on disk before the rename makes it the database
    finally:
        os.close(fd)


def _drop_journals(journals: list[Path]) -> None:
    for journal in journals:
        journal.unlink(missing_ok=True)


def _put_in_place(copy: Path, database: Path) -> None:
    os.replace(copy, database)
    dbfile.sync_folder(database.parent)


def carry_passwords(replaced: Path, database: Path) -> int:
    """After a restore: staff who had a password (or PIN) in the replaced database keep it if
    the restored one has none for them, so an old backup (from before sign-in, say) never
    opens the door to claiming an account. Returns how many were carried over."""
    try:
        old = sqlite3.connect(f"{replaced.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = old.execute(
                "SELECT staff_id, password_hash, password_set_at, pin_hash FROM staff "
                "WHERE password_hash IS NOT NULL"
            ).fetchall()
        finally:
            old.close()
    except sqlite3.Error:
        return 0  # the replaced database is too damaged to read: nothing to carry
    new = sqlite3.connect(database)
    try:
        with new:
            carried = 0
            for staff_id, password_hash, set_at, pin_hash in rows:
                carried += new.execute(
                    "UPDATE staff SET password_hash = ?, password_set_at = ?, pin_hash = ? "
                    "WHERE staff_id = ? AND password_hash IS NULL",
                    (password_hash, set_at, pin_hash, staff_id),
                ).rowcount
    finally:
        new.close()
    return carried
