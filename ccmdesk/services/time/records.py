"""What the time services hand the screens: stopwatches, log lines, and what a change left."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ccmdesk.rules.intervals import Interval
from ccmdesk.services.errors import ServiceError

if TYPE_CHECKING:  # at run time, minutes (through patients) imports billing, which imports this
    from ccmdesk.services.minutes import MonthProgress


@dataclass(frozen=True)
class TimerState:
    """A stopwatch as the screen shows it."""

    entry_id: int
    mrn: str
    patient_name: str
    state: str  # running, paused, stopped
    started_at: dt.datetime
    elapsed_seconds: int  # closed segments, plus the open one up to now
    last_heartbeat_at: dt.datetime | None
    segments: tuple[Interval, ...]
    service: str = "ccm"  # what it times: the Stop dialog's choice unless changed there


class TimerRunning(ServiceError):
    """The staff member already has a running stopwatch; the caller decides what to do with it."""

    def __init__(self, running: TimerState) -> None:
        self.running = running
        super().__init__(
            f"Your stopwatch for {running.patient_name} (MRN {running.mrn}) is still running; "
            "pause or stop it first."
        )


@dataclass(frozen=True)
class EntryRow:
    """One line of a time log (a patient's month, or a person's day)."""

    entry_id: int
    mrn: str
    patient_name: str
    staff_id: str
    staff_name: str
    started_at: dt.datetime
    ended_at: dt.datetime | None  # None while the stopwatch runs
    seconds: int
    service: str
    face_to_face: bool
    activity: str
    note: str
    state: str
    source: str


@dataclass(frozen=True)
class ClockCorrection:
    """A stopwatch after the computer's clock went back: how far its entry moved back, and
    the seconds left out because moving further would overlap the person's other entries."""

    timer: TimerState
    shifted_seconds: int
    lost_seconds: int


@dataclass(frozen=True)
class Stopped:
    """A stopwatch just stopped and saved, with what the patient's page shows after it: the
    entry as its log line, and the month it ended in, progress and all, read in the same
    transaction (the page need not read them again)."""

    timer: TimerState
    entry: EntryRow
    progress: MonthProgress


@dataclass(frozen=True)
class WeekEntry:
    """An entry of the week view: its log line, and its stretches (an open one ends in None)."""

    row: EntryRow
    segments: tuple[tuple[dt.datetime, dt.datetime | None], ...]


@dataclass(frozen=True)
class Week:
    """One person's entries touching a week of the practice's calendar, read at `now`."""

    days: tuple[dt.date, ...]  # Monday to Sunday
    zone: dt.tzinfo
    now: dt.datetime
    entries: tuple[WeekEntry, ...]
    workday: tuple[int, int]  # the practice's working day, local minutes after midnight
