"""Input limits (#15): one strict month check, escaped messages, and lengths for free text."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from ccmdesk.db import Database
from ccmdesk.rules.records import StaffRecord
from ccmdesk.rules.validation import NOTE_LIMIT, OTHER_SERVICES_LIMIT, REASON_LIMIT
from ccmdesk.services import (
    MonthFactsRecord,
    NotFound,
    ServiceError,
    Services,
    ValidationFailed,
)
from tests.helpers.common import ADMIN, BILLER, CLI, DOCTOR, NURSE, FakeClock, patient_text
from tests.helpers.database import db_dump

ODD_MONTHS = [
    "２０２６-03",  # full-width digits: billed as March while matching none of March's rows
    "2026-０３",
    "0000-01",
    "1999-12",
    "2100-01",
    "9999-12",
    "2026-1",
    " 2026-03",
    "2026-03\n",
]
LONG_NOTE = "n" * (NOTE_LIMIT + 1)
LONG_REASON = "r" * (REASON_LIMIT + 1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 4, 15, 16, 0, tzinfo=dt.UTC))


@pytest.fixture
def team(db: Database, staffed: Services, clock: FakeClock) -> Services:
    staffed.patients.save_text(CLI, patient_text(mrn="1001"))
    return Services(db, clock=clock)


def reads_of_a_month(team: Services, tmp_path: Path) -> dict[str, Callable[[str], object]]:
    """Every service call that takes a month, as month -> call."""
    return {
        "billing.month": lambda m: team.billing.month(BILLER, m),
        "billing.patient_month": lambda m: team.billing.patient_month(BILLER, "1001", m),
        "month_facts.get": lambda m: team.month_facts.get(BILLER, "1001", m),
        "month_facts.save": lambda m: team.month_facts.save(
            BILLER, "1001", m, MonthFactsRecord(billed_elsewhere=True)
        ),
        "families.choose": lambda m: team.families.choose(BILLER, "1001", m, None, "why"),
        "review.queue": lambda m: team.review.queue(DOCTOR, m),
        "review.summary": lambda m: team.review.summary(DOCTOR, "1001", m),
        "review.sign": lambda m: team.review.sign(DOCTOR, "1001", m),
        "review.unlock": lambda m: team.review.unlock(DOCTOR, "1001", m, "why"),
        "closing.state": lambda m: team.closing.state(BILLER, m),
        "closing.close": lambda m: team.closing.close(BILLER, m),
        "closing.reopen": lambda m: team.closing.reopen(ADMIN, m, "why"),
        "export.export": lambda m: team.export.export(BILLER, m, tmp_path / "out"),
        "minutes.worklist": lambda m: team.minutes.worklist(NURSE, m),
        "minutes.month_progress": lambda m: team.minutes.month_progress(NURSE, "1001", m),
        "time_log.patient_log": lambda m: team.time_log.patient_log(NURSE, "1001", m),
    }


@pytest.mark.parametrize("month", ODD_MONTHS)
def test_every_service_refuses_an_odd_month_with_a_sentence(
    team: Services, db: Database, tmp_path: Path, month: str
) -> None:
    before = db_dump(db)
    for name, call in reads_of_a_month(team, tmp_path).items():
        with pytest.raises(ServiceError, match=r"is not a month|outside the months") as caught:
            call(month)
        message = str(caught.value)
        assert "\n" not in message, name  # the month is quoted escaped
        assert not isinstance(caught.value, NotFound), name
    assert db_dump(db) == before
    assert not (tmp_path / "out").exists()


def test_the_first_and_last_accepted_months_work(team: Services) -> None:
    for month in ("2000-01", "2099-12"):
        assert team.billing.month(BILLER, month).month == month


# --- notes, reasons and names ------------------------------------------------------------------


def test_a_note_longer_than_the_limit_is_refused_on_every_path(
    team: Services, clock: FakeClock
) -> None:
    start = clock.now - dt.timedelta(hours=2)
    with pytest.raises(ValidationFailed, match=f"note: is {NOTE_LIMIT + 1} characters long"):
        team.entries.add_manual(
            NURSE, "1001", start, start + dt.timedelta(minutes=5), reason="call", note=LONG_NOTE
        )
    entry = team.entries.add_manual(
        NURSE, "1001", start, start + dt.timedelta(minutes=5), reason="call", note="n" * NOTE_LIMIT
    )
    with pytest.raises(ValidationFailed, match=f"at most {NOTE_LIMIT}"):
        team.entries.edit(NURSE, entry.entry_id, reason="typo", note=LONG_NOTE)
    timer = team.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=3)
    with pytest.raises(ValidationFailed, match=f"at most {NOTE_LIMIT}"):
        team.stopwatch.stop(NURSE, timer.entry_id, activity="Education", note=LONG_NOTE)
    assert team.stopwatch.open_timers(NURSE)[0].state == "running"  # nothing was stopped
    team.stopwatch.stop(NURSE, timer.entry_id, activity="Education", note="fine")


def test_a_reason_longer_than_the_limit_is_refused_on_every_path(
    team: Services, db: Database, clock: FakeClock
) -> None:
    start = clock.now - dt.timedelta(hours=2)
    entry = team.entries.add_manual(
        NURSE, "1001", start, start + dt.timedelta(minutes=5), reason="call"
    )
    timer = team.stopwatch.start(NURSE, "1001")
    clock.advance(minutes=2)
    before = db_dump(db)
    calls: dict[str, Callable[[], object]] = {
        "add_manual": lambda: team.entries.add_manual(
            NURSE, "1001", start - dt.timedelta(hours=1), start, reason=LONG_REASON
        ),
        "edit": lambda: team.entries.edit(NURSE, entry.entry_id, reason=LONG_REASON, note="x"),
        "delete": lambda: team.entries.delete(NURSE, entry.entry_id, LONG_REASON),
        "discard": lambda: team.stopwatch.discard(NURSE, timer.entry_id, LONG_REASON),
        "stop": lambda: team.stopwatch.stop(NURSE, timer.entry_id, reason=LONG_REASON),
        "keep idle": lambda: team.corrections.resolve_idle(
            NURSE, timer.entry_id, clock.now - dt.timedelta(minutes=1), "keep", LONG_REASON
        ),
        "unlock": lambda: team.review.unlock(DOCTOR, "1001", "2026-03", LONG_REASON),
        "reopen": lambda: team.closing.reopen(ADMIN, "2026-03", LONG_REASON),
        "month facts": lambda: team.month_facts.save(
            BILLER, "1001", "2026-03", MonthFactsRecord(billed_elsewhere=True), LONG_REASON
        ),
        "family": lambda: team.families.choose(BILLER, "1001", "2026-03", "ccm", LONG_REASON),
        "fees": lambda: team.fees.save(ADMIN, 2026, {"99490": 6000}, LONG_REASON),
    }
    for name, call in calls.items():
        with pytest.raises(ValidationFailed) as caught:
            call()
        assert [(e.field, e.message) for e in caught.value.errors] == [
            ("reason", f"is {REASON_LIMIT + 1} characters long; at most {REASON_LIMIT}")
        ], name
    assert db_dump(db) == before


def test_names_longer_than_their_limit_are_refused_by_the_services(team: Services) -> None:
    with pytest.raises(ValidationFailed, match="first_name: is 101 characters long; at most 100"):
        team.patients.save_text(CLI, patient_text(mrn="1002", first_name="A" * 101))
    with pytest.raises(ValidationFailed, match="name: is 201 characters long; at most 200"):
        team.staff.save(CLI, StaffRecord("rn-new", "B" * 201, "clinical"), is_new=True)


def test_month_facts_take_at_most_the_limit_of_other_services(team: Services) -> None:
    codes = tuple(f"G{n:04d}" for n in range(OTHER_SERVICES_LIMIT + 1))
    record = MonthFactsRecord(other_services=codes)
    with pytest.raises(ValidationFailed, match=f"at most {OTHER_SERVICES_LIMIT}"):
        team.month_facts.save(BILLER, "1001", "2026-03", record)
    fewer = dataclasses.replace(record, other_services=codes[:OTHER_SERVICES_LIMIT])
    team.month_facts.save(BILLER, "1001", "2026-03", fewer)
    # Letters and digits of other scripts are not a CPT or HCPCS code.
    with pytest.raises(ValidationFailed, match="not a CPT or HCPCS code"):
        team.month_facts.save(
            BILLER, "1001", "2026-03", MonthFactsRecord(other_services=("Ｇ０１８１",))
        )


def test_service_messages_quote_what_was_typed_with_control_characters_escaped(
    team: Services,
) -> None:
    with pytest.raises(NotFound) as caught:
        team.patients.get(CLI, "1001\n\x1b[2Jforged line")
    assert str(caught.value) == "There is no patient with MRN '1001\\n\\x1b[2Jforged line'."
