"""The monthly summary's programs: the program, the general BHI and the comparison, and what a
signature covers of them (nothing new for a CCM month without BHI time)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import MonthlyReview
from ccmdesk.services import Services
from ccmdesk.services.audit import canonical_json
from ccmdesk.services.billing.comparison import Compared
from ccmdesk.services.billing.evaluation import BillingRow
from ccmdesk.services.review import LogLine
from tests.helpers.billing import add_case_staff, import_cases
from tests.helpers.common import DOCTOR
from tests.helpers.programs import attest_apcm, set_program
from tests.helpers.scenario_cases import CASES, MONTH, Case, w


def _case(number: int) -> Case:
    return next(c for c in CASES if c.number == number)


def _with_bhi(case: Case, minutes: int) -> Case:
    return dataclasses.replace(
        case,
        patient={**case.patient, "conditions": ("F33.1", "I10")},
        work=(*case.work, w("RN", minutes, 20, hour=15, service="bhi")),
    )


@pytest.fixture
def team(staffed: Services, db: Database) -> Services:
    add_case_staff(staffed)
    # S02 bills 99490 under CCM; S05 60 minutes (99490 + 99439 x2); S04 has 21 minutes of BHI.
    import_cases(staffed, (_case(2), _with_bhi(_case(4), 21), _case(5)))
    attest_apcm(db)
    return staffed


def _signed(db: Database, mrn: str) -> dict[str, object]:
    with db.session() as session:
        reviews = session.scalars(select(MonthlyReview)).all()
        texts = [r.summary for r in reviews if json.loads(r.summary)["mrn"] == mrn]
    assert len(texts) == 1
    return json.loads(texts[0])  # type: ignore[no-any-return]


def _before_programs(row: BillingRow, log: Sequence[LogLine]) -> str:
    """The signature document as it was written before issue #18, byte for byte."""
    r = row.result
    return canonical_json(
        {
            "mrn": row.mrn,
            "month": r.month,
            "codes": [[line.code, line.units] for line in r.lines],
            "amount_cents": r.amount_cents,
            "countable_seconds": r.countable_seconds,
            "practitioner_seconds": r.practitioner_seconds,
            "excluded": dict(r.excluded),
            "entries": [
                [line.entry_id, line.started_at, line.ended_at, line.seconds, line.service,
                 line.note]
                for line in log
            ],
        }
    ) or ""  # fmt: skip


def test_a_ccm_month_without_bhi_signs_the_same_document_as_before(
    team: Services, db: Database
) -> None:
    summary = team.review.summary(DOCTOR, "S02", MONTH)
    assert summary.row.result.others  # priced under APCM too: the document does not say so
    team.review.sign(DOCTOR, "S02", MONTH)
    with db.session() as session:
        text = session.scalars(select(MonthlyReview.summary)).one()
    assert text == _before_programs(summary.row, summary.log)
    assert not team.review.summary(DOCTOR, "S02", MONTH).changed_since_signed


def test_the_document_carries_the_bhi_codes_and_seconds_when_the_month_has_bhi_time(
    team: Services, db: Database
) -> None:
    team.review.sign(DOCTOR, "S04", MONTH)
    document = _signed(db, "S04")
    assert document["bhi"] == {"codes": [["99484", 1]], "seconds": 21 * 60}
    assert "program" not in document


def test_the_document_names_a_program_other_than_ccm(team: Services, db: Database) -> None:
    set_program(db, "S05", "apcm")
    team.review.sign(DOCTOR, "S05", MONTH)
    document = _signed(db, "S05")
    assert document["program"] == "apcm" and document["codes"] == [["G0557", 1]]
    assert "bhi" not in document


def test_the_summary_compares_the_program_billed_with_the_others(
    team: Services, db: Database
) -> None:
    set_program(db, "S05", "apcm")
    summary = team.review.summary(DOCTOR, "S05", MONTH)
    assert summary.program == "APCM"
    assert summary.comparison == [
        Compared("apcm", "APCM", "G0557x1", 5378, billed=True, best=False),
        Compared("ccm", "CCM/PCM", "99490x1;99439x2", 16701, billed=False, best=True),
    ]
    # A CCM month that pays more than APCM: compared, nothing marked as paying more.
    ccm = team.review.summary(DOCTOR, "S02", MONTH)
    assert ccm.program == "CCM/PCM"
    assert [(c.program, c.best) for c in ccm.comparison] == [("ccm", False), ("apcm", False)]
