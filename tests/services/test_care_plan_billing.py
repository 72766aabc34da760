"""The billing service judges a month on the care plan in force: signed versions and plans kept
elsewhere, read from the database (docs/billing-rules.md, "Care plan")."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccmdesk.db import Database
from ccmdesk.rules.billing import MonthResult
from ccmdesk.services import Services
from tests.helpers.billing import csv_bytes
from tests.helpers.care_plans import signed_plan
from tests.helpers.common import ADMIN, BILLER, CLI, FAST_HASHER, NURSE, FakeClock, patient_text
from tests.helpers.programs import attest_apcm, set_program

MARCH, APRIL = "2026-03", "2026-04"
# 2026-03-10 12:00 in New York: plans signed now are signed on 10 March.
NOW = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
DUE = ("CARE_PLAN_REVIEW_DUE", "CARE_PLAN_NOT_GIVEN")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def _team(staffed: Services, db: Database, clock: FakeClock, external: str) -> Services:
    """P1 (two conditions) with 25 minutes of March and of April; `external`: the date of a
    plan kept elsewhere ("" for none)."""
    staffed.patients.save_text(CLI, patient_text(mrn="P1", care_plan_date=external))
    services = Services(db, clock=clock, hasher=FAST_HASHER)
    for day in (
        dt.datetime(2026, 3, 4, 15, tzinfo=dt.UTC),
        dt.datetime(2026, 4, 2, 15, tzinfo=dt.UTC),
    ):
        clock.now = day + dt.timedelta(hours=1)
        services.entries.add_manual(
            NURSE, "P1", day, day + dt.timedelta(minutes=25), reason="call from home"
        )
    clock.now = NOW
    return services


@pytest.fixture
def team(staffed: Services, db: Database, clock: FakeClock) -> Services:
    return _team(staffed, db, clock, external="")


@pytest.fixture
def elsewhere(staffed: Services, db: Database, clock: FakeClock) -> Services:
    """P1 with a plan kept elsewhere, dated 4 November 2025."""
    return _team(staffed, db, clock, external="2025-11-04")


def month(services: Services, which: str = MARCH) -> MonthResult:
    return services.billing.patient_month(BILLER, "P1", which).result


def plan_codes(result: MonthResult) -> set[str]:
    return {c for c in (*result.blocks, *result.warnings) if "CARE_PLAN" in c}


def test_without_any_plan_the_month_is_blocked(team: Services) -> None:
    assert plan_codes(month(team)) == {"NO_CARE_PLAN"}


def test_a_signed_version_in_force_unblocks_the_month_until_a_copy_is_given(
    team: Services,
) -> None:
    version = signed_plan(team, "P1")
    result = month(team)
    assert "NO_CARE_PLAN" not in result.blocks and result.billable
    assert plan_codes(result) == {"CARE_PLAN_NOT_GIVEN"}
    team.care_plans.record_copy(NURSE, "P1", version.number, dt.date(2026, 3, 10), "in_person")
    assert plan_codes(month(team)) == set()


def test_a_version_signed_after_the_month_leaves_it_blocked(
    team: Services, clock: FakeClock
) -> None:
    clock.now = dt.datetime(2026, 4, 1, 14, tzinfo=dt.UTC)  # 1 April in New York
    signed_plan(team, "P1")
    assert plan_codes(month(team, MARCH)) == {"NO_CARE_PLAN"}
    assert plan_codes(month(team, APRIL)) == {"CARE_PLAN_NOT_GIVEN"}


def test_a_plan_kept_elsewhere_bills_with_neither_warning(elsewhere: Services) -> None:
    result = month(elsewhere)
    assert result.billable and plan_codes(result) == set()


def test_the_signed_version_wins_over_a_plan_kept_elsewhere(
    elsewhere: Services, clock: FakeClock
) -> None:
    clock.now = dt.datetime(2026, 4, 1, 14, tzinfo=dt.UTC)
    signed_plan(elsewhere, "P1", review_on=dt.date(2026, 4, 20))
    # March is still billed on the external plan; April on the signed version, whose review
    # date passed before 30 April and which was never given.
    assert plan_codes(month(elsewhere, MARCH)) == set()
    assert plan_codes(month(elsewhere, APRIL)) == set(DUE)


def test_review_due_only_when_the_review_date_is_before_the_months_last_day(
    team: Services,
) -> None:
    signed_plan(team, "P1", review_on=dt.date(2026, 3, 31))
    assert "CARE_PLAN_REVIEW_DUE" not in month(team, MARCH).warnings  # the last day itself
    assert "CARE_PLAN_REVIEW_DUE" in month(team, APRIL).warnings
    signed_plan(team, "P1", review_on=dt.date(2026, 3, 30))
    assert "CARE_PLAN_REVIEW_DUE" in month(team, MARCH).warnings


def test_a_copy_of_an_earlier_version_does_not_count_for_the_newer_one(team: Services) -> None:
    first = signed_plan(team, "P1")
    team.care_plans.record_copy(NURSE, "P1", first.number, dt.date(2026, 3, 10), "mail")
    assert "CARE_PLAN_NOT_GIVEN" not in month(team).warnings
    signed_plan(team, "P1", goals="HbA1c below 7.5% by October.")
    assert "CARE_PLAN_NOT_GIVEN" in month(team).warnings


def test_apcm_months_get_the_same_block_and_warnings(team: Services, db: Database) -> None:
    attest_apcm(db)
    set_program(db, "P1", "apcm")
    assert month(team).program == "apcm"
    assert plan_codes(month(team)) == {"NO_CARE_PLAN"}
    signed_plan(team, "P1", review_on=dt.date(2026, 3, 30))
    result = month(team)
    assert result.billable and plan_codes(result) == set(DUE)


def test_general_bhi_months_get_the_same_block_and_warnings(
    team: Services, clock: FakeClock
) -> None:
    row = patient_text(mrn="P1", care_plan_date="", conditions="E11.9;F32.9")
    team.patients.save_text(CLI, row, "P1")  # a behavioural-health condition
    start = dt.datetime(2026, 3, 5, 15, tzinfo=dt.UTC)
    team.entries.add_manual(
        NURSE, "P1", start, start + dt.timedelta(minutes=21), reason="call", service="bhi"
    )
    bhi = month(team).bhi
    assert bhi is not None and plan_codes(bhi) == {"NO_CARE_PLAN"}
    signed_plan(team, "P1", review_on=dt.date(2026, 3, 30))
    bhi = month(team).bhi
    assert bhi is not None and bhi.billable and plan_codes(bhi) == set(DUE)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(days_after=st.integers(min_value=1, max_value=400), copy=st.booleans())
def test_a_plan_signed_after_the_month_never_changes_that_month(
    elsewhere: Services, clock: FakeClock, days_after: int, copy: bool
) -> None:
    """Whatever is signed or given after March, March's result is the same (its plan in force
    cannot move)."""
    clock.now = NOW
    before = month(elsewhere)
    clock.now = dt.datetime(2026, 3, 31, 16, tzinfo=dt.UTC) + dt.timedelta(days=days_after)
    version = signed_plan(elsewhere, "P1", review_on=clock.now.date() + dt.timedelta(days=30))
    if copy:
        given_on = clock.now.date()
        elsewhere.care_plans.record_copy(NURSE, "P1", version.number, given_on, "portal")
    clock.now = NOW
    after = month(elsewhere)
    assert (after.blocks, after.warnings, after.codes, after.amount_cents) == (
        before.blocks,
        before.warnings,
        before.codes,
        before.amount_cents,
    )


def test_a_closed_month_keeps_its_bill_when_a_plan_is_signed_or_given_later(
    team: Services, clock: FakeClock
) -> None:
    first = signed_plan(team, "P1")
    clock.now = dt.datetime(2026, 4, 15, 16, tzinfo=dt.UTC)
    before = month(team)
    assert before.billable and "CARE_PLAN_NOT_GIVEN" in before.warnings
    team.closing.close(BILLER, MARCH)
    # A newer version signed in April, and a copy of March's version given: March's warning
    # goes, its bill does not move and nothing is flagged.
    signed_plan(team, "P1", goals="HbA1c below 7.5% by October.")
    team.care_plans.record_copy(NURSE, "P1", first.number, dt.date(2026, 4, 15), "in_person")
    after = month(team)
    assert "CARE_PLAN_NOT_GIVEN" not in after.warnings
    assert (after.codes, after.amount_cents, after.signed) == (
        before.codes,
        before.amount_cents,
        before.signed,
    )
    check = team.closing.check(BILLER, MARCH)
    assert check.closed and check.ok and check.flags == ()
    assert team.closing.check_all(BILLER) == []
    assert team.audit.verify(ADMIN).ok


def test_an_imported_care_plan_date_is_a_plan_kept_elsewhere_until_a_version_is_signed(
    staffed: Services, db: Database, clock: FakeClock
) -> None:
    clock.now = dt.datetime(2026, 4, 15, 16, tzinfo=dt.UTC)
    services = Services(db, clock=clock, hasher=FAST_HASHER)
    patients = [patient_text(mrn="P1", care_plan_date="2026-03-05")]
    entries = [
        {"mrn": "P1", "staff_id": "rn-lee", "start": start, "end": end, "service": "ccm"}
        for start, end in (
            ("2026-03-04T09:00:00-05:00", "2026-03-04T09:25:00-05:00"),
            ("2026-04-02T09:00:00-04:00", "2026-04-02T09:25:00-04:00"),
        )
    ]
    services.imports.import_data(
        CLI, [("patients.csv", csv_bytes(patients)), ("time_entries.csv", csv_bytes(entries))]
    )
    assert plan_codes(month(services, "2026-02")) == {"NO_CARE_PLAN"}  # dated after February
    for which in (MARCH, APRIL):
        result = month(services, which)
        assert result.billable and plan_codes(result) == set()
    signed_plan(services, "P1")  # signed 15 April
    assert plan_codes(month(services, MARCH)) == set()
    assert plan_codes(month(services, APRIL)) == {"CARE_PLAN_NOT_GIVEN"}
