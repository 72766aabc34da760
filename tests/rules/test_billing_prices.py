"""What another program would bill is what evaluating the month under it bills (the prices
are worked out by shorter paths than a whole evaluation; docs/billing-rules.md, "Which
program pays more")."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from ccmdesk.rules.billing import (
    Coverage,
    Month,
    MonthFacts,
    MonthResult,
    PatientFacts,
    Segment,
    epoch,
    evaluate,
)
from ccmdesk.rules.catalog import DEFAULT_FEES
from tests.helpers.rules import patient
from tests.helpers.scenario_cases import NY

ATTESTED = {
    month: Month.of(month, NY, DEFAULT_FEES, apcm_attested=True)
    for month in ("2026-03", "2025-03", "2024-12")
}
ON_FILE = dt.date(2024, 6, 3)  # consent, initiating visit and care plan, before every month


def _patient(**facts: object) -> PatientFacts:
    dates = {"consent_date": ON_FILE, "initiating_visit_date": ON_FILE, "care_plan_date": ON_FILE}
    return patient(**(dates | facts))


def _work(month: str, ccm_minutes: int, bhi_minutes: int, bhi_face_to_face: bool) -> list[Segment]:
    """An RN's care-management call and a BHI session on the 10th of the month."""
    year, number = (int(part) for part in month.split("-"))
    start = epoch(dt.datetime(year, number, 10, 9, tzinfo=NY))
    middle = start + ccm_minutes * 60
    segments = [Segment.of(start, middle, 2, "clinical", "ccm")] if ccm_minutes else []
    if bhi_minutes:
        end = middle + bhi_minutes * 60
        segments.append(Segment.of(middle, end, 2, "clinical", "bhi", bhi_face_to_face))
    return segments


# Facts that change what a program bills or whether it is blocked, APCM's above all.
PATIENTS = {
    "two conditions": {},
    "one condition": {"conditions": ("E11.9",)},
    "QMB, behavioural health": {"conditions": ("E11.9", "F32.A"), "qmb": True},
    "focus condition": {"program": "pcm_focus", "focus_condition": "I10"},
    "focus not on the list": {"program": "pcm_focus", "focus_condition": "J44.9"},
    "APCM": {"program": "apcm", "conditions": ("E11.9", "I10", "F41.1")},
    "APCM, no visit in three years": {
        "program": "apcm",
        "initiating_visit_date": dt.date(2020, 1, 6),
        "consent_date": dt.date(2020, 1, 6),
        "care_plan_date": dt.date(2020, 1, 6),
    },
    "visit long ago, last visit recent": {
        "initiating_visit_date": dt.date(2020, 1, 6),
        "consent_date": dt.date(2020, 1, 6),
        "care_plan_date": dt.date(2020, 1, 6),
        "last_visit_date": dt.date(2024, 2, 1),
    },
    "payer pays CCM only": {"coverage": Coverage("MCR", "Medicare", "medicare", ("ccm",))},
    "no consent": {"consent_date": None},
}
MONTH_FACTS = {
    "nothing on file": MonthFacts(),
    "billed elsewhere": MonthFacts(billed_elsewhere=True),
    "G0181": MonthFacts(other_services=("G0181",)),
    "TCM": MonthFacts(other_services=("99495",)),
    "moderate complexity": MonthFacts(complexity="moderate"),
}
WORK = {  # (CCM minutes, BHI minutes, BHI face to face)
    "no time": (0, 0, False),
    "short CCM": (12, 0, False),
    "CCM and BHI": (45, 25, False),
    "BHI below 20 minutes": (25, 15, False),
    "BHI face to face": (30, 30, True),
}


def _under(program: str, facts: PatientFacts) -> PatientFacts:
    focus = facts.focus_condition if program == "pcm_focus" else None
    return dataclasses.replace(facts, program=program, focus_condition=focus)


def _offered(r: MonthResult) -> set[str]:
    """The programs the month is priced under (docs: "Which program pays more")."""
    m = r.inputs[0]
    if r.program == "apcm":
        return {"ccm"}
    if r.program == "pcm_focus":
        return {"ccm", "apcm"} if m.apcm_attested else {"ccm"}
    return {"apcm"} if m.apcm_attested else set()


@pytest.mark.parametrize(
    ("month", "who", "facts", "work"),
    list(itertools.product(ATTESTED, PATIENTS, MONTH_FACTS, WORK)),
)
def test_a_price_is_what_the_month_bills_under_that_program(
    month: str, who: str, facts: str, work: str
) -> None:
    m = ATTESTED[month]
    p = _patient(**PATIENTS[who])
    segments = _work(month, *WORK[work])
    r = evaluate(m, p, MONTH_FACTS[facts], segments)
    priced = {price.program: price for price in r.others}
    for program in _offered(r):
        other = evaluate(m, _under(program, p), MONTH_FACTS[facts], segments)
        if not other.billable:
            assert program not in priced, program
        else:
            assert priced[program].lines == other.all_lines, program
    assert set(priced) <= _offered(r)
    assert [price.amount_cents for price in r.others] == sorted(
        (price.amount_cents for price in r.others), reverse=True
    )
    pays_more = bool(r.others) and r.others[0].amount_cents > r.total_cents
    assert ("OTHER_PROGRAM_PAYS_MORE" in r.warnings) == pays_more
    assert (r.pays_more is not None) == pays_more


def test_the_cases_price_apcm_both_ways_and_with_and_without_bhi() -> None:
    """The cases above reach both sides of every comparison they check."""
    results = [
        evaluate(
            ATTESTED[month], _patient(**PATIENTS[who]), MONTH_FACTS[facts], _work(month, *WORK[w])
        )
        for month, who, facts, w in itertools.product(ATTESTED, PATIENTS, MONTH_FACTS, WORK)
    ]
    apcm = [price for r in results for price in r.others if price.program == "apcm"]
    assert apcm and any(r.program == "ccm" and not r.others for r in results)
    assert any("99484" in price.codes for price in apcm)
    assert any(price.codes.startswith("G0558") for price in apcm)
    assert any("OTHER_PROGRAM_PAYS_MORE" in r.warnings for r in results)
    assert any(r.others and "OTHER_PROGRAM_PAYS_MORE" not in r.warnings for r in results)
