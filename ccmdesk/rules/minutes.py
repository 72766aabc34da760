"""Where a month's countable minutes stand: the family's thresholds, the next one, days left."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ccmdesk.rules.intervals import Interval, month_days, month_parts

# Thresholds in minutes the worklist and the progress bar aim at, per family (docs/billing-rules.md,
# "Codes and families").
# The complex and PCM families have uncapped add-ons; the bar stops at the first add-on.
THRESHOLDS: dict[str, tuple[int, ...]] = {
    "ccm": (20, 40, 60),
    "complex": (60, 90),
    "pcm": (30,),
    # General BHI, timed apart from the program's minutes (docs/billing-rules.md, "General BHI").
    "bhi": (20,),
}
# APCM bills the month without minutes (docs/billing-rules.md, "APCM"): a patient in it has
# no threshold to aim at, whatever time is recorded.
NO_MINUTES = "apcm"
FAMILY_LABELS = {
    "ccm": "CCM (99490, 99439)",
    "complex": "Complex CCM (99487, 99489)",
    "pcm": "PCM (99426)",
    "bhi": "General BHI (99484)",
    NO_MINUTES: "APCM (G0556-G0558)",
}


@dataclass(frozen=True)
class Progress:
    """Where a patient's month stands against its family's thresholds."""

    family: str | None  # None: no chronic condition; NO_MINUTES: APCM; either, nothing to aim at
    countable_seconds: int
    next_threshold_minutes: int | None  # None once every threshold is reached
    previous_threshold_minutes: int
    days_left: int  # local days left in the month, today included

    @property
    def aims(self) -> bool:
        """Whether there is a threshold to aim at (not for no condition, nor for APCM)."""
        return self.family in THRESHOLDS

    @property
    def seconds_short(self) -> int:
        if self.next_threshold_minutes is None:
            return 0
        return max(0, self.next_threshold_minutes * 60 - self.countable_seconds)

    @property
    def falling_behind(self) -> bool:
        """Short of a threshold still ahead: what the worklist's filter and the morning
        reminder count (never APCM, nor a patient past every threshold)."""
        return self.aims and self.seconds_short > 0

    @property
    def need(self) -> float:
        """Seconds still needed per day left: the worklist puts the largest first."""
        return self.seconds_short / max(1, self.days_left)


def progress_share(p: Progress) -> float | None:
    """What every progress bar shows: the month's countable time as a share of the next
    threshold, from zero minutes (the whole bar once every threshold is reached); None when
    there is nothing to aim at."""
    if not p.aims:
        return None
    if p.next_threshold_minutes is None:
        return 1.0
    return min(1.0, p.countable_seconds / (p.next_threshold_minutes * 60))


def threshold_ticks(p: Progress) -> tuple[float, ...]:
    """The thresholds below the bar's end, as shares of it: where the month passed 20 and 40
    minutes on its way to 60, say."""
    if p.family is None or not p.aims:
        return ()
    marks = THRESHOLDS[p.family]
    top = p.next_threshold_minutes or marks[-1]
    return tuple(m / top for m in marks if m < top)


def month_bounds(month: str, zone: dt.tzinfo) -> Interval:
    """The month's first and last instant (exclusive) in UTC, from local midnights."""
    year, number = month_parts(month)
    start = dt.datetime(year, number, 1, tzinfo=zone)
    end = dt.datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def family_for(condition_count: int, complexity: str, program: str = "ccm") -> str | None:
    """The family a patient's minutes aim at, by the program in force for the month
    (docs/billing-rules.md, "Programs"): none for APCM (NO_MINUTES: it bills without minutes);
    PCM for a PCM-by-focus patient whatever the condition count; in `ccm`, PCM for one chronic
    condition, complex CCM when moderate or high complexity is attested for the month,
    otherwise CCM."""
    if program == "apcm":
        return NO_MINUTES
    if condition_count == 0:
        return None
    if condition_count == 1 or program == "pcm_focus":
        return "pcm"
    return "complex" if complexity in ("moderate", "high") else "ccm"


def days_left(month: str, today: dt.date) -> int:
    """Local days left in the month counting today; 0 for a month already over."""
    first, last = month_days(month)
    if today > last:
        return 0
    return (last - max(today, first)).days + 1


def progress(family: str | None, seconds: int, month: str, today: dt.date) -> Progress:
    """Countable seconds against the family's thresholds (C1: 19:59 is not 20 minutes;
    docs/billing-rules.md, "C1 Whole seconds")."""
    left = days_left(month, today)
    if family is None or family not in THRESHOLDS:
        return Progress(family, seconds, None, 0, left)
    reached = [m for m in THRESHOLDS[family] if seconds >= m * 60]
    ahead = [m for m in THRESHOLDS[family] if seconds < m * 60]
    following = ahead[0] if ahead else None
    return Progress(family, seconds, following, reached[-1] if reached else 0, left)
