"""Where ccmdesk keeps its data, and which database it opens."""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO

from platformdirs import user_data_path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; see ended_badly
    fcntl = None  # type: ignore[assignment]

DATA_DIR_ENV = "CCMDESK_DATA_DIR"
DATABASE_URL_ENV = "CCMDESK_DATABASE_URL"
DATABASE_FILE = "ccmdesk.sqlite3"
SETTINGS_FILE = "settings.json"


class ConfigError(Exception):
    """A setting that cannot be used; the message is for the person who set it."""


def resolve_data_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: --data-dir, else $CCMDESK_DATA_DIR, else the user's data folder."""
    if cli_value:
        return Path(cli_value).expanduser().resolve()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return user_data_path("ccmdesk", appauthor=False)


def read_settings(data_dir: Path) -> dict[str, object]:
    """The workstation settings file in the data folder (empty when there is none)."""
    path = data_dir / SETTINGS_FILE
    if not path.exists():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read settings: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: settings must be a JSON object")
    return value


def database_url(data_dir: Path) -> str:
    """$CCMDESK_DATABASE_URL, else settings.json "database_url", else the embedded SQLite file.

    A practice with many workstations points every one at the same PostgreSQL server here.
    """
    env = os.environ.get(DATABASE_URL_ENV)
    if env:
        return env
    configured = read_settings(data_dir).get("database_url")
    if isinstance(configured, str) and configured:
        return configured
    return f"sqlite:///{data_dir / DATABASE_FILE}"


GLOBAL_SHORTCUT = "global_shortcut"
# Not a common desktop binding: Ctrl+Alt+T opens a terminal on many Linux desktops, and
# Windows and the Linux desktops leave Ctrl+Alt+Shift+S free (README.md, "Timing care minutes").
DEFAULT_GLOBAL_SHORTCUT = "Ctrl+Alt+Shift+S"


def global_shortcut(data_dir: Path) -> str:
    """This workstation's global stopwatch shortcut: settings.json "global_shortcut", the
    default when unset, "" when turned off. A damaged file means the default, not a failure:
    the database URL beside it is read (and refused) first."""
    try:
        value = read_settings(data_dir).get(GLOBAL_SHORTCUT, DEFAULT_GLOBAL_SHORTCUT)
    except ConfigError:
        return DEFAULT_GLOBAL_SHORTCUT
    return value if isinstance(value, str) else DEFAULT_GLOBAL_SHORTCUT


def write_setting(data_dir: Path, key: str, value: str) -> None:
    """Set one key of settings.json, keeping the others (the database URL IT wrote there).

    Written to a temporary file and moved into place, so a crash never leaves half a file."""
    settings = read_settings(data_dir)
    settings[key] = value
    path = data_dir / SETTINGS_FILE
    temporary = path.with_suffix(".tmp")
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot save settings: {exc.strerror or exc}") from exc


LOG_DIR = "logs"
LOG_FILE = "ccmdesk.log"


class _OwnerOnlyRotatingHandler(RotatingFileHandler):
    """Each new log file (after every rotation too) readable by its owner only."""

    def _open(self):  # type: ignore[no-untyped-def]
        stream = super()._open()
        os.chmod(self.baseFilename, 0o600)
        return stream


def setup_logging(data_dir: Path) -> Path:
    """Warnings and unexpected errors go to a rotating file in the data folder.

    What is logged must carry no patient data: messages name records by id, and the database
    engine hides statement parameters (see ccmdesk.db).
    """
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = data_dir / LOG_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / LOG_FILE
    handler = _OwnerOnlyRotatingHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "ccmdesk", False)]:
        # One log file per process: a second call (tests, a re-run main) replaces the first.
        root.removeHandler(old)
        old.close()
    handler.ccmdesk = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    os.chmod(path, 0o600)
    return path


def log_failure(logger: logging.Logger, what: str, error: BaseException) -> None:
    """Log an error by its kind and where it happened, never by its message: messages quote
    names, MRNs, notes and file paths (which carry MRNs), and the log must hold no patient
    data. The person at the keyboard sees the message; the log keeps enough to find the bug."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error("%s: %s\n%s", what, type(error).__name__, frames.rstrip())


RUNNING_FILE = "ccmdesk.running"


# This process's open marker, locked shared while the folder is open (see ended_badly).
_marker: IO[bytes] | None = None


def mark_running(data_dir: Path) -> Path:
    """Say, in the data folder, that this process has the database open (the GUI, while it
    runs): a restore from the command line must not swap the file under it."""
    global _marker
    path = data_dir / RUNNING_FILE
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(f"{os.getpid()}\n", encoding="ascii")
    if fcntl is not None:
        handle = path.open("rb")
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        _marker = handle
    return path


def unmark_running(data_dir: Path) -> None:
    global _marker
    path = data_dir / RUNNING_FILE
    try:
        if path.read_text(encoding="ascii").strip() == str(os.getpid()):
            path.unlink()
    except OSError:
        pass
    finally:
        if _marker is not None:
            _marker.close()
            _marker = None


def ended_badly(data_dir: Path) -> bool:
    """True if the last ccmdesk window on this data folder ended without quitting: its marker
    is still there and no process holds it. Read before mark_running.

    Every running window holds a shared lock on the marker, which the system lets go the
    moment the process ends, however it ends. Asking whether the marker's process id still
    exists is not enough: a process killed a second ago can linger as a zombie until its
    parent reaps it, and an id can be reused by an unrelated program."""
    path = data_dir / RUNNING_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError:
        return False  # no marker: the last run quit cleanly (or there was none)
    try:
        pid = int(text)
    except ValueError:
        return True  # cut off while it was written
    if pid == os.getpid():
        return False
    if fcntl is not None:
        return not _marker_held(path)
    # Where the process cannot be asked about safely, a marker left is taken for a crash,
    # since asking costs one question and "Keep it running" loses nothing.
    return _gone(pid) is not False


def _marker_held(path: Path) -> bool:
    """Whether a running ccmdesk holds the marker's lock."""
    assert fcntl is not None
    try:
        with path.open("rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return False
    except OSError:
        return False  # gone meanwhile: its window quit


def _gone(pid: int) -> bool | None:
    """Whether the process that wrote a marker has ended; None where it cannot be asked
    safely (Windows, where os.kill ends it)."""
    if sys.platform == "win32":
        return None
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it runs, under another user
    return False


def running_elsewhere(data_dir: Path) -> int | None:
    """The process id of another ccmdesk that has this data folder's database open, if any.

    Where a process cannot be asked about safely (Windows, where os.kill ends it), a marker
    is taken at its word; a stale one is deleted by hand, as the refusal says."""
    try:
        pid = int((data_dir / RUNNING_FILE).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    if pid == os.getpid() or _gone(pid):
        return None
    return pid
