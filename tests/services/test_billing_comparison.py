"""Which program pays more, summed over a month: what switching would add, by program."""

from __future__ import annotations

import dataclasses

import pytest

from ccmdesk.db import Database
from ccmdesk.services import Services
from ccmdesk.services.billing.comparison import SwitchGain, gains_text
from tests.helpers.billing import import_cases
from tests.helpers.common import BILLER
from tests.helpers.programs import attest_apcm, set_program
from tests.helpers.scenario_cases import CASES, MONTH, Case, w


@pytest.fixture
def team(staffed: Services) -> Services:
    from tests.helpers.billing import add_case_staff

    add_case_staff(staffed)
    return staffed


def _case(number: int) -> Case:
    return next(c for c in CASES if c.number == number)


def test_no_gain_without_the_attestation(team: Services, db: Database) -> None:
    import_cases(team, (_case(1), _case(2)))
    assert team.billing.month(BILLER, MONTH).switch_gains() == []


def test_gains_are_summed_by_the_program_that_pays_more(team: Services, db: Database) -> None:
    # S01 is below the threshold (CCM bills nothing; APCM G0557 $53.78); S02 bills 99490
    # ($66.13) under CCM, and as an APCM patient CCM would pay $12.35 more than G0557.
    import_cases(team, (_case(1), _case(2)))
    attest_apcm(db)
    month = team.billing.month(BILLER, MONTH)
    assert month.switch_gains() == [SwitchGain("apcm", 1, 5378)]
    set_program(db, "S02", "apcm")
    month = team.billing.month(BILLER, MONTH)
    assert month.switch_gains() == [SwitchGain("apcm", 1, 5378), SwitchGain("ccm", 1, 6613 - 5378)]
    assert gains_text(month.switch_gains()) == (
        "Switching this patient to APCM would add $53.78 a month. "
        "Switching this patient to CCM/PCM would add $12.35 a month."
    )


def test_the_gain_is_what_the_month_bills_in_all_less_the_better_price(
    team: Services, db: Database
) -> None:
    # Two patients below the CCM threshold: APCM would add its whole amount for each.
    one, two = _case(1), dataclasses.replace(_case(1), number=31)
    import_cases(team, (one, two))
    attest_apcm(db)
    month = team.billing.month(BILLER, MONTH)
    rows = [r for r in month.rows if r.result.pays_more is not None]
    extra = sum(r.result.pays_more.amount_cents - r.result.total_cents for r in rows)  # type: ignore[union-attr]
    assert month.switch_gains() == [SwitchGain("apcm", 2, extra)]
    assert month.switch_gains()[0].sentence == (
        f"Switching these 2 patients to APCM would add ${extra / 100:,.2f} a month."
    )


def test_the_month_total_and_amount_by_code_include_general_bhi(
    team: Services, db: Database
) -> None:
    case = _case(2)
    with_bhi = dataclasses.replace(
        case,
        patient={**case.patient, "conditions": ("F33.1", "I10")},
        work=(*case.work, w("RN", 21, 20, hour=15, service="bhi")),
    )
    import_cases(team, (with_bhi,))
    month = team.billing.month(BILLER, MONTH)
    assert month.amount_cents == 6613 + 5745
    assert month.amount_by_code() == {"99484": 5745, "99490": 6613}
