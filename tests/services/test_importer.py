"""CSV import: kinds from headers, every problem as FILE:LINE: COLUMN, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ccmdesk.db import Database
from ccmdesk.models import AuditEvent, InpatientStay, PatientMonth, TimeEntry
from ccmdesk.services import ImportFailed, PermissionDenied, Services
from tests.conftest import CLI, NURSE, VALID_NPIS, db_dump

STAFF = f"""staff_id,name,role,credentials,npi
dr-a,Dr. A,practitioner,MD,{VALID_NPIS[0]}
rn-lee,Grace Lee,clinical,RN,
ma-kim,Joon Kim,clinical,MA,
"""
PATIENTS = '''mrn,last_name,first_name,dob,payer_type,member_id,billing_practitioner,conditions,consent_date,consent_method,initiating_visit_date,care_plan_date
1001,Rivera,Ana,1950-02-03,medicare,1EG4-TE5-MK73,dr-a,E11.9;I10,2025-11-04,verbal,2025-11-04,2025-11-04
1002,O'Neil,"Séamus ""Jim""",1948-07-19,commercial,X99,dr-a,I50.22,2025-11-04,written,2025-11-04,2025-11-04
'''
ENTRIES = '''mrn,staff_id,start,end,service,face_to_face,activity,note
1001,rn-lee,2026-03-04T09:00:00-05:00,2026-03-04T09:08:00-05:00,ccm,no,call with patient or caregiver,"Checked sugars; ""fine"""
1001,ma-kim,2026-03-04T09:00:00-05:00,2026-03-04T09:20:00-05:00,ccm,no,,
1002,rn-lee,2026-03-04T09:08:00-05:00,2026-03-04T09:30:00-05:00,tcm,no,,
'''
MONTHS = """mrn,month,complexity,other_services,billed_elsewhere,inpatient
1001,2026-03,moderate,G0181,no,2026-03-10..2026-03-12
"""


def files(tmp_path: Path, **contents: str) -> list[Path]:
    paths = []
    for name, text in contents.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8", newline="")
        paths.append(path)
    return paths


def failing(services: Services, paths: list[Path]) -> list[str]:
    """The problems reported, with the test's temporary folder left out of each path."""
    with pytest.raises(ImportFailed) as caught:
        services.imports.import_paths(CLI, paths)
    folder = f"{paths[0].parent}/"
    return [problem.replace(folder, "") for problem in caught.value.problems]


def test_all_four_kinds_import_in_any_order_and_reimport_changes_nothing(
    services: Services, db: Database, tmp_path: Path
) -> None:
    paths = files(tmp_path, months=MONTHS, entries=ENTRIES, patients=PATIENTS, staff=STAFF)
    summary = services.imports.import_paths(CLI, paths)
    assert summary.lines() == [
        "staff: 3 added, 0 updated, 0 unchanged",
        "patients: 2 added, 0 updated, 0 unchanged",
        "time entries: 3 added, 0 updated, 0 unchanged",
        "patient months: 1 added, 0 updated, 0 unchanged",
    ]
    assert services.patients.get(CLI, "1002").first_name == 'Séamus "Jim"'
    with db.session() as session:
        note = session.scalars(select(TimeEntry.note).order_by(TimeEntry.id)).first()
        month = session.scalars(select(PatientMonth)).one()
        stay = session.scalars(select(InpatientStay)).one()
        events = session.scalars(select(AuditEvent.reason)).all()
    assert note == 'Checked sugars; "fine"'
    assert (month.complexity, month.other_services) == ("moderate", "G0181")
    assert (str(stay.admitted_on), str(stay.discharged_on)) == ("2026-03-10", "2026-03-12")
    assert all(reason.startswith("imported from ") for reason in events)

    before = db_dump(db)
    again = services.imports.import_paths(CLI, paths)
    assert [c.created + c.updated for c in again.counts.values()] == [0, 0, 0, 0]
    assert db_dump(db) == before


def test_changed_rows_update_with_before_and_after_in_the_audit_trail(
    services: Services, db: Database, tmp_path: Path
) -> None:
    services.imports.import_paths(CLI, files(tmp_path, staff=STAFF, patients=PATIENTS))
    changed = PATIENTS.replace("Rivera,Ana", "Rivera-Lopez,Ana")
    summary = services.imports.import_paths(CLI, files(tmp_path, patients=changed))
    assert summary.counts["patients"].updated == 1
    assert summary.counts["patients"].unchanged == 1
    with db.session() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "patient.update"
    assert '"last_name":"Rivera"' in event.before and '"last_name":"Rivera-Lopez"' in event.after


def test_header_names_are_case_insensitive_and_a_bom_is_accepted(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "staff.csv"
    path.write_bytes(b"\xef\xbb\xbf" + STAFF.replace("staff_id,name,role", "Staff_ID, NAME ,Role")
                     .encode())  # fmt: skip
    assert services.imports.import_paths(CLI, [path]).counts["staff"].created == 3


BAD_CASES = [
    # (file contents by name, expected problem lines)
    pytest.param(
        {"patients": PATIENTS.replace("E11.9;I10", "E11.9;ZZZ.9")},
        ["patients.csv:2: conditions: 'ZZZ.9' is not an ICD-10-CM code"],
        id="wrong ICD-10 code",
    ),
    pytest.param(
        {"staff": STAFF.replace(VALID_NPIS[0], "1234567890")},
        ["staff.csv:2: npi: '1234567890' is not a valid NPI: the check digit does not match"],
        id="bad NPI",
    ),
    pytest.param(
        {"patients": PATIENTS.replace("1EG4-TE5-MK73", "1EG4-TE5-MK7")},
        ["patients.csv:2: member_id: '1EG4TE5MK7' is not a Medicare MBI: it must be 11 "
         "characters, it has 10"],
        id="bad MBI",
    ),
    pytest.param(
        {"patients": PATIENTS.replace("1950-02-03", "2027-01-01")},
        ["patients.csv:2: dob: 2027-01-01 is in the future"],
        id="future DOB",
    ),
    pytest.param(
        {"patients": PATIENTS.replace("dr-a,E11", "dr-z,E11")},
        ["patients.csv:2: billing_practitioner: no staff member has staff_id 'dr-z'"],
        id="unknown staff id",
    ),
    pytest.param(
        {"patients": PATIENTS.replace(",dob,", ",").replace(",1950-02-03,", ",")
         .replace(",1948-07-19,", ",")},
        ["patients.csv:1: dob: required column is missing from this patients file"],
        id="missing column",
    ),
    pytest.param(
        {"staff": STAFF.replace("npi\n", "npi,email\n").replace("MD,1234567893", "MD,1234567893,")
         .replace("RN,\n", "RN,,\n").replace("MA,\n", "MA,,\n")},
        ["staff.csv:1: email: unknown column in a staff file"],
        id="unknown column",
    ),
    pytest.param(
        {"patients": PATIENTS.replace("1002,O'Neil", "1001,O'Neil")},
        ["patients.csv:3: mrn: '1001' appears twice in this file (first on line 2)",
         "entries.csv:4: mrn: no patient has MRN '1002'"],
        id="duplicate MRN",
    ),
    pytest.param(
        {"entries": ENTRIES.replace("2026-03-04T09:20:00-05:00", "2026-03-04T08:20:00-05:00")},
        ["entries.csv:3: end: is not after start"],
        id="end before start",
    ),
    pytest.param(
        {"entries": ENTRIES.replace("2026-03-04T09:30:00-05:00", "2026-04-16T09:30:00-05:00")},
        ["entries.csv:4: end: is in the future"],
        id="entry in the future",
    ),
    pytest.param(
        {"entries": ENTRIES.replace("T09:08:00-05:00,2026-03-04T09:30", "T09:07:00-05:00,"
                                    "2026-03-04T09:30")},
        ["entries.csv:4: start: overlaps another entry of rn-lee: MRN 1001, "
         "2026-03-04T14:00:00+00:00 to 2026-03-04T14:08:00+00:00 (entries.csv line 2)"],
        id="one nurse, two places",
    ),
    pytest.param(
        {"entries": ENTRIES.replace("2026-03-04T09:00:00-05:00,2026-03-04T09:08", "2026-03-04T09:00"
                                    ":00,2026-03-04T09:08").replace(",tcm,", ",xyz,")},
        ["entries.csv:2: start: '2026-03-04T09:00:00' has no UTC offset; add one, e.g. -05:00",
         "entries.csv:4: service: 'xyz' is not one of ccm, pcm, tcm, rpm, bhi"],
        id="instant without offset and unknown service",
    ),
    pytest.param(
        {"months": MONTHS.replace("2026-03,moderate,G0181,no,2026-03-10..2026-03-12",
                                  "2026-3,severe,G01,maybe,2026-03-12..2026-03-10")},
        ["months.csv:2: month: '2026-3' is not a month; use YYYY-MM",
         "months.csv:2: complexity: 'severe' is not none, moderate or high",
         "months.csv:2: other_services: 'G01' is not a CPT or HCPCS code (5 letters or digits)",
         "months.csv:2: billed_elsewhere: 'maybe' is not yes or no",
         "months.csv:2: inpatient: '2026-03-12..2026-03-10' ends before it starts"],
        id="patient month rules",
    ),
    pytest.param(
        {"months": MONTHS.replace("1001,", "9999,")},
        ["months.csv:2: mrn: no patient has MRN '9999'"],
        id="month for an unknown patient",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "expected"), BAD_CASES)
def test_a_bad_file_lists_every_problem_and_writes_nothing(
    services: Services, db: Database, tmp_path: Path, bad: dict[str, str], expected: list[str]
) -> None:
    contents = {"staff": STAFF, "patients": PATIENTS, "entries": ENTRIES, "months": MONTHS}
    contents.update(bad)
    before = db_dump(db)
    problems = failing(services, files(tmp_path, **contents))
    assert problems == expected
    assert db_dump(db) == before


def test_a_file_matching_no_kind_names_the_columns_it_lacks(
    services: Services, tmp_path: Path
) -> None:
    problems = failing(services, files(tmp_path, odd="name,phone\nA,1\n"))
    assert problems == [
        "odd.csv:1: (header): is not a ccmdesk import file: staff needs staff_id, role; patients "
        "needs mrn, last_name; time entries needs mrn, staff_id, start; patient months needs mrn, "
        "month"
    ]


def test_a_file_of_one_endless_field_is_refused_not_read_into_memory(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text("staff_id,name,role\nx," + "A" * 1_100_000 + ",clinical\n", encoding="utf-8")
    problems = failing(services, [path])
    assert len(problems) == 1 and problems[0].startswith(
        "staff.csv:2: (row): cannot be read as CSV"
    )


def test_line_numbers_count_physical_lines_and_quoted_breaks(
    services: Services, tmp_path: Path
) -> None:
    text = STAFF + 'nurse-2,"Multi\nLine Name",clinical,RN,\nbad id,X,clinical,,\n'
    problems = failing(services, files(tmp_path, staff=text))
    # Header is line 1, three rows (2-4), a record spanning lines 5-6 (reported where it starts;
    # a name may not hold a line break), then the bad row on 7.
    assert problems == [
        "staff.csv:5: name: contains line breaks or control characters",
        "staff.csv:7: staff_id: 'bad id' is not a staff id: letters, digits, '.', '_' or '-', "
        "at most 40",
    ]


def test_the_same_key_in_two_files_is_an_error(services: Services, tmp_path: Path) -> None:
    first = tmp_path / "a"
    second = tmp_path / "b"
    first.mkdir()
    second.mkdir()
    with pytest.raises(ImportFailed) as caught:
        services.imports.import_paths(CLI, files(first, staff=STAFF) + files(second, staff=STAFF))
    assert caught.value.problems[0] == (
        f"{second / 'staff.csv'}:2: staff_id: 'dr-a' is also in {first / 'staff.csv'} line 2"
    )


def test_an_entry_overlapping_a_stored_entry_is_refused(
    services: Services, db: Database, tmp_path: Path
) -> None:
    services.imports.import_paths(
        CLI, files(tmp_path, staff=STAFF, patients=PATIENTS, entries=ENTRIES)
    )
    later = (
        ENTRIES.splitlines()[0]
        + "\n1002,ma-kim,2026-03-04T09:19:00-05:00,2026-03-04T09:25:00-05:00,,,,\n"
    )
    before = db_dump(db)
    problems = failing(services, files(tmp_path, more=later))
    assert problems == [
        "more.csv:2: start: overlaps another entry of ma-kim: the recorded entry for MRN 1001, "
        "2026-03-04T14:00:00+00:00 to 2026-03-04T14:20:00+00:00"
    ]
    assert db_dump(db) == before
    touching = later.replace("09:19:00", "09:20:00")
    assert (
        services.imports.import_paths(CLI, files(tmp_path, more=touching))
        .counts["time entries"]
        .created
        == 1
    )


def test_unreadable_and_non_utf8_files_are_reported(services: Services, tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("staff_id,name,role\nx,Jos\xe9,clinical\n".encode("latin-1"))
    assert failing(services, [latin]) == ["latin.csv:1: (file): is not UTF-8 text (byte 24)"]
    missing = tmp_path / "missing.csv"
    assert failing(services, [missing])[0].startswith("missing.csv:1: (file): cannot be read")


def test_only_admins_and_the_command_line_may_import(staffed: Services, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        staffed.imports.import_paths(NURSE, files(tmp_path, staff=STAFF))


def test_import_cannot_strand_patients_by_changing_their_practitioner_role(
    services: Services, db: Database, tmp_path: Path
) -> None:
    services.imports.import_paths(CLI, files(tmp_path, staff=STAFF, patients=PATIENTS))
    demoted = STAFF.replace(
        f"dr-a,Dr. A,practitioner,MD,{VALID_NPIS[0]}", "dr-a,Dr. A,clinical,MD,"
    )
    before = db_dump(db)
    assert failing(services, files(tmp_path, staff=demoted)) == [
        "staff.csv:2: role: 2 patient(s) have Dr. A as billing practitioner; move them to "
        "another practitioner first"
    ]
    assert db_dump(db) == before


ADMINS = """staff_id,name,role
boss-1,Pat One,admin
boss-2,Sam Two,admin
"""


def test_staff_changes_are_judged_on_the_state_after_the_whole_import(
    services: Services, db: Database, tmp_path: Path
) -> None:
    services.imports.import_paths(CLI, files(tmp_path, admins=ADMINS))
    both_demoted = ADMINS.replace(",admin", ",billing")
    before = db_dump(db)
    assert failing(services, files(tmp_path, admins=both_demoted)) == [
        "admins.csv:2: role: these files would leave no active administrator; keep one",
        "admins.csv:3: role: these files would leave no active administrator; keep one",
    ]
    assert db_dump(db) == before
    # Handing the role over in the same file is fine: an administrator remains afterwards.
    handover = "staff_id,name,role\nboss-1,Pat One,billing\nboss-2,Sam Two,billing\nboss-3,Al Three,admin\n"
    assert (
        services.imports.import_paths(CLI, files(tmp_path, admins=handover)).counts["staff"].updated
        == 2
    )


def test_a_care_manager_cannot_change_role_while_patients_name_her(
    services: Services, db: Database, tmp_path: Path
) -> None:
    patients = PATIENTS.replace(
        "billing_practitioner,conditions", "billing_practitioner,care_manager,conditions"
    )
    patients = patients.replace("dr-a,E11.9;I10", "dr-a,rn-lee,E11.9;I10").replace(
        "dr-a,I50.22", "dr-a,rn-lee,I50.22"
    )
    services.imports.import_paths(CLI, files(tmp_path, staff=STAFF, patients=patients))
    to_billing = STAFF.replace("rn-lee,Grace Lee,clinical", "rn-lee,Grace Lee,billing")
    assert failing(services, files(tmp_path, staff=to_billing)) == [
        "staff.csv:3: role: 2 patient(s) have Grace Lee as care manager; give them another care "
        "manager first"
    ]
    # Moving both patients to another care manager in the same import makes the change fine.
    moved = patients.replace(",rn-lee,", ",ma-kim,")
    summary = services.imports.import_paths(CLI, files(tmp_path, staff=to_billing, patients=moved))
    assert summary.counts["staff"].updated == 1 and summary.counts["patients"].updated == 2
