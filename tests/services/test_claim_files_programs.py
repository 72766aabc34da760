"""The 837P of the programs: BHI lines, BHI-only claims, APCM and pcm_focus claims, no G0506."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import Practice
from ccmdesk.reports.x12 import validate_837p
from ccmdesk.services import Services
from tests.helpers.billing import add_case_staff, import_cases
from tests.helpers.claim_files import claim_files, claim_ready, claims_of
from tests.helpers.common import BILLER, DOCTOR
from tests.helpers.database import sign
from tests.helpers.programs import attest_apcm, set_program, set_visits
from tests.helpers.scenario_cases import CASES, MONTH, Case, w

FILE = f"claims-{MONTH}-mcr-b.x12"
SIGNED_AT = dt.datetime(2026, 4, 2, 12, tzinfo=dt.UTC)
WITH_F = ("E11.9", "I10", "F33.1")  # the F-code third: a BHI line points at it first
BHI_TIME = w("RN", 21, 21, hour=15, service="bhi")  # 21 minutes tagged BHI: 99484

# The patients: CCM beside BHI; BHI alone (19 minutes of CCM); APCM; PCM on a focus condition
# that is last on file; G0506 in the month; nothing billed.
BOTH, BHI_ONLY, APCM, FOCUS, G0506, NOTHING = "S31", "S32", "S33", "S34", "S35", "S36"


def _case(number: int, new_number: int, **patient: object) -> Case:
    case = next(c for c in CASES if c.number == number)
    return dataclasses.replace(case, number=new_number, patient={**case.patient, **patient})


def _with_bhi(case: Case) -> Case:
    return dataclasses.replace(case, work=(*case.work, BHI_TIME))


@pytest.fixture
def team(db: Database, staffed: Services) -> Services:
    """March 2026 with one patient of each kind above, claim-ready, every month signed."""
    add_case_staff(staffed)
    import_cases(
        staffed,
        (
            _with_bhi(_case(2, 31, conditions=WITH_F)),  # 20 minutes of CCM: 99490
            _with_bhi(_case(1, 32, conditions=WITH_F)),  # 19 minutes: CCM below threshold
            _case(2, 33),
            _case(3, 34, conditions=("E11.9", "I10", "J44.9")),  # 39 minutes of staff time
            _case(2, 35, initiating_visit_date=dt.date(2026, 3, 2)),
            _case(1, 36),
        ),
    )
    claim_ready(db)
    attest_apcm(db)
    set_program(db, APCM, "apcm")
    set_program(db, FOCUS, "pcm_focus", focus="J44.9")
    set_visits(db, G0506, g0506=True)
    with db.session() as session:
        # Dated by the threshold: an APCM line still carries the month's last day.
        session.scalars(select(Practice)).one().date_of_service_rule = "threshold_date"
    for mrn in (BOTH, APCM, FOCUS, G0506):
        staffed.review.sign(DOCTOR, mrn, MONTH)
    # The sign-off service signs a month whose program bills; these are signed as it would.
    for mrn in (BHI_ONLY, NOTHING):
        sign(db, mrn, MONTH, SIGNED_AT)
    return staffed


def _export(team: Services, folder: Path) -> dict[str, list[list[str]]]:
    text = claim_files(team.export.export(BILLER, MONTH, folder).folder)[FILE]
    assert validate_837p(text) == []
    return claims_of(text)


def _lines(claim: list[list[str]]) -> list[tuple[str, str, str, str]]:
    """(code, charge, pointers, date of service) of each line of a claim."""
    services = [s for s in claim if s[0] == "SV1"]
    dates = [s[3] for s in claim if s[0] == "DTP"]
    return [(s[1], s[2], s[7], day) for s, day in zip(services, dates, strict=True)]


def _hi(claim: list[list[str]]) -> list[str]:
    return next(s for s in claim if s[0] == "HI")[1:]


def test_one_valid_file_carries_the_bhi_apcm_pcm_focus_and_bhi_only_claims(
    team: Services, tmp_path: Path
) -> None:
    claims = _export(team, tmp_path)
    assert sorted(claims) == [f"{mrn}-202603" for mrn in (BOTH, BHI_ONLY, APCM, FOCUS, G0506)]


def test_a_month_with_bhi_adds_the_99484_line_pointing_at_the_f_code_first(
    team: Services, tmp_path: Path
) -> None:
    result = team.billing.patient_month(BILLER, BOTH, MONTH).result
    assert result.codes == "99490x1" and result.bhi is not None and result.bhi.bills
    claim = _export(team, tmp_path)[f"{BOTH}-202603"]
    assert claim[0][2] == "123.58"  # CLM02: 66.13 + 57.45
    assert _hi(claim) == ["ABK:E119", "ABF:I10", "ABF:F331"]
    (ccm_day,) = {t.day for t in result.thresholds}
    (bhi_day,) = {t.day for t in result.bhi.thresholds}
    assert _lines(claim) == [
        ("HC:99490", "66.13", "1:2:3", ccm_day.strftime("%Y%m%d")),
        ("HC:99484", "57.45", "3:1:2", bhi_day.strftime("%Y%m%d")),
    ]
    assert [s[:2] for s in claim if s[0] == "LX"] == [["LX", "1"], ["LX", "2"]]


def test_a_month_whose_bhi_alone_bills_is_a_claim_with_the_bhi_line_alone(
    team: Services, tmp_path: Path
) -> None:
    result = team.billing.patient_month(BILLER, BHI_ONLY, MONTH).result
    assert not result.billable and result.bills and result.signed
    claim = _export(team, tmp_path)[f"{BHI_ONLY}-202603"]
    assert claim[0][2] == "57.45"
    assert [line[:3] for line in _lines(claim)] == [("HC:99484", "57.45", "3:1:2")]


def test_only_months_that_bill_get_a_claim_status(team: Services, db: Database) -> None:
    with db.read() as session:
        rows, statuses = team.billing.evaluate_with_claims(session, MONTH)
    assert sorted(statuses) == [BOTH, BHI_ONLY, APCM, FOCUS, G0506]
    assert all(statuses[mrn].ready for mrn in statuses)
    assert NOTHING in {row.mrn for row in rows}


def test_an_apcm_month_bills_its_level_dated_the_months_last_day(
    team: Services, tmp_path: Path
) -> None:
    result = team.billing.patient_month(BILLER, APCM, MONTH).result
    assert (result.program, result.codes) == ("apcm", "G0557x1")
    claim = _export(team, tmp_path)[f"{APCM}-202603"]
    assert claim[0][2] == "53.78"
    assert _lines(claim) == [("HC:G0557", "53.78", "1:2", "20260331")]


def test_a_pcm_focus_claim_lists_the_focus_condition_first_and_points_at_it_first(
    team: Services, tmp_path: Path
) -> None:
    result = team.billing.patient_month(BILLER, FOCUS, MONTH).result
    assert result.program == "pcm_focus" and result.billable
    assert result.inputs[1].conditions == ("E11.9", "I10", "J44.9")  # the file's order
    claim = _export(team, tmp_path)[f"{FOCUS}-202603"]
    assert _hi(claim) == ["ABK:J449", "ABF:E119", "ABF:I10"]
    lines = _lines(claim)
    assert [code for code, *_ in lines] == [f"HC:{line.code}" for line in result.lines]
    assert {pointers for _, _, pointers, _ in lines} == {"1:2:3"}


def test_g0506_is_never_in_the_837p(team: Services, tmp_path: Path) -> None:
    result = team.billing.patient_month(BILLER, G0506, MONTH).result
    assert result.g0506 is not None and result.codes == "99490x1"
    claim = _export(team, tmp_path)[f"{G0506}-202603"]
    assert [line[0] for line in _lines(claim)] == ["HC:99490"]
    assert claim[0][2] == "66.13"
    text = claim_files(tmp_path)[FILE]
    assert "G0506" not in text
