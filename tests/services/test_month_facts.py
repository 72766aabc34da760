"""The month-facts rules say the same sentence through the service and through the import."""

from __future__ import annotations

import datetime as dt

import pytest

from ccmdesk.db import Database
from ccmdesk.rules.validation import OTHER_SERVICES_LIMIT
from ccmdesk.services import ImportFailed, MonthFactsRecord, Services, ValidationFailed
from tests.helpers.common import BILLER, CLI, FakeClock, patient_text

D = dt.date
MANY = tuple(f"G{n:04d}" for n in range(OTHER_SERVICES_LIMIT + 1))


@pytest.fixture
def team(db: Database, staffed: Services) -> Services:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    return Services(db, clock=FakeClock(dt.datetime(2026, 4, 15, 16, tzinfo=dt.UTC)))


@pytest.mark.parametrize(
    ("record", "cells"),
    [
        (MonthFactsRecord(complexity="severe"), "severe,,no,"),
        (MonthFactsRecord(other_services=("G01",)), "none,G01,no,"),
        (MonthFactsRecord(other_services=MANY), "none," + ";".join(MANY) + ",no,"),
        (
            MonthFactsRecord(inpatient_stays=((D(2026, 3, 12), D(2026, 3, 10)),)),
            "none,,no,2026-03-12..2026-03-10",
        ),
        (
            MonthFactsRecord(inpatient_stays=((D(2026, 4, 2), D(2026, 4, 3)),)),
            "none,,no,2026-04-02..2026-04-03",
        ),
    ],
    ids=["complexity", "code", "too many codes", "stay ends first", "stay outside the month"],
)
def test_the_service_and_the_import_refuse_a_month_fact_with_one_sentence(
    team: Services, record: MonthFactsRecord, cells: str
) -> None:
    with pytest.raises(ValidationFailed) as typed:
        team.month_facts.save(BILLER, "1001", "2026-03", record)
    [error] = typed.value.errors
    months = "mrn,month,complexity,other_services,billed_elsewhere,inpatient\n"
    months += f"1001,2026-03,{cells}\n"
    with pytest.raises(ImportFailed) as imported:
        team.imports.import_data(CLI, [("months.csv", months.encode())])
    assert imported.value.problems == [f"months.csv:2: {error.field}: {error.message}"]
