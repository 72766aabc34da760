"""Capability flags: each is false exactly when its action is refused, with the same sentence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pytest

from ccmdesk.db import Database
from ccmdesk.services import Actor, MonthFactsRecord, ServiceError, Services
from tests.helpers.billing import with_second_doctor_and_cases
from tests.helpers.common import ADMIN, BILLER, CLI, DOCTOR, NURSE, FakeClock
from tests.helpers.scenario_cases import MONTH

SIGNED_MRN, OTHER_MRN = "S13", "S02"  # Dr. A's patients, billable in MONTH


@pytest.fixture
def team(staffed: Services) -> Services:
    return with_second_doctor_and_cases(staffed)


def sign(team: Services) -> None:
    team.review.sign(DOCTOR, SIGNED_MRN, MONTH)


def close(team: Services) -> None:
    team.closing.close(BILLER, MONTH)


def sign_and_close(team: Services) -> None:
    sign(team)
    close(team)


def running_stopwatch(team: Services, db: Database) -> None:
    """A stopwatch started on the month's last evening and never stopped."""
    late = Services(db, clock=FakeClock(dt.datetime(2026, 3, 31, 22, tzinfo=dt.UTC)))
    late.stopwatch.start(NURSE, OTHER_MRN)


Setup = Callable[[Services], None]


def outcome(action: Callable[[], object]) -> str:
    """ "" when the action was done, else the sentence it was refused with."""
    try:
        action()
    except ServiceError as error:  # PermissionDenied is one too
        return str(error)
    return ""


@pytest.mark.parametrize(
    ("actor", "month", "setup", "may"),
    [
        (BILLER, MONTH, None, True),
        (ADMIN, MONTH, None, True),
        (DOCTOR, MONTH, None, False),  # role
        (BILLER, "2026-04", None, False),  # the month is not over
        (BILLER, MONTH, close, False),  # closed already
        (BILLER, MONTH, "running", False),  # a stopwatch still runs in it
    ],
    ids=["billing", "admin", "practitioner", "not over", "closed", "stopwatch running"],
)
def test_can_close_is_false_exactly_when_closing_is_refused(
    team: Services, db: Database, actor: Actor, month: str, setup: Setup | str | None, may: bool
) -> None:
    if setup == "running":
        running_stopwatch(team, db)
    elif callable(setup):
        setup(team)
    state = team.closing.state(actor, month)
    assert state.can_close is may
    assert outcome(lambda: team.closing.close(actor, month)) == state.close_refusal
    assert bool(state.close_refusal) is not may


@pytest.mark.parametrize(
    ("actor", "mrn", "setup", "may"),
    [
        (BILLER, OTHER_MRN, None, True),
        (ADMIN, OTHER_MRN, None, True),
        (DOCTOR, OTHER_MRN, None, False),  # role
        (BILLER, SIGNED_MRN, sign, False),  # signed for the patient
        (BILLER, OTHER_MRN, close, False),  # closed for the practice
        (BILLER, SIGNED_MRN, sign_and_close, False),  # both: the closing is named
    ],
    ids=["billing", "admin", "practitioner", "signed", "closed", "signed and closed"],
)
def test_can_switch_family_is_false_exactly_when_switching_is_refused(
    team: Services, actor: Actor, mrn: str, setup: Setup | None, may: bool
) -> None:
    if setup is not None:
        setup(team)
    month = team.billing.month(actor, MONTH)
    row = next(r for r in month.rows if r.mrn == mrn)
    assert month.can_switch_family(row) is may
    refusal = month.switch_family_refusal(row)
    assert outcome(lambda: team.families.choose(actor, mrn, MONTH, None, "why")) == refusal
    assert bool(refusal) is not may


@pytest.mark.parametrize(
    ("actor", "setup", "may"),
    [
        (DOCTOR, sign, True),
        (ADMIN, sign, True),
        (BILLER, sign, False),  # role
        (DOCTOR, None, False),  # nothing signed
        (DOCTOR, sign_and_close, False),  # closed for the practice
    ],
    ids=["own practitioner", "admin", "billing", "not signed", "closed"],
)
def test_can_unlock_is_false_exactly_when_unlocking_is_refused(
    team: Services, actor: Actor, setup: Setup | None, may: bool
) -> None:
    if setup is not None:
        setup(team)
    summary = team.review.summary(actor, SIGNED_MRN, MONTH)
    assert summary.can_unlock is may
    refusal = summary.unlock_refusal
    assert outcome(lambda: team.review.unlock(actor, SIGNED_MRN, MONTH, "why")) == refusal
    assert bool(refusal) is not may


def test_a_practitioner_may_not_unlock_another_practitioners_patient() -> None:
    from ccmdesk.services.review import unlock_refusal

    other = Actor(key="dr-b", name="Dr. B", role="practitioner")
    refusal = unlock_refusal(other, MONTH, "Ana Rivera", own=False, closed=False, signed=True)
    assert refusal is not None and refusal.denied
    assert refusal.message == (
        "Dr. B is not the billing practitioner of Ana Rivera; only that practitioner (or an "
        "administrator) may do this."
    )
    assert unlock_refusal(DOCTOR, MONTH, "Ana Rivera", own=True, closed=False, signed=True) is None


OTHER_DOCTOR = Actor(key="dr-b", name="Dr. B", role="practitioner")


def facts_change(team: Services, mrn: str, what: str) -> MonthFactsRecord:
    """The month's facts with complexity (or, for "set", billed elsewhere) changed."""
    now = team.month_facts.get(CLI, mrn, MONTH)
    if what == "attest":
        return replace(now, complexity="moderate" if now.complexity != "moderate" else "high")
    return replace(now, billed_elsewhere=not now.billed_elsewhere)


def agrees_with_save(
    team: Services, actor: Actor, mrn: str, setup: Setup | None, may: bool, what: str
) -> None:
    """for_edit's flag ("attest" or "set") is `may`, and its refusal is save()'s, word for word."""
    if setup is not None:
        setup(team)
    facts = team.month_facts.for_edit(actor, mrn, MONTH)
    flag, refusal = (
        (facts.can_attest, facts.attest_refusal)
        if what == "attest"
        else (facts.can_set, facts.set_refusal)
    )
    assert flag is may
    changed = facts_change(team, mrn, what)
    assert outcome(lambda: team.month_facts.save(actor, mrn, MONTH, changed, "why")) == refusal


@pytest.mark.parametrize(
    ("actor", "mrn", "setup", "may"),
    [
        (DOCTOR, OTHER_MRN, None, True),  # the patient's own billing practitioner
        (OTHER_DOCTOR, OTHER_MRN, None, False),  # not this patient's practitioner
        (BILLER, OTHER_MRN, None, False),  # role
        (DOCTOR, SIGNED_MRN, sign, False),  # signed
        (DOCTOR, OTHER_MRN, close, False),  # closed for the practice
    ],
    ids=["own practitioner", "other practitioner", "billing", "signed", "closed"],
)
def test_can_attest_is_false_exactly_when_attesting_complexity_is_refused(
    team: Services, actor: Actor, mrn: str, setup: Setup | None, may: bool
) -> None:
    agrees_with_save(team, actor, mrn, setup, may, "attest")


@pytest.mark.parametrize(
    ("actor", "mrn", "setup", "may"),
    [
        (BILLER, OTHER_MRN, None, True),
        (ADMIN, OTHER_MRN, None, True),
        (NURSE, OTHER_MRN, None, False),  # role
        (BILLER, SIGNED_MRN, sign, False),  # signed
        (BILLER, OTHER_MRN, close, False),  # closed for the practice
    ],
    ids=["billing", "admin", "clinical staff", "signed", "closed"],
)
def test_can_set_is_false_exactly_when_setting_month_facts_is_refused(
    team: Services, actor: Actor, mrn: str, setup: Setup | None, may: bool
) -> None:
    agrees_with_save(team, actor, mrn, setup, may, "set")


def test_who_cannot_attest_is_told_who_does(team: Services) -> None:
    facts = team.month_facts.for_edit(BILLER, OTHER_MRN, MONTH)
    assert facts.attest_refusal == (
        "Only the patient's billing practitioner, Dr. A, attests complexity; "
        f"{BILLER.name} may not attest complexity."
    )
