"""Which reminders are due for one person now, from the facts the service gathered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ccmdesk.rules.catalog import REMINDER_KINDS
from ccmdesk.rules.intervals import date_time_text, month_label
from ccmdesk.rules.records import FieldError

# docs/reminders.md, "Closing the month": billing is reminded from the 1st to this day of a
# month while the month before is not closed.
MONTH_CLOSE_LAST_DAY = 10
# docs/reminders.md, "Timing a call?": at most one nudge in this many minutes.
NUDGE_EVERY_MINUTES = 60
# The ranges the practice settings accept.
LIMIT_RANGE = (5, 480)
NUDGE_RANGE = (1, 120)
DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class ReminderSettings:
    """The practice's reminder settings; `off` are the kinds turned off for everyone."""

    off: frozenset[str] = frozenset()
    stopwatch_limit_minutes: int = 60
    nudge_after_minutes: int = 10
    workday_start_minute: int = 480  # local minutes after midnight: 08:00
    workday_end_minute: int = 1020  # 17:00


@dataclass(frozen=True)
class RunningStopwatch:
    entry_id: int
    mrn: str
    patient: str  # "First Last"
    elapsed_seconds: int


@dataclass(frozen=True)
class DueCallback:
    callback_id: int
    mrn: str
    patient: str
    due_at: dt.datetime  # UTC
    note: str = ""


@dataclass(frozen=True)
class MonthToClose:
    month: str  # YYYY-MM, the month before the current one, not closed yet
    unsigned: int  # its billable patient-months not signed yet


@dataclass(frozen=True)
class Facts:
    """What the service read for one person; a fact it did not read is left at its default,
    so nothing is raised from it."""

    falling_behind: int = 0  # own patients short of their next threshold
    days_left: int = 0  # in the month, today included
    running: RunningStopwatch | None = None
    active_minutes: int = 0  # of input without a long pause, ccmdesk in front
    in_front: bool = False
    last_nudge: dt.datetime | None = None  # the person's latest "timing a call?"
    callbacks: tuple[DueCallback, ...] = ()
    ready_to_sign: int = 0  # patient-months of `ready_month` ready to sign
    ready_month: str = ""
    month_close: MonthToClose | None = None


@dataclass(frozen=True)
class Reminder:
    kind: str
    key: str  # the occasion: one stored reminder per person and key
    title: str
    body: str
    target: str  # what a click opens


def off_kinds(text: str) -> frozenset[str]:
    """The known kinds in a space-separated `reminders_off` text."""
    return frozenset(word for word in text.split() if word in REMINDER_KINDS)


def off_text(kinds: frozenset[str] | set[str]) -> str:
    """The `reminders_off` text for these kinds, in the catalogue's order."""
    return " ".join(kind for kind in REMINDER_KINDS if kind in kinds)


def settings_errors(settings: ReminderSettings) -> list[FieldError]:
    """What is wrong with the practice's reminder settings, field by field."""
    errors = [FieldError("reminders_off", f"'{k}' is not a reminder") for k in sorted(
        settings.off - set(REMINDER_KINDS)
    )]  # fmt: skip
    for field, value, (low, high) in (
        ("stopwatch_limit_minutes", settings.stopwatch_limit_minutes, LIMIT_RANGE),
        ("nudge_after_minutes", settings.nudge_after_minutes, NUDGE_RANGE),
    ):
        if not low <= value <= high:
            errors.append(FieldError(field, f"must be {low} to {high} minutes"))
    start, end = settings.workday_start_minute, settings.workday_end_minute
    if not 0 <= start < DAY_MINUTES or not 0 < end <= DAY_MINUTES:
        errors.append(FieldError("workday_start_minute", "must be a time of day"))
    elif end <= start:
        errors.append(FieldError("workday_end_minute", "must be after the working day's start"))
    return errors


def day_key(kind: str, now: dt.datetime, zone: dt.tzinfo) -> str:
    """The key of a once-a-day reminder: its kind and the local day."""
    return f"{kind}:{now.astimezone(zone).date().isoformat()}"


def _minute_of_day(now: dt.datetime, zone: dt.tzinfo) -> int:
    local = now.astimezone(zone)
    return local.hour * 60 + local.minute


def day_started(now: dt.datetime, zone: dt.tzinfo, settings: ReminderSettings) -> bool:
    """Whether the working day has begun: the morning reminders wait for it."""
    return _minute_of_day(now, zone) >= settings.workday_start_minute


def in_workday(now: dt.datetime, zone: dt.tzinfo, settings: ReminderSettings) -> bool:
    minute = _minute_of_day(now, zone)
    return settings.workday_start_minute <= minute < settings.workday_end_minute


def in_close_window(now: dt.datetime, zone: dt.tzinfo) -> bool:
    """The first days of a month, when the month before is to be closed."""
    return now.astimezone(zone).day <= MONTH_CLOSE_LAST_DAY


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _duration(seconds: int) -> str:
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def due(
    now: dt.datetime,
    zone: dt.tzinfo,
    settings: ReminderSettings,
    off_for_person: frozenset[str],
    facts: Facts,
) -> list[Reminder]:
    """Every reminder due now (docs/reminders.md), whether or not it was raised before: the
    caller keeps the ones whose key is new. A kind off for the practice or the person raises
    nothing."""
    off = settings.off | off_for_person
    found: list[Reminder] = []
    started = day_started(now, zone, settings)
    if "falling_behind" not in off and started and facts.falling_behind > 0:
        n, days = facts.falling_behind, facts.days_left
        found.append(
            Reminder(
                "falling_behind",
                day_key("falling_behind", now, zone),
                f"{_plural(n, 'patient', 'patients')} falling behind",
                f"{n} of your patients need minutes to reach their next threshold with "
                f"{_plural(days, 'day', 'days')} left.",
                "worklist:falling_behind",
            )
        )
    running = facts.running
    limit = settings.stopwatch_limit_minutes
    if "long_stopwatch" not in off and running and running.elapsed_seconds > limit * 60:
        found.append(
            Reminder(
                "long_stopwatch",
                f"long_stopwatch:{running.entry_id}",
                f"Stopwatch running for {_duration(running.elapsed_seconds)}",
                f"The stopwatch for {running.patient} has run longer than {limit} minutes. "
                "Stop and save it if the work is done, or correct its time.",
                f"patient:{running.mrn}",
            )
        )
    recently = facts.last_nudge is not None and now - facts.last_nudge < dt.timedelta(
        minutes=NUDGE_EVERY_MINUTES
    )
    if (
        "no_stopwatch" not in off
        and running is None
        and facts.in_front
        and facts.active_minutes >= settings.nudge_after_minutes
        and in_workday(now, zone, settings)
        and not recently
    ):
        local = now.astimezone(zone)
        found.append(
            Reminder(
                "no_stopwatch",
                f"no_stopwatch:{local.strftime('%Y-%m-%dT%H:%M')}",
                "Timing a call?",
                f"You have been working in ccmdesk for {facts.active_minutes} minutes with no "
                "stopwatch running. Start one for the patient so the minutes count.",
                "patients",
            )
        )
    if "callbacks_due" not in off:
        for callback in facts.callbacks:
            if callback.due_at > now:
                continue
            when = date_time_text(callback.due_at.astimezone(zone))
            note = f" {callback.note}" if callback.note else ""
            found.append(
                Reminder(
                    "callbacks_due",
                    f"callbacks_due:{callback.callback_id}",
                    f"Callback due: {callback.patient}",
                    f"Call {callback.patient} back (due {when}).{note}",
                    f"patient:{callback.mrn}",
                )
            )
    if "ready_to_sign" not in off and started and facts.ready_to_sign > 0:
        n = facts.ready_to_sign
        found.append(
            Reminder(
                "ready_to_sign",
                day_key("ready_to_sign", now, zone),
                f"{_plural(n, 'month', 'months')} ready to sign",
                f"{_plural(n, 'patient-month', 'patient-months')} of "
                f"{month_label(facts.ready_month)} {'is' if n == 1 else 'are'} ready for your "
                "signature.",
                "review",
            )
        )
    closing = facts.month_close
    if "month_close" not in off and started and closing and in_close_window(now, zone):
        left = MONTH_CLOSE_LAST_DAY - now.astimezone(zone).day + 1
        name = month_label(closing.month)
        months = _plural(
            closing.unsigned, "billable patient-month is", "billable patient-months are"
        )
        unsigned = (
            f" {months} still unsigned."
            if closing.unsigned
            else " Every billable patient-month in it is signed."
        )
        found.append(
            Reminder(
                "month_close",
                day_key("month_close", now, zone),
                f"{_plural(left, 'day', 'days')} left to close {name}",
                f"{name} is not closed yet; close it by the {MONTH_CLOSE_LAST_DAY}th.{unsigned}",
                "billing",
            )
        )
    return found
