"""Call attempts and callbacks: what an attempt must say, which outcomes close a callback."""

from __future__ import annotations

import datetime as dt

from ccmdesk.rules.catalog import CALL_OUTCOMES, PREFERRED_CALL_TIMES
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import note_error, text_error
from ccmdesk.rules.week import local_midnight

PHONE_LIMIT = 40  # as the patient's own phone columns
# An attempt made from a callback closes it unless its outcome asks for another try: nobody
# answered, or the number was wrong (another of the patient's numbers may reach them). A
# patient reached, or one who declined, needs no second call (docs/calls.md).
CLOSING_OUTCOMES = frozenset({"reached", "declined"})
OUTCOME_LABELS = {outcome: outcome.capitalize() for outcome in CALL_OUTCOMES}


def closes_callback(outcome: str) -> bool:
    """Whether an attempt with this outcome, answering a callback, marks it done."""
    return outcome in CLOSING_OUTCOMES


def attempt_errors(
    outcome: str, phone: str, note: str, at: dt.datetime, now: dt.datetime
) -> list[FieldError]:
    """Everything wrong with an attempt as given; `now` is the clock's instant."""
    errors: list[FieldError] = []
    if outcome not in CALL_OUTCOMES:
        errors.append(
            FieldError("outcome", f"'{outcome}' is not an outcome; use one of "
                       f"{', '.join(CALL_OUTCOMES)}")
        )  # fmt: skip
    if message := text_error(phone.strip(), PHONE_LIMIT):
        errors.append(FieldError("phone", message))
    if message := note_error(note):
        errors.append(FieldError("note", message))
    if at > now:
        errors.append(FieldError("at", "is in the future: log a call once it is made"))
    return errors


def callback_errors(due_at: dt.datetime, note: str, now: dt.datetime) -> list[FieldError]:
    """Everything wrong with a callback as given: it must be due after `now`."""
    errors: list[FieldError] = []
    if due_at <= now:
        errors.append(
            FieldError("due_at", "is in the past: choose a time to call back that is still ahead")
        )
    if message := note_error(note):
        errors.append(FieldError("note", message))
    return errors


def due_today(due: dt.datetime | None, now: dt.datetime, zone: dt.tzinfo) -> bool:
    """A callback due before the practice's today ends, overdue ones included: the worklist
    puts these first, and a call logged today answers the first of them."""
    tomorrow = now.astimezone(zone).date() + dt.timedelta(days=1)
    return due is not None and due < local_midnight(tomorrow, zone)


def call_time_label(key: str) -> str:
    """ "Morning (8-12)" for a preferred call time's key; "" for none."""
    found = PREFERRED_CALL_TIMES.get(key)
    return found[0] if found else ""


def call_window_open(key: str, local: dt.datetime) -> bool:
    """Whether the patient's preferred window holds this local wall-clock time."""
    found = PREFERRED_CALL_TIMES.get(key)
    if found is None:
        return False
    _, first, end = found
    return first <= local.hour < end
