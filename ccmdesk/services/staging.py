"""An export's files staged in a hidden folder of its own, then moved into place as one set."""

# How an export survives being cut off at any moment (SIGKILL, a power cut, a crash):
#
# - Staging. Each export writes its new files into `.ccmdesk-export-<random>` inside the target
#   folder (made by mkdtemp: owner-only), in `files/` under their final names relative to the
#   folder. Beside them, `owner` is a file the exporting process keeps open with an exclusive
#   lock for as long as it runs (it also says which process and when, for people). The lock is
#   the kernel's: it goes with the process however the process ends, and a reused process id
#   cannot fool it.
# - Commit. Once every file is staged and flushed, `manifest.json` is written beside them (under
#   a temporary name, flushed, then renamed): the list of files, in the order they will move.
#   Before the manifest exists nothing in the target folder has changed, so a cut leaves the old
#   set whole and the next sweep deletes the staging folder. Once it exists the new set is
#   decided.
# - Moves. The files move into place one by one (os.replace, same file system): the superbills
#   first, then the CSV files and the combined superbills, and the handoff report, which names
#   the generation time and the audit head, then the month's claim files (services/export.py
#   says why they move last). A cut part-way leaves a committed manifest and
#   the files not yet moved; the next sweep finishes the moves (roll forward), so the folder then
#   holds the new set whole, and says so. Until then the manifest says which files are new.
# - Held files. A file staged as `held` (a claim file) is moved only by its own export, never by
#   a sweep: its export commits a database transaction (the control numbers, the claims sent)
#   only after every move, so an export cut off before that left the transaction rolled back,
#   and its held files must not appear. The sweep that finishes such an export drops them.
# - Sweeps. The next export into the folder (when it starts, and again just before its own files
#   move), and the app's start (for the folders noted in the data folder's `exports-under-way`,
#   one note per export running or cut off), sweep: only folders named `.ccmdesk-export-*`, only
#   those whose owner lock can be taken. A held lock means the export is running, in this
#   process or another, and its folder is left alone. Temporary files the versions before this
#   one left (`.handoff-2026-03.csv.k2j4h1ab` and the like) are swept once an hour old.
# - One at a time. Moving files into a folder, and sweeping it, hold a lock on the folder itself
#   (POSIX; nothing on Windows), so two exports into one folder never interleave their moves and
#   an export cut off earlier is finished before a later one's files land, never after.
# - A live failure part-way through the moves (a viewer holding a file open) first takes the
#   manifest back, so the rest is never moved later, deletes the staging folder and names the
#   files that are already new.

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ccmdesk.dbfile import sync_folder
from ccmdesk.services.errors import ServiceError

log = logging.getLogger(__name__)

PREFIX = ".ccmdesk-export-"
OWNER = "owner"
MANIFEST = "manifest.json"
FILES = "files"  # the staged files, apart from the two above whatever their names
UNDER_WAY = "exports-under-way"  # in the data folder: a note for each export running or cut off
# Temporary files of earlier versions are swept only once this old: an export of such a version
# may still be running on another workstation into the same folder.
LEGACY_AGE_SECONDS = 3600
_LEGACY_TOP = re.compile(
    r"\.(?:(?:handoff|claim-lines)-\d{4}-\d{2}\.csv|(?:handoff|superbills)-\d{4}-\d{2}\.pdf)"
    r"\.[a-z0-9_]{8}"
)
_LEGACY_SUPERBILL = re.compile(r"\.\d{4}-\d{2}-[A-Za-z0-9_-]+\.pdf\.[a-z0-9_]{8}")


@dataclass
class Finished:
    """An export cut off while moving its files into place, finished by a sweep."""

    folder: Path
    what: str
    files: list[Path] = field(default_factory=list)  # every file of its set: all new now
    moved: int = 0  # of which the sweep moved this many

    def sentence(self) -> str:
        names = ", ".join(p.name for p in self.files[-3:])
        return (
            f"The {self.what} to {self.folder} was cut off while its files were being moved "
            f"into place; ccmdesk has now finished it, so all {len(self.files):,} of its files "
            f"there are new ({names}{', …' if len(self.files) > 3 else ''})."
        )


class Staging:
    """One export's hidden folder: files are written into it, then published as one set.

    Use it as a context manager: leaving removes the folder, with whatever was not published.
    """

    def __init__(self, folder: Path, path: Path, owner: int, what: str) -> None:
        self.folder, self.path, self.what = folder, path, what
        self._owner: int | None = owner  # open and locked while this process owns `path`
        self._names: list[str] = []
        self._held: list[str] = []  # never moved by a sweep (see the module comment)
        self._folders = {path / FILES}
        self.note: Path | None = None
        self.finished: list[Finished] = []  # exports cut off earlier that this one's sweeps ended

    @classmethod
    def open(cls, folder: Path, what: str = "export", notes: Path | None = None) -> Staging:
        """Sweep the folder, then make a staging folder of this process's own in it.

        `notes`, the data folder's `exports-under-way`, gets a note naming the folder until the
        staging folder is gone, so that the app's next start sweeps it if this process is cut
        off. OSError when the folder cannot be made or written.
        """
        folder.mkdir(parents=True, exist_ok=True)
        finished = sweep(folder)
        for _ in range(3):
            path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=folder))
            owner = os.open(path / OWNER, os.O_RDWR | os.O_CREAT, 0o600)
            # A sweep elsewhere may have taken the folder in the moment before the lock (it
            # found it without a locked owner): it is ours only if our owner file is still there.
            if _lock(owner, wait=True) and _same_file(owner, path / OWNER):
                break
            os.close(owner)
        else:
            raise OSError(f"another process kept removing new folders in {folder}")
        staging = cls(folder, path, owner, what)
        staging.finished = finished
        try:
            started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            os.write(owner, f"{os.getpid()} {socket.gethostname()} {started}\n".encode())
            if notes is not None:
                notes.mkdir(parents=True, exist_ok=True, mode=0o700)
                staging.note = notes / path.name.lstrip(".")
                staging.note.write_text(f"{folder.absolute()}\n", encoding="utf-8")
        except BaseException:
            staging.close()
            raise
        return staging

    def create(self, name: str, held: bool = False) -> BinaryIO:
        """A new file, `name` relative to the target folder, open for writing (owner-only);
        `held`: only this export may move it into place, never a later sweep."""
        relative = _relative(name)
        target = self.path / FILES / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        self._folders.add(target.parent)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        handle = os.open(target, flags, 0o600)
        self._names.append(relative)
        if held:
            self._held.append(relative)
        return os.fdopen(handle, "wb")

    def publish(self) -> list[Path]:
        """Move every staged file into place, in the order they were created; see the module
        comment for why a cut at any moment leaves the old set or (after a sweep) the new one.
        ServiceError when a folder is in a file's way or a move fails part-way; OSError when
        nothing could be moved."""
        moves = [(self.path / FILES / name, self.folder / name) for name in self._names]
        blocked = next((target for _, target in moves if target.is_dir()), None)
        if blocked is not None:
            raise ServiceError(
                f"The export cannot replace {blocked}: a folder has that name. "
                "Nothing was written; move it or choose another folder."
            )
        for _, target in moves:
            target.parent.mkdir(parents=True, exist_ok=True)
        with _folder_locked(self.folder):
            # Exports cut off since this one began are finished first, so theirs never land
            # on top of ours.
            self.finished += _sweep(self.folder, skip=self.path)
            self._commit()
            moved: list[Path] = []
            try:
                for staged, target in moves:
                    os.replace(staged, target)
                    moved.append(target)
            except OSError as error:
                # Taken back first: what is left must never be moved by a later sweep.
                (self.path / MANIFEST).unlink(missing_ok=True)
                if not moved:
                    raise
                shown = ", ".join(p.name for p in moved[:5]) + ("…" if len(moved) > 5 else "")
                raise ServiceError(
                    f"The export stopped part-way in {self.folder}: {error.strerror or error}. "
                    f"{len(moved)} of {len(moves)} files were written ({shown}); the rest "
                    "were not. Close any file from an earlier export that is open (a PDF "
                    "viewer), then export again."
                ) from error
        return moved

    def _commit(self) -> None:
        manifest = {"what": self.what, "files": self._names, "held": self._held}
        temporary = self.path / f"{MANIFEST}.tmp"
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(manifest, out)
            out.flush()
            os.fsync(out.fileno())
        for folder in self._folders:  # the staged files are on the disk before the manifest
            sync_folder(folder)
        # Renamed, not replaced: nothing is there, and the moves are the only replaces.
        os.rename(temporary, self.path / MANIFEST)
        sync_folder(self.path)

    def close(self) -> None:
        """Remove the staging folder (with any file not published) and let go of it."""
        if self._owner is None:
            return
        try:
            (self.path / MANIFEST).unlink(missing_ok=True)  # first: never finished later
            if sys.platform == "win32":  # an open file cannot be deleted there
                os.close(self._owner)
                self._owner = None
            shutil.rmtree(self.path, ignore_errors=True)
        finally:
            if self._owner is not None:
                os.close(self._owner)
                self._owner = None
            if self.note is not None and not self.path.exists():
                self.note.unlink(missing_ok=True)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def sweep(folder: Path) -> list[Finished]:
    """Clear `folder` of what exports cut off left there: finish those cut off while moving
    their files into place, delete the other staging folders (and earlier versions' temporary
    files); leave running exports alone. What was finished is returned."""
    if not folder.is_dir():
        return []
    with _folder_locked(folder):
        return _sweep(folder)


def sweep_noted(notes: Path) -> list[Finished]:
    """At the app's start: sweep every folder an export was under way in (see Staging.open).
    A note goes once its export's staging folder has gone; a folder out of reach (but not one
    that is gone) keeps its note for the next start."""
    finished: list[Finished] = []
    try:
        noted = sorted(notes.iterdir())
    except OSError:  # none yet
        return finished
    for note in noted:
        try:
            folder = Path(note.read_text(encoding="utf-8").strip())
            if not folder.is_absolute():
                raise ValueError("not an absolute path")
        except (OSError, ValueError) as error:
            log.warning("ignoring the unreadable export note %s: %s", note.name, error)
            continue
        try:
            os.stat(folder)
            finished += sweep(folder)
            if not (folder / f".{note.name}").exists():
                note.unlink(missing_ok=True)
        except FileNotFoundError:  # the folder is gone, and its leftovers with it
            note.unlink(missing_ok=True)
        except OSError as error:  # a network folder out of reach: try at the next start
            log.warning("cannot sweep an export folder now: %s", type(error).__name__)
    return finished


def _sweep(folder: Path, skip: Path | None = None) -> list[Finished]:
    finished: list[Finished] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return finished
    for entry in entries:
        if entry.name.startswith(PREFIX) and entry.is_dir(follow_symlinks=False):
            if skip is None or entry.name != skip.name:
                done = _sweep_one(folder, Path(entry.path))
                if done is not None:
                    finished.append(done)
        elif _LEGACY_TOP.fullmatch(entry.name):
            _remove_if_old(entry)
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder / "superbills"):
            if _LEGACY_SUPERBILL.fullmatch(entry.name):
                _remove_if_old(entry)
    return finished


def _sweep_one(folder: Path, path: Path) -> Finished | None:
    try:
        # Created if missing: an export between making its folder and locking its owner file
        # then finds the file gone once it has the lock, and makes another folder.
        handle = os.open(path / OWNER, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # gone meanwhile, or another user's
        return None
    owner: int | None = handle  # None once closed
    try:
        if not _lock(handle, wait=False):
            return None  # its export is running
        try:
            finished = _finish(folder, path)
        except OSError as error:  # a file held open, say: leave it all for the next sweep
            log.warning("cannot finish a cut-off export yet: %s", type(error).__name__)
            return None
        if sys.platform == "win32":
            os.close(owner)
            owner = None
        shutil.rmtree(path, ignore_errors=True)
        return finished
    finally:
        if owner is not None:
            os.close(owner)


def _finish(folder: Path, path: Path) -> Finished | None:
    """Move what a committed export had not moved yet; None when it never committed."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        held = {_relative(name) for name in manifest.get("held", [])}
        names = [n for n in (_relative(name) for name in manifest["files"]) if n not in held]
        what = str(manifest.get("what") or "export")
    except FileNotFoundError:
        return None  # cut off before its commit: the old set is whole; its new files go
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("ignoring an unreadable export manifest: %s", type(error).__name__)
        return None
    moved = 0
    for name in names:
        staged, target = path / FILES / name, folder / name
        if staged.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
            moved += 1
    if not moved:
        return None  # it had moved everything: only its empty folder was left
    return Finished(folder, what, [folder / name for name in names], moved)


def _remove_if_old(entry: os.DirEntry[str]) -> None:
    with contextlib.suppress(OSError):
        stat = entry.stat(follow_symlinks=False)
        if entry.is_file(follow_symlinks=False) and time.time() - stat.st_mtime > (
            LEGACY_AGE_SECONDS
        ):
            os.unlink(entry.path)


def _relative(name: str) -> str:
    """A file name relative to the target folder, refused if it would lead out of it."""
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        raise ValueError(f"not a file name inside the folder: {name!r}")
    return path.as_posix()


def _same_file(handle: int, path: Path) -> bool:
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    here = os.fstat(handle)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _lock(handle: int, wait: bool) -> bool:
    """Take the exclusive lock on an open file; False when another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(handle, msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """Hold a lock on the folder itself (it leaves no file behind). Where a folder cannot be
    locked (Windows, some network file systems) the work goes on unlocked, as before."""
    handle = None
    if sys.platform != "win32":
        import fcntl

        try:
            handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError:
            pass
    try:
        yield
    finally:
        if handle is not None:
            os.close(handle)
