"""Fee schedules: administrators change a year's amounts; billing charges them; audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent
from ccmdesk.rules.catalog import DEFAULT_FEES
from ccmdesk.services import PermissionDenied, ServiceError, Services, ValidationFailed
from tests.helpers.common import ADMIN, BILLER, CLI


def test_a_year_lists_every_code_with_its_amount(staffed: Services) -> None:
    lines = staffed.fees.schedule(BILLER, 2026)
    assert {line.code: line.cents for line in lines} == DEFAULT_FEES[2026]
    assert lines[0].code == "99424" and lines[-1].code.startswith("G")  # CPT first, then G
    assert all(line.description for line in lines)
    assert staffed.fees.years() == [2025, 2026]


def test_a_year_without_its_own_schedule_shows_the_one_in_force_then_gets_its_own(
    staffed: Services, db: Database
) -> None:
    assert {x.code: x.cents for x in staffed.fees.schedule(ADMIN, 2027)} == DEFAULT_FEES[2026]
    staffed.fees.save(ADMIN, 2027, {"99490": 6800}, reason="2027 physician fee schedule")
    amounts = {x.code: x.cents for x in staffed.fees.schedule(ADMIN, 2027)}
    assert amounts == {**DEFAULT_FEES[2026], "99490": 6800}
    assert staffed.fees.years() == [2025, 2026, 2027]
    assert {x.code: x.cents for x in staffed.fees.schedule(ADMIN, 2026)} == DEFAULT_FEES[2026]
    with db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "fees.update")).one()
    assert event.entity_key == "2027" and event.reason == "2027 physician fee schedule"
    assert '"99490":6800' in (event.after or "")


def test_billing_charges_the_changed_amount(staffed: Services) -> None:
    from tests.helpers.billing import import_cases
    from tests.helpers.scenario_cases import CASES, MONTH

    import_cases(staffed, [c for c in CASES if c.number == 2])
    staffed.fees.save(ADMIN, 2026, {"99490": 7100})
    row = staffed.billing.patient_month(BILLER, "S02", MONTH)
    assert row.result.codes == "99490x1" and row.result.amount_cents == 7100


@pytest.mark.parametrize(
    ("year", "amounts", "problem"),
    [
        (1999, {"99490": 100}, "year: must be 2000 to 2100"),
        (2026, {"99213": 100}, "99213: is not a care-management code ccmdesk bills"),
        (2026, {"99490": 0}, "99490: must be more than \\$0.00"),
        (2026, {"99490": 2_000_000}, "at most \\$10,000"),
    ],
)
def test_bad_amounts_are_refused_with_the_reason(
    staffed: Services, year: int, amounts: dict[str, int], problem: str
) -> None:
    with pytest.raises(ValidationFailed, match=problem):
        staffed.fees.save(ADMIN, year, amounts)


def test_a_year_with_a_closed_month_keeps_its_fees(staffed: Services) -> None:
    staffed.closing.close(CLI, "2026-03")
    with pytest.raises(ServiceError, match="2026-03 is closed for billing"):
        staffed.fees.save(ADMIN, 2026, {"99490": 7100})
    staffed.fees.save(ADMIN, 2027, {"99490": 7100})  # another year is free


def test_only_administrators_change_fees(staffed: Services) -> None:
    with pytest.raises(PermissionDenied, match="may not change the fee schedules"):
        staffed.fees.save(BILLER, 2026, {"99490": 7100})
