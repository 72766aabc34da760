"""Claim edits and diagnosis pointers, and that neither changes what a month bills."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ccmdesk.reports import x12
from ccmdesk.rules.billing import Month, MonthFacts, evaluate
from ccmdesk.rules.catalog import DEFAULT_FEES, REASONS, Kind
from ccmdesk.rules.claims import (
    US_STATES,
    PatientClaimFacts,
    PostalAddress,
    PracticeClaimSettings,
    claim_diagnoses,
    claim_edits,
    claim_lines,
    claim_ready,
    diagnosis_order,
    pointer_letters,
    pointer_numbers,
    signature_on_file,
)
from ccmdesk.rules.icd10 import behavioural_health
from tests.helpers import x12 as files
from tests.helpers.rules import MARCH, entry
from tests.helpers.rules import patient as billing_patient
from tests.helpers.scenario_cases import CASES, MONTH, NY, Case, assert_case, w

CLAIM_EDITS = (
    "CLAIM_NO_ADDRESS",
    "CLAIM_NO_DIAGNOSIS",
    "CLAIM_NO_EDI_PAYER_ID",
    "CLAIM_NO_MEMBER_ID",
    "CLAIM_NO_PAYER",
    "CLAIM_NO_SEX",
    "CLAIM_NO_SIGNATURE_ON_FILE",
    "CLAIM_NO_SUBMITTER",
    "CLAIM_PRACTICE_ADDRESS",
)
PRACTICE_EDIT = "CLAIM_PRACTICE_ADDRESS"
READY_PATIENT = PatientClaimFacts(
    payer_id="mcr-b",
    payer_kind="medicare",
    edi_payer_id="12345",
    member_id="1EG4TE5MK73",
    sex="F",
    diagnoses=("E11.9", "I10"),
    address=PostalAddress("5 Oak Ave", "Springfield", "IL", "62702"),
)
READY_PRACTICE = PracticeClaimSettings(
    address=PostalAddress("12 Main St", "Springfield", "IL", "62701-1234"),
    submitter_name="Springfield Clinic",
    submitter_id="SUB123",
    submitter_phone="(217) 555-0100",
    receiver_name="Clearing Co",
    receiver_id="REC456",
)


def patient(**changes: object) -> PatientClaimFacts:
    return dataclasses.replace(READY_PATIENT, **changes)  # type: ignore[arg-type]


def practice(**changes: object) -> PracticeClaimSettings:
    return dataclasses.replace(READY_PRACTICE, **changes)  # type: ignore[arg-type]


def address(**changes: str) -> PostalAddress:
    return dataclasses.replace(READY_PATIENT.address, **changes)


# --- the edits ----------------------------------------------------------------------------


def test_a_complete_patient_and_practice_are_claim_ready() -> None:
    edits = claim_edits(READY_PATIENT, READY_PRACTICE)
    assert edits == ()
    assert claim_ready(edits)


def test_an_empty_record_fails_every_edit_but_the_payers_own_sorted() -> None:
    edits = claim_edits(PatientClaimFacts(), PracticeClaimSettings(collects_signature=False))
    # With no payer there is no EDI id to judge: the biller records the payer first.
    assert edits == tuple(code for code in CLAIM_EDITS if code != "CLAIM_NO_EDI_PAYER_ID")
    assert not claim_ready(edits)


@pytest.mark.parametrize(
    ("patient_changes", "practice_changes", "edit"),
    [
        ({"payer_id": ""}, {}, "CLAIM_NO_PAYER"),
        ({"payer_id": "  "}, {}, "CLAIM_NO_PAYER"),
        ({"edi_payer_id": ""}, {}, "CLAIM_NO_EDI_PAYER_ID"),
        ({"edi_payer_id": " "}, {}, "CLAIM_NO_EDI_PAYER_ID"),
        # A self-pay payer is the patient: no claim file, whatever id it was given.
        ({"payer_kind": "self", "member_id": "SELF"}, {}, "CLAIM_NO_EDI_PAYER_ID"),
        ({"member_id": ""}, {}, "CLAIM_NO_MEMBER_ID"),
        ({"member_id": "123456789A"}, {}, "CLAIM_NO_MEMBER_ID"),  # an old HICN, not an MBI
        ({"sex": ""}, {}, "CLAIM_NO_SEX"),
        ({"sex": "X"}, {}, "CLAIM_NO_SEX"),
        ({"sex": "U"}, {}, "CLAIM_NO_SEX"),
        ({"diagnoses": ()}, {}, "CLAIM_NO_DIAGNOSIS"),
        ({"diagnoses": (" ",)}, {}, "CLAIM_NO_DIAGNOSIS"),
        ({"signature_on_file": False}, {}, "CLAIM_NO_SIGNATURE_ON_FILE"),
        ({}, {"collects_signature": False}, "CLAIM_NO_SIGNATURE_ON_FILE"),
        ({"address": address(street="")}, {}, "CLAIM_NO_ADDRESS"),
        ({"address": address(city=" ")}, {}, "CLAIM_NO_ADDRESS"),
        ({"address": address(state="")}, {}, "CLAIM_NO_ADDRESS"),
        ({"address": address(state="QQ")}, {}, "CLAIM_NO_ADDRESS"),  # pyx12 refuses it
        ({"address": address(state="ON")}, {}, "CLAIM_NO_ADDRESS"),  # not a US state
        ({"address": address(zip="")}, {}, "CLAIM_NO_ADDRESS"),
        ({}, {"address": PostalAddress("1 Main St", "Town", "IL", "62701")}, PRACTICE_EDIT),
        ({}, {"address": PostalAddress("", "Town", "IL", "62701-1234")}, PRACTICE_EDIT),
        ({}, {"address": PostalAddress("1 Main St", "Town", "QQ", "62701-1234")}, PRACTICE_EDIT),
        ({}, {"address": PostalAddress()}, PRACTICE_EDIT),
        ({}, {"submitter_name": ""}, "CLAIM_NO_SUBMITTER"),
        ({}, {"submitter_id": ""}, "CLAIM_NO_SUBMITTER"),
        ({}, {"submitter_phone": " "}, "CLAIM_NO_SUBMITTER"),
        ({}, {"receiver_name": ""}, "CLAIM_NO_SUBMITTER"),
        ({}, {"receiver_id": ""}, "CLAIM_NO_SUBMITTER"),
    ],
)
def test_each_edit_fails_on_its_own_fact_alone(
    patient_changes: dict[str, object], practice_changes: dict[str, object], edit: str
) -> None:
    edits = claim_edits(patient(**patient_changes), practice(**practice_changes))
    assert edits == (edit,)
    assert not claim_ready(edits)


@pytest.mark.parametrize(
    "changes",
    [
        {"member_id": "1EG4-TE5-MK73"},  # as the card prints it
        {"sex": "m"},
        {"payer_kind": "medicare_advantage", "member_id": "H1234-5678"},  # the plan's own id
        {"payer_kind": "commercial", "member_id": "XYZ123456789"},
        {"address": address(state="pr", zip="00901")},
        {"address": address(zip="627021234")},
        {"diagnoses": ("F32.A",)},
    ],
)
def test_what_a_payer_accepts_fails_no_edit(changes: dict[str, object]) -> None:
    assert claim_edits(patient(**changes), READY_PRACTICE) == ()


@pytest.mark.parametrize(
    ("patient_says", "practice_collects", "on_file"),
    [
        (None, True, True),  # blank follows the practice, whose default is yes
        (None, False, False),
        (True, False, True),  # the patient's yes overrides the practice
        (False, True, False),  # and so does their no
        (True, True, True),
        (False, False, False),
    ],
)
def test_the_signature_on_file_is_the_patients_else_the_practices(
    patient_says: bool | None, practice_collects: bool, on_file: bool
) -> None:
    facts = patient(signature_on_file=patient_says)
    settings = practice(collects_signature=practice_collects)
    assert signature_on_file(facts, settings) is on_file
    assert ("CLAIM_NO_SIGNATURE_ON_FILE" in claim_edits(facts, settings)) is not on_file
    assert PracticeClaimSettings().collects_signature


@pytest.mark.parametrize(
    ("zip_code", "patient_ok", "practice_ok"),
    [
        ("62702", True, False),
        ("62702-1234", True, True),
        ("627021234", True, True),
        (" 62702 ", True, False),
        ("6270", False, False),
        ("627021", False, False),
        ("62702-12", False, False),
        ("62702-", False, False),
        ("6270A", False, False),
        ("62702 1234", False, False),
        ("６２７０２", False, False),  # full-width digits are no ZIP code a payer reads
        ("", False, False),
    ],
)
def test_zip_codes_of_5_or_9_digits_and_9_for_the_practice(
    zip_code: str, patient_ok: bool, practice_ok: bool
) -> None:
    where = PostalAddress("12 Main St", "Springfield", "IL", zip_code)
    edits = claim_edits(patient(address=where), practice(address=where))
    assert ("CLAIM_NO_ADDRESS" not in edits) is patient_ok
    assert ("CLAIM_PRACTICE_ADDRESS" not in edits) is practice_ok


def test_every_state_the_edit_accepts_passes_the_837p_check() -> None:
    # The edit is there so one patient's address cannot make the whole claim file fail.
    claims = tuple(
        files.claim(
            mrn=f"{n}",
            patient=files.patient(address=x12.Address("5 Oak Ave", "Town", state, "00601")),
        )
        for n, state in enumerate(sorted(US_STATES), start=1000)
    )
    assert len(claims) == 51 + 7 + 3
    x12.checked_837p(files.interchange(*claims))


def test_every_claim_edit_has_a_sentence_and_a_mend_and_is_never_a_block() -> None:
    found = {code for code, reason in REASONS.items() if reason.kind is Kind.CLAIM_EDIT}
    assert found == set(CLAIM_EDITS)
    for code in CLAIM_EDITS:
        reason = REASONS[code]
        assert reason.text.endswith(".") and reason.mend.endswith(".")
    assert str(Kind.CLAIM_EDIT) == "claim edit"


# --- diagnosis pointers -------------------------------------------------------------------


def test_a_care_management_line_points_at_the_first_two_of_two() -> None:
    assert pointer_numbers(("E11.9", "I10")) == (1, 2)
    assert pointer_letters(("E11.9", "I10")) == "AB"


def test_a_care_management_line_points_at_the_first_four_of_six() -> None:
    six = ("E11.9", "F32.A", "I10", "N18.30", "J44.9", "F41.1")
    assert pointer_numbers(six) == (1, 2, 3, 4)
    assert pointer_letters(six) == "ABCD"


def test_a_bhi_line_points_at_the_behavioural_health_diagnoses_first() -> None:
    six = ("E11.9", "I10", "F32.A", "N18.30", "F41.1", "J44.9")
    assert pointer_numbers(six, bhi=True) == (3, 5, 1, 2)
    assert pointer_letters(six, bhi=True) == "CEAB"


def test_a_bhi_line_takes_at_most_four_behavioural_health_diagnoses_in_claim_order() -> None:
    codes = ("I10", "F41.1", "F32.A", "F03.90", "F17.210", "F10.20")
    assert pointer_numbers(codes, bhi=True) == (2, 3, 4, 5)
    assert pointer_letters(codes, bhi=True) == "BCDE"


def test_a_bhi_line_with_no_behavioural_health_diagnosis_points_as_care_management() -> None:
    assert pointer_numbers(("E11.9", "I10"), bhi=True) == (1, 2)


def test_pointers_stay_among_the_twelve_diagnoses_a_claim_carries() -> None:
    codes = (*(f"E11.{n}" for n in range(12)), "F32.A")
    assert pointer_numbers(codes, bhi=True) == (1, 2, 3, 4)  # the F-code is 13th: not on it
    codes = (*(f"E11.{n}" for n in range(11)), "F32.A")
    assert pointer_numbers(codes, bhi=True) == (12, 1, 2, 3)
    assert pointer_letters(codes, bhi=True) == "LABC"
    assert pointer_numbers(()) == () and pointer_letters((), bhi=True) == ""


@pytest.mark.parametrize(
    ("code", "behavioural"),
    [("F01.50", True), ("F32.A", True), ("f41.1", True), (" F99", True), ("F10.20", True),
     ("F00", False), ("F", False), ("E11.9", False), ("G30.9", False), ("Z91.F", False)],
)  # fmt: skip
def test_behavioural_health_is_icd_10_cm_f01_to_f99(code: str, behavioural: bool) -> None:
    assert behavioural_health(code) is behavioural


def test_the_pointers_make_a_claim_the_837p_check_accepts() -> None:
    diagnoses = ("E11.9", "I10", "N18.30", "J44.9", "F32.A", "F41.1")
    ccm, bhi = pointer_numbers(diagnoses), pointer_numbers(diagnoses, bhi=True)
    lines = (
        x12.ServiceLine("99490", 1, 6613, dt.date(2026, 3, 31), ccm),
        x12.ServiceLine("99484", 1, 5745, dt.date(2026, 3, 31), bhi),
    )
    text = x12.checked_837p(files.interchange(files.claim(diagnoses=diagnoses, lines=lines)))
    pointers = [s[7] for s in files.segments(text) if s[0] == "SV1"]
    assert pointers == ["1:2:3:4", "5:6:1:2"]


# --- the claim's diagnoses and lines -----------------------------------------------------

TWENTY = [entry(w("RN", 20, 4))]  # 99490, or one unit of PCM's 99424 by the practitioner
BHI = entry(w("RN", 21, 21, hour=15, service="bhi"))  # 99484
MARCH_ATTESTED = Month.of(MONTH, NY, DEFAULT_FEES, apcm_attested=True)


def test_the_diagnoses_keep_the_patients_order_and_the_first_twelve() -> None:
    codes = tuple(f"E11.{n}" for n in range(13))
    assert diagnosis_order(codes) == codes[:12]
    assert diagnosis_order(("E11.9", "I10", "J44.9"), "J44.9") == ("J44.9", "E11.9", "I10")
    # A focus that is 13th on the list is first on the claim; the 12th then drops off.
    assert diagnosis_order(codes, "E11.12") == ("E11.12", *codes[:11])
    assert diagnosis_order(("E11.9", "I10"), "J44.9") == ("E11.9", "I10")  # not on the list


def test_a_pcm_focus_month_lists_its_focus_condition_first_and_points_at_it_first() -> None:
    facts = billing_patient(conditions=("E11.9", "I10", "J44.9"), program="pcm_focus",
                            focus_condition="J44.9")  # fmt: skip
    result = evaluate(MARCH, facts, MonthFacts(), [entry(w("RN", 31, 4))])
    assert result.billable and result.program == "pcm_focus"
    assert claim_diagnoses(result) == ("J44.9", "E11.9", "I10")
    assert [(c.line.code, c.pointers, c.letters) for c in claim_lines(result)] == [
        (line.code, (1, 2, 3), "ABC") for line in result.lines
    ]
    # The same conditions under ccm keep the file's order.
    ccm = evaluate(MARCH, billing_patient(conditions=facts.conditions), MonthFacts(), TWENTY)
    assert claim_diagnoses(ccm) == ("E11.9", "I10", "J44.9")


def test_a_bhi_month_adds_its_line_pointing_at_the_behavioural_health_diagnoses_first() -> None:
    facts = billing_patient(conditions=("E11.9", "I10", "F33.1"))
    result = evaluate(MARCH, facts, MonthFacts(), [*TWENTY, BHI])
    lines = claim_lines(result)
    assert [(c.line.code, c.pointers, c.letters) for c in lines] == [
        ("99490", (1, 2, 3), "ABC"),
        ("99484", (3, 1, 2), "CAB"),
    ]
    assert tuple(c.line for c in lines) == result.all_lines
    assert {c.service_date for c in lines} == {dt.date(2026, 3, 31)}
    # Dated by the threshold, each line takes the day its own time reached it.
    dated = evaluate(MARCH, facts, MonthFacts(), [*TWENTY, BHI], dos_rule="threshold_date")
    assert [c.service_date for c in claim_lines(dated)] == [dt.date(2026, 3, 4),
                                                            dt.date(2026, 3, 21)]  # fmt: skip


def test_a_month_whose_bhi_alone_bills_has_the_bhi_line_alone() -> None:
    facts = billing_patient(conditions=("E11.9", "F33.1"))
    result = evaluate(MARCH, facts, MonthFacts(), [entry(w("RN", 19, 4)), BHI])
    assert not result.billable and result.bills
    assert [(c.line.code, c.pointers) for c in claim_lines(result)] == [("99484", (2, 1))]
    nothing = evaluate(MARCH, facts, MonthFacts(), [entry(w("RN", 19, 4))])
    assert not nothing.bills and claim_lines(nothing) == ()


def test_an_apcm_line_is_dated_the_months_last_day_whatever_the_practice_rule() -> None:
    facts = billing_patient(program="apcm")
    result = evaluate(MARCH_ATTESTED, facts, MonthFacts(), TWENTY, dos_rule="threshold_date")
    (line,) = claim_lines(result)
    assert (line.line.code, line.service_date, line.pointers) == (
        "G0557", dt.date(2026, 3, 31), (1, 2),
    )  # fmt: skip


def test_g0506_is_a_claim_line_only_when_asked_for_dated_the_initiating_visit() -> None:
    visit = dt.date(2026, 3, 2)
    facts = billing_patient(initiating_visit_date=visit, g0506=True)
    result = evaluate(MARCH, facts, MonthFacts(), TWENTY)
    assert result.g0506 is not None
    assert [c.line.code for c in claim_lines(result)] == ["99490"]  # the 837P's lines
    *_, g0506 = claim_lines(result, g0506=True)
    assert (g0506.line.code, g0506.service_date, g0506.g0506, g0506.letters) == (
        "G0506", visit, True, "AB",
    )  # fmt: skip


# --- billing stays as it was --------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"case-{c.number}")
def test_claim_edits_never_change_what_a_worked_case_bills(case: Case) -> None:
    work = [entry(w) for w in case.work]
    facts = billing_patient(**case.patient)
    result = evaluate(MARCH, facts, MonthFacts(**case.month), work)  # type: ignore[arg-type]
    assert_case(case, result)
    # A month every claim edit fails still bills exactly as the case says.
    edits = claim_edits(PatientClaimFacts(), PracticeClaimSettings(collects_signature=False))
    assert set(edits).isdisjoint((*result.blocks, *result.warnings))
