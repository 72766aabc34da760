"""The export of issue #18's programs: each month's program, its general BHI and G0506 in the
handoff, the claim lines, the superbills and the handoff report."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from pathlib import Path

import pytest

from ccmdesk.db import Database
from ccmdesk.rules.billing import MonthFacts
from ccmdesk.rules.billing import evaluate as evaluate_month
from ccmdesk.services import Services
from ccmdesk.services.billing.evaluation import BillingRow
from ccmdesk.services.claims import ClaimStatus
from ccmdesk.services.export import claim_file_notes
from tests.helpers.billing import add_case_staff, import_cases
from tests.helpers.common import BILLER, DOCTOR, VALID_NPIS
from tests.helpers.programs import set_program, set_visits
from tests.helpers.reports import pdf_words
from tests.helpers.rules import MARCH, entry, patient
from tests.helpers.scenario_cases import CASES, MONTH, Case, Work, at, w

VISIT = dt.date(2026, 3, 2)
BHI_CENTS, CCM_CENTS = 5745, 6613  # 99484 and 99490 in 2026


@pytest.fixture
def team(staffed: Services) -> Services:
    return add_case_staff(staffed)


def _case(number: int, **patient: object) -> Case:
    case = next(c for c in CASES if c.number == number)
    return dataclasses.replace(case, patient={**case.patient, **patient})


def _with_bhi(case: Case, minutes: int = 21) -> Case:
    """The case with `minutes` of general BHI time on the 20th, in the afternoon."""
    return dataclasses.replace(
        case, work=(*case.work, w("RN", minutes, 20, hour=15, service="bhi"))
    )


@pytest.fixture
def bhi_team(team: Services, db: Database) -> Services:
    """S02: 99490 and 21 min of BHI, a behavioural-health diagnosis last, G0506 at its
    initiating visit; S01: 19 min of CCM (blocked) and 21 of BHI; S03: no BHI."""
    conditions = ("I10", "E11.9", "F33.1")
    import_cases(
        team,
        (
            _with_bhi(_case(2, conditions=conditions, initiating_visit_date=VISIT)),
            _with_bhi(_case(1, conditions=("F41.1", "I10"))),
            _case(3),
        ),
    )
    set_visits(db, "S02", g0506=True)
    return team


def read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def test_a_month_with_bhi_time_gets_a_bhi_row_right_after_its_care_management_row(
    bhi_team: Services, tmp_path: Path
) -> None:
    bhi_team.export.export(BILLER, MONTH, tmp_path)
    rows = read(tmp_path / f"handoff-{MONTH}.csv")
    assert [(r["mrn"], r["program"]) for r in rows] == [
        ("S01", "ccm"), ("S01", "bhi"), ("S02", "ccm"), ("S02", "bhi"), ("S03", "ccm")]  # fmt: skip
    ccm, bhi = rows[2], rows[3]
    # The care-management row is what it was without BHI: no 99484, no G0506.
    assert (ccm["codes"], ccm["amount_cents"], ccm["patient_share_cents"]) == (
        "99490x1",
        str(CCM_CENTS),
        "1323",
    )
    assert (ccm["countable_seconds"], ccm["claim_id"]) == ("1200", "S02-202603")
    assert (bhi["codes"], bhi["status"], bhi["amount_cents"]) == (
        "99484x1",
        "billable",
        str(BHI_CENTS),
    )
    assert (bhi["countable_seconds"], bhi["practitioner_seconds"]) == ("1260", "0")
    assert bhi["patient_share_cents"] == "1149"  # 20 % of $57.45, half up
    assert (bhi["claim_id"], bhi["claim_edits"]) == ("S02-202603", ccm["claim_edits"])
    assert (bhi["signed_off"], bhi["warnings"]) == ("no", "NOT_SIGNED")
    assert "G0506" not in ccm["codes"] + bhi["codes"]
    # S01: its care management is blocked, its BHI bills on a claim of its own.
    blocked, alone = rows[0], rows[1]
    assert (blocked["status"], blocked["blocks"], blocked["claim_id"]) == (
        "not_billable",
        "BELOW_THRESHOLD",
        "",
    )
    assert (alone["status"], alone["claim_id"], alone["amount_cents"]) == (
        "billable",
        "S01-202603",
        str(BHI_CENTS),
    )
    assert alone["claim_edits"] != ""  # worked out for a month only its BHI bills


def test_bhi_short_of_twenty_minutes_is_a_not_billable_bhi_row(
    team: Services, tmp_path: Path
) -> None:
    import_cases(team, (_with_bhi(_case(2, conditions=("F33.1", "I10")), minutes=19),))
    team.export.export(BILLER, MONTH, tmp_path)
    ccm, bhi = read(tmp_path / f"handoff-{MONTH}.csv")
    assert ccm["status"] == "billable"
    assert (bhi["program"], bhi["status"], bhi["codes"], bhi["blocks"]) == (
        "bhi",
        "not_billable",
        "",
        "BELOW_THRESHOLD",
    )
    assert (bhi["amount_cents"], bhi["claim_id"], bhi["patient_share_cents"]) == ("0", "", "0")
    lines = read(tmp_path / f"claim-lines-{MONTH}.csv")
    assert [line["code"] for line in lines] == ["99490"]


def test_the_program_column_is_the_patients_program_for_the_month(
    team: Services, db: Database, tmp_path: Path
) -> None:
    import_cases(team, (_case(4, conditions=("E11.9", "I10")), _case(3)))
    set_program(db, "S04", "pcm_focus", focus="I10")
    team.export.export(BILLER, MONTH, tmp_path)
    rows = {r["mrn"]: r for r in read(tmp_path / f"handoff-{MONTH}.csv")}
    assert (rows["S04"]["program"], rows["S03"]["program"]) == ("pcm_focus", "ccm")
    assert rows["S04"]["codes"].startswith("99426")
    # The focus condition is the claim's first diagnosis, and the PCM line points at it first.
    lines = [line for line in read(tmp_path / f"claim-lines-{MONTH}.csv") if line["mrn"] == "S04"]
    assert {(line["diagnosis_codes"], line["diagnosis_pointers"]) for line in lines} == {
        ("I10;E11.9", "AB")}  # fmt: skip
    bill = pdf_words((tmp_path / "superbills" / f"{MONTH}-S04.pdf").read_bytes())
    assert bill.index("I10") < bill.index("E11.9")
    other = [line for line in read(tmp_path / f"claim-lines-{MONTH}.csv") if line["mrn"] == "S03"]
    assert {line["diagnosis_codes"] for line in other} == {"E11.9;I10"}  # as on file


def test_claim_lines_carry_99484_with_bh_pointers_and_g0506_for_the_visits_claim(
    bhi_team: Services, tmp_path: Path
) -> None:
    bhi_team.export.export(BILLER, MONTH, tmp_path)
    lines = read(tmp_path / f"claim-lines-{MONTH}.csv")
    s02 = [line for line in lines if line["mrn"] == "S02"]
    assert [
        (line["code"], line["date_of_service"], line["diagnosis_pointers"], line["claim_id"],
         line["bill_on"]) for line in s02
    ] == [
        ("99490", "2026-03-31", "ABC", "S02-202603", "month_claim"),
        ("99484", "2026-03-31", "CAB", "S02-202603", "month_claim"),  # F33.1 first
        ("G0506", "2026-03-02", "ABC", "", "visit_claim"),
    ]  # fmt: skip
    # The month's lines add up to its two handoff rows' shares; G0506's is the visit's.
    assert [line["patient_share_cents"] for line in s02] == ["1323", "1149", "0"]
    s01 = [(line["code"], line["claim_id"]) for line in lines if line["mrn"] == "S01"]
    assert s01 == [("99484", "S01-202603")]
    assert {line["bill_on"] for line in lines if line["mrn"] == "S03"} == {"month_claim"}


def test_the_superbill_adds_the_bhi_line_and_prints_g0506_outside_the_total(
    bhi_team: Services, tmp_path: Path
) -> None:
    bhi_team.export.export(BILLER, MONTH, tmp_path)
    bill = pdf_words((tmp_path / "superbills" / f"{MONTH}-S02.pdf").read_bytes())
    for expected in ("99490", "99484", "G0506", "02 Mar 2026", "add to the initiating visit's claim",
                     "$123.58", "General BHI, counted apart"):  # fmt: skip
        assert expected in bill, expected
    # 28 Total charge: 99490 and 99484, not G0506; the share covers both ($13.23 + $11.49).
    assert "$24.72" in bill
    assert bill.index("$123.58") < bill.index("G0506")
    # A month whose care management is blocked still gets a superbill for its BHI.
    alone = pdf_words((tmp_path / "superbills" / f"{MONTH}-S01.pdf").read_bytes())
    assert "99484" in alone and "99490" not in alone and "$57.45" in alone


def test_a_bhi_month_is_claimed_only_once_signed(bhi_team: Services, tmp_path: Path) -> None:
    bhi_team.review.sign(DOCTOR, "S02", MONTH)
    result = bhi_team.export.export(BILLER, MONTH, tmp_path / "signed", signed_only=True)
    bills = sorted(p.name for p in (tmp_path / "signed" / "superbills").iterdir())
    assert bills == [f"{MONTH}-S02.pdf"]
    lines = read(tmp_path / "signed" / f"claim-lines-{MONTH}.csv")
    assert {line["mrn"] for line in lines} == {"S02"} and result.claim_lines == 3
    rows = {(r["mrn"], r["program"]): r for r in read(tmp_path / "signed" / f"handoff-{MONTH}.csv")}
    assert rows["S02", "bhi"]["signed_off"] == "yes" and rows["S01", "bhi"]["signed_off"] == "no"
    assert "NOT_SIGNED" not in rows["S02", "bhi"]["warnings"]
    # The unsigned BHI-only month is named in the handoff as not signed, with its claim id.
    report = pdf_words((tmp_path / "signed" / f"handoff-{MONTH}.pdf").read_bytes())
    assert "Not signed: the billing practitioner has not signed the month." in report
    assert "S01-202603" in report


def test_the_handoff_report_marks_bhi_rows_and_lists_g0506_for_the_visits_claim(
    bhi_team: Services, tmp_path: Path
) -> None:
    bhi_team.export.export(BILLER, MONTH, tmp_path)
    report = pdf_words((tmp_path / f"handoff-{MONTH}.pdf").read_bytes())
    assert "Add to the visit's claim" in report
    visit = report[report.index("Add to the visit's claim") :]
    assert "02 Mar 2026" in visit and "G0506" in visit
    assert "Case02" in report and "· BHI" in report
    assert "Expected 99484 $114.90" in report  # S01's and S02's
    assert "General BHI billable 2" in report
    # In all: S02's 99490, S03's 99490 and the two 99484; never G0506.
    assert f"Expected in all ${(2 * CCM_CENTS + 2 * BHI_CENTS) / 100:.2f}" in report
    assert "Expected G0506" not in report


def _row(mrn: str, ccm_minutes: int, *, secondary: str = "") -> BillingRow:
    """A signed month of a patient with F33.1: `ccm_minutes` of care management and 21 of
    general BHI."""
    work = [Work("RN", at(4), ccm_minutes), Work("RN", at(20, 15), 21, service="bhi")]
    facts = patient(conditions=("F33.1", "I10"), secondary_payer=secondary)
    result = evaluate_month(MARCH, facts, MonthFacts(signed=True), [entry(x) for x in work])
    return BillingRow(mrn, "Rivera", "Ana", "Dr. A", VALID_NPIS[0], True, True, result)


def test_the_claim_file_notes_count_the_bhi_on_the_months_claim() -> None:
    both, alone = _row("A1", 25, secondary="AARP Medigap Plan G"), _row("B2", 5)
    assert both.result.billable and not alone.result.billable and alone.result.bills
    notes = claim_file_notes(
        [both, alone],
        {"B2": ClaimStatus("B2-202603", ("CLAIM_NO_SEX",))},
        {"A1": ("AARP Medigap Plan G", "MG-1")},
    )
    # A month only its BHI bills is a claim: kept out for its failing edit like any other.
    assert [(r.mrn, r.claim_id) for r in notes.left_out] == [("B2", "B2-202603")]
    # The secondary payer is billed the coinsurance of the whole claim: 99490 and 99484.
    (claim,) = notes.secondary
    assert claim.coinsurance_cents == 1323 + 1149


def test_a_g0506_month_that_bills_nothing_else_has_its_visit_claim_line_only(
    team: Services, db: Database, tmp_path: Path
) -> None:
    import_cases(team, (_case(1, initiating_visit_date=VISIT),))  # 19 minutes: blocked
    set_visits(db, "S01", g0506=True)
    result = team.export.export(BILLER, MONTH, tmp_path)
    (line,) = read(tmp_path / f"claim-lines-{MONTH}.csv")
    assert (line["code"], line["date_of_service"], line["bill_on"]) == (
        "G0506",
        "2026-03-02",
        "visit_claim",
    )
    assert not (tmp_path / "superbills").exists() and result.billable == 0
    (row,) = read(tmp_path / f"handoff-{MONTH}.csv")
    assert (row["status"], row["codes"], row["amount_cents"]) == ("not_billable", "", "0")
    assert "S01 Case01, Ana 02 Mar 2026 G0506" in pdf_words(
        (tmp_path / f"handoff-{MONTH}.pdf").read_bytes()
    )
