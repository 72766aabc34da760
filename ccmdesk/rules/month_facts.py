"""Month facts rules: complexity, other services and inpatient stays, one message each."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from ccmdesk.rules.intervals import month_days
from ccmdesk.rules.records import FieldError
from ccmdesk.rules.validation import OTHER_SERVICES_LIMIT, ParseError, parse_date

# Medical decision making attested for a month: "none" is the default (not attested).
COMPLEXITY = ("none", "moderate", "high")
# A CPT or HCPCS code: five ASCII capitals or digits (full-width ones are not codes).
_PROCEDURE_CODE = re.compile(r"[A-Z0-9]{5}")

Stay = tuple[dt.date, dt.date]  # (admitted, discharged), both days included


def complexity_error(complexity: str) -> str | None:
    """Why `complexity` is not one a month can be attested with, or None."""
    if complexity in COMPLEXITY:
        return None
    return f"'{complexity}' is not none, moderate or high"


def other_services(codes: Iterable[str]) -> tuple[str, ...]:
    """The codes as stored: capitals, without blanks or repeats, in the order given."""
    return tuple(dict.fromkeys(c for code in codes if (c := code.strip().upper())))


def other_services_errors(codes: Sequence[str]) -> list[str]:
    """What is wrong with a month's other services (already as `other_services` gives them)."""
    errors = []
    if len(codes) > OTHER_SERVICES_LIMIT:
        errors.append(f"lists {len(codes)} codes; at most {OTHER_SERVICES_LIMIT}")
    for code in codes[:OTHER_SERVICES_LIMIT]:
        if not _PROCEDURE_CODE.fullmatch(code):
            errors.append(f"'{code}' is not a CPT or HCPCS code (5 letters or digits)")
    return errors


def stay_text(stay: Stay) -> str:
    """A stay as a file writes it: YYYY-MM-DD..YYYY-MM-DD."""
    return f"{stay[0].isoformat()}..{stay[1].isoformat()}"


def parse_stay(text: str) -> Stay:
    """A stay written YYYY-MM-DD..YYYY-MM-DD; ParseError says what is wrong."""
    parts = text.split("..")
    if len(parts) != 2:
        raise ParseError(f"'{text}' is not a stay; use YYYY-MM-DD..YYYY-MM-DD")
    admitted, discharged = parse_date(parts[0]), parse_date(parts[1])
    if admitted is None or discharged is None:
        raise ParseError(f"'{text}' needs both dates: YYYY-MM-DD..YYYY-MM-DD")
    return admitted, discharged


def stay_error(stay: Stay, month: str | None) -> str | None:
    """Why a stay cannot be entered on `month` (YYYY-MM; None: not known, not judged), or None.
    A stay is entered once, on any month it has a day in."""
    admitted, discharged = stay
    if discharged < admitted:
        return f"'{stay_text(stay)}' ends before it starts"
    if month:
        first, last = month_days(month)
        if discharged < first or admitted > last:
            return f"'{stay_text(stay)}' is not in {month}"
    return None


def month_facts_errors(
    month: str, complexity: str, codes: Sequence[str], stays: Iterable[Stay]
) -> list[FieldError]:
    """Every problem of a month's facts, by field (complexity, other_services, inpatient); the
    codes as `other_services` gives them."""
    errors = []
    if message := complexity_error(complexity):
        errors.append(FieldError("complexity", message))
    errors.extend(FieldError("other_services", message) for message in other_services_errors(codes))
    for stay in stays:
        if message := stay_error(stay, month):
            errors.append(FieldError("inpatient", message))
    return errors
