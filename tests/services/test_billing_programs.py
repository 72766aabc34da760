"""The billing service reads each patient's program, visits, G0506 flag, BHI time and the
practice's APCM attestation from the database, as the rules need them."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ccmdesk.db import Database
from ccmdesk.services import Services
from tests.helpers.billing import import_cases
from tests.helpers.common import BILLER
from tests.helpers.programs import attest_apcm, set_program, set_visits
from tests.helpers.scenario_cases import CASES, MONTH, Case, w


@pytest.fixture
def team(staffed: Services) -> Services:
    from tests.helpers.billing import add_case_staff

    add_case_staff(staffed)
    return staffed


def _case(number: int) -> Case:
    return next(c for c in CASES if c.number == number)


def test_a_program_from_a_month_bills_that_month_and_not_the_one_before(
    team: Services, db: Database
) -> None:
    case = _case(2)  # 25 min of staff time, two conditions: 99490 under ccm
    import_cases(team, (case,))
    attest_apcm(db)
    set_program(db, "S02", "apcm", from_month="2026-04")
    march = team.billing.patient_month(BILLER, "S02", MONTH).result
    assert (march.program, march.codes) == ("ccm", "99490x1")
    set_program(db, "S02", "apcm", from_month=MONTH)
    march = team.billing.patient_month(BILLER, "S02", MONTH).result
    assert (march.program, march.codes, march.amount_cents) == ("apcm", "G0557x1", 5378)


def test_without_the_attestation_an_apcm_month_is_blocked_and_ccm_sees_no_apcm(
    team: Services, db: Database
) -> None:
    import_cases(team, (_case(1),))  # below the threshold
    ccm = team.billing.patient_month(BILLER, "S01", MONTH).result
    assert ccm.others == () and "OTHER_PROGRAM_PAYS_MORE" not in ccm.warnings
    attest_apcm(db)
    ccm = team.billing.patient_month(BILLER, "S01", MONTH).result
    assert "OTHER_PROGRAM_PAYS_MORE" in ccm.warnings
    assert [(p.program, p.codes) for p in ccm.others] == [("apcm", "G0557x1")]


def test_the_last_visit_on_file_opens_apcm_for_a_patient_seen_long_ago(
    team: Services, db: Database
) -> None:
    case = _case(2)
    old = dataclasses.replace(case, patient={**case.patient, "initiating_visit_date": dt.date(2022, 6, 1),
                                             "consent_date": dt.date(2022, 6, 1)})  # fmt: skip
    import_cases(team, (old,))
    attest_apcm(db)
    set_program(db, "S02", "apcm")
    assert team.billing.patient_month(BILLER, "S02", MONTH).result.blocks == (
        "NO_INITIATING_VISIT",
    )
    set_visits(db, "S02", last_visit=dt.date(2025, 12, 1))
    assert team.billing.patient_month(BILLER, "S02", MONTH).result.billable


def test_time_tagged_bhi_is_read_as_bhi_and_bills_99484_beside_ccm(
    team: Services, db: Database
) -> None:
    case = _case(2)
    bhi = w("RN", 21, 20, hour=15, service="bhi")
    with_bhi = dataclasses.replace(
        case,
        patient={**case.patient, "conditions": ("F33.1", "I10")},
        work=(*case.work, bhi),
    )
    import_cases(team, (with_bhi,))
    result = team.billing.patient_month(BILLER, "S02", MONTH).result
    assert result.codes == "99490x1"
    assert result.bhi is not None
    assert (result.bhi.codes, result.bhi.countable_seconds) == ("99484x1", 21 * 60)
    assert result.total_cents == 6613 + 5745


def test_g0506_comes_from_the_initiating_visits_flag_in_its_month(
    team: Services, db: Database
) -> None:
    case = _case(2)
    visit = dataclasses.replace(
        case, patient={**case.patient, "initiating_visit_date": dt.date(2026, 3, 2)}
    )
    import_cases(team, (visit,))
    assert team.billing.patient_month(BILLER, "S02", MONTH).result.g0506 is None
    set_visits(db, "S02", g0506=True)
    result = team.billing.patient_month(BILLER, "S02", MONTH).result
    assert result.g0506 is not None and result.g0506_day == dt.date(2026, 3, 2)
    assert team.billing.patient_month(BILLER, "S02", "2026-04").result.g0506 is None
