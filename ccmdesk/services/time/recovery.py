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


def left_running(
    timer: TimerState, now: dt.datetime, crashed_before: dt.datetime | None = None
) -> bool:
    """A running stopwatch nobody is watching: its heartbeat stopped, or (after an unclean exit
    at this workstation, `crashed_before` being when ccmdesk started again) its last heartbeat
    came before that start, however recent: the program that wrote it is dead."""
    if is_stale(timer, now):
        return True
    beat = timer.last_heartbeat_at or timer.started_at
    return timer.state == "running" and crashed_before is not None and beat < crashed_before


RECOVERY_CHOICES = ("keep", "stop_at_heartbeat", "discard")
RECOVERY_STOP_REASON = "stopped at its last heartbeat after ccmdesk ended without stopping it"
