"""The rules engine on issue #18's worked cases: APCM, general BHI, PCM by focus, G0506."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ccmdesk.rules.billing import apcm_level
from tests.helpers.program_cases import (
    CASES,
    ProgramCase,
    Work,
    assert_program_case,
    evaluate_case,
    on,
    program_of,
)
from tests.helpers.rules import patient


def _case(number: int) -> ProgramCase:
    return next(c for c in CASES if c.number == number)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.number}-{c.name}")
def test_every_worked_case_of_the_programs(case: ProgramCase) -> None:
    assert_program_case(case, evaluate_case(case))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.number}-{c.name}")
def test_signing_a_worked_case_only_drops_not_signed(case: ProgramCase) -> None:
    assert_program_case(case, evaluate_case(case, signed=True), signed=True)


def test_the_cases_are_numbered_once_and_cover_every_program() -> None:
    assert [c.number for c in CASES] == list(range(1, len(CASES) + 1))
    assert {c.program for c in CASES} == {"ccm", "pcm_focus", "apcm"}
    assert {program_of(c)[0] for c in CASES} == {"ccm", "pcm_focus", "apcm"}


@pytest.mark.parametrize("number", [c.number for c in CASES if c.bhi is not None])
def test_bhi_time_leaves_the_care_management_result_as_it_was(number: int) -> None:
    case = _case(number)
    without = dataclasses.replace(case, work=tuple(w for w in case.work if w.service != "bhi"))
    a, b = evaluate_case(case), evaluate_case(without)
    assert b.bhi is None
    assert (a.codes, a.status, a.blocks, a.amount_cents, a.countable_seconds) == (
        b.codes,
        b.status,
        b.blocks,
        b.amount_cents,
        b.countable_seconds,
    )
    assert a.option == b.option


def test_the_apcm_level_of_the_cases_is_the_catalogs() -> None:
    for conditions, qmb, level in [
        ((), False, "G0556"), ((), True, "G0556"), (("I10",), True, "G0556"),
        (("E11.9", "I10"), False, "G0557"), (("E11.9", "I10"), True, "G0558"),
        (("E11.9", "I10", "F32.A", "N18.30"), False, "G0557"),
    ]:  # fmt: skip
        assert apcm_level(patient(conditions=conditions, qmb=qmb)) == level


def test_the_other_program_is_named_with_how_much_more_it_pays() -> None:
    r = evaluate_case(_case(41))
    text = next(n.text for n in r.notes if n.code == "OTHER_PROGRAM_PAYS_MORE")
    assert text.startswith("APCM (G0558x1, 99484x1) would pay $160.12, $46.58 more")
    assert "($113.54)" in text


def test_a_blocked_apcm_month_says_what_it_would_bill_and_how_to_mend() -> None:
    r = evaluate_case(_case(6))
    texts = [n.text for n in r.notes]
    assert any("APCM" in t and "attest" in t.lower() for t in texts), texts
    assert r.option is not None and r.option.codes == "G0557x1"


def test_an_apcm_month_is_dated_on_its_last_day_and_a_g0506_on_the_visit() -> None:
    apcm = evaluate_case(_case(3))
    assert str(apcm.date_of_service) == "2026-03-31"
    g0506 = evaluate_case(_case(31))
    assert str(g0506.date_of_service) == "2026-03-31" and str(g0506.g0506_day) == "2026-03-10"


def test_a_bhi_line_bills_beside_ccm_in_all_lines_and_the_total() -> None:
    r = evaluate_case(_case(16))
    assert [line.code for line in r.all_lines] == ["99490", "99484"]
    assert r.bills and r.total_cents == 6613 + 5745
    alone = evaluate_case(_case(17))  # CCM blocked, BHI bills: the month still makes a claim
    assert alone.lines == () and [line.code for line in alone.all_lines] == ["99484"]
    assert alone.bills


def test_a_program_change_reads_the_period_in_force_for_each_month() -> None:
    before, after = _case(29), _case(30)
    assert before.periods == after.periods
    assert program_of(before) == ("ccm", None) and program_of(after) == ("apcm", None)
    assert evaluate_case(before).program == "ccm" and evaluate_case(after).program == "apcm"


def test_bhi_time_wholly_in_another_month_gives_this_month_no_bhi_result() -> None:
    # The rules are given every segment they are handed; April's BHI call is no BHI time of
    # March, so March has no BHI result ("General BHI": months with BHI time have one).
    case = _case(16)
    april = Work("RN", on("2026-04", 2), 25 * 60, "bhi")
    zero = Work("RN", on("2026-03", 20), 0, "bhi")
    moved = dataclasses.replace(case, work=(case.work[0], april, zero))
    r = evaluate_case(moved)
    assert r.bhi is None and r.codes == "99490x1"
    straddling = dataclasses.replace(
        case,
        work=(
            case.work[0],
            Work("RN", on("2026-04", 1, 0) - dt.timedelta(minutes=5), 25 * 60, "bhi"),
        ),
    )
    b = evaluate_case(straddling).bhi
    assert b is not None and b.countable_seconds == 5 * 60
