"""A real process is killed with SIGKILL while its stopwatch runs; the time survives."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccmdesk.db import open_database
from ccmdesk.services import Services, Stopped
from tests.helpers.common import NURSE

BEAT = 0.5  # seconds between heartbeats in the child (the application uses 30)

CHILD = r"""
import sys, time
from ccmdesk.db import open_database
from ccmdesk.services import Actor, Services
services = Services(open_database(sys.argv[1]))
nurse = Actor(key="rn-lee", name="Grace Lee", role="clinical")
timer = services.stopwatch.start(nurse, "1001")
print(timer.entry_id, flush=True)
while True:
    time.sleep(float(sys.argv[2]))
    services.stopwatch.heartbeat(nurse, timer.entry_id)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_9_loses_at_most_one_heartbeat_interval(staffed: Services, db, tmp_path: Path) -> None:
    from tests.helpers.common import CLI, patient_text

    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    url = str(db.engine.url)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(BEAT)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        entry_id = int(child.stdout.readline())
        time.sleep(2.2)
    finally:
        killed_at = dt.datetime.now(dt.UTC)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    # The next start, two minutes later: the stopwatch is found and stopped at its last heartbeat.
    database = open_database(url)
    later = Services(database, clock=lambda: killed_at + dt.timedelta(minutes=2))
    stale = later.stopwatch.stale_timers(NURSE)
    assert [t.entry_id for t in stale] == [entry_id]
    beat = stale[0].last_heartbeat_at
    assert beat is not None
    lost = (killed_at - beat).total_seconds()
    # At most one interval, plus under a second because instants are kept in whole seconds,
    # plus scheduling slack on a busy VM.
    assert 0 <= lost <= BEAT + 1.5
    stopped = later.stopwatch.recover(NURSE, entry_id, "stop_at_heartbeat")
    assert isinstance(stopped, Stopped)
    assert stopped.timer.elapsed_seconds == int((beat - stale[0].started_at).total_seconds())
    assert stopped.timer.elapsed_seconds >= 1
    database.dispose()
