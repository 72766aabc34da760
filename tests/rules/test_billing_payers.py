"""The rules payers add, and the patient-share estimate, on the worked cases and around them."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccmdesk.rules.billing import (
    Coverage,
    Month,
    MonthFacts,
    MonthResult,
    PatientFacts,
    Segment,
    Waiver,
    cost_share,
    deductible_text,
    estimate_text,
    evaluate,
)
from ccmdesk.rules.catalog import REASONS, Kind
from tests.helpers.rules import MARCH, entry, patient
from tests.helpers.scenario_cases import CASES, MONTH, NY, Case, assert_case

PAYER_REASONS = (
    "PAYER_DOES_NOT_COVER",
    "PAYER_NEEDS_MORE_DIAGNOSES",
    "COVERAGE_UNKNOWN",
    "COINSURANCE_WAIVED",
)
MEDICARE = Coverage("mcr-b", "Medicare Part B", "medicare", ("ccm", "pcm", "apcm", "bhi"))
HORIZON = Coverage("horizon", "Horizon BCBSNJ", "commercial", ("pcm",), 30)
EMBLEM = Coverage("emblem", "EmblemHealth", "commercial", ("ccm", "pcm"), 20, min_diagnoses=2)
SELF_PAY = Coverage("self-pay", "Self pay", "self", ("unknown",), 100)
HARDSHIP = Waiver("2026-02", "2026-04", "Wei Chen", dt.date(2026, 2, 3))


def run(case: Case, month: Month = MARCH, **payer: object) -> MonthResult:
    return evaluate(
        month,
        patient(**(case.patient | payer)),
        MonthFacts(**case.month),  # type: ignore[arg-type]
        [entry(item) for item in case.work],
    )


def case(number: int) -> Case:
    return next(c for c in CASES if c.number == number)


def notes(result: MonthResult) -> dict[str, str]:
    return {note.code: note.text for note in result.notes}


# --- the reasons --------------------------------------------------------------------------


def test_a_payer_that_does_not_pay_for_ccm_blocks_a_ccm_month() -> None:
    result = run(case(2), coverage=HORIZON)
    assert result.blocks == ("PAYER_DOES_NOT_COVER",) and result.status == "not_billable"
    assert result.option is not None and result.option.codes == "99490x1"  # once mended
    assert result.patient_share_cents == 0
    said = notes(result)["PAYER_DOES_NOT_COVER"]
    assert said.startswith("Blocked: Horizon BCBSNJ does not pay for CCM (it covers PCM).")
    assert REASONS["PAYER_DOES_NOT_COVER"].mend in said


def test_the_program_is_pcm_for_one_condition_and_ccm_for_two_or_more() -> None:
    pcm = case(18)
    assert run(pcm, coverage=HORIZON).blocks == ()
    ccm_only = dataclasses.replace(HORIZON, covers=("ccm",))
    assert run(pcm, coverage=ccm_only).blocks == ("PAYER_DOES_NOT_COVER",)
    assert run(case(8), coverage=ccm_only).blocks == ()  # complex CCM is a CCM family
    assert run(case(11), coverage=ccm_only).blocks == ()  # so is the practitioner's own time


def test_no_conditions_is_blocked_for_that_alone_not_for_the_payer_too() -> None:
    result = run(case(2), conditions=(), coverage=HORIZON)
    assert result.blocks == ("NO_CONDITIONS",)


def test_a_payer_whose_coverage_is_unknown_warns_and_still_bills() -> None:
    result = run(case(2), coverage=SELF_PAY)
    assert result.blocks == () and result.codes == "99490x1"
    assert "COVERAGE_UNKNOWN" in result.warnings
    assert notes(result)["COVERAGE_UNKNOWN"] == (
        "It is not known whether Self pay pays for care management: confirm with the payer "
        "before billing."
    )


def test_a_payer_that_needs_two_diagnoses_blocks_a_one_condition_month() -> None:
    result = run(case(18), coverage=EMBLEM)
    assert result.blocks == ("PAYER_NEEDS_MORE_DIAGNOSES",)
    said = notes(result)["PAYER_NEEDS_MORE_DIAGNOSES"]
    assert "EmblemHealth pays care management only with at least 2 diagnoses on the claim; " \
        "this claim carries 1." in said  # fmt: skip
    assert run(case(2), coverage=EMBLEM).blocks == ()


def test_the_claim_carries_at_most_twelve_diagnoses() -> None:
    many = tuple(f"E11.{n}" for n in range(15))
    assert run(case(2), conditions=many, coverage=dataclasses.replace(EMBLEM, min_diagnoses=12))\
        .blocks == ()  # fmt: skip
    strict = dataclasses.replace(EMBLEM, min_diagnoses=13)
    result = run(case(2), conditions=many, coverage=strict)
    assert result.blocks == ("PAYER_NEEDS_MORE_DIAGNOSES",)
    assert "this claim carries 12." in notes(result)["PAYER_NEEDS_MORE_DIAGNOSES"]


def test_payer_blocks_are_reported_with_the_others() -> None:
    strict = dataclasses.replace(HORIZON, covers=("ccm",), min_diagnoses=3)
    result = run(case(18), coverage=strict, consent_date=None)
    assert result.blocks == ("NO_CONSENT", "PAYER_DOES_NOT_COVER", "PAYER_NEEDS_MORE_DIAGNOSES")


def test_a_waiver_that_covers_the_month_warns_and_names_who_approved_it() -> None:
    result = run(case(2), coverage=MEDICARE, waivers=(HARDSHIP,))
    assert result.billable and "COINSURANCE_WAIVED" in result.warnings
    assert result.patient_share_cents == 0 and result.cost_share.coinsurance_cents == 1323
    sentence = (
        "Coinsurance waived for documented financial hardship, approved 03 Feb 2026 by Wei Chen."
    )
    assert notes(result)["COINSURANCE_WAIVED"] == sentence
    assert estimate_text(result) == f"Patient share: $0.00. {sentence}"


@pytest.mark.parametrize(
    ("first", "last", "covered"),
    [
        ("2026-03", "2026-03", True),
        ("2025-12", None, True),  # no last month: until it is ended
        ("2026-01", "2026-02", False),
        ("2026-04", None, False),
    ],
)
def test_a_waiver_covers_the_months_from_its_first_to_its_last(
    first: str, last: str | None, covered: bool
) -> None:
    waiver = Waiver(first, last, "Wei Chen", dt.date(2025, 12, 1))
    result = run(case(2), coverage=MEDICARE, waivers=(waiver,))
    assert ("COINSURANCE_WAIVED" in result.warnings) is covered
    assert result.patient_share_cents == (0 if covered else 1323)


def test_every_payer_reason_has_a_sentence_and_every_block_a_mend() -> None:
    for code in PAYER_REASONS:
        reason = REASONS[code]
        assert reason.text.endswith(".")
        assert (reason.kind is Kind.BLOCK) == bool(reason.mend)
    assert [REASONS[c].kind for c in PAYER_REASONS] == [Kind.BLOCK, Kind.BLOCK] + [Kind.WARNING] * 2


# --- the estimate -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coverage", "qmb", "share"),
    [
        (None, False, 1323),  # as before payers: 20 % of $66.13 = $13.226
        (None, True, 0),  # as before payers: QMB $0
        (MEDICARE, False, 1323),
        (MEDICARE, True, 0),
        (dataclasses.replace(MEDICARE, kind="medicare_advantage", coinsurance_percent=10), True, 0),
        (dataclasses.replace(MEDICARE, kind="medicare_advantage", coinsurance_percent=10), False,
         661),  # 10 % of $66.13 = $6.613
        (dataclasses.replace(HORIZON, covers=("ccm",), coinsurance_percent=15), True,
         992),  # QMB is a Medicare status: a commercial primary's share stands; $9.9195
        (dataclasses.replace(MEDICARE, kind="medicaid", coinsurance_percent=50), True,
         3307),  # $33.065, half up
        (SELF_PAY, False, 6613),
        (dataclasses.replace(MEDICARE, coinsurance_percent=0), False, 0),
    ],
)  # fmt: skip
def test_the_share_is_the_payers_coinsurance_half_up_and_nothing_for_qmb_of_medicare(
    coverage: Coverage | None, qmb: bool, share: int
) -> None:
    result = run(case(2), coverage=coverage, qmb=qmb)
    assert result.amount_cents == 6613 and result.patient_share_cents == share


def test_a_secondary_payer_takes_the_coinsurance() -> None:
    result = run(case(2), coverage=MEDICARE, secondary_payer="AARP Medigap Plan G")
    share = result.cost_share
    assert (share.basis, share.patient_cents, share.coinsurance_cents) == ("secondary", 0, 1323)
    assert result.warnings == ("NOT_SIGNED",)
    assert estimate_text(result) == (
        "Patient share: $0.00; the coinsurance ($13.23) to the secondary payer: "
        "AARP Medigap Plan G."
    )
    assert estimate_text(result) in [note.text for note in result.notes]


def test_qmb_comes_before_a_waiver_and_a_waiver_before_a_secondary_payer() -> None:
    both = patient(coverage=MEDICARE, waivers=(HARDSHIP,), secondary_payer="Medicaid NJ")
    assert cost_share(6613, both, MONTH).basis == "waiver"
    assert cost_share(6613, dataclasses.replace(both, qmb=True), MONTH).basis == "qmb"
    assert cost_share(6613, both, "2026-05").basis == "secondary"


def test_the_estimate_says_what_it_assumes_of_the_deductible() -> None:
    result = run(case(2), coverage=MEDICARE)
    assert estimate_text(result) == (
        "Patient share (estimate): $13.23, 20 % coinsurance; assumes the Part B deductible "
        "($283.00 in 2026) has been met."
    )
    assert estimate_text(result) in [note.text for note in result.notes]
    assert (
        deductible_text(2025, None)
        == "assumes the Part B deductible ($257.00 in 2025) has been met"
    )
    assert deductible_text(2027, MEDICARE) == "assumes the 2027 Part B deductible has been met"
    assert deductible_text(2026, HORIZON) == "assumes the plan's deductible has been met"
    qmb = run(case(24), coverage=MEDICARE)
    assert (
        estimate_text(qmb) == "Patient share: $0.00; a QMB patient owes no Medicare cost sharing."
    )


def test_a_month_that_does_not_bill_has_no_share_and_no_estimate_line() -> None:
    result = run(case(1), coverage=MEDICARE)
    assert result.patient_share_cents == 0
    assert not any(note.text.startswith("Patient share") for note in result.notes)


def test_a_patient_with_no_payer_is_explained_as_before() -> None:
    for number in (2, 24):
        assert not any(note.text.startswith("Patient share") for note in run(case(number)).notes)


# --- no payer, no change ------------------------------------------------------------------


@pytest.mark.parametrize("c", CASES, ids=lambda c: f"{c.number}-{c.name}")
def test_every_worked_case_bills_the_same_with_medicare_part_b_as_its_payer(c: Case) -> None:
    # What the migration gives every patient whose payer was "Medicare Part B".
    assert_case(c, run(c, coverage=MEDICARE))
    assert_case(c, run(c))


ROLES = {1: "practitioner", 2: "clinical", 3: "clinical", 4: "non_clinical"}
LO = int(dt.datetime(2026, 2, 26, tzinfo=NY).timestamp())
HI = int(dt.datetime(2026, 4, 3, tzinfo=NY).timestamp())
segments = st.lists(
    st.builds(
        lambda staff, start, length, service: Segment.of(
            start, min(HI, start + length), staff, ROLES[staff], service
        ),
        st.sampled_from(sorted(ROLES)),
        st.integers(LO, HI - 60),
        st.integers(60, 3 * 3600),
        st.sampled_from(["ccm", "ccm", "pcm", "tcm"]),
    ),
    max_size=8,
)
old_patient = st.builds(
    PatientFacts,
    conditions=st.integers(0, 3).map(lambda n: ("E11.9", "I10", "J44.9")[:n]),
    billing_practitioner_id=st.sampled_from([1, None]),
    consent_date=st.one_of(st.none(), st.dates(dt.date(2025, 10, 1), dt.date(2026, 4, 3))),
    consent_practitioner_id=st.sampled_from([None, 1, 6]),
    consent_revoked_date=st.one_of(st.none(), st.dates(dt.date(2026, 1, 1), dt.date(2026, 4, 3))),
    initiating_visit_date=st.one_of(st.none(), st.dates(dt.date(2025, 1, 1), dt.date(2026, 4, 3))),
    care_plan_date=st.one_of(st.none(), st.dates(dt.date(2025, 10, 1), dt.date(2026, 4, 3))),
    qmb=st.booleans(),
)
month_facts = st.builds(
    MonthFacts,
    complexity=st.sampled_from(["none", "moderate", "high"]),
    other_services=st.sampled_from([(), ("G0181",), ("99426",), ("99490",)]),
    billed_elsewhere=st.booleans(),
    family_override=st.sampled_from([None, "ccm", "complex", "pcm_staff"]),
    signed=st.booleans(),
)


def summary(result: MonthResult) -> tuple[object, ...]:
    """Everything the month bills and says, explanation included."""
    names = [f.name for f in dataclasses.fields(result) if f.name not in ("inputs", "spans")]
    return (*(getattr(result, name) for name in names), result.thresholds, result.notes)


@settings(max_examples=300, deadline=None)
@given(old_patient, month_facts, segments)
def test_a_patient_with_no_payer_is_judged_exactly_as_before_payers(
    p: PatientFacts, f: MonthFacts, work: list[Segment]
) -> None:
    # The facts as every caller made them before payers, with the payer fields said outright.
    no_payer = dataclasses.replace(p, coverage=None, secondary_payer="", waivers=())
    result = evaluate(MARCH, p, f, work)
    assert summary(evaluate(MARCH, no_payer, f, work)) == summary(result)
    assert set(PAYER_REASONS).isdisjoint((*result.blocks, *result.warnings))
    before = 0 if p.qmb else (result.amount_cents * 2 + 5) // 10  # the inline 20 % of old
    assert result.patient_share_cents == before
    assert not any(note.text.startswith("Patient share") for note in result.notes)
    # The migrated Medicare Part B payer bills the same; only the estimate line is added.
    medicare = evaluate(MARCH, dataclasses.replace(p, coverage=MEDICARE), f, work)
    extra = [note for note in medicare.notes if note.text.startswith("Patient share")]
    assert [n for n in medicare.notes if n not in extra] == result.notes
    assert summary(medicare)[:-1] == summary(result)[:-1]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**7), st.integers(0, 100), st.booleans())
def test_the_share_is_never_more_than_the_amount_and_rounds_half_up(
    amount: int, percent: int, secondary: bool
) -> None:
    coverage = dataclasses.replace(HORIZON, coinsurance_percent=percent)
    p = patient(coverage=coverage, secondary_payer="Medigap" if secondary else "")
    share = cost_share(amount, p, MONTH)
    exact = amount * percent / 100
    assert 0 <= share.coinsurance_cents <= amount
    assert share.coinsurance_cents - 0.5 <= exact < share.coinsurance_cents + 0.5
    assert share.patient_cents == (0 if secondary else share.coinsurance_cents)
