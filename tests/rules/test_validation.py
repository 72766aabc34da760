"""Field rules shared by the GUI, the services and CSV import."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest

from ccmdesk.rules.intervals import month_days, month_parts
from ccmdesk.rules.records import FieldError, PracticeRecord, StaffRecord
from ccmdesk.rules.validation import (
    CONDITIONS_LIMIT,
    NOTE_LIMIT,
    REASON_LIMIT,
    ParseError,
    dob_error,
    luhn_check_digit,
    mbi_error,
    note_error,
    npi_error,
    parse_bool,
    parse_date,
    parse_instant,
    parse_language,
    parse_month,
    patient_from_text,
    practice_from_text,
    practice_to_text,
    reason_error,
    staff_from_text,
    validate_practice,
    validate_staff,
)
from tests.helpers.common import patient_text

TODAY = dt.date(2026, 4, 15)


def fields(errors: list) -> dict[str, str]:
    return {e.field: e.message for e in errors}


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_npi_with_a_correct_check_digit_is_valid(npi: str) -> None:
    assert npi_error(npi) is None


def test_npi_check_digit_uses_the_80840_prefix() -> None:
    # 123456789 + Luhn over "80840123456789" is 3; without the prefix it would be 7.
    assert luhn_check_digit("80840123456789") == 3
    assert luhn_check_digit("123456789") == 7
    assert "check digit" in (npi_error("1234567897") or "")


@pytest.mark.parametrize(
    ("npi", "words"),
    [("123456789", "10 digits"), ("12345678901", "10 digits"), ("12345A7893", "10 digits"),
     ("3234567893", "start with 1 or 2")],
)  # fmt: skip
def test_npi_errors_say_what_is_wrong(npi: str, words: str) -> None:
    assert words in (npi_error(npi) or "")


@pytest.mark.parametrize("mbi", ["1EG4TE5MK73", "9AA0AA0AA00", "1A00A00AA00"])
def test_well_formed_mbis_pass(mbi: str) -> None:
    assert mbi_error(mbi) is None


@pytest.mark.parametrize(
    "mbi",
    ["0EG4TE5MK73", "1SG4TE5MK73", "1EG4TE5MK7", "1EGATE5MK73", "1EG4TE5M173", "1EG4TI5MK73"],
)
def test_malformed_mbis_are_refused(mbi: str) -> None:
    assert mbi_error(mbi) is not None


def test_dob_cannot_be_in_the_future_or_over_130_years_ago() -> None:
    assert "future" in (dob_error(dt.date(2026, 4, 16), TODAY) or "")
    assert dob_error(dt.date(1896, 4, 15), TODAY) is None
    assert "130 years" in (dob_error(dt.date(1896, 4, 14), TODAY) or "")
    # 29 February: the limit falls back to the 28th rather than crashing.
    assert dob_error(dt.date(1898, 2, 28), dt.date(2028, 2, 29)) is None


def test_parsers_accept_the_documented_forms_and_explain_the_rest() -> None:
    assert parse_date(" 2026-03-04 ") == dt.date(2026, 3, 4)
    assert parse_date("") is None
    with pytest.raises(ParseError, match="YYYY-MM-DD"):
        parse_date("03/04/2026")
    with pytest.raises(ParseError, match="YYYY-MM-DD"):
        parse_date("2026-02-30")
    assert parse_bool("YES") is True
    assert parse_bool("0") is False
    assert parse_bool("", default=True) is True
    with pytest.raises(ParseError, match="yes or no"):
        parse_bool("maybe")
    instant = parse_instant("2026-03-04T09:15:00-05:00")
    assert instant == dt.datetime(2026, 3, 4, 14, 15, tzinfo=dt.UTC)
    with pytest.raises(ParseError, match="UTC offset"):
        parse_instant("2026-03-04T09:15:00")
    assert parse_month("2026-03") == "2026-03"
    with pytest.raises(ParseError, match="YYYY-MM"):
        parse_month("2026-13")


# Python's \d, int() and str.isdigit take every script's digits; a month is ASCII only.
ODD_MONTHS = [
    ("２０２６-11", "digits 0-9"),  # full-width digits: once billed as November, facts ignored
    ("٢٠٢٦-11", "digits 0-9"),  # Arabic-Indic digits
    ("2026-１１", "digits 0-9"),
    ("0000-01", "2000-01 to 2099-12"),  # once a traceback in export
    ("1999-12", "2000-01 to 2099-12"),
    ("2100-01", "2000-01 to 2099-12"),
    ("9999-12", "2000-01 to 2099-12"),
    ("2026-1", "use YYYY-MM"),
    ("2026-13", "use YYYY-MM"),
    ("2026-00", "use YYYY-MM"),
    (" 2026-11", "use YYYY-MM"),
    ("2026-11 ", "use YYYY-MM"),
    ("2026-11\n", "use YYYY-MM"),
    ("202611", "use YYYY-MM"),
    ("", "use YYYY-MM"),
]


@pytest.mark.parametrize(("month", "words"), ODD_MONTHS)
def test_odd_months_are_refused_with_a_reason(month: str, words: str) -> None:
    with pytest.raises(ParseError, match=words):
        parse_month(month)


def test_months_from_2000_01_to_2099_12_are_accepted() -> None:
    for month in ("2000-01", "2026-11", "2099-12"):
        assert parse_month(month) == month


def test_month_arithmetic_refuses_months_in_other_digits() -> None:
    """The rules below the services read months too: never a full-width one as a real one."""
    assert month_parts("2026-11") == (2026, 11)
    for odd in ("２０２６-11", "2026-1", "2026-11 "):
        with pytest.raises(ValueError, match="not a YYYY-MM month"):
            month_days(odd)


@pytest.mark.parametrize(
    ("check", "value", "words"),
    [
        (npi_error, "１２３４５６７８９３", "10 digits"),  # a valid NPI in full-width digits
        (lambda text: fields(patient_from_text(patient_text(zip=text), TODAY)[1]).get("zip"),
         "０４１０１", "not a ZIP code"),
        (lambda text: fields(validate_practice(PracticeRecord(name="P", tin=text))).get("tin"),
         "１２３４５６７８９", "9 digits"),
    ],
)  # fmt: skip
def test_identifiers_take_only_ascii_digits(
    check: Callable[[str], str | None], value: str, words: str
) -> None:
    message = check(value)
    assert message is not None and words in message


def test_field_errors_quote_text_with_control_characters_escaped() -> None:
    error = FieldError("name", "'Ann\nstaff.csv:9: role: forged\x1b[31m\u202e' is wrong\t")
    assert str(error) == ("name: 'Ann\\nstaff.csv:9: role: forged\\x1b[31m\\u202e' is wrong\\t")
    assert "\n" not in str(error) and "\x1b" not in str(error)
    _, errors = staff_from_text({"staff_id": "a\x1b[2Jb", "name": "X", "role": "clinical"})
    assert fields(errors)["staff_id"].startswith("'a\\x1b[2Jb' is not a staff id")


def test_notes_reasons_and_conditions_have_limits() -> None:
    assert note_error("x" * NOTE_LIMIT) is None
    assert note_error("line one\nline two") is None
    assert (
        note_error("x" * (NOTE_LIMIT + 1))
        == f"is {NOTE_LIMIT + 1} characters long; at most {NOTE_LIMIT}"
    )
    assert reason_error("y" * REASON_LIMIT) is None
    assert (
        reason_error("y" * (REASON_LIMIT + 1))
        == f"is {REASON_LIMIT + 1} characters long; at most {REASON_LIMIT}"
    )
    assert reason_error("why\x1b[31m") == "contains control characters"
    many = ";".join(f"I{n}" for n in range(10, 11 + CONDITIONS_LIMIT))
    _, errors = patient_from_text(patient_text(conditions=many), TODAY)
    said = [e.message for e in errors if e.field == "conditions"]
    assert f"lists {CONDITIONS_LIMIT + 1} conditions; at most {CONDITIONS_LIMIT}" in said
    # The codes past the limit are not each judged too: one message, not thousands.
    assert len(said) <= CONDITIONS_LIMIT + 1


def test_names_longer_than_their_limit_are_refused() -> None:
    _, errors = patient_from_text(patient_text(last_name="R" * 101), TODAY)
    assert fields(errors)["last_name"] == "is 101 characters long; at most 100"
    _, errors = staff_from_text({"staff_id": "a", "name": "N" * 201, "role": "clinical"})
    assert fields(errors)["name"] == "is 201 characters long; at most 200"


def test_a_valid_patient_row_has_no_errors_and_normalizes_codes() -> None:
    record, errors = patient_from_text(patient_text(conditions="e119; I10"), TODAY)
    assert errors == []
    assert record.conditions == ("E11.9", "I10")
    assert record.member_id == "1EG4TE5MK73"  # dashes are print formatting, not the identifier


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"mrn": ""}, "mrn", "required"),
        ({"last_name": " "}, "last_name", "required"),
        ({"dob": ""}, "dob", "required"),
        ({"dob": "2030-01-01"}, "dob", "future"),
        ({"dob": "1890-01-01"}, "dob", "130 years"),
        ({"dob": "1/2/1950"}, "dob", "YYYY-MM-DD"),
        ({"sex": "Q"}, "sex", "F, M, X, U"),
        ({"state": "Maine"}, "state", "two-letter"),
        ({"zip": "4101"}, "zip", "ZIP"),
        ({"payer_type": "medicare part b"}, "payer_type", "payer type"),
        ({"member_id": "12345"}, "member_id", "11 characters"),
        ({"qmb": "perhaps"}, "qmb", "yes or no"),
        ({"billing_practitioner": ""}, "billing_practitioner", "required"),
        ({"conditions": "E11.9;ZZZ.9"}, "conditions", "not an ICD-10-CM code"),
        ({"conditions": "E11"}, "conditions", "category"),
        ({"conditions": "I10;I10"}, "conditions", "twice"),
        ({"consent_method": ""}, "consent_method", "required when consent_date"),
        (
            {"consent_date": "", "consent_method": "verbal"},
            "consent_method",
            "consent_date is empty",
        ),
        ({"consent_method": "email"}, "consent_method", "verbal or written"),
        ({"consent_revoked_date": "2025-01-01"}, "consent_revoked_date", "before consent_date"),
        ({"care_plan_date": "2026-05-01"}, "care_plan_date", "future"),
        ({"initiating_visit_date": "2026-05-01"}, "initiating_visit_date", "future"),
    ],
)
def test_each_patient_rule_names_its_field(overrides: dict, field: str, words: str) -> None:
    _, errors = patient_from_text(patient_text(**overrides), TODAY)
    assert field in fields(errors), errors
    assert words in fields(errors)[field]


def test_a_non_medicare_member_id_is_not_held_to_the_mbi_format() -> None:
    _, errors = patient_from_text(patient_text(payer_type="commercial", member_id="ABC123"), TODAY)
    assert errors == []


def test_staff_rules() -> None:
    assert validate_staff(StaffRecord("rn-lee", "Grace Lee", "clinical")) == []
    errors = fields(validate_staff(StaffRecord("dr a", "", "doctor")))
    assert set(errors) == {"staff_id", "name", "role"}
    assert "NPI" not in errors.get("npi", "")
    assert (
        "required for a practitioner"
        in fields(validate_staff(StaffRecord("dr-a", "Dr A", "practitioner")))["npi"]
    )
    record, errs = staff_from_text({"staff_id": "x", "name": "X", "role": "Admin", "npi": ""})
    assert record.role == "admin" and errs == []


def test_practice_rules() -> None:
    good = PracticeRecord(name="P", group_npi="1245319599", tin="123456789")
    assert validate_practice(good) == []
    bad = dataclasses.replace(good, name="", group_npi="1245319598", tin="12345", timezone="Mars/Base",
                              place_of_service="1")  # fmt: skip
    assert set(fields(validate_practice(bad))) == {"name", "group_npi", "tin", "timezone", "pos"}
    record, errors = practice_from_text({"name": "P", "tin": "12-3456789", "timezone": "UTC"})
    assert record.tin == "123456789" and record.place_of_service == "11" and errors == []


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "en"), ("  ", "en"), ("en", "en"), ("ES", "es"), ("English", "en"),
     ("spanish", "es"), ("Español", "es"), ("ESPANOL", "es")],
)  # fmt: skip
def test_a_preferred_language_is_read_by_code_or_name(text: str, code: str) -> None:
    """docs/formats.md, patients.csv preferred_language: blank is English."""
    assert parse_language(text) == code
    record, errors = patient_from_text(patient_text(preferred_language=text), TODAY)
    assert (record.preferred_language, errors) == (code, [])


def test_a_language_ccmdesk_does_not_print_is_refused_by_name() -> None:
    record, errors = patient_from_text(patient_text(preferred_language="Français"), TODAY)
    assert record.preferred_language == "français"
    assert fields(errors) == {
        "preferred_language": "'français' is not a language ccmdesk prints; use en or es "
        "(English or Spanish), or leave it blank for English"
    }
    record, errors = patient_from_text(patient_text(), TODAY)  # a file without the column
    assert (record.preferred_language, errors) == ("en", [])


def test_the_after_hours_phone_is_read_and_held_to_the_phone_limit() -> None:
    record, errors = practice_from_text({"name": "P", "after_hours_phone": " 207-555-0199 ",
                                         "timezone": "UTC"})  # fmt: skip
    assert (record.after_hours_phone, errors) == ("207-555-0199", [])
    assert practice_to_text(record)["after_hours_phone"] == "207-555-0199"
    long = dataclasses.replace(record, after_hours_phone="5" * 41)
    assert fields(validate_practice(long)) == {
        "after_hours_phone": "is 41 characters long; at most 40"
    }
    broken = dataclasses.replace(record, after_hours_phone="207\n555")
    assert "line breaks" in fields(validate_practice(broken))["after_hours_phone"]


# --- the practice's claim settings (docs/payers.md) -------------------------------------------

CLAIMS = PracticeRecord(
    name="P", street="12 Harbor Rd", city="Portland", state="ME", zip="04101-1234",
    taxonomy="207Q00000X", submitter_id="HARBOR01", submitter_name="Harbor Clinic",
    submitter_phone="2075550100", receiver_id="CLEARCO", receiver_name="Clear Co",
)  # fmt: skip


def test_claim_settings_that_a_claim_file_can_carry_are_accepted() -> None:
    assert validate_practice(CLAIMS) == []
    assert validate_practice(PracticeRecord(name="P")) == []  # each may wait, blank
    nine = dataclasses.replace(CLAIMS, zip="04101", tin_kind="ssn", usage="P", isa_id="X" * 15,
                               isa_qualifier="01", submitter_id="S" * 80)  # fmt: skip
    assert validate_practice(nine) == []


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [({"state": "XX"}, "state", "'XX' is not a US state code"),
     ({"state": "Maine"}, "state", "not a US state code"),
     ({"zip": "0410"}, "zip", "'0410' is not a ZIP code (12345 or 12345-6789)"),
     ({"zip": "04101-12"}, "zip", "not a ZIP code"),
     ({"zip": "０４１０１"}, "zip", "not a ZIP code"),
     ({"taxonomy": "207Q00000"}, "taxonomy", "10 characters ending in X, e.g. 207Q00000X"),
     ({"taxonomy": "207Q00000Y"}, "taxonomy", "not a provider taxonomy code"),
     ({"taxonomy": "20AQ00000X"}, "taxonomy", "not a provider taxonomy code"),
     ({"tin_kind": "itin"}, "tin_kind", "'itin' is not ein or ssn"),
     ({"tin": "12345"}, "tin", "must be 9 digits"),
     ({"group_npi": "1245319598"}, "group_npi", "check digit does not match"),
     ({"submitter_phone": "555-0100"}, "submitter_phone", "10 digits, e.g. 207-555-0100"),
     ({"submitter_id": "AB*CD"}, "submitter_id", "only letters, digits, spaces"),
     ({"receiver_id": "R~1"}, "receiver_id", "only letters, digits, spaces"),
     ({"receiver_id": "R" * 81}, "receiver_id", "at most 80"),
     ({"submitter_name": "N" * 61}, "submitter_name", "at most 60"),
     ({"receiver_name": "N\nM"}, "receiver_name", "line breaks"),
     ({"street": "S" * 201}, "street", "at most 200"),
     ({"city": "C" * 101}, "city", "at most 100"),
     ({"isa_qualifier": "AB"}, "isa_qualifier", "use one of 01, 14, 20, 27, 28, 29, 30, 33, ZZ"),
     ({"isa_id": "X" * 16}, "isa_id", "at most 15"),
     ({"submitter_id": "S" * 16}, "isa_id", "required when the submitter id is longer than 15"),
     ({"usage": "X"}, "usage", "'X' is not T (test) or P (production)")],
)  # fmt: skip
def test_each_bad_claim_setting_is_named_with_a_sentence(
    change: dict[str, str], field: str, words: str
) -> None:
    errors = fields(validate_practice(dataclasses.replace(CLAIMS, **change)))
    assert list(errors) == [field]
    assert words in errors[field]


def test_claim_settings_read_from_text_are_normalized_and_round_trip() -> None:
    from ccmdesk.rules.validation import practice_to_text

    raw = {"name": "P", "timezone": "UTC", "street": " 12 Harbor Rd ", "state": "me",
           "zip": "04101-1234", "tin_kind": "SSN", "accept_assignment": "no",
           "taxonomy": "207q00000x", "collects_signature": "No",
           "submitter_phone": "(207) 555-0100", "isa_qualifier": "zz", "usage": "p"}  # fmt: skip
    record, errors = practice_from_text(raw)
    assert errors == []
    assert (record.street, record.state, record.tin_kind, record.taxonomy, record.usage) == (
        "12 Harbor Rd",
        "ME",
        "ssn",
        "207Q00000X",
        "P",
    )
    assert record.accept_assignment is False and record.collects_signature is False
    assert record.submitter_phone == "2075550100" and record.isa_qualifier == "ZZ"
    assert practice_from_text(practice_to_text(record)) == (record, [])
    assert practice_from_text(practice_to_text(CLAIMS)) == (CLAIMS, [])
    # Not given: the defaults (EIN, assignment accepted, signature collected, ZZ, test files).
    default, _ = practice_from_text({"name": "P", "timezone": "UTC"})
    assert default == PracticeRecord(name="P", timezone="UTC")
    _, errors = practice_from_text({"name": "P", "timezone": "UTC", "accept_assignment": "maybe"})
    assert fields(errors) == {"accept_assignment": "'maybe' is not yes or no"}
