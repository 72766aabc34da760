"""Field rules for practice, staff and patients: one place for the GUI, services and import.

Parsers turn the text a person typed (or a CSV cell) into values and say what is wrong in words;
validators check a whole record. Each message names no field itself: the caller pairs it with the
field (a CSV column, or the label beside a GUI input).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ccmdesk.rules import icd10
from ccmdesk.rules.care_plan import DEFAULT_LANGUAGE, LANGUAGES
from ccmdesk.rules.catalog import PAYER_KINDS, PREFERRED_CALL_TIMES, SIGNATURE_ON_FILE
from ccmdesk.rules.intervals import FIRST_MONTH, LAST_MONTH, is_month
from ccmdesk.rules.records import (
    RELATIONSHIPS,
    FieldError,
    PatientRecord,
    PracticeRecord,
    StaffRecord,
    StopwatchSettings,
)

ROLES = ("clinical", "practitioner", "non_clinical", "billing", "admin")
PAYER_TYPES = PAYER_KINDS  # the kinds a payer may be (rules/catalog.py)
SEXES = ("F", "M", "X", "U")
CONSENT_METHODS = ("verbal", "written")
DATE_OF_SERVICE_RULES = ("last_day", "threshold_date")
SERVICES = ("ccm", "pcm", "tcm", "rpm", "bhi")  # what a time entry was for
MAX_AGE_YEARS = 130

_TRUE = {"yes", "true", "1", "y"}
_FALSE = {"no", "false", "0", "n"}
_STAFF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
# MBI: positions 2, 5, 8, 9 letters; 3 and 6 letters or digits; letters exclude S L O I B Z.
_MBI_LETTER = "[AC-HJKMNP-RT-Y]"
_MBI_ALNUM = "[AC-HJKMNP-RT-Y0-9]"
_MBI = re.compile(
    rf"^[1-9]{_MBI_LETTER}{_MBI_ALNUM}[0-9]{_MBI_LETTER}{_MBI_ALNUM}[0-9]"
    rf"{_MBI_LETTER}{_MBI_LETTER}[0-9][0-9]$"
)
# Digits are [0-9] throughout, never \d: \d (like int() and str.isdigit) takes every script's
# digits, and an NPI or ZIP code in full-width digits is not one a payer would accept.
_ZIP = re.compile(r"^[0-9]{5}(-[0-9]{4})?$")
_STATE = re.compile(r"^[A-Z]{2}$")
# US states, DC, the territories and the military post offices that an 837P state element
# accepts (docs/billing-rules.md, "Claim edits"): a state outside these makes the whole claim
# file fail its check, so a patient's keeps just that month out instead, and the practice's
# own is refused when it is saved.
US_STATES = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY",
    "AS", "FM", "GU", "MH", "MP", "PR", "VI",  # territories and freely associated states
    "AA", "AE", "AP",  # military post offices
})  # fmt: skip


class ParseError(ValueError):
    """Text that cannot be read as the value a field needs."""


# --- parsers -----------------------------------------------------------------------------------


def parse_date(text: str) -> dt.date | None:
    """YYYY-MM-DD, or None for blank."""
    text = text.strip()
    if not text:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ParseError(f"'{text}' is not a date; use YYYY-MM-DD") from None


def parse_bool(text: str, default: bool = False) -> bool:
    """yes/no, true/false or 1/0 (any case); blank gives the default."""
    value = text.strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ParseError(f"'{text.strip()}' is not yes or no")


# A patient's preferred language as a file may write it: the code, or its name in English or
# in the language itself (docs/formats.md, patients.csv).
_LANGUAGE_NAMES = {"english": "en", "spanish": "es", "español": "es", "espanol": "es"}


def parse_language(text: str) -> str:
    """en or es, their names (English, Spanish, español) in any case; blank gives English.
    Anything else is kept as typed, for validate_patient to name."""
    value = text.strip().lower()
    if not value:
        return DEFAULT_LANGUAGE
    return _LANGUAGE_NAMES.get(value, value)


def parse_list(text: str) -> tuple[str, ...]:
    """A ';'-separated list; blank items are dropped."""
    return tuple(item.strip() for item in text.split(";") if item.strip())


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant that carries its UTC offset, returned in UTC."""
    value = text.strip()
    if not value:
        raise ParseError("is required")
    try:
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(
            f"'{value}' is not a date and time; use e.g. 2026-03-04T09:15:00-05:00"
        ) from None
    if instant.tzinfo is None:
        raise ParseError(f"'{value}' has no UTC offset; add one, e.g. -05:00")
    if instant.microsecond:
        # Minutes are kept in whole seconds; rounding here would change the record silently.
        raise ParseError(f"'{value}' has a fraction of a second; give whole seconds")
    try:
        return instant.astimezone(dt.UTC)
    except OverflowError:
        raise ParseError(f"'{value}' is outside the range of dates ccmdesk accepts") from None


def parse_month(text: str) -> str:
    """YYYY-MM in ASCII digits from 2000-01 to 2099-12, exactly as given (nothing stripped):
    every month a person or a file names goes through this one check."""
    if is_month(text):
        return text
    if re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text):
        raise ParseError(
            f"'{text}' is outside the months ccmdesk handles, {FIRST_MONTH} to {LAST_MONTH}"
        )
    if not text.isascii():
        raise ParseError(f"'{text}' is not a month; use YYYY-MM written with the digits 0-9")
    raise ParseError(f"'{text}' is not a month; use YYYY-MM")


def normalize_npi(text: str) -> str:
    return re.sub(r"\s", "", text)


def normalize_mbi(text: str) -> str:
    # MBIs are often printed with dashes (1EG4-TE5-MK73); they are not part of the identifier.
    return re.sub(r"[\s-]", "", text).upper()


def normalize_tin(text: str) -> str:
    return re.sub(r"[\s-]", "", text)


# --- single-field checks -------------------------------------------------------------------------


def luhn_check_digit(payload: str) -> int:
    """The Luhn digit that completes `payload` (digits only)."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:  # the rightmost payload digit sits next to the check digit: doubled
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def npi_error(npi: str) -> str | None:
    """None for a valid NPI: 10 digits whose last is the Luhn digit of 80840 + the first nine."""
    if not re.fullmatch(r"[0-9]{10}", npi):
        return f"'{npi}' is not an NPI: it must be 10 digits"
    if npi[0] not in "12":
        return f"'{npi}' is not an NPI: it must start with 1 or 2"
    if luhn_check_digit("80840" + npi[:9]) != int(npi[9]):
        return f"'{npi}' is not a valid NPI: the check digit does not match"
    return None


def mbi_error(mbi: str) -> str | None:
    """None for a well-formed Medicare Beneficiary Identifier (11 characters)."""
    if len(mbi) != 11:
        return f"'{mbi}' is not a Medicare MBI: it must be 11 characters, it has {len(mbi)}"
    if not _MBI.fullmatch(mbi):
        return (
            f"'{mbi}' is not a valid Medicare MBI (pattern 1AN9AN9AA99: digits and letters in "
            "fixed places; no S, L, O, I, B or Z)"
        )
    return None


def tin_error(tin: str) -> str | None:
    if not re.fullmatch(r"[0-9]{9}", tin):
        return f"'{tin}' is not a TIN: it must be 9 digits (e.g. 12-3456789)"
    return None


def timezone_error(name: str) -> str | None:
    if not name:
        return "is required"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"'{name}' is not a time zone; use an Area/City name such as America/New_York"
    return None


def place_of_service_error(code: str) -> str | None:
    if not re.fullmatch(r"[0-9]{2}", code) or code == "00":
        return f"'{code}' is not a place of service code: two digits, e.g. 11 (office)"
    return None


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def dob_error(dob: dt.date, today: dt.date) -> str | None:
    if dob > today:
        return f"{dob.isoformat()} is in the future"
    if dob < years_before(today, MAX_AGE_YEARS):
        return f"{dob.isoformat()} is more than {MAX_AGE_YEARS} years ago"
    return None


# --- records ---------------------------------------------------------------------------------

# Longest text each field may hold (the database columns are sized to match); docs/formats.md
# lists them all. Free text has limits too: one endless note once made an export take minutes.
PATIENT_TEXT_LIMITS = {
    "mrn": 40, "last_name": 100, "first_name": 100, "phone": 40, "mobile_phone": 40,
    "other_phone": 40, "address": 200, "city": 100, "zip": 10, "payer": 100, "member_id": 40,
}  # fmt: skip
# The coverage fields of patients.csv beyond the old columns (the editor's Coverage section).
COVERAGE_TEXT_LIMITS = {"insured_last_name": 100, "insured_first_name": 100,
                        "secondary_member_id": 40}  # fmt: skip
STAFF_TEXT_LIMITS = {"staff_id": 40, "name": 200, "credentials": 40}
PRACTICE_TEXT_LIMITS = {"name": 200, "address": 400, "phone": 40, "after_hours_phone": 40}
# The practice's claim settings, sized as their columns (and the 837P elements they fill).
PRACTICE_CLAIM_TEXT_LIMITS = {
    "street": 200, "city": 100, "zip": 10, "submitter_id": 80, "submitter_name": 60,
    "receiver_id": 80, "receiver_name": 60, "isa_id": 15,
}  # fmt: skip
TIN_KINDS = ("ein", "ssn")
USAGES = ("T", "P")  # the ISA15 usage indicator: test or production
# ISA05's interchange id qualifiers (X12 005010): DUNS, DUNS+4, HIN, the carrier, fiscal
# intermediary and Medicare/Medicaid ids, NAIC, and mutually defined.
ISA_QUALIFIERS = ("01", "14", "20", "27", "28", "29", "30", "33", "ZZ")
ISA_ID_LIMIT = 15
# A healthcare provider taxonomy code: 10 characters, the last an X (e.g. 207Q00000X).
_TAXONOMY = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")
# What the claim file keeps of an id (docs/formats.md, "Claim files"): any other character
# would be dropped on the way, and an id that changes is no longer the clearinghouse's.
_CLAIM_ID_TEXT = re.compile(r"^[A-Za-z0-9 .,'&/-]*$")
ACTIVITY_LIMIT = 100
NOTE_LIMIT = 2_000  # a time entry's note
REASON_LIMIT = 500  # why time was changed, a month unlocked or reopened, fees changed...
CONDITIONS_LIMIT = 50  # chronic conditions on one patient
OTHER_SERVICES_LIMIT = 20  # codes in a month's other_services
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_error(value: str, limit: int | None, multiline: bool = False) -> str | None:
    """Too long, or holding control characters (a NUL, or a line break in a one-line field)."""
    if limit is not None and len(value) > limit:
        return f"is {len(value)} characters long; at most {limit}"
    if (_CONTROL_EXCEPT_LINES if multiline else _CONTROL).search(value):
        kind = "control characters" if multiline else "line breaks or control characters"
        return f"contains {kind}"
    return None


def note_error(note: str) -> str | None:
    """A time entry's note: several lines allowed, at most NOTE_LIMIT characters."""
    return text_error(note.strip(), NOTE_LIMIT, multiline=True)


def reason_error(reason: str) -> str | None:
    """A reason for the audit trail: several lines allowed, at most REASON_LIMIT characters."""
    return text_error(reason.strip(), REASON_LIMIT, multiline=True)


def _text_rules(errors: list[FieldError], record: object, limits: dict[str, int]) -> None:
    for name, limit in limits.items():
        if message := text_error(getattr(record, name), limit):
            errors.append(FieldError(name, message))


def _required(errors: list[FieldError], name: str, value: str) -> None:
    if not value.strip():
        errors.append(FieldError(name, "is required"))


def validate_practice(record: PracticeRecord) -> list[FieldError]:
    errors: list[FieldError] = []
    _required(errors, "name", record.name)
    _text_rules(errors, record, PRACTICE_TEXT_LIMITS)
    if record.group_npi and (message := npi_error(record.group_npi)):
        errors.append(FieldError("group_npi", message))
    if record.tin and (message := tin_error(record.tin)):
        errors.append(FieldError("tin", message))
    if message := timezone_error(record.timezone):
        errors.append(FieldError("timezone", message))
    if message := place_of_service_error(record.place_of_service):
        errors.append(FieldError("pos", message))
    if record.date_of_service_rule not in DATE_OF_SERVICE_RULES:
        errors.append(FieldError("date_of_service_rule", "must be last_day or threshold_date"))
    return errors + _practice_claim_rules(record)


def _practice_claim_rules(record: PracticeRecord) -> list[FieldError]:
    """The practice's claim settings (docs/payers.md, "The practice's claim settings"). Each may
    be left blank: a claim edit keeps the months out of the claim file until it is filled in."""
    errors: list[FieldError] = []
    _text_rules(errors, record, PRACTICE_CLAIM_TEXT_LIMITS)
    if record.state and record.state not in US_STATES:
        errors.append(FieldError("state", f"'{record.state}' is not a US state code, e.g. ME"))
    if record.zip and not _ZIP.fullmatch(record.zip):
        errors.append(FieldError("zip", f"'{record.zip}' is not a ZIP code (12345 or 12345-6789)"))
    if record.tin_kind not in TIN_KINDS:
        errors.append(FieldError("tin_kind", f"'{record.tin_kind}' is not ein or ssn"))
    if record.taxonomy and not _TAXONOMY.fullmatch(record.taxonomy):
        errors.append(
            FieldError(
                "taxonomy",
                f"'{record.taxonomy}' is not a provider taxonomy code: 10 characters ending "
                "in X, e.g. 207Q00000X",
            )
        )
    for name in ("submitter_id", "receiver_id", "isa_id"):
        value = getattr(record, name)
        if not text_error(value, None) and not _CLAIM_ID_TEXT.fullmatch(value):
            errors.append(
                FieldError(name, f"'{value}' may hold only letters, digits, spaces and . , ' & / -")
            )
    if record.submitter_phone and not re.fullmatch(r"[0-9]{10}", record.submitter_phone):
        errors.append(
            FieldError(
                "submitter_phone",
                f"'{record.submitter_phone}' is not a phone number: 10 digits, e.g. 207-555-0100",
            )
        )
    if record.isa_qualifier not in ISA_QUALIFIERS:
        errors.append(
            FieldError(
                "isa_qualifier",
                f"'{record.isa_qualifier}' is not an interchange id qualifier; use one of "
                f"{', '.join(ISA_QUALIFIERS)}",
            )
        )
    if not record.isa_id and len(record.submitter_id) > ISA_ID_LIMIT:
        # ISA06 takes the submitter id when no ISA id is given, and it holds only 15.
        errors.append(
            FieldError(
                "isa_id",
                f"is required when the submitter id is longer than {ISA_ID_LIMIT} characters "
                "(the interchange sender id holds no more)",
            )
        )
    if record.usage not in USAGES:
        errors.append(FieldError("usage", f"'{record.usage}' is not T (test) or P (production)"))
    return errors


IDLE_MINUTES_RANGE = (1, 120)
MAX_ACTIVITIES = 40


def validate_stopwatch_settings(settings: StopwatchSettings) -> list[FieldError]:
    errors: list[FieldError] = []
    low, high = IDLE_MINUTES_RANGE
    if not low <= settings.idle_minutes <= high:
        errors.append(FieldError("idle_minutes", f"must be between {low} and {high} minutes"))
    if not settings.activities:
        errors.append(FieldError("activities", "needs at least one activity"))
    if len(settings.activities) > MAX_ACTIVITIES:
        errors.append(FieldError("activities", f"has more than {MAX_ACTIVITIES} activities"))
    seen: set[str] = set()
    for number, activity in enumerate(settings.activities, start=1):
        if not activity.strip():
            errors.append(FieldError("activities", f"line {number} is empty"))
        elif message := text_error(activity, ACTIVITY_LIMIT):
            errors.append(FieldError("activities", f"line {number} {message}"))
        elif activity.casefold() in seen:
            errors.append(FieldError("activities", f"line {number} repeats '{activity}'"))
        seen.add(activity.casefold())
    return errors


def validate_staff(record: StaffRecord) -> list[FieldError]:
    errors: list[FieldError] = []
    if not record.staff_id:
        errors.append(FieldError("staff_id", "is required"))
    elif not _STAFF_ID.fullmatch(record.staff_id):
        errors.append(
            FieldError(
                "staff_id",
                f"'{record.staff_id}' is not a staff id: letters, digits, '.', '_' or '-', "
                "at most 40",
            )
        )
    _required(errors, "name", record.name)
    _text_rules(errors, record, {k: v for k, v in STAFF_TEXT_LIMITS.items() if k != "staff_id"})
    if not record.role:
        errors.append(FieldError("role", "is required"))
    elif record.role not in ROLES:
        errors.append(
            FieldError("role", f"'{record.role}' is not a role; use one of {', '.join(ROLES)}")
        )
    if record.npi:
        if message := npi_error(record.npi):
            errors.append(FieldError("npi", message))
    elif record.role == "practitioner":
        errors.append(FieldError("npi", "is required for a practitioner"))
    return errors


def _not_future(errors: list[FieldError], name: str, value: dt.date | None, today: dt.date) -> None:
    if value is not None and value > today:
        errors.append(FieldError(name, f"{value.isoformat()} is in the future"))


def validate_patient(record: PatientRecord, today: dt.date) -> list[FieldError]:
    """Rules that need only the record itself; staff references are checked by the services."""
    errors: list[FieldError] = []
    _required(errors, "mrn", record.mrn)
    _text_rules(errors, record, PATIENT_TEXT_LIMITS | COVERAGE_TEXT_LIMITS)
    _required(errors, "last_name", record.last_name)
    _required(errors, "first_name", record.first_name)
    if record.dob is None:
        errors.append(FieldError("dob", "is required"))
    elif message := dob_error(record.dob, today):
        errors.append(FieldError("dob", message))
    if record.sex and record.sex not in SEXES:
        errors.append(FieldError("sex", f"'{record.sex}' is not one of F, M, X, U"))
    if record.state and not _STATE.fullmatch(record.state):
        errors.append(FieldError("state", f"'{record.state}' is not a two-letter state code"))
    if record.zip and not _ZIP.fullmatch(record.zip):
        errors.append(FieldError("zip", f"'{record.zip}' is not a ZIP code (12345 or 12345-6789)"))
    if record.payer_type and record.payer_type not in PAYER_TYPES:
        errors.append(
            FieldError(
                "payer_type",
                f"'{record.payer_type}' is not a payer type; use one of {', '.join(PAYER_TYPES)}",
            )
        )
    medicare_id = record.member_id if record.payer_type == "medicare" else ""
    if medicare_id and (message := mbi_error(medicare_id)):
        errors.append(FieldError("member_id", message))
    errors += _coverage_rules(record)
    _required(errors, "billing_practitioner", record.billing_practitioner)
    if len(record.conditions) > CONDITIONS_LIMIT:
        errors.append(
            FieldError(
                "conditions",
                f"lists {len(record.conditions)} conditions; at most {CONDITIONS_LIMIT}",
            )
        )
    seen: set[str] = set()
    for code in record.conditions[:CONDITIONS_LIMIT]:
        if message := icd10.check(code):
            errors.append(FieldError("conditions", message))
        elif code in seen:
            errors.append(FieldError("conditions", f"{code} is listed twice"))
        seen.add(code)
    if record.consent_date is not None:
        _not_future(errors, "consent_date", record.consent_date, today)
        if not record.consent_method:
            errors.append(FieldError("consent_method", "is required when consent_date is set"))
    elif record.consent_method:
        errors.append(FieldError("consent_method", "is set but consent_date is empty"))
    if record.consent_method and record.consent_method not in CONSENT_METHODS:
        errors.append(
            FieldError("consent_method", f"'{record.consent_method}' is not verbal or written")
        )
    if record.consent_revoked_date is not None:
        if record.consent_date is None:
            errors.append(FieldError("consent_revoked_date", "is set but consent_date is empty"))
        elif record.consent_revoked_date < record.consent_date:
            errors.append(FieldError("consent_revoked_date", "is before consent_date"))
        _not_future(errors, "consent_revoked_date", record.consent_revoked_date, today)
    _not_future(errors, "initiating_visit_date", record.initiating_visit_date, today)
    if record.initiating_visit_g0506 and record.initiating_visit_date is None:
        errors.append(
            FieldError("initiating_visit_g0506", "is set but initiating_visit_date is empty")
        )
    _not_future(errors, "last_visit_date", record.last_visit_date, today)
    _not_future(errors, "care_plan_date", record.care_plan_date, today)
    if record.preferred_call_time and record.preferred_call_time not in PREFERRED_CALL_TIMES:
        errors.append(
            FieldError(
                "preferred_call_time",
                f"'{record.preferred_call_time}' is not a time to call; use "
                f"{', '.join(PREFERRED_CALL_TIMES)} or leave it blank",
            )
        )
    if record.preferred_language not in LANGUAGES:
        errors.append(
            FieldError(
                "preferred_language",
                f"'{record.preferred_language}' is not a language ccmdesk prints; use "
                f"{' or '.join(LANGUAGES)} (English or Spanish), or leave it blank for English",
            )
        )
    return errors


def _coverage_rules(record: PatientRecord) -> list[FieldError]:
    """The coverage fields among themselves; the payers they name are the services' to check."""
    errors: list[FieldError] = []
    if record.relationship not in RELATIONSHIPS:
        errors.append(
            FieldError("relationship", f"'{record.relationship}' is not one of "
                       f"{', '.join(RELATIONSHIPS)}")
        )  # fmt: skip
    insured = ("insured_last_name", "insured_first_name")
    for name in insured:
        value = getattr(record, name)
        if record.relationship == "self" and value:
            errors.append(FieldError(name, "is only for an insured other than the patient; "
                                     "set relationship, or leave it blank"))  # fmt: skip
        elif record.relationship not in ("self", "") and not value:
            errors.append(FieldError(name, f"is required when relationship is "
                                     f"{record.relationship}"))  # fmt: skip
    if record.secondary_member_id and not record.secondary_payer:
        errors.append(FieldError("secondary_member_id", "is set but secondary_payer is empty"))
    if record.secondary_payer and record.secondary_payer == record.primary_payer:
        errors.append(FieldError("secondary_payer", "is the primary payer too"))
    if record.signature_on_file not in SIGNATURE_ON_FILE:
        errors.append(FieldError("signature_on_file", "must be yes, no or blank"))
    return errors


# --- text in, records out (the GUI's fields and CSV rows use these) ----------------------------


def _date_field(raw: Mapping[str, str], name: str, errors: list[FieldError]) -> dt.date | None:
    try:
        return parse_date(raw.get(name, ""))
    except ParseError as exc:
        errors.append(FieldError(name, str(exc)))
        return None


def _bool_field(
    raw: Mapping[str, str], name: str, errors: list[FieldError], default: bool = False
) -> bool:
    """A yes/no field (blank: `default`); a wrong one is noted and read as the default."""
    try:
        return parse_bool(raw.get(name, ""), default)
    except ParseError as exc:
        errors.append(FieldError(name, str(exc)))
        return default


def patient_from_text(
    raw: Mapping[str, str], today: dt.date
) -> tuple[PatientRecord, list[FieldError]]:
    """Read a patient from column → text and check it; the record keeps whatever could be read."""
    errors: list[FieldError] = []

    def text(name: str) -> str:
        return raw.get(name, "").strip()

    payer_type = text("payer_type").lower()
    primary_payer = text("primary_payer").lower()
    # A patients.csv names the primary payer one way or the other (its header is checked); a
    # record turned into text has both, and then primary_payer is the one that counts.
    member_id = text("primary_member_id") or text("member_id")
    if payer_type == "medicare":
        member_id = normalize_mbi(member_id)
    signature = text("signature_on_file").lower()
    if signature:
        try:
            signature = "yes" if parse_bool(signature) else "no"
        except ParseError as exc:
            errors.append(FieldError("signature_on_file", str(exc)))
            signature = ""
    record = PatientRecord(
        mrn=text("mrn"),
        last_name=text("last_name"),
        first_name=text("first_name"),
        dob=_date_field(raw, "dob", errors),
        sex=text("sex").upper(),
        phone=text("phone"),
        address=text("address"),
        city=text("city"),
        state=text("state").upper(),
        zip=text("zip"),
        payer=text("payer"),
        payer_type=payer_type,
        member_id=member_id,
        qmb=_bool_field(raw, "qmb", errors),
        billing_practitioner=text("billing_practitioner"),
        care_manager=text("care_manager"),
        conditions=tuple(icd10.normalize(code) for code in parse_list(raw.get("conditions", ""))),
        consent_date=_date_field(raw, "consent_date", errors),
        consent_method=text("consent_method").lower(),
        consent_practitioner=text("consent_practitioner"),
        consent_revoked_date=_date_field(raw, "consent_revoked_date", errors),
        initiating_visit_date=_date_field(raw, "initiating_visit_date", errors),
        care_plan_date=_date_field(raw, "care_plan_date", errors),
        primary_payer=primary_payer,
        relationship=text("relationship").lower() or "self",
        insured_last_name=text("insured_last_name"),
        insured_first_name=text("insured_first_name"),
        secondary_payer=text("secondary_payer").lower(),
        secondary_member_id=text("secondary_member_id"),
        signature_on_file=signature,
        cannot_pay=_bool_field(raw, "cannot_pay", errors),
        last_visit_date=_date_field(raw, "last_visit_date", errors),
        initiating_visit_g0506=_bool_field(raw, "initiating_visit_g0506", errors),
        mobile_phone=text("mobile_phone"),
        other_phone=text("other_phone"),
        preferred_call_time=text("preferred_call_time").lower(),
        preferred_language=parse_language(raw.get("preferred_language", "")),
    )
    if record.consent_date is not None and not record.consent_practitioner:
        # Consent is given for a practitioner; by default the one billing at the time, and it
        # stays with that person if the billing practitioner later changes (new consent needed).
        record = dataclasses.replace(record, consent_practitioner=record.billing_practitioner)
    unreadable = {error.field for error in errors}
    errors.extend(
        e
        for e in validate_patient(record, today)
        # A field that could not be read was reported already; so were rules that lean on it.
        if e.field not in unreadable and not any(f in e.message for f in unreadable)
    )
    return record, errors


def staff_from_text(raw: Mapping[str, str]) -> tuple[StaffRecord, list[FieldError]]:
    record = StaffRecord(
        staff_id=raw.get("staff_id", "").strip(),
        name=raw.get("name", "").strip(),
        role=raw.get("role", "").strip().lower(),
        credentials=raw.get("credentials", "").strip(),
        npi=normalize_npi(raw.get("npi", "")),
    )
    return record, validate_staff(record)


def normalize_phone(text: str) -> str:
    """The digits of a phone number typed with the usual marks: (207) 555-0100, 207.555.0100."""
    return re.sub(r"[\s().+-]", "", text)


def practice_from_text(raw: Mapping[str, str]) -> tuple[PracticeRecord, list[FieldError]]:
    """Read the practice from field → text (the settings page, the command line) and check it;
    a field not given takes its default."""
    errors: list[FieldError] = []

    def text(name: str) -> str:
        return raw.get(name, "").strip()

    record = PracticeRecord(
        name=text("name"),
        address=text("address"),
        phone=text("phone"),
        after_hours_phone=text("after_hours_phone"),
        group_npi=normalize_npi(raw.get("group_npi", "")),
        tin=normalize_tin(raw.get("tin", "")),
        timezone=text("timezone"),
        place_of_service=text("pos") or "11",
        date_of_service_rule=text("date_of_service_rule") or "last_day",
        street=text("street"),
        city=text("city"),
        state=text("state").upper(),
        zip=text("zip"),
        tin_kind=text("tin_kind").lower() or "ein",
        accept_assignment=_bool_field(raw, "accept_assignment", errors, default=True),
        taxonomy=text("taxonomy").upper(),
        collects_signature=_bool_field(raw, "collects_signature", errors, default=True),
        submitter_id=text("submitter_id"),
        submitter_name=text("submitter_name"),
        submitter_phone=normalize_phone(text("submitter_phone")),
        receiver_id=text("receiver_id"),
        receiver_name=text("receiver_name"),
        isa_qualifier=text("isa_qualifier").upper() or "ZZ",
        isa_id=text("isa_id"),
        usage=text("usage").upper() or "T",
    )
    return record, errors + validate_practice(record)


def practice_to_text(record: PracticeRecord) -> dict[str, str]:
    """The practice as the text practice_from_text reads back to the same record."""
    raw = {
        field.name: value if isinstance(value, str) else ("yes" if value else "no")
        for field in dataclasses.fields(record)
        if isinstance(value := getattr(record, field.name), str | bool)
    }
    raw["pos"] = raw.pop("place_of_service")
    return raw
