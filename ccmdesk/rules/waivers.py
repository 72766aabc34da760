"""Hardship waivers: reading one, whether two overlap, and the months a change touches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ccmdesk.rules.intervals import month_label
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import ParseError, parse_date, parse_month, reason_error

# waivers.csv (docs/formats.md); keyed by mrn + from_month.
WAIVER_COLUMNS = ("mrn", "from_month", "to_month", "approved_by", "approved_on", "reason")
# Who may approve a waiver: billing staff or an administrator (docs/payers.md).
APPROVER_ROLES = ("billing", "admin")


@dataclass(frozen=True)
class WaiverRecord:
    """One waiver as a file or the waiver dialog gives it; the approver by staff_id."""

    mrn: str
    from_month: str  # YYYY-MM
    to_month: str | None  # None: until it is ended
    approved_by: str
    approved_on: dt.date | None
    reason: str

    def covers(self, month: str) -> bool:
        return covers(self.from_month, self.to_month, month)


def covers(first: str, last: str | None, month: str) -> bool:
    # YYYY-MM strings sort as the months do.
    return first <= month and (last is None or month <= last)


def overlaps(a: WaiverRecord, b: WaiverRecord) -> bool:
    """Whether two waivers share a month (an open end runs on for ever)."""
    return (b.to_month is None or a.from_month <= b.to_month) and (
        a.to_month is None or b.from_month <= a.to_month
    )


def span_text(record: WaiverRecord) -> str:
    """ "March 2026 to May 2026", or "from March 2026 on"."""
    if record.to_month is None:
        return f"from {month_label(record.from_month)} on"
    if record.to_month == record.from_month:
        return month_label(record.from_month)
    return f"{month_label(record.from_month)} to {month_label(record.to_month)}"


def waiver_from_text(
    raw: Mapping[str, str], today: dt.date
) -> tuple[WaiverRecord, list[FieldError]]:
    """Read a waiver from column -> text and check what it says on its own (docs/payers.md,
    "Hardship waivers"); the approver, the patient's other waivers and the signed or closed
    months are the service's to check."""
    errors: list[FieldError] = []

    def text(name: str) -> str:
        return raw.get(name, "").strip()

    def month(name: str) -> str | None:
        value = text(name)
        if not value:
            return None
        try:
            return parse_month(value)
        except ParseError as exc:
            errors.append(FieldError(name, str(exc)))
            return None

    first = month("from_month")
    if first is None and not text("from_month"):
        errors.append(FieldError("from_month", "is required"))
    last = month("to_month")
    approved_on = None
    try:
        approved_on = parse_date(text("approved_on"))
    except ParseError as exc:
        errors.append(FieldError("approved_on", str(exc)))
    else:
        if approved_on is None:
            errors.append(FieldError("approved_on", "is required: the day the waiver was approved"))
        elif approved_on > today:
            errors.append(FieldError("approved_on", "is in the future"))
    reason = text("reason")
    if not reason:
        errors.append(
            FieldError(
                "reason",
                "is required: the hardship, judged against the practice's written criteria",
            )
        )
    elif message := reason_error(reason):
        errors.append(FieldError("reason", message))
    if not text("mrn"):
        errors.append(FieldError("mrn", "is required"))
    if first is not None and last is not None and last < first:
        errors.append(
            FieldError(
                "to_month", f"{month_label(last)} is before the first month, {month_label(first)}"
            )
        )
    record = WaiverRecord(text("mrn"), first or "", last, text("approved_by"), approved_on, reason)
    return record, errors


def touched_months(
    before: WaiverRecord | None, after: WaiverRecord | None, months: Iterable[str]
) -> set[str]:
    """Which of `months` (the signed or closed ones) a change from `before` to `after` touches
    (None: no waiver). A month touched is one whose waiver the change adds or takes away; a
    change of who approved it or when touches every month either covers, since the superbill
    prints them (docs/payers.md, "Hardship waivers")."""
    approval = (
        before is not None
        and after is not None
        and (before.approved_by, before.approved_on) != (after.approved_by, after.approved_on)
    )
    touched = set()
    for month in months:
        was = before is not None and before.covers(month)
        now = after is not None and after.covers(month)
        if was != now or (approval and (was or now)):
            touched.add(month)
    return touched
