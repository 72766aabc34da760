"""`audit verify --deep`: the data tables rebuilt from the audit trail name every edit made
behind ccmdesk's back, and ordinary use (the demo, the GUI's services, imports) comes out clean."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccmdesk.db import Database, open_database
from ccmdesk.rules.records import PatientRecord, StaffRecord, StopwatchSettings
from ccmdesk.services import MonthFactsRecord, PermissionDenied, Services
from ccmdesk.services.deep_check import (
    CLOSE_FIELDS,
    NOT_KEPT,
    DeepCheck,
    Event,
    compare,
    replay_care_plans,
    replay_closes,
    replay_fees,
    replay_time_entries,
)
from ccmdesk.services.demo import ENTRY_COLUMNS, build_demo
from tests.helpers.care_plans import COMPLETE, signed_plan
from tests.helpers.common import CLI, FAST_HASHER, NOW, NURSE, FakeClock
from tests.helpers.common import patient_text as common_patient_text

DB_FILE = "ccmdesk.sqlite3"


def deep(path: Path) -> DeepCheck:
    database = open_database(f"sqlite:///{path}", path.parent / "backups")
    try:
        return Services(database, clock=lambda: NOW, hasher=FAST_HASHER).audit.deep_check(CLI)
    finally:
        database.dispose()


def messages(check: DeepCheck) -> list[str]:
    return [d.message() for d in check.differences]


def tamper(path: Path, *statements: str, parameters: tuple[object, ...] = ()) -> None:
    """Someone with the database file and the sqlite3 shell."""
    connection = sqlite3.connect(path)
    try:
        for statement in statements:
            connection.execute(statement, parameters if "?" in statement else ())
        connection.commit()
    finally:
        connection.close()


def one(path: Path, query: str) -> object:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(query).fetchone()[0]
    finally:
        connection.close()


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo practice, made once; each test edits its own copy."""
    folder = tmp_path_factory.mktemp("demo")
    database = open_database(f"sqlite:///{folder / DB_FILE}", folder / "backups")
    Services(database, clock=lambda: NOW, hasher=FAST_HASHER).demo.create(CLI)
    database.dispose()
    return folder / DB_FILE


@pytest.fixture
def demo(demo_file: Path, tmp_path: Path) -> Path:
    for part in demo_file.parent.glob(DB_FILE + "*"):
        shutil.copy(part, tmp_path / part.name)
    return tmp_path / DB_FILE


# --- the F12 edits, each named with its table and key ------------------------------------------


def test_the_demo_as_made_matches_its_audit_trail(demo: Path) -> None:
    check = deep(demo)
    assert check.ok, messages(check)
    assert check.summary().startswith("The data tables match the audit trail (")
    assert "Every field is covered." in check.summary()
    tables = {c.table: c.rows for c in check.coverage}
    assert tables["patient"] >= 190 and tables["time_entry"] > 1000 and tables["staff"] == 8


def test_a_nurse_made_administrator_is_named(demo: Path) -> None:
    tamper(demo, "UPDATE staff SET role = 'admin' WHERE staff_id = 'rn-lee'")
    check = deep(demo)
    assert messages(check) == [
        'staff rn-lee: role: the table holds "admin"; the audit trail says "clinical"'
    ]


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE time_segment SET ended_at = datetime(ended_at, '+45 minutes') WHERE entry_id = 7",
        "UPDATE time_segment SET started_at = datetime(started_at, '-45 minutes') "
        "WHERE entry_id = 7",
    ],
)
def test_45_minutes_added_to_an_entry_are_named(demo: Path, edit: str) -> None:
    mrn = one(demo, "SELECT mrn FROM patient JOIN time_entry ON patient_id = patient.id "
                    "WHERE time_entry.id = 7")  # fmt: skip
    tamper(demo, edit)
    (message,) = messages(deep(demo))
    assert message.startswith(f"time_entry 7 (MRN {mrn}, ")
    assert ": segments: the table holds " in message
    held, said = message.split("the table holds ")[1].split("; the audit trail says ")
    assert int(held.split(" min")[0]) == int(said.split(" min")[0]) + 45


def test_fees_multiplied_by_ten_are_named_row_by_row(demo: Path) -> None:
    rows = one(demo, "SELECT count(*) FROM fee_schedule_amount")
    tamper(demo, "UPDATE fee_schedule_amount SET amount_cents = amount_cents * 10")
    found = messages(deep(demo))
    assert len(found) == rows
    assert (
        "fee_schedule_amount 2026 99490: amount_cents: the table holds 66130; "
        "the audit trail says 6613"
    ) in found


def test_a_replaced_password_hash_is_named_without_showing_it(demo: Path) -> None:
    forged = FAST_HASHER.hash("the intruder's password")
    tamper(demo, "UPDATE staff SET password_hash = ? WHERE staff_id = 'admin-patel'",
           parameters=(forged,))  # fmt: skip
    (message,) = messages(deep(demo))
    assert message.startswith("staff admin-patel: password: the table holds a password hash")
    assert forged not in message and forged[-20:] not in message


def test_a_password_given_to_someone_who_had_none_is_named(demo: Path) -> None:
    database = open_database(f"sqlite:///{demo}", demo.parent / "backups")
    services = Services(database, clock=lambda: NOW, hasher=FAST_HASHER)
    services.staff.save(CLI, StaffRecord("rn-new", "Nora New", "clinical", "RN"), is_new=True)
    database.dispose()
    tamper(demo, "UPDATE staff SET password_hash = 'x', pin_hash = 'y' WHERE staff_id = 'rn-new'")
    tamper(demo, "UPDATE staff SET password_hash = NULL WHERE staff_id = 'rn-lee'")
    found = messages(deep(demo))
    assert len(found) == 3
    assert found[0].startswith("staff rn-lee: password: the table holds no password; the ")
    assert found[1].startswith("staff rn-new: password: the table holds a password hash")
    assert found[1].endswith("the audit trail says no password")
    assert found[2].startswith("staff rn-new: pin: the table holds a PIN hash")


def test_a_time_entry_inserted_without_an_event_is_named(demo: Path) -> None:
    tamper(
        demo,
        "INSERT INTO time_entry (patient_id, staff_id, service, face_to_face, activity, note, "
        "state, source, created_at) SELECT 1, id, 'ccm', 0, '', '', 'stopped', 'manual', "
        "'2026-04-01 14:00:00' FROM staff WHERE staff_id = 'rn-lee'",
        "INSERT INTO time_segment (entry_id, started_at, ended_at) "
        "SELECT max(id), '2026-04-01 14:00:00', '2026-04-01 14:45:00' FROM time_entry",
    )
    entry = one(demo, "SELECT max(id) FROM time_entry")
    assert messages(deep(demo)) == [
        f"time_entry {entry} (MRN RB100001, rn-lee): the table holds this row, but no event in "
        "the audit trail made it"
    ]


def test_a_deleted_patient_month_fact_is_named(demo: Path) -> None:
    target = "SELECT min(id) FROM patient_month WHERE complexity != 'none'"
    mrn = one(demo, f"SELECT mrn FROM patient JOIN patient_month ON patient_id = patient.id "
                    f"WHERE patient_month.id = ({target})")  # fmt: skip
    month = one(demo, f"SELECT month FROM patient_month WHERE id = ({target})")
    tamper(
        demo,
        f"DELETE FROM inpatient_stay WHERE patient_month_id = ({target})",
        f"DELETE FROM patient_month WHERE id = ({target})",
    )
    assert messages(deep(demo)) == [
        f"patient_month {mrn} {month}: the audit trail says this row exists; the table has no "
        "such row"
    ]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            "UPDATE enrollment SET consent_revoked_date = NULL WHERE patient_id = "
            "(SELECT id FROM patient WHERE mrn = 'RB100018')",
            "patient RB100018: consent_revoked_date: the table holds nothing; the audit trail "
            'says "2026-02-',
        ),
        (
            "UPDATE patient_month SET complexity = 'high' WHERE complexity = 'moderate' AND id = "
            "(SELECT min(id) FROM patient_month WHERE complexity = 'moderate')",
            ': complexity: the table holds "high"; the audit trail says "moderate"',
        ),
        (
            "UPDATE practice SET tin = '987654321'",
            'practice: tin: the table holds "987654321"; the audit trail says "123456789"',
        ),
        (
            "UPDATE practice SET usage = 'P'",
            'practice: usage: the table holds "P"; the audit trail says "T"',
        ),
        (
            "UPDATE time_entry SET staff_id = (SELECT id FROM staff WHERE staff_id = 'rn-lee') "
            "WHERE id = (SELECT min(e.id) FROM time_entry e JOIN staff s ON s.id = e.staff_id "
            "WHERE s.staff_id != 'rn-lee')",
            ': staff: the table holds "rn-lee"; the audit trail says "',
        ),
        (
            "UPDATE time_segment SET ended_at = 'soon' WHERE entry_id = 7",
            '"soon" (not times); the audit trail says ',
        ),
        (
            # Not even readable by the database driver: the table is named, not a traceback.
            "UPDATE enrollment SET consent_date = 'soon' WHERE patient_id = 1",
            "patient: a value in it cannot be read (",
        ),
        (
            "UPDATE staff SET name = 'Eve' || char(27) || '[2J' WHERE staff_id = 'bill-chen'",
            'staff bill-chen: name: the table holds "Eve\\u001b[2J"; the audit trail says '
            '"Wei Chen"',
        ),
    ],
)
def test_other_edits_behind_ccmdesks_back_are_named(demo: Path, edit: str, expected: str) -> None:
    tamper(demo, edit)
    found = messages(deep(demo))
    assert len(found) == 1 and expected in found[0], found
    assert "\x1b" not in found[0]  # a cell cannot drive the terminal


def test_an_edit_carried_on_by_a_later_event_is_still_named(demo: Path) -> None:
    """The scheduler is made administrator behind ccmdesk's back; a later ordinary edit of his
    name copies the forged role into its after-image, but its before-image gives it away."""
    tamper(demo, "UPDATE staff SET role = 'admin' WHERE staff_id = 'sched-nowak'")
    database = open_database(f"sqlite:///{demo}", demo.parent / "backups")
    services = Services(database, clock=lambda: NOW, hasher=FAST_HASHER)
    admin = services.staff.actor_for("admin-patel")
    record = next(s for s in services.staff.list() if s.staff_id == "sched-nowak")
    services.staff.save(admin, dataclasses.replace(record, name="Piotr Nowak-Lis"), is_new=False)
    database.dispose()
    (message,) = messages(deep(demo))
    assert message.startswith("staff sched-nowak: role: event ")
    assert message.endswith(
        '(staff.update) found "admin" where the audit trail said "non_clinical": it was '
        "changed outside ccmdesk before that event"
    )


def test_signatures_and_closes_changed_behind_ccmdesks_back_are_named(demo: Path) -> None:
    database = open_database(f"sqlite:///{demo}", demo.parent / "backups")
    services = Services(database, clock=lambda: NOW, hasher=FAST_HASHER)
    doctor = services.staff.actor_for("dr-okafor")
    ready = [row.mrn for row, status in services.review.queue(doctor, "2026-03").rows
             if status == "ready to sign"][:2]  # fmt: skip
    services.review.sign_many(doctor, "2026-03", ready)
    services.closing.close(services.staff.actor_for("bill-chen"), "2026-02")
    database.dispose()
    assert deep(demo).ok
    tamper(
        demo,
        # A signature removed (the month can be changed again), another's summary rewritten,
        # and the closed month reopened (its bill is no longer re-checked) without a trace.
        "DELETE FROM monthly_review WHERE id = (SELECT min(id) FROM monthly_review)",
        "UPDATE monthly_review SET summary = replace(summary, 'codes', 'kodes')",
        "UPDATE month_close SET reopened_at = '2026-04-15 17:00:00', reopened_by = 'x', "
        "reopen_reason = 'nobody'",
    )
    found = messages(deep(demo))
    signatures = sorted(
        found[:2], key=lambda m: m.split(" 2026-03")[0] != f"monthly_review {ready[0]}"
    )
    assert signatures[0] == (
        f"monthly_review {ready[0]} 2026-03 signature 1: the audit trail says this row exists; "
        "the table has no such row"
    )
    assert signatures[1].startswith(
        f"monthly_review {ready[1]} 2026-03 signature 1: summary: the table holds a summary "
        "whose SHA-256 is "
    )
    assert found[2:] == [
        'month_close 2026-02 close 1: reopened_at: the table holds "2026-04-15T17:00:00+00:00"; '
        "the audit trail says nothing",
        'month_close 2026-02 close 1: reopened_by: the table holds "x"; the audit trail says '
        "nothing",
        'month_close 2026-02 close 1: reopen_reason: the table holds "nobody"; the audit trail '
        "says nothing",
    ]


# --- ordinary use comes out clean --------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def used(db: Database, clock: FakeClock) -> Iterator[Services]:
    """The demo, then a day of the GUI's services and a second import."""
    services = Services(db, clock=clock, hasher=FAST_HASHER)
    services.demo.create(CLI)
    yield services


def patient_text(record: PatientRecord) -> dict[str, str]:
    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, tuple):
            return ";".join(value)
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    return {name: text(value) for name, value in dataclasses.asdict(record).items()}


def test_the_demo_and_a_day_of_ordinary_use_verify_clean(used: Services, clock: FakeClock) -> None:
    s = used
    admin, biller = s.staff.actor_for("admin-patel"), s.staff.actor_for("bill-chen")
    doctor, nurse = s.staff.actor_for("dr-okafor"), s.staff.actor_for("rn-lee")
    lpn = s.staff.actor_for("lpn-garcia")
    minute = dt.timedelta(minutes=1)

    # The stopwatch: start, pause, resume, heartbeat, stop; a discard; a recovery; idle time.
    clock.advance(hours=1)
    timer = s.stopwatch.start(nurse, "RB100001")
    clock.advance(minutes=4)
    s.stopwatch.pause(nurse, timer.entry_id)
    clock.advance(minutes=2)
    s.stopwatch.resume(nurse, timer.entry_id)
    clock.advance(seconds=30)
    s.stopwatch.heartbeat(nurse, timer.entry_id)
    clock.advance(minutes=3)
    s.stopwatch.stop(nurse, timer.entry_id, activity="Education", note="BP cuff", service="ccm")
    discarded = s.stopwatch.start(nurse, "RB100004")
    clock.advance(minutes=1)
    s.stopwatch.discard(nurse, discarded.entry_id, "wrong patient")
    stale = s.stopwatch.start(nurse, "RB100004")
    clock.advance(minutes=5)  # no heartbeat: ccmdesk ended
    s.stopwatch.recover(nurse, stale.entry_id, "keep")
    clock.advance(minutes=1)
    s.stopwatch.stop(nurse, stale.entry_id, activity="Call")
    idle = s.stopwatch.start(nurse, "RB100007")
    clock.advance(minutes=10)
    s.corrections.resolve_idle(nurse, idle.entry_id, clock.now - 6 * minute, "discard")
    clock.advance(minutes=2)
    s.corrections.resolve_idle(nurse, idle.entry_id, clock.now - minute, "keep", "reading")
    s.stopwatch.stop(nurse, idle.entry_id)

    # A clock set back an hour while another nurse's stopwatch runs.
    moved = s.stopwatch.start(lpn, "RB100002")
    clock.advance(minutes=10)
    clock.advance(hours=-1)
    s.corrections.clock_set_back(lpn, moved.entry_id, 3600)
    clock.advance(hours=1, minutes=5)
    s.stopwatch.stop(lpn, moved.entry_id)

    # Time typed in, corrected, deleted; stopwatches left running and paused. (The demo's
    # time ends at NOW: these go after it.)
    start = NOW + 5 * minute
    typed = s.entries.add_manual(nurse, "RB100001", start, start + 9 * minute,
                                   reason="call on the ward phone")  # fmt: skip
    s.entries.edit(nurse, typed.entry_id, end=start + 12 * minute, note="longer",
                     reason="the call ran on")  # fmt: skip
    gone = s.entries.add_manual(nurse, "RB100004", start + 15 * minute, start + 25 * minute,
                                  reason="call")  # fmt: skip
    s.entries.delete(nurse, gone.entry_id, "typed twice")
    s.stopwatch.start(nurse, "RB100010")
    paused = s.stopwatch.start(lpn, "RB100005")
    clock.advance(minutes=3)
    s.stopwatch.pause(lpn, paused.entry_id)

    # A second import: one imported entry corrected, one new.
    entries = list(csv.DictReader(io.StringIO(dict(build_demo(NOW).files)["time_entries.csv"]
                                              .decode("utf-8"))))  # fmt: skip
    changed = dict(entries[-1], note="corrected on import")
    new = dict(entries[-1], start=(NOW + 35 * minute).isoformat(),
               end=(NOW + 40 * minute).isoformat(), mrn="RB100003", staff_id="ma-brooks")  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ENTRY_COLUMNS))
    writer.writeheader()
    writer.writerows([changed, new])
    summary = s.imports.import_data(CLI, [("time_entries.csv", out.getvalue().encode())])
    assert summary.counts["time entries"].updated == 1

    # Month facts, family, signing, unlocking and signing again; a month closed.
    month = "2026-03"
    ready = [row.mrn for row, status in s.review.queue(doctor, month).rows
             if status == "ready to sign"]  # fmt: skip
    assert len(ready) >= 3
    s.month_facts.save(doctor, ready[0], "2026-04", MonthFactsRecord("moderate"))
    s.month_facts.save(
        biller, ready[0], "2026-04",
        MonthFactsRecord("moderate", ("G0181",), False, ((dt.date(2026, 4, 1), dt.date(2026, 4, 2)),)),
        reason="hospital stay",
    )  # fmt: skip
    results = {mrn: s.billing.patient_month(biller, mrn, month).result for mrn in ready}
    chosen = next(mrn for mrn, result in results.items() if len(result.compliant) > 1)
    option = results[chosen].option
    family = next(f for f in results[chosen].compliant if option is None or f != option.family)
    s.families.choose(biller, chosen, month, family, "the payer asks for it")
    s.review.sign_many(doctor, month, ready[:3])
    s.review.unlock(doctor, ready[0], month, "a call was left out")
    s.review.sign(doctor, ready[0], month)
    s.review.unlock(CLI, ready[2], month, "unlocked by IT")
    s.fees.save(admin, 2026, {"99490": 7000}, reason="new contract")
    s.fees.save(admin, 2027, {"99491": 9100}, reason="2027 schedule")
    s.closing.close(biller, "2026-02")

    # A patient edited (a new MRN), and a late revocation reaching the closed month.
    record = s.patients.get(nurse, "RB100010")
    s.patients.save_text(nurse, patient_text(dataclasses.replace(record, mrn="RB900010",
                                                                 phone="(207) 555-0199")),
                         original_mrn="RB100010")  # fmt: skip
    record = s.patients.get(nurse, "RB100015")  # np-lindqvist's: nothing of hers is signed
    s.patients.save_text(
        nurse, patient_text(dataclasses.replace(record, consent_revoked_date=dt.date(2026, 2, 5))),
        original_mrn="RB100015",
    )  # fmt: skip

    # Staff, passwords and PINs, the practice.
    scheduler = next(r for r in s.staff.list() if r.staff_id == "sched-nowak")
    s.staff.save(admin, dataclasses.replace(scheduler, role="clinical"), is_new=False)
    s.auth.set_password(admin, "rn-lee", "a new long password")
    nurse = s.auth.sign_in("rn-lee", "a new long password")
    s.auth.set_pin(nurse, "4821", "a new long password")
    s.auth.set_password(nurse, "rn-lee", "another long password", current="a new long password")
    s.auth.set_pin(nurse, None, "another long password")
    s.auth.set_pin(nurse, "1357", "another long password")
    practice = s.practice.get()
    assert practice is not None
    s.practice.save(admin, dataclasses.replace(practice, phone="(207) 555-0150"))
    s.practice.save_stopwatch_settings(admin, StopwatchSettings(7, ("Call", "Education")))
    s.practice.save_auto_lock_minutes(admin, 15)
    s.practice.save_attestation(admin, "I supervised this care.")

    check = s.audit.deep_check(admin)
    assert check.ok, messages(check)
    assert "Every field is covered." in check.summary()
    assert any(c.table == "monthly_review" and c.rows == 4 for c in check.coverage)


def test_only_those_who_may_read_the_audit_trail_run_the_deep_check(used: Services) -> None:
    with pytest.raises(PermissionDenied):
        used.audit.deep_check(used.staff.actor_for("rn-lee"))


# --- older databases: what no event carried is "not covered", not "differs" ----------------------


def event(id_: int, action: str, after: dict[str, object]) -> Event:
    at = dt.datetime(2025, 6, 2, 14, 0, tzinfo=dt.UTC)
    return Event(id_, at, "rn-lee", action, "time_entry", "9", 1, None, after)


def test_fields_an_older_event_did_not_carry_are_counted_as_not_covered() -> None:
    start = "2025-06-02T14:00:00+00:00"
    older = [
        event(1, "time.start", {"start": start}),  # before it carried the service
        event(2, "time.pause", {"at": "2025-06-02T14:10:00+00:00"}),  # nor the segments
    ]
    held = {
        "patient": 1, "staff": "rn-lee", "source": "stopwatch", "state": "paused",
        "deleted": False, "segments": [[start, "2025-06-02T14:10:00+00:00"]],
        "service": "pcm", "face_to_face": False, "activity": "", "note": "",
    }  # fmt: skip
    differences, coverage = compare(
        "time_entry", replay_time_entries(older), {9: held}, tuple(held), str
    )
    assert differences == []
    assert (coverage.fields_not_covered, coverage.rows_not_covered) == (2, 1)

    # Stopping it later covers it again: a settled entry is vouched for in full.
    stop = {"segments": [[start, "2025-06-02T14:10:00+00:00"]], "service": "ccm",
            "activity": "Call", "face_to_face": False, "note": ""}  # fmt: skip
    settled = replay_time_entries([*older, event(3, "time.stop", stop)])
    differences, coverage = compare(
        "time_entry", settled, {9: held | {"state": "stopped"}}, tuple(held), str
    )
    assert [(d.field, d.table_holds, d.trail_says) for d in differences] == [
        ("service", '"pcm"', '"ccm"'),
        ("activity", '""', '"Call"'),
    ]
    assert coverage.fields_not_covered == 0


def test_a_month_closed_before_its_bill_was_kept_has_the_bill_not_covered() -> None:
    at = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
    close = Event(1, at, "bill-chen", "month.close", "month", "2026-02", None, None,
                  {"rows_sha256": "ab" * 32})  # fmt: skip
    held = {"closed_at": at, "closed_by": "bill-chen", "reopened_at": None,
            "reopened_by": None, "reopen_reason": None, "bill": NOT_KEPT}  # fmt: skip
    differences, coverage = compare(
        "month_close", replay_closes([close]), {("2026-02", 1): held}, CLOSE_FIELDS, str
    )
    assert differences == [] and coverage.fields_not_covered == 1


def test_a_year_changed_for_the_first_time_takes_every_code_in_force_then() -> None:
    seeded = {2026: {"99490": 6613, "99491": 8918}}
    change = Event(1, dt.datetime(2026, 12, 1, tzinfo=dt.UTC), "admin", "fees.update",
                   "fee_schedule", "2027", None, {"99490": 6613}, {"99490": 6800})  # fmt: skip
    rebuilt = replay_fees([change], seeded)
    assert {k: r.fields["amount_cents"] for k, r in rebuilt.items()} == {
        (2026, "99490"): 6613, (2026, "99491"): 8918,
        (2027, "99490"): 6800, (2027, "99491"): 8918,
    }  # fmt: skip
    forged = Event(2, change.at, "admin", "fees.update", "fee_schedule", "2026",
                   None, {"99491": 100}, {"99491": 9000})  # fmt: skip
    (stale,) = replay_fees([forged], seeded)[(2026, "99491")].stale
    assert (stale.held, stale.said) == (100, 8918)


# --- care plans ----------------------------------------------------------------------------------


@pytest.fixture
def plans(staffed: Services, db: Database) -> Path:
    """Patient 1001 with version 1 of a care plan signed by Dr. A and given in person, and a
    draft version 2; the database file, for the sqlite3 shell."""
    staffed.patients.save_text(CLI, common_patient_text(mrn="1001"))
    signed_plan(staffed, "1001")
    staffed.care_plans.record_copy(NURSE, "1001", 1, NOW.date(), "in_person", note="at the visit")
    draft = dataclasses.replace(COMPLETE, goals="HbA1c below 7.5% by October.")
    staffed.care_plans.save(NURSE, "1001", draft, 1)
    assert db.sqlite_path is not None
    return db.sqlite_path


def test_care_plans_saved_signed_and_given_match_their_audit_trail(
    staffed: Services, plans: Path
) -> None:
    check = staffed.audit.deep_check(CLI)
    assert check.ok, messages(check)
    tables = {c.table: c for c in check.coverage}
    assert tables["care_plan_version"].rows == 2 and tables["care_plan_copy"].rows == 1
    assert tables["care_plan_version"].fields_not_covered == 0
    assert tables["care_plan_version"].fields_compared == 2 * 17


def test_a_signed_care_plan_edited_behind_ccmdesks_back_is_named(
    staffed: Services, plans: Path
) -> None:
    tamper(plans, "UPDATE care_plan_version SET goals = 'HbA1c below 9%' WHERE number = 1")
    assert messages(staffed.audit.deep_check(CLI)) == [
        'care_plan_version 1001 v1: goals: the table holds "HbA1c below 9%"; the audit trail '
        'says "HbA1c below 7.0% by October."',
        "care plan of MRN 1001 version 1 changed after it was signed: goals: the table and the "
        "document signed differ",
    ]


def test_a_signed_care_plans_document_or_hash_replaced_is_named(
    staffed: Services, plans: Path
) -> None:
    signed = str(one(plans, "SELECT document_hash FROM care_plan_version WHERE number = 1"))
    tamper(plans, "UPDATE care_plan_version SET document = replace(document, '7.0%', '9%')")
    found = messages(staffed.audit.deep_check(CLI))
    assert found[0].startswith(
        "care_plan_version 1001 v1: document: the table holds a document whose SHA-256 is "
    )
    assert found[0].endswith(f"; the audit trail says a document whose SHA-256 is {signed[:12]}…")
    assert found[1] == (
        "care plan of MRN 1001 version 1 changed after it was signed: goals: the table and the "
        "document signed differ"
    )
    assert len(found) == 2
    # The document and its hash rewritten together: the signature's event still holds the hash.
    tamper(plans, "UPDATE care_plan_version SET goals = replace(goals, '7.0%', '9%')")
    rewritten = str(one(plans, "SELECT document FROM care_plan_version WHERE number = 1"))
    tamper(
        plans,
        "UPDATE care_plan_version SET document_hash = ? WHERE number = 1",
        parameters=(hashlib.sha256(rewritten.encode()).hexdigest(),),
    )
    found = messages(staffed.audit.deep_check(CLI))
    assert [m.split(":")[1].strip() for m in found] == ["goals", "document_sha256", "document"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            "INSERT INTO care_plan_version (patient_id, number, problems, outcomes, goals, "
            "symptoms, interventions, medications, community, coordination, saved_at, saved_by, "
            "attestation, document, document_hash) SELECT patient_id, 3, problems, outcomes, "
            "goals, symptoms, interventions, medications, community, coordination, saved_at, "
            "saved_by, '', '', '' FROM care_plan_version WHERE number = 2",
            ["care_plan_version 1001 v3: the table holds this row, but no event in the audit "
             "trail made it"],
        ),
        (
            "DELETE FROM care_plan_version WHERE number = 2",
            ["care_plan_version 1001 v2: the audit trail says this row exists; the table has no "
             "such row"],
        ),
        (
            "UPDATE care_plan_version SET review_on = '2027-04-15' WHERE number = 2",
            ['care_plan_version 1001 v2: review_on: the table holds "2027-04-15"; the audit '
             'trail says "2026-10-15"'],
        ),
        (
            "UPDATE care_plan_version SET saved_by = 'dr-a' WHERE number = 2",
            ['care_plan_version 1001 v2: saved_by: the table holds "dr-a"; the audit trail '
             'says "rn-lee"'],
        ),
        (
            "UPDATE care_plan_version SET signed_on = '2026-01-02' WHERE number = 1",
            ['care_plan_version 1001 v1: signed_on: the table holds "2026-01-02"; the audit '
             'trail says "2026-04-15"'],
        ),
        (
            "INSERT INTO care_plan_copy (version_id, given_on, method, language, note, "
            "recorded_at, recorded_by) SELECT version_id, given_on, 'mail', language, '', "
            "recorded_at, recorded_by FROM care_plan_copy",
            ["care_plan_copy 1001 v1 copy 2: the table holds this row, but no event in the audit "
             "trail made it"],
        ),
        (
            "DELETE FROM care_plan_copy",
            ["care_plan_copy 1001 v1 copy 1: the audit trail says this row exists; the table has "
             "no such row"],
        ),
        (
            "UPDATE care_plan_copy SET given_on = '2026-03-01'",
            ['care_plan_copy 1001 v1 copy 1: given_on: the table holds "2026-03-01"; the audit '
             'trail says "2026-04-15"'],
        ),
    ],
)  # fmt: skip
def test_care_plan_rows_changed_behind_ccmdesks_back_are_named(
    staffed: Services, plans: Path, edit: str, expected: list[str]
) -> None:
    tamper(plans, edit)
    assert messages(staffed.audit.deep_check(CLI)) == expected


def test_a_signature_forged_on_a_draft_is_named(staffed: Services, plans: Path) -> None:
    tamper(
        plans,
        "UPDATE care_plan_version SET (signed_at, signed_by_id, signed_on, attestation, "
        "document, document_hash) = (SELECT signed_at, signed_by_id, signed_on, attestation, "
        "document, document_hash FROM care_plan_version WHERE number = 1) WHERE number = 2",
    )
    found = messages(staffed.audit.deep_check(CLI))
    assert [m.split(":")[1].strip() for m in found[:6]] == [
        "signed_at", "signed_by", "signed_on", "attestation", "document_sha256", "document"
    ]  # fmt: skip
    assert (
        found[1] == 'care_plan_version 1001 v2: signed_by: the table holds "dr-a"; the audit '
        "trail says nothing"
    )
    # The document copied from version 1 says version 1, and version 1's goals.
    assert found[6] == (
        "care plan of MRN 1001 version 2 changed after it was signed: version, goals: the table "
        "and the document signed differ"
    )
    assert len(found) == 7


def test_a_draft_edited_then_carried_on_by_the_next_version_is_named(
    staffed: Services, plans: Path
) -> None:
    tamper(plans, "UPDATE care_plan_version SET medications = 'none' WHERE number = 2")
    third = dataclasses.replace(COMPLETE, goals="HbA1c below 7.5% by October.", medications="x")
    staffed.care_plans.save(NURSE, "1001", third, 2)
    found = messages(staffed.audit.deep_check(CLI))
    assert found == [
        'care_plan_version 1001 v2: medications: the table holds "none"; the audit trail says '
        '"Metformin 500 mg twice daily; reconcile at each call."',
        "care_plan_version 1001 v2: medications: event "
        f'{one(plans, "SELECT max(id) FROM audit_event")} (care_plan.save) found "none" where '
        'the audit trail said "Metformin 500 mg twice daily; reconcile at each call.": it was '
        "changed outside ccmdesk before that event",
    ]


def test_a_care_plan_event_of_a_kind_the_check_does_not_know_leaves_the_version_uncovered() -> None:
    at = NOW
    saved = Event(1, at, "rn-lee", "care_plan.save", "care_plan", "1001 v1", 5, None,
                  {"goals": "Walk daily."})  # fmt: skip
    other = Event(2, at, "rn-lee", "care_plan.archive", "care_plan", "1001 v1", 5, None, {})
    versions, copies = replay_care_plans([saved, other])
    assert versions[(5, 1)].made and versions[(5, 1)].fields == {} and copies == {}
    before, _ = replay_care_plans([saved])
    assert before[(5, 1)].fields["goals"] == "Walk daily."
    assert before[(5, 1)].fields["problems"] == ""  # a first version starts blank
