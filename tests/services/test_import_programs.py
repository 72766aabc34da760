"""patients.csv's program, focus condition, program_from, last visit and G0506 columns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent, MonthClose
from ccmdesk.services import Services
from tests.helpers.common import ADMIN, CLI, NOW, patient_text
from tests.helpers.database import sign
from tests.helpers.imports import failing, files

HEADER = (
    "mrn,last_name,first_name,dob,billing_practitioner,conditions,consent_date,consent_method,"
    "initiating_visit_date"
)


def row(mrn: str, extra: str = "", conditions: str = "E11.9;I10;N18.30") -> str:
    return f"{mrn},Rivera,Ana,1950-02-03,dr-a,{conditions},2025-11-04,verbal,2025-11-04{extra}"


def patients_file(tmp_path: Path, columns: str, *rows: str) -> list[Path]:
    return files(tmp_path, patients="\n".join([HEADER + columns, *rows]) + "\n")


def program_events(db: Database) -> int:
    with db.read() as session:
        query = select(func.count()).where(AuditEvent.action.like("patient.program%"))
        return session.scalars(query).one()


PROGRAM = ",program,focus_condition,program_from"


def test_programs_are_imported_and_the_same_file_again_changes_nothing(
    staffed: Services, db: Database, tmp_path: Path
) -> None:
    paths = patients_file(
        tmp_path, PROGRAM,
        row("1001", ",pcm_focus,n1830,"),  # from the start; the code read as conditions are
        row("1002", ",apcm,,2026-02"),
        row("1003", ",,,"),  # blank: the program stays as it is (CCM for a new patient)
    )  # fmt: skip
    staffed.imports.import_paths(CLI, paths)
    assert staffed.programs.program_in(ADMIN, "1001", "2026-03") == ("pcm_focus", "N18.30")
    assert staffed.programs.program_in(ADMIN, "1002", "2026-01") == ("ccm", None)
    assert staffed.programs.program_in(ADMIN, "1002", "2026-02") == ("apcm", None)
    assert staffed.programs.history(ADMIN, "1003") == []
    [period] = staffed.programs.history(ADMIN, "1002")
    assert period.recorded_by == CLI.key
    assert program_events(db) == 2
    # Signed since: the same file again is no change, so it is not refused either.
    sign(db, "1002", "2026-03", NOW)
    summary = staffed.imports.import_paths(CLI, paths)
    assert summary.counts["patients"].unchanged == 3
    assert program_events(db) == 2


def test_a_blank_program_column_leaves_the_program_as_it_is(
    staffed: Services, tmp_path: Path
) -> None:
    staffed.patients.save_text(ADMIN, patient_text())
    staffed.programs.set(ADMIN, "1001", "apcm", "2026-01")
    staffed.imports.import_paths(CLI, patients_file(tmp_path, PROGRAM, row("1001", ",,,")))
    assert staffed.programs.program_in(ADMIN, "1001", "2026-03") == ("apcm", None)
    staffed.imports.import_paths(CLI, patients_file(tmp_path, "", row("1001")))
    assert staffed.programs.program_in(ADMIN, "1001", "2026-03") == ("apcm", None)


def test_a_program_change_into_a_signed_or_closed_month_refuses_the_row(
    staffed: Services, db: Database, tmp_path: Path
) -> None:
    staffed.patients.save_text(ADMIN, patient_text())
    staffed.patients.save_text(ADMIN, patient_text(mrn="1002"))
    sign(db, "1001", "2026-03", NOW)
    with db.session() as session:
        session.add(MonthClose(month="2026-02", closed_at=NOW, closed_by="bill-b"))
    problems = failing(
        staffed,
        patients_file(
            tmp_path, PROGRAM,
            row("1001", ",apcm,,2026-03"),
            row("1002", ",apcm,,"),
            row("1003", ",apcm,,2026-03"),  # new, and after the closed month: fine
            row("1004", ",pcm_focus,J44.9,2026-03"),
        ),
    )  # fmt: skip
    assert problems == [
        "patients.csv:2: program_from: March 2026 is signed for this patient; the patient's "
        "program from that month on cannot change until a practitioner or an administrator "
        "unlocks the month.",
        "patients.csv:3: program: February 2026 is closed for billing; the patient's program "
        "from that month on cannot change until an administrator reopens the month.",
        "patients.csv:5: focus_condition: J44.9 is not on the patient's list of conditions; "
        "add it there first or choose one that is",
    ]
    assert program_events(db) == 0


def test_the_focus_condition_is_judged_against_the_rows_own_conditions(
    staffed: Services, tmp_path: Path
) -> None:
    staffed.patients.save_text(ADMIN, patient_text(conditions="E11.9"))
    paths = patients_file(tmp_path, PROGRAM, row("1001", ",pcm_focus,I10,", "E11.9;I10"))
    staffed.imports.import_paths(CLI, paths)
    assert staffed.programs.program_in(ADMIN, "1001", "2026-03") == ("pcm_focus", "I10")


VISITS = ",last_visit_date,initiating_visit_g0506"


def test_last_visit_and_g0506_are_imported_and_kept_by_a_file_without_them(
    staffed: Services, tmp_path: Path
) -> None:
    staffed.imports.import_paths(
        CLI, patients_file(tmp_path, VISITS, row("1001", ",2026-01-20,yes"))
    )
    record = staffed.patients.get(ADMIN, "1001")
    assert (record.last_visit_date, record.initiating_visit_g0506) == (dt.date(2026, 1, 20), True)
    staffed.imports.import_paths(CLI, patients_file(tmp_path, "", row("1001")))
    record = staffed.patients.get(ADMIN, "1001")
    assert (record.last_visit_date, record.initiating_visit_g0506) == (dt.date(2026, 1, 20), True)
    staffed.imports.import_paths(CLI, patients_file(tmp_path, VISITS, row("1001", ",,no")))
    record = staffed.patients.get(ADMIN, "1001")
    assert (record.last_visit_date, record.initiating_visit_g0506) == (None, False)


def test_g0506_needs_the_initiating_visit(staffed: Services, tmp_path: Path) -> None:
    header_row = "1001,Rivera,Ana,1950-02-03,dr-a,I10,2025-11-04,verbal,,,yes"
    assert failing(staffed, patients_file(tmp_path, VISITS, header_row)) == [
        "patients.csv:2: initiating_visit_g0506: is set but initiating_visit_date is empty"
    ]


@pytest.mark.parametrize("flag", ["yes", "no"])
def test_the_patient_service_keeps_the_visit_fields_an_editor_leaves_out(
    staffed: Services, flag: str
) -> None:
    staffed.patients.save_text(
        ADMIN, patient_text(last_visit_date="2026-02-02", initiating_visit_g0506=flag)
    )
    staffed.patients.save_text(ADMIN, patient_text(phone="207-555-0199"), original_mrn="1001")
    record = staffed.patients.get(ADMIN, "1001")
    assert record.last_visit_date == dt.date(2026, 2, 2)
    assert record.initiating_visit_g0506 is (flag == "yes")


def test_a_row_that_changes_only_the_program_counts_as_updated(
    staffed: Services, tmp_path: Path
) -> None:
    paths = patients_file(tmp_path, PROGRAM, row("1001", ",,,"))
    staffed.imports.import_paths(CLI, paths)
    paths = patients_file(tmp_path, PROGRAM, row("1001", ",apcm,,2026-02"))
    counts = staffed.imports.import_paths(CLI, paths).counts["patients"]
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 0)
