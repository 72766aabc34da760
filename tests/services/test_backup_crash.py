"""A restore killed with SIGKILL at each step: the old database, or the restored one audited."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from ccmdesk.db import Database, open_database
from ccmdesk.models import AuditEvent
from ccmdesk.services import Services
from ccmdesk.services.backup import restore
from tests.helpers.backup import add_entries, entry_count
from tests.helpers.common import ADMIN, CLI, NOW, patient_text

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
]

# Adds entries and dies before anything folds its write-ahead log into the database file:
# its committed entries are only in the log.
CRASHED_SESSION = r"""
import datetime as dt, os, signal, sys
from ccmdesk.db import open_database
from ccmdesk.services import Actor, Services
services = Services(open_database(sys.argv[1]))
nurse = Actor(key="rn-lee", name="Grace Lee", role="clinical")
for n in range(int(sys.argv[2]), int(sys.argv[3])):
    start = dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=3 * n)
    services.entries.add_manual(
        nurse, "A1", start, start + dt.timedelta(minutes=2), reason=f"call {n}"
    )
os.kill(os.getpid(), signal.SIGKILL)
"""

# Restores, killed just before or after one of restore's steps (or not at all).
CUT_RESTORE = r"""
import datetime as dt, os, signal, sys
from pathlib import Path
from ccmdesk.services import Actor, backup
database, source, point = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
if point != "never":
    when, step = point.split(":")
    real = getattr(backup, step)
    def cut(*args, **kwargs):
        if when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(backup, step, cut)
admin = Actor(key="admin-a", name="Ann Admin", role="admin")
backup.restore(database, source, dt.datetime.fromisoformat(sys.argv[4]), admin)
"""

IN_BACKUP = 3
ALL = 7  # IN_BACKUP, then four more by the session that crashed

STEPS = [
    # (where the restore is cut, whether the restored database is live afterwards)
    ("before:_fold_log", False),
    ("after:_fold_log", False),
    ("after:_keep_aside", False),
    ("after:_prepare", False),  # the copy is audited, but not yet in place
    ("after:_drop_journals", False),  # the old log is gone: folded first, so nothing is lost
    ("after:_put_in_place", True),
    ("never", True),
]


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120
    )


def restore_events(path: Path) -> tuple[list[str], bool]:
    """The database.restore events' reasons, and whether the chain verifies."""
    db = open_database(f"sqlite:///{path}")
    try:
        with db.session() as session:
            reasons = list(
                session.scalars(
                    select(AuditEvent.reason).where(AuditEvent.action == "database.restore")
                )
            )
        return reasons, Services(db).audit.verify(CLI).ok
    finally:
        db.dispose()


@pytest.mark.parametrize(("point", "live"), STEPS)
def test_a_restore_cut_anywhere_leaves_the_old_database_or_the_restored_one_audited(
    staffed: Services, db: Database, tmp_path: Path, point: str, live: bool
) -> None:
    database = db.sqlite_path
    assert database is not None
    staffed.patients.save_text(CLI, patient_text(mrn="A1", last_name="Doe"))
    add_entries(staffed, IN_BACKUP)
    backup = staffed.backups.take(ADMIN, tmp_path / "backup.sqlite3")
    # Closed here first (a restore is refused while anyone has it open, and closing the last
    # connection would fold the log), so the crashed session is the last to have written.
    db.dispose()
    crashed = run(CRASHED_SESSION, str(db.engine.url), str(IN_BACKUP), str(ALL))
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    wal = Path(f"{database}-wal")
    assert wal.exists() and wal.stat().st_size > 0  # the crashed session's entries are there

    cut = run(CUT_RESTORE, str(database), str(backup), point, NOW.isoformat())
    assert cut.returncode == (0 if point == "never" else -signal.SIGKILL), cut.stderr

    # Opened as ccmdesk's next start would (which folds in any log left), then counted.
    reasons, chain_ok = restore_events(database)
    entries = entry_count(database)[0]
    if live:
        # The restored database, with its audit event from before it went live.
        assert (entries, len(reasons), chain_ok) == (IN_BACKUP, 1, True)
    else:
        assert (entries, reasons, chain_ok) == (ALL, [], True)  # the old one, nothing lost
    [aside] = list(database.parent.glob("*.before-restore-*")) or [None]
    if aside is not None:
        assert entry_count(aside)[0] == ALL  # every committed entry, the crashed session's too
    if live:
        assert aside is not None and str(aside) in reasons[0]

    # The next restore clears what a killed one left behind (a copy of the backup).
    restore(database, backup, NOW, CLI)
    assert not list(database.parent.glob(".restore-*"))
    assert entry_count(database)[0] == IN_BACKUP


def test_the_copy_goes_live_with_its_audit_event_already_in_it(
    staffed: Services, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ccmdesk.services import backup as module

    database = db.sqlite_path
    assert database is not None
    backup = staffed.backups.take(ADMIN, tmp_path / "backup.sqlite3")
    seen: list[tuple[list[str], bool]] = []
    real = module._put_in_place

    def looked_at(copy: Path, target: Path) -> None:
        seen.append(restore_events(copy))
        real(copy, target)

    monkeypatch.setattr(module, "_put_in_place", looked_at)
    aside = staffed.backups.restore_now(ADMIN, backup)
    [(reasons, chain_ok)] = seen
    assert chain_ok and len(reasons) == 1 and f"kept as {aside}" in reasons[0]
