"""Stopwatches left running by a ccmdesk that ended: how they are recognized, what is offered."""

from __future__ import annotations

import datetime as dt

from ccmdesk.services.time.records import TimerState

# A running stopwatch writes a heartbeat at least this often; a crash loses at most this much.
HEARTBEAT_SECONDS = 30
# A running stopwatch whose heartbeat is older than this was left by a ccmdesk that ended.
STALE_AFTER_SECONDS = 2 * HEARTBEAT_SECONDS


def is_stale(timer: TimerState, now: dt.datetime) -> bool:
    """A running stopwatch whose heartbeat stopped: no ccmdesk has been watching it."""
    beat = timer.last_heartbeat_at or timer.started_at
    return timer.state == "running" and beat < now - dt.timedelta(seconds=STALE_AFTER_SECONDS)


RECOVERY_CHOICES = ("keep", "stop_at_heartbeat", "discard")
