"""Month-end billing through the services, on a real SQLite database: scenarios and facts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ccmdesk.db import Database, open_database
from ccmdesk.models import AuditEvent, MonthlyReview, Patient, Staff
from ccmdesk.rules.records import StaffRecord
from ccmdesk.services import MonthFactsRecord, PermissionDenied, ServiceError, Services
from ccmdesk.services.errors import ValidationFailed
from tests.helpers.billing import add_case_staff, import_cases
from tests.helpers.claim_files import claim_ready
from tests.helpers.common import ADMIN, BILLER, CLI, NURSE, FakeClock, patient_text
from tests.helpers.common import NOW as FIXTURE_NOW
from tests.helpers.payer_billing import (
    CLAIM_FILE,
    PCM_ONLY,
    SECONDARY,
    add_payers,
    add_sent_claim,
    add_waiver,
    set_payers,
)
from tests.helpers.scenario_cases import CASES, MONTH, Case, assert_case

DOCTOR = "dr-a"
NOW = dt.datetime(2026, 4, 15, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def team(staffed: Services) -> Services:
    return add_case_staff(staffed)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.number}-{c.name}")
def test_every_worked_case_stored_and_evaluated(team: Services, case: Case) -> None:
    import_cases(team, (case,))
    row = team.billing.patient_month(BILLER, f"S{case.number:02d}", MONTH)
    assert_case(case, row.result)


def test_the_whole_month_evaluates_every_case_at_once_like_one_by_one(team: Services) -> None:
    import_cases(team, CASES)
    month = team.billing.month(BILLER, MONTH)
    by_mrn = {row.mrn: row for row in month.rows}
    assert sorted(by_mrn) == [f"S{c.number:02d}" for c in CASES]
    for case in CASES:
        alone = team.billing.patient_month(BILLER, f"S{case.number:02d}", MONTH)
        assert by_mrn[alone.mrn].result == alone.result, case.name
    assert month.billable == sum(c.status == "billable" for c in CASES)
    totals = month.amount_by_code()
    assert totals["99490"] == 6613 * sum(1 for c in CASES if "99490x1" in c.codes)
    assert sum(totals.values()) == month.amount_cents


def test_a_month_reads_a_fixed_number_of_queries_whatever_the_patient_count(
    team: Services, db: Database
) -> None:
    from sqlalchemy import event

    import_cases(team, CASES[:2])
    statements: list[str] = []
    # Transaction control (BEGIN, the read-only switch) is not a read of the month.
    listener = lambda *a: a[2].startswith(("BEGIN", "PRAGMA")) or statements.append(a[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    team.billing.month(BILLER, MONTH)
    few = len(statements)
    statements.clear()
    import_cases_more = CASES[2:]
    event.remove(db.engine, "before_cursor_execute", listener)
    import_cases(team, import_cases_more)
    event.listen(db.engine, "before_cursor_execute", listener)
    team.billing.month(BILLER, MONTH)
    event.remove(db.engine, "before_cursor_execute", listener)
    # 15 for the rules (the payers' waivers, the programs and the signed care plans among
    # them), 3 for the claim statuses.
    assert len(statements) == few <= 18


def test_patients_neither_enrolled_nor_active_are_left_off_the_month(team: Services) -> None:
    team.patients.save_text(CLI, patient_text(mrn="N1", consent_date="", consent_method=""))
    team.patients.save_text(CLI, patient_text(mrn="R1", consent_revoked_date="2026-02-10"))
    team.patients.save_text(CLI, patient_text(mrn="E1"))
    assert [row.mrn for row in team.billing.month(BILLER, MONTH).rows] == ["E1"]
    # Time in the month makes a patient active: listed, and blocked.
    team.entries.add_manual(
        NURSE, "N1", dt.datetime(2026, 3, 4, 14, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 4, 14, 30, tzinfo=dt.UTC), reason="call",
    )  # fmt: skip
    rows = {row.mrn: row for row in team.billing.month(BILLER, MONTH).rows}
    assert sorted(rows) == ["E1", "N1"]
    assert (rows["N1"].enrolled, rows["N1"].active) == (False, True)
    assert rows["N1"].result.blocks == ("NO_CONSENT",)


def test_a_running_stopwatch_counts_up_to_now(team: Services, db: Database) -> None:
    clock = FakeClock(dt.datetime(2026, 3, 10, 14, tzinfo=dt.UTC))
    live = Services(db, clock=clock)
    team.patients.save_text(CLI, patient_text(mrn="T1"))
    timer = live.stopwatch.start(NURSE, "T1")
    clock.advance(minutes=21)
    live.stopwatch.heartbeat(NURSE, timer.entry_id)  # the window beats every 30 s
    row = live.billing.patient_month(BILLER, "T1", MONTH)
    assert row.result.countable_seconds == 21 * 60 and row.result.codes == "99490x1"


def test_signed_months_lose_not_signed(team: Services, db: Database) -> None:
    import_cases(team, (CASES[1],))
    with db.session() as session:
        patient = session.query(Patient).filter_by(mrn="S02").one()
        doctor = session.query(Staff).filter_by(staff_id=DOCTOR).one()
        session.add(
            MonthlyReview(
                patient_id=patient.id, month=MONTH, signed_by_id=doctor.id,
                signed_at=NOW, attestation="I directed the care.",
            )
        )  # fmt: skip
    row = team.billing.patient_month(BILLER, "S02", MONTH)
    assert row.result.signed and "NOT_SIGNED" not in row.result.warnings


def test_only_billing_practitioners_billers_and_admins_see_the_panel(team: Services) -> None:
    with pytest.raises(PermissionDenied):
        team.billing.month(NURSE, MONTH)
    assert team.billing.month(ADMIN, MONTH).rows == []


# --- month facts -------------------------------------------------------------------------------

DOCTOR_ACTOR = CLI.__class__(key="dr-a", name="Dr. A", role="practitioner")


def test_a_biller_sets_other_services_and_stays_and_the_audit_keeps_both(
    team: Services, db: Database
) -> None:
    import_cases(team, (CASES[4],))  # 60 minutes: 99490 + 99439 x2
    record = MonthFactsRecord(
        other_services=("g0181",),
        inpatient_stays=((dt.date(2026, 3, 11), dt.date(2026, 3, 13)),),
    )
    row = team.month_facts.save(BILLER, "S05", MONTH, record, reason="from the EHR")
    assert row.result.blocks == ("EXCLUDED_SERVICE",)
    assert row.result.excluded == {"INPATIENT_TIME_EXCLUDED": 30 * 60}
    stored = team.month_facts.get(BILLER, "S05", MONTH)
    assert stored.other_services == ("G0181",)
    with db.session() as session:
        event = session.query(AuditEvent).filter_by(action="month.update").one()
        assert event.actor == "bill-b" and event.reason == "from the EHR"
        assert '"other_services":"G0181"' in (event.after or "")


def test_only_the_billing_practitioner_attests_complexity(team: Services) -> None:
    import_cases(team, (CASES[7],))  # moderate complexity on file, 60 minutes
    plain = MonthFactsRecord(complexity="none")
    with pytest.raises(PermissionDenied, match="attest complexity"):
        team.month_facts.save(BILLER, "S08", MONTH, plain)
    team.staff.save(
        CLI, StaffRecord("dr-b", "Dr. B", "practitioner", "DO", "1245319599"), is_new=True
    )
    other_doctor = CLI.__class__(key="dr-b", name="Dr. B", role="practitioner")
    with pytest.raises(PermissionDenied, match="not this patient's billing practitioner"):
        team.month_facts.save(other_doctor, "S08", MONTH, plain)
    row = team.month_facts.save(DOCTOR_ACTOR, "S08", MONTH, plain, reason="reviewed")
    assert row.result.codes == "99490x1;99439x2"
    # A practitioner may not change the biller's facts.
    with pytest.raises(PermissionDenied):
        team.month_facts.save(DOCTOR_ACTOR, "S08", MONTH, MonthFactsRecord(billed_elsewhere=True))


def test_bad_month_facts_are_refused_with_every_problem_and_nothing_written(
    team: Services,
) -> None:
    import_cases(team, (CASES[1],))
    bad = MonthFactsRecord(
        complexity="extreme",
        other_services=("99-1",),
        inpatient_stays=((dt.date(2026, 4, 2), dt.date(2026, 4, 5)),),
    )
    with pytest.raises(ValidationFailed) as error:
        team.month_facts.save(CLI, "S02", MONTH, bad)
    assert {e.field for e in error.value.errors} == {"complexity", "other_services", "inpatient"}
    assert team.month_facts.get(BILLER, "S02", MONTH) == MonthFactsRecord()


def test_a_stay_entered_on_februarys_record_cuts_march_days(team: Services) -> None:
    import_cases(team, (CASES[1],))  # RN 8 on 3/04, 6 on 3/12, 6 on 3/25
    stay = MonthFactsRecord(inpatient_stays=((dt.date(2026, 2, 26), dt.date(2026, 3, 4)),))
    team.month_facts.save(BILLER, "S02", "2026-02", stay)
    row = team.billing.patient_month(BILLER, "S02", MONTH)
    assert row.result.excluded == {"INPATIENT_TIME_EXCLUDED": 8 * 60}
    assert row.result.blocks == ("BELOW_THRESHOLD",)


def test_facts_of_a_signed_month_cannot_change(team: Services, db: Database) -> None:
    import_cases(team, (CASES[1],))
    with db.session() as session:
        patient = session.query(Patient).filter_by(mrn="S02").one()
        doctor = session.query(Staff).filter_by(staff_id=DOCTOR).one()
        session.add(MonthlyReview(patient_id=patient.id, month=MONTH, signed_by_id=doctor.id,
                                  signed_at=NOW, attestation="signed"))  # fmt: skip
    with pytest.raises(ServiceError, match="signed"):
        team.month_facts.save(BILLER, "S02", MONTH, MonthFactsRecord(billed_elsewhere=True))
    with pytest.raises(ServiceError, match="signed"):
        team.families.choose(BILLER, "S02", MONTH, "ccm", reason="x")


# --- family switch -----------------------------------------------------------------------------


def test_a_biller_switches_to_the_better_paying_family_and_back_audited(
    team: Services, db: Database
) -> None:
    import_cases(team, (CASES[7],))  # complex 60: 99487, alternative 99490 + 99439 x2
    row = team.families.choose(BILLER, "S08", MONTH, "ccm", reason="pays more")
    assert row.result.codes == "99490x1;99439x2"
    assert "ALTERNATIVE_PAYS_MORE" not in row.result.warnings
    back = team.families.choose(BILLER, "S08", MONTH, None, reason="practice policy")
    assert back.result.codes == "99487x1"
    with db.session() as session:
        events = session.query(AuditEvent).filter_by(action="month.family").all()
        assert [(e.before, e.after, e.reason) for e in events] == [
            ('{"family":null}', '{"family":"ccm"}', "pays more"),
            ('{"family":"ccm"}', '{"family":null}', "practice policy"),
        ]


def test_a_family_the_month_does_not_qualify_for_is_refused(team: Services) -> None:
    import_cases(team, (CASES[1],))  # 20 minutes of staff time
    with pytest.raises(ServiceError, match="does not fit"):
        team.families.choose(BILLER, "S02", MONTH, "complex", reason="try")
    with pytest.raises(ServiceError, match="Say why"):
        team.families.choose(BILLER, "S02", MONTH, "ccm", reason=" ")
    with pytest.raises(PermissionDenied):
        team.families.choose(NURSE, "S02", MONTH, "ccm", reason="x")


def test_a_month_that_is_not_a_month_is_refused_clearly(team: Services) -> None:
    with pytest.raises(ServiceError, match="is not a month"):
        team.billing.month(BILLER, "2026-13")


# --- found in review -------------------------------------------------------------------------


def sign(db: Database, mrn: str, month: str) -> None:
    with db.session() as session:
        patient = session.query(Patient).filter_by(mrn=mrn).one()
        doctor = session.query(Staff).filter_by(staff_id=DOCTOR).one()
        session.add(MonthlyReview(patient_id=patient.id, month=month, signed_by_id=doctor.id,
                                  signed_at=NOW, attestation="signed"))  # fmt: skip


def test_a_stay_on_another_months_record_cannot_change_a_signed_month(
    team: Services, db: Database
) -> None:
    import_cases(team, (CASES[1],))
    sign(db, "S02", MONTH)
    stay = MonthFactsRecord(inpatient_stays=((dt.date(2026, 2, 26), dt.date(2026, 3, 4)),))
    with pytest.raises(ServiceError, match="March 2026 is signed"):
        team.month_facts.save(BILLER, "S02", "2026-02", stay)
    assert team.billing.patient_month(BILLER, "S02", MONTH).result.codes == "99490x1"


def test_a_stale_stopwatch_counts_only_up_to_its_last_heartbeat(
    team: Services, db: Database
) -> None:
    clock = FakeClock(dt.datetime(2026, 3, 10, 14, tzinfo=dt.UTC))
    live = Services(db, clock=clock)
    team.patients.save_text(CLI, patient_text(mrn="T1"))
    timer = live.stopwatch.start(NURSE, "T1")
    clock.advance(minutes=5)
    live.stopwatch.heartbeat(NURSE, timer.entry_id)
    clock.advance(days=3)  # the program ended; nobody answered the recovery question yet
    result = live.billing.patient_month(BILLER, "T1", MONTH).result
    assert result.countable_seconds == 5 * 60


def test_a_running_stopwatch_does_not_make_a_patient_active_in_a_later_month(
    team: Services, db: Database
) -> None:
    clock = FakeClock(dt.datetime(2026, 3, 10, 14, tzinfo=dt.UTC))
    live = Services(db, clock=clock)
    team.patients.save_text(CLI, patient_text(mrn="N1", consent_date="", consent_method=""))
    timer = live.stopwatch.start(NURSE, "N1")
    clock.advance(minutes=10)
    live.stopwatch.heartbeat(NURSE, timer.entry_id)
    assert [row.mrn for row in live.billing.month(BILLER, "2026-04").rows] == []
    assert [row.mrn for row in live.billing.month(BILLER, MONTH).rows] == ["N1"]


def test_overlapping_evaluations_restore_the_garbage_collector_once_both_end() -> None:
    import gc

    from ccmdesk.services.billing.plumbing import collector_paused

    assert gc.isenabled()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second evaluation still runs
    second.__exit__(None, None, None)
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # someone else's pause is left alone
    finally:
        gc.enable()


def test_sqlite_before_3_38_gets_the_same_month_from_plain_functions(
    team: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from sqlalchemy import event

    import_cases(team, CASES)
    modern = team.billing.month(BILLER, MONTH)
    # A second engine on the same file compiles afresh, as SQLite 3.37 would need.
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 37, 2))
    old = open_database(f"sqlite:///{tmp_path / 'ccmdesk.sqlite3'}", tmp_path / "backups")
    statements: list[str] = []
    event.listen(old.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        month = Services(old, clock=lambda: FIXTURE_NOW).billing.month(BILLER, MONTH)
    finally:
        old.dispose()
    text = " ".join(statements)
    assert "unixepoch" not in text and "json_group_array" not in text
    assert "strftime('%s'" in text and "group_concat" in text
    assert month.rows == modern.rows


def test_an_error_preparing_patients_on_the_helper_thread_reaches_the_caller(
    team: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ccmdesk.services.billing.evaluation as billing

    import_cases(team, CASES[:3])

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("prepare failed")

    monkeypatch.setattr(billing, "prepare", broken)
    with pytest.raises(RuntimeError, match="prepare failed"):
        team.billing.month(BILLER, MONTH)
    monkeypatch.undo()
    assert len(team.billing.month(BILLER, MONTH).rows) == 3


# --- payers in the month's evaluation ------------------------------------------------------------


def test_the_month_reads_each_patients_payers_and_waivers(team: Services, db: Database) -> None:
    add_payers(team, PCM_ONLY, SECONDARY)
    team.patients.save_text(CLI, patient_text(mrn="P1"))  # two conditions: a CCM month
    team.patients.save_text(CLI, patient_text(mrn="P2"))
    team.patients.save_text(CLI, patient_text(mrn="P3", payer="", payer_type="", member_id=""))
    set_payers(db, "P1", "acme-pcm")
    set_payers(db, "P2", "mcr-b", "medigap-g")
    add_waiver(db, "P2", "2026-02", "2026-03")
    add_waiver(db, "P2", "2026-05", None)  # a later waiver does not cover March
    start = dt.datetime(2026, 3, 9, 14, 0, tzinfo=dt.UTC)
    for mrn in ("P1", "P2", "P3"):
        team.entries.add_manual(NURSE, mrn, start, start + dt.timedelta(minutes=25), reason="r")
        start += dt.timedelta(hours=1)
    month = team.billing.month(BILLER, MONTH)
    rows = {row.mrn: row for row in month.rows}
    acme = rows["P1"].result
    coverage = acme.inputs[1].coverage
    assert coverage is not None and (coverage.payer_id, coverage.name, coverage.kind) == (
        "acme-pcm", "Acme Health PCM", "commercial",
    )  # fmt: skip
    assert coverage.covers == ("pcm",) and coverage.coinsurance_percent == 10
    assert acme.blocks == ("PAYER_DOES_NOT_COVER",) and not acme.billable
    waived = rows["P2"].result
    assert waived.billable and "COINSURANCE_WAIVED" in waived.warnings
    assert waived.inputs[1].secondary_payer == "AARP Medigap Plan G"
    share = waived.cost_share
    assert share.basis == "waiver" and share.patient_cents == 0
    assert share.waiver is not None and share.waiver.approved_by == "Bo Biller"
    assert (share.waiver.first_month, share.waiver.last_month) == ("2026-02", "2026-03")
    # No payer on file: judged exactly as before payers existed.
    plain = rows["P3"].result
    assert plain.inputs[1].coverage is None and plain.inputs[1].waivers == ()
    assert plain.billable and plain.patient_share_cents == 1323
    assert not {"COVERAGE_UNKNOWN", "COINSURANCE_WAIVED"} & set(plain.warnings)
    # One patient's month, read with the narrowed queries, is the same as in the whole month.
    for mrn in ("P1", "P2", "P3"):
        assert team.billing.patient_month(BILLER, mrn, MONTH).result == rows[mrn].result


def test_the_month_carries_each_rows_claim_status(team: Services, db: Database) -> None:
    team.patients.save_text(CLI, patient_text(mrn="P1"))
    team.patients.save_text(CLI, patient_text(mrn="P2", sex=""))
    claim_ready(db)
    add_sent_claim(db, "P1", MONTH)
    start = dt.datetime(2026, 3, 9, 14, 0, tzinfo=dt.UTC)
    team.entries.add_manual(NURSE, "P1", start, start + dt.timedelta(minutes=25), reason="r")
    start += dt.timedelta(hours=1)
    team.entries.add_manual(NURSE, "P2", start, start + dt.timedelta(minutes=5), reason="r")
    month = team.billing.month(BILLER, MONTH)
    one, two = month.rows
    assert month.claim(one) == month.claims["P1"]
    assert month.claims["P1"].ready and month.claims["P1"].sent_in == CLAIM_FILE
    # 5 minutes do not bill: no claim, so its edits are not worked out at all.
    assert month.claim(two) is None and "P2" not in month.claims
    start += dt.timedelta(hours=1)
    team.entries.add_manual(NURSE, "P2", start, start + dt.timedelta(minutes=20), reason="r")
    month = team.billing.month(BILLER, MONTH)
    assert month.claim(month.rows[1]) == month.claims["P2"]
    assert month.claims["P2"].edits == ("CLAIM_NO_SEX",)
