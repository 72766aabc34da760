"""Idle, sleep and clock-jump detection for a running stopwatch, fed by the GUI's ticks (no Qt)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Wall and monotonic clocks may disagree by this much between ticks before it counts as a jump.
JUMP_TOLERANCE_SECONDS = 5.0
# A tick that arrives this late means the program did not run (system sleep, a frozen machine).
MISSED_TICKS_SECONDS = 60.0


@dataclass(frozen=True)
class IdleBegan:
    """The person was away from `since`; they choose what happens to the time on return."""

    since: dt.datetime
    kind: str  # inactive, locked, sleep (system sleep or the wall clock moving ahead)


@dataclass(frozen=True)
class ClockSetBack:
    """The wall clock went back: the running segment is re-based so no true second is lost."""

    seconds: int


Event = IdleBegan | ClockSetBack


class ActivityMonitor:
    """Compares each tick's wall clock with the monotonic clock and the input idle time.

    Durations come from wall-clock instants (UTC), so a jump of the wall clock would add or
    remove time that never passed; the monotonic clock says how much really did. On Linux the
    monotonic clock stops during system sleep, so sleep shows as the wall clock moving ahead;
    on Windows it does not stop, so sleep shows as a tick that came very late.
    """

    def __init__(self, idle_threshold_seconds: float) -> None:
        self.idle_threshold_seconds = idle_threshold_seconds
        self.on_call = False
        self._last: tuple[dt.datetime, float] | None = None
        self._idle = False
        self._locked_since: dt.datetime | None = None

    @property
    def waiting(self) -> bool:
        """True after an IdleBegan until reset(): nothing more is reported meanwhile."""
        return self._idle

    def reset(self, wall: dt.datetime, mono: float) -> None:
        """Start watching afresh (a stopwatch started or resumed, or idle time was settled)."""
        self._last = (wall, mono)
        self._idle = False
        self._locked_since = None

    def stop_watching(self) -> None:
        self._last = None
        self._idle = False
        self._locked_since = None

    def tick(
        self, wall: dt.datetime, mono: float, idle_seconds: float, locked: bool = False
    ) -> Event | None:
        if self._last is None:
            return None
        last_wall, last_mono = self._last
        self._last = (wall, mono)
        wall_delta = (wall - last_wall).total_seconds()
        mono_delta = mono - last_mono
        if mono_delta - wall_delta > JUMP_TOLERANCE_SECONDS:
            # Reported even while waiting, so the open segment keeps its true length.
            return ClockSetBack(round(mono_delta - wall_delta))
        if self._idle:
            return None
        if wall_delta - mono_delta > JUMP_TOLERANCE_SECONDS or mono_delta > MISSED_TICKS_SECONDS:
            self._idle = True
            return IdleBegan(last_wall, "sleep")
        if self.on_call:
            # Phone calls have no keyboard activity: no prompts for inactivity or a locked screen.
            self._locked_since = None
            return None
        if locked:
            self._locked_since = self._locked_since or wall
        else:
            self._locked_since = None
        if self._locked_since is not None:
            self._idle = True
            return IdleBegan(self._locked_since, "locked")
        if idle_seconds >= self.idle_threshold_seconds:
            self._idle = True
            return IdleBegan(wall - dt.timedelta(seconds=int(idle_seconds)), "inactive")
        return None
