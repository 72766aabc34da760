"""Time-entry rules, one sentence each, for the stopwatch, entries by hand, edits and imports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TypeVar

from ccmdesk.rules.intervals import Interval, date_text, overlap
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import ACTIVITY_LIMIT, SERVICES, note_error, reason_error, text_error

T = TypeVar("T")  # what the caller knows an entry of its own by (an MRN, a file line...)

# Each message names no field itself: the caller pairs it with one (a FieldError, a CSV column).
NOT_AFTER_START = "is not after start"
IN_THE_FUTURE = "is in the future"
FRACTION = "has a fraction of a second; give whole seconds"
BEFORE_LAST_PAUSE = "is before this stopwatch's last pause"
NO_TIME_LEFT = "leaves no time on this stopwatch"

# Why a reason is asked for, by what is done to time; the audit trail keeps the reason.
REASON_REQUIRED = {
    "by hand": "is required for time added or changed by hand",
    "discard": "is required to discard time",
    "delete": "is required to delete time",
    "keep idle": "is required to keep idle time",
}


def service_error(service: str) -> str | None:
    """None for a service a time entry can be for."""
    if service not in SERVICES:
        return f"'{service}' is not one of {', '.join(SERVICES)}"
    return None


def activity_error(activity: str) -> str | None:
    """What was done: one line, at most ACTIVITY_LIMIT characters."""
    return text_error(activity, ACTIVITY_LIMIT)


def span_errors(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list[FieldError]:
    """A closed stretch of time: whole seconds, ending after it starts and not after now."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("instants must carry a time zone")
    errors = [
        FieldError(name, FRACTION)
        for name, instant in (("start", start), ("end", end))
        if instant.microsecond
    ]
    if end <= start:
        errors.append(FieldError("end", NOT_AFTER_START))
    elif end > now:
        errors.append(FieldError("end", IN_THE_FUTURE))
    return errors


def detail_errors(activity: str, note: str, service: str | None) -> list[FieldError]:
    """What was done, for what service (None: left as it is), and the note."""
    errors: list[FieldError] = []
    if message := activity_error(activity):
        errors.append(FieldError("activity", message))
    if message := note_error(note):
        errors.append(FieldError("note", message))
    if service is not None and (message := service_error(service)):
        errors.append(FieldError("service", message))
    return errors


def reason_errors(reason: str, required_for: str | None = None) -> list[FieldError]:
    """A reason for the audit trail; `required_for` (a key of REASON_REQUIRED) when one must be
    given."""
    if required_for is not None and not reason.strip():
        return [FieldError("reason", REASON_REQUIRED[required_for])]
    if message := reason_error(reason):
        return [FieldError("reason", message)]
    return []


def entry_errors(
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    *,
    activity: str,
    note: str,
    service: str,
    reason: str,
) -> list[FieldError]:
    """Time added or changed by hand: its span, what was done, and why it was typed."""
    return [
        *span_errors(start, end, now),
        *detail_errors(activity, note, service),
        *reason_errors(reason, "by hand"),
    ]


def stop_errors(
    end: dt.datetime,
    now: dt.datetime,
    *,
    activity: str,
    note: str,
    service: str | None,
    reason: str,
) -> list[FieldError]:
    """A stopwatch stopped at `end` (now, or earlier: its last heartbeat, idle time's start)."""
    errors = detail_errors(activity, note, service)
    errors.extend(reason_errors(reason))
    if end > now:
        errors.append(FieldError("end", IN_THE_FUTURE))
    return errors


def stop_end_error(end: dt.datetime, paused_at: Iterable[dt.datetime]) -> str | None:
    """A stopwatch cannot stop before a stretch it already closed ended."""
    ends = list(paused_at)
    if ends and end < max(ends):
        return BEFORE_LAST_PAUSE
    return None


def first_overlap(
    spans: Sequence[Interval],
    others: Iterable[tuple[dt.datetime, dt.datetime | None, T]],
    running_until: dt.datetime,
) -> tuple[dt.datetime, dt.datetime, bool, T] | None:
    """The first of `others` (start, end or None while it runs, what it is) sharing time with
    `spans`, as (start, end, running, what); a running one counts up to `running_until`, and
    at least one second. Stretches may touch."""
    for started, ended, what in others:
        running = ended is None
        until = ended or max(running_until, started + dt.timedelta(seconds=1))
        if any(overlap(span, (started, until)) for span in spans):
            return started, until, running, what
    return None


def _clock(instants: Sequence[dt.datetime], zone: dt.tzinfo) -> list[str]:
    """Local clock readings, with seconds only when one of them has any (as the form shows)."""
    local = [instant.astimezone(zone) for instant in instants]
    form = "%H:%M:%S" if any(t.second for t in local) else "%H:%M"
    return [t.strftime(form) for t in local]


def _day(instant: dt.datetime) -> str:
    # English month names, not the locale's (it follows Qt's): refusals read alike
    # from the GUI and the command line.
    return date_text(instant.date())


def overlap_message(
    mrn: str,
    started: dt.datetime,
    ended: dt.datetime,
    running: bool,
    zone: dt.tzinfo,
    *,
    owner: str = "your",
    where: str = "",
) -> str:
    """The sentence refusing time that overlaps other time of the same person, in the
    practice's time: the entry is named as the reader knows it (whose, its times and patient,
    and `where` it is given: an import file's line), not by an internal id. `owner` is "your"
    for one's own time; the importer, read by someone else, names the staff member."""
    first, last = started.astimezone(zone), ended.astimezone(zone)
    if running:
        (since,) = _clock([started], zone)
        what = f"{owner} stopwatch for MRN {mrn}, running since {since} on {_day(first)}"
    elif first.date() == last.date():
        a, b = _clock([started, ended], zone)
        what = f"{owner} {a}\N{EN DASH}{b} entry for MRN {mrn} on {_day(first)}"
    else:
        a, b = _clock([started, ended], zone)
        what = f"{owner} entry for MRN {mrn} from {_day(first)} {a} to {_day(last)} {b}"
    if where:
        what += f" ({where})"
    return f"This overlaps {what}; change the start or end."
